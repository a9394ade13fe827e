"""What the one-hot core and the dense array share: ports, programming-port registers, error flags,
the run sequencer, the generator and the update engine.

Run sequence (one p-bit update per clock in RUN)::

    IDLE --start--> INIT (1 clock: init policy; random_onehot takes one draw)
         --> FILL (1 clock: the one-hot core's h pipeline fills)
         --> PRIME (1 clock: look up the field of unit 0)
         --> RUN (sweeps * n_active clocks: decide unit i, look up unit i+1) --> IDLE, done = 1

A core subclass provides the datapath: :meth:`PbitCore.datapath` gets the shared signals and must
drive ``engine.field`` in PRIME (unit 0) and in RUN (unit ``nxt``), and keep its own state.
"""

from __future__ import annotations

from types import SimpleNamespace

from amaranth import Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, Signature

from pysampler.contract.config import HwConfig
from pysampler.contract.rng import derive_state

from pysampler.contract import regmap as rm
from .lut import UpdateEngine
from .rng import Rng

__all__ = ["PbitCore", "IDLE", "INIT", "FILL", "PRIME", "RUN", "flag", "write_h", "program_port"]

IDLE, INIT, FILL, PRIME, RUN = 0, 1, 2, 3, 4


def _bit(mask: int) -> int:
    """Bit position of a one-bit error mask."""
    return mask.bit_length() - 1


def flag(m: Module, err_set: Signal, mask: int) -> None:
    """Raise the sticky error flag ``mask`` (a :mod:`hw.regmap` ERR_* constant) this cycle."""
    m.d.comb += err_set[_bit(mask)].eq(1)


def write_h(m: Module, c: SimpleNamespace, h_wr, n: int) -> None:
    """Handle a write to the H region (inside ``with m.If(c.write & region == H)``): offsets past
    n_pbits and values that do not fit weight_bits are flagged and dropped."""
    with m.If(c.offset >= n):
        flag(m, c.err_set, rm.ERR_ADDR)
    with m.Elif(~c.fits_weight):
        flag(m, c.err_set, rm.ERR_VALUE)
    with m.Else():
        m.d.comb += [h_wr.addr.eq(c.offset), h_wr.data.eq(c.data), h_wr.en.eq(1)]


