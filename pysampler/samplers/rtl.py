"""Tokens drawn by a core through the host driver (:mod:`pysampler.device`): the same procedure,
filters, seeds, statistics, restarts and fallback as the model-backed samplers, every draw made by
the core behind a transport: the simulated Verilog (Icarus or Verilator), a board on a serial
port, or the bit-accurate model behind the register facade.

``make_sampler("rtl", cfg, policy, seed=s, core="onehot", transport="verilator")`` (``pysampler
generate --sampler rtl --core onehot|tree|stream [--transport ...]``) gives, for the same seed,
exactly the tokens of the model-backed sampler of that core (``hw``, ``tree``, ``stream``): the
driver loads each lane's generator state before a draw and reads it back after, so the lanes run
on as the model's do; the core's draws are bit-exact with the model, which the tests check token
for token. Its exact law is the model sampler's (``law``).
"""

from __future__ import annotations

from typing import Any

from ..contract.config import HwConfig
from ..device.device import Device
from ..device.open import check_transport, open_device
from ..engines.stream import StreamRow
from ..engines.tree import TreeProgram
from .base import TokenSampler
from .filtering import KeptBatch, KeptVocab
from .hardware import HardwareSampler
from .policy import ChainPolicy
from .registry import register_sampler
from .stream import StreamSampler
from .tree import TreeSampler

__all__ = ["RtlSampler", "RtlOnehotSampler", "RtlTreeSampler", "RtlStreamSampler",
           "DEFAULT_TRANSPORT"]

DEFAULT_TRANSPORT = "verilator"


class _OnDevice:
    """A core behind a transport, opened at the first draw (building a simulator can take a
    while; a sampler that is built and never draws opens nothing)."""

    core = ""

    def _attach(self, transport: str) -> None:
        self.transport = check_transport(transport)
        self._device: Device | None = None

    @property
    def device(self) -> Device:
        if self._device is None:
            self._device = open_device(self.core, self.cfg, self.transport)
        return self._device

    def close(self) -> None:
        """End the link (the simulator, the port)."""
        if self._device is not None:
            self._device.close()
            self._device = None

    @classmethod
    def build(cls, cfg: HwConfig, policy: ChainPolicy, seed: int, transport: str):
        """The sampler for the registry (the chain policy where the core runs one)."""
        return cls(cfg, transport=transport, seed=seed)


class RtlOnehotSampler(_OnDevice, HardwareSampler):
    """The one-hot core (``pbit_onehot``) through the driver: :class:`HardwareSampler`'s
    procedure, every run on the core (continue read-out: runs started with init = keep)."""

    core = "onehot"

    def __init__(self, cfg: HwConfig | None = None, *, transport: str = DEFAULT_TRANSPORT,
                 policy: ChainPolicy | None = None, seed: int = 0, **policy_fields: Any):
        super().__init__(cfg, policy=policy, seed=seed, **policy_fields)
        self._attach(transport)
        self._loaded = None

    @classmethod
    def build(cls, cfg: HwConfig, policy: ChainPolicy, seed: int, transport: str):
        return cls(cfg, transport=transport, policy=policy, seed=seed)

    def with_policy(self, policy: ChainPolicy) -> "RtlOnehotSampler":
        return RtlOnehotSampler(self.cfg, transport=self.transport, policy=policy,
                                seed=self.seed)

    def _run(self, kept: KeptVocab, lane: int, chain: Any, sweeps: int) -> tuple[Any, int]:
        dev = self.device
        if chain is None:
            program = self.program_for(kept)
            if self._loaded is not program:
                dev.write_many(program.register_writes())
                self._loaded = program
            dev.load_seed(self._lanes.get(self.seed, lane))
            result = dev.run(sweeps, self.init)
        else:
            result = dev.run(sweeps, "keep")
        self._lanes.set(lane, dev.seed_state())
        return True, (result.token if result.onehot else -1)

    def _draw_kept_batch(self, kept: KeptBatch, lanes):
        """Row by row: one core draws one row at a time (the same tokens as the model's batch
        path, which gives those of row by row)."""
        return TokenSampler._draw_kept_batch(self, kept, lanes)


class RtlTreeSampler(_OnDevice, TreeSampler):
    """The tree core (``pbit_tree``) through the driver: :class:`TreeSampler`'s draws."""

    core = "tree"

    def __init__(self, cfg: HwConfig | None = None, *, transport: str = DEFAULT_TRANSPORT,
                 seed: int = 0, **format_options: Any):
        super().__init__(cfg, seed=seed, **format_options)
        self._attach(transport)

    def _draw_program(self, program: TreeProgram, state: int) -> tuple[int, int]:
        dev = self.device
        dev.write_many(program.register_writes())
        dev.load_seed(state)
        result = dev.run()
        return result.token, dev.seed_state()

    def _draw_kept_batch(self, kept: KeptBatch, lanes):
        return TokenSampler._draw_kept_batch(self, kept, lanes)  # row by row, on the core


class RtlStreamSampler(_OnDevice, StreamSampler):
    """The stream core (``pbit_stream``) through the driver: :class:`StreamSampler`'s draws,
    the row streamed into the core."""

    core = "stream"

    def __init__(self, cfg: HwConfig | None = None, *, transport: str = DEFAULT_TRANSPORT,
                 seed: int = 0, **format_options: Any):
        super().__init__(cfg, seed=seed, **format_options)
        self._attach(transport)

    def _draw_row(self, row: StreamRow, state: int) -> tuple[int, int]:
        dev = self.device
        dev.load_seed(state)
        result = dev.draw_stream(row.q)
        return result.token, dev.seed_state()

    def _draw_kept_batch(self, kept: KeptBatch, lanes):
        return TokenSampler._draw_kept_batch(self, kept, lanes)  # row by row, on the core


_BY_CORE = {"onehot": RtlOnehotSampler, "tree": RtlTreeSampler, "stream": RtlStreamSampler}


@register_sampler("rtl", help="tokens drawn by a core through the host driver: the simulated "
                              "Verilog (--core onehot|tree|stream, --transport verilator|icarus"
                              "|model|serial:PORT)", external=True)
class RtlSampler:
    """The registry's entry: ``from_config(..., core=, transport=)`` builds the sampler of the
    core (:class:`RtlOnehotSampler`, :class:`RtlTreeSampler`, :class:`RtlStreamSampler`)."""

    options = ("core", "transport")

    @classmethod
    def from_config(cls, cfg: HwConfig, policy: ChainPolicy, *, seed: int = 0,
                    core: str = "onehot", transport: str = DEFAULT_TRANSPORT):
        if core not in _BY_CORE:
            raise ValueError(f"core must be one of {tuple(_BY_CORE)} for the rtl sampler, got "
                             f"{core!r}")
        return _BY_CORE[core].build(cfg, policy, seed, transport)
