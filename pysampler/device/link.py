"""The host side of the byte protocol (:mod:`pysampler.contract.link`): the encoding of each command,
the decoding of its reply, and :class:`ByteTransport`, a transport over any byte channel (a serial
port, the pipes of a simulated Verilog) that pipelines writes and turns a reply that does not come
into :class:`~pysampler.device.errors.DeviceTimeout`.
"""

from __future__ import annotations

import struct
import time
from abc import abstractmethod
from typing import Iterable, Sequence

import numpy as np

from ..contract.link import (CMD_READ, CMD_STREAM, CMD_WAIT, CMD_WRITE, MAX_BEATS, REPLY_BYTES,
                             REPLY_DONE, REPLY_REFUSED, REPLY_TIMEOUT, REPLY_UNKNOWN)
from .errors import DeviceError, DeviceTimeout
from .transport import Transport

__all__ = ["encode_write", "encode_read", "encode_stream", "encode_wait", "ByteTransport",
           "ModelLink", "WAIT_FOREVER"]

#: the wait command's clock limit when the host gives none (the host's own timeout decides)
WAIT_FOREVER = 0xFFFFFFFF


def _address(address: int) -> bytes:
    if not 0 <= address < 1 << 24:
        raise ValueError(f"word address must be in [0, 2**24), got {address}")
    return address.to_bytes(3, "little")


def encode_write(address: int, value: int) -> bytes:
    """``W`` + address (3) + data (4); ``value`` is taken modulo 2**32 (two's complement)."""
    return bytes([CMD_WRITE]) + _address(address) + (int(value) & 0xFFFFFFFF).to_bytes(4, "little")


def encode_read(address: int) -> bytes:
    return bytes([CMD_READ]) + _address(address)


def encode_stream(values: Sequence[int]) -> bytes:
    """``S`` + n (3) + n words (4 bytes each, two's complement)."""
    n = len(values)
    if not 1 <= n <= MAX_BEATS:
        raise ValueError(f"a stream command carries 1..{MAX_BEATS} beats, got {n}")
    words = np.asarray(values, dtype=np.int64) & 0xFFFFFFFF
    return bytes([CMD_STREAM]) + n.to_bytes(3, "little") + words.astype("<u4").tobytes()


def encode_wait(clocks: int = WAIT_FOREVER) -> bytes:
    if not 0 <= clocks <= 0xFFFFFFFF:
        raise ValueError(f"clocks must be in [0, 2**32), got {clocks}")
    return bytes([CMD_WAIT]) + clocks.to_bytes(4, "little")


