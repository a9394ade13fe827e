"""Token samplers: exact softmax, float p-bit Gibbs, and the bit-accurate emulated hardware.

Every sampler takes one row of logits, reduces the vocabulary (:mod:`pysampler.filtering`) and
returns a token id of the full vocabulary. The p-bit samplers run the one-hot program on the kept
tokens; a run whose read-out is not one-hot is an invalid attempt and is restarted from ``init``, up
to ``max_resample`` times, after which the token falls back to the argmax of the kept logits.

Attempt semantics (p-bit samplers): each attempt starts from ``init`` and runs ``burn_in + sweeps``
sequential sweeps, then reads the state out. With ``readout="continue"`` an invalid read-out is
first given up to ``extra_sweeps`` more sweeps, read out after each, before the attempt counts as
invalid. Same seed, same tokens, every run.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .config import HwConfig
from .filtering import KeptVocab, check_filters, reduce_vocab
from .model import INIT_POLICIES, BitAccurateModel
from .program import OFFSETS, OnehotProgram, lambda_schedule, onehot_program, shift_logits
from .reference import SCANS, onehot_gibbs
from .rng import check_seed, derive_state
from .validation import check_int

__all__ = ["TokenSampler", "SoftmaxSampler", "GibbsSampler", "HardwareSampler", "SamplerStats",
           "DEFAULT_LAM", "DEFAULT_SWEEPS", "READOUTS"]

READOUTS = ("restart", "continue")

# Chosen from the exact cost frontier (README, `make faithful`): with restarts, lambda 2.5 and 20
# sweeps keep the default HwConfig within about 0.004-0.006 TV of softmax and the per-token
# fallback below 0.1% on the frontier's sets (V = 16..64, a GPT-2-loop context), for about 22 V
# updates per token (lambda 3 and 40 sweeps: the same TV for 43 V).
DEFAULT_LAM = 2.5
DEFAULT_SWEEPS = 20


def _to_numpy(logits: Any) -> tuple[np.ndarray, bool]:
    """(float64 array, came_from_torch)."""
    if hasattr(logits, "detach") and hasattr(logits, "cpu"):
        return logits.detach().cpu().double().numpy(), True
    return np.asarray(logits, dtype=np.float64), False


@dataclass
class SamplerStats:
    """Counters since the last :meth:`TokenSampler.reset_stats`."""

    tokens: int = 0
    updates: int = 0
    attempts: int = 0
    invalid_attempts: int = 0
    fallbacks: int = 0
    saturated_tokens: int = 0


class TokenSampler(ABC):
    """Base class: filtering, batching, statistics. Subclasses implement :meth:`_draw_kept`."""

    def __init__(self, *, seed: int = 0):
        self.seed = check_seed(seed)
        self.stats = SamplerStats()

    @abstractmethod
    def _draw_kept(self, kept: KeptVocab, lane: int) -> int:
        """Index into ``kept`` of the sampled token, updating ``self.stats``."""

    @abstractmethod
    def _reset_streams(self) -> None:
        """Forget every lane's random state (the next draw starts from ``self.seed`` again)."""

    def reseed(self, seed: int) -> None:
        """Restart every random stream from ``seed`` (statistics are kept)."""
        self.seed = check_seed(seed)
        self._reset_streams()

    def sample_kept(self, kept: KeptVocab, lane: int = 0) -> int:
        """Token id drawn from an already reduced vocabulary (random stream ``lane``)."""
        return int(kept.ids[self._draw_kept(kept, lane)])

    def sample(self, logits: Any, *, temperature: float = 1.0, top_k: int | None = None,
               top_p: float | None = None, min_p: float | None = None) -> int:
        """Sample one token id from logits (V,) (numpy array or torch tensor)."""
        z, _ = _to_numpy(logits)
        if z.ndim != 1:
            raise ValueError(f"logits must be 1-D (V,) for sample(); got shape {z.shape} "
                             f"(use sample_batch for (B, V))")
        kept = reduce_vocab(z, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p)
        return self.sample_kept(kept, 0)

    def sample_batch(self, logits_2d: Any, *, temperature: float = 1.0, top_k: int | None = None,
                     top_p: float | None = None, min_p: float | None = None) -> Any:
        """Sample one token per row of logits (B, V); row b uses random stream (lane) b.

        Returns a 1-D int64 torch tensor for a torch input, else a numpy array, shape (B,).
        """
        z, is_torch = _to_numpy(logits_2d)
        if z.ndim != 2:
            raise ValueError(f"logits_2d must be 2-D (B, V), got shape {z.shape}")
        check_filters(temperature, top_k, top_p, min_p)
        out = np.empty(z.shape[0], dtype=np.int64)
        for b, row in enumerate(z):
            kept = reduce_vocab(row, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p)
            out[b] = self.sample_kept(kept, b)
        if is_torch:
            import torch

            return torch.from_numpy(out)
        return out

    def get_invalid_rate(self) -> float:
        """Fraction of tokens that fell back to the argmax after every attempt was invalid."""
        return self.stats.fallbacks / self.stats.tokens if self.stats.tokens else 0.0

    def get_attempt_invalid_rate(self) -> float:
        """Fraction of chain runs (attempts) whose read-out was not one-hot."""
        return self.stats.invalid_attempts / self.stats.attempts if self.stats.attempts else 0.0

    def reset_stats(self) -> None:
        self.stats = SamplerStats()


