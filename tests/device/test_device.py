"""The host driver: every scenario of sim.scenario through the model facade and through the
simulated Verilog (Icarus) gives the model's tokens and generator states and every refusal its
flag; bad input of every kind is a clear error (out-of-range values, writes while busy, a start
the core refuses, another core's CORE_ID, a serial port that does not answer or answers garbage,
unknown names); the rtl sampler is an external registry kind with its options."""

import os

import numpy as np
import pytest

from pysampler import ChainPolicy, make_sampler
from pysampler.contract.config import get_preset
from pysampler.contract.maps import core_map
from pysampler.contract.regmap import Err
from pysampler.device import Device, DeviceError, DeviceTimeout, ModelTransport, Transport
from pysampler.device.open import CORES, open_device, open_transport
from pysampler.samplers.registry import sampler_kinds, sampler_options
from sim.scenario import random_scenario, refusal_scenario, replay_device

RNG = np.random.default_rng
CONFIGS = ["tiny", "wide"]  # 32- and 64-bit generators (two seed words)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("core", CORES)
def test_the_model_facade_replays_every_scenario(core, config):
    cfg = get_preset(config)
    with Device(ModelTransport(core, cfg)) as dev:
        runs = replay_device(dev, random_scenario(core, cfg, rng=RNG(3), count=10), core, cfg)
        runs += replay_device(dev, refusal_scenario(core, cfg, rng=RNG(4), seed=4), core, cfg)
        assert dev.read("RUNS") == runs and runs >= 12


@pytest.mark.cosim
@pytest.mark.parametrize("core", CORES)
def test_the_simulated_verilog_replays_every_scenario(core):
    """Icarus, the link top (byte protocol -> AXI4-Lite -> core): the same scenarios."""
    cfg = get_preset("tiny")
    with open_device(core, cfg, "icarus") as dev:
        runs = replay_device(dev, random_scenario(core, cfg, rng=RNG(3), count=8), core, cfg)
        runs += replay_device(dev, refusal_scenario(core, cfg, rng=RNG(4), seed=4), core, cfg)
        assert dev.read("RUNS") == runs
        model = Device(ModelTransport(core, cfg))
        replay_device(model, random_scenario(core, cfg, rng=RNG(5), count=4), core, cfg)
        replay_device(dev, random_scenario(core, cfg, rng=RNG(5), count=4), core, cfg)
        # the registers the facade and the RTL agree on after the same runs (the stream core's
        # CYCLES counts the clocks it waited for the link's logits: not the model's)
        same = ["TOKEN", "STATUS", "SEED_LO"] + {"onehot": ["POPCOUNT", "CYCLES"],
                                                 "dense": ["POPCOUNT", "CYCLES"],
                                                 "tree": ["CYCLES"]}.get(core, [])
        assert [dev.read(r) for r in same] == [model.read(r) for r in same]


def test_refused_writes_name_the_register_value_and_flag():
    cfg = get_preset("tiny")
    dev = Device(ModelTransport("onehot", cfg))
    with pytest.raises(DeviceError, match=r"write H\[3\] = 128 refused \(accepts -128\.\.127\): "
                                          r"error flags VALUE"):
        dev.write(("H", 3), cfg.weight_max + 1)
    assert dev.errors() == Err(0)  # read and cleared
    with pytest.raises(DeviceError, match="N_ACTIVE = 17 refused .accepts 1..16.*VALUE"):
        dev.write("N_ACTIVE", 17)
    with pytest.raises(DeviceError, match="SEED"):
        dev.load_seed(0)
    with pytest.raises(DeviceError, match=r"START \(sweeps=1, init=keep\) refused.*BAD_START"):
        dev.start(1, "keep")  # no chain to keep after reset
    with pytest.raises(ValueError, match="sweeps must be an int in"):
        dev.start(0)
    with pytest.raises(DeviceError, match="write STATUS = 1 refused.*ADDR"):
        dev.write("STATUS", 1)
    with pytest.raises(DeviceError, match="read of H\\[0\\] refused"):
        dev.read(("H", 0))
    with pytest.raises(KeyError, match="no register 'J'"):
        dev.write(("J", (0, 1)), 1)


