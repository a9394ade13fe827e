"""The register map rendered for hardware users: the Markdown tables and the C header, generated
from the map, compiled with gcc, and kept up to date by ``pysampler docs``."""

import shutil
import subprocess

import pytest

from pysampler.contract import regmap as rm
from pysampler.contract.maps import core_map
from pysampler.contract.config import get_preset
from pysampler.contract.regmap import REGISTERS, Core, Err, Status
from pysampler.device.regdoc import c_header, header_cores, markdown
from pysampler.experiments import docs
from pysampler.experiments.docs import BEGIN, END, GeneratedDoc, update_docs


def test_the_committed_docs_and_header_are_up_to_date():
    assert update_docs(check=True) == []
    table = markdown()
    assert all(f"`{reg.label}`" in table for reg in REGISTERS)
    assert all(f"`{flag.name}`" in table for flag in (*Err, *Status))


def test_update_docs_rewrites_only_a_stale_block(tmp_path):
    doc = tmp_path / "hardware.md"
    doc.write_text(f"# Title\n\nprose\n\n{BEGIN}\nold table\n{END}\n\nmore prose\n")
    header = tmp_path / "include" / "x.h"
    targets = (GeneratedDoc(doc, markdown, block=True),
               GeneratedDoc(header, lambda: "/* h */\n", block=False))
    assert update_docs(check=True, docs=targets) == [doc, header]
    assert "old table" in doc.read_text() and not header.exists()
    assert update_docs(docs=targets) == [doc, header]
    text = doc.read_text()
    assert "old table" not in text and markdown() in text and header.read_text() == "/* h */\n"
    assert text.startswith("# Title\n\nprose\n\n") and text.endswith(f"{END}\n\nmore prose\n")
    assert update_docs(docs=targets) == [] and update_docs(check=True, docs=targets) == []
    doc.write_text("no markers\n")
    with pytest.raises(ValueError, match="regmap:begin"):
        update_docs(check=True, docs=targets)


def test_the_header_holds_every_address_of_every_core():
    cfg = get_preset("default")
    text = c_header(cfg, "default")
    for core in header_cores(cfg):
        regmap = core_map(core, cfg)
        for reg in regmap.registers:
            if not reg.is_array:
                assert f"#define PBIT_{core.name}_{reg.name} 0x{regmap.address(reg.name):X}u\n" \
                    in text
        assert f"#define PBIT_{core.name}_ID_VALUE 0x{rm.core_id(core):X}u" in text
    assert f"#define PBIT_ERR_BAD_START 0x{int(Err.BAD_START):X}u" in text
    assert "PBIT_START_INIT_SHIFT 16u" in text


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
def test_the_header_compiles_and_its_macros_give_the_maps_addresses(tmp_path):
    """gcc compiles a program against the header whose output is the map's own addresses."""
    cfg = get_preset("tiny")
    (tmp_path / "pbit_regs_tiny.h").write_text(c_header(cfg, "tiny"))
    onehot, dense = core_map(Core.ONEHOT, cfg), core_map(Core.DENSE, cfg)
    src = tmp_path / "main.c"
    src.write_text('#include <stdio.h>\n#include "pbit_regs_tiny.h"\nint main(void) {\n'
                   '  printf("%u %u %u %u %u %d\\n", PBIT_ONEHOT_H(5), '
                   'PBIT_ONEHOT_SCHED_COUPLING(3), PBIT_DENSE_J(2, 7), '
                   'PBIT_BYTE_ADDR(PBIT_ONEHOT_STATUS), PBIT_TREE_ID_VALUE, PBIT_ONEHOT_H_MIN);\n'
                   '  return 0;\n}\n')
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-o",
                    str(tmp_path / "main"), str(src)], check=True)
    out = subprocess.run([str(tmp_path / "main")], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(v) for v in (
        onehot.address(("H", 5)), onehot.address(("SCHED_COUPLING", 3)),
        dense.address(("J", (2, 7))), 4 * onehot.address("STATUS"), rm.core_id(Core.TREE),
        cfg.weight_min)]


def test_the_docs_writer_lives_outside_the_contract():
    assert not hasattr(rm, "update_docs") and not hasattr(rm, "markdown")
    assert docs.DOCS[0].path.name == "hardware.md"


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
def test_the_c_example_draws_the_models_tokens(tmp_path):
    """docs/examples/onehot_token.c, compiled with gcc against the committed header, drives the
    one-hot core's register map (here: the byte protocol answered by the register-level model)
    and prints, seed by seed, the token the bit-accurate model draws for the same program."""
    import numpy as np

    from pysampler.contract.program import OnehotProgram, onehot_program
    from pysampler.device import ModelTransport
    from pysampler.device.link import ModelLink
    from pysampler.engines.array import BitAccurateModel

    root = docs.ROOT
    binary = tmp_path / "onehot_token"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic",
                    f"-I{root / 'include'}", "-o", str(binary),
                    str(root / "docs" / "examples" / "onehot_token.c"),
                    str(root / "tests" / "device" / "c_link_shim.c")], check=True)
    cfg = get_preset("default")
    link = ModelLink(ModelTransport("onehot", cfg))
    proc = subprocess.Popen([str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out = b""
    while True:  # answer each command of the C program with the model's reply
        code = proc.stdout.read(1)
        if not code:
            break
        if code in b"WR":
            command = code + proc.stdout.read(7 if code == b"W" else 3)
            link._send(command)
            proc.stdin.write(link._receive(5, 0.0))
            proc.stdin.flush()
        else:
            out += code + proc.stdout.readline()
    assert proc.wait(timeout=10) == 0
    program = onehot_program(np.array([0.0, -1.0, -0.5, -3.0]), 2.5, 1.0, cfg)
    assert program.h.tolist() == [40, 24, 32, -8] and program.j == -80  # the example's values
    want = []
    for seed in range(1, 9):
        model = BitAccurateModel(OnehotProgram(cfg, program.h, -80, np.zeros(4), 2.5), 1,
                                 rng_states=[seed], init="zeros")
        model.run(20)
        on = np.flatnonzero(model.y[0])
        want.append(f"seed {seed} token {int(on[0]) if on.size == 1 else -1}")
    assert out.decode().splitlines() == want
    assert len({line.split()[-1] for line in want}) > 1  # not one constant answer