class _NumpyLanes:
    """One numpy PCG64 generator per lane, seeded with (seed, lane), created on first use."""

    def __init__(self) -> None:
        self._generators: dict[int, np.random.Generator] = {}

    def stream(self, seed: int, lane: int) -> np.random.Generator:
        if lane not in self._generators:
            self._generators[lane] = np.random.default_rng([seed, lane])
        return self._generators[lane]

    def clear(self) -> None:
        self._generators.clear()


class SoftmaxSampler(TokenSampler):
    """Exact categorical sampling from the softmax of the kept logits (inverse CDF, float64)."""

    def __init__(self, *, seed: int = 0):
        super().__init__(seed=seed)
        self._rngs = _NumpyLanes()

    def _reset_streams(self) -> None:
        self._rngs.clear()

    def _draw_kept(self, kept: KeptVocab, lane: int) -> int:
        cdf = np.cumsum(kept.target())
        index = int(np.searchsorted(cdf, self._rngs.stream(self.seed, lane).random() * cdf[-1],
                                    side="right"))
        self.stats.tokens += 1
        self.stats.attempts += 1
        return min(index, kept.size - 1)


def _check_pbit_args(sweeps: int, burn_in: int, init: Any, max_resample: int,
                     offset: str, readout: str, extra_sweeps: int) -> None:
    if offset not in OFFSETS:
        raise ValueError(f"offset must be one of {OFFSETS}, got {offset!r}")
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    check_int("extra_sweeps", extra_sweeps, 0)
    check_int("sweeps", sweeps, 1)
    check_int("burn_in", burn_in, 0)
    if init not in INIT_POLICIES:
        raise ValueError(f"init must be one of {INIT_POLICIES}, got {init!r}")
    check_int("max_resample", max_resample, 0)


class _PbitSampler(TokenSampler):
    """Shared restart / fallback policy of the p-bit samplers."""

    def __init__(self, *, lam: float | Sequence[float], sweeps: int, burn_in: int, init: str,
                 max_resample: int, seed: int, offset: str = "max", readout: str = "restart",
                 extra_sweeps: int = 0):
        super().__init__(seed=seed)
        _check_pbit_args(sweeps, burn_in, init, max_resample, offset, readout, extra_sweeps)
        self.lam_schedule = lambda_schedule(lam)
        self.lam = self.lam_schedule[-1]
        self.sweeps = int(sweeps)
        self.burn_in = int(burn_in)
        self.init = init
        self.max_resample = int(max_resample)
        self.offset = offset
        self.readout = readout
        self.extra_sweeps = int(extra_sweeps)

    @property
    def sweeps_per_attempt(self) -> int:
        return self.burn_in + self.sweeps

    @property
    def continue_sweeps(self) -> int:
        """Extra sweeps an invalid read-out may get before the attempt counts as invalid."""
        return self.extra_sweeps if self.readout == "continue" else 0

    @abstractmethod
    def _run(self, kept: KeptVocab, lane: int, chain: Any, sweeps: int) -> tuple[Any, int]:
        """Run ``sweeps`` sweeps of a chain (a new one from init when ``chain`` is None) as one
        run (the lambda schedule aligned with its end); returns (chain, index of the on unit if
        the state is one-hot else -1)."""

    def _attempt(self, kept: KeptVocab, lane: int) -> int:
        chain, token = self._run(kept, lane, None, self.sweeps_per_attempt)
        self.stats.updates += self.sweeps_per_attempt * kept.size
        for _ in range(self.continue_sweeps):
            if token >= 0:
                break
            chain, token = self._run(kept, lane, chain, 1)
            self.stats.updates += kept.size
        return token

    def _draw_kept(self, kept: KeptVocab, lane: int) -> int:
        self.stats.tokens += 1
        for _ in range(1 + self.max_resample):
            self.stats.attempts += 1
            token = self._attempt(kept, lane)
            if token >= 0:
                return token
            self.stats.invalid_attempts += 1
        self.stats.fallbacks += 1
        return int(np.argmax(kept.logits))


