"""The random number generators of the hardware contract, bit for bit.

Bit-level contract
------------------
State: an unsigned ``rng_bits``-wide integer, never 0 (both generators are stuck at 0).

``lfsr`` (Galois, right-shifting)::

    out   = state & 1
    state = (state >> 1) ^ (LFSR_MASKS[w] if out else 0)

where ``LFSR_MASKS[w]`` has bit ``t - 1`` set for every exponent ``t`` in ``LFSR_TAPS[w]``, the
exponents of a primitive polynomial ``x^w + ... + 1`` (Xilinx XAPP052 table). The period is
2**w - 1 for every listed width (checked by ``tests/test_rng.py`` from the transition matrix).

``xorshift`` (Marsaglia 2003, "Xorshift RNGs", shift triples (13, 17, 5) and (13, 7, 17))::

    w = 32: x ^= x << 13 (mod 2**32); x ^= x >> 17; x ^= x << 5 (mod 2**32)
    w = 64: x ^= x << 13 (mod 2**64); x ^= x >> 7;  x ^= x << 17 (mod 2**64)

A *draw* advances the generator ``rng_steps`` times and returns its top ``prob_bits`` bits:
``u = state >> (rng_bits - prob_bits)``, a uniform integer in [0, 2**P).

Both generators are linear over GF(2); :func:`transition_matrix` builds the k-step matrix from
:func:`rng_step` itself, which is how the RTL gets a one-clock leap-forward from this one definition.

Seeds: :func:`derive_state` maps (seed, stream) to a state in [1, 2**w - 1] by SplitMix64 and
``1 + (mix mod (2**w - 1))``: state 0 is impossible by construction. A state given by hand is
checked (:func:`check_state`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .config import HwConfig

__all__ = [
    "LFSR_TAPS", "LFSR_MASKS", "RNG_LFSR", "RNG_XORSHIFT32", "RNG_XORSHIFT64", "RngSpec",
    "rng_spec", "rng_step", "rng_draw", "draw_sequence", "splitmix64", "derive_state",
    "derive_states", "check_state", "transition_matrix", "leap_table", "leap_draw",
]

# Exponents of primitive polynomials x^w + ... + 1 (XAPP052, "Efficient Shift Registers, LFSR
# Counters, and Long Pseudo-Random Sequence Generators", Table 3), widths 8..64.
LFSR_TAPS: dict[int, tuple[int, ...]] = {
    8: (8, 6, 5, 4), 9: (9, 5), 10: (10, 7), 11: (11, 9), 12: (12, 6, 4, 1), 13: (13, 4, 3, 1),
    14: (14, 5, 3, 1), 15: (15, 14), 16: (16, 15, 13, 4), 17: (17, 14), 18: (18, 11),
    19: (19, 6, 2, 1), 20: (20, 17), 21: (21, 19), 22: (22, 21), 23: (23, 18),
    24: (24, 23, 22, 17), 25: (25, 22), 26: (26, 6, 2, 1), 27: (27, 5, 2, 1), 28: (28, 25),
    29: (29, 27), 30: (30, 6, 4, 1), 31: (31, 28), 32: (32, 22, 2, 1), 33: (33, 20),
    34: (34, 27, 2, 1), 35: (35, 33), 36: (36, 25), 37: (37, 5, 4, 3, 2, 1), 38: (38, 6, 5, 1),
    39: (39, 35), 40: (40, 38, 21, 19), 41: (41, 38), 42: (42, 41, 20, 19), 43: (43, 42, 38, 37),
    44: (44, 43, 18, 17), 45: (45, 44, 42, 41), 46: (46, 45, 26, 25), 47: (47, 42),
    48: (48, 47, 21, 20), 49: (49, 40), 50: (50, 49, 24, 23), 51: (51, 50, 36, 35), 52: (52, 49),
    53: (53, 52, 38, 37), 54: (54, 53, 18, 17), 55: (55, 31), 56: (56, 55, 35, 34), 57: (57, 50),
    58: (58, 39), 59: (59, 58, 38, 37), 60: (60, 59), 61: (61, 60, 46, 45), 62: (62, 61, 6, 5),
    63: (63, 62), 64: (64, 63, 61, 60),
}
LFSR_MASKS: dict[int, int] = {w: sum(1 << (t - 1) for t in taps) for w, taps in LFSR_TAPS.items()}

RNG_LFSR, RNG_XORSHIFT32, RNG_XORSHIFT64 = 0, 1, 2

_U0, _U1 = np.uint64(0), np.uint64(1)
_M32 = np.uint64(0xFFFFFFFF)


@njit("uint64(uint64, int64, uint64)", cache=True, nogil=True)
def rng_step(state, kind, lfsr_mask):
    """One generator step (see the module docstring). ``kind`` is RNG_LFSR / RNG_XORSHIFT32 /
    RNG_XORSHIFT64; ``lfsr_mask`` is LFSR_MASKS[w] (ignored by xorshift)."""
    if kind == 0:
        return (state >> _U1) ^ (lfsr_mask * (state & _U1))
    if kind == 1:
        state ^= (state << np.uint64(13)) & _M32
        state ^= state >> np.uint64(17)
        return state ^ ((state << np.uint64(5)) & _M32)
    state ^= state << np.uint64(13)
    state ^= state >> np.uint64(7)
    return state ^ (state << np.uint64(17))


@njit("UniTuple(uint64, 2)(uint64, int64, uint64, int64, int64)", cache=True, nogil=True)
def rng_draw(state, kind, lfsr_mask, steps, u_shift):
    """One draw: ``steps`` steps, then ``u = state >> u_shift`` (u_shift = rng_bits - prob_bits).
    Returns (new_state, u)."""
    for _ in range(steps):
        state = rng_step(state, kind, lfsr_mask)
    return state, state >> np.uint64(u_shift)


class RngSpec:
    """The integers a kernel needs to run the generator of a config (kind code, mask, shifts)."""

    __slots__ = ("kind", "mask", "steps", "u_shift", "width")

    def __init__(self, cfg: HwConfig):
        self.width = cfg.rng_bits
        if cfg.rng == "lfsr":
            self.kind, self.mask = RNG_LFSR, LFSR_MASKS[cfg.rng_bits]
        else:
            self.kind = RNG_XORSHIFT32 if cfg.rng_bits == 32 else RNG_XORSHIFT64
            self.mask = 0
        self.steps = cfg.rng_steps
        self.u_shift = cfg.rng_bits - cfg.prob_bits


def rng_spec(cfg: HwConfig) -> RngSpec:
    """Kernel parameters of ``cfg``'s generator."""
    return RngSpec(cfg)


