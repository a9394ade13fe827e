"""Hardware configuration of the emulated p-bit array: one frozen, validated dataclass.

Every width and mode the bit-accurate model and the RTL share lives here; nothing else in the
project holds a hardware parameter.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .validation import check_int

__all__ = ["HwConfig", "PRESETS", "get_preset", "load_config", "RNG_KINDS", "SCHEDULES",
           "BETA_RANGE"]

RNG_KINDS = ("lfsr", "xorshift")
SCHEDULES = ("sequential",)
LFSR_WIDTHS = range(8, 65)
XORSHIFT_WIDTHS = (32, 64)
MAX_N_PBITS = 1 << 16
MAX_LUT_ADDR_BITS = 16
MAX_PROB_BITS = 32
MAX_RNG_STEPS = 64
BETA_RANGE = (2.0 ** -10, 2.0 ** 10)  # the sigmoid's gain: tables derived from it stay bounded


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    check_int(f"HwConfig.{name}", value, low, high)


@dataclass(frozen=True)
class HwConfig:
    """Widths and modes of one p-bit array. Frozen and validated on construction.

    Parameters
    ----------
    n_pbits : int
        Number of p-bits in the array (the top-k size for the token sampler), 1..65536.
    weight_bits : int
        Width of h and J: signed two's complement, 2..32 bits.
    frac_bits : int
        Fractional bits of h, J and the field: value = int / 2**frac_bits, 0..weight_bits-1.
    lut_addr_bits : int
        a: the sigmoid LUT has 2**a entries, indexed by a signed a-bit index, 1..16.
    lut_shift : int
        s: LUT index = clamp(field >> s, -2**(a-1), 2**(a-1)-1) (arithmetic shift),
        0..field_bits-1.
    prob_bits : int
        P: LUT entries are integers in [0, 2**P] (P+1 bits, so p = 0 and p = 1 both exist) and the
        uniform draw u is a P-bit integer; 1..min(32, rng_bits).
    beta : float
        Gain of the hardware sigmoid, folded into the LUT contents: entry k samples
        sigmoid(beta * field * 2**-frac_bits), in [2**-10, 2**10]. Programs compensate it
        (:mod:`pysampler.contract.program`): a program for the law exp(-b E) writes its fields
        scaled by b / beta, so in exact arithmetic no law depends on beta; it decides how much of
        the target one field LSB is (:attr:`logit_lsb`), i.e. resolution against range. Token
        samplers draw from softmax(z / T) at every beta.
    rng : str
        ``"lfsr"`` (Galois, maximal-length taps from :data:`pysampler.contract.rng.LFSR_TAPS`) or
        ``"xorshift"`` (Marsaglia xorshift32 / xorshift64).
    rng_bits : int
        Generator width: 8..64 for ``lfsr``, 32 or 64 for ``xorshift``.
    rng_steps : int or None
        Generator steps per draw, 1..64. ``None`` picks the default: ``prob_bits`` for ``lfsr``
        (P fresh bits per draw) and 1 for ``xorshift`` (one step already refreshes every bit).
    schedule : str
        Update order; ``"sequential"`` sweeps p-bit 0..n-1, one update per clock.
    """

    n_pbits: int = 64
    weight_bits: int = 10
    frac_bits: int = 4
    lut_addr_bits: int = 10
    lut_shift: int = 0
    prob_bits: int = 16
    beta: float = 1.0
    rng: str = "lfsr"
    rng_bits: int = 32
    rng_steps: int | None = None
    schedule: str = "sequential"

    def __post_init__(self) -> None:
        _check_int("n_pbits", self.n_pbits, 1, MAX_N_PBITS)
        _check_int("weight_bits", self.weight_bits, 2, 32)
        _check_int("frac_bits", self.frac_bits, 0, self.weight_bits - 1)
        _check_int("lut_addr_bits", self.lut_addr_bits, 1, MAX_LUT_ADDR_BITS)
        _check_int("lut_shift", self.lut_shift, 0, self.field_bits - 1)
        if self.rng not in RNG_KINDS:
            raise ValueError(f"HwConfig.rng must be one of {RNG_KINDS}, got {self.rng!r}")
        if self.rng == "lfsr":
            _check_int("rng_bits", self.rng_bits, LFSR_WIDTHS.start, LFSR_WIDTHS.stop - 1)
        elif self.rng_bits not in XORSHIFT_WIDTHS:
            raise ValueError(f"HwConfig.rng_bits must be one of {XORSHIFT_WIDTHS} for xorshift, "
                             f"got {self.rng_bits!r}")
        _check_int("prob_bits", self.prob_bits, 1, min(MAX_PROB_BITS, self.rng_bits))
        if self.rng_steps is None:
            object.__setattr__(self, "rng_steps", self.prob_bits if self.rng == "lfsr" else 1)
        _check_int("rng_steps", self.rng_steps, 1, MAX_RNG_STEPS)
        if isinstance(self.beta, bool) or not isinstance(self.beta, (int, float, np.floating)) \
                or not BETA_RANGE[0] <= self.beta <= BETA_RANGE[1]:
            raise ValueError(f"HwConfig.beta must be a float in [2**-10, 2**10] (the sigmoid's "
                             f"gain), got {self.beta!r}")
        object.__setattr__(self, "beta", float(self.beta))
        if self.schedule not in SCHEDULES:
            raise ValueError(f"HwConfig.schedule must be one of {SCHEDULES}, got {self.schedule!r}")

    # Derived widths -------------------------------------------------------------------------
    @property
    def field_bits(self) -> int:
        """Width of the field accumulator: weight_bits + ceil(log2(n_pbits + 1)); never wraps."""
        return self.weight_bits + math.ceil(math.log2(self.n_pbits + 1))

    @property
    def weight_min(self) -> int:
        """Most negative h / J integer, -2**(weight_bits-1)."""
        return -(1 << (self.weight_bits - 1))

    @property
    def weight_max(self) -> int:
        """Most positive h / J integer, 2**(weight_bits-1) - 1."""
        return (1 << (self.weight_bits - 1)) - 1

    @property
    def lsb(self) -> float:
        """Value of one h / J / field LSB in logit units, 2**-frac_bits."""
        return 2.0 ** -self.frac_bits

    @property
    def logit_lsb(self) -> float:
        """Value of one field LSB in the units of the law a program targets (logits for a token
        program, energy at b = 1 for an Ising one): beta * 2**-frac_bits, since programs write
        fields scaled by 1 / beta."""
        return self.beta * self.lsb

    @property
    def lut_size(self) -> int:
        """Number of LUT entries, 2**lut_addr_bits."""
        return 1 << self.lut_addr_bits

    def replace(self, **changes: Any) -> "HwConfig":
        """A copy with ``changes`` applied (validated again). ``rng_steps`` is re-derived when the
        RNG or prob_bits change and no explicit ``rng_steps`` is given."""
        base = self.to_dict()
        if "rng_steps" not in changes and ({"rng", "prob_bits"} & changes.keys()):
            base["rng_steps"] = None
        base.update(changes)
        return HwConfig(**base)

    # JSON round trip -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain dict (``rng_steps`` resolved)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "HwConfig":
        """Inverse of :meth:`to_dict`; anything but a dict, or an unknown key, is an error."""
        if not isinstance(data, dict):
            raise ValueError(f"an HwConfig must be given as an object of fields (a JSON object "
                             f"like {{\"n_pbits\": 64}}), got {_short_json(data)}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown HwConfig fields {unknown}; allowed: {sorted(names)}")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, *, source: str = "HwConfig JSON") -> "HwConfig":
        """Parse :meth:`to_json`'s text; ``source`` names it in errors (a file's path)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"{source} is not valid JSON: {err.msg} at line {err.lineno}, "
                             f"column {err.colno}") from None
        try:
            return cls.from_dict(data)
        except ValueError as err:
            raise ValueError(f"{source}: {err}") from None