class ByteTransport(Transport):
    """A transport speaking the byte protocol over a byte channel: subclasses give
    :meth:`_send` and :meth:`_receive` (``n`` bytes, or fewer when ``timeout_s`` passed)."""

    #: seconds a reply may take (a wait command: its own timeout)
    timeout_s: float = 10.0
    #: what the channel is, for messages
    name: str = "byte link"

    @abstractmethod
    def _send(self, data: bytes) -> None: ...

    @abstractmethod
    def _receive(self, n: int, timeout_s: float) -> bytes: ...

    def _replies(self, n: int, what: str, timeout_s: float | None = None) -> bytes:
        timeout = self.timeout_s if timeout_s is None else timeout_s
        data = self._receive(n, timeout)
        if data and data[0] not in (REPLY_DONE, REPLY_REFUSED, REPLY_TIMEOUT):
            raise DeviceError(f"{self.name}: unexpected reply code {data[0]:#x} to {what} (a "
                              f"link out of step, or not a p-bit board)")
        if len(data) < n:
            raise DeviceTimeout(f"{self.name}: no reply to {what} within {timeout:g} s "
                                f"({len(data)} of {n} bytes came); is the device connected, "
                                f"powered and programmed with this core?")
        return data

    @staticmethod
    def _code(code: int, what: str) -> bool:
        if code == REPLY_UNKNOWN:
            raise DeviceError(f"the device did not know the command of {what} (out of step?)")
        if code not in (REPLY_DONE, REPLY_REFUSED):
            raise DeviceError(f"unexpected reply code {code:#x} to {what}")
        return code == REPLY_DONE

    def write_many(self, writes: Iterable[tuple[int, int]]) -> list[bool]:
        writes = list(writes)
        if not writes:
            return []
        self._send(b"".join(encode_write(a, v) for a, v in writes))
        replies = self._replies(len(writes) * REPLY_BYTES[CMD_WRITE],
                                f"{len(writes)} write(s) from address {writes[0][0]:#x}")
        return [self._code(code, f"the write to {a:#x}") for code, (a, _) in zip(replies, writes)]

    def read(self, address: int) -> tuple[int, bool]:
        self._send(encode_read(address))
        reply = self._replies(REPLY_BYTES[CMD_READ], f"the read of {address:#x}")
        ok = self._code(reply[0], f"the read of {address:#x}")
        return struct.unpack("<I", reply[1:5])[0], ok

    def stream(self, values: Sequence[int]) -> bool:
        self._send(encode_stream(values))
        reply = self._replies(REPLY_BYTES[CMD_STREAM], f"a stream of {len(values)} beats")
        return self._code(reply[0], "the stream")

    def wait_done(self, timeout_s: float) -> int:
        self._send(encode_wait())
        start = time.monotonic()
        reply = self._replies(REPLY_BYTES[CMD_WAIT], "the wait for done",
                              timeout_s=max(timeout_s, 0.0))
        if reply[0] == REPLY_TIMEOUT:  # pragma: no cover - the host's clock limit is forever
            raise DeviceTimeout(f"{self.name}: the run did not finish")
        self._code(reply[0], "the wait for done")
        self.last_wait_s = time.monotonic() - start
        return struct.unpack("<I", reply[1:5])[0]


class ModelLink(ByteTransport):
    """The byte protocol answered in Python by a register-level model
    (:class:`~pysampler.device.model.ModelTransport`): what the RTL bridge would answer, byte for
    byte, and a log of every exchange (``exchanges``: the bytes of each send and the reply bytes
    they got), so a test can replay the driver's exact byte stream through the UART pins of the
    simulated board top and expect exactly these replies."""

    name = "model link"
    timed = False

    def __init__(self, model: Transport):
        self.model = model
        self.regmap = model.regmap
        self.exchanges: list[tuple[bytes, bytes]] = []
        self._replies_pending = bytearray()

    def _send(self, data: bytes) -> None:
        reply = bytearray()
        view = memoryview(data)
        while view:
            code = view[0]
            if code == CMD_WRITE:
                address = int.from_bytes(view[1:4], "little")
                value = int.from_bytes(view[4:8], "little")
                ok = self.model.write_many([(address, value)])[0]
                reply.append(REPLY_DONE if ok else REPLY_REFUSED)
                view = view[8:]
            elif code == CMD_READ:
                value, ok = self.model.read(int.from_bytes(view[1:4], "little"))
                reply += bytes([REPLY_DONE if ok else REPLY_REFUSED]) + value.to_bytes(4, "little")
                view = view[4:]
            elif code == CMD_STREAM:
                n = int.from_bytes(view[1:4], "little")
                words = np.frombuffer(view[4:4 + 4 * n].tobytes(), dtype="<u4").astype(np.int64)
                ok = n > 0 and self.model.stream([int(w) for w in words])
                reply.append(REPLY_DONE if ok else REPLY_REFUSED)
                view = view[4 + 4 * n:]
            elif code == CMD_WAIT:
                status = self.model.wait_done(0.0)
                reply += bytes([REPLY_DONE]) + status.to_bytes(4, "little")
                view = view[5:]
            else:
                reply.append(REPLY_UNKNOWN)
                view = view[1:]
        self.exchanges.append((bytes(data), bytes(reply)))
        self._replies_pending += reply

    def _receive(self, n: int, timeout_s: float) -> bytes:
        out = bytes(self._replies_pending[:n])
        del self._replies_pending[:n]
        return out
