"""Exact token distribution of the p-bit token samplers, for up to 64 kept tokens.

The whole procedure (init, ``burn_in + sweeps`` sweeps, one-hot read-out, the "continue" policy's
extra sweeps, restarts, argmax fallback) is evaluated under *ideal* randomness by propagating the probability of every chain
state through the sweep kernel: update i maps the mass of each pair of states that differ in bit i
to ``(1 - p, p)`` with p = P(y_i = 1 | rest). For the one-hot program p depends only on unit i and
the number S of other units on, so a table ``p_on[i, S]`` (float conditionals for
:class:`GibbsSampler`, LUT entries / 2**P for :class:`HardwareSampler`) is all the kernel needs.

Truncation: only states with at most ``max_popcount`` units on are tracked. Mass that an update
would move above that is dropped and added up (``lost``); every reported distribution is then
within ``(1 + max_resample) * lost`` of the exact one in total variation (each attempt's outcome
law is within ``lost``; attempts are independent restarts). With the default choice every state is
tracked for V <= 16 (bound 0).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from itertools import combinations
from math import comb
from typing import Any, Sequence

import numpy as np
from numba import njit

from .filtering import KeptVocab, reduce_vocab
from .metrics import kl_divergence, total_variation
from .program import schedule_entries, shift_logits
from .reference import onehot_conditional

__all__ = [
    "MAX_EXACT_VOCAB", "MAX_TRACKED_STATES", "ExactResult", "StateSpace", "default_max_popcount",
    "readout_masses", "token_distribution", "exact_token_distribution", "exact_over_sweeps",
    "onehot_p_table", "onehot_init_counts",
    "init_distribution",
]

MAX_EXACT_VOCAB = 64
MAX_TRACKED_STATES = 70_000


def default_max_popcount(n: int, max_states: int = MAX_TRACKED_STATES) -> int:
    """Largest K such that the states of popcount <= K number at most ``max_states``."""
    total, k = 0, 0
    while k <= n and total + comb(n, k) <= max_states:
        total += comb(n, k)
        k += 1
    return max(k - 1, 1)


@dataclass(frozen=True)
class StateSpace:
    """States of n units with popcount <= K, ranked by (popcount, colex order).

    rank({c_0 < ... < c_{k-1}}) = offset[k] + sum_t C(c_t, t + 1); the empty state has rank 0 and
    the singleton {i} has rank 1 + i.
    """

    n: int
    max_popcount: int
    masks: np.ndarray    # uint64 (M,)
    pops: np.ndarray     # int64 (M,)
    binom: np.ndarray    # int64 (n + 1, K + 2): C(a, b)
    offsets: np.ndarray  # int64 (K + 2,)

    @classmethod
    def build(cls, n: int, max_popcount: int) -> "StateSpace":
        if not 1 <= n <= MAX_EXACT_VOCAB:
            raise ValueError(f"exact evaluation supports 1 <= V <= {MAX_EXACT_VOCAB} kept tokens, "
                             f"got V={n}")
        k_max = min(max_popcount, n)
        binom = np.array([[comb(a, b) for b in range(k_max + 2)] for a in range(n + 1)],
                         dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum([comb(n, k) for k in range(k_max + 1)])])
        masks = np.empty(int(offsets[-1]), dtype=np.uint64)
        pops = np.empty(masks.size, dtype=np.int64)
        for k in range(k_max + 1):
            for combo in combinations(range(n), k):
                rank = offsets[k] + sum(comb(c, t + 1) for t, c in enumerate(combo))
                masks[rank] = sum(1 << c for c in combo)
                pops[rank] = k
        return cls(n, k_max, masks, pops, binom, offsets.astype(np.int64))

    @property
    def size(self) -> int:
        return int(self.masks.size)


@njit(cache=True)
def _rank(mask, binom, offsets):
    r = np.int64(0)
    t = 0
    for c in range(64):
        if (mask >> np.uint64(c)) & np.uint64(1):
            r += binom[c, t + 1]
            t += 1
    return offsets[t] + r


@njit(cache=True)
def _update_unit(mass, i, p_on, masks, pops, binom, offsets, max_pop):
    """Apply the update of unit i in place; returns the mass dropped by the truncation."""
    lost = 0.0
    bit = np.uint64(1) << np.uint64(i)
    for r in range(masks.size):
        mask = masks[r]
        if mask & bit:
            continue
        pop = pops[r]
        p = p_on[i, pop]
        if pop < max_pop:
            q = _rank(mask | bit, binom, offsets)
            total = mass[r] + mass[q]
            mass[r] = (1.0 - p) * total
            mass[q] = p * total
        else:
            lost += p * mass[r]
            mass[r] = (1.0 - p) * mass[r]
    return lost


@njit(cache=True)
def _propagate(mass, p_tables, entries, masks, pops, binom, offsets, max_pop, checkpoints,
               random_scan, absorb):
    n = p_tables.shape[1]
    singles = np.zeros((checkpoints.size, n))
    lost_at = np.zeros(checkpoints.size)
    lost = 0.0
    c = 0
    sweep = 0
    while c < checkpoints.size:
        p_on = p_tables[entries[sweep]]
        if random_scan:  # each update is the mixture over the unit chosen uniformly
            for _ in range(n):
                acc = np.zeros_like(mass)
                for i in range(n):
                    trial = mass.copy()
                    lost += _update_unit(trial, i, p_on, masks, pops, binom, offsets, max_pop) / n
                    acc += trial
                mass[:] = acc / n
        else:
            for i in range(n):
                lost += _update_unit(mass, i, p_on, masks, pops, binom, offsets, max_pop)
        sweep += 1
        while c < checkpoints.size and checkpoints[c] == sweep:
            singles[c] = mass[1:n + 1]
            lost_at[c] = lost
            if absorb:  # a one-hot read-out ends the run: that mass leaves the chain
                mass[1:n + 1] = 0.0
            c += 1
    return singles, lost_at


def readout_masses(p_on: np.ndarray, init_probs: np.ndarray, sweeps: Sequence[int], *,
                   max_popcount: int | None = None, scan: str = "systematic",
                   absorb: bool = False, run_sweeps: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Probability that one chain run reads out each one-hot state, after each sweep count.

    Parameters
    ----------
    p_on : np.ndarray, shape (V, V) or (T, V, V)
        p_on[i, s] = P(y_i = 1 | s other units on); with a lambda schedule, one table per
        schedule entry.
    init_probs : np.ndarray, shape (V + 1,)
        Initial law over the empty state (index 0) and the singletons (index 1 + i).
    sweeps : sequence of int
        Sweep counts (>= 1) at which to read out.
    scan : "systematic" or "random"
    absorb : bool
        A one-hot read-out at a checkpoint ends the run (the "continue" read-out policy): the
        masses returned are then those *emitted* at each checkpoint, not the state law.
    run_sweeps : int, optional
        Length of the run the schedule is aligned with (:func:`pysampler.program.schedule_entries`);
        required when T > 1 (sweeps past it use the last entry).

    Returns
    -------
    valid : np.ndarray, shape (len(sweeps), V)
        P(read-out is the one-hot state of token k).
    lost : np.ndarray, shape (len(sweeps),)
        Truncated mass so far (see the module docstring).
    """
    p_tables = np.ascontiguousarray(p_on, dtype=np.float64)
    if p_tables.ndim == 2:
        p_tables = p_tables[None]
    if p_tables.ndim != 3 or p_tables.shape[1] != p_tables.shape[2]:
        raise ValueError(f"p_on must have shape (V, V) or (T, V, V), got {np.shape(p_on)}")
    n_entries, n = p_tables.shape[:2]
    checkpoints = np.array(sorted(set(int(s) for s in sweeps)), dtype=np.int64)
    if checkpoints.size == 0 or checkpoints[0] < 1:
        raise ValueError(f"sweeps must be >= 1, got {list(sweeps)}")
    if n_entries > 1 and run_sweeps is None:
        raise ValueError("run_sweeps is required with a lambda schedule (p_on of shape (T, V, V))")
    entries = schedule_entries(n_entries, int(run_sweeps or 1), int(checkpoints[-1]))
    space = StateSpace.build(n, default_max_popcount(n) if max_popcount is None else max_popcount)
    mass = np.zeros(space.size)
    mass[: n + 1] = init_probs
    singles, lost = _propagate(mass, p_tables, entries, space.masks, space.pops, space.binom,
                               space.offsets, space.max_popcount, checkpoints, scan == "random",
                               absorb)
    order = np.searchsorted(checkpoints, np.asarray(sweeps, dtype=np.int64))
    return singles[order], lost[order]


