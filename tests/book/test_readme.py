"""The README's "Use it as a library" examples run as written, and its install facts hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def library_blocks() -> list[str]:
    section = README.split("## Use it as a library", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_the_library_section_has_the_attack_and_the_lira_example():
    blocks = library_blocks()
    assert len(blocks) == 2 and "autoattack" in blocks[0] and "lira_scores" in blocks[1]


@pytest.mark.parametrize("index", [0, 1], ids=["attack-your-model", "lira-on-your-scores"])
def test_a_library_example_runs(index, capsys):
    exec(compile(library_blocks()[index], f"README block {index}", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_the_extras_split_the_library_from_the_book():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {re.split(r"[<>=\[ ]", d)[0] for d in project["dependencies"]}
    assert core == {"torch", "numpy", "scipy", "scikit-learn", "tqdm"}
    extras = project["optional-dependencies"]
    assert any(d.startswith("torchattacks") for d in extras["attacks"])
    assert {"pandas>=2.1", "matplotlib>=3.8"} <= set(extras["report"])


def test_environment_yml_uses_conda_forge_and_pins_torch_as_the_makefile_does():
    env = (ROOT / "environment.yml").read_text()
    pin = re.search(r'"torch==([\d.]+)"', (ROOT / "Makefile").read_text()).group(1)
    assert "  - pytorch\n" not in env.split("dependencies:")[0]  # not the stale channel
    assert f"  - pytorch={pin}\n" in env and "torchattacks" in env.split("pip:")[1]
