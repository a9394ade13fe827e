"""The programming port of the cores as data: every register once, and what is generated from it.

:data:`REGISTERS` describes each register or register array once: its name, region, offset (a
formula for arrays), access, width, reset value, the values it accepts, the cores that have it and
whether writing it leaves a kept chain stale (KEEP). :class:`CoreMap` lays the registers of one
core out for one build (``CoreMap.of(Core.ONEHOT, cfg)``): the addresses, the resolved widths,
resets and bounds. From it come

- the RTL decoder, writes and reads (``hw.control.program_port`` loops over a core's map),
- the AXI4-Lite bridge of every core (``hw.axi``: the same registers at byte address 4 x word),
- the test benches' bus accesses (``sim.bus.ProgBus.write(("H", i), value)``),
- the host driver's accesses (``pysampler.device``: ``Device.write("N_ACTIVE", 5)``, ``read``),
- the Markdown tables of ``docs/hardware.md`` and the C header (``pysampler.device.regdoc``,
  written by ``pysampler docs``).

Readable registers: the control registers read back what was written, the seed words read the
generator's current state, and the status registers (STATUS, ERR, TOKEN, POPCOUNT, RUNS, CYCLES,
CORE_ID, CAPACITY) read the core. A read has no side effect; a read of an address the map does not
hold as readable is refused (the bus answers SLVERR) and raises no flag.

Layout: an address is ``region << offset_bits | offset`` (:func:`address`), ``REGION_BITS`` of
region above ``offset_bits`` of offset (:func:`offset_bits`: the dense core's J matrix needs two
unit indices; the one-hot and tree cores share one layout with room for the full schedule table).
Data words are ``DATA_BITS`` wide; signed values (h, J, couplings, offsets) are written as two's
complement integers that must fit ``weight_bits`` (sign-extended in the word).

The run phases (:class:`Phase`, :class:`TreePhase`), the init policies of the ``init`` port
(:class:`Init`, :data:`INIT_CORES`) and the sticky error flags of the ``err`` port (:class:`Err`)
are int enums; Amaranth takes their members as constants.

Pure Python: importing this module loads neither Amaranth nor cocotb.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache
from math import ceil, log2
from typing import Callable, Iterator, Union

from .config import HwConfig
from .graph import BETA_EXP_MAX, BETA_MANT_BITS, MAX_BETA_HOLD, MAX_BETA_SCHEDULE
from .program import MAX_SCHEDULE
from .rng import derive_state

__all__ = [
    "DATA_BITS", "REGION_BITS", "SWEEPS_BITS", "SCHEDULE_DEPTH", "ERR_BITS",
    "Core", "Region", "Access", "Storage", "Check", "Phase", "TreePhase", "StreamPhase", "Init", "Err",
    "Status", "Field",
    "INIT_CORES", "INIT_CODES", "ERR_DOCS", "STATUS_DOCS", "err_flags", "Quantity", "Offsets",
    "Register", "REGISTERS", "MapParams", "CoreMap", "Ref", "accepts_init", "index_bits",
    "offset_bits", "address", "CORE_ID_MAGIC", "MAP_VERSION", "core_id",
]

DATA_BITS = 32
REGION_BITS = 2
SWEEPS_BITS = 16
SCHEDULE_DEPTH = MAX_SCHEDULE  # the contract's table size (pysampler.contract.program)


# --- enums ---------------------------------------------------------------------------------------
class Core(str, enum.Enum):
    """The cores; ``Core.ONEHOT.top`` is the Verilog module ``pbit_onehot`` (hw/onehot.py,
    sim/tb_onehot.py)."""

    ONEHOT = "onehot"
    DENSE = "dense"
    TREE = "tree"
    STREAM = "stream"
    GRAPH = "graph"   # the colour-parallel sparse core (docs/graph.md)

    @property
    def top(self) -> str:
        """Name of the core's Verilog module."""
        return f"pbit_{self.value}"

    @property
    def code(self) -> int:
        """The core's number in CORE_ID (1, 2, ... in declaration order; a new core appends)."""
        return list(Core).index(self) + 1


class Region(enum.IntEnum):
    """The address's top ``REGION_BITS``."""

    H = 0      # biases (the tree core: leaf log-masses)
    REG = 1    # control registers
    STATE = 2  # initial state for init = GIVEN (the graph core: also clamps and lane seeds)
    J = 3      # coupling matrix (the graph core: one coupling per edge)


