"""Token samplers: each reduces the vocabulary, draws a token and states its own exact law.

==============  ==========================================================================
module          what
==============  ==========================================================================
``filtering``   temperature, top-k, top-p, min-p as a reduction (:class:`KeptVocab`)
``base``        :class:`TokenSampler` (the protocol: draw, ``law``, cost), :class:`TokenLaw`
``policy``      :class:`ChainPolicy`: lambda, sweeps, restarts, read-out, offset
``chain``       the attempt / restart / fallback procedure of the p-bit chains and its law
``softmax``     exact softmax (the reference)
``gibbs``       float64 p-bit Gibbs, ideal RNG
``hardware``    the bit-accurate emulated array (one-hot core)
``tree``        the p-bit decision tree (tree core)
``registry``    :func:`make_sampler` by name; every module here is registered on first use
==============  ==========================================================================
"""

# softmax first: the registry lists kinds in registration order (softmax, gibbs, hw, tree)
from .softmax import SoftmaxSampler  # noqa: I001
from .base import SamplerStats, TokenLaw, TokenSampler
from .filtering import KeptVocab, check_filters, reduce_vocab
from .gibbs import GibbsSampler
from .hardware import HardwareSampler
from .policy import DEFAULT_LAM, DEFAULT_SWEEPS, READOUTS, ChainPolicy
from .registry import make_sampler, register_sampler, sampler_kinds, unregister_sampler
from .tree import TreeSampler

__all__ = ["TokenSampler", "TokenLaw", "SamplerStats", "KeptVocab", "reduce_vocab",
           "check_filters", "ChainPolicy", "DEFAULT_LAM", "DEFAULT_SWEEPS", "READOUTS",
           "SoftmaxSampler", "GibbsSampler", "HardwareSampler", "TreeSampler", "make_sampler",
           "register_sampler", "unregister_sampler", "sampler_kinds"]
