"""The bit-accurate streaming sampler: a running log-mass, one p-bit decision per logit, L lanes
of logits per beat, C interleaved reservoirs merged by a small tree of decisions.

The logits of a row arrive one at a time; nothing but the running log-mass M_c and the held token
of each reservoir is kept. Logit k (reservoir c = k mod C) replaces reservoir c's token with
probability sigmoid(x_k - M_c) and then M_c <- LA(M_c, x_k): weighted reservoir sampling, exact
softmax in exact arithmetic (``docs/stream.md``). The format, the tables and the draw order are
:mod:`pysampler.contract.stream_format`; this module is their model, bit for bit with the RTL core
``pbit_stream`` (:mod:`hw.stream`):

* :func:`stream_quantize`: host side (temperature, shift by the max) and the logits' quantizer;
* :func:`stream_masses`: the deterministic accumulator M before and after every logit;
* :func:`stream_token_probs`: the exact law under an ideal generator in O(V): within reservoir c,
  P(k held) = p_k prod_{j > k, j in c} (1 - p_j) (p = LUT entry / 2^P', 1 for a forced take), times
  the product of the merge decisions on c's path;
* :func:`stream_draw`: one token from a generator state, with its trace (per logit: index,
  field, LUT entry, draw, decision, M; per merge: slots, field, LUT entry, draw, decision); the
  empty lanes of a partial last beat spend their draws and appear in no trace;
* :func:`stream_draw_batch`: B rows at once (numba; threads over rows from PARALLEL_LOGITS logits
  on), the same tokens as B calls of :func:`stream_draw` with the same states.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit, prange

from ..contract.fixedpoint import quantize
from ..contract.lut import build_lut
from ..contract.rng import check_state, leap_draw, leap_table
from ..contract.stream_format import (StreamFormat, merge_order, stream_beats, stream_clocks,
                                      stream_draws)

__all__ = ["StreamRow", "stream_quantize", "stream_quantize_batch", "stream_masses",
           "stream_token_probs", "StreamTrace", "stream_draw", "stream_draw_batch", "StreamTables",
           "stream_tables", "row_lengths", "StreamActivity", "stream_activity",
           "decision_registers", "decision_writes", "register_toggles", "threaded_batch",
           "PARALLEL_LOGITS"]


@dataclass(frozen=True)
class StreamRow:
    """One quantized row: ``q`` (V,) int64 logits in the logit format (max 0), ``n_saturated``."""

    fmt: StreamFormat
    q: np.ndarray
    n_saturated: int

    @property
    def size(self) -> int:
        return int(self.q.size)

    @property
    def x(self) -> np.ndarray:
        """The logits in the accumulator format, ``q << A`` (int64)."""
        return self.q << self.fmt.acc_shift

    def register_writes(self) -> list[tuple]:
        """The stream core's programming writes: N_ACTIVE (the row length; the logits stream
        in with the run)."""
        return [("N_ACTIVE", self.size)]


def _host_rows(logits: Any, temperature: float, fmt: StreamFormat, name: str) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    if z.shape[-1] == 0:
        raise ValueError(f"{name} is empty: the stream format needs at least one logit (V >= 1)")
    if z.shape[-1] > fmt.max_vocab:
        raise ValueError(f"{name} has V = {z.shape[-1]} logits but the stream format (the stream "
                         f"and Gumbel-max samplers) takes at most max_vocab = {fmt.max_vocab}")
    if np.isnan(z).any():
        raise ValueError(f"{name} contains NaN; logits must be numbers (-inf allowed)")
    if np.isposinf(z).any():
        raise ValueError(f"{name} contains +inf; logits must be finite or -inf")
    t = _field_temperature(temperature, fmt)
    top = z.max(axis=-1, keepdims=True)
    if np.isneginf(top).any():
        raise ValueError(f"{name} has a row whose logits are all -inf")
    with np.errstate(invalid="ignore"):
        return (z - top) / t  # the max becomes exactly 0; -inf stays -inf


def _field_temperature(temperature: float, fmt: StreamFormat) -> float:
    """T times the sigmoid's gain beta: the host divides the shifted logits by it, so the stream
    samples softmax(z / T) at any beta (the compensation every program makes,
    :func:`pysampler.contract.program.field_values`)."""
    t = float(temperature)
    if not np.isfinite(t) or t <= 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    return t * fmt.logit.beta


def stream_quantize(logits: Any, temperature: float, fmt: StreamFormat) -> StreamRow:
    """Host side and quantizer: ``q = q'((z - max z) / (T beta))`` in the logit format (1-D row;
    beta the sigmoid's gain, compensated).

    Raises ValueError for an empty row, a row longer than ``fmt.max_vocab``, NaN or +inf."""
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1:
        raise ValueError(f"logits must be 1-D (V,), got shape {z.shape}")
    shifted = _host_rows(z, temperature, fmt, "logits")
    q = quantize(shifted, fmt.logit.frac_bits, fmt.logit.weight_bits, name="logits")
    return StreamRow(fmt, q.values, q.n_saturated)


@dataclass(frozen=True)
class StreamTables:
    """What a kernel needs: sigmoid LUT, log-add table, generator leap table, widths."""

    lut: np.ndarray
    logadd: np.ndarray
    leap: np.ndarray
    u_shift: int
    lut_shift: int
    half: int  # 2^(a-1)


def stream_tables(fmt: StreamFormat) -> StreamTables:
    acc = fmt.acc
    # int32 tables: half the cache footprint of the kernel's two lookups per logit
    lut_type = np.int32 if acc.prob_bits <= 30 else np.int64  # entries up to 2^P'
    return StreamTables(build_lut(acc).astype(lut_type), fmt.logadd().astype(np.int32),
                        leap_table(acc),
                        acc.rng_bits - acc.prob_bits, acc.lut_shift, acc.lut_size // 2)


@njit(cache=True, nogil=True)
def _lut_at(lut, d, shift, half):
    k = d >> shift
    if k < -half:
        k = -half
    elif k > half - 1:
        k = half - 1
    return lut[k & (2 * half - 1)]


@njit(cache=True, nogil=True)
def _logadd(a, b, table, shift):
    d = a - b
    if d < 0:
        d = -d
    k = d >> shift
    if k > table.size - 1:
        k = table.size - 1
    return (a if a > b else b) + table[k]


@njit(cache=True, nogil=True)
def _run_row(x, state, n_res, lanes, lut, logadd, leap, u_shift, shift, half, merges,
             t_field, t_lut, t_u, t_bit, t_m):
    """One token. Trace arrays of length V + C - 1 (or 0: no trace). Returns (token, state)."""
    masses = np.zeros(n_res, dtype=np.int64)
    held = np.full(n_res, -1, dtype=np.int64)
    trace = t_field.size > 0
    s = state
    c = 0
    for k in range(x.size):
        s, u = leap_draw(s, leap, u_shift)
        xk = x[k]
        if k < n_res:  # the reservoir's first logit: a forced take (the draw is spent)
            field, level, take = 0, -1, 1
            masses[c] = xk
        else:
            mc = masses[c]
            field = xk - mc
            level = np.int64(_lut_at(lut, field, shift, half))
            take = np.int64(u) < level
            masses[c] = _logadd(xk, mc, logadd, shift)
        if take:
            held[c] = k
        if trace:
            t_field[k], t_lut[k], t_u[k], t_bit[k], t_m[k] = field, level, np.int64(u), take, \
                masses[c]
        c += 1
        if c == n_res:
            c = 0
    for _ in range(-x.size % lanes):  # the empty lanes of a partial last beat: draws only
        s, u = leap_draw(s, leap, u_shift)
    for n in range(merges.shape[0]):
        i, j = merges[n, 0], merges[n, 1]
        s, u = leap_draw(s, leap, u_shift)
        if held[j] < 0:
            field, level, right = 0, -1, 0
        elif held[i] < 0:
            field, level, right = 0, -1, 1
        else:
            field = masses[j] - masses[i]
            level = np.int64(_lut_at(lut, field, shift, half))
            right = 1 if np.int64(u) < level else 0
        if held[i] >= 0 and held[j] >= 0:
            masses[i] = _logadd(masses[i], masses[j], logadd, shift)
        elif held[j] >= 0:
            masses[i] = masses[j]
        if right:
            held[i] = held[j]
        if trace:
            t = x.size + n
            t_field[t], t_lut[t], t_u[t], t_bit[t], t_m[t] = field, level, np.int64(u), right, \
                masses[i]
    return held[0], s


@njit(cache=True, nogil=True)
def _masses_row(x, n_res, logadd, shift, m_after, m_before):
    """M after each logit (m_after[k]) and before it (m_before[k], its reservoir's; 0 if empty);
    returns the reservoirs' final masses and which reservoirs hold a token."""
    masses = np.zeros(n_res, dtype=np.int64)
    seen = np.zeros(n_res, dtype=np.bool_)
    for k in range(x.size):
        c = k % n_res
        m_before[k] = masses[c]
        if seen[c]:
            masses[c] = _logadd(masses[c], x[k], logadd, shift)
        else:
            masses[c] = x[k]
            seen[c] = True
        m_after[k] = masses[c]
    return masses, seen


def stream_masses(row: StreamRow) -> tuple[np.ndarray, np.ndarray]:
    """(M before each logit in its reservoir, M after it), int64 (V,), accumulator LSBs; M before
    a reservoir's first logit is reported as 0 (no decision is made there)."""
    fmt = row.fmt
    after, before = np.empty(row.size, np.int64), np.empty(row.size, np.int64)
    _masses_row(row.x, fmt.reservoirs, fmt.logadd(), fmt.acc.lut_shift, after, before)
    return before, after


def stream_token_probs(row: StreamRow, tables: StreamTables | None = None) -> np.ndarray:
    """Exact law of the drawn token under an ideal generator, shape (V,), in O(V) (module
    docstring): M is a deterministic function of the row, so the law is a product of decision
    probabilities."""
    fmt = row.fmt
    t = stream_tables(fmt) if tables is None else tables
    n_res, v = fmt.reservoirs, row.size
    x = row.x
    merges = np.array(merge_order(n_res), np.int64).reshape(-1, 2)
    after, before = np.empty(v, np.int64), np.empty(v, np.int64)
    masses, seen = _masses_row(x, n_res, t.logadd, t.lut_shift, after, before)
    scale = float(1 << fmt.acc.prob_bits)
    field = x - before
    k = np.clip(field >> t.lut_shift, -t.half, t.half - 1)
    p = t.lut[k & (2 * t.half - 1)] / scale
    p[:min(n_res, v)] = 1.0  # each reservoir's first logit: a forced take
    probs = np.empty(v)
    for c in range(min(n_res, v)):
        pc = p[c::n_res]
        keep = np.ones(pc.size)  # prod_{j > k} (1 - p_j), reservoir c
        keep[:-1] = np.cumprod((1.0 - pc)[::-1])[::-1][1:]
        probs[c::n_res] = pc * keep
    # merges: the probability that each slot's token survives, bottom up
    slot_p = np.ones(n_res)
    members = {c: [c] for c in range(n_res)}
    m, present = masses.copy(), seen.copy()
    for i, j in merges:
        if not present[j]:
            pr = 0.0
        elif not present[i]:
            pr = 1.0
            m[i] = m[j]
        else:
            d = int(m[j] - m[i])
            kk = min(max(d >> t.lut_shift, -t.half), t.half - 1)
            pr = t.lut[kk & (2 * t.half - 1)] / scale
            m[i] = _logadd(np.int64(m[i]), np.int64(m[j]), t.logadd, t.lut_shift)
        for c in members[i]:
            slot_p[c] *= 1.0 - pr
        for c in members[j]:
            slot_p[c] *= pr
        members[i] = members[i] + members.pop(j)
        present[i] = present[i] or present[j]
    for c in range(min(n_res, v)):
        probs[c::n_res] *= slot_p[c]
    return probs


@dataclass(frozen=True)
class StreamTrace:
    """One token's decisions: V logit steps, then C - 1 merges (arrays of length V + C - 1).

    ``field`` x_k - M (logit steps) or M_right - M_left (merges), 0 where forced; ``lut`` the LUT
    entry, -1 where forced; ``u`` the draw; ``bit`` 1 = take (logit) / go right (merge); ``m`` M
    of the reservoir (slot) after the step."""

    n_logits: int
    field: np.ndarray
    lut: np.ndarray
    u: np.ndarray
    bit: np.ndarray
    m: np.ndarray

    @property
    def forced(self) -> np.ndarray:
        return self.lut < 0


def stream_draw(row: StreamRow, state: int, tables: StreamTables | None = None, *,
                trace: bool = True) -> tuple[int, int, StreamTrace | None]:
    """Draw one token (index into the row) from generator state ``state``.

    Returns (token, new state, trace or None): ceil(V / L) L + C - 1 draws (one per lane of
    every beat, one per merge); the trace has the V logit steps and the C - 1 merges."""
    fmt = row.fmt
    t = stream_tables(fmt) if tables is None else tables
    check_state(state, fmt.acc)
    merges = np.array(merge_order(fmt.reservoirs), np.int64).reshape(-1, 2)
    n = row.size + fmt.reservoirs - 1 if trace else 0
    cols = [np.zeros(n, np.int64) for _ in range(5)]
    token, s = _run_row(row.x, np.uint64(state), fmt.reservoirs, fmt.lanes, t.lut, t.logadd,
                        t.leap, t.u_shift, t.lut_shift, t.half, merges, *cols)
    out = StreamTrace(row.size, *cols) if trace else None
    return int(token), int(s), out


@njit(cache=True, nogil=True)
def _run_lockstep(x, lengths, states, n_res, lanes, lut, logadd, leap, u_shift, shift, half,
                  merges, tokens, out_states):
    """Rows in lockstep, logit k of every row before logit k + 1 of any: each row's chains (the
    generator, M) are serial, but the rows' are independent, so the CPU overlaps them. ``x``
    is (B, W); row b streams its first ``lengths[b]`` logits. Same arithmetic as
    :func:`_run_row`."""
    n_rows, v = x.shape
    masses = np.zeros((n_res, n_rows), dtype=np.int64)
    held = np.full((n_res, n_rows), -1, dtype=np.int64)
    s = states.copy()
    c = 0
    for k in range(v):
        for b in range(n_rows):
            if k >= lengths[b]:
                continue
            s[b], draw = leap_draw(s[b], leap, u_shift)
            u = np.int64(draw)
            xk = x[b, k]
            if k < n_res:
                masses[c, b] = xk
                held[c, b] = k
            else:
                mc = masses[c, b]
                if u < np.int64(_lut_at(lut, xk - mc, shift, half)):
                    held[c, b] = k
                masses[c, b] = _logadd(xk, mc, logadd, shift)
        c += 1
        if c == n_res:
            c = 0
    for b in range(n_rows):
        m, h = masses[:, b].copy(), held[:, b].copy()
        state = s[b]
        for _ in range(-lengths[b] % lanes):  # the empty lanes of a partial last beat
            state = leap_draw(state, leap, u_shift)[0]
        for n in range(merges.shape[0]):
            i, j = merges[n, 0], merges[n, 1]
            state, u = leap_draw(state, leap, u_shift)
            if h[j] < 0:
                continue
            if h[i] < 0:
                h[i], m[i] = h[j], m[j]
                continue
            if np.int64(u) < np.int64(_lut_at(lut, m[j] - m[i], shift, half)):
                h[i] = h[j]
            m[i] = _logadd(m[i], m[j], logadd, shift)
        tokens[b], out_states[b] = h[0], state


# Threads over rows (groups of rows) from this many logits per batch call on: below it, waking
# numba's thread pool costs more than the rows' work (3 rows of 50 logits, one step of the LM loop,
# took 3 to 19 ms threaded on a loaded 2-core machine, microseconds serial).
PARALLEL_LOGITS = 1 << 18


def threaded_batch(lengths: np.ndarray) -> bool:
    """Whether a batch call over rows of ``lengths`` logits runs on numba's threads."""
    return lengths.size > 1 and int(lengths.sum()) >= PARALLEL_LOGITS


@njit(cache=True, inline="always")
def _run_group(g, x, lengths, states, n_res, lanes, lut, logadd, leap, u_shift, shift, half,
               merges, chunk, tokens, out_states):
    lo = g * chunk
    hi = min(x.shape[0], lo + chunk)
    _run_lockstep(x[lo:hi], lengths[lo:hi], states[lo:hi], n_res, lanes, lut, logadd, leap,
                  u_shift, shift, half, merges, tokens[lo:hi], out_states[lo:hi])


@njit(parallel=True, cache=True)
def _run_groups(x, lengths, states, n_res, lanes, lut, logadd, leap, u_shift, shift, half,
                merges, chunk):
    n_rows = x.shape[0]
    tokens = np.empty(n_rows, dtype=np.int64)
    out_states = np.empty(n_rows, dtype=np.uint64)
    for g in prange((n_rows + chunk - 1) // chunk):
        _run_group(g, x, lengths, states, n_res, lanes, lut, logadd, leap, u_shift, shift, half,
                   merges, chunk, tokens, out_states)
    return tokens, out_states


@njit(cache=True)
def _run_groups_serial(x, lengths, states, n_res, lanes, lut, logadd, leap, u_shift, shift,
                       half, merges, chunk):
    """:func:`_run_groups` on one thread (small batches)."""
    n_rows = x.shape[0]
    tokens = np.empty(n_rows, dtype=np.int64)
    out_states = np.empty(n_rows, dtype=np.uint64)
    for g in range((n_rows + chunk - 1) // chunk):
        _run_group(g, x, lengths, states, n_res, lanes, lut, logadd, leap, u_shift, shift, half,
                   merges, chunk, tokens, out_states)
    return tokens, out_states


@njit(parallel=True, cache=True)
def _quantize_rows(z, lengths, temperature, scale, lo, hi, acc_shift):
    """(x (B, W) accumulator-format logits, saturated (B,), bad (B,): 1 NaN, 2 +inf, 3 all -inf)
    in one parallel pass per row, over the first ``lengths[b]`` logits of row b (x is 0 past
    them); the arithmetic of :func:`stream_quantize`, (z - max) / T times 2^f' (exact: a power
    of two), round half to even, clamp."""
    n_rows, width = z.shape
    x = np.zeros((n_rows, width), dtype=np.int64)
    saturated = np.zeros(n_rows, dtype=np.int64)
    bad = np.zeros(n_rows, dtype=np.int64)
    for b in prange(n_rows):
        _quantize_row(b, z, lengths, temperature, scale, lo, hi, acc_shift, x, saturated, bad)
    return x, saturated, bad


@njit(cache=True)
def _quantize_rows_serial(z, lengths, temperature, scale, lo, hi, acc_shift):
    """:func:`_quantize_rows` on one thread (small batches)."""
    n_rows, width = z.shape
    x = np.zeros((n_rows, width), dtype=np.int64)
    saturated = np.zeros(n_rows, dtype=np.int64)
    bad = np.zeros(n_rows, dtype=np.int64)
    for b in range(n_rows):
        _quantize_row(b, z, lengths, temperature, scale, lo, hi, acc_shift, x, saturated, bad)
    return x, saturated, bad


@njit(cache=True, inline="always")
def _quantize_row(b, z, lengths, temperature, scale, lo, hi, acc_shift, x, saturated, bad):
    """Row b of :func:`_quantize_rows`, written into x, saturated and bad."""
    v = lengths[b]
    top = -np.inf
    for k in range(v):
        value = z[b, k]
        if np.isnan(value):
            bad[b] = 1
        elif value == np.inf:
            bad[b] = 2
        elif value > top:
            top = value
    if bad[b] == 0 and top == -np.inf:
        bad[b] = 3
    if bad[b]:
        return
    for k in range(v):
        shifted = z[b, k] - top
        if temperature != 1.0:  # (the division is the slow step; at T = 1 it is exact)
            shifted = shifted / temperature
        scaled = np.rint(shifted * scale)
        if scaled < lo:
            saturated[b] += 1
            scaled = lo
        elif scaled > hi:
            saturated[b] += 1
            scaled = hi
        x[b, k] = np.int64(scaled) << acc_shift


def stream_quantize_batch(logits: Any, temperature: float, fmt: StreamFormat,
                          lengths: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows (B, V) through :func:`stream_quantize` (the same integers and errors), vectorised.

    Parameters
    ----------
    logits : array_like of float, shape (B, W)
    temperature : float
    fmt : StreamFormat
    lengths : np.ndarray of int, shape (B,), optional
        Row b is its first ``lengths[b]`` logits (1 <= lengths[b] <= W; the rest is ignored,
        e.g. the padding of :meth:`pysampler.samplers.filtering.KeptBatch.compact`); default W.

    Returns
    -------
    x : np.ndarray of int64, shape (B, W)
        The logits in the accumulator format, ``q << A`` (0 past each row's length).
    saturated : np.ndarray of int64, shape (B,)
        Values clamped per row.
    """
    z = np.ascontiguousarray(logits, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"logits must be 2-D (B, V), got shape {z.shape}")
    if z.shape[1] == 0:
        raise ValueError("logits is empty: the stream format needs at least one logit (V >= 1)")
    n = row_lengths(lengths, z.shape)
    longest = int(n.max()) if n.size else 0
    if longest > fmt.max_vocab:
        raise ValueError(f"logits has V = {longest} logits but the stream format (the stream "
                         f"and Gumbel-max samplers) takes at most max_vocab = {fmt.max_vocab}")
    t = _field_temperature(temperature, fmt)
    lo, hi = -(1 << (fmt.logit.weight_bits - 1)), (1 << (fmt.logit.weight_bits - 1)) - 1
    quantize = _quantize_rows if threaded_batch(n) else _quantize_rows_serial
    x, saturated, bad = quantize(z, n, t, float(1 << fmt.logit.frac_bits), float(lo),
                                        float(hi), fmt.acc_shift)
    if bad.any():
        b = int(np.flatnonzero(bad)[0])
        what = {1: "contains NaN; logits must be numbers (-inf allowed)",
                2: "contains +inf; logits must be finite or -inf",
                3: "has a row whose logits are all -inf"}[int(bad[b])]
        raise ValueError(f"logits row {b} {what}")
    return x, saturated


def stream_draw_batch(x: np.ndarray, states: np.ndarray, fmt: StreamFormat,
                      tables: StreamTables | None = None, lengths: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """One token per row, equal to B calls of :func:`stream_draw` with the same states.

    Parameters
    ----------
    x : np.ndarray of int64, shape (B, W)
        Accumulator-format logits (the first output of :func:`stream_quantize_batch`).
    states : np.ndarray of uint64, shape (B,)
        Row b's generator state.
    fmt : StreamFormat
    tables : StreamTables, optional
    lengths : np.ndarray of int, shape (B,), optional
        Row b streams its first ``lengths[b]`` logits (1 <= lengths[b] <= W); default W.

    Returns
    -------
    tokens : np.ndarray of int64, shape (B,)
        Index of each row's token within its first ``lengths[b]`` logits.
    states : np.ndarray of uint64, shape (B,)
        The generator states after the draw.
    """
    t = stream_tables(fmt) if tables is None else tables
    merges = np.array(merge_order(fmt.reservoirs), np.int64).reshape(-1, 2)
    x = np.ascontiguousarray(x, dtype=np.int64)
    n_rows = x.shape[0]
    chunk = max(1, min(32, -(-n_rows // 2)))  # lockstep groups, two threads' worth
    n = row_lengths(lengths, x.shape)
    run = _run_groups if threaded_batch(n) else _run_groups_serial
    return run(x, n, np.ascontiguousarray(states,
                       dtype=np.uint64), fmt.reservoirs, fmt.lanes, t.lut, t.logadd, t.leap,
                       t.u_shift, t.lut_shift, t.half, merges, chunk)


def row_lengths(lengths: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """``lengths`` as int64 (B,), checked against a (B, W) array; W for every row if None."""
    n_rows, width = shape
    if lengths is None:
        return np.full(n_rows, width, dtype=np.int64)
    n = np.ascontiguousarray(lengths, dtype=np.int64)
    if n.shape != (n_rows,) or (n_rows and (n.min() < 1 or n.max() > width)):
        raise ValueError(f"lengths must be {n_rows} values in 1..{width}, got {lengths!r}")
    return n


@dataclass(frozen=True)
class StreamActivity:
    """What one token costs ``pbit_stream`` in operations, counted on the model's run (the energy
    model's input, :mod:`pysampler.experiments.energy`; the RTL's ROM reads and draws are checked
    against it in co-simulation).

    Attributes
    ----------
    beats, clocks : int
        ceil(V / L) beats; clocks from start to done (:func:`stream_clocks`).
    draws : int
        Generator draws (P' bits each): ceil(V / L) L + C - 1.
    rom_reads : int
        Reads of a sigmoid ROM (P' + 1 bits), and as many of a log-add ROM: one per logit and
        one per merge (a forced take or merge reads too: the core reads before it knows).
    compares : int
        ``u < LUT`` compares that decide (forced steps decide nothing).
    adds : int
        Accumulator-width (acc_bits + 1) adds, subtracts and compares: the field, the max and
        the log-add's add, three per logit step and per merge.
    takes : int
        Held-token writes (a take or a merge won by the right slot; index_bits each).
    m_writes, m_toggles : int
        Writes of a reservoir's M register and the bits they change, a token's first write of
        each register not counted (it overwrites the last token's value).
    """

    beats: int
    clocks: int
    draws: int
    rom_reads: int
    compares: int
    adds: int
    takes: int
    m_writes: int
    m_toggles: int


def decision_registers(fmt: StreamFormat, n_logits: int) -> np.ndarray:
    """The M register each decision of a token writes, in trace order (V logit steps, then the
    merges): reservoir k mod C for logit k, the left slot for a merge."""
    merges = np.array([i for i, _ in merge_order(fmt.reservoirs)], dtype=np.int64)
    return np.concatenate([np.arange(n_logits, dtype=np.int64) % fmt.reservoirs, merges])


def decision_writes(fmt: StreamFormat, n_logits: int) -> np.ndarray:
    """Whether each decision (trace order) writes its M register: every logit step does, a merge
    does when either slot holds a token (two empty slots, V < C, change nothing)."""
    c = fmt.reservoirs
    present = np.zeros(c, dtype=bool)
    present[:min(n_logits, c)] = True
    out = np.ones(n_logits + c - 1, dtype=bool)
    for n, (i, j) in enumerate(merge_order(c)):
        out[n_logits + n] = present[i] = present[i] or present[j]
    return out


def register_toggles(registers: np.ndarray, values: np.ndarray, width: int,
                     written: np.ndarray | None = None) -> tuple[int, int]:
    """(writes, bits changed) of the registers ``registers[n]`` written with ``values[n]`` in
    order, each register's first write not counted; ``written`` (bool) marks the steps that write
    (default all)."""
    mask = (1 << width) - 1
    last: dict[int, int] = {}
    writes = toggles = 0
    for n, (reg, value) in enumerate(zip(registers.tolist(), values.tolist())):
        if written is not None and not written[n]:
            continue
        value &= mask
        if reg in last:
            writes += 1
            toggles += bin(last[reg] ^ value).count("1")
        last[reg] = value
    return writes, toggles


def stream_activity(row: StreamRow, trace: StreamTrace) -> StreamActivity:
    """The operation counts of the token whose trace is ``trace`` (:class:`StreamActivity`)."""
    fmt, v = row.fmt, row.size
    c, lanes = fmt.reservoirs, fmt.lanes
    merges = merge_order(c)
    forced = trace.forced
    bit = trace.bit.astype(bool)
    m_writes, m_toggles = register_toggles(decision_registers(fmt, v), trace.m,
                                           fmt.acc.weight_bits, decision_writes(fmt, v))
    return StreamActivity(beats=stream_beats(v, lanes), clocks=stream_clocks(v, c, lanes),
                          draws=stream_draws(v, c, lanes), rom_reads=v + len(merges),
                          compares=int(np.count_nonzero(~forced)),
                          adds=3 * (v + len(merges)), takes=int(np.count_nonzero(bit)),
                          m_writes=m_writes, m_toggles=m_toggles)