class Access(enum.Enum):
    """What a bus access does."""

    W = "w"            # write-only: the value is kept (the memories: h, J, y)
    RW = "rw"          # written and read back (a seed word reads the generator's current state)
    R = "r"            # read-only: a write is refused (Err.ADDR)
    STROBE = "strobe"  # write-only: the write acts (on its data word's fields, if any)

    @property
    def readable(self) -> bool:
        return self in (Access.RW, Access.R)

    @property
    def writable(self) -> bool:
        return self is not Access.R


class Storage(enum.Enum):
    """Where an accepted value goes."""

    FLOPS = "flops"      # a register of the port decoder (hw.control.program_port)
    CORE = "core"        # the core's memory or state registers: the decoder checks, the core writes
    SEED = "seed word"   # one 32-bit word of the generator state; the last word's write loads it
    NONE = "none"        # a strobe
    STATUS = "status"    # read-only: a signal of the core or of the decoder
    CONST = "const"      # read-only: a constant of the build (its reset column)


class Phase(enum.IntEnum):
    """Run phases of the one-hot and dense cores (hw.control)."""

    IDLE = 0
    INIT = 1   # apply the init policy (random_onehot takes one draw)
    FILL = 2   # the one-hot core's h pipeline fills
    PRIME = 3  # field of unit 0 to the LUT
    RUN = 4    # one update a clock, sweeps * n_active clocks


class TreePhase(enum.IntEnum):
    """Run phases of the tree core (hw.tree)."""

    IDLE = 0
    REDUCE = 1  # log-add reduction, one inner node a clock
    READ = 2    # descent: read the two children of the node
    LOOKUP = 3  # sigmoid of m_right - m_left
    DECIDE = 4  # one p-bit decision, one draw


class StreamPhase(enum.IntEnum):
    """Run phases of the stream core (hw.stream)."""

    IDLE = 0
    STREAM = 1  # one logit a clock (valid/ready), one decision a logit
    DRAIN = 2   # the accumulator's second stage for the last logit
    LOOKUP = 3  # merge: sigmoid of M_right - M_left
    MERGE = 4   # merge: one p-bit decision, one draw


class Init(enum.IntEnum):
    """Codes of the ``init`` port: where a run starts from."""

    ZEROS = 0
    RANDOM_ONEHOT = 1  # one unit on, (u * n_active) >> prob_bits, from one draw
    GIVEN = 2          # y as written through STATE, or as the last run left it
    KEEP = 3           # go on from the last run's state (its popcount sums included)


class Err(enum.IntFlag):
    """Bits of the sticky ``err`` port."""

    ADDR = 1 << 0
    VALUE = 1 << 1
    SEED = 1 << 2
    BUSY_WRITE = 1 << 3
    BUSY_START = 1 << 4
    BAD_START = 1 << 5
    STREAM = 1 << 6


ERR_BITS = len(Err)


class Status(enum.IntFlag):
    """Bits of the STATUS register."""

    BUSY = 1 << 0
    DONE = 1 << 1
    ERROR = 1 << 2
    ONEHOT = 1 << 3


STATUS_DOCS = {
    Status.BUSY: "a run is under way",
    Status.DONE: "the last run finished (until the next accepted start); the `irq` output is "
                 "DONE while IRQ_ENABLE",
    Status.ERROR: "an error flag is set (read ERR)",
    Status.ONEHOT: "one-hot and dense cores: exactly one unit is on (POPCOUNT = 1); 0 on the "
                   "other cores",
}

#: CORE_ID = CORE_ID_MAGIC << 16 | MAP_VERSION << 8 | Core.code ("PB": p-bit)
CORE_ID_MAGIC = 0x5042
#: the register map's version in CORE_ID; raised when an address or a field moves
MAP_VERSION = 1


def core_id(core: "Core | str") -> int:
    """The CORE_ID register's value for ``core``."""
    return CORE_ID_MAGIC << 16 | MAP_VERSION << 8 | Core(core).code

ERR_DOCS = {
    Err.ADDR: "write to an address the core's map does not hold",
    Err.VALUE: "value the register does not accept (its `accepts` column)",
    Err.SEED: "seed load of 0 (a generator at 0 never leaves it)",
    Err.BUSY_WRITE: "programming write while busy",
    Err.BUSY_START: "start while busy (the running job goes on untouched)",
    Err.BAD_START: "start with sweeps = 0, an init policy the core lacks, KEEP with no chain to "
                   "keep (after reset, or after a write marked `stale` in the KEEP column), or a "
                   "tree start before any leaf was written",
    Err.STREAM: "stream core: a row whose `last` flag disagrees with N_ACTIVE (`last` before "
                "logit N_ACTIVE - 1: the row ended early and the token is drawn from what came; "
                "no `last` on logit N_ACTIVE - 1: the source has extra logits, which the core "
                "does not take)",
}


