"""p-bit attention: softmax(Q K^T / sqrt(d)) replaced by K p-bit draws per query.

For each query row with scores s over its visible keys (masked keys at -inf), K key indices are
drawn from a categorical law q and averaged as one-hot rows: A_hat = counts / K. With q =
softmax(s) the estimate is unbiased; its error is the multinomial's, and it is exact:

    E TV(A_hat, p) = 1/(2K) sum_i E|X_i - K p_i|,   X_i ~ Binomial(K, q_i),   p = softmax(s)

(TV is a sum over keys, so only the marginals X_i matter), with, for c = K p_i and m = floor(c),

    E|X - c| = K q - c + 2 (c F(m; K, q) - K q F(m - 1; K - 1, q))

(F the binomial CDF; :func:`expected_tv`). The samplers:

* ``"float"``: the ideal categorical, q = softmax(s) (numpy's multinomial, PCG64);
* ``"tree"``: the bit-accurate p-bit decision tree of the HwConfig (:mod:`pysampler.engines.tree`:
  leaves quantized to the tree format, the log-add reduction, one LUT p-bit decision per level,
  one LFSR per draw); q = the tree's exact law (:func:`~pysampler.engines.tree.tree_token_probs`),
  which differs from softmax by quantization only. A row may see at most ``cfg.n_pbits`` keys.

Gradient (fine-tuning): straight through the softmax, A = p + (A_hat - p).detach(), so that the
forward value is the p-bit estimate and the backward pass is softmax attention's.

:func:`use_pbit_attention` swaps the estimator into a transformers model whose attention goes
through transformers' ``AttentionInterface`` (GPT-2 does), without retraining: it registers one
attention function (stateless; it calls the ``pbit_attention`` module it finds on each attention
block) and the eager mask for it; :func:`use_softmax_attention` undoes it.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import binom
from torch import nn

from ..contract.config import HwConfig
from ..contract.rng import check_seed
from ..contract.tree_format import tree_config
from ..engines.chromatic import lane_states
from ..engines.tree import tree_draw_many, tree_masses_batch, tree_token_probs_batch
from ..contract.lut import build_lut
from .binary import check_num_samples
from .source import to_device, to_host

__all__ = ["PBitAttentionWeights", "ATTENTION_SAMPLERS", "expected_tv", "use_pbit_attention",
           "use_softmax_attention", "ATTENTION_NAME", "pbit_attention_forward"]

ATTENTION_SAMPLERS = ("float", "tree")
ATTENTION_NAME = "pysampler_pbit"   # the name registered in transformers' AttentionInterface
_ROWS_PER_CHUNK_DRAWS = 1 << 22     # rows * K draws per tree call (memory of the generators)


def expected_tv(q: np.ndarray, p: np.ndarray, num_draws: int) -> np.ndarray:
    """Exact E TV(counts / K, p) for counts ~ Multinomial(K, q), row by row (module docstring).

    Parameters
    ----------
    q, p : array (..., V) of float64
        The law of one draw and the target (rows summing to 1; zeros where a key is masked).
    num_draws : int
        K >= 1.

    Returns
    -------
    np.ndarray of float64, shape (...)
    """
    k = check_num_samples(num_draws, "num_draws")
    q = np.clip(np.asarray(q, dtype=np.float64), 0.0, 1.0)
    p = np.asarray(p, dtype=np.float64)
    if q.shape != p.shape:
        raise ValueError(f"q and p must have the same shape, got {q.shape} and {p.shape}")
    c = k * p
    m = np.floor(c)
    mean_abs = k * q - c + 2.0 * (c * binom.cdf(m, k, q) - k * q * binom.cdf(m - 1, k - 1, q))
    return 0.5 * np.maximum(mean_abs, 0.0).sum(axis=-1) / k


def _rows(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores as (rows, Tk) and their visible keys (finite entries); every row sees one."""
    flat = scores.reshape(-1, scores.shape[-1])
    keep = np.isfinite(flat)
    if (flat == np.inf).any():
        raise ValueError("attention scores contain +inf or NaN; masked keys must be -inf")
    if not keep.any(axis=1).all():
        raise ValueError("a query sees no key (every score -inf); nothing to attend to")
    return flat, keep


