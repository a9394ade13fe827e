"""The energy model: operation counts from the engine, energies from the stated sources, the FPGA
report's Fmax read back, the report written."""

import numpy as np

from pysampler.contract.config import HwConfig
from pysampler.contract.stream_format import stream_draws, stream_format
from pysampler.engines.stream import stream_activity, stream_draw, stream_quantize
from pysampler.experiments.energy import (HOROWITZ_45NM, OperationEnergies, energy_report,
                                          fpga_fmax, token_energy_pj)


def test_activity_counts_follow_the_contract():
    """Draws with padding, one sigmoid and one log-add read per logit and per merge, three
    accumulator ops per step, M toggles counted per register (first write excluded)."""
    fmt = stream_format(HwConfig(), lanes=4)
    row = stream_quantize(np.random.default_rng(0).gumbel(0.0, 2.0, 101), 1.0, fmt)
    _, _, trace = stream_draw(row, 3)
    act = stream_activity(row, trace)
    assert act.draws == stream_draws(101, 8, 4) == 26 * 4 + 7
    assert act.rom_reads == 101 + 7 and act.adds == 3 * 108 and act.beats == 26
    assert act.compares == 101 + 7 - 8 - 0  # forced: each reservoir's first logit
    assert 0 < act.m_toggles <= act.m_writes * fmt.acc.weight_bits
    assert act.m_writes == 101 - 8 + 7  # every write but each register's first


def test_energies_from_the_source():
    ops = OperationEnergies.of(stream_format(HwConfig()))
    assert ops.add_bit == HOROWITZ_45NM["add32"] / 32
    # a 26.6 KB ROM of 24-bit words sits between the 8 KB and 32 KB reads, scaled by 24 / 64
    assert 10 * 24 / 64 < ops.sigmoid_read < 20 * 24 / 64
    fmt = stream_format(HwConfig())
    row = stream_quantize(np.zeros(1000), 1.0, fmt)
    parts = token_energy_pj(stream_activity(row, stream_draw(row, 5)[2]), fmt, ops)
    assert parts["rom"] > parts["adds"] > 0 and parts["rom"] > 0.8 * sum(parts.values())


def test_report_reads_the_fpga_rows(tmp_path):
    fpga = tmp_path / "fpga.md"
    fpga.write_text("| stream-V50257-L16 | ecp5-85f | 9000 | 3000 | 120 | 0 | 55.5 | 3155 | "
                    "17,591 | 56.8 |\n| stream-V50257-L4 | ecp5-25f | 1 | 1 | 1 | 0 | 99.0 | 1 | 1 "
                    "| 1 |\n")
    assert fpga_fmax(fpga) == {(50_257, 16): 55.5}
    text = energy_report(tmp_path, fpga, vocabs=(1024, 50_257), lanes=(16,))
    assert "stream-V50257-L16" in text and "| 50257 | 16 | 3155 | 55.5 |" in text
    assert (tmp_path / "energy.png").stat().st_size > 0 and (tmp_path / "energy.csv").exists()
