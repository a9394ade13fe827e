"""What the p-bit chain samplers share: the attempt / restart / fallback procedure around a one-hot
chain, and its exact law.

A chain sampler runs the one-hot program on the kept tokens; a run whose read-out is not one-hot is
an invalid attempt and is restarted from ``init``, up to ``max_resample`` times, after which the
token falls back to the argmax of the kept logits (:mod:`.policy`). Subclasses say how one chain
runs (:meth:`ChainSampler._run`), what its conditionals are (:meth:`ChainSampler.p_on_tables`)
and how its random one-hot start is drawn (:meth:`ChainSampler._random_onehot_law`); the exact
law follows from those by propagating the chain's state law (:mod:`pysampler.engines.propagate`).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np

from ..engines.propagate import MAX_EXACT_VOCAB, readout_masses
from .base import TokenLaw, TokenSampler
from .filtering import KeptBatch, KeptVocab
from .policy import ChainPolicy, RowPolicies

if TYPE_CHECKING:
    from ..contract.config import HwConfig

__all__ = ["ChainSampler", "restart_law", "onehot_rtl_clocks", "onehot_index"]


def restart_law(valid: np.ndarray, lost: float, max_resample: int, fallback_index: int
                ) -> tuple[np.ndarray, float, float, float, float]:
    """Combine one attempt's read-out law with the restart policy.

    Returns (probs, invalid_per_attempt, fallback, expected_attempts, truncation_bound); lost mass
    is counted as invalid, hence the bound ``(1 + max_resample) * lost`` (attempts are independent
    restarts, each within ``lost`` of exact).
    """
    valid = np.asarray(valid, dtype=np.float64)
    ok = float(min(valid.sum(), 1.0))
    bad = 1.0 - ok
    attempts = 1 + max_resample
    expected_attempts = float(sum(bad ** t for t in range(attempts)))
    fallback = bad ** attempts
    probs = valid * expected_attempts
    probs[fallback_index] += fallback
    return probs, bad, fallback, expected_attempts, attempts * float(lost)


def onehot_rtl_clocks(updates_per_token: float, attempts: float, vocab_size: int) -> float:
    """Clocks per token on the RTL one-hot core: program the V biases once, then per run INIT,
    FILL and PRIME (3 clocks) and one update a clock. Each extra sweep of the continue policy is
    a one-sweep run started with init = KEEP (:mod:`pysampler.contract.regmap`)."""
    runs = attempts + max(0.0, updates_per_token / vocab_size - attempts)  # upper bound on starts
    return vocab_size + 3.0 * runs + updates_per_token


class ChainSampler(TokenSampler):
    """Base of the p-bit chain samplers: the policy, the attempt loop and the exact law.

    Parameters
    ----------
    policy : ChainPolicy, optional
        The chain policy (default ``ChainPolicy()``); keyword arguments named like its fields
        (``lam``, ``sweeps``, ``burn_in``, ``init``, ``max_resample``, ``offset``, ``readout``,
        ``extra_sweeps``) override single fields.
    seed : int
    """

    work_unit = "updates"
    scan = "systematic"

    def __init__(self, *, policy: ChainPolicy | None = None, seed: int = 0, **policy_fields: Any):
        super().__init__(seed=seed)
        self._policy = ChainPolicy.of(policy, **policy_fields)

    # --- the policy, read-only -----------------------------------------------------------------
    @property
    def policy(self) -> ChainPolicy:
        return self._policy

    @property
    def lam_schedule(self) -> tuple[float, ...]:
        return self._policy.lam_schedule

    @property
    def lam(self) -> float:
        """The read-out lambda (the last entry of the table)."""
        return self._policy.readout_lam

    sweeps = property(lambda self: self._policy.sweeps)
    burn_in = property(lambda self: self._policy.burn_in)
    init = property(lambda self: self._policy.init)
    max_resample = property(lambda self: self._policy.max_resample)
    offset = property(lambda self: self._policy.offset)
    readout = property(lambda self: self._policy.readout)
    extra_sweeps = property(lambda self: self._policy.extra_sweeps)
    sweeps_per_attempt = property(lambda self: self._policy.sweeps_per_attempt)
    continue_sweeps = property(lambda self: self._policy.continue_sweeps)

    @property
    def fixed_point(self) -> "HwConfig | None":
        """The configuration whose fixed point the chain runs in (None: float)."""
        return None

    def policy_for(self, kept: KeptVocab) -> ChainPolicy:
        """The policy this sampler runs on ``kept``: :meth:`ChainPolicy.for_row` (the policy
        itself unless ``adapt`` is set). Draws and :meth:`law` both use it."""
        return self._policy.for_row(kept.logits, self.fixed_point)

    @property
    def exact_limit(self) -> int:
        """The state-law propagation is exact (with a stated truncation) up to 64 kept tokens."""
        return MAX_EXACT_VOCAB

    def rtl_clocks(self, kept: KeptVocab, work_per_token: float,
                   attempts_per_token: float) -> float:
        return onehot_rtl_clocks(work_per_token, attempts_per_token, kept.size)

    @abstractmethod
    def with_policy(self, policy: ChainPolicy) -> "ChainSampler":
        """A new sampler like this one (configuration, seed) running ``policy``."""

    def replace(self, **changes: Any) -> "ChainSampler":
        """:meth:`with_policy` of the policy with ``changes`` applied."""
        return self.with_policy(self._policy.replace(**changes))

    # --- what a chain sampler provides -----------------------------------------------------------
    @abstractmethod
    def _run(self, kept: KeptVocab, lane: int, chain: Any, sweeps: int) -> tuple[Any, int]:
        """Run ``sweeps`` sweeps of a chain (a new one from init when ``chain`` is None) as one
        run (the lambda schedule aligned with its end); returns (chain, index of the on unit if
        the state is one-hot else -1)."""

    @abstractmethod
    def p_on_tables(self, kept: KeptVocab) -> np.ndarray:
        """p_on[t, i, s] = P(y_i = 1 | s other units on) at lambda-schedule entry t, shape
        (T, V, V), under ideal randomness."""

    @abstractmethod
    def _random_onehot_law(self, n: int) -> np.ndarray:
        """Law of the unit the ``random_onehot`` init turns on, shape (n,)."""

    def init_law(self, n: int) -> np.ndarray:
        """Law of the initial state over (empty, singleton 0..n-1), shape (n + 1,)."""
        probs = np.zeros(n + 1)
        if self.init == "zeros":
            probs[0] = 1.0
        else:
            probs[1:] = self._random_onehot_law(n)
        return probs

    # --- the procedure ---------------------------------------------------------------------------
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

    def _size_groups(self, kept: KeptBatch
                     ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, RowPolicies]]:
        """The rows of ``kept`` by kept size n, for a batch path: (rows int64 (R,), their kept
        logits (R, n) and ids (R, n), the policy each runs: :meth:`ChainPolicy.for_rows`)."""
        sizes = kept.sizes
        for n in np.unique(sizes):
            rows = np.flatnonzero(sizes == n)
            logits, ids = KeptBatch(kept.logits[rows], kept.mask[rows]).compact(int(n))
            yield rows, logits, ids, self.policy.for_rows(logits, self.fixed_point)

    def _draw_rows_batch(self, logits: np.ndarray,
                         attempt: Callable[[np.ndarray], np.ndarray],
                         one_more_sweep: Callable[[np.ndarray, np.ndarray], None],
                         batch_rows: np.ndarray | None = None) -> np.ndarray:
        """:meth:`_draw_kept`'s procedure for B rows of n kept tokens at once, with the same
        statistics; returns the index of each row's token among its n (int64 (B,)).

        ``attempt(rows)`` runs one attempt (``burn_in + sweeps`` sweeps from ``init``) of the
        given rows (int64 (R,)) on their own generators and returns their states (uint8 (R, n));
        ``one_more_sweep(rows, y)`` runs one more sweep of those rows on ``y`` in place (the
        continue read-out). ``logits`` (B, n) give the argmax fallback. ``batch_rows`` (int64
        (B,), default 0 .. B - 1): these rows' indices in the batch draw under way, whose
        per-row invalid attempts and fallbacks are noted (:meth:`TokenSampler._note_rows`).
        """
        n_rows, n = logits.shape
        if batch_rows is None:
            batch_rows = np.arange(n_rows)
        index = np.full(n_rows, -1, dtype=np.int64)
        pending = np.arange(n_rows)
        self.stats.tokens += n_rows
        for _ in range(1 + self.max_resample):
            if not pending.size:
                break
            self.stats.attempts += pending.size
            y = attempt(pending)
            self.stats.updates += self.sweeps_per_attempt * n * pending.size
            token = onehot_index(y)
            for _ in range(self.continue_sweeps):
                going = np.flatnonzero(token < 0)
                if not going.size:
                    break
                y_go = y[going]
                one_more_sweep(pending[going], y_go)
                y[going] = y_go
                token[going] = onehot_index(y_go)
                self.stats.updates += n * going.size
            done = token >= 0
            index[pending[done]] = token[done]
            self.stats.invalid_attempts += int(np.count_nonzero(~done))
            pending = pending[~done]
            self._note_rows(batch_rows[pending], invalid_attempts=1)
        self.stats.fallbacks += pending.size
        self._note_rows(batch_rows[pending], fallbacks=1)
        index[pending] = np.argmax(logits[pending], axis=1)
        return index

    # --- the exact law ---------------------------------------------------------------------------
    @staticmethod
    def _check_exact_size(kept: KeptVocab) -> None:
        if kept.size > MAX_EXACT_VOCAB:
            raise ValueError(f"exact evaluation supports at most {MAX_EXACT_VOCAB} kept tokens, "
                             f"got {kept.size}; pass top_k <= {MAX_EXACT_VOCAB}")

    def _restart_law(self, kept: KeptVocab, valid: np.ndarray, lost: float,
                     sweeps_per_attempt: float) -> TokenLaw:
        probs, bad, fallback, attempts, bound = restart_law(
            valid, lost, self.max_resample, int(np.argmax(kept.logits)))
        updates = attempts * sweeps_per_attempt * kept.size
        return TokenLaw(probs, bad, fallback, attempts, updates,
                        onehot_rtl_clocks(updates, attempts, kept.size), bound)

    def law(self, kept: KeptVocab, *, max_popcount: int | None = None) -> TokenLaw:
        """Exact law of the whole procedure (init, sweeps, read-outs, restarts, fallback) for at
        most 64 kept tokens; ``max_popcount`` truncates the tracked states (stated bound)."""
        self._check_exact_size(kept)
        sweeps, extra = self.sweeps_per_attempt, self.continue_sweeps
        checks = list(range(sweeps, sweeps + extra + 1))  # read-outs of one attempt
        valid, lost = readout_masses(self.p_on_tables(kept), self.init_law(kept.size), checks,
                                     max_popcount=max_popcount, absorb=True, scan=self.scan,
                                     run_sweeps=sweeps)
        still_running = 1.0 - np.cumsum(valid.sum(axis=1))  # after each read-out
        sweeps_per_attempt = sweeps + float(np.sum(still_running[:extra]))
        return self._restart_law(kept, valid.sum(axis=0), lost[-1], sweeps_per_attempt)

    def laws_over_sweeps(self, kept: KeptVocab, sweeps_grid: list[int], *,
                         max_popcount: int | None = None) -> list[TokenLaw]:
        """:meth:`law` with ``sweeps`` set to each count of ``sweeps_grid`` (burn_in kept). Under
        the restart policy every count is read off one propagation; the continue policy's
        absorbing read-outs and a lambda schedule (aligned with each run's end) need one
        propagation each."""
        if self.continue_sweeps or len(self.lam_schedule) > 1:
            return [self.replace(sweeps=int(s)).law(kept, max_popcount=max_popcount)
                    for s in sweeps_grid]
        self._check_exact_size(kept)
        totals = [self.burn_in + int(s) for s in sweeps_grid]
        valid, lost = readout_masses(self.p_on_tables(kept), self.init_law(kept.size), totals,
                                     max_popcount=max_popcount, scan=self.scan)
        return [self._restart_law(kept, valid[k], lost[k], total)
                for k, total in enumerate(totals)]


def onehot_index(y: np.ndarray) -> np.ndarray:
    """Index of the unit that is on in each one-hot row of ``y`` (B, n) uint8, -1 for the
    others; int64 (B,)."""
    token = np.argmax(y, axis=1).astype(np.int64)
    token[y.sum(axis=1) != 1] = -1
    return token
