"""A transport, and a :class:`~pysampler.device.Device` on it, from names: the core, the
configuration and where the core runs.

``transport``: ``"model"`` (the bit-accurate model behind the register facade, the default),
``"icarus"`` or ``"verilator"`` (the simulated Verilog), ``"serial:PORT"`` or
``"serial:PORT@BAUD"`` (a board, e.g. ``serial:/dev/ttyUSB0@115200``).
"""

from __future__ import annotations

from ..contract.config import HwConfig
from ..contract.regmap import Core
from .device import Device
from .transport import Transport

__all__ = ["open_transport", "open_device", "check_transport", "TRANSPORTS", "CORES"]

TRANSPORTS = ("model", "icarus", "verilator", "serial:PORT[@BAUD]")
#: the cores a transport can run (the graph core has no RTL built from a config yet)
CORES = ("onehot", "dense", "tree", "stream")


def check_transport(transport: str) -> str:
    """``transport`` if it names a transport (nothing is opened), else a ValueError."""
    if not isinstance(transport, str):
        raise TypeError(f"transport must be a str, got {type(transport).__name__}")
    if transport in ("model", "icarus", "verilator"):
        return transport
    if transport.startswith("serial:"):
        port, at, baud = transport[len("serial:"):].partition("@")
        if not port:
            raise ValueError(f"transport {transport!r}: name the port, serial:PORT[@BAUD]")
        if at and (not baud.isdigit() or int(baud) == 0):
            raise ValueError(f"transport {transport!r}: the baud rate after '@' must be an "
                             f"int > 0")
        return transport
    raise ValueError(f"transport must be one of {TRANSPORTS}, got {transport!r}")


def open_transport(core: Core | str, cfg: HwConfig, transport: str = "model", *,
                   timeout_s: float | None = None) -> Transport:
    """The link named ``transport`` to ``core`` built for ``cfg`` (module docstring)."""
    name = core.value if isinstance(core, Core) else core
    if name not in CORES:
        raise ValueError(f"core must be one of {CORES}, got {core!r}")
    check_transport(transport)
    if transport == "model":
        from .model import ModelTransport

        return ModelTransport(core, cfg)
    if transport in ("icarus", "verilator"):
        from .sim import SimTransport

        return SimTransport(core, cfg, transport,
                            **({} if timeout_s is None else {"timeout_s": timeout_s}))
    from .serial import SerialTransport

    port, _, baud = transport[len("serial:"):].partition("@")
    options = {"baud": int(baud)} if baud else {}
    if timeout_s is not None:
        options["timeout_s"] = timeout_s
    return SerialTransport(core, cfg, port, **options)


def open_device(core: Core | str, cfg: HwConfig, transport: str = "model", *,
                timeout_s: float | None = None) -> Device:
    """:class:`Device` on :func:`open_transport` (CORE_ID checked)."""
    link = open_transport(core, cfg, transport, timeout_s=timeout_s)
    try:
        return Device(link)
    except BaseException:
        link.close()
        raise
