"""The bit-accurate model of the p-bit array: what the RTL computes, update by update.

One update of p-bit i (sequential schedule: i = 0 .. n-1, one update per clock)::

    field = h_i + sum_{j != i} J_ij y_j          (exact integer, field_bits wide, never wraps)
    L     = LUT[address(field)]                  (contract.lut)
    state, u = rng_draw(state)                   (contract.rng; one draw per update, always;
                                                 run as its byte leap table, rng.leap_table)
    y_i   = 1 if u < L else 0

B chains run at once, each with its own generator state. A program names the kernel that runs it
(``program.kernel``, a key of :data:`KERNELS`); the one-hot program's specialised kernel (field =
h_i + j * (popcount - y_i)) gives identical states to the dense kernel on its dense form
(``program.to_dense()``, tested).

Initial state policies: ``"zeros"``; ``"random_onehot"``, which spends one draw per chain before the
first sweep and turns on unit ``k = (u * n) >> prob_bits``; or explicit 0/1 states.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit, prange

from ..contract.config import HwConfig
from ..contract.lut import build_lut
from ..contract.program import DenseProgram, OnehotProgram, schedule_entries
from ..contract.rng import check_state, derive_states, leap_draw, leap_table
from ..contract.validation import check_int

__all__ = ["Trace", "BitAccurateModel", "INIT_POLICIES", "KERNELS", "onehot_init_index",
           "run_onehot_rows"]

INIT_POLICIES = ("zeros", "random_onehot")


@dataclass(frozen=True)
class Trace:
    """Every update of every chain, in update order; arrays of shape (B, sweeps * n).

    Attributes
    ----------
    index : int32   unit updated
    bit : uint8     its new value
    field : int64   its integer field (LSB = 2**-frac_bits)
    lut_value : int64  the LUT entry read, in [0, 2**prob_bits]
    u : int64       the prob_bits-wide uniform draw compared with it
    """

    index: np.ndarray
    bit: np.ndarray
    field: np.ndarray
    lut_value: np.ndarray
    u: np.ndarray

    @classmethod
    def empty(cls, n_chains: int, n_updates: int) -> "Trace":
        return cls(np.empty((n_chains, n_updates), np.int32), np.empty((n_chains, n_updates), np.uint8),
                   np.empty((n_chains, n_updates), np.int64),
                   np.empty((n_chains, n_updates), np.int64), np.empty((n_chains, n_updates), np.int64))


@njit(cache=True, nogil=True, inline="always")
def _update(field, shift, idx_lo, idx_hi, addr_mask, lut, state, table, u_shift):
    idx = field >> shift
    if idx < idx_lo:
        idx = idx_lo
    elif idx > idx_hi:
        idx = idx_hi
    level = lut[idx & addr_mask]
    state, u = leap_draw(state, table, u_shift)
    return state, np.int64(u), level


@njit(cache=True, nogil=True, inline="always")
def _record(t_index, t_bit, t_field, t_lut, t_u, b, t, i, new, field, level, u):
    t_index[b, t] = i
    t_bit[b, t] = new
    t_field[b, t] = field
    t_lut[b, t] = level
    t_u[b, t] = u


@njit(cache=True, nogil=True)
def _onehot_chain(b, h, offsets, couplings, entries, y, states, lut, table, u_shift, shift,
                  idx_lo, idx_hi, sweeps, tracing, t_index, t_bit, t_field, t_lut, t_u):
    n = y.shape[1]
    row = np.int64(b) if h.shape[0] > 1 else np.int64(0)
    state = states[b]
    pop = np.int64(0)
    for i in range(n):
        pop += y[b, i]
    t = 0
    for sweep in range(sweeps):
        entry = entries[sweep]
        offset = offsets[row, entry]
        coupling = couplings[row, entry]
        for i in range(n):
            old = np.int64(y[b, i])
            field = h[row, i] + offset + coupling * (pop - old)
            state, u, level = _update(field, shift, idx_lo, idx_hi, lut.size - 1, lut,
                                      state, table, u_shift)
            new = np.int64(1) if u < level else np.int64(0)
            y[b, i] = new
            pop += new - old
            if tracing:
                _record(t_index, t_bit, t_field, t_lut, t_u, b, t, i, new, field, level, u)
            t += 1
    states[b] = state


@njit(cache=True, nogil=True)
def _onehot_serial(h, offsets, couplings, entries, y, states, lut, table, u_shift, shift, idx_lo,
                   idx_hi, sweeps, tracing, t_index, t_bit, t_field, t_lut, t_u):
    for b in range(y.shape[0]):
        _onehot_chain(b, h, offsets, couplings, entries, y, states, lut, table, u_shift, shift,
                      idx_lo, idx_hi, sweeps, tracing, t_index, t_bit, t_field, t_lut, t_u)


@njit(parallel=True, cache=True)
def _onehot_parallel(h, offsets, couplings, entries, y, states, lut, table, u_shift, shift,
                     idx_lo, idx_hi, sweeps, tracing, t_index, t_bit, t_field, t_lut, t_u):
    for b in prange(y.shape[0]):
        _onehot_chain(b, h, offsets, couplings, entries, y, states, lut, table, u_shift, shift,
                      idx_lo, idx_hi, sweeps, tracing, t_index, t_bit, t_field, t_lut, t_u)


@njit(cache=True, nogil=True)
def _dense_chain(b, h, J, y, states, lut, table, u_shift, shift, idx_lo, idx_hi, sweeps, tracing,
                 t_index, t_bit, t_field, t_lut, t_u):
    n = y.shape[1]
    state = states[b]
    fields = h.copy()
    for k in range(n):
        if y[b, k]:
            for i in range(n):
                fields[i] += J[k, i]
    t = 0
    for _ in range(sweeps):
        for i in range(n):
            field = fields[i]
            state, u, level = _update(field, shift, idx_lo, idx_hi, lut.size - 1, lut,
                                      state, table, u_shift)
            new = np.int64(1) if u < level else np.int64(0)
            delta = new - np.int64(y[b, i])
            if delta != 0:
                y[b, i] = new
                for k in range(n):
                    fields[k] += delta * J[i, k]
            if tracing:
                _record(t_index, t_bit, t_field, t_lut, t_u, b, t, i, new, field, level, u)
            t += 1
    states[b] = state


@njit(cache=True, nogil=True)
def _dense_serial(h, J, y, states, lut, table, u_shift, shift, idx_lo, idx_hi, sweeps, tracing,
                  t_index, t_bit, t_field, t_lut, t_u):
    for b in range(y.shape[0]):
        _dense_chain(b, h, J, y, states, lut, table, u_shift, shift, idx_lo, idx_hi, sweeps,
                     tracing, t_index, t_bit, t_field, t_lut, t_u)


@njit(parallel=True, cache=True)
def _dense_parallel(h, J, y, states, lut, table, u_shift, shift, idx_lo, idx_hi, sweeps, tracing,
                    t_index, t_bit, t_field, t_lut, t_u):
    for b in prange(y.shape[0]):
        _dense_chain(b, h, J, y, states, lut, table, u_shift, shift, idx_lo, idx_hi, sweeps,
                     tracing, t_index, t_bit, t_field, t_lut, t_u)


# Threads over chains from this many updates per call on: below it, waking the thread pool costs
# more than it saves (one chain of 20 sweeps at V = 64 took 6 ms threaded on a loaded 2-core
# machine, 0.1 ms serial).
PARALLEL_UPDATES = 1 << 15
MAX_CHAINS = 1 << 24         # chains one model runs (their states: n_chains x n bytes)
MAX_STATE_BYTES = 1 << 32    # n_chains x n
MAX_TRACED_UPDATES = 1 << 26  # one traced run's records (29 bytes each: about 2 GB)


def _threaded(n_chains: int, updates: int) -> bool:
    return n_chains > 1 and updates >= PARALLEL_UPDATES


def _onehot_kernel(*args) -> None:
    """The one-hot sweep kernel (arguments as :func:`_onehot_chain` less ``b``), threaded over
    chains for large calls."""
    y, sweeps = args[4], args[12]
    kernel = _onehot_parallel if _threaded(y.shape[0], y.size * sweeps) else _onehot_serial
    kernel(*args)


def _dense_kernel(*args) -> None:
    """The dense sweep kernel (arguments as :func:`_dense_chain` less ``b``)."""
    y, sweeps = args[2], args[10]
    kernel = _dense_parallel if _threaded(y.shape[0], y.size * sweeps) else _dense_serial
    kernel(*args)


@njit(cache=True, nogil=True)
def onehot_init_index(u, n, prob_bits):
    """Unit turned on by the ``random_onehot`` init for P-bit draws u (int64 scalar or array):
    (u * n) >> prob_bits. The kernel below and the exact evaluator both call this."""
    return (u * n) >> prob_bits


@njit(cache=True, nogil=True)
def _onehot_init_kernel(y, states, table, u_shift, prob_bits):
    n_chains, n = y.shape
    for b in range(n_chains):
        state, u = leap_draw(states[b], table, u_shift)
        states[b] = state
        for i in range(n):
            y[b, i] = 0
        y[b, onehot_init_index(np.int64(u), np.int64(n), np.int64(prob_bits))] = 1


def _run_onehot(program: OnehotProgram, sweeps: int, args: tuple) -> None:
    """One run of the one-hot kernel, the schedule table aligned with the run's end."""
    entries = schedule_entries(program.schedule_length, sweeps)
    _onehot_kernel(program.h[None, :], np.array([program.bias_offsets], dtype=np.int64),
                   np.array([program.couplings], dtype=np.int64), entries, *args)


