"""Co-simulation scenarios as data: the accesses a test makes (seed, program, run, refused
accesses, reset) and, from the model, what each run must give. A port's driver (the AXI4-Lite
bench :mod:`sim.tb_axil`, the host driver's transports) replays the operations; :class:`Expect`
walks the same operations through the engines, so every port is judged by one model.

Operations (frozen dataclasses):

==================  ==============================================================================
``Seed(state)``     load a generator state (the seed words, the loading one last)
``Load(program)``   write a program: N_ACTIVE, h and the schedule table or J (array cores), the
                    leaves (tree core), the row length (stream core: the row streams with the run)
``SetState(y)``     the dense core's initial state for init = GIVEN
``Run(...)``        start a run (sweeps and init on the array cores) and wait for done; the model
                    gives the trace, the state and the generator after it
``Refuse(...)``     an access the core must refuse: a write (its flag), a read (no flag), a start
                    with bad fields (BAD_START); then CLEAR_ERR
``Reset()``         reset the core (the generator back at derive_state(0, 0))
``Write(a, v)``     a plain write the core takes (a held seed word)
==================  ==============================================================================

The scenario builders (:func:`random_scenario`, :func:`edge_scenario`, :func:`refusal_scenario`,
:func:`keep_scenario`, :func:`token_scenario`, :func:`long_dense_scenario`) take a core and a
configuration and return a list of operations; they draw programs from :mod:`sim.programs` (array
cores), :func:`pysampler.engines.tree.tree_program` and
:func:`pysampler.engines.stream.stream_quantize`. The ports that replay them: the native
programming port (:func:`sim.checks.replay`, cocotb), the bulk harness
(:meth:`sim.bulk.Script.replay`), AXI4-Lite (:meth:`sim.tb_axil.AxilTB.replay`) and the host
driver (:func:`replay_device`, any transport).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from pysampler.contract.config import HwConfig
from pysampler.contract.lut import build_lut
from pysampler.contract.program import onehot_program
from pysampler.contract.regmap import (REGISTERS, Core, CoreMap, Err, Init, Region, accepts_init,
                                       index_bits)
from pysampler.contract.maps import core_map
from pysampler.contract.rng import derive_state
from pysampler.contract.rows import synthetic_logits
from pysampler.contract.stream_format import stream_format
from pysampler.contract.tree_format import tree_config
from pysampler.engines.array import BitAccurateModel
from pysampler.engines.stream import stream_draw, stream_quantize, stream_tables
from pysampler.engines.tree import tree_draw, tree_program

from .programs import dense_edges, onehot_edges, random_dense_program, random_onehot_program

__all__ = ["Seed", "Load", "SetState", "Run", "Refuse", "Reset", "Write", "Op", "Expected", "Expect",
           "load_writes", "random_scenario", "refusal_scenario", "edge_scenario", "keep_scenario",
           "token_scenario", "long_dense_scenario", "random_state", "scenario_map",
           "ARRAY_CORES", "replay_device", "start_word"]

ARRAY_CORES = (Core.ONEHOT, Core.DENSE)


@dataclass(frozen=True)
class Seed:
    state: int


@dataclass(frozen=True)
class Load:
    program: Any  # OnehotProgram, DenseProgram, TreeProgram or StreamRow, as the core takes


@dataclass(frozen=True)
class SetState:
    y: tuple[int, ...]


@dataclass(frozen=True)
class Run:
    label: str
    sweeps: int = 1
    init: str = "zeros"
    read: bool = False         # also check the state read-out (array cores, native port)
    busy_writes: bool = False  # also write and start while it runs (refused: BUSY_*)


@dataclass(frozen=True)
class Refuse:
    label: str
    access: str            # "write", "read" or "start"
    address: int = 0
    value: int = 0
    flag: Err = Err(0)     # the flag a refused write or start raises (reads raise none)
    sweeps: int = 0        # a start: its sweeps and init policy (the port encodes them)
    init: str = "zeros"


@dataclass(frozen=True)
class Reset:
    pass


@dataclass(frozen=True)
class Write:
    """A plain write the core takes (no step of the model: a held seed word, say)."""

    address: int
    value: int


Op = Seed | Load | SetState | Run | Refuse | Reset | Write


@dataclass
class Expected:
    """What the model says one run gives: the token (array cores: XOR of the indices of the
    units on), the popcount (array cores), the generator state after it, the model's trace and,
    for the array cores, the model (its final state ``y``)."""

    token: int
    popcount: int
    rng_state: int
    trace: Any
    model: Any = None


def scenario_map(core: Core | str, cfg: HwConfig) -> CoreMap:
    """The map of the core the scenarios address (:func:`pysampler.contract.maps.core_map`)."""
    return core_map(core, cfg)


def load_writes(core: Core, program) -> list[tuple]:
    """The register writes of ``Load(program)`` (each program kind gives its own)."""
    return program.register_writes()


class Expect:
    """The model side of a scenario: feed it the operations in order (:meth:`step`); a ``Run``
    returns its :class:`Expected`."""

    def __init__(self, core: Core | str, cfg: HwConfig):
        self.core, self.cfg = Core(core), cfg
        self.state_cfg = (tree_config(cfg) if self.core is Core.TREE
                          else stream_format(cfg).acc if self.core is Core.STREAM else cfg)
        self.rng = derive_state(0, 0, self.state_cfg)
        self.program = None
        self.model: BitAccurateModel | None = None
        self.given: np.ndarray | None = None
        self._lut = build_lut(self.state_cfg) if self.core is Core.TREE else None
        self._tables = stream_tables(stream_format(cfg)) if self.core is Core.STREAM else None

    def step(self, op: Op) -> Expected | None:
        if isinstance(op, Seed):
            self.rng = op.state
        elif isinstance(op, Load):
            self.program = op.program
        elif isinstance(op, SetState):
            self.given = np.asarray(op.y, dtype=np.int64)
        elif isinstance(op, Reset):
            self.rng, self.model = derive_state(0, 0, self.state_cfg), None
        elif isinstance(op, Run):
            return self._run(op)
        return None

    def _run(self, op: Run) -> Expected:
        if self.core is Core.TREE:
            token, self.rng, trace = tree_draw(self.program, self.rng, self._lut)
            return Expected(token, 0, self.rng, trace)
        if self.core is Core.STREAM:
            token, self.rng, trace = stream_draw(self.program, self.rng, self._tables)
            return Expected(token, 0, self.rng, trace)
        if op.init == "keep":
            model = self.model
        else:
            model = BitAccurateModel(self.program, 1, rng_states=[self.rng],
                                     init=self.given if op.init == "given" else op.init)
        trace = model.run(op.sweeps, trace=True)
        self.model, self.rng = model, int(model.rng_states[0])
        on = np.flatnonzero(model.y[0])
        token = int(np.bitwise_xor.reduce(on)) if on.size else 0
        return Expected(token, int(on.size), self.rng, trace, model)


def random_state(bits: int, rng: np.random.Generator) -> int:
    """A random generator state of ``bits`` bits, never 0."""
    if bits < 64:
        return int(rng.integers(1, 1 << bits, dtype=np.uint64))
    return max(1, int(rng.integers(1, 1 << 63)) * 2 - int(rng.integers(0, 2)))


def _random_program(core: Core, cfg: HwConfig, rng: np.random.Generator, n: int):
    if core is Core.ONEHOT:
        return random_onehot_program(cfg, rng, n)
    if core is Core.DENSE:
        return random_dense_program(cfg, rng, n)
    logits = rng.normal(0.0, float(rng.choice([0.5, 2.0, 6.0])), n)
    if core is Core.TREE:
        return tree_program(logits, 1.0, cfg)
    return stream_quantize(logits, 1.0, stream_format(cfg))


def _inits(core: Core) -> list[str]:
    """The init policies a run of ``core`` is started with in the random scenarios."""
    return {Core.ONEHOT: ["zeros", "random_onehot"],
            Core.DENSE: ["zeros", "random_onehot", "given"]}.get(core, ["zeros"])


def random_scenario(core: Core | str, cfg: HwConfig, *, rng: np.random.Generator, count: int,
                    max_sweeps: int = 3, max_n: int | None = None,
                    label: str = "random program") -> list[Op]:
    """``count`` random programs of random size (80% uniform in 1..max_n, else 1 or max_n;
    ``max_n`` default n_pbits, the stream core 300), a new random generator state before 70% of
    them (else the generator runs on), one run each with a random init policy of the core (a
    random state for GIVEN) and 1..max_sweeps sweeps (a scheduled program: at least its table
    length + 2, so early sweeps run at entry 0); the read-out checked where n <= 16."""
    core = Core(core)
    state_bits = Expect(core, cfg).state_cfg.rng_bits
    top = max_n or (300 if core is Core.STREAM else cfg.n_pbits)
    inits = _inits(core)
    ops: list[Op] = []
    seeded = False
    for p in range(count):
        n = int(rng.integers(1, top + 1)) if rng.random() < 0.8 else int(rng.choice([1, top]))
        program = _random_program(core, cfg, rng, n)
        if not seeded or rng.random() < 0.7:
            ops.append(Seed(random_state(state_bits, rng)))
            seeded = True
        ops.append(Load(program))
        init = str(rng.choice(inits))
        if init == "given":
            ops.append(SetState(tuple(int(v) for v in rng.integers(0, 2, n))))
        table = getattr(program, "schedule_length", 1)
        most = max_sweeps if core is not Core.ONEHOT else max(max_sweeps, table + 2)
        ops.append(Run(f"{label} {p} (n={n}, init={init})", int(rng.integers(1, most + 1)),
                       init, read=n <= 16))
    return ops


def edge_scenario(core: Core | str, cfg: HwConfig, seed: int) -> list[Op]:
    """The edge programs of :mod:`sim.programs` (all-zero, n = 1, saturating fields, extreme
    couplings, full schedule tables), each with every init policy of the core (GIVEN: all on),
    from a fresh generator state; a scheduled program also runs 2 sweeps past its table."""
    core = Core(core)
    programs = dense_edges(cfg) if core is Core.DENSE else onehot_edges(cfg)
    ops: list[Op] = []
    for p, program in enumerate(programs):
        for init in _inits(core):
            ops += [Seed(derive_state(seed, 1000 + p, cfg)), Load(program)]
            if init == "given":
                ops.append(SetState((1,) * program.n))
            table = program.schedule_length
            ops.append(Run(f"edge program {p} (n={program.n}, init={init})",
                           3 if table == 1 else table + 2, init))
    return ops


def keep_scenario(cfg: HwConfig, rng: np.random.Generator, count: int, seed: int) -> list[Op]:
    """The one-hot core's KEEP starts: per random program a run from zeros, then three runs that
    go on from the state the last one left (an h write before the third keeps the chain), each
    compared with one model chain that simply runs on."""
    ops: list[Op] = []
    regmap = scenario_map(Core.ONEHOT, cfg)
    for p in range(count):
        n = int(rng.integers(1, cfg.n_pbits + 1))
        program = random_onehot_program(cfg, rng, n)
        ops += [Seed(derive_state(seed, 2000 + p, cfg)), Load(program),
                Run(f"keep program {p} run 0", int(rng.integers(1, 4)), "zeros")]
        for r in range(1, 4):
            if r == 2:
                ops.append(Write(regmap.address(("H", 0)), int(program.h[0])))
            ops.append(Run(f"keep program {p} run {r}", int(rng.integers(1, 4)), "keep"))
    return ops


def token_scenario(cfg: HwConfig, runs: int, sweeps: int, seed: int) -> list[Op]:
    """Token runs as the hardware sampler does them: LM-like logits over all n_pbits units, init
    zeros, one generator running on; lambda 3 in even runs, the ramp (1.5, 2, 2.5, 3) in odd."""
    ops: list[Op] = [Seed(derive_state(seed, 0, cfg))]
    for r in range(runs):
        lam = 3.0 if r % 2 == 0 else (1.5, 2.0, 2.5, 3.0)
        ops += [Load(onehot_program(synthetic_logits(cfg.n_pbits, seed + r), lam, 1.0, cfg)),
                Run(f"token run {r} (V={cfg.n_pbits}, {sweeps} sweeps)", sweeps, "zeros")]
    return ops


def long_dense_scenario(cfg: HwConfig, rng: np.random.Generator, runs: int,
                        sweeps: int) -> list[Op]:
    """Long runs of random full-size dense programs, the generator running on."""
    ops: list[Op] = [Seed(random_state(cfg.rng_bits, rng))]
    for r in range(runs):
        ops += [Load(random_dense_program(cfg, rng, cfg.n_pbits)),
                Run(f"long dense run {r} ({sweeps} sweeps)", sweeps, "zeros")]
    return ops


def refusal_scenario(core: Core | str, cfg: HwConfig, *, rng: np.random.Generator, seed: int,
                     reads: bool = True) -> list[Op]:
    """Every kind of refused access the map defines, generic over the core, each with its flag
    (then CLEAR_ERR): writes to a region and a REG offset the core lacks, another core's register
    at an offset this one leaves free, a read-only register, values out of range (h, N_ACTIVE,
    the schedule, STATE), addresses past n_pbits (h, a J row), a zero seed, starts with sweeps =
    0, an init the core lacks, KEEP after a write that leaves the chain stale; with ``reads``,
    reads of a free address, a strobe and a memory (refused, no flag); then a program that must
    still run bit-exact, a run with writes and a START while busy (not on the tree core, whose
    draw is over before a bus write lands), and a run after them."""
    core = Core(core)
    regmap = scenario_map(core, cfg)
    state_cfg = Expect(core, cfg).state_cfg
    n = regmap.params.n_pbits if core is not Core.STREAM else 40
    program = _random_program(core, cfg, rng, min(n, cfg.n_pbits) if core is not Core.STREAM
                              else 40)
    ops: list[Op] = [Seed(derive_state(seed, 7, state_cfg)), Load(program),
                     Run("before the refused accesses", 2)]

    def refuse(label, address, value, flag):
        ops.append(Refuse(label, "write", address, value, flag))

    for region in Region:
        if region not in regmap.regions:
            refuse(f"write to the {region.name} region", regmap.raw_address(region, 0), 1,
                   Err.ADDR)
    free = regmap.free_offsets(Region.REG)
    if free:
        refuse("write to an undefined register", regmap.raw_address(Region.REG, free[-1]), 1,
               Err.ADDR)
    for reg in REGISTERS:  # another core's register at an offset this core leaves free
        if reg.name not in regmap and reg.region in regmap.regions \
                and reg.offsets.base < 1 << regmap.offset_bits \
                and reg.offsets.base in regmap.free_offsets(reg.region):
            refuse(f"{reg.label} on the {core.value} core",
                   regmap.raw_address(reg.region, reg.offsets.base), 1, Err.ADDR)
    refuse("write to STATUS (read-only)", regmap.address("STATUS"), 0, Err.ADDR)
    for name, bad in (("N_ACTIVE", (0, regmap.params.n_pbits + 1)),
                      ("SCHED_LEN", (0, regmap.params.schedule_depth + 1))):
        if name in regmap:
            for value in bad:
                refuse(f"{name} = {value}", regmap.address(name), value, Err.VALUE)
    if "H" in regmap:
        lo, hi = regmap.bounds(regmap["H"])
        refuse("h above the weight range", regmap.address(("H", 0)), hi + 1, Err.VALUE)
        refuse("h below the weight range", regmap.address(("H", 0)), lo - 1, Err.VALUE)
        if regmap.params.n_pbits < 1 << regmap.offset_bits:
            refuse("h past n_pbits", regmap.raw_address(Region.H, regmap.params.n_pbits), 0,
                   Err.ADDR)
    if "SCHED_OFFSET" in regmap:
        lo, hi = regmap.bounds(regmap["SCHED_OFFSET"])
        last = regmap.params.schedule_depth - 1
        refuse("schedule offset above the weight range",
               regmap.address(("SCHED_OFFSET", last)), hi + 1, Err.VALUE)
        refuse("schedule coupling below the weight range",
               regmap.address(("SCHED_COUPLING", min(3, last))), lo - 1, Err.VALUE)
    if "STATE" in regmap:
        refuse("y = 2", regmap.address(("STATE", 0)), 2, Err.VALUE)
    if "J" in regmap and regmap.params.n_pbits < 1 << index_bits(regmap.params.n_pbits):
        refuse("J row past n_pbits", regmap.raw_address(
            Region.J, regmap.params.n_pbits << index_bits(regmap.params.n_pbits)), 0, Err.ADDR)
    zero = regmap.seed_words(0)
    ops += [Write(regmap.address(name), 0) for name, _ in zero[:-1]]
    refuse("zero seed", regmap.address(zero[-1][0]), 0, Err.SEED)
    if reads:
        if free:
            ops.append(Refuse("read of an undefined register", "read",
                              regmap.raw_address(Region.REG, free[-1])))
        ops.append(Refuse("read of CLEAR_ERR (a strobe)", "read", regmap.address("CLEAR_ERR")))
        if "H" in regmap:
            ops.append(Refuse("read of h (a memory)", "read", regmap.address(("H", 0))))
    if core in ARRAY_CORES:
        ops.append(Refuse("start with sweeps = 0", "start", flag=Err.BAD_START, sweeps=0,
                          init="zeros"))
        missing = [code for code in Init if not accepts_init(core, code)]
        ops.append(Refuse(f"start with init {missing[0].name.lower()} on this core", "start",
                          flag=Err.BAD_START, sweeps=1, init=missing[0].name.lower()))
    if core is Core.ONEHOT:  # a coupling write leaves the kept chain stale
        ops.append(Write(regmap.address("COUPLING"), int(program.couplings[0])))
        ops.append(Refuse("KEEP after a coupling write", "start", flag=Err.BAD_START, sweeps=1,
                          init="keep"))
    # the seed words below the loading one were overwritten by the zero seed: load anew
    ops += [Seed(derive_state(seed, 8, state_cfg)), Run("after the refused accesses", 2)]
    if core is not Core.TREE:
        sweeps = max(3, -(-400 // program.n)) if core in ARRAY_CORES else 1
        ops.append(Run("with writes and a start while busy", sweeps,
                       "random_onehot" if core in ARRAY_CORES else "zeros", busy_writes=True))
    ops.append(Run("after the writes while busy", 1))
    return ops


def count_runs(ops: Sequence[Op]) -> int:
    return sum(isinstance(op, Run) for op in ops)


def replay_device(device, ops: Sequence[Op], core: Core | str, cfg: HwConfig) -> int:
    """Replay ``ops`` through a host driver (:class:`pysampler.device.Device`, any transport)
    and check every run against :class:`Expect` through registers: the token, the popcount, the
    generator state read back, CYCLES (array cores) and the flags of every refused access
    (raised as :class:`~pysampler.device.errors.DeviceError`). Returns the runs compared."""
    core = Core(core)
    expect = Expect(core, cfg)
    device.write("IRQ_ENABLE", 1)
    program, runs = None, 0
    for op in ops:
        want = expect.step(op)
        if isinstance(op, Seed):
            device.load_seed(op.state)
        elif isinstance(op, Load):
            program = op.program
            device.write_many(load_writes(core, program))
        elif isinstance(op, SetState):
            device.write_many([(("STATE", i), v) for i, v in enumerate(op.y)])
        elif isinstance(op, Reset):
            raise ValueError("a device replay does not reset")
        elif isinstance(op, Write):
            if device.transport.write_many([(op.address, op.value)]) != [True]:
                raise AssertionError(f"write {op.address:#x} = {op.value} refused")
        elif isinstance(op, Run):
            runs += 1
            _device_run(device, core, op, want, program)
        elif isinstance(op, Refuse):
            if op.access == "read":
                value, ok = device.transport.read(op.address)
                if ok:
                    raise AssertionError(f"{op.label}: read answered {value:#x}, expected refusal")
                continue
            address, value = start_word(device.regmap, op) if op.access == "start" \
                else (op.address, op.value)
            taken = device.transport.write_many([(address, value)])
            flags = device.take_errors()
            if taken != [False] or flags != op.flag:
                raise AssertionError(f"{op.label}: taken {taken}, flags {flags!r}, expected "
                                     f"{op.flag!r}")
    if device.errors():
        raise AssertionError(f"flags left after the scenario: {device.errors()!r}")
    return runs


def start_word(regmap: CoreMap, op: Refuse) -> tuple[int, int]:
    """(START's address, its data word) of a refused start on a bus port."""
    return regmap.address("START"), regmap.pack("START", SWEEPS=op.sweeps,
                                                 INIT=int(Init[op.init.upper()]))


def _device_run(device, core: Core, op: Run, want: Expected, program) -> None:
    from pysampler.contract.regmap import Err as _Err
    from pysampler.device.errors import DeviceError

    sweeps = op.sweeps if core in ARRAY_CORES else 1
    device.start(sweeps, op.init if core in ARRAY_CORES else "zeros")
    # the model facade ends a run within its START (only the stream core waits, for its logits):
    # there, writes after START are not writes while busy
    busy = op.busy_writes and (core is Core.STREAM or getattr(device.transport, "timed", True))
    seen = _Err(0)
    if busy:  # each refused (the driver's CLEAR_ERR may be refused too while busy)
        for what, action in (("N_ACTIVE", lambda: device.write("N_ACTIVE", 1)),
                             ("START", lambda: device.start(sweeps, op.init if core in
                                                            ARRAY_CORES else "zeros"))):
            try:
                action()
            except DeviceError as err:
                wanted = _Err.BUSY_WRITE if what == "N_ACTIVE" else _Err.BUSY_START
                seen |= err.flags
                if wanted not in err.flags:
                    raise AssertionError(f"{op.label}: {what} while busy raised "
                                         f"{err.flags!r}") from None
            else:
                raise AssertionError(f"{op.label}: {what} while busy was taken")
    if core is Core.STREAM:
        device.stream(program.q)
    status = device.wait()
    if busy:
        flags = seen | device.take_errors()
        if flags != _Err.BUSY_WRITE | _Err.BUSY_START:
            raise AssertionError(f"{op.label}: flags of the writes while busy {flags!r}")
        status = device.status()
    result = device.result(status)
    state = device.seed_state()
    got = (result.token, result.popcount, state)
    ref = (want.token, want.popcount, want.rng_state)
    if got != ref:
        raise AssertionError(f"{op.label}: (token, popcount, generator) {got} != model {ref}")
    if core in ARRAY_CORES and result.cycles != 3 + op.sweeps * program.n:
        raise AssertionError(f"{op.label}: CYCLES {result.cycles} != {3 + op.sweeps * program.n}")
