"""Each chapter's experiments are declared once (`trustml.core.chapters`): the declarations
match what the chapters render (the provenance stamps in the committed `_freeze/`), cover every
registered experiment, and drive the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import trustml.experiments  # noqa: F401  (declares the chapters)
from trustml.cli import build_parser, chapters
from trustml.core.cache import REGISTRY
from trustml.core.chapters import CHAPTERS, Chapter, chapter_for, declare_chapter
from trustml.views.provenance import parse_stamps

ROOT = Path(__file__).resolve().parents[2]
BOOK = sorted(str(p.relative_to(ROOT)) for p in [ROOT / "index.qmd", *(ROOT / "chapters").glob("*.qmd")]
              if "```{python}" in p.read_text())


def rendered(file: str) -> set[str]:
    """The experiments a chapter was rendered from, by its frozen provenance stamps."""
    frozen = ROOT / "_freeze" / Path(file).with_suffix("") / "execute-results" / "html.json"
    return {name for _, name in parse_stamps(json.loads(frozen.read_text())["result"]["markdown"])}


def test_every_chapter_that_runs_python_is_declared():
    assert sorted(CHAPTERS) == BOOK


@pytest.mark.parametrize("file", BOOK)
def test_a_chapter_renders_exactly_the_experiments_it_declares(file):
    assert rendered(file) == set(CHAPTERS[file].experiments)


def test_every_registered_experiment_belongs_to_a_chapter():
    declared = {name for c in CHAPTERS.values() for name in c.experiments}
    assert declared == {name for name in REGISTRY if name != "dummy"}


@pytest.mark.parametrize("chapter", chapters(), ids=lambda c: c.command)
def test_the_command_line_offers_each_chapter_with_its_declared_parts(chapter):
    parser = build_parser()
    assert parser.parse_args([chapter.command]).command == chapter.command
    for part in chapter.part_names():
        assert getattr(parser.parse_args([chapter.command, f"--{chapter.part_option}", part]),
                       chapter.part_option) == part
    with pytest.raises(SystemExit):
        parser.parse_args([chapter.command, "--part", "no-such-part"])


def test_the_command_line_names_no_experiment():
    text = (ROOT / "src" / "trustml" / "cli.py").read_text()
    assert not [name for name in REGISTRY if f'"{name}"' in text]


def test_a_declaration_is_checked():
    with pytest.raises(ValueError, match="does not declare"):
        Chapter("x.qmd", ("a",), "v", parts=(("p", ("b",)),))
    with pytest.raises(ValueError, match="distinct"):
        Chapter("x.qmd", ("a", "a"), "v")
    with pytest.raises(ValueError, match="unknown part 'z'"):
        chapter_for("ex3").part("z")
    with pytest.raises(ValueError, match="unknown chapter command"):
        chapter_for("ex9")
    with pytest.raises(ValueError, match="declared twice"):
        declare_chapter("chapters/ex4-membership.qmd", ("ex4-logistic",), "v")
