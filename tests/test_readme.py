"""The README's Python quick start runs as written."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_python_quick_start_runs(capsys):
    text = README.read_text()
    section = text[text.index("## Python quick start"):text.index("## The hardware contract")]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    assert namespace["sampler_kinds"]()[:4] == ("softmax", "gibbs", "hw", "tree")
    assert 0.0 <= namespace["exact"].tv < 0.05
    assert capsys.readouterr().out.count("\n") >= 4
