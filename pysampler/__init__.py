"""pysampler: bit-accurate emulation of p-bit hardware for LLM token sampling.

Public entry points::

    from pysampler import HwConfig, SoftmaxSampler, GibbsSampler, HardwareSampler, TreeSampler
    from pysampler import ChainPolicy, make_sampler, exact_token_distribution

Layers (imports flow down only; docs/architecture.md): ``contract`` (HwConfig, quantizer, LUT,
RNG, programs, register map) <- ``engines`` (bit-accurate array, float references, tree, exact
propagation) <- ``samplers`` (token samplers, chain policy, registry) <- ``analysis`` (exact
evaluator, metrics) <- ``experiments`` and ``llm`` <- ``cli``.

The names below are loaded on first use, so ``import pysampler.contract`` (what ``hw/`` and
``sim/`` do) loads no sampler and no analysis.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it
_EXPORTS = {
    "HwConfig": "contract.config", "PRESETS": "contract.config", "get_preset": "contract.config",
    "load_config": "contract.config",
    "OnehotProgram": "contract.program", "DenseProgram": "contract.program",
    "onehot_program": "contract.program", "ising_program": "contract.program",
    "SaturationError": "contract.program",
    "BitAccurateModel": "engines.array", "Trace": "engines.array",
    "TokenSampler": "samplers.base", "TokenLaw": "samplers.base",
    "SoftmaxSampler": "samplers.softmax", "GibbsSampler": "samplers.gibbs",
    "HardwareSampler": "samplers.hardware", "TreeSampler": "samplers.tree",
    "ChainPolicy": "samplers.policy", "make_sampler": "samplers.registry",
    "sampler_kinds": "samplers.registry",
    "ExactResult": "analysis.exact", "exact_token_distribution": "analysis.exact",
}

__all__ = sorted(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pysampler' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
