"""Speed benchmark of the bit-accurate model, the float Gibbs sampler and the GPT-2 loop
(``pysampler bench``, ``make bench``; the co-simulation speed comes from :mod:`sim.bench`).

Prints a table and writes JSON. Every figure comes from this one run on this machine, so ratios
between rows are side-by-side measurements.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import Callable

import numpy as np

from ..contract.config import HwConfig
from ..contract.program import dense_program, onehot_program, shift_logits
from ..contract.graph import graph_program, lattice_edges
from ..engines.array import BitAccurateModel
from ..engines.chromatic import ChromaticFloat, ChromaticModel
from ..engines.reference import onehot_gibbs
from ..samplers.policy import POLICIES, ChainPolicy
from ..samplers.registry import make_sampler, sampler_kinds
from .logitsets import synthetic_logits

__all__ = ["run_benchmarks", "naive_random_scan", "llm_latency", "print_results", "thrml_sampler",
           "thrml_rate", "graph_rates", "thrml_lattice", "GRAPH_CASES", "device_rates",
           "DEVICE_TRANSPORTS"]


def _best_time(fn: Callable[[], object], repeats: int) -> float:
    """Fastest of ``repeats`` timed calls (after one warm-up call), seconds."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def naive_random_scan(logits, lam: float, n_updates: int, seed: int = 0):
    """The seed-style baseline: one random-scan update per Python call, per-element tensor reads."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    z = torch.as_tensor(logits, dtype=torch.float64)
    y = torch.zeros_like(z)
    for _ in range(n_updates):
        i = int(torch.randint(len(z), (1,), generator=gen))
        s = float(y.sum()) - float(y[i])
        p = torch.sigmoid(z[i] - lam * (2 * s - 1))
        y[i] = 1.0 if float(torch.rand(1, generator=gen)) < float(p) else 0.0
    return y


def run_benchmarks(repeats: int = 5) -> dict:
    """All figures as a dict (updates per second, milliseconds per token)."""
    cfg = HwConfig()
    z64 = synthetic_logits(64)
    onehot = onehot_program(z64, 3.0, 1.0, cfg)
    rng = np.random.default_rng(0)
    upper = np.triu(rng.normal(0, 1, (64, 64)), 1)
    dense = dense_program(rng.normal(0, 1, 64), upper + upper.T, cfg)
    rows: dict[str, dict] = {}

    def model_rate(name, program, chains, sweeps):
        model = BitAccurateModel(program, chains, seed=1)
        seconds = _best_time(lambda: model.run(sweeps), repeats)
        rows[name] = {"updates_per_s": chains * sweeps * program.n / seconds,
                      "chains": chains, "n": program.n, "sweeps": sweeps}

    model_rate("model one-hot V=64 B=1", onehot, 1, 2000)
    model_rate("model one-hot V=64 B=4096", onehot, 4096, 40)
    model_rate("model dense n=64 B=1024", dense, 1024, 20)

    zs = shift_logits(z64)
    for chains, sweeps in ((1, 500), (4096, 10)):
        seconds = _best_time(lambda: onehot_gibbs(zs, 3.0, sweeps=sweeps, n_chains=chains,
                                                  rng=np.random.default_rng(0)), repeats)
        rows[f"float Gibbs V=64 B={chains}"] = {
            "updates_per_s": chains * sweeps * 64 / seconds, "chains": chains, "n": 64,
            "sweeps": sweeps}
    naive_updates = 3000
    seconds = _best_time(lambda: naive_random_scan(z64, 3.0, naive_updates), 2)
    rows["naive baseline (torch, per-update Python)"] = {
        "updates_per_s": naive_updates / seconds, "chains": 1, "n": 64, "sweeps": None}

    z50 = synthetic_logits(50)
    tokens = {}
    for name in ("hw", "gibbs"):
        sampler = make_sampler(name, cfg, ChainPolicy(lam=3.0, sweeps=64))
        times = []
        sampler.sample(z50)
        for _ in range(200):
            start = time.perf_counter()
            sampler.sample(z50)
            times.append(time.perf_counter() - start)
        tokens[f"{name} one token V=50, 64 sweeps, B=1"] = {
            "ms_median": 1e3 * float(np.median(times)), "ms_p90": 1e3 * float(np.quantile(times, 0.9)),
            "attempts_per_token": sampler.stats.attempts / sampler.stats.tokens}
    base = rows["naive baseline (torch, per-update Python)"]["updates_per_s"]
    for row in rows.values():
        row["x_naive"] = row["updates_per_s"] / base
    batch = batch_rates(repeats)
    thrml = thrml_rate(*THRML_CASE, repeats=repeats)
    if thrml is not None:
        batch[f"thrml categorical V={THRML_CASE[1]} B={THRML_CASE[0]}"] = thrml
    out = {"machine": {"cpu_count": __import__("os").cpu_count(), "platform": platform.platform(),
                       "python": platform.python_version(), "numpy": np.__version__},
           "throughput": rows, "token_latency": tokens, "batch": batch,
           "graph": graph_rates(repeats)}
    if thrml is None:
        out["thrml"] = THRML_MISSING
    return out


def _lattice_program(side: int, beta: float = 0.4):
    """The ferromagnetic side x side periodic lattice (J = 1, no field, 2 colours) at ``beta``,
    default HwConfig."""
    n = side * side
    edges = lattice_edges(side, side)
    J = np.zeros((n, n))
    J[edges[:, 0], edges[:, 1]] = 1.0
    return graph_program(J + J.T, None, HwConfig(), beta=beta)


def _best_times(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of ``repeats`` calls after one warm-up call; CPU is
    the process's time on every core during that call."""
    fn()
    best = (float("inf"), float("inf"))
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        here = (time.perf_counter() - wall, time.process_time() - cpu)
        best = min(best, here)
    return best