def _run_dense(program: DenseProgram, sweeps: int, args: tuple) -> None:
    """One run of the dense kernel."""
    _dense_kernel(program.h, program.J, *args)


#: The kernels of the sequential array, by the name a program gives (``program.kernel``): each
#: runs ``(program, sweeps, (y, rng_states, lut, table, u_shift, lut_shift, index_lo, index_hi,
#: sweeps, tracing, trace arrays...))``. A new program kind that runs on this array adds its own.
KERNELS = {"onehot": _run_onehot, "dense": _run_dense}


@lru_cache(maxsize=64)
def _hardware_tables(cfg: HwConfig) -> tuple[np.ndarray, np.ndarray]:
    """(LUT, RNG leap table) of a config; shared between models, read-only by convention."""
    return build_lut(cfg), leap_table(cfg)


class BitAccurateModel:
    """B chains of the p-bit array running one program, bit for bit as the RTL.

    Parameters
    ----------
    program : OnehotProgram or DenseProgram
    n_chains : int
        B >= 1 independent chains.
    seed : int
        User seed in [0, 2**64); chain c starts its generator at ``derive_state(seed, c)`` unless
        ``rng_states`` is given.
    init : "zeros", "random_onehot" or array_like of 0/1, shape (n,) or (B, n)
    rng_states : array_like of int, shape (B,), optional
        Explicit generator states, each in [1, 2**rng_bits - 1].
    specialise : bool
        Use the one-hot kernel for an OnehotProgram (default); False runs its dense form.

    Attributes
    ----------
    y : np.ndarray of uint8, shape (B, n)   current states
    rng_states : np.ndarray of uint64, shape (B,)   current generator states
    """

    def __init__(self, program: OnehotProgram | DenseProgram, n_chains: int = 1, *, seed: int = 0,
                 init: str | np.ndarray = "zeros", rng_states: np.ndarray | None = None,
                 specialise: bool = True):
        if getattr(program, "kernel", None) not in KERNELS:
            raise TypeError(f"program must name one of the array kernels {sorted(KERNELS)} "
                            f"(an OnehotProgram or DenseProgram), got {type(program).__name__}")
        check_int("n_chains", n_chains, 1, MAX_CHAINS)
        if n_chains * program.n > MAX_STATE_BYTES:
            raise ValueError(f"n_chains x n = {n_chains} x {program.n} chain states exceed "
                             f"{MAX_STATE_BYTES:,} bytes: run fewer chains at a time")
        self.program = program
        self.cfg: HwConfig = program.cfg
        self.n_chains = int(n_chains)
        if not specialise and program.schedule_length > 1:
            raise ValueError("specialise=False runs the dense form, which has no lambda schedule; "
                             "use the one-hot kernel for a scheduled program")
        self._form = program if specialise else program.to_dense()
        self._kernel = KERNELS[self._form.kernel]
        self._lut, self._table = _hardware_tables(self.cfg)
        self._u_shift = self.cfg.rng_bits - self.cfg.prob_bits
        if rng_states is None:
            self.rng_states = derive_states(seed, self.n_chains, self.cfg)
        else:
            arr = np.asarray(rng_states).reshape(-1)
            if arr.size != self.n_chains:
                raise ValueError(f"rng_states must have shape ({self.n_chains},), got {arr.shape}")
            self.rng_states = np.array([check_state(int(s), self.cfg, name=f"rng_states[{c}]")
                                        for c, s in enumerate(arr)], dtype=np.uint64)
        self.y = np.zeros((self.n_chains, program.n), dtype=np.uint8)
        self.reset(init)

    @property
    def n(self) -> int:
        return self.program.n

    def reset(self, init: str | np.ndarray = "zeros") -> None:
        """Set the chain states by an init policy (generator states continue)."""
        if isinstance(init, str):
            if init == "zeros":
                self.y[:] = 0
            elif init == "random_onehot":
                _onehot_init_kernel(self.y, self.rng_states, self._table, self._u_shift,
                                    self.cfg.prob_bits)
            else:
                raise ValueError(f"init must be one of {INIT_POLICIES} or a 0/1 array, got {init!r}")
            return
        arr = np.asarray(init)
        if arr.shape not in ((self.n,), (self.n_chains, self.n)):
            raise ValueError(f"init array must have shape ({self.n},) or ({self.n_chains}, {self.n}), "
                             f"got {arr.shape}")
        if not np.isin(arr, (0, 1)).all():
            raise ValueError("init array must hold only 0 and 1")
        self.y[:] = arr.astype(np.uint8)

    def run(self, sweeps: int, *, trace: bool = False) -> Trace | None:
        """Advance every chain by one run of ``sweeps`` sequential sweeps (n updates each); a
        one-hot program's lambda schedule is aligned with the end of this run
        (:func:`pysampler.contract.program.schedule_entries`).

        Returns the :class:`Trace` of these updates when ``trace=True``, else None.
        """
        check_int("sweeps", sweeps, 1)
        cfg = self.cfg
        half = cfg.lut_size // 2
        if trace and self.n_chains * int(sweeps) * self.n > MAX_TRACED_UPDATES:
            raise ValueError(f"trace=True records n_chains x sweeps x n = {self.n_chains} x "
                             f"{sweeps} x {self.n} updates, more than {MAX_TRACED_UPDATES:,}: "
                             f"trace fewer sweeps or chains per run")
        rec = Trace.empty(self.n_chains, int(sweeps) * self.n) if trace else Trace.empty(1, 1)
        args = (self.y, self.rng_states, self._lut, self._table, self._u_shift,
                cfg.lut_shift, -half, half - 1, int(sweeps), bool(trace),
                rec.index, rec.bit, rec.field, rec.lut_value, rec.u)
        self._kernel(self._form, int(sweeps), args)
        return rec if trace else None

    def popcount(self) -> np.ndarray:
        """Number of units on, per chain, shape (B,)."""
        return self.y.sum(axis=1, dtype=np.int64)

    def onehot_tokens(self) -> np.ndarray:
        """Index of the unit that is on for one-hot chains, -1 for invalid ones, shape (B,)."""
        tokens = np.argmax(self.y, axis=1).astype(np.int64)
        tokens[self.popcount() != 1] = -1
        return tokens