@dataclass(frozen=True)
class ExactResult:
    """Exact law of the token a sampler emits for one logit row.

    Attributes
    ----------
    token_ids : (V,) int64, kept token ids
    probs : (V,) float64, P(emit token_ids[k]), argmax-fallback mass included; sums to 1
    target : (V,) float64, the softmax of the kept (temperature-scaled) logits
    tv, kl : TV(target, probs) and KL(target || probs) in nats
    invalid_per_attempt : P(one chain run reads out a non-one-hot state)
    fallback : P(all attempts invalid -> argmax)
    expected_attempts : expected chain runs per token
    expected_updates : expected p-bit updates per token (restarts included)
    truncation_bound : TV bound of the popcount truncation (0 when exact)
    """

    token_ids: np.ndarray
    probs: np.ndarray
    target: np.ndarray
    tv: float
    kl: float
    invalid_per_attempt: float
    fallback: float
    expected_attempts: float
    expected_updates: float
    truncation_bound: float


def token_distribution(valid: np.ndarray, lost: float, max_resample: int, fallback_index: int
                       ) -> tuple[np.ndarray, float, float, float, float]:
    """Combine one run's read-out law with the restart policy.

    Returns (probs, invalid_per_attempt, fallback, expected_attempts, truncation_bound); lost mass is
    counted as invalid, hence the bound ``(1 + max_resample) * lost``.
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


def onehot_p_table(sampler: Any, kept: KeptVocab) -> np.ndarray:
    """p_on[t, i, s] of the sampler's one-hot program for these kept tokens, one (V, V) table per
    lambda-schedule entry t (see module docstring), shape (T, V, V)."""
    from .samplers import GibbsSampler, HardwareSampler

    if isinstance(sampler, HardwareSampler):
        return sampler.program_for(kept).schedule_on_probabilities()
    if isinstance(sampler, GibbsSampler):
        z = shift_logits(kept.logits, 1.0, sampler.offset, sampler.beta)
        s = np.arange(kept.size, dtype=np.float64)
        return np.stack([onehot_conditional(z[:, None], lam, sampler.beta, s[None, :])
                         for lam in sampler.lam_schedule])
    raise TypeError(f"no one-hot program for {type(sampler).__name__}")


def onehot_init_counts(n: int, prob_bits: int) -> np.ndarray:
    """How many of the 2**P draws u give unit k under :func:`pysampler.model.onehot_init_index`:
    floor(u n / 2^P) = k exactly for ceil(k 2^P / n) <= u < ceil((k + 1) 2^P / n)."""
    edges = [-((-k << prob_bits) // n) for k in range(n + 1)]  # ceil(k 2^P / n), exact ints
    return np.diff(np.array(edges, dtype=np.float64))


def init_distribution(sampler: Any, n: int) -> np.ndarray:
    """Law of the initial state over (empty, singleton 0..n-1), shape (n + 1,)."""
    from .samplers import HardwareSampler

    probs = np.zeros(n + 1)
    if sampler.init == "zeros":
        probs[0] = 1.0
    elif isinstance(sampler, HardwareSampler):
        p_bits = sampler.cfg.prob_bits
        probs[1:] = onehot_init_counts(n, p_bits) / float(1 << p_bits)
    else:
        probs[1:] = 1.0 / n
    return probs


def exact_token_distribution(sampler: Any, logits: Any, *, temperature: float = 1.0,
                             top_k: int | None = None, top_p: float | None = None,
                             min_p: float | None = None, max_popcount: int | None = None
                             ) -> ExactResult:
    """Exact law of the token ``sampler.sample(logits, ...)`` emits, under ideal randomness.

    Supports SoftmaxSampler, GibbsSampler (float conditionals, systematic or random scan),
    HardwareSampler (LUT probabilities; the LFSR replaced by an ideal uniform P-bit draw), for at
    most 64 kept tokens, and TreeSampler (product of its decisions' LUT probabilities, any size;
    ``expected_updates`` is then the number of p-bit decisions per token).
    """
    from .samplers import SoftmaxSampler, _to_numpy

    from .tree import TreeSampler, tree_token_probs

    z, _ = _to_numpy(logits)
    kept = reduce_vocab(z, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p)
    target = kept.target()
    if isinstance(sampler, SoftmaxSampler):
        return ExactResult(kept.ids, target.copy(), target, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    if isinstance(sampler, TreeSampler):  # every draw is a token: no attempts, no truncation
        program = sampler.program_for(kept)
        probs = tree_token_probs(program)
        return ExactResult(kept.ids, probs, target, total_variation(target, probs),
                           kl_divergence(target, probs), 0.0, 0.0, 1.0, float(program.depth), 0.0)
    if kept.size > MAX_EXACT_VOCAB:
        raise ValueError(f"exact evaluation supports at most {MAX_EXACT_VOCAB} kept tokens, got "
                         f"{kept.size}; pass top_k <= {MAX_EXACT_VOCAB}")
    sweeps, extra = sampler.sweeps_per_attempt, sampler.continue_sweeps
    checks = list(range(sweeps, sweeps + extra + 1))  # read-outs of one attempt
    valid, lost = readout_masses(onehot_p_table(sampler, kept), init_distribution(sampler, kept.size),
                                 checks, max_popcount=max_popcount, absorb=True,
                                 scan=getattr(sampler, "scan", "systematic"), run_sweeps=sweeps)
    still_running = 1.0 - np.cumsum(valid.sum(axis=1))  # after each read-out
    sweeps_per_attempt = sweeps + float(np.sum(still_running[:extra]))
    return _restart_result(kept, valid.sum(axis=0), lost[-1], sampler.max_resample,
                           sweeps_per_attempt)


def _restart_result(kept: KeptVocab, valid: np.ndarray, lost: float, max_resample: int,
                    sweeps_per_attempt: float) -> ExactResult:
    """ExactResult of one attempt's read-out law combined with the restart policy."""
    target = kept.target()
    probs, bad, fallback, attempts, bound = token_distribution(
        valid, lost, max_resample, int(np.argmax(kept.logits)))
    return ExactResult(kept.ids, probs, target, total_variation(target, probs),
                       kl_divergence(target, probs), bad, fallback, attempts,
                       attempts * sweeps_per_attempt * kept.size, bound)


