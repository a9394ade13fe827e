"""cocotb tests of pbit_tree: every decision (node, bit, field, LUT entry, draw) and every token
compared with pysampler.tree.tree_draw on the same program and generator state."""

import numpy as np
import cocotb
from cocotb.triggers import FallingEdge

from pysampler.contract import regmap as rm
from pysampler.experiments.logitsets import synthetic_logits
from pysampler.contract.rng import derive_state
from pysampler.contract.lut import build_lut
from pysampler.contract.tree_format import tree_clocks, tree_config
from pysampler.engines.tree import tree_draw, tree_program
from tb import TB, CompareError, env_config, env_int, report_updates


class TreeTB(TB):
    """The TB bus helpers (write, seed, reset) on the tree core's ports."""

    def __init__(self, dut, cfg):
        self.dut, self.cfg, self.dense, self.n = dut, cfg, False, cfg.n_pbits
        self._sig = {name: getattr(dut, name) for name in (
            "prog__addr", "prog__data", "prog__we", "start", "busy", "done", "err", "token",
            "trace__valid", "trace__node", "trace__bit", "trace__forced", "trace__field",
            "trace__lut", "trace__u")}

    async def reset(self, cycles: int = 2) -> None:
        for name in ("prog__addr", "prog__data", "prog__we", "start"):
            self._sig[name].value = 0
        self.dut.rst.value = 1
        for _ in range(cycles):
            await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await FallingEdge(self.dut.clk)

    async def load(self, program) -> None:
        leaves = program.masses[program.padded:program.padded + program.n_leaves]
        await self.write_many([(rm.REGION_REG, rm.REG_N_ACTIVE, program.n_leaves)] +
                              [(rm.REGION_H, i, int(v)) for i, v in enumerate(leaves)])
        await FallingEdge(self.dut.clk)

    async def draw(self):
        """Start a run; collect (node, bit, forced, field, lut, u) per decision, the token and
        the clocks from start to done."""
        s = self._sig
        s["start"].value = 1
        await FallingEdge(self.dut.clk)
        s["start"].value = 0
        beats, clocks = [], 1
        while not (int(s["done"].value) and not int(s["busy"].value)):
            if int(s["trace__valid"].value):
                beats.append(tuple(int(s[f"trace__{k}"].value) for k in ("node", "bit", "forced"))
                             + (s["trace__field"].value.to_signed(), int(s["trace__lut"].value),
                                int(s["trace__u"].value)))
            clocks += 1
            if clocks > 4 * self.n + 64:
                raise CompareError("tree run did not finish")
            await FallingEdge(self.dut.clk)
        return beats, int(s["token"].value), clocks


def _compare(beats, token, expected_token, trace, label):
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


@cocotb.test()
async def tree_random_programs_test(dut):
    cfg = env_config()
    tb = TreeTB(dut, cfg)
    await tb.start()
    rng = np.random.default_rng(env_int("PBIT_SEED", 0))
    lut = build_lut(tree_config(cfg))
    decisions = 0
    for p in range(env_int("PBIT_PROGRAMS", 50)):
        n = int(rng.integers(1, cfg.n_pbits + 1)) if rng.random() < 0.8 else cfg.n_pbits
        logits = rng.normal(0.0, float(rng.choice([0.5, 2.0, 6.0])), n)
        program = tree_program(logits, 1.0, cfg)
        state = derive_state(env_int("PBIT_SEED", 0), p, cfg)
        await tb.seed(state)
        await tb.load(program)
        for t in range(3):  # the generator runs on from token to token
            token, state, trace = tree_draw(program, state, lut)
            beats, rtl_token, clocks = await tb.draw()
            _compare(beats, rtl_token, token, trace, f"program {p} (n={n}) token {t}")
            budget = tree_clocks(cfg.n_pbits) + 1  # + the clock that carries start
            if clocks > budget:
                raise CompareError(f"program {p}: {clocks} clocks for a token, budget {budget}")
            decisions += len(beats)
        if tb.err():
            raise CompareError(f"program {p}: unexpected error flags {tb.err():#x}")
    report_updates("tree_decisions", decisions)


@cocotb.test()
async def tree_bad_input_test(dut):
    cfg = env_config()
    tb = TreeTB(dut, cfg)
    await tb.start()
    tcfg = tree_config(cfg)
    tb._sig["start"].value = 1  # nothing loaded since reset: refused
    await FallingEdge(dut.clk)
    tb._sig["start"].value = 0
    await FallingEdge(dut.clk)
    if tb.err() != rm.ERR_BAD_START or int(dut.busy.value):
        raise CompareError(f"start before loading: err = {tb.err():#x}")
    await tb.clear_err()
    await tb.write(rm.REGION_H, 0, tcfg.weight_max + 1)
    if tb.err() != rm.ERR_VALUE:
        raise CompareError(f"oversized leaf: err = {tb.err():#x}")
    await tb.clear_err()
    await tb.write(rm.REGION_J, 0, 1)
    if tb.err() != rm.ERR_ADDR:
        raise CompareError(f"J region on the tree core: err = {tb.err():#x}")
    await tb.clear_err()
    # a program still draws exactly after the rejected writes; a start while busy is flagged
    program = tree_program(synthetic_logits(cfg.n_pbits), 1.0, cfg)
    state = derive_state(1, 2, cfg)
    await tb.seed(state)
    await tb.load(program)
    token, _, trace = tree_draw(program, state)
    tb._sig["start"].value = 1
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)  # start held: the second clock is a start while busy
    tb._sig["start"].value = 0
    while not (int(dut.done.value) and not int(dut.busy.value)):
        await FallingEdge(dut.clk)
    if tb.err() != rm.ERR_BUSY_START or int(dut.token.value) != token:
        raise CompareError(f"start while busy: err {tb.err():#x}, token {int(dut.token.value)} "
                           f"vs model {token}")
    report_updates("tree_decisions", len(trace.node))
