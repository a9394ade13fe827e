"""The layering of the package, read from the source: imports flow one way, no circle, a small top
level, no dispatch on sampler or program types, and the RTL generator loads the contract alone."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "pysampler"

# Lower layers first; a module may import its own layer and the layers before it, never after.
LAYERS = ["contract", "engines", "tsu", "device", "samplers", "analysis", "llm", "nn",
          "experiments", "cli", "__main__"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _imports(path: Path) -> set[str]:
    """Modules of pysampler that ``path`` imports anywhere (functions included; not the
    ``if TYPE_CHECKING:`` blocks, which never run)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text())
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node)
            for n in ast.walk(node)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("pysampler")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("pysampler"):
                continue
            for alias in node.names:  # "from .x import y" may name a submodule y
                sub = f"{target}.{alias.name}"
                out.add(sub if (ROOT / Path(*sub.split("."))).with_suffix(".py").exists()
                        or (ROOT / Path(*sub.split(".")) / "__init__.py").exists() else target)
    return out


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_no_import_circle():
    graph = _graph()
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    assert circles == []


def test_imports_flow_down_the_layers():
    upward = [(m, t) for m, targets in _graph().items() for t in targets
              if _layer(m) is not None and _layer(t) is not None and _layer(t) > _layer(m)]
    assert upward == []
    assert LAYERS[:-2] == sorted({p.parent.name for p in PACKAGE.glob("*/__init__.py")},
                                 key=LAYERS.index)


def test_torch_stays_at_and_above_the_nn_layer():
    """The layers below ``llm`` and ``nn`` never import torch at module level (a function may, to
    hand a torch caller a tensor back): importing them loads no torch."""
    below = LAYERS[:LAYERS.index("llm")]
    hits = []
    for path in PACKAGE.rglob("*.py"):
        if _layer(_module_name(path)) is None or LAYERS[_layer(_module_name(path))] not in below:
            continue
        for node in ast.parse(path.read_text()).body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n.split(".")[0] in ("torch", "transformers") for n in names):
                hits.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert hits == []


def test_nothing_imports_the_cli():
    assert [m for m, targets in _graph().items()
            if "pysampler.cli" in targets and m != "pysampler.__main__"] == []


def test_top_level_is_small():
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(modules) <= 8, modules


def _class_names(folder: Path, suffix: str) -> set[str]:
    """Names of the classes defined in ``folder``'s modules whose name ends with ``suffix``."""
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.name.endswith(suffix):
                names.add(node.name)
    return names


def _type_dispatch(folder: str, classes: set[str]) -> list[str]:
    """Every ``isinstance`` / ``issubclass`` call under ``folder`` whose class argument names one
    of ``classes`` (a name or an attribute, tuples included)."""
    hits = []
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("isinstance",
                                                                                "issubclass"):
                named = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)} | \
                        {n.attr for n in ast.walk(node.args[1]) if isinstance(n, ast.Attribute)}
                if named & classes:
                    hits.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return hits


@pytest.mark.parametrize("folder", ["pysampler", "hw", "sim"])
def test_no_isinstance_dispatch_on_sampler_types(folder):
    classes = _class_names(PACKAGE / "samplers", "Sampler")
    assert {"TokenSampler", "ChainSampler", "HardwareSampler", "TreeSampler"} <= classes
    assert _type_dispatch(folder, classes) == []


@pytest.mark.parametrize("folder", ["pysampler", "hw", "sim"])
def test_no_isinstance_dispatch_on_program_types(folder):
    """Programs carry their behaviour (kernel, dense form, schedule, register writes): nothing
    asks a program its type, not even to validate an argument (that is duck-typed on the
    behaviour it needs)."""
    classes = _class_names(PACKAGE / "contract", "Program")
    assert {"OnehotProgram", "DenseProgram"} <= classes
    assert _type_dispatch(folder, classes) == []


def test_type_dispatch_check_sees_a_program_isinstance(tmp_path, monkeypatch):
    """The check above finds the pattern it bans (so an empty list means something)."""
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "m.py").write_text(
        "def f(p):\n    return isinstance(p, (program.OnehotProgram, int))\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _type_dispatch("probe", {"OnehotProgram"}) == ["probe/m.py:2"]


def test_hw_modules_load_the_contract_alone():
    """Building the RTL needs the contract only: importing every hw/ module loads no sampler, no
    analysis, no experiment and no torch (which is also why the co-simulation's staleness
    fingerprint over hw/ and pysampler/contract/ is complete)."""
    modules = sorted(f"hw.{p.stem}" for p in (ROOT / "hw").glob("*.py") if p.stem != "__init__")
    code = ("import importlib, json, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print(json.dumps(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          check=True)
    loaded = json.loads(proc.stdout.splitlines()[-1])
    assert "hw.export" in loaded and "hw.fpga" in loaded
    ours = [m for m in loaded if m.startswith("pysampler")]
    assert ours and all(m in ("pysampler", "pysampler.contract") or
                        m.startswith("pysampler.contract.") for m in ours), ours
    assert not [m for m in loaded if m == "torch" or m.startswith(("torch.", "transformers"))]


def test_public_names_resolve_lazily():
    code = ("import sys, pysampler\n"
            "assert 'pysampler.samplers' not in sys.modules\n"
            "from pysampler import HardwareSampler, exact_token_distribution, HwConfig\n"
            "assert 'pysampler.samplers' in sys.modules\n"
            "import pysampler as p\n"
            "assert all(hasattr(p, n) for n in p.__all__), [n for n in p.__all__ if not hasattr(p, n)]\n"
            "print('ok')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_sim_sits_below_the_experiments():
    """The test benches draw their rows from the contract (contract.rows), not the experiments."""
    hits = [f"{path.relative_to(ROOT)}" for path in (ROOT / "sim").rglob("*.py")
            if any(target.startswith(("pysampler.experiments", "pysampler.analysis",
                                      "pysampler.llm", "pysampler.cli"))
                   for target in _imports(path))]
    assert hits == []
