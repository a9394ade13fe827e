"""The host link of a board: the byte protocol of :mod:`pysampler.contract.link` to AXI4-Lite and
AXI-Stream (:class:`ByteBridge`), a UART (:class:`UartRx`, :class:`UartTx`, 8N1), and the top that
puts them in front of a core (:class:`SerialTop`: UART -> FIFO -> ByteBridge ->
:class:`hw.axi.AxiLiteBridge` -> core; or byte streams instead of the UART, for the simulated
link).
"""

from __future__ import annotations

from amaranth import Cat, Const, Module, Mux, Shape, Signal
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out, Signature

from pysampler.contract.regmap import DATA_BITS, Status
from pysampler.contract.link import (ARG_BYTES, CMD_READ, CMD_STREAM, CMD_WAIT, CMD_WRITE,
                                     REPLY_BYTES, REPLY_DONE, REPLY_REFUSED, REPLY_TIMEOUT,
                                     REPLY_UNKNOWN)

from .axi import AxiLiteBridge, axil_signature, axis_signature

__all__ = ["ByteBridge", "UartRx", "UartTx", "SerialTop", "byte_stream", "RX_FIFO_DEPTH"]

#: bytes the UART receiver can hold while the bridge is busy (a host sends at most one wait
#: command, 5 bytes, before its reply; writes are taken faster than a UART delivers them)
RX_FIFO_DEPTH = 64


def byte_stream() -> Signature:
    """A stream of bytes, seen from its source."""
    return Signature({"data": Out(8), "valid": Out(1), "ready": In(1)})


