"""The colour-parallel sparse core (``pbit_graph``): every unit of one colour updates in one clock.

Contract: docs/graph.md ("What the core holds", "One sweep, exactly"); the model:
:class:`pysampler.engines.chromatic.ChromaticModel`. The topology (units, edges, each unit's D
neighbour slots, the colouring) is a build parameter, hard-wired: lane s of colour step c is
unit ``classes[c][s]`` (its lane slot), and its D neighbour bits and edge couplings are selected
by the colour from fixed wires. Everything else is written through the register map
(:class:`~pysampler.contract.regmap.CoreMap` of ``Core.GRAPH``), decoded by the shared
:func:`hw.control.program_port`.

A run::

    IDLE --start--> INIT (1 clock: y <- 0, the STATE register or y itself; clamped units forced)
         --> PRIME (1 clock: the fields of colour 0, scaled, address the lanes' ROMs)
         --> RUN (sweeps x C clocks: colour c decided, colour c + 1 addressed) --> IDLE, done

Per lane, in the clock colour c is decided: its ROM (synchronous read, block RAM) gives the LUT
entry of the address presented in the last clock, the lane compares it with its unit's draw
(``u < L``; a clamped unit takes its value) and the unit's generator advances one draw. In the
same clock the fields of the next colour are formed from the state with those new bits
(a bypass: the next colour's neighbours may be this colour's units), scaled by the beta entry
of their sweep and their ROM addresses presented: one colour step a clock, the decision and the
next colour's field in one path, as the dense core does with its one unit.

Field of lane s: ``H[u] + sum_d (y[nbr(u, d)] ? EDGE_J[edge(u, d)] : 0)`` (graph_field_bits
wide, exact), scaled as :func:`pysampler.contract.graph.scale_field`, then clamped to a LUT
address (:func:`hw.lut.lut_rom_address`). The scaling is one multiply by m_t << (7 - e_t) and a
fixed rounding shift (a DSP block a lane: ``dsp_lanes``, default every lane) or, in LUTs, a
shift-and-add multiply by m_t (five terms) and a rounding shift by 4 + e_t; the same bits. Each
lane has its own ROM read port (two lanes a ROM: a block RAM has two ports). Every unit has its
own generator (the ``cfg.rng`` of :class:`hw.rng.Rng`), unit i reset to ``derive_state(0, i)``
and loaded by its LANE_SEED words; a lane keeps its units' states in a ring of registers that
turns with the colour, one next-state network a lane (:func:`_generator_ring`).

Resources (ECP5, Yosys ``synth_ecp5``): the adder trees are chains of two-operand adders (kept
sums), the register writes one enable a register; see results/fpga.md for the lattices.
"""

from __future__ import annotations

from amaranth import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out, Signature

from pysampler.contract import regmap as rm
from pysampler.contract.config import HwConfig
from pysampler.contract.graph import (BETA_EXP_MAX, BETA_MANT_BITS, MAX_BETA_SCHEDULE,
                                      GraphTopology,
                                      graph_field_bits)
from pysampler.contract.regmap import Core, Err, Init, Phase
from pysampler.contract.rng import derive_state

from .control import flag, program_port, prog_signature
from .lut import lut_rom, lut_rom_address
from .rng import one_draw_on

__all__ = ["GraphCore", "LANES_PER_ROM", "MAX_GRAPH_CORE_UNITS", "graph_clocks", "check_topology"]

#: lanes per sigmoid ROM: a block RAM has two read ports
LANES_PER_ROM = 2
#: the largest topology the core is built for (elaboration time and the FPGA parts)
MAX_GRAPH_CORE_UNITS = 4096


def graph_clocks(topology: GraphTopology, sweeps: int) -> int:
    """Clocks a run of ``sweeps`` sweeps is busy (CYCLES): INIT, PRIME and one a colour step."""
    return 2 + sweeps * topology.n_colours


