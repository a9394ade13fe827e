"""The FPGA report (hw.fpga): figures per design, and a design that does not fit is a row, not a crash."""

from hw.fpga import DESIGNS, FpgaResult, cycles_per_token, write_report
from pysampler.contract.tree_format import tree_clocks


def test_report_rows_and_a_design_that_does_not_fit(tmp_path):
    placed = FpgaResult("onehot-V64", "ecp5-25f", 1966, 471, 1, 1, 51.7, 1347, 38_382.0, 20.0)
    failed = FpgaResult("tree-V1024", "ice40-hx8k", 923, 156, 39, 0, None, 2079, None, 9.0,
                        "Unable to place cell 'rom.0.12_RAM', no BELs remaining")
    path = tmp_path / "fpga.md"
    write_report([placed, failed], {"yosys": "test"}, path, sweeps=20)
    text = path.read_text()
    assert "| onehot-V64 | ecp5-25f | 1966 | 471 | 1 | 1 | 51.7 | 1347 | 38,382 |" in text
    assert "| tree-V1024 | ice40-hx8k | 923 | 156 | 39 | 0 | does not fit: Unable to place" in text


def test_cycles_per_token():
    kind, cfg, _ = DESIGNS["onehot-V64"]
    assert cycles_per_token(kind, cfg, 20) == 64 + 3 + 20 * 64
    kind, cfg, _ = DESIGNS["tree-V64"]
    assert cycles_per_token(kind, cfg, 20) == 64 + tree_clocks(64) == 64 + 64 + 18 + 1


def test_a_crashed_place_and_route_is_not_called_a_misfit(tmp_path):
    crashed = FpgaResult("stream-V50257-L16", "ecp5-85f", 10245, 2789, 136, 0, None, 3155, None,
                         9.0, "nextpnr stopped with status 1 and no error (wasm trap)")
    path = tmp_path / "fpga.md"
    write_report([crashed], {"yosys": "test"}, path, sweeps=20)
    assert "| 136 | 0 | place and route failed: nextpnr stopped" in path.read_text()

def test_a_run_of_some_designs_keeps_the_other_rows(tmp_path):
    """`pysampler fpga --designs X` rewrites X's rows and keeps the others, also from a report of
    the layout before the us/token column; rows of designs that no longer exist go."""
    path = tmp_path / "fpga.md"
    path.write_text(
        "# FPGA resources and Fmax\n\n| design | target | LUTs | FFs | BRAMs | DSPs | Fmax (MHz) "
        "| cycles/token | tokens/s |\n|---|---|---|---|---|---|---|---|---|\n"
        "| tree-V64 | ecp5-25f | 819 | 130 | 6 | 0 | 36.7 | 147 | 250,000 |\n"
        "| stream-V50257 | ecp5-25f | 707 | 260 | 28 | 0 | 64.3 | 50262 | 1,279 |\n"
        "| onehot-V64 | ecp5-25f | 1 | 1 | 1 | 1 | 1.0 | 1347 | 742 |\n")
    rerun = FpgaResult("onehot-V64", "ecp5-25f", 1966, 471, 1, 1, 51.7, 1347, 38_382.0, 20.0)
    write_report([rerun], {"yosys": "test"}, path, sweeps=20)
    text = path.read_text()
    assert "| onehot-V64 | ecp5-25f | 1966 | 471 | 1 | 1 | 51.7 | 1347 | 38,382 | 26.1 |" in text
    assert "| tree-V64 | ecp5-25f | 819 | 130 | 6 | 0 | 36.7 | 147 | 250,000 | 4.0 |" in text
    assert "stream-V50257 |" not in text and text.count("| onehot-V64 |") == 1
    write_report([], {"yosys": "test"}, path, sweeps=20)   # the new layout is kept as it is
    assert text.split("Capacity")[0] == path.read_text().split("Capacity")[0]


