"""The TSU protocol and what it returns.

Conventions (every backend)
---------------------------
* **Ising** (:meth:`TSUBackend.sample_ising`): spins m in {-1, +1}, energy
  E(m) = -sum_i h_i m_i - sum_{i<j} J_ij m_i m_j (J symmetric, zero diagonal; the sum over
  pairs counts each edge once), target law exp(-beta E(m)) / Z. ``beta`` > 0, or a per-sweep
  table of up to 16 entries (annealing: entry t for ``beta_hold`` sweeps, the last one after).
* **Binary layer** (:meth:`TSUBackend.sample_binary_layer`): independent p-bits, bits in {0, 1},
  P(bit = 1) = sigmoid(beta * logit); logits (..., n) in, samples (num_samples, ..., n) out;
  :meth:`TSUBackend.binary_layer_law` gives the backend's exact P(bit = 1) (emulated: the LUT at
  the quantized field, an ideal generator), so that a layer can state its law.
* **Custom** (:meth:`TSUBackend.sample_custom`): a
  :class:`~pysampler.contract.graph.GraphProgram`, samples in its own convention (spins when it
  was built with ``spins=True``), energies of its float model in that convention.
* **Chains and seeds**: ``batch_size`` independent chains, each run ``num_steps`` sweeps (one
  update of every unit, colour by colour) from ``init_state`` (default: all bits 0, i.e. spins
  -1), and its final state is its sample. The same seed gives the same samples. On the emulated
  hardware chain c's unit i has its own generator at ``derive_state(seed, c * n + i)``; the float
  backend draws from numpy's PCG64 seeded with ``seed``.
* **Arrays** are numpy; torch tensors (CPU) are accepted wherever an array is (``np.asarray``),
  and a torch layer converts the results back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["TSUBackend", "SampleResult"]


@dataclass(frozen=True)
class SampleResult:
    """Samples and what the backend reports about them.

    Attributes
    ----------
    samples : np.ndarray of int8
        (batch_size, n) spins +-1 (Ising, spin programs) or bits 0/1 (QUBO programs), or
        (num_samples, ..., n) bits for a binary layer.
    energies : np.ndarray of float64
        The energy of each sample under the model as given (Ising: E(m); custom: the program's
        float model in its convention); for a binary layer -sum(logit * bit) per sample row
        (shape samples.shape[:-1]).
    spins : bool
        Whether ``samples`` are spins (+-1) or bits (0/1).
    n_saturated : int
        Values the fixed-point program clamped (0 for the float backend).
    betas : tuple of float
        The inverse temperatures the backend realised per schedule entry (emulated: what the
        integer scaling implements, ``GraphProgram.realised_betas``).
    info : dict
        Backend details (the program, the config), for inspection.
    """

    samples: np.ndarray
    energies: np.ndarray
    spins: bool
    n_saturated: int = 0
    betas: tuple[float, ...] = ()
    info: dict = field(default_factory=dict)


@runtime_checkable
class TSUBackend(Protocol):
    """What every backend implements (see the module docstring for the conventions)."""

    name: str

    def sample_ising(self, J: Any, h: ArrayLike | None, beta: float | Sequence[float],
                     num_steps: int, batch_size: int, init_state: ArrayLike | None = None,
                     seed: int = 0, **options: Any) -> SampleResult:
        """Sample an Ising model (J dense, scipy.sparse or networkx; h (n,))."""

    def sample_binary_layer(self, logits: ArrayLike, beta: float, num_samples: int,
                            seed: int = 0) -> SampleResult:
        """Independent p-bits: logits (..., n) -> bits (num_samples, ..., n)."""

    def binary_layer_law(self, logits: ArrayLike, beta: float) -> np.ndarray:
        """The exact law of :meth:`sample_binary_layer`: P(bit = 1), the logits' shape."""

    def sample_custom(self, program: Any, num_steps: int, batch_size: int,
                      init_state: ArrayLike | None = None, seed: int = 0) -> SampleResult:
        """Run a graph program."""
