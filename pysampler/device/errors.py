"""What the driver raises: a device that refused something or raised an error flag
(:class:`DeviceError`, with the flags), and a device that did not answer (:class:`DeviceTimeout`)."""

from __future__ import annotations

from ..contract.regmap import ERR_DOCS, Err

__all__ = ["DeviceError", "DeviceTimeout", "describe_flags"]


def describe_flags(flags: Err | int) -> str:
    """``BAD_START (start with sweeps = 0, ...)``, one entry per flag set."""
    flags = Err(int(flags))
    return "; ".join(f"{flag.name} ({ERR_DOCS[flag]})" for flag in Err if flag in flags) or "none"


class DeviceError(RuntimeError):
    """The device refused an access or raised error flags (``flags``, :class:`Err`)."""

    def __init__(self, message: str, flags: Err | int = 0):
        self.flags = Err(int(flags))
        super().__init__(message if not self.flags else
                         f"{message}: error flags {describe_flags(self.flags)}")


class DeviceTimeout(DeviceError, TimeoutError):
    """The device did not answer in time (a link that is not connected, a run that does not
    end)."""
