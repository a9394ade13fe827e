"""The dense core (``pbit_dense``): programmable h (n) and J (n x n), y in registers, n <= 64.

Field of unit i: ``h_i + sum_{j != i, j < n_active} J_ij y_j``, summed by an adder tree over the
row of J read (one row per clock) from a memory with one weight-wide lane per column.
"""

from __future__ import annotations

from types import SimpleNamespace

from amaranth import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib.memory import Memory

from pysampler.contract.config import HwConfig
from pysampler.contract.regmap import Core, Init, Phase

from .control import PbitCore
from .lut import lut_rom_address

__all__ = ["DenseCore", "MAX_DENSE_PBITS"]

MAX_DENSE_PBITS = 64


def _tree_sum(terms: list) -> object:
    """Balanced adder tree (Amaranth widens each sum, so nothing wraps)."""
    while len(terms) > 1:
        terms = [terms[k] + terms[k + 1] if k + 1 < len(terms) else terms[k]
                 for k in range(0, len(terms), 2)]
    return terms[0]


class DenseCore(PbitCore):
    """Dense p-bit core with ``cfg.n_pbits`` <= 64 units (ports: :class:`hw.control.PbitCore`).
    Init policies: zeros, random_onehot and given (the STATE region)."""

    core = Core.DENSE

    def __init__(self, cfg: HwConfig, *, debug_trace: bool = True):
        if cfg.n_pbits > MAX_DENSE_PBITS:
            self._MustUse__silence = True  # a rejected component is not an unused one
            raise ValueError(f"DenseCore supports n_pbits <= {MAX_DENSE_PBITS}, got "
                             f"{cfg.n_pbits}; use OnehotCore for large one-hot programs")
        super().__init__(cfg, debug_trace=debug_trace)

    def datapath(self, m: Module, c: SimpleNamespace) -> None:
        cfg, n, wb, b = self.cfg, self.cfg.n_pbits, self.cfg.weight_bits, self.idx_bits
        h_mem = Memory(shape=unsigned(wb), depth=n, init=[])
        j_mem = Memory(shape=unsigned(n * wb), depth=n, init=[])
        m.submodules.h_mem, m.submodules.j_mem = h_mem, j_mem
        h_wr, h_rd = h_mem.write_port(), h_mem.read_port()
        j_wr, j_rd = j_mem.write_port(granularity=wb), j_mem.read_port()

        y = Signal(n)
        field_q = Signal(signed(cfg.field_bits))
        active = Signal(n)
        m.d.comb += active.eq(Cat(*[c.n_active > k for k in range(n)]))
        live = y & active
        m.d.comb += [
            self.popcount.eq(_tree_sum([live[k] for k in range(n)])),
            self.token.eq(_xor_of_indices(live, n, b)),
        ]
        rd_q = Signal()
        m.d.sync += rd_q.eq(y.bit_select(self.rd_addr, 1))
        m.d.comb += self.rd_data.eq(rd_q)
        if self.debug_trace:
            m.d.comb += self.trace.field.eq(field_q)

        # Writes the decoder has checked against the map (address in range, value accepted).
        row_i, col_j = c.offset[b:2 * b], c.offset[:b]
        with m.If(c.written["H"]):
            m.d.comb += [h_wr.addr.eq(c.offset), h_wr.data.eq(c.data), h_wr.en.eq(1)]
        with m.If(c.written["STATE"]):
            m.d.sync += y.bit_select(c.offset[:b], 1).eq(c.data[0])
        with m.If(c.written["J"]):
            m.d.comb += [j_wr.addr.eq(row_i), j_wr.data.eq(c.data[:wb].replicate(n)),
                         j_wr.en.eq((Const(1, n) << col_j)[:n])]

        def row_field(h_value, row, y_vec, unit):
            """h + sum over active j != unit of J[unit][j] * y_vec[j]."""
            terms = [Mux(y_vec[k] & active[k] & (unit != k), row[k * wb:(k + 1) * wb].as_signed(), 0)
                     for k in range(n)]
            return h_value + _tree_sum(terms)

        h_next = h_rd.data.as_signed()
        with m.If((c.phase == Phase.INIT) | (c.phase == Phase.FILL)):
            m.d.comb += [h_rd.addr.eq(0), j_rd.addr.eq(0)]
        with m.If(c.phase == Phase.INIT):
            with m.If(c.init_mode == Init.ZEROS):
                m.d.sync += y.eq(0)
            with m.Elif(c.init_onehot):
                m.d.sync += y.eq((Const(1, n) << c.k_now)[:n])
        with m.If(c.phase == Phase.PRIME):
            field0 = Signal(signed(cfg.field_bits))
            m.d.comb += field0.eq(row_field(h_next, j_rd.data, y, 0))
            address0 = lut_rom_address(m, field0, cfg)
            m.d.comb += [c.engine.address0.eq(address0), c.engine.address1.eq(address0),
                         h_rd.addr.eq(c.nxt), j_rd.addr.eq(c.nxt)]
            m.d.sync += field_q.eq(field0)
        with m.If(c.phase == Phase.RUN):
            # Field of unit nxt for both outcomes of this clock's decision on unit idx.
            y_off = Signal(n)
            m.d.comb += y_off.eq(y & ~(Const(1, n) << c.idx)[:n])
            field0, field1 = Signal(signed(cfg.field_bits)), Signal(signed(cfg.field_bits))
            coupling_to_idx = j_rd.data.word_select(c.idx, wb).as_signed()
            m.d.comb += [field0.eq(row_field(h_next, j_rd.data, y_off, c.nxt)),
                         field1.eq(field0 + Mux(c.idx != c.nxt, coupling_to_idx, 0))]
            m.d.comb += [c.engine.address0.eq(lut_rom_address(m, field0, cfg)),
                         c.engine.address1.eq(lut_rom_address(m, field1, cfg)),
                         h_rd.addr.eq(c.nxt2), j_rd.addr.eq(c.nxt2)]
            m.d.sync += [y.eq(y_off | (c.new << c.idx)[:n]),
                         field_q.eq(Mux(c.new, field1, field0))]


def _xor_of_indices(bits, n: int, width: int):
    """XOR of the indices k with bits[k] set (the token when exactly one is set)."""
    out = []
    for bit in range(width):
        acc = 0
        for k in range(n):
            if (k >> bit) & 1:
                acc = acc ^ bits[k]
        out.append(acc)
    return Cat(*out)
