"""The TSU protocol on thrml (Extropic's THRML, on JAX): the optional ``[thrml]`` extra.

A graph program's float model runs as a thrml Ising model: bits y = (s + 1) / 2 of thrml's
spins s, so the QUBO weights (h', J') become the spin weights J_s = J' / 4 and
h_s = h' / 2 + sum_j J'_ij / 4 (``spin_weights``), and thrml's law exp(beta (sum h_s s +
sum J_s s s)) is exp(-beta E(y)) / Z, the float backend's law. The program's colour classes are
thrml's free blocks in colour order (clamped units a clamped block), so one thrml sweep is one
sweep of ours; each schedule entry runs its sweeps with the model built at that entry's
inverse temperature (beta_t times ``fit_scale``, as the float backend), the state carried on.
Chains are ``jax.vmap``-ed, each with its own key split from ``seed``; numbers are float32
(JAX's default). thrml is imported on first use only: without it, :func:`thrml_available` is
False and :class:`ThrmlBackend` refuses to be built, naming the extra.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from ..contract.config import HwConfig
from ..contract.graph import GraphProgram
from ..contract.rng import check_seed
from ..contract.validation import check_int
from ..engines.chromatic import ChromaticModel, edgeless_law
from .backends import BACKENDS, _Backend

__all__ = ["ThrmlBackend", "ThrmlEngine", "thrml_available", "thrml_runner", "spin_weights",
           "THRML_MISSING"]

THRML_MISSING = ("the thrml backend needs the optional [thrml] extra "
                 "(pip install -e '.[thrml]', or `make bench-thrml`)")


def thrml_available() -> bool:
    """Whether thrml and JAX import here."""
    try:
        import thrml  # noqa: F401  (first: without the extra this fails at once)
        import equinox  # noqa: F401
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


def spin_weights(program: GraphProgram) -> tuple[np.ndarray, np.ndarray]:
    """(h_s (n,), J_s (E,)) float64: the program's float QUBO model in spins s = 2y - 1, up to
    a constant: E(y) = const - sum_i h_s,i s_i - sum_e J_s,e s_i s_j."""
    edges = program.topology.edges
    row = np.bincount(edges.ravel(), weights=np.repeat(program.J_float, 2),
                      minlength=program.n) if edges.size else np.zeros(program.n)
    return program.h_float / 2 + row / 4, program.J_float / 4


class _ThrmlModel:
    """The thrml nodes, blocks and a compiled runner of one program (built once)."""

    def __init__(self, program: GraphProgram):
        import equinox as eqx
        import jax
        import jax.numpy as jnp
        from thrml import Block, BlockGibbsSpec, SamplingSchedule, SpinNode, sample_states
        from thrml.factor import FactorSamplingProgram
        from thrml.models import SpinEBMFactor, SpinGibbsConditional

        self.program = program
        n = program.n
        self.nodes = [SpinNode() for _ in range(n)]
        held = program.clamped
        self.free = [np.asarray([i for i in units if not held[i]], dtype=np.int64)
                     for units in program.topology.classes()]
        self.free = [units for units in self.free if units.size]
        self.held = np.flatnonzero(held)
        free_blocks = [Block([self.nodes[i] for i in units]) for units in self.free]
        clamped_blocks = [Block([self.nodes[i] for i in self.held])] if self.held.size else []
        self.observed = np.concatenate(self.free) if self.free else np.zeros(0, np.int64)
        observe = [Block([self.nodes[i] for i in self.observed])]
        h_s, J_s = spin_weights(program)
        edges = program.topology.edges
        spec = BlockGibbsSpec(free_blocks, clamped_blocks,
                              {SpinNode: jax.ShapeDtypeStruct((), jnp.bool_)})
        h32, J32 = jnp.asarray(h_s, jnp.float32), jnp.asarray(J_s, jnp.float32)
        all_nodes = Block(self.nodes)
        ends = (Block([self.nodes[i] for i in edges[:, 0]]),
                Block([self.nodes[j] for j in edges[:, 1]])) if edges.size else None
        held_state = [jnp.asarray(program.clamp_values[self.held].astype(bool))] \
            if self.held.size else []

        def build(beta):
            factors = [SpinEBMFactor([all_nodes], beta * h32)]
            if ends is not None:
                factors.append(SpinEBMFactor(list(ends), beta * J32))
            return FactorSamplingProgram(spec, [SpinGibbsConditional() for _ in free_blocks],
                                         factors, [])

        @eqx.filter_jit
        def run(keys, beta, init, sweeps):
            sampler = build(beta)
            schedule = SamplingSchedule(n_warmup=sweeps, n_samples=1, steps_per_sample=1)

            def one(key, state):
                return sample_states(key, sampler, schedule, state, held_state, observe)[0][0]

            return jax.vmap(one)(keys, init)

        self._run, self._jax, self._jnp = run, jax, jnp

    def sweep(self, keys, beta: float, bits: np.ndarray, sweeps: int) -> np.ndarray:
        """``sweeps`` sweeps of every chain at ``beta`` from bits (B, n); the new bits."""
        if not self.free:       # every unit held: nothing moves, the generators aside
            return bits
        jnp = self._jnp
        init = [jnp.asarray(bits[:, units].astype(bool)) for units in self.free]
        out = np.asarray(self._run(keys, jnp.float32(beta), init, int(sweeps)))
        new = bits.copy()
        new[:, self.observed] = out.astype(np.uint8)
        return new


class ThrmlEngine:
    """B chains of a graph program's float model on thrml: ``run(sweeps)`` and ``y`` (uint8
    (B, n)), as the chromatic engines. ``init``: "zeros" or 0/1 bits (n,) or (B, n); clamped
    units take their value. The same seed gives the same samples."""

    def __init__(self, program: GraphProgram, n_chains: int = 1, *, seed: int = 0,
                 init: str | ArrayLike = "zeros"):
        if getattr(program, "kernel", None) != "chromatic":
            raise TypeError(f"program must be a graph program (kernel 'chromatic'), got "
                            f"{type(program).__name__}")
        if not thrml_available():
            raise ImportError(THRML_MISSING)
        import jax

        self.program = program
        self.n_chains = check_int("n_chains", n_chains, 1)
        seed = check_seed(seed)
        self._key = jax.random.fold_in(jax.random.key(seed & 0xFFFFFFFF), seed >> 32)
        self._model = _ThrmlModel(program)
        self.y = np.zeros((self.n_chains, program.n), dtype=np.uint8)
        ChromaticModel.reset(self, init)   # the same init rules

    @property
    def n(self) -> int:
        return self.program.n

    def run(self, sweeps: int) -> None:
        """Advance every chain by ``sweeps`` sweeps, entry t of the schedule at beta_t times
        ``fit_scale``."""
        import jax

        sweeps = check_int("sweeps", sweeps, 1)
        p = self.program
        entries = p.schedule_entries(sweeps)
        starts = np.flatnonzero(np.diff(entries, prepend=-1))
        for a, b in zip(starts, np.append(starts[1:], sweeps)):
            self._key, sub = jax.random.split(self._key)
            keys = jax.random.split(sub, self.n_chains)
            beta = p.betas[entries[a]] * p.fit_scale
            self.y = self._model.sweep(keys, beta, self.y, int(b - a))


def thrml_runner(program: GraphProgram, chains: int, sweeps: int, seed: int = 0
                 ) -> Callable[[], np.ndarray] | None:
    """A function that runs ``sweeps`` sweeps of ``chains`` fresh chains (all bits 0) on thrml
    and returns their spins (int8 (chains, n)), the keys moving on each call; None without the
    [thrml] extra. For the benchmark: the model and its compiled runner are built once."""
    if not thrml_available():
        return None
    engine = ThrmlEngine(program, chains, seed=seed)
    zeros = engine.y.copy()

    def draw() -> np.ndarray:
        engine.y = zeros.copy()
        engine.run(sweeps)
        return program.spins_of(engine.y)

    return draw


class ThrmlBackend(_Backend):
    """The TSU protocol on thrml: the float model (as :class:`FloatBackend`), sampled by
    thrml's block Gibbs on JAX in float32. ``cfg`` sizes nothing (the program is still built
    with it). Needs the optional [thrml] extra."""

    name = "thrml"

    def __init__(self, cfg: HwConfig | None = None, *, colouring: str = "dsatur"):
        if not thrml_available():
            raise ImportError(THRML_MISSING)
        super().__init__(cfg, colouring=colouring)

    def _engine(self, program, batch, seed, y0):
        return ThrmlEngine(program, batch, seed=seed, init=y0)

    def _layer_sweep(self, program, count, seed):
        engine = ThrmlEngine(program, count, seed=seed)
        engine.run(1)
        return engine.y

    def _layer_law(self, program):
        return edgeless_law(program, float_model=True)


BACKENDS["thrml"] = ThrmlBackend
