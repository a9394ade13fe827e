"""Driver of a core's programming port, addressed by register name through the core's map (writes
and reads).

``bus = ProgBus.from_prefix(dut, "prog", regmap)`` finds ``prog__addr``, ``prog__data`` and
``prog__we`` (Amaranth's names for the ``prog`` signature) and the clock ``dut.clk``; then
``await bus.write("N_ACTIVE", 5)``, ``await bus.write(("H", 3), -7)``, ``await
bus.write(("J", (i, j)), w)``. The driver knows addresses, not what the core does with a write, so
a bus-level master (an AXI-Lite BFM) can stand in for it with the same calls.
"""

from __future__ import annotations

from typing import Iterable

from cocotb.triggers import FallingEdge

from pysampler.contract.regmap import DATA_BITS, CoreMap, Ref

__all__ = ["ProgBus"]



class ProgBus:
    """Write-only programming port: one write a clock, driven after a falling edge and taken at
    the next rising edge.

    Parameters
    ----------
    addr, data, we : cocotb handles
        The port's signals.
    clock : cocotb handle
    regmap : CoreMap
        The core's register map, for the addresses.
    """

    def __init__(self, addr, data, we, clock, regmap: CoreMap, raddr=None, rdata=None):
        self.addr, self.data, self.we, self.clock, self.regmap = addr, data, we, clock, regmap
        self.raddr, self.rdata = raddr, rdata

    @classmethod
    def from_prefix(cls, dut, prefix: str, regmap: CoreMap) -> "ProgBus":
        """The port whose signals are ``<prefix>__addr``, ``__data``, ``__we`` on ``dut``."""
        return cls(getattr(dut, f"{prefix}__addr"), getattr(dut, f"{prefix}__data"),
                   getattr(dut, f"{prefix}__we"), dut.clk, regmap,
                   getattr(dut, f"{prefix}__raddr"), getattr(dut, f"{prefix}__rdata"))

    def idle(self) -> None:
        """No write (also what reset drives)."""
        self.addr.value = 0
        self.data.value = 0
        self.we.value = 0
        if self.raddr is not None:
            self.raddr.value = 0

    async def write_raw_many(self, writes: Iterable[tuple[int, int]]) -> None:
        """Back-to-back writes of (address, value), one a clock; the port idles after the last."""
        for address, value in writes:
            self.addr.value = address
            self.data.value = int(value) & ((1 << DATA_BITS) - 1)
            self.we.value = 1
            await FallingEdge(self.clock)
        self.we.value = 0

    async def write_many(self, writes: Iterable[tuple[Ref, int]]) -> None:
        """Back-to-back writes of (register, value), one a clock."""
        await self.write_raw_many((self.regmap.address(ref), value) for ref, value in writes)

    async def write(self, ref: Ref, value: int) -> None:
        """One write, then a clock for the core to act on it."""
        await self.write_many([(ref, value)])
        await FallingEdge(self.clock)

    async def write_raw(self, address: int, value: int) -> None:
        """One write to any address (held by the map or not), then a clock."""
        await self.write_raw_many([(address, value)])
        await FallingEdge(self.clock)

    async def read(self, ref: Ref) -> int:
        """The value of a readable register (``raddr`` set after a falling edge, ``rdata``
        sampled at the next one)."""
        self.raddr.value = self.regmap.address(ref)
        await FallingEdge(self.clock)
        return int(self.rdata.value)

    async def load_seed(self, state: int) -> None:
        """Load generator state ``state``: its seed words, the loading one last, then a clock."""
        await self.write_many(self.regmap.seed_words(state))
        await FallingEdge(self.clock)
