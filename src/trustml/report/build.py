"""The Quarto-less build: execute every chapter, then markdown → pandoc → Typst → PDF."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sys
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import nbformat
import pypandoc
import yaml

from trustml.errors import TrustmlError
from trustml.report.execute import execute_chapter
from trustml.report.markdown import ChapterWriter
from trustml.report.project import Project

TYPST_HEADER = """\
#set math.equation(numbering: "(1)")
#show heading.where(level: 1): set heading(supplement: [Chapter])
#show heading.where(level: 1): it => { pagebreak(weak: true); v(1.5em); it; v(0.8em) }
#set figure(placement: none)
#show figure.caption: set text(size: 0.9em)
#show table: set text(size: 0.85em)
#set table(stroke: (x, y) => if y == 0 { (bottom: 0.7pt) } else { none })
"""


# Symbol names pandoc's Typst writer emits that newer Typst versions renamed.
TYPST_SYMBOL_RENAMES = {"dot.circle": "dot.o", "sect": "inter"}


class PdfBuildError(TrustmlError):
    """pandoc or Typst failed; the message holds their error."""


def output_dir(project: Project) -> Path:
    return project.root / project.config.get("project", {}).get("output-dir", "_book")


def execute_all(
    project: Project, chapters: Sequence[Path] | None = None, log=print
) -> dict[Path, nbformat.NotebookNode]:
    """Execute chapters in `book.chapters` order, each in a fresh kernel."""
    executed: dict[Path, nbformat.NotebookNode] = {}
    for path in chapters or project.chapters:
        start = time.perf_counter()
        executed[path] = execute_chapter(path, project)
        log(f"executed {path.relative_to(project.root)} in {time.perf_counter() - start:.1f} s")
    return executed


def _metadata(project: Project) -> dict:
    book = project.config.get("book", {})
    meta = {k: book[k] for k in ("title", "subtitle", "author", "date", "abstract") if k in book}
    if meta.get("date") == "today":
        meta["date"] = dt.date.today().isoformat()
    if "date" in meta:
        meta["date"] = str(meta["date"])
    meta["lang"] = project.config.get("lang", "en")
    return meta


def build_pdf(
    project: Project, executed: dict[Path, nbformat.NotebookNode], pdf_path: Path | None = None
) -> Path:
    """Convert executed chapters to one PDF; returns its path."""
    import typst  # imported here: only the PDF build needs it

    out = output_dir(project)
    work = out / ".pdf-build"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    defaults = project.execute_options
    chapters_md = []
    for path, nb in executed.items():
        writer = ChapterWriter(path.stem, work / "figures", "figures/", defaults)
        chapters_md.append(writer.convert(nb))
    book_md = work / "book.md"
    book_md.write_text("\n\n".join(chapters_md), encoding="utf-8")
    meta_file = work / "metadata.yaml"
    meta_file.write_text(yaml.safe_dump(_metadata(project), allow_unicode=True))
    header = work / "header.typ"
    header.write_text(TYPST_HEADER)
    lua = resources.files("trustml.report") / "crossref.lua"
    book_typ = work / "book.typ"
    try:
        pypandoc.convert_file(
            str(book_md), "typst", format="markdown", outputfile=str(book_typ),
            extra_args=["--standalone", "--number-sections", "--toc", f"--lua-filter={lua}",
                        f"--metadata-file={meta_file}", f"--include-in-header={header}",
                        "--columns=10000", "-V", "papersize=a4",
                        "-V", "fontsize=10.5pt"],
        )
    except RuntimeError as exc:
        raise PdfBuildError(f"pandoc failed on {book_md}: {exc}") from exc
    typ = book_typ.read_text(encoding="utf-8")
    for old, new in TYPST_SYMBOL_RENAMES.items():
        typ = re.sub(rf"\b{re.escape(old)}\b(?![.\w])", new, typ)
    book_typ.write_text(typ, encoding="utf-8")
    pdf_path = pdf_path or out / f"{project.config.get('book', {}).get('output-file', 'book')}.pdf"
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        typst.compile(str(book_typ), output=str(pdf_path), root=str(work))
    except Exception as exc:  # typst raises its own error type with the diagnostics
        raise PdfBuildError(f"Typst failed on {book_typ}:\n{exc}") from exc
    return pdf_path


def main_pdf(project: Project, pdf_path: Path | None = None) -> Path:
    executed = execute_all(project, log=lambda m: print(m, file=sys.stderr))
    return build_pdf(project, executed, pdf_path)
