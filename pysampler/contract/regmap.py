"""Programming-port address map and error flags shared by the cores, the testbenches and the docs.

An address is ``region << offset_bits | offset``. Data words are ``DATA_BITS`` wide; h and J are
written as two's complement integers that must fit ``weight_bits`` (sign-extended in the word).

========  ======  ==========================================================================
region    offset  meaning
========  ======  ==========================================================================
H         i       h[i], 0 <= i < n_pbits
REG       0       COUPLING: the one-hot core's j (= q(-2 lambda)), i.e. schedule entry 0's
                  coupling; ignored by the dense array
REG       1       N_ACTIVE: units in use, 1..n_pbits (reset: n_pbits)
REG       2       SEED_LO: low 32 bits of the generator state (commits when rng_bits <= 32)
REG       3       SEED_HI: high bits; writing it commits {SEED_HI, SEED_LO} (rng_bits > 32)
REG       4       CLEAR_ERR: any write clears the sticky error flags
REG       5       SCHED_LEN: entries T of the lambda schedule, 1..SCHEDULE_DEPTH (reset: 1;
                  one-hot core only)
REG       8 + 2t  SCHED_OFFSET[t]: bias offset of schedule entry t (reset: 0; one-hot core)
REG       9 + 2t  SCHED_COUPLING[t]: coupling of schedule entry t (t = 0 is COUPLING)
STATE     i       y[i] (0 or 1): the initial state for init = GIVEN (dense array only)
J         i<<b|j  J[i][j], b = index_bits(n_pbits) (dense array only)
========  ======  ==========================================================================

Init policies (the ``init`` port at start): ZEROS, RANDOM_ONEHOT, GIVEN (dense array: y as written
through STATE, or as the last run left it) and KEEP (one-hot core: go on from the state the last
run left, e.g. the "continue" read-out policy's extra sweeps; refused with ERR_BAD_START after
reset or after a write to COUPLING, a schedule coupling or N_ACTIVE since that run, which would
leave the core's running j * popcount stale).

Schedule: a run of S sweeps uses entry max(0, T - r) in the sweep with r sweeps left (this one
included), so the table is aligned with the run's end (:func:`pysampler.program.schedule_entries`);
the field is then h_i + SCHED_OFFSET[e] + SCHED_COUPLING[e] * (other units on).

A write the map does not hold, a value that does not fit, a zero seed, any write while busy, and a
start that is not accepted are ignored, and each sets its sticky bit in ``err``.
"""

from __future__ import annotations

from math import ceil, log2

from .program import MAX_SCHEDULE

__all__ = [
    "DATA_BITS", "REGION_H", "REGION_REG", "REGION_STATE", "REGION_J", "REG_COUPLING",
    "REG_N_ACTIVE", "REG_SEED_LO", "REG_SEED_HI", "REG_CLEAR_ERR", "REG_SCHED_LEN",
    "REG_SCHED_BASE", "SCHEDULE_DEPTH", "sched_offset_reg", "sched_coupling_reg", "INIT_ZEROS",
    "INIT_RANDOM_ONEHOT", "INIT_GIVEN", "INIT_KEEP", "INIT_CODES", "ERR_ADDR", "ERR_VALUE", "ERR_SEED",
    "ERR_BUSY_WRITE", "ERR_BUSY_START", "ERR_BAD_START", "ERR_BITS", "SWEEPS_BITS",
    "index_bits", "offset_bits", "address",
]

DATA_BITS = 32
SWEEPS_BITS = 16

REGION_H, REGION_REG, REGION_STATE, REGION_J = 0, 1, 2, 3
REG_COUPLING, REG_N_ACTIVE, REG_SEED_LO, REG_SEED_HI, REG_CLEAR_ERR = 0, 1, 2, 3, 4
REG_SCHED_LEN, REG_SCHED_BASE = 5, 8
SCHEDULE_DEPTH = MAX_SCHEDULE  # the contract's table size (pysampler.program)


def sched_offset_reg(entry: int) -> int:
    """REG offset of schedule entry ``entry``'s bias offset."""
    return REG_SCHED_BASE + 2 * entry


def sched_coupling_reg(entry: int) -> int:
    """REG offset of schedule entry ``entry``'s coupling."""
    return REG_SCHED_BASE + 2 * entry + 1


INIT_ZEROS, INIT_RANDOM_ONEHOT, INIT_GIVEN, INIT_KEEP = 0, 1, 2, 3
INIT_CODES = {"zeros": INIT_ZEROS, "random_onehot": INIT_RANDOM_ONEHOT, "given": INIT_GIVEN,
              "keep": INIT_KEEP}

ERR_ADDR = 1 << 0        # address outside the map (or a region this core does not have)
ERR_VALUE = 1 << 1       # value does not fit (h/J range, N_ACTIVE range, y not 0/1)
ERR_SEED = 1 << 2        # seed commit of 0: ignored, a generator at 0 never leaves it
ERR_BUSY_WRITE = 1 << 3  # programming write while busy: ignored
ERR_BUSY_START = 1 << 4  # start while busy: ignored, the running job goes on
ERR_BAD_START = 1 << 5   # start with sweeps = 0, an init policy this core lacks, or keep with no
                         # chain to keep: ignored
ERR_BITS = 6


def index_bits(n_pbits: int) -> int:
    """Width of a unit index (at least 1)."""
    return max(1, ceil(log2(n_pbits))) if n_pbits > 1 else 1


def offset_bits(n_pbits: int, dense: bool) -> int:
    """Width of the offset field: room for J[i][j] (dense) or h[i] and the registers (the
    one-hot core's schedule registers reach REG offset 8 + 2 * SCHEDULE_DEPTH - 1)."""
    bits = index_bits(n_pbits)
    if dense:
        return max(2 * bits, 3)
    return max(bits, (sched_coupling_reg(SCHEDULE_DEPTH - 1)).bit_length())


def address(region: int, offset: int, n_pbits: int, dense: bool) -> int:
    """Full programming address of (region, offset)."""
    return (region << offset_bits(n_pbits, dense)) | offset
