"""The hardware contract: every width, table and generator that the bit-accurate model, the RTL
(``hw/``), the test benches (``sim/``) and a host driver share, each defined once.

Pure Python (numpy, scipy, numba): importing it loads no sampler, no analysis and no torch, so the
Amaranth generator and the co-simulation can depend on it alone.

========================  ==================================================================
module                    what it defines
========================  ==================================================================
``config``                :class:`HwConfig`, presets, JSON round trip
``validation``            the one "integer in a range" check
``fixedpoint``            the quantizer (round half to even, counted saturation)
``lut``                   the sigmoid LUT: addressing and contents
``rng``                   LFSR / xorshift steps, draws, seed derivation, leap-forward matrices
``program``               one-hot and dense programs (h, J, lambda schedule), logit shifts
``tree_format``           the tree sampler's fixed-point format, log-add table and clock count
``regmap``                the programming-port register map, init codes, error flags
========================  ==================================================================
"""

from .config import PRESETS, HwConfig, get_preset, load_config

__all__ = ["HwConfig", "PRESETS", "get_preset", "load_config"]
