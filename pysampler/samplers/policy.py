"""The p-bit chain policy: how a one-hot chain turns into a token. One frozen, validated value.

Attempt semantics: each attempt starts from ``init`` and runs ``burn_in + sweeps`` sequential
sweeps, then reads the state out. With ``readout="continue"`` an invalid read-out is first given up
to ``extra_sweeps`` more sweeps, read out after each, before the attempt counts as invalid. After
``1 + max_resample`` invalid attempts the token is the argmax of the kept logits (fallback).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..contract.program import OFFSETS, lambda_schedule
from ..contract.validation import check_int
from ..engines.array import INIT_POLICIES

__all__ = ["ChainPolicy", "DEFAULT_LAM", "DEFAULT_SWEEPS", "READOUTS"]

READOUTS = ("restart", "continue")

# Chosen from the exact cost frontier (README, `make frontier`): with restarts, lambda 2.5 and 20
# sweeps keep the default HwConfig within about 0.004-0.006 TV of softmax and the per-token
# fallback below 0.1% on the frontier's sets (V = 16..64, a GPT-2-loop context), for about 22 V
# updates per token (lambda 3 and 40 sweeps: the same TV for 43 V).
DEFAULT_LAM = 2.5
DEFAULT_SWEEPS = 20


@dataclass(frozen=True)
class ChainPolicy:
    """Everything a p-bit token sampler does around the chain. Frozen; validated on construction.

    Parameters
    ----------
    lam : float or sequence of float
        One-hot penalty lambda > 0 (logit units), or a per-sweep lambda table of 1..8 entries
        aligned with the end of each attempt (:func:`pysampler.contract.program.schedule_entries`);
        the last entry is the read-out lambda. Stored as a float (one entry) or a tuple.
    sweeps, burn_in : int
        Each attempt runs burn_in + sweeps sweeps of V updates (sweeps >= 1, burn_in >= 0).
    init : "zeros" or "random_onehot"
        State each attempt starts from.
    max_resample : int
        Restarts after an invalid read-out before the argmax fallback (>= 0).
    offset : "max" or "min_invalid"
        Logit shift before quantization (:func:`pysampler.contract.program.shift_logits`).
    readout : "restart" or "continue"
        "continue": an invalid read-out gets up to ``extra_sweeps`` more sweeps first.
    extra_sweeps : int
        >= 0; used by ``readout="continue"`` only.
    """

    lam: float | tuple[float, ...] = DEFAULT_LAM
    sweeps: int = DEFAULT_SWEEPS
    burn_in: int = 0
    init: str = "zeros"
    max_resample: int = 3
    offset: str = "max"
    readout: str = "restart"
    extra_sweeps: int = 0

    def __post_init__(self) -> None:
        lams = lambda_schedule(self.lam)
        object.__setattr__(self, "lam", lams[0] if len(lams) == 1 else lams)
        if self.offset not in OFFSETS:
            raise ValueError(f"offset must be one of {OFFSETS}, got {self.offset!r}")
        if self.readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {self.readout!r}")
        if self.init not in INIT_POLICIES:
            raise ValueError(f"init must be one of {INIT_POLICIES}, got {self.init!r}")
        for name, low in (("sweeps", 1), ("burn_in", 0), ("max_resample", 0), ("extra_sweeps", 0)):
            object.__setattr__(self, name, check_int(name, getattr(self, name), low))

    @property
    def lam_schedule(self) -> tuple[float, ...]:
        """The lambda table, 1..8 entries (one entry without a schedule)."""
        return self.lam if isinstance(self.lam, tuple) else (self.lam,)

    @property
    def readout_lam(self) -> float:
        """The read-out (last) lambda of the table."""
        return self.lam_schedule[-1]

    @property
    def sweeps_per_attempt(self) -> int:
        return self.burn_in + self.sweeps

    @property
    def continue_sweeps(self) -> int:
        """Extra sweeps an invalid read-out may get before the attempt counts as invalid."""
        return self.extra_sweeps if self.readout == "continue" else 0

    def replace(self, **changes: Any) -> "ChainPolicy":
        """A copy with ``changes`` applied (validated again); an unknown field is an error."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown ChainPolicy fields {unknown}; allowed: {sorted(names)}")
        return dataclasses.replace(self, **changes)

    @classmethod
    def of(cls, policy: "ChainPolicy | None" = None, **changes: Any) -> "ChainPolicy":
        """``policy`` (default: the defaults) with ``changes`` applied; ``None`` values are
        left out, so optional command-line flags can be passed straight through."""
        base = cls() if policy is None else policy
        if not isinstance(base, ChainPolicy):
            raise TypeError(f"policy must be a ChainPolicy, got {type(base).__name__}")
        given = {k: v for k, v in changes.items() if v is not None}
        return base.replace(**given) if given else base
