"""Bus wrappers of the cores, generated from a core's register map and signature: an AXI4-Lite slave
for the registers and status, AXI-Stream for a valid/ready input (the stream core's logits), and
the done interrupt. One class serves every core, present and future (``AxiLiteBridge(core)``).

AXI4-Lite: the byte address is 4 x the register's word address (``awaddr`` and ``araddr``
``addr_bits + 2`` wide, 32-bit data). A write is done in one clock once its address and data have
both arrived (in either order), then answered on B; a read is answered on R in the clock after
its address is taken. The response is SLVERR for a write the core refuses (it raised an error
flag: an address it does not hold, a value out of range, a zero seed, a write while busy, a
refused START; the flag stays in ERR), for a write whose strobes are not all set or whose address
is not word-aligned (refused by the bridge; the core never sees it), and for a read of an address
that holds no readable register or is not aligned; OKAY otherwise. One write and one read can be
under way at a time each; every request is answered, whatever the back-pressure.

AXI-Stream: a member of the core whose signature is (valid, ready, data[, last]) flowing in, such
as the stream core's ``logit``, becomes ``s_axis`` (``s_axis_<name>`` when there are several):
``tdata`` is ``data`` sign-extended to whole bytes (the core takes the low bits: a host writes
values of the core's width, :mod:`pysampler.contract.stream_format`), ``tlast`` is ``last``.

``irq``: the core's ``irq`` (STATUS.DONE while IRQ_ENABLE). The core's other inputs (``start``,
``sweeps``, ``init``, ``rd_addr``) are tied to 0, everything is done through registers; its other
outputs are left out, except those named in ``debug_ports`` (the trace, for simulation).
Amaranth flattens the ports with ``__`` (``s_axil__awaddr``); the clock is ``clk`` and the reset
``rst``, synchronous and active high.
"""

from __future__ import annotations

from amaranth import Module, Mux, Shape, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, Signature

from pysampler.contract.regmap import DATA_BITS

__all__ = ["AxiLiteBridge", "axil_signature", "axis_signature", "RESP_OKAY", "RESP_SLVERR",
           "stream_members"]

RESP_OKAY, RESP_SLVERR = 0b00, 0b10