class PbitCore(wiring.Component):
    """Base of the p-bit cores (see the module docstring).

    Parameters
    ----------
    cfg : HwConfig
    dense : bool
        Address map of the dense array (J and STATE regions) rather than the one-hot core.
    debug_trace : bool
        Also put the field, LUT value and draw of every update on the trace port (simulation);
        False keeps the pin count down for FPGA builds.

    Attributes
    ----------
    prog : In(addr, data, we)
        Programming port (:mod:`hw.regmap`), ``addr`` 2 + offset_bits wide, ``data`` 32 bits.
    start : In(1)
        Start a run (sampled while IDLE): ``sweeps`` sweeps from the ``init`` policy.
    sweeps : In(16)
        Sweeps per run, >= 1.
    init : In(2)
        :data:`hw.regmap.INIT_ZEROS`, ``INIT_RANDOM_ONEHOT``, ``INIT_GIVEN`` (dense only) or
        ``INIT_KEEP`` (one-hot only: go on from the last run's state).
    busy, done : Out(1)
        ``busy`` while a run is under way; ``done`` from its end until the next accepted start.
    err : Out(6)
        Sticky error flags (:mod:`hw.regmap`), cleared by reset or a CLEAR_ERR write.
    popcount : Out(ceil_log2(n_pbits + 1))
        Units on.
    token : Out(index_bits)
        XOR of the indices of the units that are on: the token when ``onehot``.
    onehot : Out(1)
        popcount == 1.
    rd_addr : In(index_bits), rd_data : Out(1)
        State read-out: y[rd_addr], one clock later.
    trace : Out(valid, index, bit[, field, lut, u])
        One beat per update, in the cycle the unit is decided.
    """

    def __init__(self, cfg: HwConfig, *, dense: bool, debug_trace: bool = True):
        self.cfg = cfg
        self.dense = dense
        self.debug_trace = debug_trace
        n = cfg.n_pbits
        self.idx_bits = rm.index_bits(n)
        trace = {"valid": Out(1), "index": Out(self.idx_bits), "bit": Out(1)}
        if debug_trace:
            trace.update({"field": Out(signed(cfg.field_bits)), "lut": Out(cfg.prob_bits + 1),
                          "u": Out(cfg.prob_bits)})
        super().__init__({
            "prog": In(Signature({
                "addr": Out(2 + rm.offset_bits(n, dense)), "data": Out(rm.DATA_BITS), "we": Out(1)})),
            "start": In(1), "sweeps": In(rm.SWEEPS_BITS), "init": In(2),
            "busy": Out(1), "done": Out(1), "err": Out(rm.ERR_BITS),
            "popcount": Out(range(n + 1)), "token": Out(self.idx_bits), "onehot": Out(1),
            "rd_addr": In(self.idx_bits), "rd_data": Out(1),
            "trace": Out(Signature(trace)),
        })

    #: lambda-schedule entries the core holds (0: none; the one-hot core has rm.SCHEDULE_DEPTH)
    schedule_depth = 0

    # --- hooks for the cores ------------------------------------------------------------------
    def datapath(self, m: Module, c: SimpleNamespace) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def accepts_init(self, code: int) -> bool:
        return code in (rm.INIT_ZEROS, rm.INIT_RANDOM_ONEHOT)

    # --- shared logic ---------------------------------------------------------------------------
    def elaborate(self, platform) -> Module:
        m = Module()
        cfg, n = self.cfg, self.cfg.n_pbits
        m.submodules.rng = rng = Rng(cfg)
        m.submodules.engine = engine = UpdateEngine(cfg)

        phase = Signal(range(5), init=IDLE)
        init_mode = Signal(2)
        sweeps_left = Signal(rm.SWEEPS_BITS)
        first_sweep = Signal()
        idx = Signal(self.idx_bits)
        k_init = Signal(self.idx_bits)
        busy = phase != IDLE
        m.d.comb += self.busy.eq(busy)
        m.d.comb += engine.u.eq(rng.u)

        port = program_port(m, self.prog, busy, cfg, rng, n, rm.offset_bits(n, self.dense),
                            self.schedule_depth)
        region, offset, write, err_set = port.region, port.offset, port.write, port.err_set
        n_active, coupling, data_s, fits_weight = (port.n_active, port.coupling, port.data_s,
                                                   port.fits_weight)
        m.d.comb += self.err.eq(port.err)

        # Lambda-schedule entries of the current sweep and of the next two, max(0, T - r) for
        # r = sweeps left (this sweep included) minus 0, 1, 2; registers, shifted at sweep ends,
        # so the core picks the entry of a unit up to two sweep ends ahead without arithmetic.
        ahead = [Signal(range(max(self.schedule_depth, 2)), name=f"entry_ahead{w}")
                 for w in range(3)]

        def schedule_entry(sweeps_remaining):
            left = Signal(signed(rm.SWEEPS_BITS + 2))
            m.d.comb += left.eq(sweeps_remaining)
            return Mux(left >= port.sched_len, 0, port.sched_len - left)

        # Start.
        init_ok = Signal()
        m.d.comb += init_ok.eq(0)
        # KEEP needs a chain to keep: a finished run, and no write since that changes what the
        # core's running sums assume (the couplings, N_ACTIVE).
        stale = Signal(init=1)  # only a core that accepts KEEP reads it
        for code in (rm.INIT_ZEROS, rm.INIT_RANDOM_ONEHOT, rm.INIT_GIVEN, rm.INIT_KEEP):
            if self.accepts_init(code):
                with m.If(self.init == code):
                    m.d.comb += init_ok.eq(1 if code != rm.INIT_KEEP else ~stale)
        with m.If(self.start):
            with m.If(busy):
                flag(m, err_set, rm.ERR_BUSY_START)
            with m.Elif((self.sweeps == 0) | ~init_ok):
                flag(m, err_set, rm.ERR_BAD_START)
            with m.Else():
                m.d.sync += [phase.eq(INIT), init_mode.eq(self.init), sweeps_left.eq(self.sweeps),
                             first_sweep.eq(self.init != rm.INIT_KEEP), idx.eq(0),
                             self.done.eq(0)]
                if self.schedule_depth:
                    m.d.sync += [ahead[w].eq(schedule_entry(self.sweeps - w)) for w in range(3)]

        # Index arithmetic.
        last_unit = idx == n_active - 1
        nxt, nxt2, nxt3 = (Signal(self.idx_bits, name=f"nxt{k}") for k in ("", "2", "3"))
        m.d.comb += nxt.eq(Mux(last_unit, 0, idx + 1))
        m.d.comb += nxt2.eq(Mux(nxt == n_active - 1, 0, nxt + 1))
        m.d.comb += nxt3.eq(Mux(nxt2 == n_active - 1, 0, nxt2 + 1))

        # random_onehot init: one draw, unit (u * n_active) >> prob_bits.
        product = Signal(cfg.prob_bits + self.idx_bits + 1)
        m.d.comb += product.eq(rng.u * n_active)
        k_now = Signal(self.idx_bits)
        m.d.comb += k_now.eq(product >> cfg.prob_bits)
        with m.If(phase == INIT):
            m.d.sync += phase.eq(FILL)
            with m.If(init_mode == rm.INIT_RANDOM_ONEHOT):
                m.d.comb += rng.advance.eq(1)
                m.d.sync += k_init.eq(k_now)
        with m.If(phase == FILL):
            m.d.sync += phase.eq(PRIME)
        with m.If(phase == PRIME):
            m.d.sync += phase.eq(RUN)
        with m.If(phase == RUN):
            m.d.comb += rng.advance.eq(1)
            m.d.sync += idx.eq(nxt)
            with m.If(last_unit):
                m.d.sync += first_sweep.eq(0)
                with m.If(sweeps_left == 1):
                    m.d.sync += [phase.eq(IDLE), self.done.eq(1)]
                    if self.accepts_init(rm.INIT_KEEP):
                        m.d.sync += stale.eq(0)
                with m.Else():
                    m.d.sync += sweeps_left.eq(sweeps_left - 1)
                    if self.schedule_depth:
                        m.d.sync += [ahead[0].eq(ahead[1]), ahead[1].eq(ahead[2]),
                                     ahead[2].eq(schedule_entry(sweeps_left - 3))]

        if self.accepts_init(rm.INIT_KEEP):
            with m.If(port.chain_reset):
                m.d.sync += stale.eq(1)

        c = SimpleNamespace(
            k_now=k_now, phase=phase, idx=idx, nxt=nxt, nxt2=nxt2, nxt3=nxt3, first_sweep=first_sweep,
            last_unit=last_unit, entry_ahead=ahead,
            sched_offsets=port.sched_offsets, sched_couplings=port.sched_couplings,
            n_active=n_active, coupling=coupling, init_mode=init_mode, k_init=k_init,
            init_onehot=(init_mode == rm.INIT_RANDOM_ONEHOT), keep=(init_mode == rm.INIT_KEEP),
            engine=engine, rng=rng,
            write=write, region=region, offset=offset, data=self.prog.data, data_s=data_s,
            fits_weight=fits_weight, err_set=err_set, new=engine.bit)
        self.datapath(m, c)

        m.d.comb += [self.trace.valid.eq(phase == RUN), self.trace.index.eq(idx),
                     self.trace.bit.eq(engine.bit), self.onehot.eq(self.popcount == 1)]
        if self.debug_trace:
            m.d.comb += [self.trace.lut.eq(engine.lut_value), self.trace.u.eq(rng.u)]
        return m


