"""The bit-accurate model behind a register-level facade: a :class:`~pysampler.device.transport.
Transport` that decodes writes and reads exactly as the RTL's decoder (``hw.control.program_port``,
generated from the same map) and runs each started job on the engines (the one-hot and dense
arrays, the tree, the stream), so the driver and everything above it run without a simulator
(the default transport, fast) and every register a host sees has the RTL's value.

A run ends within its START (the model takes no clocks), except on the stream core, which is busy
from START until the row's logits come (writes and a START while waiting are refused, as on the
RTL). CYCLES holds the clocks the RTL would have been busy.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ..contract.config import HwConfig
from ..contract.lut import build_lut
from ..contract.program import DenseProgram, OnehotProgram
from ..contract.regmap import (DATA_BITS, Core, CoreMap, Err, Init, Status, Storage, accepts_init,
                               index_bits)
from ..contract.maps import core_map
from ..contract.stream_format import stream_format
from ..contract.tree_format import tree_depth
from ..engines.array import BitAccurateModel
from ..engines.stream import StreamRow, stream_draw, stream_tables
from ..engines.tree import tree_draw, tree_from_leaves
from .transport import Transport

__all__ = ["ModelTransport"]

_MASK = (1 << DATA_BITS) - 1


def _signed(value: int) -> int:
    value &= _MASK
    return value - (1 << DATA_BITS) if value >> (DATA_BITS - 1) else value


class ModelTransport(Transport):
    """A core of ``cfg`` as registers over the engines (module docstring).

    Parameters
    ----------
    core : Core or str
    cfg : HwConfig
        The configuration the core is built for (the tree and stream cores: their formats, as
        :func:`~pysampler.contract.maps.core_map`).
    """

    name = "model"
    #: runs take no time: a run (but the stream core's) has ended when its START returns
    timed = False

    def __init__(self, core: Core | str, cfg: HwConfig):
        self.core, self.cfg = Core(core), cfg
        if self.core is Core.GRAPH:
            raise ValueError("the model facade runs the onehot, dense, tree and stream cores; "
                             "the graph core has no register-level model yet")
        self.regmap: CoreMap = core_map(self.core, cfg)
        p = self.regmap.params
        self._n = p.n_pbits
        self._reg_at: dict[int, tuple] = {}
        for reg in self.regmap.registers:
            if reg.storage is Storage.CORE:
                continue
            for index in self.regmap.indices(reg):
                self._reg_at[self.regmap.address(reg.name if index is None
                                                 else (reg.name, index))] = (reg, index)
        if self.core is Core.STREAM:
            self._fmt = stream_format(cfg)
            self._tables = stream_tables(self._fmt)
        elif self.core is Core.TREE:
            from ..contract.tree_format import tree_config

            self._tcfg = tree_config(cfg)
            self._lut = build_lut(self._tcfg)
        self.reset()

    # --- state -----------------------------------------------------------------------------
    def reset(self) -> None:
        """What the RTL's reset does: control registers to their resets, the generator to
        derive_state(0, 0), idle, no done, no flags, counters 0; memories keep their contents
        (zero at power-up here)."""
        rm = self.regmap
        # entry 0 of an aliased array is its register's storage (SCHED_COUPLING[0] = COUPLING)
        self.flops = {self._key(reg, index): rm.reset(reg) for reg in rm.registers
                      if reg.storage is Storage.FLOPS for index in rm.indices(reg)}
        self.rng = rm.params.reset_state
        self.held_words: dict[int, int] = {reg.word: rm.reset(reg) or 0 for reg in rm.registers
                                           if reg.storage is Storage.SEED}
        if not hasattr(self, "h"):
            self.h = np.zeros(self._n, dtype=np.int64)
            self.y_given = np.zeros(self._n, dtype=np.int64)
            self.J = np.zeros((self._n, self._n), dtype=np.int64) \
                if self.core is Core.DENSE else None
        self.err = Err(0)
        self.busy = self.done = False
        self.runs = self.cycles = 0
        self.token = self.popcount = 0
        self.onehot = False
        self.chain: BitAccurateModel | None = None
        self.stale = True
        self.loaded = False  # tree: a leaf written since reset

    @staticmethod
    def _key(reg, index) -> tuple[str, int]:
        return (reg.alias_of0, 0) if reg.alias_of0 and index == 0 else (reg.name, index or 0)

    def _flop(self, name: str, index: int = 0) -> int:
        return self.flops[self._key(self.regmap[name], index)]

    # --- the transport ---------------------------------------------------------------------
    def write_many(self, writes: Iterable[tuple[int, int]]) -> list[bool]:
        return [self._write(int(a), int(v)) for a, v in writes]

    def _flag(self, flag: Err) -> bool:
        self.err |= flag
        return False

    def _write(self, address: int, value: int) -> bool:
        rm = self.regmap
        value &= _MASK
        hit = self._reg_at.get(address)
        if self.busy:
            start = rm["START"]
            return self._flag(start.busy_flag if hit and hit[0] is start else Err.BUSY_WRITE)
        region, offset = address >> rm.offset_bits, address & ((1 << rm.offset_bits) - 1)
        if hit is None:
            return self._write_memory(region, offset, value)
        reg, index = hit
        if not reg.access.writable:
            return self._flag(Err.ADDR)
        if reg.keep_stale:
            self.stale = True
        bounds = rm.bounds(reg)
        data = _signed(value) if reg.check.signed else value
        if bounds is not None and not bounds[0] <= data <= bounds[1]:
            return self._flag(reg.check.error)
        if reg.storage is Storage.FLOPS:
            self.flops[self._key(reg, index)] = data
            return True
        if reg.storage is Storage.SEED:
            return self._seed_word(reg, value)
        if reg.name == "CLEAR_ERR":
            self.err = Err(0)
            return True
        if reg.name == "START":
            return self._start(value)
        raise AssertionError(f"unhandled register {reg.name}")  # pragma: no cover

    def _write_memory(self, region: int, offset: int, value: int) -> bool:
        rm = self.regmap
        held = [reg for reg in rm.registers if reg.storage is Storage.CORE
                and int(reg.region) == region]
        if not held:
            return self._flag(Err.ADDR)
        reg = held[0]
        n = self._n
        if reg.offsets.matrix:
            b = index_bits(n)
            i, j = offset >> b, offset & ((1 << b) - 1)
            if offset >> (2 * b) or i >= n or j >= n:
                return self._flag(Err.ADDR)
        elif offset >= n:
            return self._flag(Err.ADDR)
        bounds = rm.bounds(reg)
        data = _signed(value) if reg.check.signed else value
        if not bounds[0] <= data <= bounds[1]:
            return self._flag(reg.check.error)
        if reg.name == "H":
            self.h[offset] = data
            self.loaded = True
        elif reg.name == "STATE":
            self.y_given[offset] = data
        else:
            self.J[i, j] = data
        return True

    def _seed_word(self, reg, value: int) -> bool:
        last = max(self.held_words)
        if reg.word < last:
            self.held_words[reg.word] = value
            return True
        top = value & ((1 << (self.regmap.params.rng_bits - 32 * reg.word)) - 1)
        full = sum(self.held_words[w] << (32 * w) for w in self.held_words if w < last) \
            | (top << (32 * last))
        if full == 0:
            return self._flag(Err.SEED)
        self.rng = full
        return True

    def read(self, address: int) -> tuple[int, bool]:
        hit = self._reg_at.get(int(address))
        if hit is None or not hit[0].access.readable:
            return 0, False
        reg, index = hit
        rm = self.regmap
        if reg.storage is Storage.FLOPS:
            return self._flop(reg.name, index or 0) & _MASK, True
        if reg.storage is Storage.SEED:
            return (self.rng >> (32 * reg.word)) & _MASK, True
        if reg.storage is Storage.CONST:
            return rm.value(reg), True
        status = {"STATUS": int(Status.BUSY * self.busy | Status.DONE * self.done
                                | Status.ERROR * bool(self.err)
                                | Status.ONEHOT * self.onehot),
                  "ERR": int(self.err), "TOKEN": self.token, "POPCOUNT": self.popcount,
                  "RUNS": self.runs & _MASK, "CYCLES": min(self.cycles, _MASK)}
        return status[reg.name], True

    def stream(self, values: Sequence[int]) -> bool:
        if self.core is not Core.STREAM:
            return False
        if not self.busy:  # the core takes no logit while idle: the source waits (never ends)
            from .errors import DeviceTimeout

            raise DeviceTimeout("model: logits sent while the stream core is idle (no START)")
        width = self._fmt.logit.weight_bits
        q = np.asarray([((int(v) & ((1 << width) - 1)) ^ (1 << (width - 1))) - (1 << (width - 1))
                        for v in values], dtype=np.int64)
        n_active = self._flop("N_ACTIVE")
        taken = q[:n_active]
        if q.size != n_active:
            self._flag(Err.STREAM)  # last early (the row ends there) or missing (extra logits)
        token, self.rng, _ = stream_draw(StreamRow(self._fmt, taken, 0), self.rng, self._tables,
                                         trace=False)
        self._finish(token, self._clocks_stream(taken.size))
        return True

    def wait_done(self, timeout_s: float) -> int:
        if self.busy:
            from .errors import DeviceTimeout

            raise DeviceTimeout("model: the stream core waits for its logits (the run cannot "
                                "end before they are sent)")
        value, _ = self.read(self.regmap.address("STATUS"))
        return value

    # --- runs ------------------------------------------------------------------------------
    def _start(self, word: int) -> bool:
        rm = self.regmap
        if self.core is Core.STREAM:
            self.busy, self.done = True, False
            return True
        if self.core is Core.TREE:
            if not self.loaded:
                return self._flag(Err.BAD_START)
            n_active = self._flop("N_ACTIVE")
            program = tree_from_leaves(self.h[:n_active], self._tcfg, self._n)
            token, self.rng, _ = tree_draw(program, self.rng, self._lut)
            self.done = False
            self._finish(token, self._clocks_tree())
            return True
        sweeps_f, init_f = rm.field("START", "SWEEPS"), rm.field("START", "INIT")
        sweeps = (word >> sweeps_f.lsb) & ((1 << sweeps_f.width) - 1)
        init = Init((word >> init_f.lsb) & ((1 << init_f.width) - 1))
        if sweeps == 0 or not accepts_init(self.core, init) or \
                (init is Init.KEEP and (self.stale or self.chain is None)):
            return self._flag(Err.BAD_START)
        n = self._flop("N_ACTIVE")
        if init is Init.KEEP:
            chain = self.chain
        else:
            chain = BitAccurateModel(self._array_program(n), 1, rng_states=[self.rng],
                                     init=self.y_given[:n].copy() if init is Init.GIVEN
                                     else init.name.lower())
        chain.run(sweeps)
        self.rng = int(chain.rng_states[0])
        self.chain, self.stale = chain, False
        y = chain.y[0]
        on = np.flatnonzero(y)
        self.popcount = int(on.size)
        self.onehot = on.size == 1
        token = int(np.bitwise_xor.reduce(on)) if on.size else 0
        self._finish(token, 3 + sweeps * n)
        return True

    def _array_program(self, n: int):
        cfg = self.cfg
        if self.core is Core.DENSE:
            return DenseProgram(cfg, self.h[:n].copy(), self.J[:n, :n].copy())
        t = self._flop("SCHED_LEN")
        offsets = tuple(self._flop("SCHED_OFFSET", e) for e in range(t))
        couplings = tuple(self._flop("SCHED_COUPLING", e) for e in range(t))
        return OnehotProgram(cfg, self.h[:n].copy(), couplings[-1], np.zeros(n), 0.0,
                             bias_offsets=offsets, couplings=couplings)

    def _finish(self, token: int, clocks: int) -> None:
        self.token, self.cycles = int(token), int(clocks)
        self.busy, self.done = False, True
        self.runs += 1

    def _clocks_tree(self) -> int:
        depth = tree_depth(self._n)
        return (1 << depth) + 3 * depth

    def _clocks_stream(self, taken: int) -> int:
        return taken + 2 * (self._fmt.reservoirs - 1) + 2
