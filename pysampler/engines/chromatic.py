"""Chromatic block Gibbs on a graph program: bit-accurate (what ``pbit_graph`` computes) and float.

One sweep is the colour steps 0 .. C-1; in colour step c every unit of colour c updates from the
state before the step (docs/graph.md, "One sweep, exactly")::

    field  = h_i + sum_d J[edge(i, d)] y[nbr(i, d)]          exact integer
    scaled = (field * m_t + 2**(M + e_t - 1)) >> (M + e_t)   contract.graph.scale_field
    L      = LUT[address(scaled)]                            contract.lut
    state_i, u = draw(state_i)                               unit i's own generator, one draw
    y_i    = clamp value if clamped else (u < L)

Units of one colour share no edge, so updating them one after the other (this engine) equals
updating them at once (the RTL). Chain c's unit i starts its generator at
``derive_state(seed, c * n + i)``.

:class:`ChromaticModel` runs B chains bit for bit (``trace=True`` records every update for the
co-simulation); its untraced path runs blocks of chains side by side (chains innermost, so the
compiler vectorises over chains) and is tested equal to the traced one. :class:`ChromaticFloat`
is the same schedule in float64 with the float model and an ideal RNG. The exact laws:
:func:`boltzmann_law` (exp(-b E) / Z, n <= 16), :func:`sweep_matrix` and
:func:`exact_sweep_law` (the stationary law of the sweep kernel, n <= 12), and
:func:`beta_scheme_error` (the beta scheme's conditional error over every field).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import get_num_threads, njit, prange
from numpy.typing import ArrayLike

from ..contract.config import HwConfig
from ..contract.graph import BETA_MANT_BITS, GraphProgram, graph_field_bits, scale_field
from ..contract.lut import build_lut, lut_address
from ..contract.rng import check_seed, check_state, derive_states, leap_table, splitmix64, \
    transition_matrix
from ..contract.validation import check_int
from .array import Trace

__all__ = ["ChromaticModel", "ChromaticFloat", "lane_states", "boltzmann_law", "sweep_matrix",
           "exact_sweep_law", "beta_scheme_error", "MAX_EXACT_GRAPH", "MAX_MATRIX_UNITS",
           "BLOCK_CHAINS", "MAX_LEVEL_FIELDS", "block_width", "draw_tables", "edgeless_sweep",
           "edgeless_sweep_float", "edgeless_law"]

MAX_EXACT_GRAPH = 16     # boltzmann_law enumerates 2**n states
MAX_MATRIX_UNITS = 12    # sweep_matrix builds a 2**n x 2**n matrix
BLOCK_CHAINS = 128       # chains side by side in the untraced kernel at most (fastest of
                         # 32..256 on the 64x64 lattice here)
MAX_LEVEL_FIELDS = 1 << 16   # fields a level table holds (the kernel indexes it with a uint16)


def block_width(n_chains: int) -> int:
    """Chains per block of the untraced kernel: BLOCK_CHAINS, or fewer (a multiple of 16) so
    that every numba thread gets a block."""
    per_thread = -(-n_chains // max(1, get_num_threads()))
    return int(min(BLOCK_CHAINS, max(16, -(-per_thread // 16) * 16)))

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def lane_states(seed: int, n_chains: int, n_units: int, cfg: HwConfig) -> np.ndarray:
    """Generator states of every unit of every chain, uint64 (B, n): chain c, unit i at
    ``derive_state(seed, c * n + i)`` (SplitMix64 vectorised, equal to the scalar one: tested)."""
    seed = check_seed(seed)
    stream = np.arange(n_chains * n_units, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + (stream + np.uint64(1)) * np.uint64(_GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z % np.uint64((1 << cfg.rng_bits) - 1) + np.uint64(1)).reshape(n_chains, n_units)


@lru_cache(maxsize=32)
def draw_tables(cfg: HwConfig) -> tuple[np.ndarray, int, int]:
    """The byte tables of one draw: new = ((s >> shift) & keep) ^ XOR_k T[k, byte k of s].

    For an LFSR with rng_steps = k <= rng_bits the k-step Galois map is (s >> k) ^ F(low k bits
    of s), so ceil(k / 8) tables of the low bytes do it (2 lookups for 16 steps); otherwise the
    full leap table (rng.leap_table, keep = 0). Both derived from rng_step and tested equal to
    it. Returns (tables uint64 (K, 256), shift, keep mask)."""
    if cfg.rng == "lfsr" and cfg.rng_steps <= cfg.rng_bits:
        k = cfg.rng_steps
        columns = transition_matrix(cfg)[:k]
        n_tab = (k + 7) // 8
        tables = np.zeros((n_tab, 256), dtype=np.uint64)
        for t in range(n_tab):
            for bit in range(8):
                c = 8 * t + bit
                if c < k:
                    with_bit = (np.arange(256) >> bit) & 1 == 1
                    tables[t, with_bit] ^= np.uint64(columns[c])
        # columns[c] for c < k already include the (1 << c) >> k = 0 shifted part
        return tables, k, (1 << cfg.rng_bits) - 1
    return leap_table(cfg), 0, 0


@njit("uint64(uint64, uint64[:, ::1], uint64, uint64)", cache=True, nogil=True)
def _draw(state, tables, shift, keep):
    new = (state >> shift) & keep
    for k in range(tables.shape[0]):
        new = new ^ tables[k, (state >> np.uint64(8 * k)) & np.uint64(255)]
    return new


@njit(cache=True, nogil=True)
def _chain_traced(b, y, states, order, class_start, nbr, wts, h, hold, cval, mant, sh, entries,
                  lut, idx_lo, idx_hi, lut_shift, tables, dshift, keep, u_shift, tracing,
                  t_index, t_bit, t_field, t_lut, t_u):
    """Sweeps of chain b in the contract's order, one update at a time (the reference path)."""
    n = h.shape[0]
    D = nbr.shape[1]
    mask = lut.shape[0] - 1
    t = 0
    for s in range(entries.shape[0]):
        e = entries[s]
        m = mant[e]
        shift = sh[e]
        rnd = np.int64(1) << (shift - 1)
        for c in range(class_start.shape[0] - 1):
            for k in range(class_start[c], class_start[c + 1]):
                i = order[k]
                field = h[i]
                for d in range(D):
                    j = nbr[i, d]
                    if j >= 0 and y[b, j]:
                        field += wts[i, d]
                scaled = (field * m + rnd) >> shift
                idx = scaled >> lut_shift
                if idx < idx_lo:
                    idx = idx_lo
                elif idx > idx_hi:
                    idx = idx_hi
                level = lut[idx & mask]
                st = _draw(states[b, i], tables, dshift, keep)
                states[b, i] = st
                u = np.int64(st >> np.uint64(u_shift))
                new = np.uint8(1) if u < level else np.uint8(0)
                if hold[i]:
                    new = cval[i]
                y[b, i] = new
                if tracing:
                    t_index[b, t] = i
                    t_bit[b, t] = new
                    t_field[b, t] = field
                    t_lut[b, t] = level
                    t_u[b, t] = u
                t += 1