def err_flags(core: "Core | str") -> tuple[Err, ...]:
    """The error flags ``core`` can raise (the others stay 0 in its ``err`` port): every flag of
    the shared port and sequencer, and ``Err.STREAM`` on the stream core only."""
    core = Core(core)
    return tuple(f for f in Err if f is not Err.STREAM or core is Core.STREAM)

_ARRAY_CORES = frozenset({Core.ONEHOT, Core.DENSE})
INIT_CORES: dict[Init, frozenset[Core]] = {
    Init.ZEROS: _ARRAY_CORES | {Core.GRAPH},
    Init.RANDOM_ONEHOT: _ARRAY_CORES,
    Init.GIVEN: frozenset({Core.DENSE, Core.GRAPH}),
    Init.KEEP: frozenset({Core.ONEHOT, Core.GRAPH}),
}
INIT_CODES = {code.name.lower(): code for code in Init}  # the policy names of the samplers


def accepts_init(core: Core, code: int) -> bool:
    """Whether ``core`` starts a run with init policy ``code``."""
    return any(code == known and core in cores for known, cores in INIT_CORES.items())


# --- build-dependent numbers ---------------------------------------------------------------------
@dataclass(frozen=True)
class MapParams:
    """What a core's map depends on: the build's sizes (``weight_bits`` of the core's own weight
    format: the tree core's leaves are wider, ``tree_format.tree_config``)."""

    n_pbits: int
    weight_bits: int
    rng_bits: int
    schedule_depth: int
    reset_state: int  # the generator after reset, derive_state(0, 0, cfg)
    n_edges: int = 0  # the graph core's edges (its topology); 0 for the other cores
    beta_depth: int = 0  # the graph core's beta-table entries; 0 for the other cores
    core: "Core | None" = None  # which core (CORE_ID)


@dataclass(frozen=True)
class Quantity:
    """A number that depends on the build: its text (docs, headers) and its value."""

    text: str
    of: Callable[[MapParams], int]

    def __str__(self) -> str:
        return self.text


Number = Union[int, Quantity]
N_PBITS = Quantity("n_pbits", lambda p: p.n_pbits)
WEIGHT_BITS = Quantity("weight_bits", lambda p: p.weight_bits)
DEPTH = Quantity("schedule_depth", lambda p: p.schedule_depth)
N_EDGES = Quantity("n_edges", lambda p: p.n_edges)
BETA_DEPTH = Quantity("beta_depth", lambda p: p.beta_depth)
INDEX_BITS = Quantity("index_bits", lambda p: index_bits(p.n_pbits))


def _value(number: Number, p: MapParams) -> int:
    return number.of(p) if isinstance(number, Quantity) else number


class Check(enum.Enum):
    """The values a register accepts; a refused write is ignored and raises :attr:`error`."""

    ANY = "any"
    WEIGHT = "signed, fits weight_bits"
    N_ACTIVE = "1..n_pbits"
    SCHED_LEN = "1..schedule_depth"
    BIT = "0 or 1"
    SEED = "state != 0 when loaded"
    CLAMP = "0..3 (bit 1 holds, bit 0 the value)"
    BETA_LEN = "1..beta_depth"
    BETA_HOLD = "1..65535"
    BETA_MANT = "1..2^BETA_MANT_BITS"
    BETA_EXP = "0..BETA_EXP_MAX"
    START = "sweeps >= 1 and an init the core has (array cores)"

    @property
    def signed(self) -> bool:
        """The data word is read as two's complement."""
        return self is Check.WEIGHT

    @property
    def error(self) -> Err:
        return {Check.SEED: Err.SEED, Check.START: Err.BAD_START}.get(self, Err.VALUE)

    def bounds(self, p: MapParams) -> tuple[int, int] | None:
        """Accepted range (inclusive) of the data word, None when any word is accepted (SEED:
        checked on the whole state when the last word is written)."""
        if self is Check.WEIGHT:
            return -(1 << (p.weight_bits - 1)), (1 << (p.weight_bits - 1)) - 1
        if self is Check.N_ACTIVE:
            return 1, p.n_pbits
        if self is Check.SCHED_LEN:
            return 1, p.schedule_depth
        if self is Check.BIT:
            return 0, 1
        if self is Check.CLAMP:
            return 0, 3
        if self is Check.BETA_LEN:
            return 1, p.beta_depth
        if self is Check.BETA_HOLD:
            return 1, MAX_BETA_HOLD
        if self is Check.BETA_MANT:
            return 1, 1 << BETA_MANT_BITS
        if self is Check.BETA_EXP:
            return 0, BETA_EXP_MAX
        return None