# (chains, sweeps) of the lattice figures: thrml's issue figure (64 chains) and ours (1,024)
GRAPH_CASES = ((1024, 20), (64, 100))


def graph_rates(repeats: int = 5, side: int = 64, cases: tuple = GRAPH_CASES,
                with_thrml: bool = True) -> dict:
    """Flips (p-bit updates) per second on a side x side periodic lattice (2 colours),
    ferromagnetic J = 1 at beta 0.4, default HwConfig: the bit-accurate chromatic model (issue
    20's goal: >= 3e8 on this 2-core CPU with 1,024 chains), the float one, and thrml's Ising
    sampler on the same lattice where the [thrml] extra is installed (:func:`thrml_lattice`).

    Per row: ``flips_per_s`` (wall clock, best of ``repeats``) and ``flips_per_cpu_s`` (per
    second of CPU time on all cores: what the machine's load leaves out of the wall figure)."""
    program = _lattice_program(side)
    n = program.n
    out = {}
    for chains, sweeps in cases:
        engines = [(f"chromatic bit-accurate {side}x{side} lattice B={chains}",
                    ChromaticModel(program, chains, seed=1))]
        if chains >= 1024:
            engines.append((f"chromatic float {side}x{side} lattice B={chains}",
                            ChromaticFloat(program, chains, seed=1)))
        runs = [(name, lambda m=model: m.run(sweeps)) for name, model in engines]
        if with_thrml:
            draw = thrml_lattice(program, chains, sweeps)
            if draw is not None:
                runs.append((f"thrml {side}x{side} lattice B={chains}", draw))
        for name, fn in runs:
            wall, cpu = _best_times(fn, repeats)
            flips = chains * sweeps * n
            out[name] = {"flips_per_s": flips / wall, "flips_per_cpu_s": flips / cpu,
                         "chains": chains, "n": n, "colours": program.topology.n_colours,
                         "sweeps": sweeps}
    return out


