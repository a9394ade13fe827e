"""What the one-hot and dense cores share: ports, the programming-port decoder (generated from the
register map, :mod:`pysampler.contract.regmap`), the sticky error flags, the run sequencer, the
generator and the update engine.

Run sequence (:class:`~pysampler.contract.regmap.Phase`; one p-bit update per clock in RUN)::

    IDLE --start--> INIT (1 clock: init policy; random_onehot takes one draw)
         --> FILL (1 clock: the one-hot core's h pipeline fills)
         --> PRIME (1 clock: look up the field of unit 0)
         --> RUN (sweeps * n_active clocks: decide unit i, look up unit i+1) --> IDLE, done = 1

A core subclass names its :attr:`PbitCore.core` (which selects its register map) and provides the
datapath: :meth:`PbitCore.datapath` gets the shared signals, must drive the engine's two candidate
ROM addresses in PRIME (unit 0) and in RUN (unit ``nxt``), keeps its own state, and writes its
memory regions when the decoder's ``written[name]`` strobe is high.
"""

from __future__ import annotations

from contextlib import nullcontext
from types import SimpleNamespace

from amaranth import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, Signature

from pysampler.contract import regmap as rm
from pysampler.contract.config import HwConfig
from pysampler.contract.regmap import Core, Err, Init, Phase

from .lut import UpdateEngine
from .rng import Rng

__all__ = ["PbitCore", "flag", "program_port", "prog_signature"]


def flag(m: Module, err_set: Signal, mask: Err) -> None:
    """Raise the sticky error flag ``mask`` this clock."""
    m.d.comb += err_set[mask.bit_length() - 1].eq(1)


def prog_signature(regmap: rm.CoreMap) -> Signature:
    """The programming port, seen from its master: the write side ``addr`` (region and offset of
    the map's layout), ``data``, ``we`` and ``werr`` (the core refused the write of this clock:
    it raised an error flag); the read side ``raddr``, ``rdata`` (combinational: the register at
    ``raddr`` in this clock) and ``rerr`` (``raddr`` holds no readable register)."""
    return Signature({"addr": Out(regmap.addr_bits), "data": Out(rm.DATA_BITS), "we": Out(1),
                      "werr": In(1), "raddr": Out(regmap.addr_bits), "rdata": In(rm.DATA_BITS),
                      "rerr": In(1)})


