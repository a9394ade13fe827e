"""One registry of token samplers by name: what the CLI, the experiments and the frontier build.

A sampler class registers itself with :func:`register_sampler` (a class decorator) and is built by
:func:`make_sampler` through its ``from_config(cfg, policy, seed=...)``. Every module of this
package is imported on the first look-up, so a new sampler is one new module here (plus its test);
a sampler defined elsewhere (a plug-in, a test) registers the same way.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TYPE_CHECKING, Callable, TypeVar

from ..contract.config import HwConfig

if TYPE_CHECKING:
    from .base import TokenSampler
    from .policy import ChainPolicy

__all__ = ["register_sampler", "unregister_sampler", "make_sampler", "sampler_kinds",
           "sampler_help", "sampler_options", "SamplerEntry"]

T = TypeVar("T")


@dataclass(frozen=True)
class SamplerEntry:
    """A registered kind: its class, one line of help, and whether it draws outside this process
    (a simulator, a board: ``external``, left out of :func:`sampler_kinds` and ``--sampler all``
    unless asked for)."""

    kind: str
    cls: type
    help: str
    external: bool = False


_REGISTRY: dict[str, SamplerEntry] = {}
_DISCOVERED = False


def register_sampler(kind: str, *, help: str = "", external: bool = False) -> Callable[[T], T]:
    """Class decorator: register a :class:`~pysampler.samplers.base.TokenSampler` subclass under
    ``kind`` (a name for the command line: letters, digits, '-' and '_'; not "all"); ``external``:
    it draws outside this process (see :class:`SamplerEntry`). Its options are its class's
    ``options``."""
    if not kind or kind == "all" or not all(c.isalnum() or c in "-_" for c in kind):
        raise ValueError(f"sampler kind must be a non-empty name of letters, digits, '-' and '_' "
                         f"other than 'all', got {kind!r}")

    def decorate(cls: T) -> T:
        old = _REGISTRY.get(kind)
        if old is not None and old.cls.__qualname__ != cls.__qualname__:
            raise ValueError(f"sampler kind {kind!r} is already registered to "
                             f"{old.cls.__module__}.{old.cls.__qualname__}")
        _REGISTRY[kind] = SamplerEntry(kind, cls, help or (cls.__doc__ or "").split("\n")[0],
                                       external)
        return cls

    return decorate


def unregister_sampler(kind: str) -> None:
    """Remove ``kind`` from the registry (a test's temporary sampler)."""
    _REGISTRY.pop(kind, None)


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        importlib.import_module(f"{__package__}.{info.name}")
    _DISCOVERED = True


def sampler_kinds(*, external: bool = False) -> tuple[str, ...]:
    """Every registered kind that draws in this process, in registration order (``external``:
    those that draw through a simulator or a board too)."""
    _discover()
    return tuple(k for k, e in _REGISTRY.items() if external or not e.external)


def sampler_help(*, external: bool = True) -> dict[str, str]:
    """kind -> one line of help (every kind; ``external=False``: the in-process ones)."""
    _discover()
    return {k: e.help for k, e in _REGISTRY.items() if external or not e.external}


def sampler_options(kind: str) -> tuple[str, ...]:
    """The options ``make_sampler`` takes for ``kind`` beyond the configuration, policy and seed."""
    _discover()
    if kind not in _REGISTRY:
        raise ValueError(f"unknown sampler {kind!r}; choose one of {sorted(_REGISTRY)}")
    return _REGISTRY[kind].cls.options


def make_sampler(kind: str, cfg: HwConfig | None = None, policy: "ChainPolicy | None" = None, *,
                 seed: int = 0, **options: Any) -> "TokenSampler":
    """The sampler registered as ``kind`` for hardware configuration ``cfg`` (default
    ``HwConfig()``) and chain policy ``policy`` (default ``ChainPolicy()``); each sampler uses what
    applies to it. ``options``: what the sampler's ``options`` names (the stream sampler's
    ``lanes``). An unknown kind or option is a ValueError listing the known ones."""
    from .policy import ChainPolicy

    _discover()
    if kind not in _REGISTRY:
        raise ValueError(f"unknown sampler {kind!r}; choose one of {sorted(_REGISTRY)}")
    cls = _REGISTRY[kind].cls
    unknown = sorted(set(options) - set(cls.options))
    if unknown:
        raise ValueError(f"the {kind} sampler takes no option {', '.join(unknown)} (its options: "
                         f"{', '.join(cls.options) or 'none'})")
    return cls.from_config(HwConfig() if cfg is None else cfg,
                           ChainPolicy() if policy is None else policy, seed=seed, **options)
