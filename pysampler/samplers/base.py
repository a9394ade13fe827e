"""The token-sampler protocol: draw tokens, and state the exact law of what is drawn.

Every sampler takes one row of logits, reduces the vocabulary (:mod:`.filtering`) and returns a
token id of the full vocabulary. Each sampler also carries its own exact law
(:meth:`TokenSampler.law`) and cost, so the exact evaluator (:mod:`pysampler.analysis.exact`),
the registry and the CLI never ask what type a sampler is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..contract.config import HwConfig
from ..contract.rng import check_seed, derive_states
from .filtering import KeptBatch, KeptVocab, reduce_batch, reduce_vocab

if TYPE_CHECKING:
    from .policy import ChainPolicy

__all__ = ["TokenSampler", "SamplerStats", "TokenLaw", "BatchDraw", "as_float_array",
           "NumpyLanes", "GeneratorLanes", "check_lanes"]


def as_float_array(logits: Any) -> tuple[np.ndarray, bool]:
    """Logits (numpy array, list or torch tensor) as float64 numpy: (array, came_from_torch);
    anything that is not numbers is a ValueError naming the logits."""
    if hasattr(logits, "detach") and hasattr(logits, "cpu"):
        return logits.detach().cpu().double().numpy(), True
    try:
        return np.asarray(logits, dtype=np.float64), False
    except (TypeError, ValueError) as err:
        raise ValueError(f"logits must be numbers (a numpy array, list or torch tensor of "
                         f"floats), got {type(logits).__name__}: {err}") from None


@dataclass(frozen=True)
class TokenLaw:
    """Exact law of the token a sampler emits for one reduced vocabulary, under ideal randomness.

    Attributes
    ----------
    probs : (V,) float64
        P(emit kept token k), fallback mass included; sums to 1.
    invalid_per_attempt : float
        P(one chain run reads out a non-one-hot state); 0 for samplers without invalid states.
    fallback : float
        P(every attempt invalid -> argmax).
    expected_attempts : float
        Expected chain runs (or draws) per token.
    expected_work : float
        Expected work per token in the sampler's ``work_unit`` (p-bit updates, p-bit decisions).
    rtl_clocks : float or None
        Expected clock cycles per token on the sampler's RTL core, writing the program included;
        None where the sampler has no RTL core.
    truncation_bound : float
        TV bound of any truncation the evaluation made (0 when exact).
    """

    probs: np.ndarray
    invalid_per_attempt: float = 0.0
    fallback: float = 0.0
    expected_attempts: float = 1.0
    expected_work: float = 0.0
    rtl_clocks: float | None = None
    truncation_bound: float = 0.0


@dataclass
class SamplerStats:
    """Counters since the last :meth:`TokenSampler.reset_stats`."""

    tokens: int = 0
    updates: int = 0
    attempts: int = 0
    invalid_attempts: int = 0
    fallbacks: int = 0
    saturated_tokens: int = 0


@dataclass(frozen=True)
class BatchDraw:
    """One batch draw (:meth:`TokenSampler.draw_batch`) with its per-row counts.

    Attributes
    ----------
    token_ids : np.ndarray of int64, shape (B,)
        Row b's token id in the full vocabulary.
    invalid_attempts : np.ndarray of int64, shape (B,)
        Row b's chain runs whose read-out was not one-hot (0 for samplers without invalid
        states).
    fallbacks : np.ndarray of int64, shape (B,)
        1 where row b fell back to the argmax after every attempt was invalid, else 0.
    """

    token_ids: np.ndarray
    invalid_attempts: np.ndarray
    fallbacks: np.ndarray


def check_lanes(lanes: Any, n_rows: int) -> np.ndarray:
    """``lanes`` (None: 0 .. n_rows - 1) as int64 (n_rows,): one distinct lane >= 0 per row, or a
    ValueError naming ``lanes``. Distinct, since a batch draws every row from its lane's state at
    the call (two rows on one lane would draw from the same state, row by row would not)."""
    if lanes is None:
        return np.arange(n_rows, dtype=np.int64)
    arr = np.asarray(lanes)
    if arr.ndim != 1 or arr.size != n_rows or (arr.size and arr.dtype.kind not in "iu"):
        raise ValueError(f"lanes must be {n_rows} integers (one lane per row), got "
                         f"{lanes!r}")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or np.unique(arr).size != arr.size):
        raise ValueError(f"lanes must be distinct integers >= 0 (one lane per row), got "
                         f"{arr.tolist()}")
    return arr


class NumpyLanes:
    """One numpy PCG64 generator per lane, seeded with (seed, lane), created on first use."""

    def __init__(self) -> None:
        self._generators: dict[int, np.random.Generator] = {}

    def stream(self, seed: int, lane: int) -> np.random.Generator:
        if lane not in self._generators:
            self._generators[lane] = np.random.default_rng([seed, lane])
        return self._generators[lane]

    def clear(self) -> None:
        self._generators.clear()


class GeneratorLanes:
    """The hardware generator state of every lane (row) of a sampler, uint64.

    Lane c starts at ``derive_state(seed, c)`` and runs on from token to token, as one hardware
    generator per lane would; the per-row and the batch paths share these states.
    """

    def __init__(self, cfg: HwConfig) -> None:
        self.cfg = cfg
        self._states = np.zeros(0, dtype=np.uint64)

    def take(self, seed: int, n_lanes: int) -> np.ndarray:
        """A copy of the states of lanes 0 .. n_lanes - 1 (new lanes derived from ``seed``)."""
        if n_lanes > self._states.size:
            fresh = derive_states(seed, n_lanes - self._states.size, self.cfg,
                                  first_stream=self._states.size)
            self._states = np.concatenate([self._states, fresh])
        return self._states[:n_lanes].copy()

    def put(self, states: np.ndarray) -> None:
        """Store the states of lanes 0 .. len(states) - 1 (taken with :meth:`take`)."""
        self._states[:states.size] = states

    def take_at(self, seed: int, lanes: np.ndarray) -> np.ndarray:
        """A copy of the states of ``lanes`` (int64 (R,), distinct; every lane below the
        largest is derived from ``seed`` where new, as :meth:`get` does)."""
        if lanes.size == 0:
            return np.zeros(0, dtype=np.uint64)
        self.take(seed, int(lanes.max()) + 1)
        return self._states[lanes].copy()

    def put_at(self, lanes: np.ndarray, states: np.ndarray) -> None:
        """Store ``states`` as those of ``lanes`` (taken with :meth:`take_at`)."""
        self._states[lanes] = states

    def get(self, seed: int, lane: int) -> int:
        return int(self.take(seed, lane + 1)[lane])

    def set(self, lane: int, state: int) -> None:
        self._states[lane] = np.uint64(state)

    def clear(self) -> None:
        self._states = np.zeros(0, dtype=np.uint64)


class TokenSampler(ABC):
    """Base class: filtering, batching, statistics, and the law protocol.

    A sampler implements :meth:`_draw_kept` (one token from a reduced vocabulary, updating
    ``self.stats``), :meth:`_reset_streams` and :meth:`law`, and optionally a vectorised
    :meth:`_draw_kept_batch`; it names the unit of its work per token in ``work_unit`` and, where
    one draw takes a bounded number of kept tokens (:attr:`max_kept`), what bounds it in
    ``capacity``. :meth:`from_config` builds it from the registry's arguments
    (:func:`pysampler.samplers.registry.make_sampler`).
    """

    #: unit of TokenLaw.expected_work ("updates", "decisions", ...; "" for none)
    work_unit: ClassVar[str] = ""
    #: what bounds the kept tokens of one draw (:attr:`max_kept`), for error messages
    capacity: ClassVar[str] = ""
    #: options :meth:`from_config` takes beyond the configuration, the policy and the seed
    #: (the stream sampler's ``lanes``); :func:`~pysampler.samplers.registry.make_sampler` refuses
    #: any other
    options: ClassVar[tuple[str, ...]] = ()

    #: per-row (invalid attempts, fallbacks) of the batch draw under way, shape (2, B); None
    #: outside :meth:`draw_batch`
    _row_counts: np.ndarray | None = None

    def __init__(self, *, seed: int = 0):
        self.seed = check_seed(seed)
        self.stats = SamplerStats()

    # --- what a sampler provides -----------------------------------------------------------------
    @abstractmethod
    def _draw_kept(self, kept: KeptVocab, lane: int) -> int:
        """Index into ``kept`` of the sampled token, updating ``self.stats``."""

    @abstractmethod
    def _reset_streams(self) -> None:
        """Forget every lane's random state (the next draw starts from ``self.seed`` again)."""

    @abstractmethod
    def law(self, kept: KeptVocab) -> TokenLaw:
        """Exact law of the token :meth:`sample_kept` emits for ``kept`` under ideal randomness."""

    @classmethod
    def from_config(cls, cfg: HwConfig, policy: "ChainPolicy", *, seed: int = 0) -> "TokenSampler":
        """The sampler for a hardware configuration and a chain policy (each sampler uses what
        applies to it; this default uses neither)."""
        return cls(seed=seed)

    @property
    def policy(self) -> "ChainPolicy | None":
        """The chain policy, for samplers that run a p-bit chain; None otherwise."""
        return None

    @property
    def max_kept(self) -> int | None:
        """Most kept tokens one draw can take (the array's size), or None for no limit."""
        return None

    @property
    def exact_limit(self) -> int | None:
        """Most kept tokens :meth:`law` evaluates exactly, or None for any number; beyond it the
        evaluator (:func:`pysampler.analysis.evaluate.evaluate_row`) measures by Monte Carlo."""
        return None

    def rtl_clocks(self, kept: KeptVocab, work_per_token: float,
                   attempts_per_token: float) -> float | None:
        """RTL clock cycles per token at a measured work and attempts per token (Monte Carlo
        beyond :attr:`exact_limit`); None where the sampler has no RTL core."""
        return None

    def laws_over_sweeps(self, kept: KeptVocab, sweeps_grid: list[int]) -> list[TokenLaw]:
        """:meth:`law` with the policy's ``sweeps`` set to each count (chain samplers)."""
        raise ValueError(f"{type(self).__name__} runs no chain: it has no sweeps to vary")

    # --- shared behaviour ------------------------------------------------------------------------
    def reseed(self, seed: int) -> None:
        """Restart every random stream from ``seed`` (statistics are kept)."""
        self.seed = check_seed(seed)
        self._reset_streams()

    def sample_kept(self, kept: KeptVocab, lane: int = 0) -> int:
        """Token id drawn from an already reduced vocabulary (random stream ``lane``)."""
        self.check_kept_size(kept.size)
        return int(kept.ids[self._draw_kept(kept, lane)])

    def check_kept_size(self, largest: int) -> None:
        """A ValueError where ``largest`` kept tokens are more than one draw takes."""
        limit = self.max_kept
        if limit is not None and largest > limit:
            raise ValueError(f"{largest} tokens kept, but {type(self).__name__} takes at most "
                             f"{limit} ({self.capacity}); filter to at most {limit} tokens "
                             f"(top_k <= {limit})")

    def check_filters_fit(self, top_k: int | None, vocab_size: int, *, flag: str = "top_k"
                          ) -> None:
        """Before any draw: a ValueError where filters with this ``top_k`` (None: no top-k; top-p
        and min-p may keep every token) can keep more of a ``vocab_size``-token vocabulary than
        one draw takes (:attr:`max_kept`), so that a generation never fails half way. ``flag``
        names top-k in the message (``--top-k`` on the command line)."""
        limit = self.max_kept
        most = vocab_size if top_k is None else min(top_k, vocab_size)
        if limit is not None and most > limit:
            given = f"no top-k ({flag} 0)" if top_k is None and flag.startswith("--") \
                else ("no top-k" if top_k is None else f"{flag} {top_k}")
            raise ValueError(f"{type(self).__name__} takes at most {limit} kept tokens "
                             f"({self.capacity}), but {given} can keep {most} of the "
                             f"{vocab_size}-token vocabulary: pass {flag} <= {limit}")

    def sample(self, logits: Any, *, temperature: float = 1.0, top_k: int | None = None,
               top_p: float | None = None, min_p: float | None = None) -> int:
        """Sample one token id from logits (V,) (numpy array or torch tensor)."""
        z, _ = as_float_array(logits)
        if z.ndim != 1:
            raise ValueError(f"logits must be 1-D (V,) for sample(); got shape {z.shape} "
                             f"(use sample_batch for (B, V))")
        kept = reduce_vocab(z, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p)
        return self.sample_kept(kept, 0)

    def sample_batch(self, logits_2d: Any, *, temperature: float = 1.0, top_k: int | None = None,
                     top_p: float | None = None, min_p: float | None = None) -> Any:
        """Sample one token per row of logits (B, V); row b uses random stream (lane) b.

        The filters run on the whole batch at once (:func:`.filtering.reduce_batch`); the draw is
        :meth:`sample_kept_batch`. The tokens are those of ``sample_kept(row b, lane b)`` for each
        row in order, whichever path runs. An empty batch (B = 0, V >= 1) gives an empty result
        and draws nothing; V = 0 is an error, as for one row.

        Returns a 1-D int64 torch tensor for a torch input, else a numpy array, shape (B,).
        """
        z, is_torch = as_float_array(logits_2d)
        if z.ndim != 2:
            raise ValueError(f"logits_2d must be 2-D (B, V), got shape {z.shape}")
        kept = reduce_batch(z, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p)
        out = self.sample_kept_batch(kept) if kept.n_rows else np.zeros(0, dtype=np.int64)
        if is_torch:
            import torch

            return torch.from_numpy(out)
        return out

    def sample_kept_batch(self, kept: KeptBatch, lanes: Any = None) -> np.ndarray:
        """Token ids (B,) int64 drawn from already reduced rows, row b on lane ``lanes[b]``
        (default b): the tokens of :meth:`sample_kept` row by row, through
        :meth:`_draw_kept_batch` (:meth:`draw_batch` without the per-row counts)."""
        return self.draw_batch(kept, lanes).token_ids

    def draw_batch(self, kept: KeptBatch, lanes: Any = None) -> BatchDraw:
        """One draw per reduced row, all rows in one call, with each row's counts.

        Parameters
        ----------
        kept : KeptBatch
            B reduced rows (their kept sizes may differ).
        lanes : array_like of int, shape (B,), optional
            Row b's random stream (lane); distinct, >= 0; default 0 .. B - 1. A batch of the
            rows still generating in a loop passes their own lanes, so that each row's lane runs
            on as it would row by row.

        Returns
        -------
        BatchDraw
            The token ids and, per row, the invalid attempts and fallbacks: exactly what
            ``sample_kept(kept.row(b), lanes[b])`` for b = 0 .. B - 1 in order draws and adds to
            :attr:`stats` (the statistics are added to :attr:`stats` here too). An empty batch
            draws nothing.
        """
        lanes = check_lanes(lanes, kept.n_rows)
        if not kept.n_rows:  # nothing to draw (a sampler's batch path may assume a row)
            empty = np.zeros(0, dtype=np.int64)
            return BatchDraw(empty, empty.copy(), empty.copy())
        self.check_kept_size(int(kept.sizes.max()))
        self._row_counts = np.zeros((2, kept.n_rows), dtype=np.int64)
        try:
            token_ids = np.asarray(self._draw_kept_batch(kept, lanes), dtype=np.int64)
            counts = self._row_counts
        finally:
            self._row_counts = None
        return BatchDraw(token_ids, counts[0], counts[1])

    def _note_rows(self, rows: Any, invalid_attempts: Any = 0, fallbacks: Any = 0) -> None:
        """Add to the per-row counts of the batch draw under way (rows: indices into the batch,
        distinct); nothing outside :meth:`draw_batch`. A batch path that counts invalid attempts
        or fallbacks in :attr:`stats` notes them here per row too."""
        if self._row_counts is not None:
            self._row_counts[0, rows] += invalid_attempts
            self._row_counts[1, rows] += fallbacks

    def _draw_kept_batch(self, kept: KeptBatch, lanes: np.ndarray) -> np.ndarray:
        """:meth:`draw_batch` without the checks: row b on lane ``lanes[b]`` (int64 (B,),
        distinct). This default draws row by row (:meth:`sample_kept`) and notes each row's
        counts; a sampler whose draw vectorises overrides it (the same tokens, statistics and
        per-row counts, :meth:`_note_rows`)."""
        out = np.empty(kept.n_rows, dtype=np.int64)
        for b in range(kept.n_rows):
            before = (self.stats.invalid_attempts, self.stats.fallbacks)
            out[b] = self.sample_kept(kept.row(b), int(lanes[b]))
            self._note_rows(b, self.stats.invalid_attempts - before[0],
                            self.stats.fallbacks - before[1])
        return out

    def get_invalid_rate(self) -> float:
        """Fraction of tokens that fell back to the argmax after every attempt was invalid."""
        return self.stats.fallbacks / self.stats.tokens if self.stats.tokens else 0.0

    def get_attempt_invalid_rate(self) -> float:
        """Fraction of chain runs (attempts) whose read-out was not one-hot."""
        return self.stats.invalid_attempts / self.stats.attempts if self.stats.attempts else 0.0

    def reset_stats(self) -> None:
        self.stats = SamplerStats()