@njit(parallel=True, cache=True)
def _traced_parallel(y, states, order, class_start, nbr, wts, h, hold, cval, mant, sh, entries,
                     lut, idx_lo, idx_hi, lut_shift, tables, dshift, keep, u_shift, tracing,
                     t_index, t_bit, t_field, t_lut, t_u):
    for b in prange(y.shape[0]):
        _chain_traced(b, y, states, order, class_start, nbr, wts, h, hold, cval, mant, sh,
                      entries, lut, idx_lo, idx_hi, lut_shift, tables, dshift, keep, u_shift,
                      tracing, t_index, t_bit, t_field, t_lut, t_u)


@njit(cache=True, nogil=True)
def _block(yb, sb, order, class_start, nbr, wts, hoff, hold, cval, entries, levels, direct,
           mant, sh, rnds, lut, idx_lo, idx_hi, lut_shift, tables, byte_shifts, m255, dshift,
           keep, u_shift, field, drawn):
    """Sweeps of one block of W chains, chains innermost so that every inner loop runs over
    the W lanes of one unit (vectorised by LLVM): yb uint8 (n + 1, W) (row n stays 0: unused
    neighbour slots point there), sb uint32/uint64 (n, W); ``field`` and ``drawn`` (W,) scratch.

    The field enters as an offset: field - fmin = hoff[i] + sum_d wts[i, d] y[nbr[i, d]].
    Without ``direct`` the LUT entry of every (schedule entry, field) is one read of
    ``levels[t, field - fmin]`` (a uint16 index: the table holds at most 2**16 fields); with
    ``direct`` the field (then absolute: fmin = 0) is scaled, clamped and looked up as in the
    traced kernel."""
    D = nbr.shape[1]
    W = yb.shape[1]
    n_tab = tables.shape[0]
    addr_mask = lut.shape[0] - 1
    for s in range(entries.shape[0]):
        t = entries[s]
        lev = levels[t]
        m = mant[t]
        shift = sh[t]
        rnd = rnds[t]
        for c in range(class_start.shape[0] - 1):
            for k in range(class_start[c], class_start[c + 1]):
                i = order[k]
                hi = hoff[i]
                for w in range(W):
                    field[w] = hi
                for d in range(D):
                    wt = wts[i, d]
                    yj = yb[nbr[i, d]]
                    for w in range(W):
                        field[w] += wt * yj[w]
                si = sb[i]
                for w in range(W):
                    drawn[w] = (si[w] >> dshift) & keep
                for q in range(n_tab):    # the draw: byte tables of the k-step map
                    tq = tables[q]
                    byte = byte_shifts[q]
                    for w in range(W):
                        drawn[w] ^= tq[(si[w] >> byte) & m255]
                for w in range(W):
                    si[w] = drawn[w]
                yi = yb[i]
                if hold[i]:
                    cv = cval[i]
                    for w in range(W):
                        yi[w] = cv
                elif direct:
                    for w in range(W):
                        scaled = (field[w] * m + rnd) >> shift
                        idx = min(max(scaled >> lut_shift, idx_lo), idx_hi)
                        level = lut[idx & addr_mask]
                        yi[w] = np.uint8(1) if (drawn[w] >> u_shift) < level else np.uint8(0)
                else:
                    for w in range(W):
                        level = lev[np.uint16(field[w])]
                        yi[w] = np.uint8(1) if (drawn[w] >> u_shift) < level else np.uint8(0)