class GibbsSampler(_PbitSampler):
    """Float64 binary Gibbs on the one-hot program with an ideal RNG (numpy PCG64).

    Parameters
    ----------
    lam : float or sequence of float
        One-hot penalty lambda > 0 (logit units), or a per-sweep lambda table of up to
        :data:`pysampler.program.MAX_SCHEDULE` entries, aligned with the end of each attempt
        (:func:`pysampler.program.schedule_entries`): e.g. ``(1.5, 2.0, 3.0)`` runs every sweep
        but the last two at 1.5. The last entry is the read-out lambda (``self.lam``).
    sweeps, burn_in : int
        Each attempt runs burn_in + sweeps sweeps of V updates.
    init : "zeros" or "random_onehot"
    max_resample : int
        Restarts after an invalid read-out before the argmax fallback (>= 0).
    offset : "max" or "min_invalid"
        Logit shift (:func:`pysampler.program.shift_logits`).
    readout, extra_sweeps
        "restart" (default), or "continue": up to extra_sweeps more sweeps before a restart.
    scan : "systematic" (the hardware's order) or "random"
    beta : float
        Inverse temperature of the chain (1.0 samples softmax(z)).
    seed : int
    """

    def __init__(self, *, lam: float | Sequence[float] = DEFAULT_LAM,
                 sweeps: int = DEFAULT_SWEEPS, burn_in: int = 0,
                 init: str = "zeros", max_resample: int = 3, scan: str = "systematic",
                 beta: float = 1.0, seed: int = 0, offset: str = "max",
                 readout: str = "restart", extra_sweeps: int = 0):
        super().__init__(lam=lam, sweeps=sweeps, burn_in=burn_in, init=init,
                         max_resample=max_resample, seed=seed, offset=offset, readout=readout,
                         extra_sweeps=extra_sweeps)
        if scan not in SCANS:
            raise ValueError(f"scan must be one of {SCANS}, got {scan!r}")
        if not (np.isfinite(beta) and beta > 0):
            raise ValueError(f"beta must be a finite number > 0, got {beta!r}")
        self.scan = scan
        self.beta = float(beta)
        self._rngs = _NumpyLanes()

    def _reset_streams(self) -> None:
        self._rngs.clear()

    def _run(self, kept: KeptVocab, lane: int, chain: Any, sweeps: int) -> tuple[Any, int]:
        z = shift_logits(kept.logits, 1.0, self.offset, self.beta)
        y = onehot_gibbs(z, self.lam_schedule, sweeps=sweeps, rng=self._rngs.stream(self.seed, lane),
                         beta=self.beta, scan=self.scan,
                         init=self.init if chain is None else chain)
        return y, (int(np.argmax(y[0])) if y[0].sum() == 1 else -1)


class HardwareSampler(_PbitSampler):
    """The bit-accurate emulated p-bit array running the one-hot program.

    Parameters
    ----------
    cfg : HwConfig, optional
        Hardware configuration (default: ``HwConfig()``). The kept vocabulary must fit in
        ``cfg.n_pbits`` units: use top_k <= n_pbits.
    lam, sweeps, burn_in, init, max_resample, seed, offset, readout, extra_sweeps
        As for :class:`GibbsSampler`. Lane b's generator starts at ``derive_state(seed, b)`` and
        runs on from token to token, as one hardware generator would.
    strict : bool
        Raise :class:`pysampler.program.SaturationError` when a program saturates the fixed-point
        range, instead of counting it in ``stats.saturated_tokens``.
    """

    def __init__(self, cfg: HwConfig | None = None, *, lam: float | Sequence[float] = DEFAULT_LAM,
                 sweeps: int = DEFAULT_SWEEPS, burn_in: int = 0, init: str = "zeros",
                 max_resample: int = 3, seed: int = 0, strict: bool = False,
                 offset: str = "max", readout: str = "restart", extra_sweeps: int = 0):
        super().__init__(lam=lam, sweeps=sweeps, burn_in=burn_in, init=init,
                         max_resample=max_resample, seed=seed, offset=offset, readout=readout,
                         extra_sweeps=extra_sweeps)
        if cfg is not None and not isinstance(cfg, HwConfig):
            raise TypeError(f"cfg must be an HwConfig, got {type(cfg).__name__}")
        self.cfg = HwConfig() if cfg is None else cfg
        self.strict = strict
        self._lane_states: dict[int, int] = {}
        self._last_kept: KeptVocab | None = None
        self._program: OnehotProgram | None = None

    def _reset_streams(self) -> None:
        self._lane_states.clear()

    def program_for(self, kept: KeptVocab) -> OnehotProgram:
        """The one-hot program this sampler runs for ``kept`` (cached for consecutive attempts)."""
        if kept.size > self.cfg.n_pbits:
            raise ValueError(f"{kept.size} tokens kept but the array has n_pbits="
                             f"{self.cfg.n_pbits}; pass top_k <= {self.cfg.n_pbits}")
        if self._last_kept is not kept:
            self._program = onehot_program(kept.logits, self.lam_schedule, 1.0, self.cfg,
                                           strict=self.strict, offset=self.offset)
            self._last_kept = kept
        return self._program

    def _draw_kept(self, kept: KeptVocab, lane: int) -> int:
        if self.program_for(kept).n_saturated:
            self.stats.saturated_tokens += 1
        return super()._draw_kept(kept, lane)

    def _run(self, kept: KeptVocab, lane: int, chain: Any, sweeps: int) -> tuple[Any, int]:
        if chain is None:
            state = self._lane_states.get(lane)
            if state is None:
                state = derive_state(self.seed, lane, self.cfg)
            chain = BitAccurateModel(self.program_for(kept), 1,
                                     rng_states=np.array([state], dtype=np.uint64), init=self.init)
        chain.run(sweeps)
        self._lane_states[lane] = int(chain.rng_states[0])
        return chain, int(chain.onehot_tokens()[0])