class PbitCore(wiring.Component):
    """Base of the one-hot and dense cores (see the module docstring).

    Parameters
    ----------
    cfg : HwConfig
    debug_trace : bool
        Also put the field, LUT value and draw of every update on the trace port (simulation);
        False keeps the pin count down for FPGA builds.

    Attributes
    ----------
    regmap : CoreMap
        The core's register map (:mod:`pysampler.contract.regmap`), from :attr:`core`.
    prog : In(addr, data, we, werr, raddr, rdata, rerr)
        Programming port (:func:`prog_signature`): ``addr`` and ``raddr`` REGION_BITS +
        offset_bits wide, ``data`` and ``rdata`` 32 bits.
    start : In(1)
        Start a run (sampled while IDLE): ``sweeps`` sweeps from the ``init`` policy (a START
        register write does the same with the fields of its data word).
    sweeps : In(16)
        Sweeps per run, >= 1.
    init : In(Init)
        The init policy (:class:`~pysampler.contract.regmap.Init`; which cores take which:
        ``INIT_CORES``).
    busy, done : Out(1)
        ``busy`` while a run is under way; ``done`` from its end until the next accepted start.
    irq : Out(1)
        ``done`` while the IRQ_ENABLE register is 1.
    err : Out(7)
        Sticky error flags (:class:`~pysampler.contract.regmap.Err`), cleared by reset or a
        CLEAR_ERR write.
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

    #: which core of the register map this is (set by the subclass)
    core: Core
    #: lambda-schedule entries the core holds (0: none; the one-hot core has up to SCHEDULE_DEPTH)
    schedule_depth = 0

    def __init__(self, cfg: HwConfig, *, debug_trace: bool = True):
        self.cfg = cfg
        self.debug_trace = debug_trace
        self.regmap = rm.CoreMap.of(self.core, cfg, self.schedule_depth)
        n = cfg.n_pbits
        self.idx_bits = rm.index_bits(n)
        trace = {"valid": Out(1), "index": Out(self.idx_bits), "bit": Out(1)}
        if debug_trace:
            trace.update({"field": Out(signed(cfg.field_bits)), "lut": Out(cfg.prob_bits + 1),
                          "u": Out(cfg.prob_bits)})
        super().__init__({
            "prog": In(prog_signature(self.regmap)),
            "start": In(1), "sweeps": In(rm.SWEEPS_BITS), "init": In(Init),
            "busy": Out(1), "done": Out(1), "irq": Out(1), "err": Out(rm.ERR_BITS),
            "popcount": Out(range(n + 1)), "token": Out(self.idx_bits), "onehot": Out(1),
            "rd_addr": In(self.idx_bits), "rd_data": Out(1),
            "trace": Out(Signature(trace)),
        })

    # --- hook for the cores ---------------------------------------------------------------------
    def datapath(self, m: Module, c: SimpleNamespace) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def accepts_init(self, code: Init) -> bool:
        return rm.accepts_init(self.core, code)

    # --- shared logic ---------------------------------------------------------------------------
    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        m.submodules.rng = rng = Rng(cfg)
        m.submodules.engine = engine = UpdateEngine(cfg)

        phase = Signal(Phase, init=Phase.IDLE)
        init_mode = Signal(Init)
        sweeps_left = Signal(rm.SWEEPS_BITS)
        first_sweep = Signal()
        idx = Signal(self.idx_bits)
        k_init = Signal(self.idx_bits)
        busy = phase != Phase.IDLE
        m.d.comb += self.busy.eq(busy)
        m.d.comb += engine.u.eq(rng.u)

        port = program_port(m, self.prog, busy, self.regmap, rng, done=self.done,
                            status={"TOKEN": self.token, "POPCOUNT": self.popcount,
                                    "ONEHOT": self.onehot})
        n_active, err_set = port.n_active, port.err_set
        m.d.comb += [self.err.eq(port.err), self.irq.eq(port.irq)]
        start = self.start | port.start
        sweeps = Mux(port.start, port.start_sweeps, self.sweeps)
        init = Signal(Init)
        m.d.comb += init.eq(Mux(port.start, port.start_init, self.init))

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
        # core's running sums assume (the map's keep_stale registers).
        stale = Signal(init=1)  # only a core that accepts KEEP reads it
        for code in Init:
            if self.accepts_init(code):
                with m.If(init == code):
                    m.d.comb += init_ok.eq(1 if code != Init.KEEP else ~stale)
        with m.If(start):
            with m.If(busy):
                flag(m, err_set, Err.BUSY_START)
            with m.Elif((sweeps == 0) | ~init_ok):
                flag(m, err_set, Err.BAD_START)
            with m.Else():
                m.d.sync += [phase.eq(Phase.INIT), init_mode.eq(init),
                             sweeps_left.eq(sweeps), first_sweep.eq(init != Init.KEEP),
                             idx.eq(0), self.done.eq(0)]
                if self.schedule_depth:
                    m.d.sync += [ahead[w].eq(schedule_entry(sweeps - w)) for w in range(3)]

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
        with m.If(phase == Phase.INIT):
            m.d.sync += phase.eq(Phase.FILL)
            with m.If(init_mode == Init.RANDOM_ONEHOT):
                m.d.comb += rng.advance.eq(1)
                m.d.sync += k_init.eq(k_now)
        with m.If(phase == Phase.FILL):
            m.d.sync += phase.eq(Phase.PRIME)
        with m.If(phase == Phase.PRIME):
            m.d.sync += phase.eq(Phase.RUN)
        with m.If(phase == Phase.RUN):
            m.d.comb += rng.advance.eq(1)
            m.d.sync += idx.eq(nxt)
            with m.If(last_unit):
                m.d.sync += first_sweep.eq(0)
                with m.If(sweeps_left == 1):
                    m.d.sync += [phase.eq(Phase.IDLE), self.done.eq(1)]
                    if self.accepts_init(Init.KEEP):
                        m.d.sync += stale.eq(0)
                with m.Else():
                    m.d.sync += sweeps_left.eq(sweeps_left - 1)
                    if self.schedule_depth:
                        m.d.sync += [ahead[0].eq(ahead[1]), ahead[1].eq(ahead[2]),
                                     ahead[2].eq(schedule_entry(sweeps_left - 3))]

        if self.accepts_init(Init.KEEP):
            with m.If(port.chain_reset):
                m.d.sync += stale.eq(1)

        c = SimpleNamespace(
            k_now=k_now, phase=phase, idx=idx, nxt=nxt, nxt2=nxt2, nxt3=nxt3,
            first_sweep=first_sweep,
            last_unit=last_unit, entry_ahead=ahead,
            sched_offsets=getattr(port, "sched_offsets", []),
            sched_couplings=getattr(port, "sched_couplings", []),
            n_active=n_active, init_mode=init_mode, k_init=k_init,
            init_onehot=(init_mode == Init.RANDOM_ONEHOT), keep=(init_mode == Init.KEEP),
            engine=engine, rng=rng, written=port.written, offset=port.offset,
            data=self.prog.data, err_set=err_set, new=engine.bit)
        self.datapath(m, c)

        m.d.comb += [self.trace.valid.eq(phase == Phase.RUN), self.trace.index.eq(idx),
                     self.trace.bit.eq(engine.bit), self.onehot.eq(self.popcount == 1)]
        if self.debug_trace:
            m.d.comb += [self.trace.lut.eq(engine.lut_value), self.trace.u.eq(rng.u)]
        return m


def program_port(m: Module, prog, busy, regmap: rm.CoreMap, rng: Rng, *, done,
                 status: dict) -> SimpleNamespace:
    """The programming port's decoder, generated from the core's register map
    (:class:`pysampler.contract.regmap.CoreMap`), the sticky error flags, the read side, the run
    counters and the interrupt.

    Every write while not busy is matched against the map: an address it does not hold as
    writable raises ``Err.ADDR``, a value the register does not accept its check's flag; otherwise
    the value goes to its storage: the decoder's own flip-flops (``Storage.FLOPS``, created here
    with the map's widths and resets), the generator (``Storage.SEED``), or the core
    (``Storage.CORE``: a memory region; the core writes it when ``written[name]`` is high, at the
    port's ``offset``). A region of unit arrays in pages (the graph core's STATE region: entry i
    of the page-k array at ``k << index_bits | i``) is decoded by page, the unit at ``index``;
    a per-unit generator word (``Storage.SEED`` array: LANE_SEED_LO/HI) raises ``written[name]``
    with the whole state on ``lane_seed`` when its loading word is written (a zero state raises
    ``Err.SEED``), the words below it held in one register shared by the units. A write while busy is refused with its register's ``busy_flag``
    (``Err.BUSY_START`` for START, else ``Err.BUSY_WRITE``). ``prog.werr`` is high in the clock
    of a write that raised a flag.

    Reads (``prog.raddr`` -> ``prog.rdata``, combinational) return every readable register of
    the map: the flip-flops (signed ones sign-extended), the generator's state words, the
    constants, and the status: STATUS (from ``busy``, ``done``, the flags and ``status["ONEHOT"]``
    where given), ERR, RUNS and CYCLES (counted here from ``busy``) and the core's own signals in
    ``status`` (TOKEN, POPCOUNT: each register of ``Storage.STATUS`` the map gives the core must
    be there). Any other address sets ``prog.rerr``.

    Returns
    -------
    SimpleNamespace
        ``region``, ``offset``, ``data``, ``data_s`` (the data word as signed); ``err`` (the
        flags) and ``err_set`` (raise flags this clock, :func:`flag`); ``written``: name -> a
        strobe, for the ``CORE`` and strobe registers; ``chain_reset``: a write that leaves a
        kept chain stale (the map's ``keep_stale``); the flip-flop registers: ``regs`` (name ->
        list of signals, one per index, aliases resolved) and by name ``n_active``, ``coupling``
        and, when the core has a schedule, ``sched_len``, ``sched_offsets``, ``sched_couplings``;
        ``start`` (a START write this clock) with ``start_sweeps`` and ``start_init`` (its
        fields), and ``irq``; ``index`` (the unit of a paged write) and ``lane_seed`` (the state
        of a per-unit generator load). ``rng`` may be None for a core without a shared
        generator (the graph core).
    """
    region = prog.addr[regmap.offset_bits:]
    offset = prog.addr[:regmap.offset_bits]
    data_s = prog.data.as_signed()
    write = Signal()
    # Only the flags this core can raise get a bit here (flag() on another one fails at
    # elaboration); the others stay 0 in ``err``. A bit that is never raised would be emitted as a
    # constant `always @*` block, which Icarus never runs (X) and Verilator's lint rejects.
    err_set = Signal(max(f.bit_length() for f in rm.err_flags(regmap.core)))
    err = Signal(rm.ERR_BITS)
    m.d.comb += write.eq(prog.we & ~busy)
    with m.If(prog.we & busy):
        special = [reg for reg in regmap.registers if reg.busy_flag is not rm.Err.BUSY_WRITE]
        for k, reg in enumerate(special):
            with (m.If if k == 0 else m.Elif)(prog.addr == regmap.address(reg.name)):
                flag(m, err_set, reg.busy_flag)
        with (m.Else() if special else nullcontext()):
            flag(m, err_set, rm.Err.BUSY_WRITE)

    regs = _flops(regmap)
    written = {reg.name: Signal(name=f"{reg.name.lower()}_written") for reg in regmap.registers
               if reg.storage in (rm.Storage.CORE, rm.Storage.NONE)
               or (reg.storage is rm.Storage.SEED and reg.is_array)}
    seed_words = _seed_words(regmap)
    # a per-unit generator's state (the graph core's LANE_SEED words), valid with its strobe
    lane_seed = Signal(regmap.params.rng_bits)
    unit_index = offset[:rm.index_bits(regmap.params.n_pbits)]  # the unit of a paged register
    chain_reset = Signal()  # a write that invalidates a kept chain
    fits = {}

    def accepted(reg: rm.Register):
        """The data word passes ``reg``'s check (one comparator pair per check)."""
        bounds = regmap.bounds(reg)
        if bounds is None:
            return None
        if reg.check not in fits:
            value = data_s if reg.check.signed else prog.data
            lo, hi = bounds
            fits[reg.check] = (value <= hi) if lo == 0 and not reg.check.signed \
                else (value >= lo) & (value <= hi)
        return fits[reg.check]

    def store(reg: rm.Register, index) -> None:
        ok = accepted(reg)
        with (m.If(ok) if ok is not None else nullcontext()):
            if reg.storage is rm.Storage.FLOPS:
                m.d.sync += regs[reg.name][index or 0].eq(data_s if reg.check.signed else prog.data)
            elif reg.storage is rm.Storage.SEED and reg.is_array:
                _lane_seed_write(m, reg, regmap, prog.data, seed_words, lane_seed,
                                 written[reg.name], err_set)
            elif reg.storage is rm.Storage.SEED:
                _seed_write(m, reg, regmap, prog.data, seed_words, rng, err_set)
            else:
                m.d.comb += written[reg.name].eq(1)
        if ok is not None:
            with m.Else():
                flag(m, err_set, reg.check.error)

    with m.If(write):
        with m.Switch(region):
            for reg_region in regmap.regions:
                with m.Case(reg_region):
                    held = regmap.in_region(reg_region)
                    if any(reg.offsets.page for reg in held):  # pages of unit arrays
                        _paged_region(m, held, regmap, offset, unit_index, store, err_set)
                        continue
                    if held[0].storage is rm.Storage.CORE:  # a memory region: one array
                        with m.If(~_in_range(held[0], regmap, offset)):
                            flag(m, err_set, rm.Err.ADDR)
                        with m.Else():
                            store(held[0], None)
                        continue
                    with m.Switch(offset):
                        for reg in held:
                            for index in regmap.indices(reg):
                                with m.Case(regmap.offset(reg.name if index is None
                                                          else (reg.name, index))):
                                    if not reg.access.writable:
                                        flag(m, err_set, rm.Err.ADDR)
                                        continue
                                    if reg.keep_stale:
                                        m.d.comb += chain_reset.eq(1)
                                    store(reg, index)
                        with m.Default():
                            flag(m, err_set, rm.Err.ADDR)
            with m.Default():
                flag(m, err_set, rm.Err.ADDR)

    clear = written["CLEAR_ERR"]
    m.d.sync += err.eq(Mux(clear, 0, err | err_set))
    m.d.comb += prog.werr.eq(prog.we & (err_set != 0))

    # Run counters, from busy: RUNS counts the runs that ended, CYCLES the clocks of the last.
    busy_q = Signal()
    runs, cycles = Signal(32), Signal(32)
    m.d.sync += busy_q.eq(busy)
    with m.If(busy & ~busy_q):
        m.d.sync += cycles.eq(1)
    with m.Elif(busy & (cycles != 0xFFFFFFFF)):
        m.d.sync += cycles.eq(cycles + 1)
    with m.If(busy_q & ~busy):
        m.d.sync += runs.eq(runs + 1)
    state_bits = Signal(rm.Status)
    m.d.comb += state_bits.eq(Cat(busy, done, err != 0, status.get("ONEHOT", 0)))
    sources = {"STATUS": state_bits, "ERR": err, "RUNS": runs, "CYCLES": cycles,
               **{name: value for name, value in status.items() if name != "ONEHOT"}}
    _read_port(m, prog, regmap, regs, rng, sources)

    start_reg = regmap["START"]
    sweeps_field, init_field = (regmap.field("START", name) for name in ("SWEEPS", "INIT"))
    irq = Signal()
    m.d.comb += irq.eq(done & regs["IRQ_ENABLE"][0])
    named = {"n_active": "N_ACTIVE", "sched_len": "SCHED_LEN", "sched_offsets": "SCHED_OFFSET",
             "sched_couplings": "SCHED_COUPLING"}
    return SimpleNamespace(
        region=region, offset=offset, data=prog.data, data_s=data_s, err_set=err_set, err=err,
        written=written, chain_reset=chain_reset, regs=regs,
        coupling=regs["COUPLING"][0] if "COUPLING" in regs else None,
        index=unit_index, lane_seed=lane_seed,
        start=written[start_reg.name], irq=irq,
        start_sweeps=prog.data[sweeps_field.lsb:sweeps_field.lsb + sweeps_field.width],
        start_init=prog.data[init_field.lsb:init_field.lsb + init_field.width],
        **{key: (regs[name] if regmap[name].is_array else regs[name][0])
           for key, name in named.items() if name in regmap})


