"""What the driver needs of a link to a core: word-addressed register writes and reads, a stream
of logits, and a wait for the end of a run. Every transport (the model facade, the simulated
Verilog, a serial port) gives exactly this, so :class:`~pysampler.device.Device` has one code path.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterable, Sequence

from ..contract.regmap import CoreMap

__all__ = ["Transport"]


class Transport(ABC):
    """A link to one core. Attributes: ``regmap`` (the core's map, set when opened)."""

    regmap: CoreMap

    @abstractmethod
    def write_many(self, writes: Iterable[tuple[int, int]]) -> list[bool]:
        """Write (word address, 32-bit value) in order; returns, per write, whether the core
        took it (False: refused, an error flag raised)."""

    @abstractmethod
    def read(self, address: int) -> tuple[int, bool]:
        """(value, ok) of the register at ``address``; ok False: nothing readable there."""

    @abstractmethod
    def stream(self, values: Sequence[int]) -> bool:
        """Send logits (the core's stream input; ``last`` on the final one); False when the
        core has no stream input."""

    @abstractmethod
    def wait_done(self, timeout_s: float) -> int:
        """Wait until the run ends (STATUS.DONE and not BUSY); returns STATUS. Raises
        :class:`~pysampler.device.errors.DeviceTimeout` after ``timeout_s``."""

    def close(self) -> None:
        """Release the link (a simulator ends, a port closes)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
