"""The package's layout: one axis per level, and the base never imports the domain."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "trustml"
DOMAIN = ("adversarial", "data", "experiments", "fasttrain", "generative", "models", "privacy",
          "regression", "views", "cli", "__main__")


def imported(path: Path) -> set[str]:
    """Every `trustml...` module a file imports (at any depth, lazily or not)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n == "trustml" or n.startswith("trustml.")}


@pytest.mark.parametrize("path", sorted((PACKAGE / "core").glob("*.py")), ids=lambda p: p.name)
def test_the_core_never_imports_the_domain(path):
    bad = {m for m in imported(path) if m.split(".")[1:2] and m.split(".")[1] in DOMAIN}
    assert not bad, f"core/{path.name} imports {sorted(bad)}"


def test_no_domain_module_lies_flat_at_the_package_root():
    flat = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert flat == ["__init__.py", "__main__.py", "cli.py"]


def test_models_and_statistics_do_not_reach_into_experiments_or_views():
    for folder in ("models", "adversarial", "generative", "privacy", "regression", "fasttrain"):
        for path in (PACKAGE / folder).glob("*.py"):
            bad = {m for m in imported(path) if m.startswith(("trustml.experiments", "trustml.views"))}
            assert not bad, f"{folder}/{path.name} imports {sorted(bad)}"
