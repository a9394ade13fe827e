"""Sigmoid LUT and the p-bit update engine (field -> LUT -> compare with the draw)."""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from pysampler.contract.config import HwConfig
from pysampler.contract.lut import build_lut

__all__ = ["UpdateEngine", "lut_rom", "lut_rom_address"]


def lut_rom(cfg: HwConfig) -> Memory:
    """The sigmoid ROM: :func:`pysampler.contract.lut.build_lut` contents, P + 1 bits wide."""
    return Memory(shape=unsigned(cfg.prob_bits + 1), depth=cfg.lut_size,
                  init=[int(v) for v in build_lut(cfg)])


def lut_rom_address(m: Module, field, cfg: HwConfig):
    """ROM address of a signed field of any width: clamp(field >> lut_shift) to the signed
    lut_addr_bits range, as two's complement bits (pysampler.contract.lut.lut_address).

    The clamp as a sign test, not two comparisons: the shifted field fits A = lut_addr_bits
    bits when its bits from A - 1 up are all equal (all its sign), and is then its low A bits;
    otherwise the end of the range on its side (a few LUTs a lane, no carry chains)."""
    a, half = cfg.lut_addr_bits, cfg.lut_size // 2
    shifted = Signal(signed(len(field)))
    index = Signal(signed(a))
    m.d.comb += shifted.eq(field >> cfg.lut_shift)
    if len(shifted) <= a:
        m.d.comb += index.eq(shifted)
        return index.as_unsigned()
    top = shifted[a - 1:]
    fits = (top == 0) | (top == (1 << len(top)) - 1)
    above, below = Signal(), Signal()
    m.d.comb += [above.eq(~fits & ~shifted[-1]), below.eq(~fits & shifted[-1])]
    # two muxes, each end constant in its own (as sim/mutate.py's clamp mutations find them)
    m.d.comb += index.eq(Mux(above, half - 1, Mux(below, -half, shifted[:a])))
    return index.as_unsigned()


class UpdateEngine(wiring.Component):
    """The LUT ROM (contents from :func:`pysampler.contract.lut.build_lut`) and the compare.

    The ROM has a synchronous read port (block RAM on FPGAs): the address presented in one cycle
    is read in the next, when the p-bit decides ``bit = u < lut_value``. The field of the next
    unit depends on that decision, so both candidate ROM addresses come in (``address0``: if the
    decision is 0, ``address1``: if it is 1; :func:`lut_rom_address` of the two candidate fields)
    and the decision picks one: the compare and the field and address arithmetic run side by side
    instead of one after the other.

    Parameters
    ----------
    cfg : HwConfig

    Attributes
    ----------
    address0, address1 : In(lut_addr_bits)
        ROM address of the unit decided in the *next* cycle, if this cycle's ``bit`` is 0 / 1.
    lut_value : Out(prob_bits + 1)
        LUT[address presented last cycle], in [0, 2**prob_bits].
    u : In(prob_bits)
        The draw of this cycle.
    bit : Out(1)
        ``u < lut_value``: the p-bit's new value.
    """

    def __init__(self, cfg: HwConfig):
        self.cfg = cfg
        super().__init__({
            "address0": In(cfg.lut_addr_bits), "address1": In(cfg.lut_addr_bits),
            "lut_value": Out(cfg.prob_bits + 1),
            "u": In(cfg.prob_bits), "bit": Out(1),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.rom = rom = lut_rom(self.cfg)
        read = rom.read_port(domain="sync")
        m.d.comb += [
            self.lut_value.eq(read.data),
            self.bit.eq(self.u < read.data),
            read.addr.eq(Mux(self.bit, self.address1, self.address0)),
        ]
        return m
