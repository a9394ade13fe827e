import json

import pytest

from pysampler.contract.config import PRESETS, HwConfig, get_preset, load_config


def test_defaults_match_design():
    cfg = HwConfig()
    assert (cfg.n_pbits, cfg.weight_bits, cfg.frac_bits, cfg.lut_addr_bits, cfg.lut_shift,
            cfg.prob_bits, cfg.beta, cfg.rng, cfg.rng_bits, cfg.schedule) == \
        (64, 10, 4, 10, 0, 16, 1.0, "lfsr", 32, "sequential")
    assert cfg.rng_steps == cfg.prob_bits
    assert cfg.field_bits == 10 + 7  # ceil(log2(65))


def test_xorshift_default_steps_is_one():
    assert HwConfig(rng="xorshift", rng_bits=64).rng_steps == 1


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_round_trip_json(name, tmp_path):
    cfg = get_preset(name)
    assert HwConfig.from_dict(cfg.to_dict()) == cfg
    assert HwConfig.from_json(cfg.to_json()) == cfg
    path = tmp_path / "c.json"
    path.write_text(cfg.to_json())
    assert load_config(path) == cfg
    assert load_config(name) == cfg


def test_presets_cover_both_rngs_and_step_counts():
    kinds = {cfg.rng for cfg in PRESETS.values()}
    steps = {cfg.rng_steps for cfg in PRESETS.values()}
    assert {"tiny", "default", "wide"} <= set(PRESETS)
    assert kinds == {"lfsr", "xorshift"}
    assert 1 in steps and max(steps) > 1


@pytest.mark.parametrize("field,value,needle", [
    ("n_pbits", 0, "n_pbits"), ("n_pbits", 70000, "n_pbits"), ("weight_bits", 1, "weight_bits"),
    ("frac_bits", 10, "frac_bits"), ("frac_bits", -1, "frac_bits"),
    ("lut_addr_bits", 0, "lut_addr_bits"), ("lut_addr_bits", 17, "lut_addr_bits"),
    ("lut_shift", 40, "lut_shift"), ("prob_bits", 0, "prob_bits"), ("prob_bits", 33, "prob_bits"),
    ("beta", 0.0, "beta"), ("beta", float("nan"), "beta"), ("beta", float("inf"), "beta"),
    ("beta", 1e-300, "beta"), ("beta", 2.0**10 * 1.01, "beta"), ("beta", "1", "beta"),
    ("rng", "mt", "rng"), ("rng_bits", 7, "rng_bits"), ("rng_bits", 65, "rng_bits"),
    ("rng_steps", 0, "rng_steps"), ("rng_steps", 65, "rng_steps"), ("schedule", "random", "schedule"),
    ("n_pbits", 3.0, "n_pbits"), ("weight_bits", True, "weight_bits"),
])
def test_out_of_range_fields_name_themselves(field, value, needle):
    with pytest.raises(ValueError, match=needle):
        HwConfig(**{field: value})


def test_xorshift_width_and_prob_bits_bound():
    with pytest.raises(ValueError, match="rng_bits"):
        HwConfig(rng="xorshift", rng_bits=48)
    with pytest.raises(ValueError, match="prob_bits"):
        HwConfig(rng_bits=12, prob_bits=16)


def test_frozen_and_replace():
    cfg = HwConfig()
    with pytest.raises(Exception):
        cfg.n_pbits = 3  # type: ignore[misc]
    narrow = cfg.replace(prob_bits=12)
    assert narrow.prob_bits == 12 and narrow.rng_steps == 12
    assert cfg.replace(rng_steps=3).rng_steps == 3
    with pytest.raises(ValueError, match="weight_bits"):
        cfg.replace(weight_bits=0)


def test_unknown_keys_and_names_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown HwConfig fields"):
        HwConfig.from_dict({"n_pbits": 4, "bogus": 1})
    with pytest.raises(ValueError, match="preset"):
        get_preset("huge")
    with pytest.raises(ValueError, match="missing.json' does not exist"):
        load_config(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="neither a preset"):
        load_config("huge")
    assert json.loads(HwConfig().to_json())["rng_steps"] == 16


@pytest.mark.parametrize("text,needle", [
    ("null", "object of fields.*got null"), ("5", "object of fields.*got 5"),
    ('"ad"', 'object of fields.*got "ad"'), ("[1, 2]", "object of fields"),
    ("{bad", "not valid JSON: .* line 1, column 2"), ('{"n_pbits": 1e9}', "n_pbits"),
])
def test_config_files_that_are_not_configs_name_the_file(tmp_path, text, needle):
    path = tmp_path / "cfg.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"config file '.*cfg.json'.*{needle}"):
        load_config(path)


def test_beta_bounds_are_the_gain_range():
    assert HwConfig(beta=2.0**-10).beta == 2.0**-10 and HwConfig(beta=2.0**10).beta == 2.0**10
    assert HwConfig(beta=0.5).logit_lsb == 0.5 * HwConfig().lsb
