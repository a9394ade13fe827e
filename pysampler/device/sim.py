"""The simulated Verilog as a transport: the core behind its AXI4-Lite bridge and the byte protocol
(``hw.serial.SerialTop`` over byte streams, top ``pbit_<core>_link``) runs in Icarus or Verilator,
and the driver talks to it through two named pipes with the same bytes it sends a board
(:class:`~pysampler.device.link.ByteTransport`).

The test bench (:data:`LINK_TB`, plain Verilog for both simulators) feeds the bridge a byte from
the command pipe whenever the bridge can take one, blocking in ``$fgetc`` only then (the
simulation waits for the host, nothing else happens in that clock), and writes every reply byte
to the reply pipe. The host closing the command pipe ends the simulation. The Verilog is exported
and the simulator built once per core, configuration and simulator, under
``build/device/<sim>/<config hash>/<core>`` (a stamp of the generator sources, as the
co-simulation does), so later runs start in well under a second.
"""

from __future__ import annotations

import hashlib
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..contract.config import HwConfig
from ..contract.maps import core_map
from ..contract.regmap import Core
from .errors import DeviceError
from .link import ByteTransport

__all__ = ["SimTransport", "SIMULATORS", "LINK_TB", "build_link_sim"]

SIMULATORS = ("icarus", "verilator")
ROOT = Path(__file__).resolve().parents[2]
#: the folders the Verilog is generated from (as sim.runner.GENERATOR_SOURCES)
_SOURCES = ("hw", "pysampler/contract")

LINK_TB = """\
// The host link of a simulated core (pysampler.device.sim): bytes from the +cmd= pipe to the
// byte-protocol bridge, its replies to the +reply= pipe; EOF on the command pipe ends it.
module link_tb;
  reg clk = 1'b0;
  reg rst = 1'b1;
  reg [7:0] rx_data = 8'd0;
  reg rx_valid = 1'b0;
  wire rx_ready;
  wire [7:0] tx_data;
  wire tx_valid;
  wire irq;
  reg taken = 1'b0;
  reg [8*4096-1:0] cmd_path;
  reg [8*4096-1:0] reply_path;
  integer cmd_fd, reply_fd, c, k;
  TOP dut(.clk(clk), .rst(rst), .rx__data(rx_data), .rx__valid(rx_valid), .rx__ready(rx_ready),
          .tx__data(tx_data), .tx__valid(tx_valid), .tx__ready(1'b1), .irq(irq));
  always #5 clk = ~clk;
  initial begin
    if (!$value$plusargs("cmd=%s", cmd_path) || !$value$plusargs("reply=%s", reply_path)) begin
      $display("link_tb: +cmd=PIPE +reply=PIPE needed");
      $finish;
    end
    cmd_fd = $fopen(cmd_path, "rb");
    reply_fd = $fopen(reply_path, "wb");
    for (k = 0; k < 3; k = k + 1) @(posedge clk);
    @(negedge clk) rst = 1'b0;
  end
  always @(posedge clk) taken <= rx_valid & rx_ready;
  always @(negedge clk) if (!rst) begin
    if (tx_valid) begin
      $fwrite(reply_fd, "%c", tx_data);
      $fflush(reply_fd);
    end
    if (taken) rx_valid = 1'b0;
    if (!rx_valid && rx_ready) begin
      c = $fgetc(cmd_fd);
      if (c < 0) $finish;
      rx_data = c[7:0];
      rx_valid = 1'b1;
    end
  end
endmodule
"""


def _fingerprint(cfg: HwConfig, sim: str) -> str:
    digest = hashlib.sha256(cfg.to_json().encode() + sim.encode() + LINK_TB.encode())
    for folder in _SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _tool(name: str) -> str:
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise DeviceError(f"{name} not found: the simulated transport needs it (`make setup` "
                          f"installs Verilator, `make apt-sim` Icarus)")
    return found