def _read_port(m: Module, prog, regmap: rm.CoreMap, regs: dict, rng: Rng,
               sources: dict) -> None:
    """``prog.rdata`` / ``prog.rerr`` from ``prog.raddr``: a case per readable register entry."""
    m.d.comb += prog.rerr.eq(0)
    with m.Switch(prog.raddr):
        for reg in regmap.readable():
            for index in regmap.indices(reg):
                with m.Case(regmap.address(reg.name if index is None else (reg.name, index))):
                    if reg.storage is rm.Storage.FLOPS:
                        value = regs[reg.name][index or 0]
                    elif reg.storage is rm.Storage.SEED:
                        value = rng.state[32 * reg.word:32 * (reg.word + 1)]
                    elif reg.storage is rm.Storage.CONST:
                        value = Const(regmap.value(reg), rm.DATA_BITS)
                    else:
                        if reg.name not in sources:
                            raise ValueError(f"the {regmap.core.value} core gives no signal for "
                                             f"its readable register {reg.name}")
                        value = sources[reg.name]
                    m.d.comb += prog.rdata.eq(value)
        with m.Default():
            m.d.comb += prog.rerr.eq(1)


def _flops(regmap: rm.CoreMap) -> dict[str, list[Signal]]:
    """The decoder's registers, one signal per index, with the map's widths and resets; an
    array whose entry 0 is another register (``alias_of0``) shares that register's signal."""
    regs: dict[str, list[Signal]] = {}
    for reg in regmap.registers:
        if reg.storage is not rm.Storage.FLOPS:
            continue
        shape = signed(regmap.width(reg)) if reg.check.signed else unsigned(regmap.width(reg))
        signals = []
        for index in regmap.indices(reg):
            if index == 0 and reg.alias_of0:
                signals.append(regs[reg.alias_of0][0])
                continue
            name = reg.name.lower() + ("" if index is None else str(index))
            signals.append(Signal(shape, init=regmap.reset(reg), name=name))
        regs[reg.name] = signals
    return regs


