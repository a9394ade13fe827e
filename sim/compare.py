"""The comparison of an RTL run with the bit-accurate model: the first difference fails, with the
update (or decision), the unit (or node) and both values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pysampler.engines.array import BitAccurateModel, Trace

__all__ = ["CompareError", "RunResult", "TRACE_FIELDS", "compare_run", "compare_draw"]

TRACE_FIELDS = ("index", "bit", "field", "lut_value", "u")


class CompareError(AssertionError):
    """First difference between the RTL and the model."""


@dataclass
class RunResult:
    """What a run of the one-hot or dense core showed on its ports."""

    trace: Trace
    popcount: int
    token: int
    onehot: int
    cycles: int


def compare_run(result: RunResult, model: BitAccurateModel, model_trace: Trace, label: str,
                debug: bool = True) -> int:
    """Assert the RTL trace equals the model's, update by update (index and bit; with ``debug``
    also field, LUT value and draw), and the popcount, token and onehot outputs after the run;
    returns the number of updates compared."""
    names = TRACE_FIELDS if debug else ("index", "bit")
    for name in names:
        rtl, ref = getattr(result.trace, name)[0], getattr(model_trace, name)[0]
        diff = np.flatnonzero(rtl != ref)
        if diff.size:
            k = int(diff[0])
            raise CompareError(
                f"{label}: first difference at update {k} (clock {k} of the run), unit "
                f"{int(model_trace.index[0, k])}, {name}: RTL {int(rtl[k])} != model {int(ref[k])}")
    y = model.y[0].astype(np.int64)
    pop = int(y.sum())
    token = 0
    for i in np.flatnonzero(y):
        token ^= int(i)
    checks = {"popcount": (result.popcount, pop), "token": (result.token, token),
              "onehot": (result.onehot, int(pop == 1))}
    for name, (rtl, ref) in checks.items():
        if rtl != ref:
            raise CompareError(f"{label}: after the run {name}: RTL {rtl} != model {ref}")
    return int(model_trace.index.size)


def compare_draw(beats: list[tuple], token: int, expected_token: int, trace, label: str) -> int:
    """Assert a tree draw's decisions (node, bit, forced, field, LUT entry, draw; field and LUT
    entry only where no child was empty) and token equal the model's
    (:func:`pysampler.engines.tree.tree_draw`); returns the number of decisions compared."""
    if len(beats) != len(trace.node):
        raise CompareError(f"{label}: {len(beats)} decisions, model {len(trace.node)}")
    for k, (node, bit, forced, field, lut, u) in enumerate(beats):
        ref_forced = trace.lut_value[k] < 0
        checks = [("node", node, trace.node[k]), ("bit", bit, trace.bit[k]),
                  ("forced", forced, int(ref_forced)), ("u", u, trace.u[k])]
        if not ref_forced:
            checks += [("field", field, trace.field[k]), ("lut", lut, trace.lut_value[k])]
        for name, rtl, ref in checks:
            if rtl != ref:
                raise CompareError(f"{label}: decision {k} (node {trace.node[k]}) {name}: "
                                   f"RTL {rtl} != model {ref}")
    if token != expected_token:
        raise CompareError(f"{label}: token RTL {token} != model {expected_token}")
    return len(beats)
