"""The tree sampler core (``pbit_tree``): an exact categorical draw from p-bit decisions, no invalid
states.

Contract: :mod:`pysampler.contract.tree_format` (the tree format ``tree_config``, the log-add table
``logadd_table``, the sigmoid ROM of the tree format, one generator draw per level); the model:
:mod:`pysampler.engines.tree`.

Heap-ordered memory of V' = 2^ceil(log2 n_pbits) leaves and V' - 1 inner nodes (node k has children
2k and 2k + 1), each word a log-mass plus a "not empty" flag. A run::

    IDLE --start--> REDUCE (V' - 1 clocks + 1: node k = LA(child 2k, child 2k + 1), k = V'-1 .. 1)
         --> DESCEND (3 clocks a level: read the children, look the field up, decide)
         --> IDLE, done, token

So a token costs V' + 3 log2 V' + 1 clocks: at most 2 V for V >= 16. Leaves are written through
the H region of the programming port (tree format, weight_bits + guard bits wide); leaves at or past
N_ACTIVE are empty. A start before any leaf has been written since reset is refused
(``Err.BAD_START``). The run phases are :class:`~pysampler.contract.regmap.TreePhase`.
"""

from __future__ import annotations

from amaranth import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out, Signature

from pysampler.contract.config import HwConfig
from pysampler.contract.tree_format import (DEFAULT_GUARD_BITS, DEFAULT_LUT_GUARD_BITS, logadd_table,
                                            tree_config, tree_depth)
from pysampler.contract import regmap as rm
from pysampler.contract.regmap import Core, Err, TreePhase

from .control import flag, program_port, prog_signature
from .lut import lut_rom, lut_rom_address
from .rng import Rng

__all__ = ["TreeCore"]


