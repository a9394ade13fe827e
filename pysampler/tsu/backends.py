"""The backends behind :class:`~pysampler.tsu.protocol.TSUBackend`: the float reference and the
bit-accurate emulated hardware (thrml's: :mod:`pysampler.tsu.thrml_backend`, the optional
[thrml] extra).

Both build the same :class:`~pysampler.contract.graph.GraphProgram` and differ only in the engine
that runs it (:class:`~pysampler.engines.chromatic.ChromaticFloat` or
:class:`~pysampler.engines.chromatic.ChromaticModel`), so a comparison between them isolates what
fixed point, the LUT and the LFSRs cost.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from ..contract.config import HwConfig
from ..contract.graph import COLOURINGS, FITS, GraphProgram, MAX_GRAPH_UNITS, graph_program
from ..contract.rng import check_seed
from ..contract.validation import check_int
from ..engines.chromatic import (ChromaticFloat, ChromaticModel, edgeless_law, edgeless_sweep,
                                 edgeless_sweep_float)
from .protocol import SampleResult

__all__ = ["FloatBackend", "EmulatedBackend", "BACKENDS", "get_backend", "MAX_LAYER_DRAWS",
           "MAX_BATCH_UNITS", "MAX_STEPS"]

MAX_LAYER_DRAWS = 1 << 24   # num_samples * units of one sample_binary_layer call (memory bound)
MAX_BATCH_UNITS = 1 << 28   # chains x units of one sample_ising / sample_custom call
MAX_STEPS = (1 << 31) - 1   # sweeps of one call


def _initial_bits(init_state: ArrayLike | None, n: int, batch: int, spins: bool) -> np.ndarray:
    """``init_state`` ((n,) or (batch, n); spins +-1 or bits 0/1) as bits uint8 (batch, n)."""
    if init_state is None:
        return np.zeros((batch, n), dtype=np.uint8)
    arr = np.asarray(init_state)
    if arr.shape not in ((n,), (batch, n)):
        raise ValueError(f"init_state must have shape ({n},) or ({batch}, {n}), got {arr.shape}")
    allowed = (-1, 1) if spins else (0, 1)
    if not np.isin(arr, allowed).all():
        raise ValueError(f"init_state must hold only {allowed} "
                         f"({'spins' if spins else 'bits'})")
    bits = (arr + 1) // 2 if spins else arr
    return np.broadcast_to(bits.astype(np.uint8), (batch, n)).copy()


def _check_logits(logits: ArrayLike) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ValueError(f"logits must have shape (..., n) with n >= 1, got {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError("logits contain NaN or inf; all values must be finite")
    if z.size > MAX_GRAPH_UNITS:
        raise ValueError(f"logits hold {z.size} p-bits; at most {MAX_GRAPH_UNITS} per call")
    return z


def _check_beta(beta: float) -> float:
    try:
        b = float(beta)
    except (TypeError, ValueError):
        raise ValueError(f"beta must be a finite number > 0, got {beta!r}") from None
    if not np.isfinite(b) or b <= 0:
        raise ValueError(f"beta must be a finite number > 0, got {beta!r}")
    return b


class _Backend:
    """What the two backends share: building programs and shaping the results."""

    name = ""

    def __init__(self, cfg: HwConfig | None = None, *, colouring: str | ArrayLike = "dsatur"):
        if cfg is not None and not isinstance(cfg, HwConfig):
            raise TypeError(f"cfg must be an HwConfig, got {type(cfg).__name__}")
        if isinstance(colouring, str) and colouring not in COLOURINGS:
            raise ValueError(f"colouring must be one of {COLOURINGS} or an array of n colours, "
                             f"got {colouring!r}")
        self.cfg = HwConfig() if cfg is None else cfg
        self.colouring = colouring

    def _engine(self, program: GraphProgram, batch: int, seed: int, y0: np.ndarray):
        raise NotImplementedError

    def _program_options(self) -> dict:
        return {}

    def _run(self, program: GraphProgram, num_steps: int, batch_size: int,
             init_state: ArrayLike | None, seed: int) -> np.ndarray:
        steps = check_int("num_steps", num_steps, 1, MAX_STEPS)
        batch = check_int("batch_size", batch_size, 1, max(1, MAX_BATCH_UNITS // program.n))
        seed = check_seed(seed)
        y0 = _initial_bits(init_state, program.n, batch, program.spins)
        engine = self._engine(program, batch, seed, y0)
        engine.run(steps)
        return engine.y.copy()

    def _result(self, program: GraphProgram, bits: np.ndarray, betas: Sequence[float]
                ) -> SampleResult:
        samples = program.spins_of(bits) if program.spins else bits.astype(np.int8)
        return SampleResult(samples, program.energy(bits), program.spins,
                            self._saturated(program), tuple(float(b) for b in betas),
                            {"program": program, "cfg": self.cfg, "backend": self.name})

    def _saturated(self, program: GraphProgram) -> int:
        return 0

    def _betas(self, program: GraphProgram) -> Sequence[float]:
        return program.betas

    # --- the protocol ---
    def sample_ising(self, J: Any, h: ArrayLike | None, beta: float | Sequence[float],
                     num_steps: int, batch_size: int, init_state: ArrayLike | None = None,
                     seed: int = 0, *, beta_hold: int = 1, theta: float = 0.0,
                     clamp: dict | None = None) -> SampleResult:
        """Sample the Ising model (J, h) at ``beta`` (or an annealing table, ``beta_hold``
        sweeps an entry): ``batch_size`` chains of ``num_steps`` sweeps from ``init_state``
        (spins; default all -1). Returns spins (batch_size, n) and their energies E(m)."""
        program = graph_program(J, h, self.cfg, spins=True, beta=beta, theta=theta,
                                clamp=clamp, colouring=self.colouring, beta_hold=beta_hold,
                                **self._program_options())
        return self.sample_custom(program, num_steps, batch_size, init_state, seed)

    def _layer_program(self, logits: ArrayLike, beta: float) -> tuple[np.ndarray, GraphProgram]:
        """The checked logits and the edgeless bits program of a binary layer (one unit per
        logit, flattened in C order, at target inverse temperature ``beta``)."""
        z = _check_logits(logits)
        b = _check_beta(beta)
        flat = z.reshape(-1)
        size = flat.size
        program = graph_program(sp.csr_matrix((size, size)), flat, self.cfg, spins=False,
                                beta=b, colouring=np.zeros(size, dtype=np.int64),
                                **self._program_options())
        return z, program

    def _layer_sweep(self, program: GraphProgram, count: int, seed: int) -> np.ndarray:
        raise NotImplementedError

    def _layer_law(self, program: GraphProgram) -> np.ndarray:
        raise NotImplementedError

    def sample_binary_layer(self, logits: ArrayLike, beta: float, num_samples: int,
                            seed: int = 0) -> SampleResult:
        """Independent p-bits, P(bit = 1) = sigmoid(beta * logit): logits (..., n) ->
        bits (num_samples, ..., n) int8, each sample from fresh draws (one sweep of an edgeless
        program per sample, sample s on chain s: the engines' ``edgeless_sweep*``, bit for bit
        what the chromatic engines give). At most :data:`MAX_LAYER_DRAWS` bits per call."""
        count = check_int("num_samples", num_samples, 1)
        seed = check_seed(seed)
        z, program = self._layer_program(logits, beta)
        if count * z.size > MAX_LAYER_DRAWS:
            raise ValueError(f"num_samples * logits.size = {count} * {z.size} exceeds "
                             f"{MAX_LAYER_DRAWS:,} p-bit draws per call; split the call")
        bits = self._layer_sweep(program, count, seed)
        samples = bits.reshape((count, *z.shape)).astype(np.int8)
        energies = -(samples * z).sum(axis=-1)
        return SampleResult(samples, energies, False, self._saturated(program),
                            tuple(float(v) for v in self._betas(program)),
                            {"program": program, "cfg": self.cfg, "backend": self.name})

    def binary_layer_law(self, logits: ArrayLike, beta: float) -> np.ndarray:
        """The exact law of :meth:`sample_binary_layer`: P(bit = 1) of every logit, float64 of
        the logits' shape (float: sigmoid(beta * logit); emulated: the LUT entry at the
        quantized field over 2**prob_bits, an ideal generator)."""
        z, program = self._layer_program(logits, beta)
        return self._layer_law(program).reshape(z.shape)

    def sample_custom(self, program: GraphProgram, num_steps: int, batch_size: int,
                      init_state: ArrayLike | None = None, seed: int = 0) -> SampleResult:
        """Run a graph program: samples in its convention, energies of its float model."""
        if getattr(program, "kernel", None) != "chromatic":
            raise TypeError(f"program must be a graph program (graph_program), got "
                            f"{type(program).__name__}")
        bits = self._run(program, num_steps, batch_size, init_state, seed)
        return self._result(program, bits, self._betas(program))


class FloatBackend(_Backend):
    """The float reference: float64 conditionals sigmoid(b_t I), an ideal RNG (PCG64). ``cfg``
    only sizes nothing here (the program is still built, unquantized weights are what runs)."""

    name = "float"

    def _engine(self, program, batch, seed, y0):
        return ChromaticFloat(program, batch, seed=seed, init=y0)

    def _layer_sweep(self, program, count, seed):
        return edgeless_sweep_float(program, count, seed=seed)

    def _layer_law(self, program):
        return edgeless_law(program, float_model=True)


class EmulatedBackend(_Backend):
    """The bit-accurate emulated graph core (``HwConfig``): weights quantized at the beta rule,
    the beta schedule by the mantissa-and-shift scaling, the LUT, one LFSR per unit. Saturated
    weights are reported (``SampleResult.n_saturated``); ``strict=True`` raises instead, and
    ``fit="scale"`` scales every weight down to fit (the realised beta drops accordingly)."""

    name = "emulated"

    def __init__(self, cfg: HwConfig | None = None, *, colouring: str | ArrayLike = "dsatur",
                 strict: bool = False, fit: str = "saturate"):
        super().__init__(cfg, colouring=colouring)
        if fit not in FITS:
            raise ValueError(f"fit must be one of {FITS}, got {fit!r}")
        if not isinstance(strict, (bool, np.bool_)):
            raise TypeError(f"strict must be a bool, got {type(strict).__name__}")
        self.strict, self.fit = strict, fit

    def _program_options(self) -> dict:
        return {"strict": self.strict, "fit": self.fit}

    def _engine(self, program, batch, seed, y0):
        return ChromaticModel(program, batch, seed=seed, init=y0)

    def _layer_sweep(self, program, count, seed):
        return edgeless_sweep(program, count, seed=seed)

    def _layer_law(self, program):
        return edgeless_law(program)

    def _saturated(self, program):
        return program.n_saturated

    def _betas(self, program):
        return program.realised_betas


BACKENDS = {"float": FloatBackend, "emulated": EmulatedBackend}


def get_backend(name: str, cfg: HwConfig | None = None, **options: Any) -> _Backend:
    """A backend by name ("float", "emulated" or "thrml"); ``options`` go to its constructor."""
    try:
        cls = BACKENDS[name]
    except KeyError:
        raise ValueError(f"backend must be one of {sorted(BACKENDS)}, got {name!r}") from None
    return cls(cfg, **options)