# --- registers -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Offsets:
    """Where the entries of a register sit in its region: ``base + stride * k``, or the J layout
    ``(i << index_bits(n_pbits)) | j`` when ``matrix``."""

    base: int = 0
    stride: int = 1
    matrix: bool = False
    page: int = 0   # > 0: entry i at (page << index_bits(n_pbits)) | i (the graph core's STATE)

    def of(self, index: int | tuple[int, int], n_pbits: int) -> int:
        if self.matrix:
            i, j = index
            return (i << index_bits(n_pbits)) | j
        if self.page:
            return (self.page << index_bits(n_pbits)) | (self.base + self.stride * index)
        return self.base + self.stride * index

    def text(self, index_name: str) -> str:
        if self.matrix:
            return "i << index_bits \\| j"
        if self.page:
            return f"{self.page} << index_bits \\| {index_name}"
        if self.stride == 0:
            return str(self.base)
        scaled = index_name if self.stride == 1 else f"{self.stride}{index_name}"
        return scaled if self.base == 0 else f"{self.base} + {scaled}"


@dataclass(frozen=True)
class Field:
    """A bit field of a register's data word: bits ``lsb`` .. ``lsb + width - 1``."""

    name: str
    lsb: int
    width: int
    doc: str = ""

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb


@dataclass(frozen=True)
class Register:
    """One register, or one array of registers (``count`` entries, or ``count`` x ``count`` for a
    matrix), of the programming port.

    ``reset`` None: not reset (memories keep their contents; the dense core's y is rewritten by the
    init policy). ``keep_stale``: a write (accepted or not) leaves a kept chain stale, so the
    next KEEP start is refused: the one-hot core's running j * popcount sums assume the couplings
    and N_ACTIVE of the last run. ``alias_of0``: entry 0 is that register (the same storage).
    ``word``: which 32-bit word of the generator state a SEED register holds; the word holding
    the top bit loads the generator, words past it do not exist in the build.
    ``fields``: the named bit
    fields of the data word (the C header has a shift and mask for each). ``busy_flag``: the flag
    a write while busy raises (the write is refused).
    """

    name: str
    region: Region
    offsets: Offsets
    access: Access
    storage: Storage
    width: Number
    reset: Number | None
    check: Check
    cores: frozenset[Core]
    doc: str
    count: Number = 1
    index_name: str = ""
    keep_stale: bool = False
    alias_of0: str | None = None
    word: int = 0
    fields: tuple[Field, ...] = ()
    busy_flag: Err = Err.BUSY_WRITE

    @property
    def is_array(self) -> bool:
        return bool(self.index_name)

    @property
    def label(self) -> str:
        """``H[i]``, ``J[i][j]``, ``N_ACTIVE``."""
        if self.offsets.matrix:
            return f"{self.name}[i][j]"
        return f"{self.name}[{self.index_name}]" if self.is_array else self.name


_ALL = frozenset(Core)
_ONEHOT = frozenset({Core.ONEHOT})
_DENSE = frozenset({Core.DENSE})
_GRAPH = frozenset({Core.GRAPH})
_SHARED = _ALL - _GRAPH  # the one shared port of the cores with one generator and N_ACTIVE
_MEMORY = _ALL - {Core.STREAM}  # cores that hold their logits (the stream core holds none)
_ARRAY = frozenset({Core.ONEHOT, Core.DENSE})
_FIELDS_START = (Field("SWEEPS", 0, SWEEPS_BITS, "sweeps of the run, >= 1 (array cores)"),
                 Field("INIT", SWEEPS_BITS, 2, "init policy, `Init` (array cores)"))


def _flag_fields(flags) -> tuple[Field, ...]:
    return tuple(Field(flag.name, flag.bit_length() - 1, 1) for flag in flags)


def _scalar(offset: int) -> Offsets:
    return Offsets(offset, 0)


