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

The scenario builders (:func:`random_scenario`, :func:`refusal_scenario`) take a core and a
configuration and return a list of operations; they draw programs from :mod:`sim.programs` (array
cores), :func:`pysampler.engines.tree.tree_program` and
:func:`pysampler.engines.stream.stream_quantize`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from pysampler.contract.config import HwConfig
from pysampler.contract.lut import build_lut
from pysampler.contract.regmap import Core, CoreMap, Err, Init, Region, core_map
from pysampler.contract.rng import derive_state
from pysampler.contract.stream_format import stream_format
from pysampler.contract.tree_format import tree_config
from pysampler.engines.array import BitAccurateModel
from pysampler.engines.stream import stream_draw, stream_quantize, stream_tables
from pysampler.engines.tree import tree_draw, tree_program

from .programs import random_dense_program, random_onehot_program

__all__ = ["Seed", "Load", "SetState", "Run", "Refuse", "Reset", "Write", "Op", "Expected", "Expect",
           "load_writes", "random_scenario", "refusal_scenario", "scenario_map", "ARRAY_CORES",
           "replay_device"]

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
    busy_writes: bool = False  # also write and start while it runs (refused: BUSY_*)


@dataclass(frozen=True)
class Refuse:
    label: str
    access: str            # "write", "read" or "start"
    address: int = 0
    value: int = 0
    flag: Err = Err(0)     # the flag a refused write or start raises (reads raise none)


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
    """The map of the core the scenarios address (:func:`pysampler.contract.regmap.core_map`)."""
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


def _random_state(bits: int, rng: np.random.Generator) -> int:
    return int(rng.integers(1, 1 << min(bits, 63))) | (int(rng.integers(0, 2)) << 63
                                                      if bits == 64 else 0)


def _random_program(core: Core, cfg: HwConfig, rng: np.random.Generator, n: int):
    if core is Core.ONEHOT:
        return random_onehot_program(cfg, rng, n)
    if core is Core.DENSE:
        return random_dense_program(cfg, rng, n)
    logits = rng.normal(0.0, float(rng.choice([0.5, 2.0, 6.0])), n)
    if core is Core.TREE:
        return tree_program(logits, 1.0, cfg)
    return stream_quantize(logits, 1.0, stream_format(cfg))


def random_scenario(core: Core | str, cfg: HwConfig, *, seed: int, programs: int,
                    max_sweeps: int = 3, max_n: int | None = None) -> list[Op]:
    """Random programs of random size (up to ``max_n``, default n_pbits; the stream core: rows
    up to 300), new generator states or the generator running on, every init policy the core
    has, two runs per program."""
    core = Core(core)
    rng = np.random.default_rng([seed, cfg.n_pbits, core.code, 23])
    state_bits = Expect(core, cfg).state_cfg.rng_bits
    top = max_n or (300 if core is Core.STREAM else cfg.n_pbits)
    inits = {Core.ONEHOT: ["zeros", "random_onehot", "keep"],
             Core.DENSE: ["zeros", "random_onehot", "given"]}.get(core, ["zeros"])
    ops: list[Op] = []
    for p in range(programs):
        n = int(rng.integers(1, top + 1))
        if p == 0 or rng.random() < 0.7:
            ops.append(Seed(_random_state(state_bits, rng)))
        program = _random_program(core, cfg, rng, n)
        ops.append(Load(program))
        for r in range(2):
            init = str(rng.choice(inits[:2] if r == 0 else inits))
            if init == "given":
                ops.append(SetState(tuple(int(v) for v in rng.integers(0, 2, n))))
            most = max(max_sweeps, getattr(program, "schedule_length", 1) + 2)
            ops.append(Run(f"program {p} (n={n}) run {r} ({init})",
                           int(rng.integers(1, most + 1)), init))
    return ops


