"""Smoke execution of every chapter of the book, then the PDF build, at the smoke budget.

Chapters run in a fresh kernel each, in `_quarto.yml` order, against an empty results cache,
so every experiment's code path runs.
"""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from trustml.report.build import build_pdf
from trustml.report.execute import execute_chapter
from trustml.report.project import load_project

PROJECT = load_project(ROOT, profile="smoke")
CHAPTERS = PROJECT.chapters
_executed: dict = {}


@pytest.fixture(scope="module")
def smoke_env(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("TRUSTML_CACHE", str(tmp_path_factory.mktemp("smoke-cache")))
    mp.setenv("TRUSTML_BUDGET", "smoke")
    yield
    mp.undo()


def test_book_lists_chapters():
    names = [p.relative_to(ROOT).as_posix() for p in CHAPTERS]
    assert names[0] == "index.qmd" and "chapters/data.qmd" in names
    assert all(p.is_file() for p in CHAPTERS)


@pytest.mark.chapters
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_executes(chapter, smoke_env):
    nb = execute_chapter(chapter, PROJECT)
    _executed[chapter] = nb
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


@pytest.mark.chapters
def test_pdf_builds_with_resolved_references(smoke_env, tmp_path):
    missing = [c for c in CHAPTERS if c not in _executed]
    for chapter in missing:  # when run alone
        _executed[chapter] = execute_chapter(chapter, PROJECT)
    pdf = build_pdf(PROJECT, {c: _executed[c] for c in CHAPTERS}, tmp_path / "book.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000