REGISTERS: tuple[Register, ...] = (
    Register("H", Region.H, Offsets(), Access.W, Storage.CORE, WEIGHT_BITS, None, Check.WEIGHT,
             _MEMORY, "bias h[i] of unit i (the tree core: leaf i's log-mass, tree format)",
             count=N_PBITS, index_name="i"),
    Register("COUPLING", Region.REG, _scalar(0), Access.RW, Storage.FLOPS, WEIGHT_BITS, 0,
             Check.WEIGHT, _SHARED, "coupling j = q(-2 lambda) of schedule entry 0 (the same "
             "register as SCHED_COUPLING[0]); dense, tree and stream cores accept it and "
             "ignore it",
             keep_stale=True),
    Register("N_ACTIVE", Region.REG, _scalar(1), Access.RW, Storage.FLOPS,
             Quantity("bits(n_pbits)", lambda p: p.n_pbits.bit_length()), N_PBITS, Check.N_ACTIVE,
             _SHARED, "units in use (tree: leaves at or past it are empty; stream: the row "
             "length V, n_pbits = the core's max_vocab)", keep_stale=True),
    Register("SEED_LO", Region.REG, _scalar(2), Access.RW, Storage.SEED, 32,
             Quantity("low word of derive_state(0, 0)", lambda p: p.reset_state & 0xFFFFFFFF),
             Check.SEED, _SHARED, "generator state bits 31..0; loads the generator when "
             "rng_bits <= 32; reads the generator's current state", word=0),
    Register("SEED_HI", Region.REG, _scalar(3), Access.RW, Storage.SEED,
             Quantity("rng_bits - 32", lambda p: max(p.rng_bits - 32, 0)), None, Check.SEED, _SHARED,
             "generator state bits rng_bits-1..32 (only when rng_bits > 32); loads "
             "{SEED_HI, SEED_LO}; reads the generator's current state", word=1),
    Register("CLEAR_ERR", Region.REG, _scalar(4), Access.STROBE, Storage.NONE, 0, None,
             Check.ANY, _ALL, "clears the sticky error flags"),
    Register("SCHED_LEN", Region.REG, _scalar(5), Access.RW, Storage.FLOPS,
             Quantity("bits(schedule_depth)", lambda p: p.schedule_depth.bit_length()), 1,
             Check.SCHED_LEN, _ONEHOT, "entries T of the lambda schedule"),
    Register("SCHED_OFFSET", Region.REG, Offsets(8, 2), Access.RW, Storage.FLOPS, WEIGHT_BITS, 0,
             Check.WEIGHT, _ONEHOT, "bias offset of schedule entry t", count=DEPTH,
             index_name="t"),
    Register("SCHED_COUPLING", Region.REG, Offsets(9, 2), Access.RW, Storage.FLOPS, WEIGHT_BITS,
             0, Check.WEIGHT, _ONEHOT, "coupling of schedule entry t (t = 0: COUPLING)",
             count=DEPTH, index_name="t", keep_stale=True, alias_of0="COUPLING"),
    # status and control every core has: TOKEN and POPCOUNT at the offsets the graph core's beta
    # registers take there, the rest in 24..31 (free on every core)
    Register("TOKEN", Region.REG, _scalar(6), Access.R, Storage.STATUS, INDEX_BITS, 0,
             Check.ANY, _SHARED, "the token of the last run (array cores: XOR of the indices of "
             "the units on, the token when STATUS.ONEHOT)"),
    Register("POPCOUNT", Region.REG, _scalar(7), Access.R, Storage.STATUS,
             Quantity("bits(n_pbits)", lambda p: p.n_pbits.bit_length()), 0, Check.ANY, _ARRAY,
             "units on"),
    Register("START", Region.REG, _scalar(24), Access.STROBE, Storage.NONE, SWEEPS_BITS + 2,
             None, Check.START, _ALL, "starts a run (as the `start` port): the array cores take "
             "SWEEPS and INIT from the data word, the tree and stream cores ignore it; refused "
             "while busy (BUSY_START) and, on the array cores, with sweeps = 0 or an init the "
             "core lacks (BAD_START)", fields=_FIELDS_START, busy_flag=Err.BUSY_START),
    Register("IRQ_ENABLE", Region.REG, _scalar(25), Access.RW, Storage.FLOPS, 1, 0, Check.BIT,
             _ALL, "1: the `irq` output follows STATUS.DONE"),
    Register("STATUS", Region.REG, _scalar(26), Access.R, Storage.STATUS, len(Status), 0,
             Check.ANY, _ALL, "run and error status, `Status` bits",
             fields=_flag_fields(Status)),
    Register("ERR", Region.REG, _scalar(27), Access.R, Storage.STATUS, ERR_BITS, 0, Check.ANY,
             _ALL, "the sticky error flags, `Err` bits (the `err` port)",
             fields=_flag_fields(Err)),
    Register("RUNS", Region.REG, _scalar(28), Access.R, Storage.STATUS, 32, 0, Check.ANY, _ALL,
             "runs finished since reset (modulo 2^32)"),
    Register("CYCLES", Region.REG, _scalar(29), Access.R, Storage.STATUS, 32, 0, Check.ANY, _ALL,
             "clocks the last run was busy, from its accepted start to done (saturates at "
             "2^32 - 1; the stream core's include those it waited for logits)"),
    Register("CORE_ID", Region.REG, _scalar(30), Access.R, Storage.CONST, 32,
             Quantity("core_id(core)", lambda p: core_id(p.core)), Check.ANY, _ALL,
             f"0x{CORE_ID_MAGIC:04X} << 16 | MAP_VERSION << 8 | core code "
             f"({', '.join(f'{c.value} {c.code}' for c in Core)})"),
    Register("CAPACITY", Region.REG, _scalar(31), Access.R, Storage.CONST, 32, N_PBITS, Check.ANY,
             _ALL, "n_pbits of the build: units, leaves, or the stream core's longest row"),
    Register("STATE", Region.STATE, Offsets(), Access.W, Storage.CORE, 1, None, Check.BIT,
             _DENSE | _GRAPH, "y[i], the initial state for init = GIVEN", count=N_PBITS,
             index_name="i"),
    Register("J", Region.J, Offsets(matrix=True), Access.W, Storage.CORE, WEIGHT_BITS, None,
             Check.WEIGHT, _DENSE, "coupling J[i][j]", count=N_PBITS, index_name="i"),
    # the graph core (docs/graph.md): topology and colouring are build parameters
    Register("BETA_LEN", Region.REG, _scalar(6), Access.W, Storage.FLOPS,
             Quantity("bits(beta_depth)", lambda p: p.beta_depth.bit_length()), 1,
             Check.BETA_LEN, _GRAPH, "entries T of the beta schedule", keep_stale=False),
    Register("BETA_HOLD", Region.REG, _scalar(7), Access.W, Storage.FLOPS, 16, 1,
             Check.BETA_HOLD, _GRAPH, "sweeps per beta entry: sweep s of a run uses entry "
             "min(s // BETA_HOLD, T - 1)"),
    Register("BETA_MANT", Region.REG, Offsets(32, 2), Access.W, Storage.FLOPS,
             BETA_MANT_BITS + 1, 1 << BETA_MANT_BITS, Check.BETA_MANT, _GRAPH,
             "mantissa m_t of beta entry t: fields scale by m_t 2^-(BETA_MANT_BITS + e_t)",
             count=BETA_DEPTH, index_name="t"),
    Register("BETA_EXP", Region.REG, Offsets(33, 2), Access.W, Storage.FLOPS,
             BETA_EXP_MAX.bit_length(), 0, Check.BETA_EXP, _GRAPH, "exponent e_t of beta "
             "entry t", count=BETA_DEPTH, index_name="t"),
    Register("CLAMP", Region.STATE, Offsets(page=1), Access.W, Storage.CORE, 2, 0, Check.CLAMP,
             _GRAPH, "clamp of unit i: bit 1 holds the unit at bit 0 (bit 0 ignored when free)",
             count=N_PBITS, index_name="i"),
    Register("LANE_SEED_LO", Region.STATE, Offsets(page=2), Access.W, Storage.SEED, 32, None,
             Check.SEED, _GRAPH, "generator of unit i, state bits 31..0 (after reset: "
             "derive_state(0, i)); loads it when rng_bits <= 32", count=N_PBITS, index_name="i",
             word=0),
    Register("LANE_SEED_HI", Region.STATE, Offsets(page=3), Access.W, Storage.SEED,
             Quantity("rng_bits - 32", lambda p: max(p.rng_bits - 32, 0)), None, Check.SEED,
             _GRAPH, "generator of unit i, state bits rng_bits-1..32 (only when rng_bits > "
             "32); loads {LANE_SEED_HI[i], LANE_SEED_LO[i]}", count=N_PBITS, index_name="i",
             word=1),
    Register("EDGE_J", Region.J, Offsets(), Access.W, Storage.CORE, WEIGHT_BITS, None,
             Check.WEIGHT, _GRAPH, "coupling of edge e (the topology's edge order: i < j, "
             "lexicographic), shared by both ends", count=N_EDGES, index_name="e"),
)

