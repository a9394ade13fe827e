"""Float64 binary Gibbs on the one-hot program with an ideal RNG: the p-bit chain without
quantization, the reference that isolates what fixed point, the LUT and the LFSR cost."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..contract.config import HwConfig
from ..contract.program import schedule_entries, shift_logits, shift_rows
from ..engines.reference import (SCANS, onehot_conditional, onehot_draws, onehot_gibbs,
                                 onehot_init, onehot_sweeps)
from .base import NumpyLanes
from .chain import ChainSampler
from .filtering import KeptBatch, KeptVocab
from .policy import ChainPolicy
from .registry import register_sampler

__all__ = ["GibbsSampler"]


@register_sampler("gibbs", help="float64 p-bit Gibbs on the one-hot program, ideal RNG")
class GibbsSampler(ChainSampler):
    """Float64 binary Gibbs on the one-hot program with an ideal RNG (numpy PCG64).

    Parameters
    ----------
    policy : ChainPolicy, optional
        Lambda (or a per-sweep table), sweeps, burn-in, init, restarts, offset and read-out
        (:class:`pysampler.samplers.policy.ChainPolicy`); its fields may also be given as keyword
        arguments (``lam=3.0, sweeps=40``).
    scan : "systematic" (the hardware's order) or "random"
    seed : int

    The float chain samples softmax(z) on its one-hot states at any HwConfig: beta is the
    hardware sigmoid's gain, which programs compensate (:class:`~pysampler.contract.HwConfig`),
    so a float chain runs at gain 1.
    """

    def __init__(self, *, policy: ChainPolicy | None = None, scan: str = "systematic",
                 seed: int = 0, **policy_fields: Any):
        super().__init__(policy=policy, seed=seed, **policy_fields)
        if scan not in SCANS:
            raise ValueError(f"scan must be one of {SCANS}, got {scan!r}")
        self.scan = scan
        self._rngs = NumpyLanes()

    @classmethod
    def from_config(cls, cfg: HwConfig, policy: ChainPolicy, *, seed: int = 0) -> "GibbsSampler":
        """Float Gibbs (the configuration's widths and gain do not apply)."""
        return cls(policy=policy, seed=seed)

    def with_policy(self, policy: ChainPolicy) -> "GibbsSampler":
        return GibbsSampler(policy=policy, scan=self.scan, seed=self.seed)

    def _reset_streams(self) -> None:
        self._rngs.clear()

    def _run(self, kept: KeptVocab, lane: int, chain: Any, sweeps: int) -> tuple[Any, int]:
        policy = self.policy_for(kept)
        z = shift_logits(kept.logits, 1.0, policy.offset)
        y = onehot_gibbs(z, policy.lam_schedule, sweeps=sweeps,
                         rng=self._rngs.stream(self.seed, lane),
                         scan=self.scan,
                         init=self.init if chain is None else chain)
        return y, (int(np.argmax(y[0])) if y[0].sum() == 1 else -1)

    def _draw_kept_batch(self, kept: KeptBatch, lanes: np.ndarray) -> np.ndarray:
        """Every row at once: rows of one kept size run as one batch of chains (numba), attempt by
        attempt, each with its own policy (:meth:`ChainPolicy.for_rows`: shift per row) and on its
        lane's generator; the same tokens, generator states and statistics as row by row.

        Parameters
        ----------
        kept : KeptBatch
            B reduced rows.
        lanes : np.ndarray of int64, shape (B,)
            Row b runs on lane ``lanes[b]`` (distinct).

        Returns
        -------
        np.ndarray of int64, shape (B,): token ids in the full vocabulary.
        """
        out = np.empty(kept.n_rows, dtype=np.int64)
        for rows, logits, ids, chosen in self._size_groups(kept):
            z = shift_rows(logits, chosen.offsets)
            rngs = [self._rngs.stream(self.seed, int(lanes[b])) for b in rows]
            index = self._draw_rows(z, chosen.lams, rngs, logits, rows)
            out[rows] = ids[np.arange(rows.size), index]
        return out

    def _draw_rows(self, z: np.ndarray, lams: np.ndarray, rngs: list[np.random.Generator],
                   logits: np.ndarray, batch_rows: np.ndarray | None = None) -> np.ndarray:
        """The attempt / restart / fallback procedure of :class:`ChainSampler` for B rows of n
        units at once.

        Each pending row draws its attempt's numbers from its own generator in the calls
        :func:`~pysampler.engines.reference.onehot_gibbs` makes for it row by row (the start,
        then every sweep's :func:`~pysampler.engines.reference.onehot_draws`; one sweep per
        continued read-out); then one kernel call runs every row's sweeps.

        Parameters
        ----------
        z : np.ndarray of float64, shape (B, n)
            Shifted logits of each row.
        lams : np.ndarray of float64, shape (B, T)
            Lambda table of each row.
        rngs : list of numpy.random.Generator, length B
            Row b's generator (advanced in place).
        logits : np.ndarray of float64, shape (B, n)
            Kept logits, for the argmax fallback.
        batch_rows : np.ndarray of int64, shape (B,), optional
            These rows' indices in the batch draw under way, for its per-row counts.

        Returns
        -------
        np.ndarray of int64, shape (B,): index of each row's token among its n kept tokens.
        """
        n = z.shape[1]
        sweeps = self.sweeps_per_attempt
        run_lams = lams[:, schedule_entries(lams.shape[1], sweeps)]
        last_lam = lams[:, -1:]

        def attempt(rows: np.ndarray) -> np.ndarray:
            y = np.empty((rows.size, n), dtype=np.uint8)
            uniforms, orders = self._draws(rows, rngs, n, sweeps, y)
            onehot_sweeps(z[rows], run_lams[rows], 1.0, y, uniforms, orders)
            return y

        def one_more_sweep(rows: np.ndarray, y: np.ndarray) -> None:
            uniforms, orders = self._draws(rows, rngs, n, 1)
            onehot_sweeps(z[rows], last_lam[rows], 1.0, y, uniforms, orders)

        return self._draw_rows_batch(logits, attempt, one_more_sweep, batch_rows)

    def _draws(self, rows: np.ndarray, rngs: list[np.random.Generator], n: int, sweeps: int,
               starts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Each row's numbers for ``sweeps`` sweeps from its own generator, stacked as one batch:
        (uniforms (S, R, n) float64, orders (S, R, n) int64 or (0, 0, 0)). With ``starts``
        (R, n) uint8, each row first draws its start from ``init`` into it (a new run)."""
        uniforms = np.empty((sweeps, rows.size, n), dtype=np.float64)
        random_scan = self.scan == "random"
        orders = np.empty((sweeps, rows.size, n) if random_scan else (0, 0, 0), dtype=np.int64)
        for k, r in enumerate(rows):
            rng = rngs[r]
            if starts is not None:
                starts[k] = onehot_init(self.init, 1, n, rng)[0]
            u, o = onehot_draws(rng, 1, n, sweeps, self.scan)
            uniforms[:, k] = u[:, 0]
            if random_scan:
                orders[:, k] = o[:, 0]
        return uniforms, orders

    def p_on_tables(self, kept: KeptVocab) -> np.ndarray:
        """Float conditionals sigmoid(z_i - lam_t (2 s - 1)), one table per entry."""
        policy = self.policy_for(kept)
        z = shift_logits(kept.logits, 1.0, policy.offset)
        s = np.arange(kept.size, dtype=np.float64)
        return np.stack([onehot_conditional(z[:, None], lam, 1.0, s[None, :])
                         for lam in policy.lam_schedule])

    def _random_onehot_law(self, n: int) -> np.ndarray:
        return np.full(n, 1.0 / n)  # a uniform unit