def build_link_sim(core: Core | str, cfg: HwConfig, sim: str, build_root: Path | None = None
                   ) -> list[str]:
    """Export and build the ``sim`` simulation of ``core``'s link top for ``cfg`` unless built
    from the same sources; returns the command that runs it (pipes as plusargs follow)."""
    core = Core(core)
    if sim not in SIMULATORS:
        raise ValueError(f"sim must be one of {SIMULATORS}, got {sim!r}")
    try:
        from hw.export import LINK_TOP_NAMES, to_verilog_link
    except ImportError as err:  # pragma: no cover - run from the repository
        raise DeviceError(f"the simulated transport needs the repository's hw/ ({err}); run "
                          f"from the repository root with the [hw] extra") from None
    fingerprint = _fingerprint(cfg, sim)
    root = build_root or ROOT / "build" / "device"
    work = root / sim / fingerprint[:16] / core.value
    stamp = work / "built.sha256"
    top = LINK_TOP_NAMES[core.value]
    run = ([_tool("vvp"), "-n", str(work / "link.vvp")] if sim == "icarus"
           else [str(work / "obj" / "link_sim")])
    if stamp.exists() and stamp.read_text() == fingerprint:
        return run
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("XDG_CACHE_HOME", str(ROOT / "build" / "cache"))
    (work / f"{top}.v").write_text(to_verilog_link(cfg, core))
    (work / "link_tb.v").write_text(LINK_TB.replace("TOP dut", f"{top} dut"))
    sources = [str(work / "link_tb.v"), str(work / f"{top}.v")]
    if sim == "icarus":
        cmd = [_tool("iverilog"), "-g2012", "-s", "link_tb", "-o", str(work / "link.vvp"),
               *sources]
        env = None
    else:
        from hw.lint import verilator_bin

        vbin = verilator_bin()
        cmd = [str(vbin / "verilator"), "--binary", "--timing", "-j", "2", "-Wno-fatal",
               "-Wno-lint", "-Wno-style", "--top-module", "link_tb", "--Mdir",
               str(work / "obj"), "-o", "link_sim",
               # --timing needs C++20 coroutines, which the wheel's flags leave out
               # -O0: the model compiles in a third of the time and a link waits on its host
               "-CFLAGS", "-O0 -std=c++20 -fcoroutines", *sources]
        env = dict(os.environ, PATH=os.pathsep.join([str(vbin), os.environ.get("PATH", "")]),
                   MAKEFLAGS="CFG_CXXFLAGS_PCH_I=-include")  # as sim.runner
    result = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if result.returncode:
        raise DeviceError(f"building the {sim} simulation of {top} failed "
                          f"({result.returncode}): {(result.stdout + result.stderr)[-2000:]}")
    stamp.write_text(fingerprint)
    return run


class SimTransport(ByteTransport):
    """The Verilog of ``core`` for ``cfg`` simulated by ``sim`` ("icarus" or "verilator"),
    reached through the byte protocol (module docstring).

    Parameters
    ----------
    core : Core or str
    cfg : HwConfig
    sim : str
    timeout_s : float
        How long a reply may take (the simulator being slow, or gone) before
        :class:`~pysampler.device.errors.DeviceTimeout`.
    build_root : Path, optional
        Where to build (default build/device).
    """

    timed = True

    def __init__(self, core: Core | str, cfg: HwConfig, sim: str = "verilator", *,
                 timeout_s: float = 60.0, build_root: Path | None = None):
        self.core, self.cfg, self.sim = Core(core), cfg, sim
        self.regmap = core_map(self.core, cfg)
        self.timeout_s = timeout_s
        self.name = f"{sim} simulation of pbit_{self.core.value}_link"
        run = build_link_sim(self.core, cfg, sim, build_root)
        self._dir = Path(tempfile.mkdtemp(prefix="pbit-link-"))
        cmd_pipe, reply_pipe = self._dir / "cmd", self._dir / "reply"
        os.mkfifo(cmd_pipe)
        os.mkfifo(reply_pipe)
        self._log = open(self._dir / "sim.log", "w+b")
        self._proc = subprocess.Popen([*run, f"+cmd={cmd_pipe}", f"+reply={reply_pipe}"],
                                      stdout=self._log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL)
        self._cmd = self._reply = None
        try:
            self._cmd = self._open_writer(cmd_pipe)
            self._reply = os.open(reply_pipe, os.O_RDONLY | os.O_NONBLOCK)
        except BaseException:
            self.close()
            raise
        self._pending = b""

    def _open_writer(self, path: Path) -> int:
        """The command pipe, once the simulator has opened it (or a clear error if it died)."""
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
                os.set_blocking(fd, True)
                return fd
            except OSError:  # ENXIO: no reader yet
                if self._proc.poll() is not None:
                    raise DeviceError(f"{self.name} ended ({self._proc.returncode}) before "
                                      f"opening its pipes: {self._log_tail()}") from None
                if time.monotonic() > deadline:
                    raise DeviceError(f"{self.name} did not open its pipes within "
                                      f"{self.timeout_s:g} s") from None
                time.sleep(0.005)

    def _log_tail(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-1500:]

    def _send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                sent = os.write(self._cmd, view)
            except BrokenPipeError:
                raise DeviceError(f"{self.name} is gone: {self._log_tail()}") from None
            view = view[sent:]

    def _receive(self, n: int, timeout_s: float) -> bytes:
        out = bytearray()
        deadline = time.monotonic() + timeout_s
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([self._reply], [], [], min(left, 0.5))
            if not ready:
                if self._proc.poll() is not None:
                    raise DeviceError(f"{self.name} ended ({self._proc.returncode}): "
                                      f"{self._log_tail()}")
                continue
            chunk = os.read(self._reply, n - len(out))
            if not chunk and self._proc.poll() is not None:
                raise DeviceError(f"{self.name} ended ({self._proc.returncode}): "
                                  f"{self._log_tail()}")
            out += chunk
        return bytes(out)

    def close(self) -> None:
        if getattr(self, "_cmd", None) is not None:
            os.close(self._cmd)  # EOF: the test bench finishes
            self._cmd = None
        proc = getattr(self, "_proc", None)
        if proc is not None:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if getattr(self, "_reply", None) is not None:
            os.close(self._reply)
            self._reply = None
        if getattr(self, "_log", None) is not None:
            self._log.close()
            self._log = None
        if getattr(self, "_dir", None) is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
