"""The bulk mode's parts that need no simulator: the generator run backwards, the field extremes,
the coverage bins, the comparison of harness records, the mutation list."""

import io

import numpy as np
import pytest

from pysampler.contract.config import PRESETS
from pysampler.contract.program import OnehotProgram
from pysampler.contract.regmap import Core, Err
from pysampler.contract.rng import draw_sequence
from pysampler.engines.array import BitAccurateModel
from sim.bulk import (START_OVERHEAD, BulkMismatch, Coverage, Script, _Context, _Reader,
                      field_extremes, state_before, standard_script)
from sim.runner import CLAMP_CONFIG

CONFIGS = {**PRESETS, "clamp": CLAMP_CONFIG}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_state_before_gives_the_wanted_draw(name):
    cfg = CONFIGS[name]
    rng = np.random.default_rng(0)
    wanted = [1, (1 << cfg.prob_bits) - 1, 1 << (cfg.prob_bits - 1)] + \
        [int(u) for u in rng.integers(1, 1 << cfg.prob_bits, 20)]
    for u in wanted:
        draws, _ = draw_sequence(state_before(u, cfg), cfg, 1)
        assert int(draws[0]) == u


def test_state_before_rejects_a_draw_out_of_range():
    cfg = PRESETS["tiny"]
    with pytest.raises(ValueError, match="u must be in"):
        state_before(1 << cfg.prob_bits, cfg)
    with pytest.raises(ValueError, match="u must be in"):
        state_before(-1, cfg)


def test_field_extremes():
    cfg = PRESETS["tiny"]  # weights in [-128, 127], 16 units
    assert field_extremes(cfg, Core.ONEHOT) == (-128 * 17, 127 * 17)
    assert field_extremes(cfg, Core.DENSE) == (-128 * 16, 127 * 16)
    assert field_extremes(cfg, Core.ONEHOT)[1] < 1 << (cfg.field_bits - 1)  # the port holds it


def test_coverage_bins_follow_the_lut_and_the_trace():
    cov = Coverage(CLAMP_CONFIG, Core.ONEHOT)
    # the clamping LUT spans sigmoid(-1) .. sigmoid(1): no 0 or 2^P entry to reach
    assert not cov.reachable["LUT entry 0"] and not cov.reachable["LUT entry 2^12"]
    assert cov.clamp_observable
    assert "error flag BAD_START" in cov.reachable and "init keep" in cov.reachable
    assert "init given" not in cov.reachable  # the one-hot core has no GIVEN
    program = OnehotProgram(CLAMP_CONFIG, np.array([127, -128, 0]), -128, np.zeros(3), 1.0)
    model = BitAccurateModel(program, 1, seed=3)
    trace = model.run(4, trace=True)
    cov.add_run(trace, program, 4, "zeros")
    fields = trace.field[0]
    assert cov.hits["lut index above the upper clamp"] == np.count_nonzero(fields > 15)
    assert cov.hits["lut index below the lower clamp"] == np.count_nonzero(fields < -16)
    assert cov.hits["schedule entry 0"] == 12 and cov.hits["schedule length 1"] == 1
    assert cov.hits["init zeros"] == 1
    cov.add_flag(int(Err.ADDR | Err.SEED))
    assert cov.hits["error flag ADDR"] == 1 and cov.hits["error flag SEED"] == 1
    assert "error flag ADDR" not in cov.missed()


def _records(trace, model, extra=0):
    """The harness's records of one run: its beats, then the end of the run."""
    n = trace.index.shape[1]
    field = trace.field[0].astype(np.int64) & 0xFFFFFFFF
    beats = np.stack([(1 << 28) | (trace.bit[0].astype(np.int64) << 27) | trace.index[0],
                      field, trace.lut_value[0], trace.u[0]], axis=1).astype("<u4")
    y = model.y[0]
    on = np.flatnonzero(y)
    token = int(np.bitwise_xor.reduce(on)) if on.size else 0
    end = np.array([[2 << 28, on.size, token | (int(on.size == 1) << 31),
                     n + START_OVERHEAD + extra]], dtype="<u4")
    return np.concatenate([beats, end]).tobytes()


def _one_run_script(cfg=CLAMP_CONFIG):
    program = OnehotProgram(cfg, np.array([100, -20, 5, 0]), -40, np.zeros(4), 1.0)
    script = Script(cfg, "onehot")
    script.seed(12345)
    script.program(program)
    script.run(program, 3, "zeros", "the run")
    model = BitAccurateModel(program, 1, rng_states=[12345])
    return script, model, model.run(3, trace=True)


def _check(script, data):
    ctx = _Context(script.cfg, 1)
    reader = _Reader(io.BytesIO(data))
    return sum(step(ctx, reader, None) for step in script.steps)


def test_records_equal_to_the_model_pass():
    script, model, trace = _one_run_script()
    assert _check(script, _records(trace, model)) == 12 == script.updates