class TreeCore(wiring.Component):
    """Tree sampler core for ``cfg.n_pbits`` tokens (ports as :class:`hw.control.PbitCore`, less
    sweeps/init/read-out; the trace beats once per decision).

    Attributes
    ----------
    regmap : CoreMap
        The tree core's register map (:mod:`pysampler.contract.regmap`; H = the leaves, in the
        tree format).
    prog, start, busy, done, irq, err
        As the other cores (a START write starts as ``start`` does; its data word is ignored).
    token : Out(index_bits)
        The drawn token, valid from ``done``.
    trace : Out(valid, node, bit, forced, field, lut, u)
        One beat per level: the node, its decision, whether a child was empty (forced move), the
        field m_right - m_left, the LUT entry and the draw.
    """

    def __init__(self, cfg: HwConfig, *, guard_bits: int = DEFAULT_GUARD_BITS,
                 lut_guard_bits: int = DEFAULT_LUT_GUARD_BITS):
        self.cfg = cfg
        self.tcfg = tree_config(cfg, guard_bits, lut_guard_bits)
        self.depth = tree_depth(cfg.n_pbits)
        self.padded = 1 << self.depth
        self.mass_bits = self.tcfg.weight_bits + 1 + self.depth.bit_length()
        self.regmap = rm.CoreMap.of(Core.TREE, self.tcfg)  # leaves accepted in the tree format
        n = cfg.n_pbits
        super().__init__({
            "prog": In(prog_signature(self.regmap)),
            "start": In(1), "busy": Out(1), "done": Out(1), "irq": Out(1),
            "err": Out(rm.ERR_BITS), "token": Out(rm.index_bits(n)),
            "trace": Out(Signature({
                "valid": Out(1), "node": Out(self.depth + 1), "bit": Out(1), "forced": Out(1),
                "field": Out(signed(self.mass_bits + 1)), "lut": Out(self.tcfg.prob_bits + 1),
                "u": Out(self.tcfg.prob_bits)})),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        tcfg, padded = self.tcfg, self.padded
        width = self.mass_bits
        m.submodules.rng = rng = Rng(tcfg)
        m.submodules.rom = rom = lut_rom(tcfg)
        lut_rd = rom.read_port(domain="sync")
        table = [int(v) for v in logadd_table(tcfg)]
        m.submodules.logadd = logadd_mem = Memory(shape=unsigned(max(table).bit_length()),
                                                  depth=len(table), init=table)
        logadd_rd = logadd_mem.read_port(domain="comb")
        m.submodules.mass = mass = Memory(shape=unsigned(width + 1), depth=2 * padded, init=[])
        wr = mass.write_port()
        rd_a = mass.read_port(transparent_for=(wr,))
        rd_b = mass.read_port(transparent_for=(wr,))

        phase = Signal(TreePhase, init=TreePhase.IDLE)
        busy = phase != TreePhase.IDLE
        port = program_port(m, self.prog, busy, self.regmap, rng, done=self.done,
                            status={"TOKEN": self.token})
        m.d.comb += [self.busy.eq(busy), self.err.eq(port.err), self.irq.eq(port.irq)]

        loaded = Signal()  # a leaf has been written since reset
        with m.If(port.written["H"]):
            m.d.comb += [wr.addr.eq(padded + port.offset),
                         wr.data.eq(Cat(port.data_s[:width], 1)), wr.en.eq(1)]
            m.d.sync += loaded.eq(1)
        with m.If(self.start | port.start):
            with m.If(busy):
                flag(m, port.err_set, Err.BUSY_START)
            with m.Elif(~loaded):  # nothing to draw from: refused
                flag(m, port.err_set, Err.BAD_START)
            with m.Else():
                m.d.sync += [phase.eq(TreePhase.REDUCE), self.done.eq(0)]

        def word(data, address):
            """(log-mass, present) of a node word read from ``address``."""
            value = data[:width].as_signed()
            is_leaf = address >= padded
            present = data[width] & (~is_leaf | (address - padded < port.n_active))
            return value, present

        # REDUCE: node k's children are read in one clock and k is written in the next.
        k = Signal(range(2 * padded), init=padded - 1)
        k_q = Signal(range(2 * padded))
        reading = Signal()
        a_addr, b_addr = Signal(range(2 * padded)), Signal(range(2 * padded))
        m.d.sync += [a_addr.eq(rd_a.addr), b_addr.eq(rd_b.addr)]
        a_val, a_ok = word(rd_a.data, a_addr)
        b_val, b_ok = word(rd_b.data, b_addr)
        diff = Signal(signed(width + 1))
        m.d.comb += diff.eq(b_val - a_val)
        distance = Signal(width + 1)
        m.d.comb += distance.eq(Mux(diff < 0, -diff, diff))
        bucket = Signal(width + 1)
        m.d.comb += bucket.eq(distance >> tcfg.lut_shift)
        m.d.comb += logadd_rd.addr.eq(Mux(bucket >= len(table), len(table) - 1, bucket))
        merged = Signal(signed(width))
        m.d.comb += merged.eq(Mux(~a_ok, b_val, Mux(~b_ok, a_val,
                                                   Mux(diff < 0, a_val, b_val) + logadd_rd.data)))
        with m.If(phase == TreePhase.REDUCE):
            m.d.comb += [rd_a.addr.eq(2 * k), rd_b.addr.eq(2 * k + 1)]
            m.d.sync += [k_q.eq(k), reading.eq(k != 0)]
            with m.If(k != 0):
                m.d.sync += k.eq(k - 1)
            with m.If(reading):
                m.d.comb += [wr.addr.eq(k_q), wr.data.eq(Cat(merged, a_ok | b_ok)), wr.en.eq(1)]
            with m.If(k == 0):  # the write of node 1 happens in this clock
                m.d.sync += [phase.eq(TreePhase.READ), k.eq(padded - 1), reading.eq(0)]

        # DESCEND: READ the children of node, LOOKUP the field, DECIDE with one draw.
        node = Signal(self.depth + 1, init=1)
        forced = Signal()
        go_right_forced = Signal()
        field_q = Signal(signed(width + 1))
        with m.If(phase == TreePhase.READ):
            m.d.comb += [rd_a.addr.eq(2 * node), rd_b.addr.eq(2 * node + 1)]
            m.d.sync += phase.eq(TreePhase.LOOKUP)
        with m.If(phase == TreePhase.LOOKUP):
            m.d.comb += lut_rd.addr.eq(lut_rom_address(m, diff, tcfg))
            m.d.sync += [forced.eq(~a_ok | ~b_ok), go_right_forced.eq(~a_ok),
                         field_q.eq(Mux(a_ok & b_ok, diff, 0)), phase.eq(TreePhase.DECIDE)]
        bit = Signal()
        m.d.comb += bit.eq(Mux(forced, go_right_forced, rng.u < lut_rd.data))
        with m.If(phase == TreePhase.DECIDE):
            m.d.comb += rng.advance.eq(1)
            nxt = Cat(bit, node)[:self.depth + 1]
            with m.If(nxt >= padded):
                m.d.sync += [phase.eq(TreePhase.IDLE), self.done.eq(1), node.eq(1),
                             self.token.eq(nxt - padded)]
            with m.Else():
                m.d.sync += [node.eq(nxt), phase.eq(TreePhase.READ)]
        m.d.comb += [
            self.trace.valid.eq(phase == TreePhase.DECIDE), self.trace.node.eq(node), self.trace.bit.eq(bit),
            self.trace.forced.eq(forced), self.trace.field.eq(field_q),
            self.trace.lut.eq(Mux(forced, 0, lut_rd.data)), self.trace.u.eq(rng.u),
        ]
        return m