_BY_NAME = {reg.name: reg for reg in REGISTERS}


# --- layout --------------------------------------------------------------------------------------
def index_bits(n_pbits: int) -> int:
    """Width of a unit index (at least 1)."""
    return max(1, ceil(log2(n_pbits))) if n_pbits > 1 else 1


@lru_cache(maxsize=1)
def _last_reg_offset() -> int:
    """The highest REG offset of the cores that share one layout (the full schedule table, the
    status registers; the graph core lays out its own)."""
    return max(reg.offsets.of(SCHEDULE_DEPTH - 1 if reg.is_array else 0, 1)
               for reg in REGISTERS if reg.region is Region.REG and reg.cores - _GRAPH)


def offset_bits(n_pbits: int, dense: bool) -> int:
    """Width of the offset field: room for J[i][j] (dense) or h[i], and for every register of
    the REG region (the full schedule table and the status registers, whatever the core)."""
    bits = 2 * index_bits(n_pbits) if dense else index_bits(n_pbits)
    return max(bits, _last_reg_offset().bit_length())


def address(region: int, offset: int, n_pbits: int, dense: bool) -> int:
    """Full programming address of (region, offset)."""
    return (region << offset_bits(n_pbits, dense)) | offset


Ref = Union[str, tuple]  # "N_ACTIVE", ("H", i), ("J", (i, j))