def axil_signature(addr_width: int, data_width: int = DATA_BITS) -> Signature:
    """AXI4-Lite, seen from the master (a slave port is ``In`` of it)."""
    return Signature({
        "awaddr": Out(addr_width), "awprot": Out(3), "awvalid": Out(1), "awready": In(1),
        "wdata": Out(data_width), "wstrb": Out(data_width // 8), "wvalid": Out(1),
        "wready": In(1),
        "bresp": In(2), "bvalid": In(1), "bready": Out(1),
        "araddr": Out(addr_width), "arprot": Out(3), "arvalid": Out(1), "arready": In(1),
        "rdata": In(data_width), "rresp": In(2), "rvalid": In(1), "rready": Out(1),
    })


def axis_signature(data_width: int, last: bool = True) -> Signature:
    """AXI-Stream, seen from the source; ``data_width`` a multiple of 8."""
    members = {"tdata": Out(data_width), "tvalid": Out(1), "tready": In(1)}
    if last:
        members["tlast"] = Out(1)
    return Signature(members)


def stream_members(core: wiring.Component) -> dict[str, Signature]:
    """The core's inputs with the valid/ready shape: name -> their signature."""
    found = {}
    for name, member in core.signature.members.items():
        if not member.is_signature or member.flow is not In:
            continue
        inner = member.signature.members
        if {"valid", "ready", "data"} <= set(inner) and set(inner) <= {"valid", "ready", "data",
                                                                       "last"}:
            found[name] = member.signature
    return found


def _byte_width(bits: int) -> int:
    return 8 * -(-bits // 8)


class AxiLiteBridge(wiring.Component):
    """An AXI4-Lite slave (and AXI-Stream sinks) in front of ``core`` (module docstring).

    Parameters
    ----------
    core : wiring.Component
        A core with a ``regmap`` (:class:`~pysampler.contract.regmap.CoreMap`), a ``prog`` port
        (:func:`hw.control.prog_signature`) and an ``irq`` output.
    debug_ports : tuple of str
        Outputs of the core to bring out as they are (``("trace",)`` in simulation).

    Attributes
    ----------
    s_axil : In(axil_signature(addr_bits + 2))
    s_axis (or s_axis_<name>) : In(axis_signature(...)), for each valid/ready input of the core
    irq : Out(1)
    """

    def __init__(self, core: wiring.Component, *, debug_ports: tuple[str, ...] = ()):
        self.core = core
        self.regmap = core.regmap
        self.streams = stream_members(core)
        self.debug_ports = tuple(debug_ports)
        members = {"s_axil": In(axil_signature(self.regmap.addr_bits + 2)), "irq": Out(1)}
        for name, sig in self.streams.items():
            width = _byte_width(Shape.cast(sig.members["data"].shape).width)
            members[self.axis_name(name)] = In(axis_signature(width, "last" in sig.members))
        for name in self.debug_ports:
            member = core.signature.members[name]
            if member.flow is not Out:
                raise ValueError(f"debug port {name!r} of the core is not an output")
            members[name] = member
        super().__init__(members)

    def axis_name(self, member: str) -> str:
        """The AXI-Stream port that feeds the core's ``member``."""
        return "s_axis" if len(self.streams) == 1 else f"s_axis_{member}"

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.core = core = self.core
        prog, axil = core.prog, self.s_axil
        passed = {"prog", *self.streams, *self.debug_ports}
        for path, flow, value in core.signature.flatten(core):
            if path[0] not in passed and flow is In:
                m.d.comb += value.eq(0)
        for name in self.debug_ports:
            for path, flow, value in core.signature.members[name].signature.flatten(
                    getattr(core, name)):
                out = getattr(self, name)
                for key in path:
                    out = getattr(out, key)
                m.d.comb += out.eq(value)
        m.d.comb += self.irq.eq(core.irq)

        # write: address and data may come in either order; one write, then its response
        aw_held, w_held = Signal(), Signal()
        aw_addr = Signal(len(axil.awaddr))
        w_data, w_strb = Signal(DATA_BITS), Signal(DATA_BITS // 8)
        b_valid, b_resp = Signal(), Signal(2)
        m.d.comb += [axil.awready.eq(~aw_held & ~b_valid), axil.wready.eq(~w_held & ~b_valid),
                     axil.bvalid.eq(b_valid), axil.bresp.eq(b_resp)]
        with m.If(axil.awvalid & axil.awready):
            m.d.sync += [aw_held.eq(1), aw_addr.eq(axil.awaddr)]
        with m.If(axil.wvalid & axil.wready):
            m.d.sync += [w_held.eq(1), w_data.eq(axil.wdata), w_strb.eq(axil.wstrb)]
        whole = (w_strb == (1 << (DATA_BITS // 8)) - 1) & (aw_addr[:2] == 0)
        m.d.comb += [prog.addr.eq(aw_addr[2:]), prog.data.eq(w_data)]
        with m.If(aw_held & w_held):
            m.d.comb += prog.we.eq(whole)
            m.d.sync += [aw_held.eq(0), w_held.eq(0), b_valid.eq(1),
                         b_resp.eq(RESP_SLVERR)]
            with m.If(whole & ~prog.werr):
                m.d.sync += b_resp.eq(RESP_OKAY)
        with m.If(b_valid & axil.bready):
            m.d.sync += b_valid.eq(0)

        # read: the register is read in the clock its address is taken
        r_valid, r_data, r_resp = Signal(), Signal(DATA_BITS), Signal(2)
        m.d.comb += [axil.arready.eq(~r_valid), axil.rvalid.eq(r_valid), axil.rdata.eq(r_data),
                     axil.rresp.eq(r_resp), prog.raddr.eq(axil.araddr[2:])]
        with m.If(axil.arvalid & axil.arready):
            bad = prog.rerr | (axil.araddr[:2] != 0)
            m.d.sync += [r_valid.eq(1), r_data.eq(Mux(bad, 0, prog.rdata)),
                         r_resp.eq(Mux(bad, RESP_SLVERR, RESP_OKAY))]
        with m.If(r_valid & axil.rready):
            m.d.sync += r_valid.eq(0)

        for name, sig in self.streams.items():
            inner, axis = getattr(core, name), getattr(self, self.axis_name(name))
            m.d.comb += [inner.valid.eq(axis.tvalid), axis.tready.eq(inner.ready),
                         inner.data.eq(axis.tdata[:len(inner.data)])]
            if "last" in sig.members:
                m.d.comb += inner.last.eq(axis.tlast)
        return m