def thrml_lattice(program, chains: int, sweeps: int, seed: int = 0
                  ) -> Callable[[], np.ndarray] | None:
    """thrml's Ising sampler on the graph program's float model (spins; the colour classes as
    thrml's free blocks, so one thrml sweep is one of ours), or None without the [thrml] extra:
    the returned function runs ``sweeps`` sweeps of ``chains`` chains (vmapped, compiled on the
    first call) from a fresh key and returns the spins on the host (int8 (chains, n))."""
    from ..tsu.thrml_backend import thrml_runner   # imports thrml lazily

    return thrml_runner(program, chains, sweeps, seed)


# (kind, B, V[, policy name]) of the batch-path figures (policy: the default unless named, from
# pysampler.samplers.policy.POLICIES); kinds not registered are skipped
BATCH_CASES = (("tree", 4096, 64), ("hw", 1024, 64), ("hw", 1024, 64, "legacy"),
               ("softmax", 4096, 64), ("gibbs", 256, 64), ("stream", 64, 50_257),
               ("gumbel", 64, 50_257))


def batch_rates(repeats: int = 5, cases: tuple = BATCH_CASES) -> dict:
    """Tokens per second of ``sample_batch`` on (B, V) rows of Normal(0, 2^2) logits, no filter,
    default HwConfig (n_pbits raised to V where the sampler has a capacity) and chain policy:
    the best of ``repeats`` calls after a warm-up, the lanes' generators running on."""
    out = {}
    kinds = set(sampler_kinds())
    for kind, n_rows, vocab, *policy_name in cases:
        if kind not in kinds:
            continue
        cfg = HwConfig(n_pbits=vocab) if vocab <= 1 << 16 else HwConfig()
        policy = POLICIES[policy_name[0]] if policy_name else ChainPolicy()
        sampler = make_sampler(kind, cfg, policy, seed=0)
        logits = np.random.default_rng([n_rows, vocab]).normal(0.0, 2.0, (n_rows, vocab))
        seconds = _best_time(lambda: sampler.sample_batch(logits), repeats)
        label = f" ({policy_name[0]} policy)" if policy_name else ""
        out[f"{kind}{label} V={vocab} B={n_rows}"] = {"tokens_per_s": n_rows / seconds,
                                                      "B": n_rows, "V": vocab}
    return out


# (B, V) of thrml's categorical figure beside ours: the tree's batch case
THRML_CASE = (4096, 64)
THRML_MISSING = "not installed (the optional [thrml] extra; `make bench-thrml` installs it)"


def thrml_sampler(logits: np.ndarray, seed: int = 0) -> Callable[[], np.ndarray] | None:
    """thrml's categorical sampler on ``logits`` (B, V), or None where thrml (Extropic's THRML, on
    JAX: the optional ``[thrml]`` extra, never required) is not installed.

    The model is B independent CategoricalNodes in one free block, node b with a
    CategoricalEBMFactor whose weights are ``logits[b]`` (energy -logits[b, x], so the node's law
    is softmax(logits[b])) and CategoricalGibbsConditional as its update: one block-Gibbs sweep of a
    lone node is an exact softmax draw (``jax.random.categorical``). The program is built once,
    logits in float32 (JAX's default); each call of the returned function runs one sweep under
    ``eqx.filter_jit`` (compiled on the first call) with the next key of ``seed`` and returns the
    B tokens (int64, on the host)."""
    try:
        import equinox as eqx
        import jax
        import jax.numpy as jnp
        from thrml import Block, BlockGibbsSpec, CategoricalNode, SamplingSchedule, sample_states
        from thrml.factor import FactorSamplingProgram
        from thrml.models import CategoricalEBMFactor, CategoricalGibbsConditional
    except ImportError:
        return None
    n_rows, vocab = np.shape(logits)
    block = Block([CategoricalNode() for _ in range(n_rows)])
    token_dtype = jnp.uint8 if vocab <= 256 else jnp.uint32
    state_sd = {CategoricalNode: jax.ShapeDtypeStruct((), token_dtype)}
    program = FactorSamplingProgram(
        BlockGibbsSpec([block], [], state_sd), [CategoricalGibbsConditional(vocab)],
        [CategoricalEBMFactor([block], jnp.asarray(logits, dtype=jnp.float32))], [])
    init = [jnp.zeros(n_rows, dtype=token_dtype)]
    one_sweep = SamplingSchedule(n_warmup=1, n_samples=1, steps_per_sample=1)

    @eqx.filter_jit
    def step(key, program, init):
        key, sub = jax.random.split(key)
        return key, sample_states(sub, program, one_sweep, init, [], [block])[0][0]

    key = jax.random.key(seed)

    def draw() -> np.ndarray:
        nonlocal key
        key, tokens = step(key, program, init)
        return np.asarray(tokens, dtype=np.int64)

    return draw