@pytest.mark.parametrize("column,name", [(1, "field"), (2, "lut_value"), (3, "u")])
def test_a_changed_record_is_reported_with_update_unit_and_values(column, name):
    script, model, trace = _one_run_script()
    data = bytearray(_records(trace, model))
    words = np.frombuffer(data, dtype="<u4").reshape(-1, 4).copy()
    words[7, column] += 1
    ref = int(getattr(trace, name)[0, 7])
    with pytest.raises(BulkMismatch, match=rf"first difference at update 7 .*unit 3, {name}: "
                                           rf"RTL {ref + 1} != model {ref}"):
        _check(script, words.tobytes())


def test_a_short_or_late_run_is_reported():
    script, model, trace = _one_run_script()
    data = _records(trace, model)
    with pytest.raises(BulkMismatch, match="end of the output"):
        _check(script, data[:-16 * 3])
    with pytest.raises(BulkMismatch, match="clocks from start to done: RTL 17 != model 16"):
        _check(script, _records(trace, model, extra=1))


def test_scripts_hold_every_init_policy_and_refused_input():
    for kind in ("onehot", "dense"):
        script = standard_script(CLAMP_CONFIG, kind, programs=20, long_runs=1)
        assert script.updates > 0 and len(script.words()) > 0
    with pytest.raises(ValueError, match="bulk mode runs the one-hot and dense cores"):
        Script(CLAMP_CONFIG, "tree")


def test_every_mutation_changes_one_line_of_the_export():
    from hw.export import to_verilog, to_verilog_graph
    from sim.graph_programs import graph_topology
    from sim.mutate import GRAPH_TOPOLOGY, MUTATIONS, apply

    texts = {core: to_verilog(CLAMP_CONFIG, core) for core in ("onehot", "dense")}
    texts["graph"] = to_verilog_graph(CLAMP_CONFIG, graph_topology(GRAPH_TOPOLOGY))
    assert {m.core for m in MUTATIONS} == set(texts)
    for mutation in MUTATIONS:
        text, before, after = apply(texts[mutation.core], mutation, CLAMP_CONFIG)
        old, new = texts[mutation.core].splitlines(), text.splitlines()
        assert len(old) == len(new)
        changed = [k for k, (a, b) in enumerate(zip(old, new)) if a != b]
        assert len(changed) == 1, (mutation.name, changed)
        assert old[changed[0]].strip() == before and new[changed[0]].strip() == after


def test_clamp_mutations_change_behaviour_only_where_the_lut_is_not_saturated():
    from pysampler.contract.config import get_preset
    from sim.mutate import MUTATIONS

    clamps = [m for m in MUTATIONS if m.clamp]
    assert {m.clamp for m in clamps} == {"upper", "lower"}
    assert all(m.changes_behaviour(CLAMP_CONFIG) for m in MUTATIONS)
    for name in ("tiny", "default", "wide"):
        assert not any(m.changes_behaviour(get_preset(name)) for m in clamps)
        assert all(m.changes_behaviour(get_preset(name)) for m in MUTATIONS if not m.clamp)


def test_the_soak_rejects_bad_arguments(tmp_path):
    from sim.soak import soak

    with pytest.raises(ValueError, match="updates and batch must be >= 1"):
        soak(0)
    with pytest.raises(ValueError, match="give one case"):
        soak(10, cases=[("tiny", "onehot"), ("tiny", "dense")], verilog_dir=tmp_path)


def test_the_soak_exits_non_zero_on_a_mismatch(monkeypatch, capsys):
    """``pysampler soak``'s path: a difference anywhere is exit status 1 with the message and
    the seed to replay it; without --seed every soak draws a fresh seed and prints it."""
    import sim.soak

    seeds = []

    def failing(updates, *, seed, log):
        seeds.append(seed)
        raise BulkMismatch("token run 3: first difference at update 9, unit 9, u: RTL 1 != model 2")

    monkeypatch.setattr(sim.soak, "soak", failing)
    assert sim.soak.run_soak(100, seed=7) == 1
    err = capsys.readouterr()
    assert "MISMATCH (seed 7): token run 3" in err.err and "--seed 7" in err.out
    assert sim.soak.run_soak(100) == 1 and sim.soak.run_soak(100) == 1
    assert seeds[0] == 7 and seeds[1] != seeds[2]   # fresh seeds (a 2^-32 chance to collide)
    with pytest.raises(ValueError, match="seed must be in"):
        sim.soak.run_soak(100, seed=2**32)


def test_soak_report_holds_the_figures_the_readme_quotes(monkeypatch, tmp_path):
    """`pysampler soak --out` writes the per-case counts and a summary table (seed, total,
    seconds) that the README's inline figures read through pysampler.experiments.figures."""
    import sim.soak
    from pysampler.experiments import figures

    monkeypatch.setattr(sim.soak, "soak", lambda updates, *, seed, log: {"a-onehot": 1200,
                                                                         "b-dense": 34})
    assert sim.soak.run_soak(1234, seed=99, out=tmp_path / "soak.md", log=lambda *_: None) == 0
    monkeypatch.setattr(figures, "RESULTS", tmp_path)
    assert figures.resolve("soak.md#Summary[figure=updates compared].value | ,d") == "1,234"
    assert figures.resolve("soak.md#Summary[figure=seed].value | d") == "99"
    assert figures.resolve("soak.md#Soak[].updates compared | sum | d") == "1234"
