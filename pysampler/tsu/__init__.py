"""A thermodynamic-sampling-unit (TSU) backend: one protocol that other code (a PyTorch layer, a
notebook, thrml users) calls to sample Ising models, independent binary layers and graph
programs, on the float reference, the bit-accurate emulated hardware or thrml (the optional [thrml]
extra).

Layer: above the engines (it runs programs on them), below the experiments.
"""

from .anneal import AnnealSchedule, anneal, anneal_schedule, sweep_betas
from .backends import BACKENDS, EmulatedBackend, FloatBackend, get_backend
from .protocol import SampleResult, TSUBackend
from .thrml_backend import ThrmlBackend, thrml_available   # registers "thrml"; thrml loads lazily

__all__ = ["TSUBackend", "SampleResult", "FloatBackend", "EmulatedBackend", "ThrmlBackend",
           "BACKENDS", "get_backend", "thrml_available", "AnnealSchedule", "anneal_schedule",
           "sweep_betas", "anneal"]