def thrml_rate(n_rows: int = 4096, vocab: int = 64, repeats: int = 5) -> dict | None:
    """Tokens per second of thrml's categorical sampler (:func:`thrml_sampler`) on the (B, V) rows
    of Normal(0, 2^2) logits :func:`batch_rates` draws for the same B and V: the best of ``repeats``
    one-sweep calls after a warm-up (the JIT compile), tokens back on the host; None where thrml is
    not installed. The program (the logits) is built once, outside the timing, while
    ``sample_batch`` takes its logits in every call."""
    logits = np.random.default_rng([n_rows, vocab]).normal(0.0, 2.0, (n_rows, vocab))
    draw = thrml_sampler(logits)
    if draw is None:
        return None
    import jax
    from importlib.metadata import version

    seconds = _best_time(draw, repeats)
    return {"tokens_per_s": n_rows / seconds, "B": n_rows, "V": vocab, "thrml": version("thrml"),
            "jax": jax.__version__, "jax_backend": jax.default_backend()}


def llm_latency(model_dir: Path, max_new_tokens: int = 32, repeats: int = 3, *,
                batch: bool = True) -> dict:
    """Time per generated token in the GPT-2 loop for each sampler, on the offline model.

    Torch runs on one thread here (restored after), as ``train-lm`` and the nn experiments do: the
    offline model's small tensors run several times faster so on a loaded 2-core machine, and
    the model's share of the time, the same for every sampler, no longer swamps the samplers'.

    Parameters
    ----------
    model_dir : Path
        The model's folder (``make lm`` writes build/lm).
    max_new_tokens : int
        Tokens per prompt (no stop at EOS).
    repeats : int
        Runs per sampler; the fastest counts.
    batch : bool
        :func:`~pysampler.llm.generate`'s path: one batch draw per step (the default) or the
        row-by-row reference (``False``, for comparison).

    Returns
    -------
    dict
        Per sampler (softmax, gibbs, hw; top_k = 50, the default chain policy, three prompts):
        ``ms_per_token`` and ``sampler_ms_per_token`` (wall ms per generated token, model and
        sampler, and of which the sampler), ``fallback_rate`` and ``invalid_per_run``; and
        ``hw_over_softmax``, the ratio of the hw and softmax times per token.
    """
    import torch

    from ..llm import generate, load_lm

    lm = load_lm(model_dir)
    prompts = ["The function returns", "In this tutorial, we", "A module is"]
    out = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for name in ("softmax", "gibbs", "hw"):
            best = None
            for _ in range(repeats):
                sampler = make_sampler(name)
                results = generate(lm, prompts, sampler, max_new_tokens=max_new_tokens,
                                   top_k=50, stop_at_eos=False, batch=batch)
                if best is None or results[0].ms_per_token < best["ms_per_token"]:
                    best = {"ms_per_token": results[0].ms_per_token,
                            "sampler_ms_per_token": results[0].sampler_ms_per_token,
                            "fallback_rate": sampler.get_invalid_rate(),
                            "invalid_per_run": sampler.get_attempt_invalid_rate()}
            out[name] = best
    finally:
        torch.set_num_threads(threads)
    out["hw_over_softmax"] = out["hw"]["ms_per_token"] / out["softmax"]["ms_per_token"]
    return out