@dataclass(frozen=True)
class CoreMap:
    """The registers of one core in one build, laid out (the builder of the map).

    Attributes
    ----------
    core : Core
    params : MapParams
    registers : tuple of Register
        The registers this build has, in :data:`REGISTERS` order.
    """

    core: Core
    params: MapParams
    registers: tuple[Register, ...]

    @classmethod
    def of(cls, core: Core | str, cfg: HwConfig, schedule_depth: int | None = None, *,
           n_units: int | None = None, n_edges: int | None = None) -> "CoreMap":
        """The map of ``core`` built for ``cfg`` (the tree core: pass its tree format to get its
        leaf range). ``schedule_depth``: the one-hot core's table size (default: the full
        :data:`SCHEDULE_DEPTH`) or the graph core's beta table (default
        :data:`~pysampler.contract.graph.MAX_BETA_SCHEDULE`); the other cores have none. The
        graph core takes its size from its topology, ``n_units`` and ``n_edges`` (default:
        cfg.n_pbits units and 2 n_pbits edges, a periodic square lattice's). The stream core's
        ``n_units`` is its longest row, which may exceed an HwConfig's 65,536
        (``StreamFormat.regmap``)."""
        core = Core(core)
        n = cfg.n_pbits
        edges = beta_depth = 0
        if core is Core.STREAM and n_units is not None:
            n = int(n_units)
        if core is Core.GRAPH:
            n = cfg.n_pbits if n_units is None else int(n_units)
            edges = 2 * n if n_edges is None else int(n_edges)
            beta_depth = MAX_BETA_SCHEDULE if schedule_depth is None else schedule_depth
        depth = (SCHEDULE_DEPTH if schedule_depth is None else schedule_depth) \
            if core is Core.ONEHOT else 0
        p = MapParams(n, cfg.weight_bits, cfg.rng_bits, depth, derive_state(0, 0, cfg),
                      edges, beta_depth, core)
        present = tuple(reg for reg in REGISTERS if core in reg.cores
                        and _value(reg.count, p) > 0 and 32 * reg.word < p.rng_bits)
        return cls(core, p, present)

    # layout
    @property
    def offset_bits(self) -> int:
        if self.core is Core.GRAPH:
            last = _BY_NAME["BETA_EXP"].offsets.of(MAX_BETA_SCHEDULE - 1, 1)
            return max(index_bits(self.params.n_pbits) + 2, index_bits(self.params.n_edges),
                       last.bit_length())
        return offset_bits(self.params.n_pbits, self.core is Core.DENSE)

    @property
    def addr_bits(self) -> int:
        return REGION_BITS + self.offset_bits

    @property
    def regions(self) -> list[Region]:
        return sorted({reg.region for reg in self.registers})

    def in_region(self, region: Region) -> list[Register]:
        return [reg for reg in self.registers if reg.region is region]

    def __getitem__(self, name: str) -> Register:
        for reg in self.registers:
            if reg.name == name:
                return reg
        raise KeyError(f"{self.core.value} core has no register {name!r}")

    def __contains__(self, name: str) -> bool:
        return any(reg.name == name for reg in self.registers)

    def indices(self, reg: Register) -> Iterator:
        """Every index of ``reg`` (None for a scalar, (i, j) for a matrix)."""
        count = _value(reg.count, self.params)
        if reg.offsets.matrix:
            yield from ((i, j) for i in range(count) for j in range(count))
        elif reg.is_array:
            yield from range(count)
        else:
            yield None

    def offset(self, ref: Ref) -> int:
        """Offset in its region of ``"NAME"``, ``("NAME", index)`` or ``("J", (i, j))``."""
        name, index = (ref, None) if isinstance(ref, str) else ref
        reg = self[name]
        if reg.is_array != (index is not None):
            raise ValueError(f"{reg.label}: {'an index is needed' if reg.is_array else 'no index'}")
        if index is None:
            return reg.offsets.base
        count = _value(reg.count, self.params)
        parts = index if reg.offsets.matrix else (index,)
        if len(parts) != (2 if reg.offsets.matrix else 1) or not all(0 <= k < count for k in parts):
            raise ValueError(f"{reg.label}: index {index} outside the {self.core.value} core's map")
        return reg.offsets.of(index, self.params.n_pbits)

    def address(self, ref: Ref) -> int:
        """Full programming address of a register entry (see :meth:`offset`)."""
        name = ref if isinstance(ref, str) else ref[0]
        return self.raw_address(self[name].region, self.offset(ref))

    def raw_address(self, region: Region, offset: int) -> int:
        """Address of (region, offset) in this core's layout, held by the map or not."""
        return (int(region) << self.offset_bits) | offset

    def free_offsets(self, region: Region) -> list[int]:
        """Offsets of ``region`` that hold no register of this core (a write there is refused)."""
        used = {reg.offsets.of(index, self.params.n_pbits) if index is not None
                else reg.offsets.base
                for reg in self.in_region(region) for index in self.indices(reg)}
        return [k for k in range(1 << self.offset_bits) if k not in used]

    # values
    def count(self, reg: Register) -> int:
        """Entries of the array ``reg`` in this build (per side for a matrix; 1 for a scalar)."""
        return _value(reg.count, self.params)

    def width(self, reg: Register) -> int:
        return _value(reg.width, self.params)

    def reset(self, reg: Register) -> int | None:
        return None if reg.reset is None else _value(reg.reset, self.params)

    def bounds(self, reg: Register) -> tuple[int, int] | None:
        return reg.check.bounds(self.params)

    def accepts(self, name: str, value: int) -> bool:
        """Whether a write of ``value`` (a data word, read as signed where the register is) to
        ``name`` passes the register's check; seed words are checked when the state loads."""
        bounds = self.bounds(self[name])
        return bounds is None or bounds[0] <= value <= bounds[1]

    def readable(self) -> list[Register]:
        """The registers a bus may read."""
        return [reg for reg in self.registers if reg.access.readable]

    def value(self, reg: Register) -> int | None:
        """A CONST register's value (None for the others)."""
        return self.reset(reg) if reg.storage is Storage.CONST else None

    def field(self, name: str, field: str) -> Field:
        for f in self[name].fields:
            if f.name == field:
                return f
        raise KeyError(f"register {name} has no field {field!r}")

    def pack(self, name: str, **fields: int) -> int:
        """A data word of register ``name`` from its fields' values (each checked to fit)."""
        word = 0
        for key, value in fields.items():
            f = self.field(name, key)
            if not 0 <= int(value) < 1 << f.width:
                raise ValueError(f"{name}.{key} must be in [0, {1 << f.width}), got {value}")
            word |= int(value) << f.lsb
        return word

    def seed_words(self, state: int) -> list[tuple[str, int]]:
        """The writes that load generator state ``state``, the loading word last."""
        words = sorted((reg for reg in self.registers if reg.storage is Storage.SEED),
                       key=lambda reg: reg.word)
        return [(reg.name, (state >> (32 * reg.word)) & 0xFFFFFFFF) for reg in words]
