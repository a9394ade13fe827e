"""The TSU protocol on the simulated RTL: graph programs run on ``pbit_graph`` in Verilator.

:class:`RtlBackend` is the emulated backend (:class:`pysampler.tsu.backends.EmulatedBackend`:
the same programs, the same saturation report and realised betas) whose engine is the Verilog
core instead of :class:`~pysampler.engines.chromatic.ChromaticModel`: for each program topology
a core is exported and its bulk harness compiled once (:func:`sim.bulk_graph.graph_harness`,
cached under build/), and every chain is one run of it. Chain c: the program's writes, unit i's
generator at ``derive_state(seed, c * n + i)`` (LANE_SEED), the initial state as STATE, a start
of ``num_steps`` sweeps with init GIVEN, then the state read back through the read-out port.
Same program, same seed: the samples are the emulated backend's, bit for bit (tested). For
small sizes: a run is at most 65,535 sweeps (the core's ``sweeps`` port), and each new topology
costs a Verilator build (about 20 s here).

It lives in sim/ (it drives a simulator), not in pysampler (which never imports sim/): importing
this module registers it, so ``pysampler.tsu.get_backend("rtl")`` works after ``import
sim.tsu_rtl``.
"""

from __future__ import annotations

import numpy as np

from pysampler.contract.config import HwConfig
from pysampler.contract.graph import GraphProgram
from pysampler.contract.regmap import INIT_CODES, SWEEPS_BITS
from pysampler.engines.chromatic import lane_states
from pysampler.tsu.backends import BACKENDS, EmulatedBackend

from .bulk_graph import _OP_READ, _OP_START, _OP_TRACE, _OP_WAIT, _OP_WRITE, _TAG_END, \
    _TAG_READ, GraphHarness, graph_harness

__all__ = ["RtlBackend", "RtlEngine", "MAX_RTL_SWEEPS"]

MAX_RTL_SWEEPS = (1 << SWEEPS_BITS) - 1


class RtlEngine:
    """B chains of one graph program on the simulated core, one run per chain (``run``, then
    ``y``: uint8 (B, n), as the engines)."""

    def __init__(self, harness: GraphHarness, program: GraphProgram, n_chains: int, seed: int,
                 init_bits: np.ndarray):
        self.harness, self.program = harness, program
        self.states = lane_states(seed, n_chains, program.n, program.cfg)
        self.y = np.asarray(init_bits, dtype=np.uint8).copy()
        p = program
        self.y[:, p.clamped] = p.clamp_values[p.clamped].astype(np.uint8)

    def run(self, sweeps: int) -> None:
        if not 1 <= sweeps <= MAX_RTL_SWEEPS:
            raise ValueError(f"num_steps must be in [1, {MAX_RTL_SWEEPS}] on the RTL backend "
                             f"(one run of the core), got {sweeps}")
        regmap, n = self.harness.regmap, self.program.n
        program_words = []
        for ref, value in self.program.register_writes():
            program_words += [_OP_WRITE, regmap.address(ref), int(value) & 0xFFFFFFFF]
        ops = [_OP_TRACE, 0]
        for chain, (states, y0) in enumerate(zip(self.states, self.y)):
            ops += program_words
            for i, state in enumerate(states):
                for name, word in regmap.seed_words(int(state)):
                    ops += [_OP_WRITE, regmap.address((name, i)), word]
            for i, bit in enumerate(y0):
                ops += [_OP_WRITE, regmap.address(("STATE", i)), int(bit)]
            ops += [_OP_START, sweeps, INIT_CODES["given"], _OP_WAIT, _OP_READ, n]
        records = self.harness.run(np.asarray(ops, dtype=np.uint32), self.harness.binary.parent)
        tags = records[:, 0] >> 28
        ends, reads = records[tags == _TAG_END], records[tags == _TAG_READ]
        if len(ends) != len(self.y) or len(reads) != len(self.y) or np.any(ends[:, 0] & 0x7F):
            raise RuntimeError(f"the RTL runs ended with flags {(ends[:, 0] & 0x7F).tolist()} "
                               f"({len(ends)} runs, {len(reads)} read-outs for {len(self.y)} "
                               f"chains)")
        words = np.ascontiguousarray(reads[:, 1:])
        self.y = np.unpackbits(words.view(np.uint8), axis=1, bitorder="little")[:, :n].copy()


class RtlBackend(EmulatedBackend):
    """The emulated backend with the simulated Verilog core as its engine (see the module
    docstring). Binary layers (``sample_binary_layer``) are refused: they are edgeless programs
    of any size, the emulated backend's."""

    name = "rtl"

    def __init__(self, cfg: HwConfig | None = None, **options):
        super().__init__(cfg, **options)
        self._harnesses: dict[bytes, GraphHarness] = {}

    def _harness(self, program: GraphProgram) -> GraphHarness:
        top = program.topology
        key = b"".join([top.n.to_bytes(4, "little"), top.max_degree.to_bytes(4, "little"),
                        top.edges.tobytes(), top.colours.tobytes()])
        if key not in self._harnesses:
            self._harnesses[key] = graph_harness(self.cfg, topology=top)
        return self._harnesses[key]

    def _engine(self, program, batch, seed, y0):
        return RtlEngine(self._harness(program), program, batch, seed, y0)

    def _layer_sweep(self, program, count, seed):
        raise ValueError("the RTL backend runs graph programs (sample_ising, sample_custom); "
                         "binary layers run on the emulated backend")


BACKENDS[RtlBackend.name] = RtlBackend   # get_backend("rtl"), once this module is imported