def check_topology(core: GraphTopology, program: GraphTopology) -> None:
    """Raise ValueError unless a program on ``program`` runs on a core built for ``core``: the
    same units, edges (in order) and colouring, and no unit of degree above the core's D (a
    core's wires are its topology; a program cannot bring another)."""
    if program.n != core.n:
        raise ValueError(f"program has {program.n} units; the core is built for {core.n}")
    worst = int(program.degree.max()) if program.n else 0
    if worst > core.max_degree:
        raise ValueError(f"program has a unit of degree {worst}, above the core's "
                         f"max_degree={core.max_degree}")
    if program.n_edges != core.n_edges or not (program.edges == core.edges).all():
        raise ValueError(f"program's edges differ from the core's ({program.n_edges} vs "
                         f"{core.n_edges} edges): the topology is built into the core")
    if not (program.colours == core.colours).all():
        raise ValueError("program's colouring differs from the core's (colour the graph as "
                         "the core was built, e.g. pass colouring=core.colours)")


def _tree_sum(m: Module, terms: list):
    """Balanced adder tree (Amaranth widens each sum, so nothing wraps). Each sum is a kept
    signal, so synthesis builds two-operand carry-chain adders: Yosys would otherwise merge
    the tree into one multi-operand ``$macc``, a carry-save tree of LUT full adders that costs
    ECP5 about 1.7x the LUTs of the chains."""
    if not terms:
        return Const(0, signed(2))
    while len(terms) > 1:
        level = []
        for k in range(0, len(terms), 2):
            if k + 1 == len(terms):
                level.append(terms[k])
                continue
            total = terms[k] + terms[k + 1]
            kept = Signal(total.shape(), attrs={"keep": 1})
            m.d.comb += kept.eq(total)
            level.append(kept)
        terms = level
    return terms[0]


def _pick(values: list, select):
    """``values[select]`` (signals or constants; a select past the list gives one of them) as
    a tree of two-way muxes on the select's bits. Not an ``Array``: Yosys writes that as an
    ``always @*`` case, which Icarus does not evaluate until an input changes, so a lane whose
    inputs keep their initial values would read X."""
    level = list(values)
    bit = 0
    while len(level) > 1:
        level = [Mux(select[bit], level[k + 1], level[k]) if k + 1 < len(level) else level[k]
                 for k in range(0, len(level), 2)]
        bit += 1
    return level[0]


def _write_at(m: Module, strobe, at, targets: list) -> None:
    """On ``strobe``, ``target.eq(data)`` for the k-th ``(target, data)`` of ``targets`` where
    ``at == k``: one comparator an entry, where an ``Array`` or ``bit_select`` target is a
    priority case over every index."""
    for k, (target, data) in enumerate(targets):
        with m.If(strobe & (at == k)):
            m.d.sync += target.eq(data)


def _generator_ring(m: Module, cfg: HwConfig, units: list, s: int, turn, loads: list, seed):
    """The generators of lane ``s``'s units (``units[c]``: its unit of colour c, or None) in a
    ring of C registers that turns with the colour: register k holds the state of the lane's
    unit of colour (colour + k) mod C, so register 0 is the deciding unit's. On ``turn`` (a
    colour step) register k takes register k + 1 and the last takes register 0 one draw on
    (:func:`hw.rng.one_draw_on`): the deciding units advance one draw, the others wait, as one
    :class:`hw.rng.Rng` per unit with ``advance`` on its colour would, with one next-state
    network and no draw select a lane. A run ends on the last colour (colour 0 again), and
    the port writes only while idle, so a load (``loads[c]``: unit ``units[c]``'s LANE_SEED
    strobe, ``seed`` its state) lands in register c. Returns register 0 one draw on (its top
    prob_bits: the deciding unit's draw)."""
    ring = [Signal(cfg.rng_bits, name=f"gen{s}_{c}",
                   init=derive_state(0, u, cfg) if u is not None else 1)
            for c, u in enumerate(units)]
    ahead = Signal(cfg.rng_bits, name=f"gen{s}_ahead")
    m.d.comb += ahead.eq(Cat(*one_draw_on(cfg, ring[0])))
    for c, reg in enumerate(ring):
        with m.If(loads[c]):
            m.d.sync += reg.eq(seed)
        with m.Elif(turn):
            m.d.sync += reg.eq(ring[c + 1] if c + 1 < len(ring) else ahead)
    return ahead


