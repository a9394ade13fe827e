"""The host driver: :class:`Device`, one core driven through its register map over any
:class:`~pysampler.device.transport.Transport` (the model facade, the simulated Verilog, a serial
link to a board), with one code path for all of them.

Register accesses go by name (``dev.write("N_ACTIVE", 5)``, ``dev.write(("H", 3), -7)``,
``dev.read("TOKEN")``); a refused access raises :class:`~pysampler.device.errors.DeviceError`
naming the register, the value and the error flags the core raised (which the driver then
clears), so a bad value never passes silently; a device that does not answer raises
:class:`~pysampler.device.errors.DeviceTimeout`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from ..contract.regmap import (CORE_ID_MAGIC, MAP_VERSION, Core, CoreMap, Err, Init, Ref, Status,
                               core_id)
from .errors import DeviceError, DeviceTimeout
from .transport import Transport

__all__ = ["Device", "RunResult"]


@dataclass(frozen=True)
class RunResult:
    """What a finished run left in the status registers."""

    token: int
    status: Status
    popcount: int = 0
    cycles: int = 0

    @property
    def onehot(self) -> bool:
        return Status.ONEHOT in self.status


class Device:
    """A core behind a transport.

    Parameters
    ----------
    transport : Transport
        An open link; its ``regmap`` says which core and build it is.
    timeout_s : float
        How long a run may take before :meth:`wait` raises :class:`DeviceTimeout`.
    check_id : bool
        Read CORE_ID first and raise a :class:`DeviceError` unless it is this core's (the map's
        magic, version and core code): a board programmed with another core, or a link that
        reads garbage, is caught before anything is written.
    """

    def __init__(self, transport: Transport, *, timeout_s: float = 30.0, check_id: bool = True):
        self.transport = transport
        self.regmap: CoreMap = transport.regmap
        self.core: Core = self.regmap.core
        self.timeout_s = timeout_s
        self._addresses: dict = {}
        if check_id:
            self.identify()

    # --- registers ---------------------------------------------------------------------------
    def address(self, ref: Ref) -> int:
        address = self._addresses.get(ref)
        if address is None:
            address = self._addresses[ref] = self.regmap.address(ref)
        return address

    def identify(self) -> int:
        """Check CORE_ID against this core and map version; returns it."""
        value, ok = self.transport.read(self.address("CORE_ID"))
        want = core_id(self.core)
        if not ok or value != want:
            what = "refused" if not ok else f"{value:#010x}"
            known = {core_id(c): c.value for c in Core}
            hint = (f" (the {known[value]} core)" if value in known else
                    f" (map version {(value >> 8) & 0xFF}, this driver has {MAP_VERSION})"
                    if value >> 16 == CORE_ID_MAGIC else " (not a p-bit core)")
            raise DeviceError(f"CORE_ID read {what}{hint if ok else ''}, expected {want:#010x} "
                              f"for the {self.core.value} core")
        return value

    def read(self, ref: Ref) -> int:
        """The value of a readable register (signed registers as signed ints)."""
        value, ok = self.transport.read(self.address(ref))
        if not ok:
            raise DeviceError(f"read of {self._label(ref)} refused (not readable on the "
                              f"{self.core.value} core)")
        name = ref if isinstance(ref, str) else ref[0]
        if self.regmap[name].check.signed and value >> 31:
            value -= 1 << 32
        return value

    def write(self, ref: Ref, value: int) -> None:
        """Write one register; raises :class:`DeviceError` when the core refuses it."""
        self.write_many([(ref, value)])

    def write_many(self, writes: Iterable[tuple[Ref, int]]) -> None:
        """Write registers in order (pipelined on a byte link). A refused write raises
        :class:`DeviceError` naming the first refused write and the flags; the later writes of
        the batch were still sent (each is checked by the core on its own)."""
        writes = [(ref, int(value)) for ref, value in writes]
        taken = self.transport.write_many([(self.address(ref), value) for ref, value in writes])
        if not all(taken):
            ref, value = writes[taken.index(False)]
            flags = self.take_errors()
            raise DeviceError(f"write {self._label(ref)} = {value} refused"
                              f"{self._bounds(ref)}", flags)

    def errors(self) -> Err:
        """The sticky error flags (ERR)."""
        return Err(self.read("ERR"))

    def take_errors(self) -> Err:
        """Read the error flags and clear them (a core that is busy refuses CLEAR_ERR, as any
        write: the flags then stay set, and show again after the run)."""
        flags = self.errors()
        if flags:
            self.transport.write_many([(self.address("CLEAR_ERR"), 0)])
        return flags

    def check(self) -> None:
        """Raise :class:`DeviceError` if any error flag is set (and clear them)."""
        flags = self.take_errors()
        if flags:
            raise DeviceError(f"the {self.core.value} core raised error flags", flags)

    def status(self) -> Status:
        return Status(self.read("STATUS"))

    # --- generator ---------------------------------------------------------------------------
    def load_seed(self, state: int) -> None:
        """Load generator state ``state`` (refused, with SEED, when 0)."""
        self.write_many(self.regmap.seed_words(int(state)))

    def seed_state(self) -> int:
        """The generator's current state, read from its seed words."""
        state = 0
        for name, _ in self.regmap.seed_words(0):
            state |= (self.read(name) & 0xFFFFFFFF) << (32 * self.regmap[name].word)
        return state

    # --- runs --------------------------------------------------------------------------------
    def start(self, sweeps: int = 1, init: str | Init = Init.ZEROS) -> None:
        """Write START (the array cores: ``sweeps`` and ``init``; the others ignore them)."""
        code = Init[init.upper()] if isinstance(init, str) else Init(init)
        if isinstance(sweeps, bool) or not isinstance(sweeps, (int, np.integer)) \
                or not 1 <= sweeps < 1 << 16:
            raise ValueError(f"sweeps must be an int in [1, 65535], got {sweeps!r}")
        try:
            self.write("START", self.regmap.pack("START", SWEEPS=int(sweeps), INIT=int(code)))
        except DeviceError as err:
            raise DeviceError(f"START (sweeps={sweeps}, init={code.name.lower()}) refused",
                              err.flags) from None

    def wait(self, timeout_s: float | None = None) -> Status:
        """Wait for the run to end; raises :class:`DeviceTimeout` when it does not."""
        status = Status(self.transport.wait_done(self.timeout_s if timeout_s is None
                                                 else timeout_s))
        if Status.BUSY in status or Status.DONE not in status:
            raise DeviceTimeout(f"the {self.core.value} core did not finish (STATUS "
                                f"{status!r})")
        return status

    def result(self, status: Status | None = None) -> RunResult:
        status = self.status() if status is None else status
        if Status.ERROR in status:
            self.check()
        popcount = self.read("POPCOUNT") if "POPCOUNT" in self.regmap else 0
        return RunResult(self.read("TOKEN"), status, popcount, self.read("CYCLES"))

    def run(self, sweeps: int = 1, init: str | Init = Init.ZEROS) -> RunResult:
        """Start a run of the loaded program, wait for it, return its result."""
        self.start(sweeps, init)
        return self.result(self.wait())

    def stream(self, values: Sequence[int]) -> None:
        """Send a row of logits (the stream core's format) to the stream input."""
        if not self.transport.stream([int(v) for v in values]):
            raise DeviceError(f"the {self.core.value} core has no stream input")

    def draw_stream(self, values: Sequence[int]) -> RunResult:
        """One token of the stream core: N_ACTIVE = len(values), START, the row, the result."""
        self.write("N_ACTIVE", len(values))
        self.start()
        self.stream(values)
        return self.result(self.wait())

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> "Device":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- messages ----------------------------------------------------------------------------
    @staticmethod
    def _label(ref: Ref) -> str:
        if isinstance(ref, str):
            return ref
        name, index = ref
        return f"{name}[{index[0]}][{index[1]}]" if isinstance(index, tuple) \
            else f"{name}[{index}]"

    def _bounds(self, ref: Ref) -> str:
        name = ref if isinstance(ref, str) else ref[0]
        bounds = self.regmap.bounds(self.regmap[name])
        return "" if bounds is None else f" (accepts {bounds[0]}..{bounds[1]})"
