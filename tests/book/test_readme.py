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


def _compute_rows() -> dict[str, tuple[int, str]]:
    section = README.split("| Command | Experiments | Compute |", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `([\w-]+)`[^|]* \| (\d+) \| ([\d.]+ (?:min|h)) \|$", section, flags=re.M)
    return {command: (int(count), compute) for command, count, compute in rows}


def test_the_compute_table_matches_the_committed_manifests():
    """The README's per-command compute times are the committed full-budget manifests' own times."""
    import trustml.experiments as experiments
    from trustml.core.budget import get_budget
    from trustml.core.cache import entry_dir, get_experiment, own_seconds
    from trustml.core.cache_entry import read_manifest
    from trustml.core.chapters import chapter_for

    full = get_budget("full")

    def seconds(names) -> float:
        total = 0.0
        for name in names:
            exp = get_experiment(name)
            total += own_seconds(read_manifest(entry_dir(exp, exp.config_for(full), full)))
        return total

    rows = _compute_rows()
    assert set(rows) == {"ex1", "ex2", "ex3", "ex4", "ext-vae", "ext-cifar", "all"}
    for command, (count, compute) in rows.items():
        names = experiments.ALL if command == "all" else chapter_for(command).experiments
        value, unit = compute.split()
        measured = seconds(names) / (3600 if unit == "h" else 60)
        assert count == len(names), f"README: `{command}` runs {len(names)} experiments, not {count}"
        assert f"{measured:.1f}" == value, (
            f"README: `{command}` computes in {measured:.1f} {unit} by its manifests, not {compute}")
