"""pysampler: bit-accurate emulation of p-bit hardware for LLM token sampling.

Public entry points::

    from pysampler import HwConfig, SoftmaxSampler, GibbsSampler, HardwareSampler
"""

from .config import PRESETS, HwConfig, get_preset, load_config
from .exact import ExactResult, exact_token_distribution
from .model import BitAccurateModel, Trace
from .program import DenseProgram, OnehotProgram, SaturationError, ising_program, onehot_program
from .samplers import GibbsSampler, HardwareSampler, SoftmaxSampler, TokenSampler
from .tree import TreeSampler

__all__ = [
    "HwConfig", "PRESETS", "get_preset", "load_config",
    "SoftmaxSampler", "GibbsSampler", "HardwareSampler", "TokenSampler", "TreeSampler",
    "BitAccurateModel", "Trace", "OnehotProgram", "DenseProgram", "onehot_program",
    "ising_program", "SaturationError", "ExactResult", "exact_token_distribution",
]
__version__ = "0.1.0"
