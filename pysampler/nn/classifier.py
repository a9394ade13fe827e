"""A small classifier with p-bit layers on scikit-learn's bundled digits (8x8 images, 10
classes, 1,797 samples, shipped inside scikit-learn: no download).

The models are ``nn.Sequential`` MLPs, 64 -> hidden -> ... -> 10, whose hidden activation is
``"sigmoid"`` (the deterministic twin), ``"pbit"`` (:class:`~pysampler.nn.binary.BinaryStochastic`,
trained with the straight-through estimator) and optionally followed by p-bit dropout (MC
dropout). :func:`train_classifier` is a plain Adam loop with cross-entropy;
:func:`predict_passes` returns the class probabilities of P stochastic forward passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from ..contract.config import HwConfig
from ..contract.validation import check_int
from ..tsu import TSUBackend
from .binary import BinaryStochastic
from .noise import PBitDropout

__all__ = ["DigitsSplit", "load_digits_split", "make_mlp", "train_classifier", "predict_passes",
           "enable_mc_dropout", "ACTIVATIONS"]

ACTIVATIONS = ("sigmoid", "pbit")


@dataclass(frozen=True)
class DigitsSplit:
    """Pixels scaled to [0, 1] (float32 (N, 64)) and labels (int64 (N,)), train and test."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def load_digits_split(test_fraction: float = 0.3, seed: int = 0) -> DigitsSplit:
    """scikit-learn's digits, shuffled with ``seed`` and split (stratified by nothing: a plain
    permutation), pixels / 16."""
    from sklearn.datasets import load_digits

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    data = load_digits()
    order = np.random.default_rng(seed).permutation(data.target.size)
    n_test = int(round(test_fraction * order.size))
    x = torch.from_numpy((data.data[order] / 16.0).astype(np.float32))
    y = torch.from_numpy(data.target[order].astype(np.int64))
    return DigitsSplit(x[n_test:], y[n_test:], x[:n_test], y[:n_test])


def make_mlp(hidden: Sequence[int] = (64, 64), activation: str = "pbit", *,
             dropout: float = 0.0, beta: float = 1.0, num_samples: int = 1,
             backend: str | TSUBackend = "float", cfg: HwConfig | None = None,
             gradient: str = "sigmoid", seed: int = 0, n_in: int = 64, n_out: int = 10
             ) -> nn.Sequential:
    """Linear -> activation [-> PBitDropout] per hidden layer, then a Linear to the class
    logits. Weights initialised from ``torch.manual_seed(seed)``; p-bit module k seeded
    ``seed + 1000 k``."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    sizes = [check_int("n_in", n_in, 1)] + [check_int("hidden size", h, 1) for h in hidden]
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for k, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if activation == "sigmoid":
            layers.append(nn.Sigmoid())
        else:
            layers.append(BinaryStochastic(beta, num_samples, backend=backend, cfg=cfg,
                                           gradient=gradient, seed=seed + 1000 * k))
        if dropout:
            layers.append(PBitDropout(dropout, backend=backend, cfg=cfg,
                                      seed=seed + 1000 * k + 500))
    layers.append(nn.Linear(sizes[-1], check_int("n_out", n_out, 2)))
    return nn.Sequential(*layers)


def train_classifier(model: nn.Module, split: DigitsSplit, *, epochs: int = 30,
                     batch_size: int = 64, lr: float = 0.01, seed: int = 0,
                     progress: bool = False) -> list[float]:
    """Adam on the cross-entropy, ``epochs`` passes over the training set in batches shuffled by
    ``seed``; returns the mean training loss of each epoch."""
    from tqdm import tqdm

    epochs = check_int("epochs", epochs, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    n = split.x_train.shape[0]
    losses = []
    model.train()
    for _ in tqdm(range(epochs), desc="training", unit="epoch", disable=not progress,
                  mininterval=5.0):
        order = torch.randperm(n, generator=gen)
        total = 0.0
        for lo in range(0, n, batch_size):
            idx = order[lo:lo + batch_size]
            loss = nn.functional.cross_entropy(model(split.x_train[idx]), split.y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.numel()
        losses.append(total / n)
    model.eval()
    return losses


def enable_mc_dropout(model: nn.Module) -> int:
    """Put the dropout modules of ``model`` (torch's and p-bit dropout) in training mode, the rest
    as they are: Monte Carlo dropout at evaluation. Returns how many."""
    mods = [m for m in model.modules()
            if isinstance(m, (nn.modules.dropout._DropoutNd, PBitDropout))]
    for m in mods:
        m.train()
    return len(mods)


def predict_passes(model: nn.Module, x: torch.Tensor, passes: int, *,
                   mc_dropout: bool = False) -> np.ndarray:
    """Softmax class probabilities of ``passes`` forward passes in evaluation mode (p-bit layers
    stay stochastic; dropout too with ``mc_dropout``), float64 (passes, N, C)."""
    passes = check_int("passes", passes, 1)
    model.eval()
    if mc_dropout:
        enable_mc_dropout(model)
    with torch.no_grad():
        out = np.stack([torch.softmax(model(x).double(), dim=-1).numpy() for _ in range(passes)])
    model.eval()
    return out
