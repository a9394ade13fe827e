import subprocess
import sys

import pytest

from pysampler.cli import main
from pysampler.experiments.ising import ising_convergence
from pysampler.experiments.match import recommend_lambda, softmax_match
from pysampler.experiments.tables import write_table


def test_softmax_match_small_grid(tmp_path):
    rows = softmax_match((8,), (2.0, 3.0), (5, 20), mc_tokens=50, progress=False)
    assert len(rows) == 2 * 2 * 2
    for row in rows:
        assert 0 <= row.tv <= 1 and row.kl >= 0 and 0 <= row.fallback <= row.invalid_per_attempt
        assert row.updates_per_token >= row.sweeps * 8 and row.ms_per_token > 0
    # more sweeps never hurts at fixed lambda on this small problem (mixing)
    by_key = {(r.sampler, r.lam, r.sweeps): r.tv for r in rows}
    assert all(by_key[(s, l, 20)] <= by_key[(s, l, 5)] for s in ("gibbs", "hw") for l in (2.0, 3.0))
    best = recommend_lambda(rows, 20)
    assert set(best) == {("gibbs", 8), ("hw", 8)}
    csv_path, md_path = write_table(rows, tmp_path, "match")
    assert md_path.read_text().count("\n") == len(rows) + 2
    assert csv_path.read_text().splitlines()[0].startswith("sampler,vocab_size,lam")


@pytest.mark.slow
def test_ising_targets_at_default_config():
    """Issue targets for N = 8: TV < 0.01, KL < 0.05, ESS > 500, float and bit-accurate."""
    rows = ising_convergence((8,), n_chains=512, sweeps=1000, burn_in=50, progress=False)
    assert {r.sampler for r in rows} == {"gibbs", "hw"}
    for r in rows:
        assert r.tv < 0.01 and r.kl < 0.05 and r.ess > 500
    hw = next(r for r in rows if r.sampler == "hw")
    assert hw.tv_quantization > 0  # frac_bits = 4 changes this model's law measurably


def test_cli_bad_arguments_exit_2_with_one_line():
    proc = subprocess.run([sys.executable, "-m", "pysampler.cli", "ising", "--n", "20"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "n (spins; exact enumeration takes at most 16)" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = subprocess.run([sys.executable, "-m", "pysampler.cli", "match", "--config", "nope"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "preset" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as err:
        main(["match", "--vocab-size", "0"])
    assert err.value.code == 2


def test_cli_match_quick_writes_tables(tmp_path, capsys):
    main(["match", "--quick", "--vocab-size", "8", "--mc-tokens", "20", "--out", str(tmp_path)])
    assert "Recommended lambda" in capsys.readouterr().out
    assert (tmp_path / "match.md").exists() and (tmp_path / "match.csv").exists()