def _seed_words(regmap: rm.CoreMap) -> dict[int, Signal]:
    """Holding registers of the seed words below the one that loads the generator."""
    words = sorted(reg.word for reg in regmap.registers if reg.storage is rm.Storage.SEED)
    return {reg.word: Signal(32, init=regmap.reset(reg), name=reg.name.lower())
            for reg in regmap.registers if reg.storage is rm.Storage.SEED and reg.word < words[-1]}


def _seed_write(m: Module, reg: rm.Register, regmap: rm.CoreMap, data, held: dict, rng: Rng,
                err_set: Signal) -> None:
    """A seed word: held until the last word, whose write loads {word_k, ..., word_0}."""
    if reg.word in held:
        m.d.sync += held[reg.word].eq(data)
        return
    state = Cat(*[held[k] for k in sorted(held)], data[:regmap.params.rng_bits - 32 * reg.word])
    with m.If(state == 0):
        flag(m, err_set, reg.check.error)
    with m.Else():
        m.d.comb += [rng.seed.eq(state), rng.load.eq(1)]


def _lane_seed_write(m: Module, reg: rm.Register, regmap: rm.CoreMap, data, held: dict,
                     state: Signal, strobe: Signal, err_set: Signal) -> None:
    """A word of a per-unit generator (LANE_SEED_LO/HI[i]): the words below the loading one go
    to one holding register shared by every unit (write LO[i], then HI[i]); the loading word
    raises ``strobe`` with the whole ``state`` (the core loads unit i's generator), or
    ``Err.SEED`` when that state is 0."""
    if reg.word in held:
        m.d.sync += held[reg.word].eq(data)
        return
    m.d.comb += state.eq(Cat(*[held[k] for k in sorted(held)],
                             data[:regmap.params.rng_bits - 32 * reg.word]))
    with m.If(state == 0):
        flag(m, err_set, reg.check.error)
    with m.Else():
        m.d.comb += strobe.eq(1)


