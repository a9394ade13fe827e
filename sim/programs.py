"""The programs the co-simulation runs, free of any simulator: random one-hot and dense programs
and the edge programs (all-zero, n = 1, saturating fields, extreme couplings, full schedule tables).
The cocotb checks (:mod:`sim.checks`) and the bulk mode (:mod:`sim.bulk`) both draw from here;
each program gives its own bus writes (``program.register_writes()``)."""

from __future__ import annotations

import numpy as np

from pysampler.contract.config import HwConfig
from pysampler.contract.program import MAX_SCHEDULE, DenseProgram, OnehotProgram, onehot_program
from pysampler.contract.rows import synthetic_logits

__all__ = ["random_onehot_program", "random_dense_program", "onehot_edges", "dense_edges"]


def random_onehot_program(cfg: HwConfig, rng: np.random.Generator, n: int) -> OnehotProgram:
    """A random one-hot program; half of them carry a lambda schedule of 2..MAX_SCHEDULE
    random entries."""
    scale = rng.choice([0.3, 2.0, 8.0, 30.0])
    entries = 1 if rng.random() < 0.5 else int(rng.integers(2, MAX_SCHEDULE + 1))
    lams = np.exp(rng.uniform(np.log(0.02), np.log(40.0), entries))
    return onehot_program(rng.normal(0.0, scale, n), tuple(lams), 1.0, cfg)  # may saturate


def random_dense_program(cfg: HwConfig, rng: np.random.Generator, n: int) -> DenseProgram:
    span = int(rng.choice([4, 64, cfg.weight_max]))
    lo, hi = max(cfg.weight_min, -span), min(cfg.weight_max, span)
    upper = np.triu(rng.integers(lo, hi + 1, (n, n)), 1)
    return DenseProgram(cfg, rng.integers(lo, hi + 1, n), upper + upper.T)


def onehot_edges(cfg: HwConfig) -> list[OnehotProgram]:
    n = cfg.n_pbits
    lo, hi = cfg.weight_min, cfg.weight_max

    def prog(h, j, offsets=(), couplings=()):
        h = np.asarray(h, dtype=np.int64)
        return OnehotProgram(cfg, h, int(j), np.zeros(h.size), 1.0, bias_offsets=offsets,
                             couplings=couplings)

    depth = MAX_SCHEDULE
    extremes = tuple(lo if t % 2 else hi for t in range(depth))

    return [
        prog(np.zeros(n), 0),                        # all-zero program: p = 1/2 everywhere
        prog([hi], 0), prog([lo], 0), prog([0], lo),  # n = 1; LUT entries at 2**P and 0
        prog(np.full(n, hi), lo),                    # saturating fields, most negative coupling
        prog(np.full(n, lo), hi),                    # most positive coupling (not a one-hot program)
        prog(np.full(n, hi), hi),                    # fields beyond the LUT's top
        prog(np.where(np.arange(n) % 2, lo, hi), lo),
        onehot_program(synthetic_logits(n), 0.01, 1.0, cfg),                 # tiny lambda
        onehot_program(synthetic_logits(n), -lo * cfg.lsb / 2, 1.0, cfg),    # largest lambda
        # full schedule tables with the extreme offsets and couplings: the widest fields
        prog(np.full(n, hi), extremes[-1], extremes, extremes),
        prog(np.full(n, lo), extremes[-1], extremes[::-1], extremes),
        onehot_program(synthetic_logits(n), tuple(np.linspace(0.5, 4.0, depth)), 1.0, cfg),
    ]


def dense_edges(cfg: HwConfig) -> list[DenseProgram]:
    n = cfg.n_pbits
    lo, hi = cfg.weight_min, cfg.weight_max
    off = ~np.eye(n, dtype=bool)
    return [
        DenseProgram(cfg, np.zeros(n, np.int64), np.zeros((n, n), np.int64)),
        DenseProgram(cfg, np.array([hi]), np.zeros((1, 1), np.int64)),
        DenseProgram(cfg, np.array([lo]), np.zeros((1, 1), np.int64)),
        DenseProgram(cfg, np.full(n, hi), np.where(off, hi, 0)),   # fields far past the LUT top
        DenseProgram(cfg, np.full(n, lo), np.where(off, lo, 0)),   # and past the bottom
        DenseProgram(cfg, np.full(n, hi), np.where(off, lo, 0)),   # frustrated, extreme J
    ]
