"""The streaming sampler's fixed-point format: logits, the log-mass accumulator M, its tables, the
interleaved reservoirs and the order in which generator draws are spent; beside it, the table of
the fixed-point Gumbel-max sampler at the same bit budget.

The stream (:mod:`pysampler.engines.stream`, RTL core ``pbit_stream``) reads the logits of a row
one at a time, in vocabulary order, and never stores them: it holds a running log-mass M and one
token per reservoir (weighted reservoir sampling, proof in ``docs/stream.md``). Its format,
:func:`stream_format`, is derived from the HwConfig with G = ``guard_bits``, A =
``acc_guard_bits``, F = ``lut_frac_bits``, P' = ``prob_bits``:

* host side: logits shifted by their maximum (softmax is unchanged by a shift) and divided by the
  temperature times the sigmoid's gain beta (compensated, as every program does: the stream
  samples softmax(z / T) at any beta), so every logit is <= 0 and the largest is exactly 0;
* logits: ``q_k = q'(z_k)`` with f' = frac_bits + G fractional bits and weight_bits + G total bits
  (the tree's leaf format); the quantizer saturates at the bottom (-2^(weight_bits + G - 1) LSBs,
  -32 logits at the default) and counts saturations; ``-inf`` saturates too (a masked token keeps
  e^-32 of the mass), NaN and ``+inf`` are errors;
* accumulator: M and the logits entering it carry f_M = f' + A fractional bits (the logits are
  shifted left by A: ``x_k = q_k << A``); its width is ``acc_bits = f_M + 1 + I`` with I =
  max(weight_bits + G - 1 - f', bits(ceil(ln max_vocab)) + 1) integer bits, so that every M in
  [min q, ln V + rounding] fits (checked: :func:`acc_range`);
* sigmoid LUT and log-add table: both address a difference of two accumulator values with the
  shift s = f_M - F (one table step = 2^-F logits). The sigmoid LUT is
  :func:`pysampler.contract.lut.build_lut` of :attr:`StreamFormat.acc` (an HwConfig with
  frac_bits = f_M, lut_shift = s, prob_bits = P' and the fewest address bits, at most 16, whose
  clamped edges lie past saturation: beta * field >= (P' + 1) ln 2); the log-add table is
  :func:`pysampler.contract.tree_format.logadd_table` of the same HwConfig:
  ``LA(a, b) = max(a, b) + LOGADD[min(|a - b| >> s, D)]``;
* draws: P' bits (``prob_bits`` of :attr:`StreamFormat.acc`); P' = min(prob_bits + 8, rng_bits,
  32) by default: every tail token's decision probability is a multiple of 2^-P', so V of them
  need V 2^-P' << the TV goal (``docs/stream.md``);
* lanes: L (1..64) logits arrive per beat (the RTL core's port is L logits wide): beat b holds
  logits bL .. bL + L - 1, logit k in lane k mod L. A row whose length V is not a multiple of L
  ends in a partial beat whose last lanes are empty (padding): an empty lane spends its draw and
  nothing else (no take, no change of M), so the law does not depend on L;
* reservoirs: C (1..128, a multiple of L; default 2L, what the RTL builds: each lane's
  accumulator is a two-stage pipeline, so it alternates between two reservoirs, beat by beat).
  Logit k goes to reservoir k mod C (with C = 2L: lane k mod L, phase (k div L) mod 2). Reservoir
  c's first logit is taken with no decision (a forced take); every later one replaces the held
  token when ``u < LUT[address(x_k - M_c)]`` and M_c becomes ``LA(M_c, x_k)``. After the last
  beat a tree of C - 1 merges folds the reservoirs into reservoir 0 (:func:`merge_levels`): with n
  slots left, h = ceil(n / 2) and slot i (i < n - h) takes slot i + h's token when
  ``u < LUT[address(M_{i+h} - M_i)]``, M_i becomes ``LA(M_i, M_{i+h})``, and n becomes h; an
  empty slot (V < C) loses without a decision. With C = 2L the first level merges each lane's
  two reservoirs and every later one folds the upper half of the lanes onto the lower half: each
  merge of a level is done by the lane of its left slot, all of a level in one step;
* draw order: exactly one draw per lane of every beat (forced takes and empty lanes included), in
  arrival order, then exactly one draw per merge (forced merges included), level by level and in
  slot order within a level: ceil(V / L) L + C - 1 draws per token. The generator runs on from
  token to token. L = 1 (C = 2) is the single-lane core's contract exactly.

Gumbel-max at the same bit budget (:mod:`pysampler.engines.gumbel`): the same logits q_k (f'
fractional bits), one P'-bit draw per logit, ``G_k = GUMBEL[u_k >> (P' - a)]`` from a table of
2^a entries (a = the stream's sigmoid LUT address bits, so both samplers hold one table of 2^a
entries) ``GUMBEL[i] = round_half_even(2^f' / beta * -ln(-ln((i + 1/2) / 2^a)))``; the token is the first
index of the largest ``q_k + G_k`` (ties: the earliest index wins).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .config import MAX_N_PBITS, MAX_PROB_BITS, HwConfig
from .regmap import Core, CoreMap
from .tree_format import logadd_table, saturating_addr_bits
from .validation import check_int

__all__ = ["DEFAULT_GUARD_BITS", "DEFAULT_ACC_GUARD_BITS", "DEFAULT_ACC_FRAC_BITS", "DEFAULT_LUT_FRAC_BITS",
           "DEFAULT_PROB_GUARD_BITS", "DEFAULT_RESERVOIRS", "DEFAULT_MAX_VOCAB", "MAX_RESERVOIRS",
           "DEFAULT_LANES", "MAX_LANES", "MAX_STREAM_VOCAB", "StreamFormat", "stream_format",
           "stream_clocks", "stream_draws", "stream_beats", "gumbel_table", "merge_order",
           "merge_levels", "acc_range"]

DEFAULT_GUARD_BITS = 5        # logits: f' = frac_bits + 5 (the tree's leaves)
DEFAULT_ACC_FRAC_BITS = 21    # accumulator: f_M = 21 fractional bits (A = 21 - f', capped)
DEFAULT_ACC_GUARD_BITS = None  # A derived from DEFAULT_ACC_FRAC_BITS
DEFAULT_LUT_FRAC_BITS = 8     # sigmoid and log-add tables: one entry per 2^-8 logits
DEFAULT_PROB_GUARD_BITS = 8   # draws: P' = prob_bits + 8 = 24 (capped by rng_bits and 32)
DEFAULT_LANES = 1             # L: logits per beat
MAX_LANES = 64
DEFAULT_RESERVOIRS = 2        # C = 2L: the RTL's two-stage accumulator pipeline per lane
DEFAULT_MAX_VOCAB = MAX_N_PBITS  # 65,536: a 16-bit token index
MAX_STREAM_VOCAB = 1 << 18    # 262,144: today's largest LLM vocabularies (Gemma's 256,000)
MAX_RESERVOIRS = 2 * MAX_LANES


@dataclass(frozen=True)
class StreamFormat:
    """The stream's widths and tables (module docstring).

    Attributes
    ----------
    logit : HwConfig
        The logits' quantizer: frac_bits = f', weight_bits = weight_bits + G.
    acc : HwConfig
        The accumulator's format and the tables': frac_bits = f_M, weight_bits = acc_bits,
        lut_shift = f_M - F, lut_addr_bits = a, prob_bits = P', n_pbits = min(max_vocab, 65,536)
        (an HwConfig's bound; the row length is ``max_vocab``), the HwConfig's generator.
        ``build_lut(acc)`` and ``logadd_table(acc)`` are the sigmoid LUT and the log-add table.
    acc_shift : int
        A: ``x_k = q_k << A``.
    reservoirs : int
        C.
    lanes : int
        L, logits per beat.
    max_vocab : int
        Longest row the format (and the core built for it) takes, 1 .. 262,144; the token index
        and N_ACTIVE widths derive from it.
    """

    logit: HwConfig
    acc: HwConfig
    acc_shift: int
    reservoirs: int
    lanes: int = DEFAULT_LANES
    max_vocab: int = DEFAULT_MAX_VOCAB

    @property
    def acc_bits(self) -> int:
        return self.acc.weight_bits

    @property
    def index_bits(self) -> int:
        """Width of a token index: bits(max_vocab - 1), at least 1."""
        return max(1, (self.max_vocab - 1).bit_length())

    def logadd(self) -> np.ndarray:
        """LOGADD[k], k = 0 .. D, in accumulator LSBs (int64)."""
        return logadd_table(self.acc)

    def regmap(self) -> CoreMap:
        """The stream core's register map for this format (N_ACTIVE in 1 .. max_vocab)."""
        return CoreMap.of(Core.STREAM, self.acc, n_units=self.max_vocab)


def stream_format(cfg: HwConfig, *, guard_bits: int = DEFAULT_GUARD_BITS,
                  acc_guard_bits: int | None = DEFAULT_ACC_GUARD_BITS,
                  lut_frac_bits: int = DEFAULT_LUT_FRAC_BITS, prob_bits: int | None = None,
                  reservoirs: int | None = None, lanes: int = DEFAULT_LANES,
                  max_vocab: int = DEFAULT_MAX_VOCAB) -> StreamFormat:
    """The stream's format for ``cfg`` (module docstring). ``prob_bits`` None: min(cfg.prob_bits +
    8, rng_bits, 32); ``acc_guard_bits`` None: A = 21 - f' (f_M = 21 fractional bits), at most
    what a 32-bit accumulator leaves; ``reservoirs`` None: 2 ``lanes``. A ValueError names the
    parameter and its range."""
    check_int("guard_bits", guard_bits, 0, 8)
    check_int("max_vocab", max_vocab, 1, MAX_STREAM_VOCAB)
    check_int("lanes", lanes, 1, MAX_LANES)
    reservoirs = 2 * lanes if reservoirs is None else reservoirs
    check_int("reservoirs", reservoirs, 1, MAX_RESERVOIRS)
    if reservoirs % lanes:
        raise ValueError(f"reservoirs must be a multiple of lanes = {lanes} (reservoir c belongs "
                         f"to lane c mod L), got {reservoirs}")
    top = min(cfg.rng_bits, MAX_PROB_BITS)
    p_bits = min(cfg.prob_bits + DEFAULT_PROB_GUARD_BITS, top) if prob_bits is None else prob_bits
    check_int(f"prob_bits (at most min(rng_bits, 32) = {top})", p_bits, 1, top)
    frac = cfg.frac_bits + guard_bits
    logit_bits = cfg.weight_bits + guard_bits
    int_bits = max(logit_bits - 1 - frac, math.ceil(math.log(max(max_vocab, 2))).bit_length() + 1)
    acc_high = 32 - 1 - int_bits - frac
    if acc_high < 0:
        raise ValueError(f"the stream format's logits need {frac} fractional bits (frac_bits + "
                         f"guard_bits), {int_bits} integer bits and a sign: more than its 32-bit "
                         f"accumulator holds; lower HwConfig.frac_bits or weight_bits (now "
                         f"{cfg.frac_bits} and {cfg.weight_bits}) or guard_bits ({guard_bits})")
    if acc_guard_bits is None:
        acc_guard_bits = min(max(DEFAULT_ACC_FRAC_BITS - frac, 0), acc_high)
    check_int(f"acc_guard_bits (at most {acc_high}: the accumulator is at most 32 bits)",
              acc_guard_bits, 0, acc_high)
    frac_m = frac + acc_guard_bits
    check_int(f"lut_frac_bits (at most the accumulator's {frac_m} fractional bits)",
              lut_frac_bits, 0, frac_m)
    shift = frac_m - lut_frac_bits
    addr_bits = saturating_addr_bits(2.0 ** -lut_frac_bits, p_bits, cfg.beta, "the stream format")
    logit = cfg.replace(weight_bits=logit_bits, frac_bits=frac)
    acc = cfg.replace(n_pbits=min(max_vocab, MAX_N_PBITS), weight_bits=frac_m + 1 + int_bits,
                      frac_bits=frac_m,
                      lut_addr_bits=addr_bits, lut_shift=shift, prob_bits=p_bits,
                      rng_steps=cfg.rng_steps if cfg.rng_steps != cfg.prob_bits or cfg.rng != "lfsr"
                      else None)
    fmt = StreamFormat(logit, acc, acc_guard_bits, reservoirs, lanes, max_vocab)
    fmt.logadd()  # its size is bounded and checked here (cached)
    return fmt


def merge_levels(reservoirs: int) -> list[list[tuple[int, int]]]:
    """The merge tree, level by level: with n slots left (n = C first), h = ceil(n / 2) and the
    level is (left slot i, right slot i + h) for i = 0 .. n - h - 1; then n = h. C - 1 merges in
    ceil(log2 C) levels. With C = 2L the first level pairs each lane's two reservoirs (c, c + L)."""
    levels, n = [], reservoirs
    while n > 1:
        h = (n + 1) // 2
        levels.append([(i, i + h) for i in range(n - h)])
        n = h
    return levels


def merge_order(reservoirs: int) -> list[tuple[int, int]]:
    """The merges in draw order (:func:`merge_levels` flattened); C - 1 of them."""
    return [pair for level in merge_levels(reservoirs) for pair in level]


def stream_beats(n_logits: int, lanes: int = DEFAULT_LANES) -> int:
    """Beats of a row of ``n_logits``: ceil(V / L) (the last one partial when L does not divide V)."""
    return -(-n_logits // lanes)


def stream_draws(n_logits: int, reservoirs: int, lanes: int = DEFAULT_LANES) -> int:
    """Generator draws per token: one per lane of every beat (empty lanes of a partial beat
    included), one per merge: ceil(V / L) L + C - 1."""
    return stream_beats(n_logits, lanes) * lanes + reservoirs - 1


def stream_clocks(n_logits: int, reservoirs: int, lanes: int = DEFAULT_LANES) -> int:
    """RTL clocks per token back to back, the source never stalling: the start clock, one beat a
    clock, the accumulator's second stage, 2 clocks per merge level, and the clock in which the
    host sees ``done`` and strobes the next start: ceil(V / L) + 2 ceil(log2 C) + 3 (V + 5 for
    L = 1, C = 2). ``done`` rises at the edge stream_clocks - 1 counting the start strobe's as
    the first (tested exactly in co-simulation)."""
    return stream_beats(n_logits, lanes) + 2 * len(merge_levels(reservoirs)) + 3


@lru_cache(maxsize=16)
def _gumbel_cached(index_bits: int, frac_bits: int, beta: float) -> tuple[int, ...]:
    centres = (np.arange(1 << index_bits, dtype=np.float64) + 0.5) / (1 << index_bits)
    return tuple(int(v) for v in np.rint(np.ldexp(-np.log(-np.log(centres)) / beta, frac_bits)))


def gumbel_table(fmt: StreamFormat) -> np.ndarray:
    """GUMBEL[i], i = 0 .. 2^a - 1 (int64, the logits' LSBs; non-decreasing), indexed by the top
    a = ``fmt.acc.lut_addr_bits`` bits of a P'-bit draw (module docstring). Divided by the gain
    beta, as the logits are (:func:`pysampler.engines.stream.stream_quantize`), so that
    argmax(q + G) samples softmax(z) at any beta."""
    bits = min(fmt.acc.lut_addr_bits, fmt.acc.prob_bits)
    return np.array(_gumbel_cached(bits, fmt.logit.frac_bits, fmt.logit.beta), dtype=np.int64)


def acc_range(fmt: StreamFormat) -> tuple[float, float]:
    """(lowest, highest) value of M in logits the accumulator must hold: the lowest logit and
    ln(max_vocab) + 1 (a margin for the rounding of V log-adds); both fit ``acc_bits`` signed."""
    return (-(2.0 ** (fmt.logit.weight_bits - 1 - fmt.logit.frac_bits)),
            math.log(fmt.max_vocab) + 1.0)