def _paged_region(m: Module, held: list, regmap: rm.CoreMap, offset, index, store,
                  err_set: Signal) -> None:
    """A region of unit arrays, one a page (the graph core's STATE region: the initial state,
    the clamps, the generator words): entry i of the page-k array at ``k << index_bits | i``."""
    ib = rm.index_bits(regmap.params.n_pbits)
    with m.Switch(offset >> ib):
        for reg in held:
            assert reg.is_array and reg.offsets.base == 0 and reg.offsets.stride == 1, reg.name
            with m.Case(reg.offsets.page):
                with m.If(index < _count(reg, regmap)):
                    store(reg, None)
                with m.Else():
                    flag(m, err_set, rm.Err.ADDR)
        with m.Default():
            flag(m, err_set, rm.Err.ADDR)


def _count(reg: rm.Register, regmap: rm.CoreMap) -> int:
    """Entries of the array ``reg`` in this build (per side for a matrix)."""
    return regmap.count(reg)


def _in_range(reg: rm.Register, regmap: rm.CoreMap, offset):
    """The offset names an entry of the array ``reg`` that fills a memory region."""
    n = regmap.params.n_pbits
    if reg.offsets.matrix:
        b = rm.index_bits(n)
        return ((offset >> (2 * b)) == 0) & (offset[b:2 * b] < n) & (offset[:b] < n)
    assert reg.offsets == rm.Offsets(), f"{reg.name}: a memory array starts at offset 0, stride 1"
    return offset < _count(reg, regmap)
