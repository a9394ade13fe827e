"""A thermodynamic-sampling-unit (TSU) backend: one protocol that other code (a PyTorch layer, a
notebook, thrml users) calls to sample Ising models, independent binary layers and graph
programs, on the float reference or on the bit-accurate emulated hardware.

Layer: above the engines (it runs programs on them), below the experiments.
"""

from .backends import BACKENDS, EmulatedBackend, FloatBackend, get_backend
from .protocol import SampleResult, TSUBackend

__all__ = ["TSUBackend", "SampleResult", "FloatBackend", "EmulatedBackend", "BACKENDS",
           "get_backend"]
