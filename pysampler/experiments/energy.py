"""Energy per token of the stream core (``pysampler energy`` -> results/energy.md, .csv, .png).

A token's energy = its operations, counted by the engine on a run of the bit-accurate model
(:func:`pysampler.engines.stream.stream_activity`: generator draws, sigmoid and log-add ROM
reads, accumulator adds and compares, u < LUT compares, register bits that toggle; the RTL's ROM
reads, draws and M toggles are checked against those counts in co-simulation, sim/tb_stream.py),
times per-operation energies, plus static power over the token's time.

Per-operation energies: M. Horowitz, "Computing's energy problem (and what we can do about it)",
ISSCC 2014, the 45 nm table at 0.9 V (:data:`HOROWITZ_45NM`): a 32-bit integer add 0.1 pJ (taken
per bit: an n-bit add or compare costs n / 32 of it), 64-bit SRAM reads of 10 / 20 / 100 pJ from
8 KB / 32 KB / 1 MB arrays (interpolated log-log in the ROM's size, scaled by its word width over
64). Two quantities the table does not give are stated as assumptions: a register bit that
toggles costs one add bit (3.1 fJ), and a generator draw (a GF(2) network of XORs and a
rng_bits register) costs one rng_bits-wide add plus half its register bits toggling.

Two technologies: an ASIC core at 45 nm (those energies, dynamic only: Horowitz gives no leakage
figure), and the ECP5 FPGA: the same dynamic energy times :data:`FPGA_DYNAMIC_RATIO` = 14, the
dynamic-power gap between an FPGA and a standard-cell ASIC for logic-only circuits measured by
I. Kuon and J. Rose, "Measuring the gap between FPGAs and ASICs", IEEE TCAD 26(2), 2007 (90 nm;
7.1 with hard memories and multipliers, so 14 is the conservative end), plus a static power of
:data:`FPGA_STATIC_W` over the token's time (an assumption, not a datasheet figure: the Lattice
Power Calculator gives the part's own; the report says how the total moves with it). The token's
time is its clocks (:func:`pysampler.contract.stream_format.stream_clocks`) at the ECP5-85F Fmax
of the FPGA report (results/fpga.md, ``stream-V<V>-L<L>`` rows; :data:`DEFAULT_FMAX_MHZ`, the
flow's target, where a row is missing: the report says which).

Beside it, the GPU figures of /work/shared/ANCHORS.md (one H200, torch 2.13, V = 50,257): 63 us
(Gumbel-max) and 112 us (multinomial) per token at batch 1, 0.41 mJ per token at batch 4,096.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..contract.config import HwConfig
from ..contract.lut import lut_span
from ..contract.stream_format import stream_format
from ..engines.stream import StreamActivity, stream_activity, stream_draw, stream_quantize
from .stream_error import lm_like_row
from .tables import markdown_table, write_csv

__all__ = ["HOROWITZ_45NM", "FPGA_DYNAMIC_RATIO", "FPGA_STATIC_W", "DEFAULT_FMAX_MHZ",
           "GPU_US_PER_TOKEN", "GPU_MJ_PER_TOKEN", "OperationEnergies", "EnergyRow",
           "token_energy_pj", "fpga_fmax", "energy_rows", "energy_report"]

#: Horowitz, ISSCC 2014, 45 nm, 0.9 V: pJ per operation
HOROWITZ_45NM = {"add32": 0.1, "sram64_8KB": 10.0, "sram64_32KB": 20.0, "sram64_1MB": 100.0}
#: Kuon and Rose, IEEE TCAD 2007: FPGA / ASIC dynamic power, logic-only circuits
FPGA_DYNAMIC_RATIO = 14.0
#: static power of the ECP5-85F while it runs (an assumption; see the module docstring)
FPGA_STATIC_W = 0.2
#: the FPGA flow's clock target, used where the FPGA report has no row for a design
DEFAULT_FMAX_MHZ = 50.0
#: one H200, torch 2.13, V = 50,257 (shared/ANCHORS.md)
GPU_US_PER_TOKEN = {"H200 Gumbel-max, batch 1": 63.0, "H200 multinomial, batch 1": 112.0}
GPU_MJ_PER_TOKEN = {"H200 multinomial, batch 4,096 (670 W)": 0.41}

#: block RAMs of the stream core per pair of lanes at the default format (the ECP5 synthesis of
#: results/fpga.md: 34 at L = 4, 136 at L = 16) and the ECP5-85F's
BRAMS_PER_LANE_PAIR, ECP5_85F_BRAMS = 17, 208

VOCABS = (1024, 8192, 50_257, 128_256, 262_144)
LANES = (1, 4, 16, 32, 64)


def _sram_read_pj(words: int, width: int) -> float:
    """One read of a ``width``-bit word from a ROM of ``words`` words: Horowitz's 64-bit reads
    interpolated log-log in the array's size (extrapolated below 8 KB with the 8-32 KB slope),
    times width / 64."""
    size = max(words * width / 8.0, 1.0)
    points = [(8 * 1024, HOROWITZ_45NM["sram64_8KB"]), (32 * 1024, HOROWITZ_45NM["sram64_32KB"]),
              (1024 * 1024, HOROWITZ_45NM["sram64_1MB"])]
    (s0, e0), (s1, e1) = (points[0], points[1]) if size <= points[1][0] else (points[1], points[2])
    slope = math.log(e1 / e0) / math.log(s1 / s0)
    return e0 * (size / s0) ** slope * width / 64.0


@dataclass(frozen=True)
class OperationEnergies:
    """pJ per operation of one stream format at 45 nm (module docstring)."""

    sigmoid_read: float
    logadd_read: float
    draw: float
    add_bit: float
    toggle_bit: float

    @classmethod
    def of(cls, fmt) -> "OperationEnergies":
        acc = fmt.acc
        _, _, span, _, _ = lut_span(acc)  # the sigmoid ROM the core stores
        table = fmt.logadd()
        add_bit = HOROWITZ_45NM["add32"] / 32.0
        return cls(sigmoid_read=_sram_read_pj(len(span), max(int(max(span)).bit_length(), 1)),
                   logadd_read=_sram_read_pj(table.size, max(int(table.max()).bit_length(), 1)),
                   draw=acc.rng_bits * add_bit + acc.rng_bits / 2 * add_bit,
                   add_bit=add_bit, toggle_bit=add_bit)


def token_energy_pj(act: StreamActivity, fmt, ops: OperationEnergies) -> dict[str, float]:
    """A token's dynamic energy at 45 nm by kind of operation (pJ): ROM reads, draws, adds and
    compares, register toggles (M, the held token, the two stage-1 registers of a decision with
    half their bits toggling)."""
    acc = fmt.acc
    width = acc.weight_bits + 1
    pipeline_bits = act.rom_reads * width  # 2 registers of acc_bits + 1, half toggling
    return {
        "rom": act.rom_reads * (ops.sigmoid_read + ops.logadd_read),
        "generator": act.draws * ops.draw,
        "adds": (act.adds * width + act.compares * (acc.prob_bits + 1)) * ops.add_bit,
        "registers": (act.m_toggles + act.takes * fmt.index_bits / 2 + pipeline_bits)
                     * ops.toggle_bit,
    }


def fpga_fmax(report: Path) -> dict[tuple[int, int], float]:
    """(V, L) -> Fmax (MHz) of the ``stream-V<V>-L<L>`` rows on ecp5-85f in an FPGA report."""
    out = {}
    if not report.exists():
        return out
    pattern = re.compile(r"^\| stream-V(\d+)-L(\d+) \| ecp5-85f \|(?:[^|]*\|){4} ([\d.]+) \|")
    for line in report.read_text().splitlines():
        match = pattern.match(line)
        if match:
            out[(int(match[1]), int(match[2]))] = float(match[3])
    return out


@dataclass(frozen=True)
class EnergyRow:
    V: int
    L: int
    clocks: int
    fmax_mhz: float
    fmax_from: str
    us_per_token: float
    fits_85f: str
    draws: int
    rom_reads: int
    m_toggles: int
    asic_uj: float
    fpga_dynamic_uj: float
    fpga_static_uj: float
    fpga_mj: float


def _activity(v: int, lanes: int, seed: int) -> tuple[StreamActivity, object]:
    fmt = stream_format(HwConfig(), lanes=lanes, max_vocab=max(v, 1 << 16))
    row = stream_quantize(lm_like_row(v, 0.8, seed), 1.0, fmt)
    _, _, trace = stream_draw(row, 1 + seed)
    return stream_activity(row, trace), fmt


def energy_rows(fmax: dict[tuple[int, int], float], *, vocabs=VOCABS, lanes=LANES,
                seed: int = 0, static_w: float = FPGA_STATIC_W) -> list[EnergyRow]:
    """One row per (V, L): the counted operations of a token on an LM-like row (top-50 mass 0.8)
    and its energy at 45 nm and on the ECP5."""
    rows = []
    for v in vocabs:
        for n in lanes:
            act, fmt = _activity(v, n, seed)
            ops = OperationEnergies.of(fmt)
            parts = token_energy_pj(act, fmt, ops)
            asic_pj = sum(parts.values())
            key = (v, n) if (v, n) in fmax else next(((vv, n) for vv, nn in fmax
                                                      if nn == n and vv == 50_257), None)
            f = fmax.get(key, DEFAULT_FMAX_MHZ) if key else DEFAULT_FMAX_MHZ
            where = (f"ECP5-85F, stream-V{key[0]}-L{n}" if key in fmax else
                     f"{DEFAULT_FMAX_MHZ:g} MHz target (no FPGA row)")
            us = act.clocks / f
            dyn_uj = asic_pj * FPGA_DYNAMIC_RATIO * 1e-6
            static_uj = static_w * us
            fits = "yes" if BRAMS_PER_LANE_PAIR * -(-n // 2) <= ECP5_85F_BRAMS else \
                f"no ({BRAMS_PER_LANE_PAIR * -(-n // 2)} BRAMs)"
            rows.append(EnergyRow(v, n, act.clocks, f, where, us, fits, act.draws, act.rom_reads,
                                  act.m_toggles, asic_pj * 1e-6, dyn_uj, static_uj,
                                  (dyn_uj + static_uj) * 1e-3))
    return rows


def _plot(rows: list[EnergyRow], path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_e) = plt.subplots(1, 2, figsize=(11, 4.2))
    for n in sorted({r.L for r in rows}):
        sel = [r for r in rows if r.L == n]
        ax_t.plot([r.V for r in sel], [r.us_per_token for r in sel], "o-", label=f"L = {n}")
        line = ax_e.plot([r.V for r in sel], [r.fpga_mj for r in sel], "o-", label=f"ECP5, L = {n}")
        ax_e.plot([r.V for r in sel], [r.asic_uj * 1e-3 for r in sel], ":",
                  color=line[0].get_color())
    for (name, us), style in zip(GPU_US_PER_TOKEN.items(), ("--", "-.")):
        ax_t.axhline(us, color="k", ls=style, lw=1, label=name + f" ({us:g} us)")
    for name, mj in GPU_MJ_PER_TOKEN.items():
        ax_e.axhline(mj, color="k", ls="--", lw=1, label=name + f" ({mj:g} mJ)")
    ax_e.axhline(0.04, color="gray", ls=":", lw=1, label="goal 0.04 mJ")
    ax_t.set(xscale="log", yscale="log", xlabel="vocabulary V", ylabel="us per token",
             title="pbit_stream on ECP5-85F: time per token")
    ax_e.set(xscale="log", yscale="log", xlabel="vocabulary V", ylabel="mJ per token",
             title="energy per token (dotted: 45 nm ASIC, dynamic)")
    ax_t.legend(fontsize=7)
    ax_e.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def energy_report(out: Path, fpga_report: Path = Path("results/fpga.md"), *, seed: int = 0,
                  static_w: float = FPGA_STATIC_W, vocabs=VOCABS, lanes=LANES) -> str:
    """Write results/energy.{md,csv,png} (module docstring) for every V of ``vocabs`` (50,257
    among them) and L of ``lanes``; returns the markdown."""
    fmax = fpga_fmax(fpga_report)
    rows = energy_rows(fmax, seed=seed, static_w=static_w, vocabs=vocabs, lanes=lanes)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out / "energy.csv")
    _plot(rows, out / "energy.png")
    fmt = stream_format(HwConfig())
    ops = OperationEnergies.of(fmt)
    at = {(r.V, r.L): r for r in rows}
    best = min((r for r in rows if r.V == 50_257 and r.fits_85f == "yes"),
               key=lambda r: r.fpga_mj)
    lines = [
        "# Energy per token of the stream core", "",
        "Command: `make energy` (`pysampler energy`; after `make fpga`, whose ECP5-85F Fmax it "
        "reads from results/fpga.md). Model and sources: `pysampler/experiments/energy.py`. "
        "Operations counted by the engine on one LM-like row per V (top-50 mass 0.8; "
        "`stream_activity`), checked against the RTL's ROM reads, draws and M toggles in "
        "co-simulation (sim/tb_stream.py, every token of `make sim`). FPGA rows read from "
        f"`{fpga_report}`: {len(fmax)} ECP5-85F stream row(s).", "",
        "Per-operation energies at 45 nm, 0.9 V (M. Horowitz, ISSCC 2014): 32-bit add 0.1 pJ "
        "(per bit for other widths); 64-bit SRAM read 10 / 20 / 100 pJ at 8 KB / 32 KB / 1 MB, "
        f"interpolated: a sigmoid ROM read {ops.sigmoid_read:.2f} pJ, a log-add ROM read "
        f"{ops.logadd_read:.2f} pJ, a draw {ops.draw:.2f} pJ (assumption: a 32-bit add plus 16 "
        f"register bits), a register bit toggle {ops.toggle_bit * 1e3:.1f} fJ (assumption: one "
        "add bit). FPGA = 45 nm dynamic x 14 (Kuon and Rose, IEEE TCAD 2007: the FPGA/ASIC "
        f"dynamic-power gap, logic only) + {static_w:g} W static over the token's time "
        "(an assumption; every 0.1 W adds 0.1 uJ per us of the token's time).", "",
        "GPU (shared/ANCHORS.md, one H200, V = 50,257): 63 us (Gumbel-max) / 112 us "
        "(multinomial) per token at batch 1; 0.41 mJ per token at batch 4,096.", "",
        f"At V = 50,257 the least energy of the lane counts whose ROMs fit the ECP5-85F "
        f"({BRAMS_PER_LANE_PAIR} block RAMs per pair of lanes at the default format, "
        f"{ECP5_85F_BRAMS} in the part; `fits_85f`) is L = {best.L}: {best.fpga_mj:.4f} mJ per "
        f"token ({best.us_per_token:.1f} us; the goal is 0.04 mJ, the H200 0.41 mJ) and "
        f"{best.asic_uj:.2f} uJ as a 45 nm ASIC (dynamic). Per token at V = 50,257, "
        f"L = {lanes[0]}: {at[(50_257, lanes[0])].fpga_mj:.4f} mJ in "
        f"{at[(50_257, lanes[0])].us_per_token:.0f} us. The "
        "dynamic energy hardly moves with L (the same reads and draws, 2L - 1 merges more); the "
        "static energy falls as 1/L with the token's time.", "",
        markdown_table(rows, {"fmax_mhz": ".1f", "us_per_token": ".1f", "asic_uj": ".3f",
                              "fpga_dynamic_uj": ".2f", "fpga_static_uj": ".2f",
                              "fpga_mj": ".4f"}),
        "", "![energy](energy.png)", ""]
    text = "\n".join(lines)
    (out / "energy.md").write_text(text)
    return text