def program_port(m: Module, prog, busy, cfg: HwConfig, rng: Rng, n: int, off_bits: int,
                 schedule_depth: int = 0) -> SimpleNamespace:
    """Decode the programming port's registers (:mod:`hw.regmap`) and keep the sticky error flags.

    Returns the decoded fields for the core's own regions (``write``, ``region``, ``offset``,
    ``data``, ``data_s``, ``fits_weight`` against ``cfg``'s weight range, ``err_set`` to raise
    flags this clock) and the registers (``n_active``, ``coupling``, ``err``; with
    ``schedule_depth`` > 0 also the lambda schedule: ``sched_len``, ``sched_offsets`` and
    ``sched_couplings``, whose entry 0 is ``coupling``).
    """
    n_active = Signal(range(n + 1), init=n)
    coupling = Signal(signed(cfg.weight_bits))
    sched_len = Signal(range(schedule_depth + 2), init=1)
    sched_offsets = [Signal(signed(cfg.weight_bits), name=f"sched_offset{t}")
                     for t in range(schedule_depth)]
    sched_couplings = [coupling] + [Signal(signed(cfg.weight_bits), name=f"sched_coupling{t}")
                                    for t in range(1, schedule_depth)]
    seed_lo = Signal(32, init=derive_state(0, 0, cfg) & 0xFFFFFFFF)
    err = Signal(rm.ERR_BITS)
    region = prog.addr[off_bits:]
    offset = prog.addr[:off_bits]
    data_s = prog.data.as_signed()
    fits_weight = (data_s >= cfg.weight_min) & (data_s <= cfg.weight_max)
    write = Signal()
    err_set = Signal(rm.ERR_BITS)
    m.d.comb += write.eq(prog.we & ~busy)
    with m.If(prog.we & busy):
        flag(m, err_set, rm.ERR_BUSY_WRITE)
    with m.If(write & (region == rm.REGION_REG)):
        with m.Switch(offset):
            weight_regs = [(rm.REG_COUPLING, coupling)]
            for t in range(schedule_depth):
                weight_regs.append((rm.sched_offset_reg(t), sched_offsets[t]))
                weight_regs.append((rm.sched_coupling_reg(t), sched_couplings[t]))
            for address, register in weight_regs:
                with m.Case(address):
                    with m.If(fits_weight):
                        m.d.sync += register.eq(data_s)
                    with m.Else():
                        flag(m, err_set, rm.ERR_VALUE)
            if schedule_depth:
                with m.Case(rm.REG_SCHED_LEN):
                    with m.If((prog.data >= 1) & (prog.data <= schedule_depth)):
                        m.d.sync += sched_len.eq(prog.data)
                    with m.Else():
                        flag(m, err_set, rm.ERR_VALUE)
            with m.Case(rm.REG_N_ACTIVE):
                with m.If((prog.data >= 1) & (prog.data <= n)):
                    m.d.sync += n_active.eq(prog.data)
                with m.Else():
                    flag(m, err_set, rm.ERR_VALUE)
            with m.Case(rm.REG_SEED_LO):
                m.d.sync += seed_lo.eq(prog.data)
                if cfg.rng_bits <= 32:
                    _commit_seed(m, rng, prog.data[:cfg.rng_bits], err_set)
            with m.Case(rm.REG_SEED_HI):
                if cfg.rng_bits > 32:
                    _commit_seed(m, rng, (prog.data[:cfg.rng_bits - 32] << 32) | seed_lo,
                                 err_set)
                else:
                    flag(m, err_set, rm.ERR_ADDR)
            with m.Case(rm.REG_CLEAR_ERR):
                pass
            with m.Default():
                flag(m, err_set, rm.ERR_ADDR)

    chain_reset = Signal()  # a write that invalidates a kept chain (couplings, N_ACTIVE)
    with m.If(write & (region == rm.REGION_REG)):
        for address in [rm.REG_COUPLING, rm.REG_N_ACTIVE] + [rm.sched_coupling_reg(t)
                                                             for t in range(schedule_depth)]:
            with m.If(offset == address):
                m.d.comb += chain_reset.eq(1)
    clear = write & (region == rm.REGION_REG) & (offset == rm.REG_CLEAR_ERR)
    m.d.sync += err.eq(Mux(clear, 0, err | err_set))
    return SimpleNamespace(write=write, region=region, offset=offset, data=prog.data,
                           data_s=data_s, fits_weight=fits_weight, err_set=err_set, err=err,
                           n_active=n_active, coupling=coupling, sched_len=sched_len,
                           chain_reset=chain_reset,
                           sched_offsets=sched_offsets, sched_couplings=sched_couplings)


def _commit_seed(m: Module, rng: Rng, value, err_set: Signal) -> None:
    with m.If(value == 0):
        flag(m, err_set, rm.ERR_SEED)
    with m.Else():
        m.d.comb += [rng.seed.eq(value), rng.load.eq(1)]