def exact_over_sweeps(sampler: Any, logits: Any, sweeps_grid: Sequence[int], *,
                      max_popcount: int | None = None, **filters: Any) -> list[ExactResult]:
    """:func:`exact_token_distribution` of ``sampler`` with ``sweeps`` set to each value of
    ``sweeps_grid`` (burn_in kept). Under the restart policy every count is read off one
    propagation; the continue policy's absorbing read-outs and a lambda schedule (aligned with
    each run's end) need one propagation each."""
    if sampler.continue_sweeps or len(sampler.lam_schedule) > 1:
        results = []
        for sweeps in sweeps_grid:
            variant = copy.copy(sampler)
            variant.sweeps = int(sweeps)
            results.append(exact_token_distribution(variant, logits, max_popcount=max_popcount,
                                                    **filters))
        return results
    from .samplers import _to_numpy

    kept = reduce_vocab(_to_numpy(logits)[0], **filters)
    if kept.size > MAX_EXACT_VOCAB:
        raise ValueError(f"exact evaluation supports at most {MAX_EXACT_VOCAB} kept tokens, got "
                         f"{kept.size}; pass top_k <= {MAX_EXACT_VOCAB}")
    totals = [sampler.burn_in + int(s) for s in sweeps_grid]
    valid, lost = readout_masses(onehot_p_table(sampler, kept), init_distribution(sampler, kept.size),
                                 totals, max_popcount=max_popcount,
                                 scan=getattr(sampler, "scan", "systematic"))
    return [_restart_result(kept, valid[k], lost[k], sampler.max_resample, total)
            for k, total in enumerate(totals)]