def _scale_by_multiply(m: Module, field, mult, s: int):
    """:func:`~pysampler.contract.graph.scale_field` as one multiply (a DSP block): with
    ``mult`` = m_t << (E - e_t) (E = BETA_EXP_MAX, K = BETA_MANT_BITS + E) the product is
    field * m_t * 2**(E - e_t), so (field * m_t + 2**(M + e_t - 1)) >> (M + e_t) =
    (product + 2**(K - 1)) >> K = ((product >> (K - 1)) + 1) >> 1 (floor((floor(x) + 1) / 2)
    = floor((x + 1) / 2)): fixed shifts, no barrel shifter, a short increment. ``field``:
    fb bits signed; the product fits fb + 5 + E bits (|m_t| < 32), the result fb + 1."""
    k = BETA_MANT_BITS + BETA_EXP_MAX
    product = Signal(signed(len(field) + BETA_MANT_BITS + 1 + BETA_EXP_MAX), name=f"product{s}")
    m.d.comb += product.eq(field * mult)
    scaled = Signal(signed(len(field) + 1), name=f"scaled{s}")
    m.d.comb += scaled.eq(((product >> (k - 1)) + 1) >> 1)
    return scaled


def _scale_by_shift_and_add(m: Module, field, mant, expo, s: int):
    """:func:`~pysampler.contract.graph.scale_field` in LUTs: field * m_t by shift-and-add (one
    term a mantissa bit), then ((product >> (M - 1 + e_t)) + 1) >> 1, the same bits as the
    rounding add before the shift (see :func:`_scale_by_multiply`) with a shorter adder and a
    shifter over e_t alone."""
    product = Signal(signed(len(field) + BETA_MANT_BITS + 1), name=f"product{s}")
    m.d.comb += product.eq(_tree_sum(m, [Mux(mant[k], field << k, 0)
                                      for k in range(BETA_MANT_BITS + 1)]))
    shifted = Signal(signed(len(product) - BETA_MANT_BITS + 1), name=f"shifted{s}")
    m.d.comb += shifted.eq((product >> (BETA_MANT_BITS - 1)) >> expo)
    scaled = Signal(signed(len(field) + 1), name=f"scaled{s}")
    m.d.comb += scaled.eq((shifted + 1) >> 1)
    return scaled