def _short_json(value: Any) -> str:
    """``value`` as JSON text, cut to 40 characters (for error messages)."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


PRESETS: dict[str, HwConfig] = {
    # Smallest useful array: 16-bit LFSR with one step per draw (cheapest, most correlated).
    "tiny": HwConfig(n_pbits=16, weight_bits=8, frac_bits=3, lut_addr_bits=8, lut_shift=0,
                     prob_bits=12, rng="lfsr", rng_bits=16, rng_steps=1),
    # The design's starting point.
    "default": HwConfig(),
    # Generous widths, xorshift64, a coarse LUT step (lut_shift=2) over a wide field.
    "wide": HwConfig(n_pbits=64, weight_bits=16, frac_bits=8, lut_addr_bits=12, lut_shift=2,
                     prob_bits=24, rng="xorshift", rng_bits=64, rng_steps=1),
}


def get_preset(name: str) -> HwConfig:
    """The named preset; a ValueError lists the names on a miss."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown HwConfig preset {name!r}; choose one of {sorted(PRESETS)}") \
            from None


def load_config(name_or_path: str | Path) -> HwConfig:
    """A preset name or the path of a JSON file written by :meth:`HwConfig.to_json`."""
    if str(name_or_path) in PRESETS:
        return PRESETS[str(name_or_path)]
    path = Path(name_or_path)
    if path.suffix == ".json":
        if not path.is_file():
            raise ValueError(f"config file {str(path)!r} does not exist (or is not a file)")
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as err:
            raise ValueError(f"cannot read config file {str(path)!r}: {err}") from None
        return HwConfig.from_json(text, source=f"config file {str(path)!r}")
    raise ValueError(f"config {str(name_or_path)!r} is neither a preset {sorted(PRESETS)} "
                     f"nor a .json file")
