"""Amaranth-simulator unit tests: each RTL component against its one Python definition."""

import numpy as np
import pytest
from amaranth import Elaboratable, Module, Signal, signed
from amaranth.sim import Simulator

from hw.dense import DenseCore
from hw.lut import UpdateEngine, lut_rom_address
from hw.rng import Rng
from pysampler.contract.config import HwConfig
from pysampler.contract.lut import build_lut, lut_address
from pysampler.contract.rng import derive_state, draw_sequence


def _simulate(dut, testbench):
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()


@pytest.mark.parametrize("cfg", [
    HwConfig(rng_bits=10, prob_bits=6, rng_steps=1),    # full period 1023 draws, one step a draw
    HwConfig(rng_bits=9, prob_bits=9, rng_steps=9),     # full period, leap-forward 9 steps a clock
])
def test_rng_equals_python_over_a_full_period(cfg):
    period = (1 << cfg.rng_bits) - 1
    start = derive_state(0, 0, cfg)
    expected_u, _ = draw_sequence(start, cfg, period + 1)
    rng = Rng(cfg)
    seen = []

    async def bench(ctx):
        ctx.set(rng.advance, 1)
        states = set()
        for k in range(period + 1):
            assert ctx.get(rng.u) == expected_u[k], f"draw {k}"
            states.add(ctx.get(rng.state))
            await ctx.tick()
        seen.append(len(states))
        assert ctx.get(rng.state) != 0

    _simulate(rng, bench)
    # rng_steps coprime to the period: the draws visit every non-zero state once per period
    assert seen == [period]


@pytest.mark.parametrize("cfg", [HwConfig(rng="xorshift", rng_bits=32, prob_bits=20),
                                 HwConfig(rng="xorshift", rng_bits=64, rng_steps=2)])
def test_xorshift_and_seed_load(cfg):
    rng = Rng(cfg)
    seed = 0x1234567 if cfg.rng_bits == 32 else 0x0123456789ABCDEF
    expected_u, final = draw_sequence(seed, cfg, 500)

    async def bench(ctx):
        ctx.set(rng.seed, seed)
        ctx.set(rng.load, 1)
        await ctx.tick()
        ctx.set(rng.load, 0)
        assert ctx.get(rng.state) == seed
        ctx.set(rng.advance, 1)
        for k in range(500):
            assert ctx.get(rng.u) == expected_u[k]
            await ctx.tick()
        assert ctx.get(rng.state) == final

    _simulate(rng, bench)


class _FieldEngine(Elaboratable):
    """UpdateEngine fed by two candidate fields through hw.lut.lut_rom_address, as the cores do."""

    def __init__(self, cfg: HwConfig):
        self.cfg = cfg
        self.engine = UpdateEngine(cfg)
        self.field0 = Signal(signed(cfg.field_bits))
        self.field1 = Signal(signed(cfg.field_bits))
        self.u, self.bit, self.lut_value = self.engine.u, self.engine.bit, self.engine.lut_value

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.engine = self.engine
        m.d.comb += [self.engine.address0.eq(lut_rom_address(m, self.field0, self.cfg)),
                     self.engine.address1.eq(lut_rom_address(m, self.field1, self.cfg))]
        return m


@pytest.mark.parametrize("cfg", [HwConfig(lut_addr_bits=6, frac_bits=2, n_pbits=4),
                                 HwConfig(lut_addr_bits=5, lut_shift=2, prob_bits=8, rng_bits=8,
                                          n_pbits=2, beta=0.6)])
def test_update_engine_reads_the_python_lut_for_every_field(cfg):
    """lut_rom_address of every representable field, through the engine's ROM and compare."""
    engine = _FieldEngine(cfg)
    lo, hi = -(1 << (cfg.field_bits - 1)), (1 << (cfg.field_bits - 1)) - 1
    fields = np.arange(lo, hi + 1)
    lut = build_lut(cfg)
    expected = lut[lut_address(fields, cfg)]

    async def bench(ctx):
        for k, field in enumerate(fields):
            ctx.set(engine.field0, int(field))
            ctx.set(engine.field1, int(field))
            await ctx.tick()
            value = ctx.get(engine.lut_value)
            assert value == expected[k], f"field {field}"
            for u in (0, max(value - 1, 0), value, (1 << cfg.prob_bits) - 1):
                if u < 1 << cfg.prob_bits:
                    ctx.set(engine.u, u)
                    assert ctx.get(engine.bit) == int(u < value)

    _simulate(engine, bench)


def test_generator_rejects_what_it_cannot_build():
    with pytest.raises(ValueError, match="n_pbits <= 64"):
        DenseCore(HwConfig(n_pbits=128))
    from hw.export import to_verilog

    with pytest.raises(ValueError, match="kind"):
        to_verilog(HwConfig(), "sparse")


def test_update_engine_decision_selects_the_candidate_field():
    """The ROM address is field1's when this clock's bit is 1, field0's when it is 0."""
    cfg = HwConfig(lut_addr_bits=6, frac_bits=2, n_pbits=4)
    engine = _FieldEngine(cfg)
    lut = build_lut(cfg)

    async def bench(ctx):
        ctx.set(engine.field0, -7)
        ctx.set(engine.field1, 9)
        for u in (0, (1 << cfg.prob_bits) - 1, 0, (1 << cfg.prob_bits) - 1):
            ctx.set(engine.u, u)
            bit = ctx.get(engine.bit)
            await ctx.tick()
            expected = lut[lut_address(9 if bit else -7, cfg)]
            assert ctx.get(engine.lut_value) == expected

    _simulate(engine, bench)


def test_rng_draws_per_clock_are_the_python_sequence():
    """The stream core's generator: L = 5 draws a clock (draw j = the state j + 1 draws ahead)
    and an advance by 5, 3 or 1 of them, against the one Python sequence."""
    cfg = HwConfig(rng_bits=32, prob_bits=24, rng_steps=24)  # the stream format's generator
    rng = Rng(cfg, draws=5, advances=(5, 3, 1))
    p = cfg.prob_bits
    plan = [0, 1, 2, 0, 2, 1, 0]  # advance_by each clock
    total = sum((5, 3, 1)[a] for a in plan)
    expected, _ = draw_sequence(derive_state(0, 0, cfg), cfg, total + 5)

    async def bench(ctx):
        at = 0
        ctx.set(rng.advance, 1)
        for choice in plan:
            ctx.set(rng.advance_by, choice)
            u = ctx.get(rng.u)
            assert [(u >> (j * p)) & ((1 << p) - 1) for j in range(5)] == \
                [int(v) for v in expected[at:at + 5]]
            await ctx.tick()
            at += (5, 3, 1)[choice]

    _simulate(rng, bench)