class ByteBridge(wiring.Component):
    """The byte protocol (:mod:`pysampler.contract.link`) to an AXI4-Lite master and an
    AXI-Stream source.

    Parameters
    ----------
    addr_width : int
        The AXI4-Lite byte address width (the slave's ``awaddr``).
    status_address : int
        Word address of the STATUS register (the wait command polls it).
    stream_width : int or None
        ``tdata`` width of the stream source, None for a core without a stream input.

    Attributes
    ----------
    rx : In(byte_stream())
        Bytes from the host.
    tx : Out(byte_stream())
        Bytes to the host.
    m_axil : Out(axil_signature(addr_width))
    m_axis : Out(axis_signature(stream_width)), when ``stream_width``
    """

    def __init__(self, addr_width: int, status_address: int, stream_width: int | None = None):
        self.addr_width, self.status_address = addr_width, status_address
        self.stream_width = stream_width
        members = {"rx": In(byte_stream()), "tx": Out(byte_stream()),
                   "m_axil": Out(axil_signature(addr_width))}
        if stream_width:
            members["m_axis"] = Out(axis_signature(stream_width))
        super().__init__(members)

    def elaborate(self, platform) -> Module:
        m = Module()
        rx, tx, axil = self.rx, self.tx, self.m_axil
        cmd = Signal(8)
        args = Signal(8 * max(ARG_BYTES.values()))
        left = Signal(range(max(ARG_BYTES.values()) + 1))
        reply = Signal(8 * max(REPLY_BYTES.values()))
        reply_left = Signal(range(max(REPLY_BYTES.values()) + 1))
        beats = Signal(24)
        word = Signal(DATA_BITS)
        word_bytes = Signal(range(5))
        clocks = Signal(32)
        aw_done, w_done = Signal(), Signal()

        m.d.comb += [axil.awprot.eq(0), axil.arprot.eq(0), axil.wstrb.eq(0xF),
                     axil.awaddr.eq(args[:24] << 2), axil.wdata.eq(args[24:56]), tx.data.eq(reply[:8])]
        n_args = Signal(range(max(ARG_BYTES.values()) + 1))
        with m.Switch(rx.data):
            for code, count in ARG_BYTES.items():
                with m.Case(code):
                    m.d.comb += n_args.eq(count)

        def answer(_, value, length):
            m.d.sync += [reply.eq(value), reply_left.eq(length)]
            m.next = "REPLY"

        refused = Signal(8)  # the reply code of the AXI response this clock

        with m.FSM():
            # a first state left after reset: the outputs' `always @*` blocks then see the state
            # change, which Icarus needs to evaluate them at all (it runs none at time 0)
            with m.State("POWER_UP"):
                m.next = "CMD"
            with m.State("CMD"):
                m.d.comb += rx.ready.eq(1)
                with m.If(rx.valid):
                    m.d.sync += [cmd.eq(rx.data), args.eq(0), left.eq(n_args)]
                    with m.If(n_args != 0):
                        m.next = "ARGS"
                    with m.Else():
                        answer("REPLY", REPLY_UNKNOWN, 1)
            with m.State("ARGS"):
                m.d.comb += rx.ready.eq(1)
                with m.If(rx.valid):
                    m.d.sync += [args.eq(Cat(args[8:], rx.data)), left.eq(left - 1)]
                    with m.If(left == 1):
                        m.next = "ALIGN"
            with m.State("ALIGN"):  # the arguments were shifted in from the top: move them down
                with m.Switch(cmd):
                    for code, count in ARG_BYTES.items():
                        with m.Case(code):
                            m.d.sync += args.eq(args >> (8 * (len(args) // 8 - count)))
                m.d.sync += [aw_done.eq(0), w_done.eq(0), clocks.eq(0), word_bytes.eq(0)]
                with m.Switch(cmd):
                    with m.Case(CMD_WRITE):
                        m.next = "WRITE"
                    with m.Case(CMD_READ):
                        m.next = "READ"
                    with m.Case(CMD_STREAM):
                        m.next = "STREAM_START"
                    with m.Case(CMD_WAIT):
                        m.next = "WAIT_READ"
            with m.State("WRITE"):
                m.d.comb += [axil.awvalid.eq(~aw_done), axil.wvalid.eq(~w_done)]
                with m.If(axil.awvalid & axil.awready):
                    m.d.sync += aw_done.eq(1)
                with m.If(axil.wvalid & axil.wready):
                    m.d.sync += w_done.eq(1)
                m.d.comb += [axil.bready.eq(1),
                             refused.eq(Mux(axil.bresp != 0, REPLY_REFUSED, REPLY_DONE))]
                with m.If(axil.bvalid):
                    answer("REPLY", refused, 1)
            with m.State("READ"):
                m.d.comb += [axil.araddr.eq(args[:24] << 2), axil.arvalid.eq(~aw_done),
                             axil.rready.eq(1)]
                with m.If(axil.arready):
                    m.d.sync += aw_done.eq(1)
                m.d.comb += refused.eq(Mux(axil.rresp != 0, REPLY_REFUSED, REPLY_DONE))
                with m.If(axil.rvalid):
                    answer("REPLY", Cat(refused, axil.rdata), 5)
            with m.State("STREAM_START"):
                m.d.sync += beats.eq(args[:24])
                if self.stream_width:
                    with m.If(args[:24] == 0):
                        answer("REPLY", REPLY_REFUSED, 1)
                    with m.Else():
                        m.next = "STREAM_BYTES"
                else:  # the host sends the beats anyway: take them, then refuse
                    with m.If(args[:24] == 0):
                        answer("REPLY", REPLY_REFUSED, 1)
                    with m.Else():
                        m.next = "STREAM_DROP"
            if self.stream_width:
                with m.State("STREAM_BYTES"):
                    m.d.comb += rx.ready.eq(1)
                    with m.If(rx.valid):
                        m.d.sync += [word.eq(Cat(word[8:], rx.data)),
                                     word_bytes.eq(word_bytes + 1)]
                        with m.If(word_bytes == 3):
                            m.d.sync += word_bytes.eq(0)
                            m.next = "STREAM_BEAT"
                axis = self.m_axis
                m.d.comb += [axis.tdata.eq(word[:self.stream_width]), axis.tlast.eq(beats == 1)]
                with m.State("STREAM_BEAT"):
                    m.d.comb += axis.tvalid.eq(1)
                    with m.If(axis.tready):
                        m.d.sync += beats.eq(beats - 1)
                        with m.If(beats == 1):
                            answer("REPLY", REPLY_DONE, 1)
                        with m.Else():
                            m.next = "STREAM_BYTES"
            with m.State("STREAM_DROP"):
                m.d.comb += rx.ready.eq(1)
                with m.If(rx.valid):
                    m.d.sync += word_bytes.eq(word_bytes + 1)
                    with m.If(word_bytes == 3):
                        m.d.sync += [word_bytes.eq(0), beats.eq(beats - 1)]
                        with m.If(beats == 1):
                            answer("REPLY", REPLY_REFUSED, 1)
            with m.State("WAIT_READ"):
                m.d.sync += clocks.eq(clocks + 1)
                m.d.comb += [axil.araddr.eq(self.status_address << 2), axil.arvalid.eq(~aw_done),
                             axil.rready.eq(1)]
                with m.If(axil.arready):
                    m.d.sync += aw_done.eq(1)
                with m.If(axil.rvalid):
                    m.d.sync += aw_done.eq(0)
                    finished = (axil.rdata & int(Status.DONE | Status.BUSY)) == int(Status.DONE)
                    with m.If(finished):
                        answer("REPLY", Cat(Const(REPLY_DONE, 8), axil.rdata), 5)
                    with m.Elif(clocks >= args[:32]):
                        answer("REPLY", Cat(Const(REPLY_TIMEOUT, 8), axil.rdata), 5)
            with m.State("REPLY"):
                m.d.comb += tx.valid.eq(1)
                with m.If(tx.ready):
                    m.d.sync += [reply.eq(reply >> 8), reply_left.eq(reply_left - 1)]
                    with m.If(reply_left == 1):
                        m.next = "CMD"
        return m


class UartRx(wiring.Component):
    """8N1 receiver: ``divisor`` clocks a bit; a byte comes out on ``out`` (valid one clock, no
    back-pressure: :class:`SerialTop` puts a FIFO behind it; a byte lost to a full FIFO shows on
    the host as a reply that does not come, a timeout)."""

    def __init__(self, divisor: int):
        if divisor < 4:
            raise ValueError(f"divisor must be >= 4 clocks a bit, got {divisor}")
        self.divisor = divisor
        super().__init__({"rx": In(1, init=1), "out": Out(byte_stream())})

    def elaborate(self, platform) -> Module:
        m = Module()
        d = self.divisor
        sync1, line = Signal(init=1), Signal(init=1)
        m.d.sync += [sync1.eq(self.rx), line.eq(sync1)]
        timer = Signal(range(d + d // 2 + 1))
        bit = Signal(range(10))
        shift = Signal(8)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(~line):
                    m.d.sync += [timer.eq(d + d // 2 - 1), bit.eq(0)]  # to the middle of bit 0
                    m.next = "BITS"
            with m.State("BITS"):
                m.d.sync += timer.eq(timer - 1)
                with m.If(timer == 0):
                    m.d.sync += [timer.eq(d - 1), bit.eq(bit + 1)]
                    with m.If(bit == 8):  # the stop bit
                        m.next = "STOP"
                    with m.Else():
                        m.d.sync += shift.eq(Cat(shift[1:], line))
            with m.State("STOP"):
                m.d.comb += [self.out.valid.eq(line), self.out.data.eq(shift)]
                m.next = "IDLE"
        return m


class UartTx(wiring.Component):
    """8N1 transmitter: takes a byte from ``inp`` when idle, ``divisor`` clocks a bit."""

    def __init__(self, divisor: int):
        if divisor < 4:
            raise ValueError(f"divisor must be >= 4 clocks a bit, got {divisor}")
        self.divisor = divisor
        super().__init__({"tx": Out(1, init=1), "inp": In(byte_stream())})

    def elaborate(self, platform) -> Module:
        m = Module()
        d = self.divisor
        timer = Signal(range(d))
        frame = Signal(10, init=0x3FF)
        left = Signal(range(11))
        m.d.comb += [self.tx.eq(frame[0]), self.inp.ready.eq(left == 0)]
        with m.If(left == 0):
            with m.If(self.inp.valid):
                m.d.sync += [frame.eq(Cat(Const(0, 1), self.inp.data, Const(1, 1))),
                             left.eq(10), timer.eq(d - 1)]
        with m.Else():
            m.d.sync += timer.eq(timer - 1)
            with m.If(timer == 0):
                m.d.sync += [timer.eq(d - 1), left.eq(left - 1),
                             frame.eq(Cat(frame[1:], Const(1, 1)))]
        return m


class SerialTop(wiring.Component):
    """A core behind its AXI4-Lite bridge, driven through the byte protocol: over a UART
    (``divisor`` clocks a bit: ports ``uart_rx``, ``uart_tx``) or, with ``divisor=None``, over
    byte streams (``rx``, ``tx``: the simulated link of :mod:`pysampler.device.sim`). ``irq``
    comes out too (a board's LED)."""

    def __init__(self, core, *, divisor: int | None):
        self.bridge = AxiLiteBridge(core)
        self.divisor = divisor
        streams = [self.bridge.signature.members[name].signature.members["tdata"].shape
                   for name in self.bridge.signature.members if name.startswith("s_axis")]
        streams = [Shape.cast(shape).width for shape in streams]
        if len(streams) > 1 or streams and streams[0] > 32:
            raise ValueError("the byte protocol streams one 32-bit word a beat into one input "
                             "(the stream core with one lane)")
        self.stream_width = streams[0] if streams else None
        self.regmap = core.regmap
        members = {"irq": Out(1)}
        if divisor is None:
            members.update({"rx": In(byte_stream()), "tx": Out(byte_stream())})
        else:
            members.update({"uart_rx": In(1, init=1), "uart_tx": Out(1, init=1)})
        super().__init__(members)

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.bridge = bridge = self.bridge
        m.submodules.host = host = ByteBridge(len(bridge.s_axil.awaddr),
                                              self.regmap.address("STATUS"), self.stream_width)
        wiring.connect(m, host.m_axil, bridge.s_axil)
        if self.stream_width:
            wiring.connect(m, host.m_axis, bridge.s_axis)
        m.d.comb += self.irq.eq(bridge.irq)
        if self.divisor is None:
            wiring.connect(m, wiring.flipped(self.rx), host.rx)
            wiring.connect(m, host.tx, wiring.flipped(self.tx))
        else:
            m.submodules.uart_rx = urx = UartRx(self.divisor)
            m.submodules.uart_tx = utx = UartTx(self.divisor)
            # the UART has no back-pressure: bytes wait here while the bridge works
            m.submodules.fifo = fifo = SyncFIFOBuffered(width=8, depth=RX_FIFO_DEPTH)
            m.d.comb += [urx.rx.eq(self.uart_rx), self.uart_tx.eq(utx.tx),
                         fifo.w_data.eq(urx.out.data), fifo.w_en.eq(urx.out.valid),
                         host.rx.data.eq(fifo.r_data), host.rx.valid.eq(fifo.r_rdy),
                         fifo.r_en.eq(host.rx.ready)]
            wiring.connect(m, host.tx, utx.inp)
        return m