@njit(parallel=True, cache=True)
def _blocks_parallel(yb, sb, order, class_start, nbr, wts, hoff, hold, cval, entries, levels,
                     direct, mant, sh, rnds, lut, idx_lo, idx_hi, lut_shift, tables,
                     byte_shifts, m255, dshift, keep, u_shift):
    W = yb.shape[2]
    for blk in prange(yb.shape[0]):
        field = np.empty(W, dtype=wts.dtype)
        drawn = np.empty(W, dtype=sb.dtype)
        _block(yb[blk], sb[blk], order, class_start, nbr, wts, hoff, hold, cval, entries,
               levels, direct, mant, sh, rnds, lut, idx_lo, idx_hi, lut_shift, tables,
               byte_shifts, m255, dshift, keep, u_shift, field, drawn)


def _program_arrays(program: GraphProgram) -> dict:
    """The integer arrays the kernels read (neighbour slots padded with -1, weights 0)."""
    top = program.topology
    nbr = np.ascontiguousarray(top.neighbours, dtype=np.int64)
    wts = np.where(nbr >= 0, program.J[np.maximum(top.edge_slots, 0)], 0).astype(np.int64) \
        if top.max_degree else np.zeros((top.n, 0), np.int64)
    return dict(order=np.ascontiguousarray(top.order), class_start=top.class_start,
                nbr=nbr, wts=np.ascontiguousarray(wts), h=np.ascontiguousarray(program.h),
                hold=program.clamped.astype(np.uint8),
                cval=program.clamp_values.astype(np.uint8),
                mant=np.asarray(program.beta_mant, dtype=np.int64),
                sh=BETA_MANT_BITS + np.asarray(program.beta_exp, dtype=np.int64))


