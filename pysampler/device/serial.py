"""A board over a serial port (pyserial): the byte protocol of :mod:`pysampler.contract.link`
through a UART (the board top ``hw.board``, 8N1). A port that does not answer gives
:class:`~pysampler.device.errors.DeviceTimeout` after ``timeout_s``, never a hang."""

from __future__ import annotations

import time

from ..contract.config import HwConfig
from ..contract.maps import core_map
from ..contract.regmap import Core
from .errors import DeviceError
from .link import ByteTransport

__all__ = ["SerialTransport", "DEFAULT_BAUD"]

DEFAULT_BAUD = 115_200


class SerialTransport(ByteTransport):
    """The ``core`` built for ``cfg`` on a board at serial port ``port`` (a device path, or any
    URL pyserial's ``serial_for_url`` takes, such as ``loop://`` or ``rfc2217://host:port``).

    Parameters
    ----------
    core, cfg
        What the board was built with (``make bitstream``): the driver addresses its map.
    port : str
    baud : int
    timeout_s : float
        How long a reply may take before :class:`DeviceTimeout`.
    """

    timed = True

    def __init__(self, core: Core | str, cfg: HwConfig, port: str, *, baud: int = DEFAULT_BAUD,
                 timeout_s: float = 2.0):
        try:
            import serial
        except ImportError:  # pragma: no cover - pyserial is in the [device] extra
            raise DeviceError("the serial transport needs pyserial (pip install pysampler[hw])") \
                from None
        if isinstance(baud, bool) or not isinstance(baud, int) or baud <= 0:
            raise ValueError(f"baud must be a positive int, got {baud!r}")
        self.core = Core(core)
        self.regmap = core_map(self.core, cfg)
        self.timeout_s = timeout_s
        self.name = f"serial port {port}"
        try:
            self._port = serial.serial_for_url(port, baudrate=baud, timeout=timeout_s,
                                               write_timeout=timeout_s)
        except (serial.SerialException, ValueError) as err:
            raise DeviceError(f"cannot open serial port {port!r}: {err}") from None
        self._port.reset_input_buffer()

    def _send(self, data: bytes) -> None:
        import serial

        try:
            self._port.write(data)
            self._port.flush()
        except serial.SerialTimeoutException:
            from .errors import DeviceTimeout

            raise DeviceTimeout(f"{self.name}: writing {len(data)} bytes took over "
                                f"{self.timeout_s:g} s") from None
        except serial.SerialException as err:
            raise DeviceError(f"{self.name}: {err}") from None

    def _receive(self, n: int, timeout_s: float) -> bytes:
        out = bytearray()
        deadline = time.monotonic() + timeout_s
        while len(out) < n and time.monotonic() < deadline:
            self._port.timeout = max(0.0, min(deadline - time.monotonic(), 0.5))
            out += self._port.read(n - len(out))
        return bytes(out)

    def close(self) -> None:
        port = getattr(self, "_port", None)
        if port is not None:
            port.close()
            self._port = None