def print_results(results: dict) -> None:
    """The benchmark figures as text tables on stdout."""
    print(f"{'benchmark':48s} {'updates/s':>12s} {'x naive':>9s}")
    for name, row in results["throughput"].items():
        print(f"{name:48s} {row['updates_per_s']:12.3e} {row['x_naive']:9.0f}")
    print(f"\n{'batch path (sample_batch, no filter)':48s} {'tokens/s':>12s}")
    for name, row in results["batch"].items():
        print(f"{name:48s} {row['tokens_per_s']:12.3e}")
    if "thrml" in results:
        print(f"thrml categorical: {results['thrml']}")
    if "graph" in results:
        print(f"\n{'graph programs (block Gibbs on a lattice)':48s} {'flips/s':>12s} "
              f"{'per CPU s':>12s}")
        for name, row in results["graph"].items():
            print(f"{name:48s} {row['flips_per_s']:12.3e} {row.get('flips_per_cpu_s', 0):12.3e}")
    print(f"\n{'token latency':48s} {'median ms':>12s} {'p90 ms':>9s}")
    for name, row in results["token_latency"].items():
        print(f"{name:48s} {row['ms_median']:12.3f} {row['ms_p90']:9.3f}")
    if "llm" in results:
        print(f"\n{'GPT-2 loop (offline model, top_k=50, batch of 3)':48s} {'ms/token':>12s} "
              f"{'sampler ms':>11s}")
        for name in ("softmax", "gibbs", "hw"):
            row = results["llm"][name]
            print(f"{name:48s} {row['ms_per_token']:12.3f} {row['sampler_ms_per_token']:11.3f}")
        print(f"hw / softmax time per token: {results['llm']['hw_over_softmax']:.2f}x")


#: transports of the device figures and the tokens each draws (the simulators are slower)
DEVICE_TRANSPORTS = (("model", 200), ("icarus", 40), ("verilator", 200))


def device_rates(cores: tuple[str, ...] = ("onehot", "tree", "stream"),
                 transports: tuple = DEVICE_TRANSPORTS, config: str = "default",
                 top_k: int = 64, vocab: int = 1000) -> dict:
    """Tokens/s of the rtl sampler (every draw on a core through the host driver) per core and
    transport: synthetic rows of ``vocab`` logits, top-k ``top_k`` (the stream core: the whole
    row), the default chain policy; the transport is opened (and a simulator built) by a
    warm-up token before the clock starts. A serial link needs a board: not measured here."""
    from ..contract.config import get_preset
    from ..contract.rows import synthetic_logits
    from ..samplers.policy import ChainPolicy
    from ..samplers.registry import make_sampler

    cfg = get_preset(config)
    rows = np.stack([synthetic_logits(vocab, seed) for seed in range(max(n for _, n in
                                                                        transports) + 1)])
    out: dict = {"config": config, "top_k": top_k, "vocab": vocab,
                 "serial": "needs a board (make bitstream; transport serial:PORT)"}
    for core in cores:
        k = None if core == "stream" else top_k
        for transport, tokens in transports:
            sampler = make_sampler("rtl", cfg, ChainPolicy(), seed=1, core=core,
                                   transport=transport)
            try:
                sampler.sample(rows[0], top_k=k)  # opens the link (builds a simulator once)
                start = time.perf_counter()
                for row in rows[1:tokens + 1]:
                    sampler.sample(row, top_k=k)
                seconds = time.perf_counter() - start
            finally:
                sampler.close()
            out[f"{core}-{transport}"] = {"tokens": tokens, "tokens_per_s": tokens / seconds}
    return out
