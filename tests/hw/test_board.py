"""The board top: the ULX3S build plan has the UART and LED pins and the core behind its link;
unknown boards and baud rates are clear errors; results/fpga.md's board section survives a rerun
of the FPGA report. (The bitstream itself: `make bitstream`, minutes.)"""

import pytest

from hw.board import BOARDS, BoardTop, board_platform
from hw.fpga import BOARD_BEGIN, BOARD_END, write_board_section, write_report
from pysampler.contract.config import get_preset


def test_the_ulx3s_plan_holds_the_uart_pins_and_the_core():
    platform = board_platform("ulx3s")
    plan = platform.build(BoardTop(get_preset("tiny"), "tree", "ulx3s"), name="pbit_board",
                          do_build=False)
    lpf = plan.files["pbit_board.lpf"]
    assert 'LOCATE COMP "uart_0__rx__io" SITE "M1"' in lpf
    assert 'LOCATE COMP "uart_0__tx__io" SITE "L4"' in lpf and '"G2"' in lpf  # clk25
    rtlil = plan.files["pbit_board.il"]
    assert "pbit_board.link.bridge.core" in rtlil and "uart_rx" in rtlil


def test_unknown_boards_and_baud_rates_are_clear_errors():
    with pytest.raises(ValueError, match=r"unknown board 'arty'; choose one of \['ulx3s'"):
        board_platform("arty")
    with pytest.raises(ValueError, match="unknown board"):
        BoardTop(get_preset("tiny"), "onehot", "arty")
    with pytest.raises(ValueError, match="baud 7000000 is not within 2%"):
        board_platform("ulx3s").build(BoardTop(get_preset("tiny"), "tree", "ulx3s",
                                               baud=7_000_000), do_build=False)
    assert set(BOARDS) >= {"ulx3s", "ulx3s-25f", "ulx3s-85f"}


def test_the_board_section_survives_a_rerun_of_the_fpga_report(tmp_path):
    report = tmp_path / "fpga.md"
    write_board_section(report, "## Board: x\n\nFmax 55 MHz")
    write_board_section(report, "## Board: y\n\nFmax 56 MHz")  # replaced, not appended
    write_report([], {"tool": "1.0"}, report, 20)
    text = report.read_text()
    assert text.startswith("# FPGA resources and Fmax")
    assert text.count(BOARD_BEGIN) == 1 and text.count(BOARD_END) == 1
    assert "## Board: y" in text and "## Board: x" not in text