class GraphCore(wiring.Component):
    """The graph core for one topology (see the module docstring).

    Parameters
    ----------
    cfg : HwConfig
        Widths: h and J weight_bits, the LUT, the generators (cfg.n_pbits is not used: the
        topology sets the size).
    topology : GraphTopology
        Units (1..MAX_GRAPH_CORE_UNITS), edges, the degree D and the colouring.
    beta_depth : int
        Entries of the beta table, 1..MAX_BETA_SCHEDULE (16).
    debug_trace : bool
        Put every lane's field, LUT entry and draw on the trace port (simulation); False keeps
        (valid, colour, bits), for FPGA builds.
    dsp_lanes : int or None
        Lanes 0 .. dsp_lanes - 1 scale the field by one multiply (13 x 12 bits at the default
        widths: a DSP block, MULT18X18D on the ECP5, about 200 LUT sites a lane fewer), the others
        by shift-and-add in LUTs; None (default): every lane. Both give the same bits; a part's
        DSP count bounds it (the 85F: 156), as synthesis maps every multiply to a DSP block.

    Attributes
    ----------
    regmap : CoreMap
        ``CoreMap.of(Core.GRAPH, cfg, beta_depth, n_units=n, n_edges=E)``.
    prog : In(addr, data, we, werr, raddr, rdata, rerr)
        Programming port (:func:`hw.control.prog_signature`).
    start : In(1), sweeps : In(16), init : In(Init)
        Start a run of ``sweeps`` >= 1 sweeps from ZEROS, GIVEN (the STATE registers) or KEEP
        (the state the last run left; refused after reset with BAD_START). A START register
        write does the same with its data word's fields.
    busy, done, irq : Out(1)
    err : Out(7)
        Sticky :class:`~pysampler.contract.regmap.Err` flags.
    rd_addr : In(index_bits), rd_data : Out(1)
        State read-out: y[rd_addr], one clock later.
    trace : Out(valid, colour, bits[, field, lut, u])
        One beat per colour step: ``colour`` c, ``bits`` (L bits: slot s is the new bit of unit
        ``classes[c][s]``, 0 past the class); with ``debug_trace`` per slot the field
        (field_bits, two's complement, unscaled), the LUT entry (P + 1 bits) and the draw (P
        bits), slot s in the s-th slice.
    """

    core = Core.GRAPH

    def __init__(self, cfg: HwConfig, topology: GraphTopology, *,
                 beta_depth: int = MAX_BETA_SCHEDULE, debug_trace: bool = True,
                 dsp_lanes: int | None = None):
        if not hasattr(topology, "classes") or not hasattr(topology, "edge_slots"):
            self._MustUse__silence = True
            raise ValueError(f"topology must be a GraphTopology, got {type(topology).__name__}")
        if topology.n > MAX_GRAPH_CORE_UNITS:
            self._MustUse__silence = True
            raise ValueError(f"topology has {topology.n} units; the graph core is built for "
                             f"1..{MAX_GRAPH_CORE_UNITS}")
        if isinstance(beta_depth, bool) or not isinstance(beta_depth, int) \
                or not 1 <= beta_depth <= MAX_BETA_SCHEDULE:
            self._MustUse__silence = True
            raise ValueError(f"beta_depth must be an int in [1, {MAX_BETA_SCHEDULE}], got "
                             f"{beta_depth!r}")
        self.cfg, self.topology, self.beta_depth = cfg, topology, beta_depth
        self.debug_trace = debug_trace
        if dsp_lanes is not None and (isinstance(dsp_lanes, bool) or not isinstance(dsp_lanes, int)
                                      or not 0 <= dsp_lanes <= topology.lanes):
            self._MustUse__silence = True
            raise ValueError(f"dsp_lanes must be None or an int in [0, {topology.lanes}] (the "
                             f"lanes), got {dsp_lanes!r}")
        self.dsp_lanes = dsp_lanes
        self.regmap = rm.CoreMap.of(Core.GRAPH, cfg, beta_depth, n_units=topology.n,
                                    n_edges=topology.n_edges)
        self.field_bits = graph_field_bits(cfg, topology.max_degree)
        self.lanes = topology.lanes
        self.idx_bits = rm.index_bits(topology.n)
        lanes, p = self.lanes, cfg.prob_bits
        trace = {"valid": Out(1), "colour": Out(range(max(topology.n_colours, 2))),
                 "bits": Out(lanes)}
        if debug_trace:
            trace.update({"field": Out(self.field_bits * lanes), "lut": Out((p + 1) * lanes),
                          "u": Out(p * lanes)})
        super().__init__({
            "prog": In(prog_signature(self.regmap)),
            "start": In(1), "sweeps": In(rm.SWEEPS_BITS), "init": In(Init),
            "busy": Out(1), "done": Out(1), "irq": Out(1), "err": Out(rm.ERR_BITS),
            "rd_addr": In(self.idx_bits), "rd_data": Out(1),
            "trace": Out(Signature(trace)),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg, top = self.cfg, self.topology
        n, n_edges, lanes, fb = top.n, top.n_edges, self.lanes, self.field_bits
        n_colours = top.n_colours
        classes = top.classes()
        colours = [int(c) for c in top.colours]
        slots = [int(s) for s in top.slot]

        # --- the programming port ------------------------------------------------------------
        phase = Signal(Phase, init=Phase.IDLE)
        busy = phase != Phase.IDLE
        port = program_port(m, self.prog, busy, self.regmap, None, done=self.done, status={})
        err_set = port.err_set
        m.d.comb += [self.busy.eq(busy), self.err.eq(port.err), self.irq.eq(port.irq)]

        # --- what the registers hold --------------------------------------------------------
        wb = cfg.weight_bits
        # h, J and the STATE registers are not reset (the map's reset column: memories keep
        # their contents); the clamps are (reset 0: free)
        h = [Signal(signed(wb), name=f"h{i}", reset_less=True) for i in range(n)]
        j = [Signal(signed(wb), name=f"j{e}", reset_less=True) for e in range(n_edges)]
        hold = [Signal(name=f"hold{i}") for i in range(n)]
        value = [Signal(name=f"clamp_value{i}") for i in range(n)]
        given = Signal(n, reset_less=True)
        y = Signal(n)
        index = port.index
        # one enable a register (the port's strobes come only with an index in range): an
        # Array or bit_select target would be a priority case over every index, n^2 logic
        _write_at(m, port.written["H"], port.offset, [(r, port.data_s) for r in h])
        if n_edges:
            _write_at(m, port.written["EDGE_J"], port.offset, [(r, port.data_s) for r in j])
        _write_at(m, port.written["STATE"], index, [(given[i], port.data[0]) for i in range(n)])
        _write_at(m, port.written["CLAMP"], index,
                  [(Cat(value[i], hold[i]), Cat(port.data[0] & port.data[1], port.data[1]))
                   for i in range(n)])
        rd_q = Signal()
        m.d.sync += rd_q.eq(y.bit_select(self.rd_addr, 1))
        m.d.comb += self.rd_data.eq(rd_q)

        # --- start and the run sequence -----------------------------------------------------
        start = self.start | port.start
        sweeps = Mux(port.start, port.start_sweeps, self.sweeps)
        init = Signal(Init)
        m.d.comb += init.eq(Mux(port.start, port.start_init, self.init))
        init_mode = Signal(Init)
        sweeps_left = Signal(rm.SWEEPS_BITS)
        colour = Signal(range(max(n_colours, 2)))   # the colour decided this clock (RUN)
        entry = Signal(range(max(self.beta_depth, 2)))  # the beta entry of this sweep
        held_sweeps = Signal(16)                    # sweeps done at this entry
        kept = Signal()                             # a run ended since reset: KEEP has a chain
        init_ok = Signal()
        m.d.comb += init_ok.eq((init == Init.ZEROS) | (init == Init.GIVEN)
                               | ((init == Init.KEEP) & kept))
        with m.If(start):
            with m.If(busy):
                flag(m, err_set, Err.BUSY_START)
            with m.Elif((sweeps == 0) | ~init_ok):
                flag(m, err_set, Err.BAD_START)
            with m.Else():
                m.d.sync += [phase.eq(Phase.INIT), init_mode.eq(init), sweeps_left.eq(sweeps),
                             colour.eq(0), entry.eq(0), held_sweeps.eq(0), self.done.eq(0)]

        last_colour = colour == n_colours - 1
        sweep_ends = (phase == Phase.RUN) & last_colour
        # the beta entry of the next sweep: min(s // BETA_HOLD, T - 1), counted
        next_held = Signal(17)
        entry_next = Signal.like(entry)
        m.d.comb += next_held.eq(held_sweeps + 1)
        m.d.comb += entry_next.eq(Mux((next_held == port.regs["BETA_HOLD"][0])
                                      & (entry + 1 < port.regs["BETA_LEN"][0]), entry + 1, entry))
        with m.If(phase == Phase.INIT):
            source = Signal(n)
            m.d.comb += source.eq(Mux(init_mode == Init.ZEROS, 0,
                                      Mux(init_mode == Init.GIVEN, given, y)))
            forced = Cat(*[Mux(hold[i], value[i], source[i]) for i in range(n)])
            m.d.sync += [y.eq(forced), phase.eq(Phase.PRIME)]
        with m.If(phase == Phase.PRIME):
            m.d.sync += phase.eq(Phase.RUN)
        with m.If(phase == Phase.RUN):
            m.d.sync += colour.eq(Mux(last_colour, 0, colour + 1))
            with m.If(last_colour):
                m.d.sync += [entry.eq(entry_next),
                             held_sweeps.eq(Mux(next_held == port.regs["BETA_HOLD"][0], 0,
                                                next_held[:16]))]
                with m.If(sweeps_left == 1):
                    m.d.sync += [phase.eq(Phase.IDLE), self.done.eq(1), kept.eq(1)]
                with m.Else():
                    m.d.sync += sweeps_left.eq(sweeps_left - 1)

        # --- the lanes: decide colour `colour`, address the next one -------------------------
        roms = []
        for r in range(0, lanes, LANES_PER_ROM):
            rom = lut_rom(cfg)
            m.submodules[f"lut{r // LANES_PER_ROM}"] = rom
            roms += [rom.read_port(domain="sync")
                     for _ in range(min(LANES_PER_ROM, lanes - r))]
        zero = Const(0, 1)
        members = [[int(cl[s]) if s < len(cl) else None for cl in classes] for s in range(lanes)]
        lane_bit = Signal(lanes)
        lane_u = [Signal(cfg.prob_bits, name=f"u{s}") for s in range(lanes)]
        deciding = phase == Phase.RUN
        seed_reg = "LANE_SEED_HI" if "LANE_SEED_HI" in self.regmap else "LANE_SEED_LO"
        for s in range(lanes):
            units = members[s]
            ring = _generator_ring(m, cfg, units, s, deciding,
                                   [port.written[seed_reg] & (index == u) if u is not None
                                    else zero for u in units], port.lane_seed)
            draw = ring[-cfg.prob_bits:]
            if all(u is not None for u in units):
                m.d.comb += lane_u[s].eq(draw)
            else:   # no unit of this colour in the lane: draw 0, as the trace has it
                m.d.comb += lane_u[s].eq(Mux(_pick([Const(u is not None, 1) for u in units],
                                                   colour), draw, 0))
            held = _pick([hold[u] if u is not None else Const(1, 1) for u in units], colour)
            val = _pick([value[u] if u is not None else zero for u in units], colour)
            m.d.comb += lane_bit[s].eq(Mux(held, val, lane_u[s] < roms[s].data))
        # the state after this clock's decisions (the bypass the next colour's fields read)
        y_new = Signal(n)
        m.d.comb += y_new.eq(Cat(*[Mux(deciding & (colour == colours[i]), lane_bit[slots[i]],
                                       y[i]) for i in range(n)]))
        with m.If(deciding):
            m.d.sync += y.eq(y_new)

        # the colour addressed this clock and its beta entry
        fcolour = Signal.like(colour)
        fentry = Signal.like(entry)
        m.d.comb += [fcolour.eq(Mux(phase == Phase.PRIME, 0,
                                    Mux(last_colour, 0, colour + 1))),
                     fentry.eq(Mux(phase == Phase.PRIME, 0,
                                   Mux(last_colour, entry_next, entry)))]
        mant = _pick(port.regs["BETA_MANT"], fentry)
        expo = _pick(port.regs["BETA_EXP"], fentry)
        # one multiplier for every lane: m_t << (EXP_MAX - e_t) (12 bits; see _scale_by_multiply)
        mult = Signal(BETA_MANT_BITS + 1 + BETA_EXP_MAX)
        flip = Signal(range(BETA_EXP_MAX + 1))
        m.d.comb += [flip.eq(BETA_EXP_MAX - expo), mult.eq(mant << flip)]
        dsp_lanes = lanes if self.dsp_lanes is None else self.dsp_lanes
        field_q = [Signal(signed(fb), name=f"field_q{s}") for s in range(lanes)]
        nbr, eslot = top.neighbours, top.edge_slots
        for s in range(lanes):
            units = members[s]
            terms = []
            for d in range(top.max_degree):
                per_colour = []
                for u in units:
                    if u is None or nbr[u, d] < 0:
                        per_colour.append(Const(0, signed(wb)))
                    else:
                        per_colour.append(Mux(y_new[int(nbr[u, d])], j[int(eslot[u, d])], 0))
                if any(u is not None and nbr[u, d] >= 0 for u in units):
                    terms.append(_pick(per_colour, fcolour))
            bias = _pick([h[u] if u is not None else Const(0, signed(wb)) for u in units],
                         fcolour)
            field = Signal(signed(fb), name=f"field{s}")
            m.d.comb += field.eq(bias + _tree_sum(m, terms))
            scaled = (_scale_by_multiply(m, field, mult, s) if s < dsp_lanes
                      else _scale_by_shift_and_add(m, field, mant, expo, s))
            m.d.comb += roms[s].addr.eq(lut_rom_address(m, scaled, cfg))
            m.d.sync += field_q[s].eq(field)

        # --- trace ----------------------------------------------------------------------------
        m.d.comb += [self.trace.valid.eq(deciding), self.trace.colour.eq(colour),
                     self.trace.bits.eq(lane_bit)]
        if self.debug_trace:
            m.d.comb += [self.trace.field.eq(Cat(*field_q)),
                         self.trace.lut.eq(Cat(*[rom.data for rom in roms])),
                         self.trace.u.eq(Cat(*lane_u))]
        return m
