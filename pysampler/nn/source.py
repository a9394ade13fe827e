"""Where a torch layer's p-bits come from: a TSU backend (float or the bit-accurate emulated
hardware) and a stream of seeds the layer owns.

This module is the one place where tensors cross to the backend and back:

* in: any floating tensor (float16, bfloat16, float32, float64; CPU or another device; contiguous
  or not) is copied to a float64 numpy array on the CPU (:func:`to_host`). Half precision is
  accepted and widened here, never inside a backend; NaN or inf is refused, naming the tensor.
  Integer and boolean tensors are refused (a TypeError): a p-bit's field is a real number.
* out: results come back on the input's device in the input's dtype (:func:`to_device`).

Seeds: a source holds a numpy ``Generator`` seeded once (``seed``); every backend call takes the
next 63-bit seed from it, so successive forward passes draw fresh p-bits and the same ``seed``
replays the same passes. On the emulated hardware a call with seed s runs unit i of sample c on the
generator ``derive_state(s, c * n + i)`` (docs/graph.md): a fresh LANE_SEED write per call.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..contract.config import HwConfig
from ..contract.graph import MAX_GRAPH_UNITS
from ..contract.rng import check_seed
from ..contract.validation import check_int
from ..tsu import TSUBackend, get_backend
from ..tsu.backends import MAX_LAYER_DRAWS

__all__ = ["PBitSource", "to_host", "to_device", "check_beta", "MAX_NUM_SAMPLES", "BACKEND_NAMES"]

MAX_NUM_SAMPLES = 4096          # K, samples averaged per forward pass
BACKEND_NAMES = ("float", "emulated")


def check_beta(beta: Any, name: str = "beta") -> float:
    """A finite inverse temperature > 0, as float (ValueError naming ``name`` otherwise)."""
    try:
        b = float(beta)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number > 0, got {beta!r}") from None
    if not np.isfinite(b) or b <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {beta!r}")
    return b


def to_host(x: Any, name: str = "input") -> np.ndarray:
    """A floating tensor as a float64 numpy array on the CPU (the one conversion; see the module
    docstring). TypeError for a non-tensor or a non-floating dtype, ValueError for NaN or inf."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating tensor (float16, bfloat16, float32 or "
                        f"float64), got {x.dtype}")
    host = x.detach().to(device="cpu", dtype=torch.float64).contiguous().numpy()
    if not np.isfinite(host).all():
        raise ValueError(f"{name} contains NaN or inf; all values must be finite")
    return host


def to_device(values: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """``values`` as a tensor on ``like``'s device in ``like``'s dtype."""
    return torch.from_numpy(np.ascontiguousarray(values)).to(device=like.device, dtype=like.dtype)


class PBitSource:
    """Binary p-bits for a layer: P(bit = 1) = sigmoid(beta * logit) on a TSU backend.

    Parameters
    ----------
    backend : "float", "emulated" or a TSUBackend
        The float reference (sigmoid in float64, PCG64) or the bit-accurate emulated hardware
        (the field quantized to ``cfg``, the LUT, one LFSR per unit); any object with
        ``sample_binary_layer`` and ``binary_layer_law`` is taken as it is.
    cfg : HwConfig, optional
        The hardware's configuration for a backend given by name (default ``HwConfig()``).
    seed : int
        Seeds the stream of per-call seeds.

    Attributes
    ----------
    n_saturated : int
        Fields the emulated hardware saturated, summed over every call since construction.
    calls : int
        Backend calls made.
    """

    def __init__(self, backend: str | TSUBackend = "float", cfg: HwConfig | None = None, *,
                 seed: int = 0):
        if isinstance(backend, str):
            if backend not in BACKEND_NAMES:
                raise ValueError(f"backend must be one of {BACKEND_NAMES} or a TSUBackend, got "
                                 f"{backend!r}")
            self.backend = get_backend(backend, cfg)
        elif hasattr(backend, "sample_binary_layer") and hasattr(backend, "binary_layer_law"):
            self.backend = backend
        else:
            raise TypeError(f"backend must be a name in {BACKEND_NAMES} or a TSUBackend, got "
                            f"{type(backend).__name__}")
        self.seed = check_seed(seed)
        self.reseed(self.seed)

    @property
    def name(self) -> str:
        return str(getattr(self.backend, "name", type(self.backend).__name__))

    @property
    def cfg(self) -> HwConfig | None:
        return getattr(self.backend, "cfg", None)

    def reseed(self, seed: int) -> None:
        """Restart the stream of per-call seeds (and the counters)."""
        self.seed = check_seed(seed)
        self._seeds = np.random.default_rng(self.seed)
        self.n_saturated = 0
        self.calls = 0

    def next_seed(self) -> int:
        """The seed of the next backend call (a 63-bit int from the source's own generator)."""
        return int(self._seeds.integers(0, 1 << 63))

    def _chunks(self, size: int, num_samples: int) -> list[slice]:
        per = max(1, min(MAX_GRAPH_UNITS, MAX_LAYER_DRAWS // num_samples))
        return [slice(lo, min(lo + per, size)) for lo in range(0, size, per)]

    def sample_counts(self, logits: np.ndarray, beta: float, num_samples: int) -> np.ndarray:
        """On-counts of ``num_samples`` p-bits at each logit, int64 of the logits' shape (every
        count in 0..K), drawn in calls of at most MAX_LAYER_DRAWS bits."""
        count = check_int("num_samples", num_samples, 1, MAX_NUM_SAMPLES)
        b = check_beta(beta)
        flat = np.asarray(logits, dtype=np.float64).reshape(-1)
        out = np.empty(flat.size, dtype=np.int64)
        for part in self._chunks(flat.size, count):
            res = self.backend.sample_binary_layer(flat[part], b, count, seed=self.next_seed())
            self.n_saturated += int(res.n_saturated)
            self.calls += 1
            out[part] = res.samples.sum(axis=0, dtype=np.int64)
        return out.reshape(np.shape(logits))

    def sample_bits(self, logits: np.ndarray, beta: float, num_samples: int) -> np.ndarray:
        """Bits int8 (K, *logits.shape), each sample from fresh draws."""
        count = check_int("num_samples", num_samples, 1, MAX_NUM_SAMPLES)
        b = check_beta(beta)
        flat = np.asarray(logits, dtype=np.float64).reshape(-1)
        out = np.empty((count, flat.size), dtype=np.int8)
        for part in self._chunks(flat.size, count):
            res = self.backend.sample_binary_layer(flat[part], b, count, seed=self.next_seed())
            self.n_saturated += int(res.n_saturated)
            self.calls += 1
            out[:, part] = res.samples
        return out.reshape((count, *np.shape(logits)))

    def law(self, logits: np.ndarray, beta: float) -> np.ndarray:
        """The backend's exact P(bit = 1) at each logit, float64 of the logits' shape."""
        b = check_beta(beta)
        flat = np.asarray(logits, dtype=np.float64).reshape(-1)
        out = np.empty(flat.size)
        for part in self._chunks(flat.size, 1):
            out[part] = self.backend.binary_layer_law(flat[part], b)
        return out.reshape(np.shape(logits))

    def __repr__(self) -> str:
        cfg = self.cfg
        widths = "" if cfg is None or self.name == "float" else \
            f", weight_bits={cfg.weight_bits}, frac_bits={cfg.frac_bits}"
        return f"PBitSource({self.name}{widths}, seed={self.seed})"