def run_onehot_rows(h: np.ndarray, bias_offsets: np.ndarray, couplings: np.ndarray, cfg: HwConfig,
                    y: np.ndarray, states: np.ndarray, sweeps: int, *, init: str | None = None
                    ) -> None:
    """One run of ``sweeps`` sweeps of B one-hot chains, chain b with its own biases ``h[b]``
    (int64 (B, n)), the schedule table (``bias_offsets``, ``couplings``: int64 (T,) shared, or
    (B, T) one per chain; aligned with the run's end) and its own generator state: exactly what ``BitAccurateModel`` does for
    each row's program. ``y`` (uint8 (B, n)) and ``states`` (uint64 (B,)) are updated in place;
    ``init`` ("zeros" or "random_onehot") first resets ``y`` as :meth:`BitAccurateModel.reset`."""
    check_int("sweeps", sweeps, 1)
    lut, table = _hardware_tables(cfg)
    u_shift = cfg.rng_bits - cfg.prob_bits
    if init == "zeros":
        y[:] = 0
    elif init == "random_onehot":
        _onehot_init_kernel(y, states, table, u_shift, cfg.prob_bits)
    elif init is not None:
        raise ValueError(f"init must be one of {INIT_POLICIES} or None, got {init!r}")
    n_rows = h.shape[0]
    n_entries = np.shape(couplings)[-1]
    offsets = np.ascontiguousarray(np.broadcast_to(bias_offsets, (n_rows, n_entries)),
                                   dtype=np.int64)
    coups = np.ascontiguousarray(np.broadcast_to(couplings, (n_rows, n_entries)), dtype=np.int64)
    half = cfg.lut_size // 2
    rec = Trace.empty(1, 1)
    _onehot_kernel(np.ascontiguousarray(h, dtype=np.int64), offsets, coups,
                   schedule_entries(n_entries, int(sweeps)), y, states, lut, table, u_shift,
                   cfg.lut_shift, -half, half - 1, int(sweeps), False,
                   rec.index, rec.bit, rec.field, rec.lut_value, rec.u)
