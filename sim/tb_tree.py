"""cocotb tests of ``pbit_tree`` (hw/tree.py): every decision (node, bit, field, LUT entry, draw)
and every token compared with :func:`pysampler.engines.tree.tree_draw` on the same program and
generator state."""

import numpy as np
import cocotb
from cocotb.triggers import FallingEdge

from pysampler.contract.config import HwConfig
from pysampler.contract.lut import build_lut
from pysampler.contract.regmap import Core, Err, Region
from pysampler.contract.rng import derive_state
from pysampler.contract.tree_format import tree_clocks, tree_config
from pysampler.engines.tree import tree_draw, tree_program
from pysampler.contract.rows import synthetic_logits

from .compare import CompareError, compare_draw
from .env import env_config, env_int, report_updates
from .tb import TB


class TreeTB(TB):
    """The tree core: leaves through the H region, one draw per start."""

    def __init__(self, dut, cfg: HwConfig):
        super().__init__(dut, cfg, Core.TREE)

    async def load(self, program) -> None:
        """N_ACTIVE and the leaves of a tree program."""
        leaves = program.masses[program.padded:program.padded + program.n_leaves]
        await self.bus.write_many([("N_ACTIVE", program.n_leaves)] +
                                  [(("H", i), int(v)) for i, v in enumerate(leaves)])
        await FallingEdge(self.dut.clk)

    async def pulse_start(self, clocks: int = 1) -> None:
        """Hold ``start`` for ``clocks`` clocks."""
        self.dut.start.value = 1
        for _ in range(clocks):
            await FallingEdge(self.dut.clk)
        self.dut.start.value = 0

    async def draw(self):
        """Start a run; collect (node, bit, forced, field, lut, u) per decision, the token and
        the clocks from start to done."""
        dut = self.dut
        await self.pulse_start()
        beats, clocks = [], 1
        while not (int(dut.done.value) and not int(dut.busy.value)):
            if int(dut.trace__valid.value):
                beats.append((int(dut.trace__node.value), int(dut.trace__bit.value),
                              int(dut.trace__forced.value), dut.trace__field.value.to_signed(),
                              int(dut.trace__lut.value), int(dut.trace__u.value)))
            clocks += 1
            if clocks > 4 * self.n + 64:
                raise CompareError("tree run did not finish")
            await FallingEdge(dut.clk)
        return beats, int(dut.token.value), clocks


def _flags(value: int) -> str:
    return Err(value).name or "0"


async def _start_tb(dut) -> TreeTB:
    tb = TreeTB(dut, env_config())
    await tb.start()
    return tb


@cocotb.test()
async def tree_random_programs_test(dut):
    tb = await _start_tb(dut)
    cfg = tb.cfg
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
            decisions += compare_draw(beats, rtl_token, token, trace,
                                      f"program {p} (n={n}) token {t}")
            budget = tree_clocks(cfg.n_pbits) + 1  # + the clock that carries start
            if clocks > budget:
                raise CompareError(f"program {p}: {clocks} clocks for a token, budget {budget}")
        if tb.err():
            raise CompareError(f"program {p}: unexpected error flags {_flags(tb.err())}")
    report_updates("tree_decisions", decisions)


@cocotb.test()
async def tree_bad_input_test(dut):
    tb = await _start_tb(dut)
    cfg, tcfg = tb.cfg, tree_config(tb.cfg)

    async def expect(flag: Err, what: str) -> None:
        if tb.err() != flag:
            raise CompareError(f"{what}: err = {_flags(tb.err())}, expected {flag.name}")
        await tb.clear_err()

    await tb.pulse_start()  # nothing loaded since reset: refused
    await FallingEdge(dut.clk)
    if int(dut.busy.value):
        raise CompareError("start before loading: the core went busy")
    await expect(Err.BAD_START, "start before loading")
    await tb.bus.write(("H", 0), tcfg.weight_max + 1)
    await expect(Err.VALUE, "oversized leaf")
    await tb.bus.write_raw(tb.regmap.raw_address(Region.J, 0), 1)
    await expect(Err.ADDR, "J region on the tree core")
    # a program still draws exactly after the rejected writes; a start while busy is flagged
    program = tree_program(synthetic_logits(cfg.n_pbits), 1.0, cfg)
    state = derive_state(1, 2, cfg)
    await tb.seed(state)
    await tb.load(program)
    token, _, trace = tree_draw(program, state)
    await tb.pulse_start(2)  # start held: the second clock is a start while busy
    while not (int(dut.done.value) and not int(dut.busy.value)):
        await FallingEdge(dut.clk)
    if tb.err() != Err.BUSY_START or int(dut.token.value) != token:
        raise CompareError(f"start while busy: err {_flags(tb.err())}, token "
                           f"{int(dut.token.value)} vs model {token}")
    report_updates("tree_decisions", len(trace.node))
