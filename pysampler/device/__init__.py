"""The sampler as a device: a host driver for the cores through their register map.

=============  ==================================================================================
module         what it holds
=============  ==================================================================================
``device``     :class:`Device`: register reads and writes by name, seeds, runs, the stream, the
               error flags as exceptions; one code path over every transport
``errors``     :class:`DeviceError` (refusals and error flags), :class:`DeviceTimeout`
``transport``  :class:`Transport`, what a link to a core provides
``model``      :class:`ModelTransport`: the bit-accurate model behind a register-level facade
``link``       the host side of the byte protocol (:mod:`pysampler.contract.link`) and
               :class:`ByteTransport`, a transport over any byte channel
``serial``     :class:`SerialTransport`: a board over a serial port (pyserial)
``sim``        :class:`SimTransport`: the Verilog of a core simulated by Icarus or Verilator
``open``       :func:`open_device`: a Device from a core, a configuration and a transport name
``regdoc``     the register map rendered for hardware users: Markdown tables, the C header
=============  ==================================================================================
"""

from .device import Device, RunResult
from .errors import DeviceError, DeviceTimeout
from .model import ModelTransport
from .open import open_device, open_transport
from .transport import Transport

__all__ = ["Device", "RunResult", "DeviceError", "DeviceTimeout", "ModelTransport", "Transport",
           "open_device", "open_transport"]
