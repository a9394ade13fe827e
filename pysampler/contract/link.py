"""The byte protocol of the host link (a board's UART, the simulated Verilog's pipe): command
codes, argument and reply lengths, reply codes. The RTL's decoder (``hw.serial.ByteBridge``) and
the host's codec (:mod:`pysampler.device.link`) both read them from here.

Every command is one code byte and its little-endian arguments; every command is answered (so a
host pipelines commands and sees a link that does not answer as a timeout):

=========  ===========================  ==================================================
command    arguments (bytes)            reply
=========  ===========================  ==================================================
``W``      word address (3), data (4)   1 byte: 0 written, 1 refused (SLVERR)
``R``      word address (3)             5 bytes: 0 or 1 (refused), the data word (4)
``S``      beats n (3), then n x (4)    1 byte: 0 when the n-th beat (``last``) was taken;
                                        1 for n = 0 or a core without a stream input
``D``      clocks (4)                   5 bytes: 0 done or 2 timed out, the STATUS word: the
                                        bridge reads STATUS until DONE and not BUSY, for at
                                        most ``clocks`` clocks
other      -                            1 byte: 0xFF
=========  ===========================  ==================================================
"""

from __future__ import annotations

__all__ = ["CMD_WRITE", "CMD_READ", "CMD_STREAM", "CMD_WAIT", "ARG_BYTES", "REPLY_BYTES",
           "REPLY_DONE", "REPLY_REFUSED", "REPLY_TIMEOUT", "REPLY_UNKNOWN", "ADDRESS_BYTES",
           "BEAT_BYTES", "MAX_BEATS"]

CMD_WRITE, CMD_READ, CMD_STREAM, CMD_WAIT = b"W"[0], b"R"[0], b"S"[0], b"D"[0]
ADDRESS_BYTES = 3
BEAT_BYTES = 4
MAX_BEATS = (1 << 24) - 1
#: argument bytes after the code (the stream's beats follow its count)
ARG_BYTES = {CMD_WRITE: ADDRESS_BYTES + 4, CMD_READ: ADDRESS_BYTES, CMD_STREAM: 3, CMD_WAIT: 4}
#: reply bytes of each command (an unknown code: 1)
REPLY_BYTES = {CMD_WRITE: 1, CMD_READ: 5, CMD_STREAM: 1, CMD_WAIT: 5}
REPLY_DONE, REPLY_REFUSED, REPLY_TIMEOUT, REPLY_UNKNOWN = 0x00, 0x01, 0x02, 0xFF