def test_writes_while_busy_are_refused_and_the_run_goes_on():
    cfg = get_preset("tiny")
    dev = Device(ModelTransport("stream", cfg))
    dev.load_seed(99)
    dev.write("N_ACTIVE", 5)
    dev.start()  # busy until the row comes
    with pytest.raises(DeviceError, match="BUSY_WRITE"):
        dev.write("N_ACTIVE", 3)
    with pytest.raises(DeviceError, match="BUSY_START"):
        dev.start()
    with pytest.raises(DeviceTimeout, match="waits for its logits"):
        dev.wait(0.1)
    dev.stream([-3, -1, 0, -2, -7])
    assert dev.wait() and dev.take_errors() == Err.BUSY_WRITE | Err.BUSY_START
    assert 0 <= dev.read("TOKEN") < 5 and dev.read("N_ACTIVE") == 5


def test_another_cores_id_is_caught_before_anything_is_written():
    cfg = get_preset("tiny")
    tree = ModelTransport("tree", cfg)

    class TreeBoard(Transport):  # a board built with the tree core, addressed as one-hot
        regmap = core_map("onehot", cfg)
        read, stream, wait_done = tree.read, tree.stream, tree.wait_done

        def write_many(self, writes):
            raise AssertionError("written before the CORE_ID check")

    with pytest.raises(DeviceError, match="CORE_ID read 0x50420103 .the tree core., expected "
                                          "0x50420101 for the onehot core"):
        Device(TreeBoard())


def test_a_serial_port_that_does_not_answer_times_out():
    """A pseudo-terminal with nothing behind it: a clear timeout, no hang."""
    master, slave = os.openpty()
    try:
        with pytest.raises(DeviceTimeout, match=r"no reply to the read of 0x3e within 0.3 s "
                                                r"\(0 of 5 bytes came\)"):
            open_device("onehot", get_preset("tiny"), f"serial:{os.ttyname(slave)}@9600",
                        timeout_s=0.3)
    finally:
        os.close(master)
        os.close(slave)


def test_a_serial_link_that_answers_garbage_or_is_missing_is_a_clear_error():
    cfg = get_preset("tiny")
    with pytest.raises(DeviceError, match="unexpected reply code 0x52 to the read of 0x3e"):
        open_device("onehot", cfg, "serial:loop://", timeout_s=0.5)  # echoes the command
    with pytest.raises(DeviceError, match="cannot open serial port '/nonexistent/tty'"):
        open_transport("onehot", cfg, "serial:/nonexistent/tty")


def test_unknown_names_are_value_errors():
    cfg = get_preset("tiny")
    for bad, match in ((("graph", cfg, "model"), "core must be one of"),
                       (("onehot", cfg, "fpga"), "transport must be one of"),
                       (("onehot", cfg, "serial:/dev/x@fast"), "baud rate")):
        with pytest.raises(ValueError, match=match):
            open_transport(*bad)
    with pytest.raises(ValueError, match="core must be one of .*'onehot', 'tree', 'stream'"):
        make_sampler("rtl", cfg, core="dense")
    with pytest.raises(ValueError, match="transport must be one of"):
        make_sampler("rtl", cfg, transport="board")
    with pytest.raises(ValueError, match="the hw sampler takes no option core"):
        make_sampler("hw", cfg, core="onehot")


def test_rtl_is_an_external_kind_with_its_options():
    assert "rtl" not in sampler_kinds() and "rtl" in sampler_kinds(external=True)
    assert sampler_options("rtl") == ("core", "transport")


@pytest.mark.parametrize("core,kind", [("onehot", "hw"), ("tree", "tree"), ("stream", "stream")])
def test_the_rtl_sampler_over_the_model_facade_draws_the_model_samplers_tokens(core, kind):
    cfg = get_preset("tiny")
    rows = np.random.default_rng(2).normal(0.0, 2.0, (12, 40))
    top_k = 16 if core != "stream" else None
    rtl = make_sampler("rtl", cfg, ChainPolicy(), seed=4, core=core, transport="model")
    model = make_sampler(kind, cfg, ChainPolicy(), seed=4)
    assert [rtl.sample(r, top_k=top_k) for r in rows] == [model.sample(r, top_k=top_k)
                                                          for r in rows]
    assert list(rtl.sample_batch(rows, top_k=top_k)) == list(model.sample_batch(rows,
                                                                              top_k=top_k))
    assert rtl.stats == model.stats
    assert rtl.law is not None and rtl.device.read("RUNS") >= 24


@pytest.mark.parametrize("argv,message", [
    (["--sampler", "hw", "--core", "tree"], "the hw sampler takes no option core"),
    (["--sampler", "rtl", "--transport", "fpga"], "transport must be one of"),
    (["--sampler", "rtl", "--core", "dense"], "argument --core: invalid choice"),
])
def test_cli_sampler_options_are_one_line_errors(argv, message, capsys):
    from pysampler.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["generate", *argv, "--lm", "/nonexistent/lm"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