def check_state(state: int, cfg: HwConfig, *, name: str = "rng state") -> int:
    """Validate a generator state given by hand: an int in [1, 2**rng_bits - 1]."""
    top = (1 << cfg.rng_bits) - 1
    if isinstance(state, bool) or not isinstance(state, (int, np.integer)):
        raise ValueError(f"{name} must be an int in [1, {top}], got {state!r}")
    state = int(state)
    if state == 0:
        raise ValueError(f"{name} is 0: a {cfg.rng} generator stays at 0 forever; "
                         f"use a value in [1, {top}]")
    if not 0 < state <= top:
        raise ValueError(f"{name} must be in [1, {top}] for rng_bits={cfg.rng_bits}, got {state}")
    return state


def draw_sequence(state: int, cfg: HwConfig, n_draws: int) -> tuple[np.ndarray, int]:
    """The first ``n_draws`` uniform draws from ``state`` (reference path, one call per draw).

    Returns
    -------
    (np.ndarray of int64, shape (n_draws,), final state as int)
    """
    spec = rng_spec(cfg)
    s = np.uint64(check_state(state, cfg))
    out = np.empty(n_draws, dtype=np.int64)
    for i in range(n_draws):
        s, u = rng_draw(s, spec.kind, np.uint64(spec.mask), spec.steps, spec.u_shift)
        out[i] = int(u)
    return out, int(s)