class PBitAttentionWeights(nn.Module):
    """Attention weights from K p-bit draws per query.

    Parameters
    ----------
    num_draws : int
        K, draws per query (1..4096).
    sampler : "float" or "tree"
        The ideal categorical or the bit-accurate p-bit tree of ``cfg`` (module docstring).
    cfg : HwConfig, optional
        The tree's hardware (default ``HwConfig()``: 64 leaves, so at most 64 keys a query).
    seed : int
        Seeds the module's stream of per-call seeds (tree: draw k of row r on generator
        ``derive_state(s, r * K + k)``, s the call's seed).

    Shapes: scores (..., Tq, Tk) float (masked keys -inf) -> weights of the same shape, dtype and
    device; each row sums to 1.
    """

    def __init__(self, num_draws: int = 16, *, sampler: str = "tree",
                 cfg: HwConfig | None = None, seed: int = 0):
        super().__init__()
        if sampler not in ATTENTION_SAMPLERS:
            raise ValueError(f"sampler must be one of {ATTENTION_SAMPLERS}, got {sampler!r}")
        self.num_draws = check_num_samples(num_draws, "num_draws")
        self.sampler = sampler
        self.cfg = HwConfig() if cfg is None else cfg
        if sampler == "tree":
            self._format = tree_config(self.cfg)
            self._lut = build_lut(self._format)
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        self.seed = check_seed(seed)
        self._seeds = np.random.default_rng(self.seed)
        self.n_saturated = 0

    def _next_seed(self) -> int:
        return int(self._seeds.integers(0, 1 << 63))

    # --- the law of one draw and the counts of K -------------------------------------------------
    def _tree_masses(self, flat: np.ndarray, keep: np.ndarray):
        sizes = keep.sum(axis=1)
        if sizes.max() > self.cfg.n_pbits:
            raise ValueError(f"a query sees {int(sizes.max())} keys but the p-bit tree has "
                             f"n_pbits={self.cfg.n_pbits} leaves; use an HwConfig with n_pbits >= "
                             f"the context length")
        order = np.argsort(~keep, axis=1, kind="stable")       # visible keys first, in order
        packed = np.take_along_axis(flat, order, axis=1)[:, :int(sizes.max())]
        masses, saturated, padded = tree_masses_batch(packed, sizes, self.cfg)
        return masses, padded, order, int(np.count_nonzero(saturated))

    def law_numpy(self, scores: np.ndarray) -> np.ndarray:
        """The exact law q of one draw, float64 of ``scores``' shape (0 at masked keys)."""
        flat, keep = _rows(scores)
        if self.sampler == "float":
            return _softmax(flat, keep).reshape(scores.shape)
        masses, padded, order, _ = self._tree_masses(flat, keep)
        packed = tree_token_probs_batch(masses, padded, self._format, self._lut)
        q = np.zeros_like(flat)
        width = min(packed.shape[1], flat.shape[1])
        np.put_along_axis(q, order[:, :width], packed[:, :width], axis=1)
        return q.reshape(scores.shape)

    def counts_numpy(self, scores: np.ndarray) -> np.ndarray:
        """Draws per key out of K, int64 of ``scores``' shape."""
        flat, keep = _rows(scores)
        k = self.num_draws
        counts = np.zeros(flat.shape, dtype=np.int64)
        if self.sampler == "float":
            rng = np.random.default_rng(self._next_seed())
            return rng.multinomial(k, _softmax(flat, keep)).reshape(scores.shape)
        masses, padded, order, saturated = self._tree_masses(flat, keep)
        self.n_saturated += saturated
        per = max(1, _ROWS_PER_CHUNK_DRAWS // k)
        rows = np.arange(flat.shape[0])
        for lo in range(0, flat.shape[0], per):
            hi = min(lo + per, flat.shape[0])
            states = lane_states(self._next_seed(), hi - lo, k, self._format)
            leaves = tree_draw_many(masses[lo:hi], padded, self._format, states, self._lut)
            keys = np.take_along_axis(order[lo:hi], leaves, axis=1)
            cells = (rows[lo:hi, None] - lo) * flat.shape[1] + keys
            counts[lo:hi] = np.bincount(cells.ravel(), minlength=(hi - lo) * flat.shape[1]
                                        ).reshape(hi - lo, flat.shape[1])
        return counts.reshape(scores.shape)

    # --- torch ----------------------------------------------------------------------------------
    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        if not isinstance(scores, torch.Tensor):
            raise TypeError(f"scores must be a torch.Tensor, got {type(scores).__name__}")
        if scores.ndim < 1 or scores.shape[-1] == 0:
            raise ValueError(f"scores must have shape (..., Tk) with Tk >= 1, got "
                             f"{tuple(scores.shape)}")
        host = _scores_to_host(scores)
        estimate = to_device(self.counts_numpy(host) / self.num_draws, scores)
        p = torch.softmax(scores, dim=-1)
        return p + (estimate - p).detach()

    def law(self, scores: torch.Tensor) -> torch.Tensor:
        """The exact law of one draw per row (tree: the LUT's; float: softmax)."""
        return to_device(self.law_numpy(_scores_to_host(scores)), scores)

    def expected_tv(self, scores: torch.Tensor) -> torch.Tensor:
        """Exact E TV(A_hat, softmax) per query, shape scores.shape[:-1], float64 (CPU)."""
        host = _scores_to_host(scores)
        flat, keep = _rows(host)
        tv = expected_tv(self.law_numpy(host).reshape(flat.shape), _softmax(flat, keep),
                         self.num_draws)
        return torch.from_numpy(tv.reshape(host.shape[:-1]))

    def extra_repr(self) -> str:
        hw = "" if self.sampler == "float" else \
            f", weight_bits={self.cfg.weight_bits}, frac_bits={self.cfg.frac_bits}"
        return f"num_draws={self.num_draws}, sampler={self.sampler!r}{hw}, seed={self.seed}"


def _scores_to_host(scores: torch.Tensor) -> np.ndarray:
    """Scores as float64 numpy with -inf kept (to_host refuses inf; masked keys are -inf)."""
    if not isinstance(scores, torch.Tensor):
        raise TypeError(f"scores must be a torch.Tensor, got {type(scores).__name__}")
    if not scores.is_floating_point():
        raise TypeError(f"scores must be a floating tensor, got {scores.dtype}")
    if torch.isnan(scores).any() or (scores == torch.inf).any():
        raise ValueError("attention scores contain NaN or +inf; masked keys must be -inf")
    masked = scores.detach() == -torch.inf
    host = to_host(torch.where(masked, torch.zeros_like(scores), scores.detach()), "scores")
    host[masked.cpu().numpy()] = -np.inf
    return host


def _softmax(flat: np.ndarray, keep: np.ndarray) -> np.ndarray:
    top = np.where(keep, flat, -np.inf).max(axis=1, keepdims=True)
    w = np.where(keep, np.exp(np.where(keep, flat, 0.0) - top), 0.0)
    return w / w.sum(axis=1, keepdims=True)


# --- transformers ------------------------------------------------------------------------------
def pbit_attention_forward(module: nn.Module, query: torch.Tensor, key: torch.Tensor,
                           value: torch.Tensor, attention_mask: torch.Tensor | None,
                           scaling: float | None = None, dropout: float = 0.0, **kwargs):
    """transformers' attention-function signature: (B, H, Tq, d) query, (B, H, Tk, d) key and
    value, the eager mask (float, 0 = attend, the dtype's minimum = masked; or bool, True =
    attend), or None (then the causal mask when the module is causal). A query that sees no key
    (left padding) attends to all of them, as eager softmax does. Returns ((B, Tq, H, d) output,
    weights)."""
    estimator = getattr(module, "pbit_attention", None)
    if estimator is None:
        raise ValueError("this attention block has no pbit_attention module; call "
                         "use_pbit_attention(model, ...) first")
    if scaling is None:
        scaling = query.size(-1) ** -0.5
    scores = torch.matmul(query, key.transpose(-1, -2)) * scaling
    tq, tk = scores.shape[-2:]
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            visible = attention_mask[..., :tk].expand_as(scores)
        else:
            bias = attention_mask[..., :tk]
            visible = (bias > torch.finfo(bias.dtype).min / 2).expand_as(scores)
            scores = scores + torch.where(visible, bias, torch.zeros_like(bias))
    elif getattr(module, "is_causal", False):
        offset = tk - tq
        visible = torch.ones(tq, tk, dtype=torch.bool, device=scores.device).tril(offset)
        visible = visible.expand_as(scores)
    else:
        visible = torch.ones_like(scores, dtype=torch.bool)
    # a query that sees no key (a padded position) attends to every key, as eager softmax does
    # under a constant bias; its output is ignored downstream
    visible = visible | ~visible.any(dim=-1, keepdim=True)
    scores = scores.masked_fill(~visible, -torch.inf)
    weights = estimator(scores)
    if dropout and module.training:
        weights = nn.functional.dropout(weights, p=dropout, training=True)
    out = torch.matmul(weights.to(value.dtype), value).transpose(1, 2)
    return out, weights


def _attention_blocks(model: nn.Module) -> list[nn.Module]:
    """Attention blocks that dispatch through AttentionInterface (GPT-2's have ``scaling``,
    ``layer_idx`` and ``config``)."""
    return [m for m in model.modules()
            if all(hasattr(m, a) for a in ("scaling", "layer_idx", "config"))]


def _register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, eager_mask

    AttentionInterface.register(ATTENTION_NAME, pbit_attention_forward)
    AttentionMaskInterface.register(ATTENTION_NAME, eager_mask)


def use_pbit_attention(model: nn.Module, num_draws: int = 16, *, sampler: str = "tree",
                       cfg: HwConfig | None = None, seed: int = 0
                       ) -> list[PBitAttentionWeights]:
    """Put a :class:`PBitAttentionWeights` on every attention block of a transformers model
    (block k seeded ``seed + k``) and route its attention through it; returns the estimators."""
    if not isinstance(model, nn.Module) or not hasattr(model, "config"):
        raise TypeError(f"model must be a transformers PreTrainedModel, got "
                        f"{type(model).__name__}")
    blocks = _attention_blocks(model)
    if not blocks:
        raise ValueError("model has no attention block that goes through transformers' "
                         "AttentionInterface")
    estimators = [PBitAttentionWeights(num_draws, sampler=sampler, cfg=cfg, seed=seed + k)
                  for k in range(len(blocks))]
    _register()
    for block, est in zip(blocks, estimators):
        block.pbit_attention = est
    model.config._attn_implementation = ATTENTION_NAME
    return estimators


def use_softmax_attention(model: nn.Module) -> None:
    """Undo :func:`use_pbit_attention`: eager softmax attention, the estimators removed."""
    for block in _attention_blocks(model):
        if hasattr(block, "pbit_attention"):
            del block.pbit_attention
    model.config._attn_implementation = "eager"
