"""The register map of each core as ``hw.export`` builds it from an HwConfig alone (the default
tree and stream formats): what the host driver, the C header and the test benches address."""

from __future__ import annotations

from .config import HwConfig
from .regmap import Core, CoreMap
from .stream_format import stream_format
from .tree_format import tree_config

__all__ = ["core_map"]


def core_map(core: Core | str, cfg: HwConfig, schedule_depth: int | None = None) -> CoreMap:
    """The map of ``core`` built for ``cfg`` with the default formats: the tree core's leaves in
    :func:`~pysampler.contract.tree_format.tree_config`, the stream core's N_ACTIVE up to the
    stream format's ``max_vocab`` (:meth:`~pysampler.contract.stream_format.StreamFormat.regmap`);
    ``schedule_depth``: the one-hot core's table (default: the full table)."""
    core = Core(core)
    if core is Core.TREE:
        return CoreMap.of(core, tree_config(cfg))
    if core is Core.STREAM:
        return stream_format(cfg).regmap()
    return CoreMap.of(core, cfg, schedule_depth)