_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def splitmix64(seed: int, stream: int) -> int:
    """SplitMix64 (Steele, Lea, Flood 2014) output for counter ``seed + (stream + 1) * golden``.

    Both arguments are non-negative ints; the result is a 64-bit unsigned int.
    """
    z = (seed + (stream + 1) * _GOLDEN) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def check_seed(seed: int) -> int:
    """A user seed: an int in [0, 2**64)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise ValueError(f"seed must be an int in [0, 2**64), got {seed!r}")
    return int(seed)


def derive_state(seed: int, stream: int, cfg: HwConfig) -> int:
    """Generator state of stream ``stream`` (e.g. chain index) for user seed ``seed``.

    ``1 + (splitmix64(seed, stream) mod (2**rng_bits - 1))``: always in [1, 2**rng_bits - 1].
    """
    seed = check_seed(seed)
    if stream < 0:
        raise ValueError(f"stream must be >= 0, got {stream}")
    return 1 + splitmix64(seed, stream) % ((1 << cfg.rng_bits) - 1)


def derive_states(seed: int, n_streams: int, cfg: HwConfig, first_stream: int = 0) -> np.ndarray:
    """States of streams ``first_stream .. first_stream + n_streams - 1`` as uint64, shape (n,)."""
    return np.array([derive_state(seed, first_stream + c, cfg) for c in range(n_streams)],
                    dtype=np.uint64)


def transition_matrix(cfg: HwConfig, steps: int | None = None) -> list[int]:
    """GF(2) matrix of ``steps`` generator steps (default ``rng_steps``), built from :func:`rng_step`.

    Returns
    -------
    list of int, length rng_bits
        ``columns[c]`` is the state reached from the basis state ``1 << c``; by linearity the state
        reached from s is the XOR of ``columns[c]`` over the set bits c of s.
    """
    spec = rng_spec(cfg)
    k = spec.steps if steps is None else steps
    columns = []
    for c in range(spec.width):
        s = np.uint64(1 << c)
        for _ in range(k):
            s = rng_step(s, spec.kind, np.uint64(spec.mask))
        columns.append(int(s))
    return columns


def leap_table(cfg: HwConfig) -> np.ndarray:
    """Byte tables of the ``rng_steps``-step map, derived from :func:`transition_matrix`.

    Returns
    -------
    np.ndarray of uint64, shape (ceil(rng_bits / 8), 256)
        ``table[k, v]`` is the image of ``v << 8k``; a draw's new state is the XOR over k of
        ``table[k, (state >> 8k) & 255]`` (GF(2) linearity). Equal to ``rng_steps`` calls of
        :func:`rng_step` (tested); the model uses it so that a draw costs the same for any
        ``rng_steps``.
    """
    columns = transition_matrix(cfg)
    n_bytes = (cfg.rng_bits + 7) // 8
    table = np.zeros((n_bytes, 256), dtype=np.uint64)
    for k in range(n_bytes):
        for bit in range(8):
            c = 8 * k + bit
            if c < cfg.rng_bits:
                with_bit = (np.arange(256) >> bit) & 1 == 1
                table[k, with_bit] ^= np.uint64(columns[c])
    return table


@njit("UniTuple(uint64, 2)(uint64, uint64[:, ::1], int64)", cache=True, nogil=True)
def leap_draw(state, table, u_shift):
    """One draw through :func:`leap_table`: returns (new_state, u), equal to :func:`rng_draw`."""
    new = np.uint64(0)
    for k in range(table.shape[0]):
        new ^= table[k, (state >> np.uint64(8 * k)) & np.uint64(255)]
    return new, new >> np.uint64(u_shift)
