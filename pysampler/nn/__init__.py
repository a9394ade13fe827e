"""p-bits inside networks (torch): binary stochastic layers with straight-through gradients,
p-bit noise and dropout, thermal linear layers, p-bit attention for a GPT-2, and the digits
classifier with its uncertainty, each on the float reference or the bit-accurate emulated
hardware (any HwConfig) through the TSU backend.

Layer: beside ``llm`` (above the TSU backend, the samplers and the analysis), below the
experiments; it imports torch, so nothing below it may import it.
"""

from .binary import (BinaryStochastic, anneal, beta_schedule, pbit_modules, set_beta,
                     use_backend)
from .source import PBitSource
from .straight_through import StraightThrough, straight_through

__all__ = ["PBitSource", "BinaryStochastic", "StraightThrough", "straight_through", "anneal",
           "set_beta", "beta_schedule", "pbit_modules", "use_backend"]