class ChromaticModel:
    """B chains of the graph core running one program, bit for bit.

    Parameters
    ----------
    program : GraphProgram
    n_chains : int
        B >= 1.
    seed : int
        Chain c's unit i starts its generator at ``derive_state(seed, c * n + i)``.
    init : "zeros" or array_like of 0/1, shape (n,) or (B, n)
        The initial state (init = ZEROS or GIVEN); clamped units take their value.
    rng_states : array_like of int, shape (B, n), optional
        Explicit generator states, each in [1, 2**rng_bits - 1].

    Attributes
    ----------
    y : np.ndarray of uint8, shape (B, n)   current states
    rng_states : np.ndarray of uint64, shape (B, n)   current generator states
    """

    def __init__(self, program: GraphProgram, n_chains: int = 1, *, seed: int = 0,
                 init: str | ArrayLike = "zeros", rng_states: ArrayLike | None = None):
        if getattr(program, "kernel", None) != "chromatic":
            raise TypeError(f"program must be a graph program (kernel 'chromatic'), got "
                            f"{type(program).__name__}")
        self.program = program
        self.cfg: HwConfig = program.cfg
        self.n_chains = check_int("n_chains", n_chains, 1)
        n = program.n
        if rng_states is None:
            self.rng_states = lane_states(seed, self.n_chains, n, self.cfg)
        else:
            arr = np.asarray(rng_states)
            if arr.shape != (self.n_chains, n):
                raise ValueError(f"rng_states must have shape ({self.n_chains}, {n}), got "
                                 f"{arr.shape}")
            self.rng_states = np.array([[check_state(int(s), self.cfg,
                                                     name=f"rng_states[{c}, {i}]")
                                         for i, s in enumerate(row)]
                                        for c, row in enumerate(arr)], dtype=np.uint64)
        self._arrays = _program_arrays(program)
        self._lut = build_lut(self.cfg)
        self._tables, self._dshift, self._keep = draw_tables(self.cfg)
        self._level_table: tuple[np.ndarray | None, int] | None = None
        self.y = np.zeros((self.n_chains, n), dtype=np.uint8)
        self.reset(init)

    @property
    def n(self) -> int:
        return self.program.n

    def reset(self, init: str | ArrayLike = "zeros") -> None:
        """Set the chain states (generators continue); clamped units take their value."""
        if isinstance(init, str):
            if init != "zeros":
                raise ValueError(f"init must be 'zeros' or a 0/1 array, got {init!r}")
            self.y[:] = 0
        else:
            arr = np.asarray(init)
            if arr.shape not in ((self.n,), (self.n_chains, self.n)):
                raise ValueError(f"init array must have shape ({self.n},) or "
                                 f"({self.n_chains}, {self.n}), got {arr.shape}")
            if not np.isin(arr, (0, 1)).all():
                raise ValueError("init array must hold only 0 and 1")
            self.y[:] = arr.astype(np.uint8)
        p = self.program
        self.y[:, p.clamped] = p.clamp_values[p.clamped].astype(np.uint8)

    def _common(self, sweeps: int) -> tuple:
        """The program and LUT arguments every kernel takes (up to the generator's)."""
        cfg = self.cfg
        half = cfg.lut_size // 2
        a = self._arrays
        return (a["order"], a["class_start"], a["nbr"], a["wts"], a["h"], a["hold"], a["cval"],
                a["mant"], a["sh"], self.program.schedule_entries(sweeps), self._lut, -half,
                half - 1, cfg.lut_shift)

    def run(self, sweeps: int, *, trace: bool = False) -> Trace | None:
        """Advance every chain by ``sweeps`` sweeps (the beta table from entry 0). Returns the
        :class:`~pysampler.engines.array.Trace` of every update (sweep, colour, then unit order)
        when ``trace``."""
        sweeps = check_int("sweeps", sweeps, 1)
        common = self._common(sweeps)
        u_shift = self.cfg.rng_bits - self.cfg.prob_bits
        if trace:
            rec = Trace.empty(self.n_chains, sweeps * self.n)
            _traced_parallel(self.y, self.rng_states, *common, self._tables,
                             np.uint64(self._dshift), np.uint64(self._keep), u_shift, True,
                             rec.index, rec.bit, rec.field, rec.lut_value, rec.u)
            return rec
        self._run_blocks(common, u_shift)
        return None

    def _run_blocks(self, common: tuple, u_shift: int) -> None:
        """The untraced path: blocks of at most BLOCK_CHAINS chains (fewer where that leaves a
        block for every thread), chains innermost; the generator in uint32 where rng_bits <= 32
        and the field in int32 where it fits (twice the chains per vector)."""
        B, n = self.y.shape
        W = block_width(B)
        n_blocks = -(-B // W)
        word = np.uint32 if self.cfg.rng_bits <= 32 else np.uint64
        yb = np.zeros((n_blocks, W, n + 1), dtype=np.uint8)
        sb = np.ones((n_blocks, W, n), dtype=word)  # padding chains: any nonzero state
        yb.reshape(-1, n + 1)[:B, :n] = self.y
        sb.reshape(-1, n)[:B] = self.rng_states
        yb = np.ascontiguousarray(yb.transpose(0, 2, 1))
        sb = np.ascontiguousarray(sb.transpose(0, 2, 1))
        order, class_start, nbr, wts, h, hold, cval, mant, sh, entries, lut, lo, hi, lut_shift \
            = common
        nbr = np.ascontiguousarray(np.where(nbr >= 0, nbr, n))  # unused slots read row n (0)
        tables = self._tables.astype(word)
        shifts = (8 * np.arange(tables.shape[0])).astype(word)
        levels, fmin = self._levels()
        direct = levels is None
        # the field, its product with the mantissa and the LUT in int32 where they fit (twice
        # the chains per vector), else int64; the same integers either way, and one compiled
        # kernel per width serves both the level table and the direct lookup
        narrow = graph_field_bits(self.cfg, self.program.topology.max_degree) \
            + BETA_MANT_BITS + 2 <= 31 and self.cfg.prob_bits < 31 and word is np.uint32
        num = np.int32 if narrow else np.int64
        level_type = np.uint32 if narrow else np.uint64
        if direct:
            levels = np.zeros((1, 1), dtype=level_type)
        _blocks_parallel(yb, sb, order, class_start, nbr, wts.astype(num),
                         (h - fmin).astype(num), hold, cval, entries, levels.astype(level_type),
                         direct, mant.astype(num), sh.astype(num),
                         (np.int64(1) << (sh - 1)).astype(num), lut.astype(level_type),
                         num(lo), num(hi), num(lut_shift), tables, shifts, word(255),
                         word(self._dshift), word(self._keep), word(u_shift))
        self.y[:] = yb.transpose(0, 2, 1).reshape(-1, n + 1)[:B, :n]
        self.rng_states[:] = sb.transpose(0, 2, 1).reshape(-1, n)[:B]

    def _levels(self) -> tuple[np.ndarray | None, int]:
        """(levels, fmin): the LUT entry of every field the program can form at every schedule
        entry, ``levels[t, field - fmin]`` (int64 (T, R)), from the contract's scale_field,
        lut_address and build_lut; (None, 0) where the field range R passes 2**16."""
        if self._level_table is None:
            p, a = self.program, self._arrays
            wts = a["wts"]
            fmin = int((p.h + np.minimum(wts, 0).sum(axis=1)).min())
            fmax = int((p.h + np.maximum(wts, 0).sum(axis=1)).max())
            if fmax - fmin + 1 > MAX_LEVEL_FIELDS:
                self._level_table = (None, 0)
            else:
                fields = np.arange(fmin, fmax + 1, dtype=np.int64)
                self._level_table = (np.stack([
                    self._lut[lut_address(scale_field(fields, m, e), self.cfg)]
                    for m, e in zip(p.beta_mant, p.beta_exp)]), fmin)
        return self._level_table

    def spins(self) -> np.ndarray:
        """Current states as spins 2y - 1 (int8, (B, n))."""
        return (2 * self.y.astype(np.int8) - 1).astype(np.int8)


# --- float reference -----------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _float_chain(b, y, order, class_start, nbr, wts, h, hold, cval, betas, uniforms):
    n = h.shape[0]
    D = nbr.shape[1]
    for s in range(betas.shape[0]):
        beta = betas[s]
        for c in range(class_start.shape[0] - 1):
            for k in range(class_start[c], class_start[c + 1]):
                i = order[k]
                field = h[i]
                for d in range(D):   # no branch on the neighbour's bit (unpredictable); an
                    # unused slot (j = -1, weight 0) adds 0.0: the same sums bit for bit
                    field += wts[i, d] * y[b, nbr[i, d]]
                p = 1.0 / (1.0 + np.exp(-beta * field))
                new = np.uint8(1) if uniforms[s, b, i] < p else np.uint8(0)
                y[b, i] = cval[i] if hold[i] else new


@njit(parallel=True, cache=True)
def _float_parallel(y, order, class_start, nbr, wts, h, hold, cval, betas, uniforms):
    for b in prange(y.shape[0]):
        _float_chain(b, y, order, class_start, nbr, wts, h, hold, cval, betas, uniforms)


class ChromaticFloat:
    """The same chromatic schedule in float64: the float QUBO model (h_float, J_float), sweep
    entry t at the requested b_t exactly, uniforms from a numpy PCG64 generator seeded with
    ``seed`` (chain c takes row c of each sweep's block). Its stationary law is exp(-b E) / Z.
    """

    _CHUNK = 1 << 22   # uniforms drawn per kernel call

    def __init__(self, program: GraphProgram, n_chains: int = 1, *, seed: int = 0,
                 init: str | ArrayLike = "zeros"):
        if getattr(program, "kernel", None) != "chromatic":
            raise TypeError(f"program must be a graph program (kernel 'chromatic'), got "
                            f"{type(program).__name__}")
        self.program = program
        self.n_chains = check_int("n_chains", n_chains, 1)
        self.rng = np.random.default_rng(check_seed(seed))
        top = program.topology
        nbr = np.ascontiguousarray(top.neighbours, dtype=np.int64)
        self._wts = np.ascontiguousarray(
            np.where(nbr >= 0, program.J_float[np.maximum(top.edge_slots, 0)], 0.0)
            if top.max_degree else np.zeros((top.n, 0)))
        self._nbr = nbr
        self.y = np.zeros((self.n_chains, program.n), dtype=np.uint8)
        ChromaticModel.reset(self, init)   # the same init rules

    n = ChromaticModel.n

    def run(self, sweeps: int) -> None:
        """Advance every chain by ``sweeps`` sweeps (entry t at b_t = ``program.betas[t]``)."""
        sweeps = check_int("sweeps", sweeps, 1)
        p, top = self.program, self.program.topology
        betas = np.asarray(p.betas, dtype=np.float64)[p.schedule_entries(sweeps)] * p.fit_scale
        per = max(1, self._CHUNK // max(1, self.y.size))
        for start in range(0, sweeps, per):
            chunk = betas[start:start + per]
            uniforms = self.rng.random((chunk.size, *self.y.shape))
            _float_parallel(self.y, top.order, top.class_start, self._nbr, self._wts,
                            np.ascontiguousarray(p.h_float), p.clamped.astype(np.uint8),
                            p.clamp_values.astype(np.uint8), np.ascontiguousarray(chunk),
                            uniforms)


# --- edgeless programs (independent p-bits) ------------------------------------------------------
def _check_edgeless(program: GraphProgram) -> None:
    if getattr(program, "kernel", None) != "chromatic":
        raise TypeError(f"program must be a graph program (kernel 'chromatic'), got "
                        f"{type(program).__name__}")
    if program.topology.n_edges:
        raise ValueError(f"an edgeless program is needed (independent p-bits), this one has "
                         f"{program.topology.n_edges} edges")


def edgeless_sweep(program: GraphProgram, n_chains: int, *, seed: int = 0) -> np.ndarray:
    """The first sweep of B chains of an edgeless program, bit for bit what
    ``ChromaticModel(program, B, seed=seed).run(1)`` leaves in ``y`` (from any initial state: no
    unit reads another), vectorised over every unit of every chain.

    Unit i of chain c: its generator starts at ``derive_state(seed, c * n + i)`` and draws once;
    its bit is ``u < LUT[address(scale_field(h_i, entry 0))]`` (clamped units forced).

    Returns
    -------
    np.ndarray of uint8, shape (B, n)
    """
    _check_edgeless(program)
    cfg = program.cfg
    count = check_int("n_chains", n_chains, 1)
    states = lane_states(seed, count, program.n, cfg)
    tables, shift, keep = draw_tables(cfg)
    new = (states >> np.uint64(shift)) & np.uint64(keep)
    for k in range(tables.shape[0]):   # the same byte tables as the kernels' _draw
        new ^= tables[k][(states >> np.uint64(8 * k)) & np.uint64(255)]
    u = new >> np.uint64(cfg.rng_bits - cfg.prob_bits)
    scaled = scale_field(program.h, program.beta_mant[0], program.beta_exp[0])
    level = build_lut(cfg)[lut_address(scaled, cfg)].astype(np.uint64)
    bits = (u < level).astype(np.uint8)
    return np.where(program.clamped, program.clamp_values.astype(np.uint8), bits)


def edgeless_sweep_float(program: GraphProgram, n_chains: int, *, seed: int = 0) -> np.ndarray:
    """The first sweep of B chains of an edgeless program in float, bit for bit what
    ``ChromaticFloat(program, B, seed=seed).run(1)`` leaves in ``y``: uniforms (1, B, n) from
    PCG64 seeded with ``seed``, bit = u < sigmoid(b_0 * fit_scale * h_float). uint8 (B, n)."""
    _check_edgeless(program)
    count = check_int("n_chains", n_chains, 1)
    uniforms = np.random.default_rng(check_seed(seed)).random((1, count, program.n))
    p_on = _float_probability(program)
    bits = (uniforms[0] < p_on).astype(np.uint8)
    return np.where(program.clamped, program.clamp_values.astype(np.uint8), bits)


@njit(cache=True)
def _sigmoid_as_kernel(beta, h):
    out = np.empty_like(h)
    for i in range(h.shape[0]):   # the float kernel's expression, so that ties round alike
        out[i] = 1.0 / (1.0 + np.exp(-beta * h[i]))
    return out


def _float_probability(program: GraphProgram) -> np.ndarray:
    beta = float(program.betas[0]) * program.fit_scale
    return _sigmoid_as_kernel(beta, np.ascontiguousarray(program.h_float, dtype=np.float64))


def edgeless_law(program: GraphProgram, *, float_model: bool = False) -> np.ndarray:
    """P(unit i is on after a sweep) of an edgeless program, exactly, float64 (n,): the LUT
    entry at its scaled integer field over 2**prob_bits (the bit-accurate core under an ideal
    RNG), or sigmoid(b_0 * fit_scale * h_float) with ``float_model``; clamped units 0 or 1."""
    _check_edgeless(program)
    if float_model:
        p_on = _float_probability(program)
    else:
        cfg = program.cfg
        scaled = scale_field(program.h, program.beta_mant[0], program.beta_exp[0])
        p_on = np.ldexp(build_lut(cfg)[lut_address(scaled, cfg)].astype(np.float64),
                        -cfg.prob_bits)
    return np.where(program.clamped, program.clamp_values.astype(np.float64), p_on)


# --- exact laws ----------------------------------------------------------------------------------
def _all_states(n: int) -> np.ndarray:
    codes = np.arange(1 << n, dtype=np.int64)
    return ((codes[:, None] >> np.arange(n)) & 1).astype(np.int64)


def boltzmann_law(program: GraphProgram, beta: float, *, quantized: bool = False) -> np.ndarray:
    """exp(-beta E(y)) / Z over every state (index = sum_i y_i 2**i), float64 (2**n,), for
    n <= MAX_EXACT_GRAPH; states that break a clamp have probability 0. ``quantized``: E of the
    integer program (in the model's units), else of the float model."""
    n = program.n
    if n > MAX_EXACT_GRAPH:
        raise ValueError(f"boltzmann_law enumerates 2**n states: n must be <= {MAX_EXACT_GRAPH}, "
                         f"got {n}")
    y = _all_states(n)
    logw = -float(beta) * program.energy(y, quantized=quantized, qubo=True)
    ok = (y[:, program.clamped] == program.clamp_values[program.clamped]).all(axis=1)
    logw = np.where(ok, logw, -np.inf)
    w = np.exp(logw - logw.max())
    return w / w.sum()


def _conditionals(program: GraphProgram, y: np.ndarray, entry: int | None, beta: float | None
                  ) -> np.ndarray:
    """P(y_i = 1 | the others) of every unit in every state y (S, n): the LUT at schedule entry
    ``entry`` (ideal RNG), or sigmoid(beta * float field) when ``beta`` is given."""
    if beta is not None:
        top = program.topology
        J = np.zeros((program.n, program.n))
        J[top.edges[:, 0], top.edges[:, 1]] = program.J_float
        J = J + J.T
        p = 1.0 / (1.0 + np.exp(-beta * (program.h_float + y @ J)))
    else:
        cfg = program.cfg
        scaled = scale_field(program.fields(y), program.beta_mant[entry], program.beta_exp[entry])
        p = np.ldexp(build_lut(cfg)[lut_address(scaled, cfg)].astype(np.float64), -cfg.prob_bits)
    return np.where(program.clamped, program.clamp_values.astype(np.float64), p)


def sweep_matrix(program: GraphProgram, *, entry: int = -1, beta: float | None = None
                 ) -> np.ndarray:
    """The transition matrix of one sweep (colour steps 0 .. C-1), float64 (2**n, 2**n),
    row = from, column = to, for n <= MAX_MATRIX_UNITS: the LUT chain at schedule entry
    ``entry`` under an ideal RNG, or the float chain at inverse temperature ``beta``."""
    n = program.n
    if n > MAX_MATRIX_UNITS:
        raise ValueError(f"sweep_matrix builds a 2**n x 2**n matrix: n must be <= "
                         f"{MAX_MATRIX_UNITS}, got {n}")
    entry = range(program.schedule_length)[entry]
    y = _all_states(n)
    p_on = _conditionals(program, y, entry, beta)
    size = 1 << n
    total = np.eye(size)
    for units in program.topology.classes():
        step = np.zeros((size, size))
        bits = _all_states(len(units))             # every new value of this colour's units
        keep = np.arange(size)
        for u, i in enumerate(units):
            keep = keep & ~(1 << int(i))
        for new in bits:
            to = keep.copy()
            prob = np.ones(size)
            for u, i in enumerate(units):
                to |= int(new[u]) << int(i)
                prob *= p_on[:, i] if new[u] else 1.0 - p_on[:, i]
            np.add.at(step, (np.arange(size), to), prob)
        total = total @ step
    return total


def exact_sweep_law(program: GraphProgram, *, entry: int = -1, beta: float | None = None
                    ) -> np.ndarray:
    """The stationary law of :func:`sweep_matrix` (pi = pi P, sum 1), float64 (2**n,), by a
    dense solve; the chain must have a single recurrent class (true whenever every conditional
    is strictly between 0 and 1 for the free units)."""
    P = sweep_matrix(program, entry=entry, beta=beta)
    size = P.shape[0]
    A = P.T - np.eye(size)
    A[-1, :] = 1.0
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    pi = np.linalg.solve(A, rhs)
    pi[np.abs(pi) < 1e-15] = 0.0
    return pi / pi.sum()


def beta_scheme_error(program: GraphProgram) -> dict[str, np.ndarray]:
    """The beta scheme's error, exactly, per schedule entry, over every field the core can form
    (|field| within graph_field_bits):

    * ``beta_rel``: b_hat_t / b_t - 1 (the realised vs the requested inverse temperature);
    * ``scheme``: max over fields of |LUT(scaled(I)) / 2**P - sigmoid(cfg.beta r_hat_t I 2**-f)|,
      what the integer scaling and the LUT cost at the realised temperature;
    * ``total``: the same against sigmoid(cfg.beta r_t I 2**-f), the requested temperature.
    Each an array (T,)."""
    cfg = program.cfg
    bits = graph_field_bits(cfg, program.topology.max_degree)
    fields = np.arange(-(1 << (bits - 1)), 1 << (bits - 1), dtype=np.int64)
    lut = build_lut(cfg)
    b_max = program.beta * program.fit_scale
    out = {"beta_rel": [], "scheme": [], "total": []}
    for t in range(program.schedule_length):
        m, e = program.beta_mant[t], program.beta_exp[t]
        p = np.ldexp(lut[lut_address(scale_field(fields, m, e), cfg)].astype(np.float64),
                     -cfg.prob_bits)
        r_hat = m * 2.0 ** -(BETA_MANT_BITS + e)
        r = program.betas[t] * program.fit_scale / b_max
        x = cfg.beta * fields * cfg.lsb
        out["beta_rel"].append(r_hat / r - 1)
        out["scheme"].append(np.abs(p - 1 / (1 + np.exp(-r_hat * x))).max())
        out["total"].append(np.abs(p - 1 / (1 + np.exp(-r * x))).max())
    return {k: np.asarray(v) for k, v in out.items()}