def test_graph_designs_are_lattices_in_two_colours():
    """The graph core's FPGA designs: a periodic lattice, n / 2 lanes, a run of 20 sweeps takes
    2 + 20 x 2 clocks (INIT, PRIME, one colour step a clock)."""
    from hw.fpga import lattice_topology

    for side in (4, 8, 16, 20):
        topology = lattice_topology(side)
        assert (topology.n, topology.n_colours, topology.lanes) == (side * side, 2, side * side // 2)
        kind, cfg, options = DESIGNS[f"graph-lattice-{side}x{side}"]
        assert kind == "graph" and cycles_per_token(kind, cfg, 20, options) == 2 + 20 * 2


def test_a_design_over_the_parts_capacity_after_synthesis_is_not_placed(tmp_path):
    """over_capacity: ECP5 LUT sites are LUT4 + 2 x CCU2C; a design over them (or over the
    block RAMs or DSPs) is refused before nextpnr, and its row says does not fit."""
    from hw.fpga import OVER_CAPACITY, over_capacity

    fits = {"LUT4": 80_000, "CCU2C": 1_820, "DP16KD": 208, "MULT18X18D": 156, "TRELLIS_FF": 9}
    assert over_capacity(fits, "ecp5-85f") == ""
    carries = dict(fits, CCU2C=1_821)          # 80,000 + 2 x 1,821 = 83,642 > 83,640
    assert over_capacity(carries, "ecp5-85f") == (
        f"{OVER_CAPACITY}: LUT sites 80,000 LUT4 + 2 x 1,821 CCU2C = 83,642 > 83,640")
    dsps = over_capacity(dict(fits, MULT18X18D=157), "ecp5-85f")
    assert dsps == f"{OVER_CAPACITY}: DSPs 157 MULT18X18D > 156"
    assert "DSPs" in over_capacity(fits, "ecp5-25f") and "BRAMs" in over_capacity(fits, "ecp5-25f")
    result = FpgaResult("graph-lattice-20x20", "ecp5-85f", 80_000, 9, 208, 156, None, 42, None,
                        60.0, over_capacity(carries, "ecp5-85f"))
    path = tmp_path / "fpga.md"
    write_report([result], {"yosys": "test"}, path, sweeps=20)
    assert ("| graph-lattice-20x20 | ecp5-85f | 80000 | 9 | 208 | 156 | does not fit (over "
            "capacity after synthesis: LUT sites 80,000 LUT4 + 2 x 1,821 CCU2C = 83,642 > "
            "83,640) | 42 | - | - |") in path.read_text()


def test_synthesis_only_rows_and_netlist_reuse(tmp_path, monkeypatch):
    """``route=False`` writes a resource row without Fmax; a netlist is synthesized again only
    when its Verilog, script or Yosys version changes (a stand-in Yosys counts its runs)."""
    import hw.fpga as fpga

    calls, version = tmp_path / "calls", tmp_path / "version"
    version.write_text("Yosys 1")
    fake = tmp_path / "yosys"
    fake.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-V" ]; then cat {version}; exit 0; fi\n'
        f"echo run >> {calls}\n"
        'echo \'{"design": {"num_cells_by_type": {"LUT4": 5, "TRELLIS_FF": 3, "DP16KD": 1}}}\''
        " > stat.json\necho '{}' > pbit_tree.json\n")
    fake.chmod(0o755)
    monkeypatch.setattr(fpga, "_tool", lambda name: str(fake))
    work = tmp_path / "tree"
    runs = []
    for _ in range(2):
        runs.append(fpga.run_flow("tree-V64", "ecp5-25f", work, 20, route=False))
    assert calls.read_text().count("run") == 1
    version.write_text("Yosys 2")
    runs.append(fpga.run_flow("tree-V64", "ecp5-25f", work, 20, route=False))
    assert calls.read_text().count("run") == 2
    r = runs[-1]
    assert (r.luts, r.ffs, r.brams, r.fmax_mhz, r.failure) == (5, 3, 1, None, fpga.NOT_ROUTED)
    path = tmp_path / "fpga.md"
    write_report([r], {"yosys": "test"}, path, sweeps=20)
    assert f"| tree-V64 | ecp5-25f | 5 | 3 | 1 | 0 | {fpga.NOT_ROUTED} | " in path.read_text()