def refusal_scenario(core: Core | str, cfg: HwConfig, *, seed: int = 0) -> list[Op]:
    """Every kind of refused access the map defines, generic over the core: writes to a region
    and a REG offset the core lacks, to a read-only register, values out of range, a zero seed,
    reads of a memory and of a free address, starts with bad fields (array cores), writes and a
    start while busy (not on the tree core, whose draw is over before a bus write lands); then
    a program that must still run bit-exact."""
    core = Core(core)
    regmap = scenario_map(core, cfg)
    rng = np.random.default_rng([seed, 5])
    program = _random_program(core, cfg, rng, min(cfg.n_pbits, 40))
    ops: list[Op] = [Seed(derive_state(seed, 7, Expect(core, cfg).state_cfg)), Load(program),
                     Run("before the refused accesses", 2)]
    for region in Region:
        if region not in regmap.regions:
            ops.append(Refuse(f"write to the {region.name} region", "write",
                              regmap.raw_address(region, 0), 1, Err.ADDR))
    free = regmap.free_offsets(Region.REG)
    if free:
        ops.append(Refuse("write to a free REG offset", "write",
                          regmap.raw_address(Region.REG, free[-1]), 1, Err.ADDR))
        ops.append(Refuse("read of a free REG offset", "read",
                          regmap.raw_address(Region.REG, free[-1])))
    ops.append(Refuse("write to STATUS (read-only)", "write", regmap.address("STATUS"), 0,
                      Err.ADDR))
    ops.append(Refuse("read of CLEAR_ERR (a strobe)", "read", regmap.address("CLEAR_ERR")))
    lo, hi = regmap.bounds(regmap["N_ACTIVE"])
    ops.append(Refuse("N_ACTIVE = 0", "write", regmap.address("N_ACTIVE"), lo - 1, Err.VALUE))
    ops.append(Refuse("N_ACTIVE past n_pbits", "write", regmap.address("N_ACTIVE"), hi + 1,
                      Err.VALUE))
    if "H" in regmap:
        wlo, whi = regmap.bounds(regmap["H"])
        ops.append(Refuse("h above the weight range", "write", regmap.address(("H", 0)),
                          whi + 1, Err.VALUE))
        ops.append(Refuse("h below the weight range", "write", regmap.address(("H", 0)),
                          wlo - 1, Err.VALUE))
        ops.append(Refuse("read of h (a memory)", "read", regmap.address(("H", 0))))
    zero = regmap.seed_words(0)
    ops += [Write(regmap.address(name), 0) for name, _ in zero[:-1]]
    ops.append(Refuse("zero seed", "write", regmap.address(zero[-1][0]), 0, Err.SEED))
    if core in ARRAY_CORES:
        start = regmap.address("START")
        ops.append(Refuse("START with sweeps = 0", "start", start,
                          regmap.pack("START", SWEEPS=0, INIT=Init.ZEROS), Err.BAD_START))
        missing = [code for code in Init if not (code in (Init.ZEROS, Init.RANDOM_ONEHOT)
                                                 or (code is Init.GIVEN and core is Core.DENSE)
                                                 or (code is Init.KEEP and core is Core.ONEHOT))]
        ops.append(Refuse(f"START with init {missing[0].name}", "start", start,
                          regmap.pack("START", SWEEPS=1, INIT=missing[0]), Err.BAD_START))
    # the seed words below the loading one were overwritten by the zero seed: load anew
    ops += [Seed(derive_state(seed, 8, Expect(core, cfg).state_cfg)),
            Run("after the refused accesses", 2)]
    # writes and a START while busy: the stream core waits for its logits; an array core's run
    # is made long enough (>= 400 clocks) to outlast a write and a START on a byte link; a tree
    # draw is too short (tb_tree checks it at the native port)
    if core is not Core.TREE:
        sweeps = max(3, -(-400 // program.n)) if core in ARRAY_CORES else 1
        ops.append(Run("with writes and a start while busy", sweeps, busy_writes=True))
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
            taken = device.transport.write_many([(op.address, op.value)])
            flags = device.take_errors()
            if taken != [False] or flags != op.flag:
                raise AssertionError(f"{op.label}: taken {taken}, flags {flags!r}, expected "
                                     f"{op.flag!r}")
    if device.errors():
        raise AssertionError(f"flags left after the scenario: {device.errors()!r}")
    return runs


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
