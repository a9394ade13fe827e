"""Fixed-point Gumbel-max, the usual digital sampler, at the stream's bit budget, and its exact law.

Each logit gets one P'-bit draw u_k; ``G_k = GUMBEL[u_k >> (P' - a)]`` (the table of
:func:`pysampler.contract.stream_format.gumbel_table`: 2^a entries, the logits' f' fractional
bits); the token is the first index of the largest score ``q_k + G_k`` (ties: the earliest index
wins). The logits ``q`` are the stream's (:func:`pysampler.engines.stream.stream_quantize`), so
both samplers see the same quantized row and spend one draw per logit.

Exact law under an ideal generator (each G_k i.i.d. on the table's values x_m with probability
pi_m = count_m / 2^a; F(x) = P(G <= x)), on the integer grid of scores s::

    P(k) = sum_m pi_m  prod_{j < k} P(q_j + G < s)  prod_{j > k} P(q_j + G <= s),   s = q_k + x_m
         = sum_m pi_m  Phi(s) / F(x_m)  prod_{j < k} R(s - q_j)

with ``Phi(s) = prod_j F(s - q_j)`` (over every token) and ``R(x) = P(G < x) / P(G <= x)``, which
differs from 1 only where x is a table value. Only scores s in [q_max + x_0, q_max + x_last] can
win, so Phi is a correlation of the histogram of the quantized logits with ln F over that window,
and the tie factor is a running sum over the window, updated once per table value by each token
in index order: O(W^2 + R M) for a window of W grid points, R tokens within reach of the maximum
and M distinct table values (:func:`gumbel_token_probs`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..contract.rng import check_state, leap_draw, leap_table
from ..contract.stream_format import StreamFormat, gumbel_table
from .stream import row_lengths, threaded_batch

__all__ = ["gumbel_draw", "gumbel_draw_batch", "gumbel_token_probs", "GumbelTables",
           "gumbel_tables"]


class GumbelTables:
    """The Gumbel table, its index shift (P' - a) and the generator's leap table."""

    def __init__(self, fmt: StreamFormat):
        self.table = gumbel_table(fmt)
        self.index_shift = fmt.acc.prob_bits - int(np.log2(self.table.size))
        self.leap = leap_table(fmt.acc)
        self.u_shift = fmt.acc.rng_bits - fmt.acc.prob_bits


def gumbel_tables(fmt: StreamFormat) -> GumbelTables:
    return GumbelTables(fmt)


@njit(cache=True, nogil=True)
def _gumbel_row(q, state, table, index_shift, leap, u_shift, t_u, t_score):
    s = state
    best = np.int64(0)
    token = -1
    trace = t_u.size > 0
    for k in range(q.size):
        s, u = leap_draw(s, leap, u_shift)
        score = q[k] + table[np.int64(u >> np.uint64(index_shift))]
        if token < 0 or score > best:
            best, token = score, k
        if trace:
            t_u[k], t_score[k] = np.int64(u), score
    return token, s


def gumbel_draw(q: np.ndarray, state: int, fmt: StreamFormat, tables: GumbelTables | None = None,
                *, trace: bool = False):
    """One token from quantized logits ``q`` (V,) int64 and generator state ``state``: returns
    (token, new state, (draws, scores) or None). V draws."""
    t = gumbel_tables(fmt) if tables is None else tables
    check_state(state, fmt.acc)
    n = q.size if trace else 0
    t_u, t_score = np.zeros(n, np.int64), np.zeros(n, np.int64)
    token, s = _gumbel_row(np.asarray(q, np.int64), np.uint64(state), t.table, t.index_shift,
                           t.leap, t.u_shift, t_u, t_score)
    return int(token), int(s), ((t_u, t_score) if trace else None)


@njit(cache=True, nogil=True)
def _gumbel_lockstep(q, lengths, states, table, index_shift, leap, u_shift, tokens, out_states):
    """Rows in lockstep, logit k of every row before logit k + 1 of any (each row's generator is
    a serial chain, the rows' are independent: the CPU overlaps them); row b takes its first
    ``lengths[b]`` logits of ``q`` (B, W). Same arithmetic as :func:`_gumbel_row`."""
    n_rows, width = q.shape
    s = states.copy()
    best = np.zeros(n_rows, dtype=np.int64)
    token = np.full(n_rows, -1, dtype=np.int64)
    for k in range(width):
        for b in range(n_rows):
            if k >= lengths[b]:
                continue
            s[b], u = leap_draw(s[b], leap, u_shift)
            score = q[b, k] + table[np.int64(u >> np.uint64(index_shift))]
            if token[b] < 0 or score > best[b]:
                best[b] = score
                token[b] = k
    tokens[:] = token
    out_states[:] = s


@njit(cache=True, inline="always")
def _gumbel_group(g, q, lengths, states, table, index_shift, leap, u_shift, chunk, tokens,
                  out_states):
    lo = g * chunk
    hi = min(q.shape[0], lo + chunk)
    _gumbel_lockstep(q[lo:hi], lengths[lo:hi], states[lo:hi], table, index_shift, leap, u_shift,
                     tokens[lo:hi], out_states[lo:hi])


@njit(parallel=True, cache=True)
def _gumbel_groups(q, lengths, states, table, index_shift, leap, u_shift, chunk):
    n_rows = q.shape[0]
    tokens = np.empty(n_rows, dtype=np.int64)
    out_states = np.empty(n_rows, dtype=np.uint64)
    for g in prange((n_rows + chunk - 1) // chunk):
        _gumbel_group(g, q, lengths, states, table, index_shift, leap, u_shift, chunk, tokens,
                      out_states)
    return tokens, out_states


@njit(cache=True)
def _gumbel_groups_serial(q, lengths, states, table, index_shift, leap, u_shift, chunk):
    """:func:`_gumbel_groups` on one thread (small batches: :func:`threaded_batch`)."""
    n_rows = q.shape[0]
    tokens = np.empty(n_rows, dtype=np.int64)
    out_states = np.empty(n_rows, dtype=np.uint64)
    for g in range((n_rows + chunk - 1) // chunk):
        _gumbel_group(g, q, lengths, states, table, index_shift, leap, u_shift, chunk, tokens,
                      out_states)
    return tokens, out_states


def gumbel_draw_batch(q: np.ndarray, states: np.ndarray, fmt: StreamFormat,
                      tables: GumbelTables | None = None, lengths: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """One token per row, equal to B calls of :func:`gumbel_draw` (numba: groups of rows in
    lockstep, threads over groups from :data:`~pysampler.engines.stream.PARALLEL_LOGITS` logits
    on).

    Parameters
    ----------
    q : np.ndarray of int64, shape (B, W)
        Quantized logits.
    states : np.ndarray of uint64, shape (B,)
    fmt : StreamFormat
    tables : GumbelTables, optional
    lengths : np.ndarray of int, shape (B,), optional
        Row b is its first ``lengths[b]`` logits (1 <= lengths[b] <= W); default W.

    Returns
    -------
    tokens : np.ndarray of int64, shape (B,)
    states : np.ndarray of uint64, shape (B,)
    """
    t = gumbel_tables(fmt) if tables is None else tables
    q = np.ascontiguousarray(q, dtype=np.int64)
    chunk = max(1, min(32, -(-q.shape[0] // 2)))  # lockstep groups, two threads' worth
    n = row_lengths(lengths, q.shape)
    run = _gumbel_groups if threaded_batch(n) else _gumbel_groups_serial
    return run(q, n, np.ascontiguousarray(states, dtype=np.uint64), t.table, t.index_shift, t.leap,
               t.u_shift, chunk)


@njit(cache=True)
def _law(q, lo, width, values, pis, cdf_log, x0, hist_vals, hist_counts, ratio_log, ratio_zero):
    # Phi over the window: ln prod_j F(s - q_j), from the histogram of the logits in reach
    x_last = x0 + cdf_log.size - 1
    log_phi = np.zeros(width)
    for h in range(hist_vals.size):
        b, n = hist_vals[h], hist_counts[h]
        for w in range(width):
            x = lo + w - b
            if x < x_last:  # x >= x0 always: s >= q_max + x0 >= b + x0
                log_phi[w] += n * cdf_log[x - x0]
    # index order: the tie factor of the tokens before k, read then updated
    log_t = np.zeros(width)
    zero_t = np.zeros(width, dtype=np.int64)
    probs = np.zeros(q.size)
    reach = lo - (x_last - x0) - x0  # q below this: never wins, never matters
    for k in range(q.size):
        if q[k] < reach:
            continue
        total = 0.0
        for m in range(values.size):
            w = q[k] + values[m] - lo  # s = q_k + x_m <= q_max + x_last: w < width always
            if w >= 0 and zero_t[w] == 0:  # below the window the maximum's score beats s
                total += pis[m] * np.exp(log_phi[w] - cdf_log[values[m] - x0] + log_t[w])
        probs[k] = total
        for m in range(values.size):
            w = q[k] + values[m] - lo
            if 0 <= w < width:
                if ratio_zero[m]:
                    zero_t[w] += 1
                else:
                    log_t[w] += ratio_log[m]
    return probs


def gumbel_token_probs(q: np.ndarray, fmt: StreamFormat, tables: GumbelTables | None = None
                       ) -> np.ndarray:
    """Exact law (V,) of :func:`gumbel_draw` under an ideal generator, ties included (module
    docstring)."""
    t = gumbel_tables(fmt) if tables is None else tables
    q = np.asarray(q, dtype=np.int64)
    values, counts = np.unique(t.table, return_counts=True)
    pis = counts / t.table.size
    x0, x_last = int(values[0]), int(values[-1])
    grid = np.arange(x0, x_last + 1)
    cdf = np.cumsum(np.bincount(grid.searchsorted(values), weights=pis, minlength=grid.size))
    cdf = np.minimum(cdf, 1.0)
    cdf_log = np.log(np.maximum(cdf, 1e-300))
    below = cdf - np.where(np.isin(grid, values), np.bincount(
        grid.searchsorted(values), weights=pis, minlength=grid.size), 0.0)
    ratio_zero = below[values - x0] <= 0.0
    ratio_log = np.where(ratio_zero, 0.0, np.log(np.maximum(below[values - x0], 1e-300))
                         - cdf_log[values - x0])
    q_max = int(q.max())
    lo, width = q_max + x0, x_last - x0 + 1
    in_reach = q[q >= lo - (x_last - x0) - x0]
    hist_vals, hist_counts = np.unique(in_reach, return_counts=True)
    return _law(q, lo, width, values.astype(np.int64), pis, cdf_log, x0,
                hist_vals.astype(np.int64), hist_counts.astype(np.int64), ratio_log,
                ratio_zero)
