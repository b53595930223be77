"""An executed chapter notebook → pandoc markdown, with figures written as PNG files.

Supported cell options (the subset the chapters use; see README):
`label` (fig-/tbl- prefixes), `fig-cap`, `fig-alt`, `tbl-cap`, `echo`, `output`, `include`,
`warning`. Project-wide defaults come from `execute:` in `_quarto.yml`.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import nbformat
import pypandoc
import yaml

from trustml.errors import TrustmlError
from trustml.report.execute import inline_values
from trustml.report.qmd import INLINE_EXPR

TABLE_HTML = re.compile(r"<table.*?</table>", re.DOTALL | re.IGNORECASE)
PIPE_TABLES = "markdown-simple_tables-multiline_tables-grid_tables"


class MarkdownBuildError(TrustmlError):
    """A cell's output cannot be represented (e.g. a tbl- label on a cell with no table)."""


def _fence(text: str, lang: str = "") -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def html_table_to_markdown(html: str) -> str | None:
    """The first HTML `<table>` converted by pandoc to a pipe table, or None."""
    match = TABLE_HTML.search(html)
    if not match:
        return None
    return pypandoc.convert_text(match.group(0), PIPE_TABLES, format="html").strip()


class ChapterWriter:
    """Convert one executed notebook; figures go to `figure_dir/<stem>-<n>.png`."""

    def __init__(self, stem: str, figure_dir: Path, link_prefix: str, defaults: dict[str, Any]):
        self.stem = stem
        self.figure_dir = figure_dir
        self.link_prefix = link_prefix
        self.defaults = defaults
        self.n_figures = 0

    def write_figure(self, png_b64: str) -> str:
        self.n_figures += 1
        name = f"{self.stem}-{self.n_figures}.png"
        self.figure_dir.mkdir(parents=True, exist_ok=True)
        (self.figure_dir / name).write_bytes(base64.b64decode(png_b64))
        return f"{self.link_prefix}{name}"

    def convert(self, nb: nbformat.NotebookNode) -> str:
        parts: list[str] = []
        pending_inline: list[str] = []
        for cell in nb.cells:
            meta = cell.metadata.get("trustml", {})
            role = meta.get("role")
            if role == "setup":
                continue
            if role == "inline":
                pending_inline = inline_values(cell)
                continue
            if cell.cell_type == "raw" and meta.get("front_matter"):
                front = yaml.safe_load(cell.source.strip().strip("-").strip("."))
                if isinstance(front, dict) and front.get("title"):
                    parts.append(f"# {front['title']}")
            elif cell.cell_type == "markdown":
                parts.append(self._markdown(cell.source, pending_inline, meta))
                pending_inline = []
            elif cell.cell_type == "code":
                parts.extend(self._code(cell, meta))
        return "\n\n".join(p for p in parts if p.strip()) + "\n"

    @staticmethod
    def _markdown(source: str, values: list[str], meta: dict[str, Any]) -> str:
        exprs = INLINE_EXPR.findall(source)
        if len(exprs) != len(values):
            raise MarkdownBuildError(
                f"paragraph at line {meta.get('line')}: {len(exprs)} inline expressions, "
                f"{len(values)} values"
            )
        it = iter(values)
        return INLINE_EXPR.sub(lambda _m: str(next(it)), source)

    def _code(self, cell: nbformat.NotebookNode, meta: dict[str, Any]) -> list[str]:
        options = {**self.defaults, **meta.get("options", {})}
        if options.get("include") is False:
            return []
        out: list[str] = []
        if options.get("echo") is True and cell.source.strip():
            out.append(_fence(cell.source, "python"))
        if options.get("output") is False:
            return out
        label = str(options.get("label", ""))
        figure_done = table_done = False
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream":
                if output.get("name") == "stderr" and options.get("warning") is False:
                    continue
                out.append(_fence(output.get("text", "")))
            elif kind in ("display_data", "execute_result"):
                data = output.get("data", {})
                if "image/png" in data:
                    path = self.write_figure(data["image/png"])
                    if label.startswith("fig-") and not figure_done:
                        caption = options.get("fig-cap", "")
                        alt = options.get("fig-alt")
                        attrs = f"#{label}" + (f' fig-alt="{alt}"' if alt else "")
                        out.append(f"![{caption}]({path}){{{attrs}}}")
                        figure_done = True
                    else:
                        out.append(f"![]({path})")
                elif "text/markdown" in data:
                    out.append(data["text/markdown"])
                elif "text/html" in data and (table := html_table_to_markdown(data["text/html"])):
                    if label.startswith("tbl-") and not table_done:
                        table += f"\n\n: {options.get('tbl-cap', '')} {{#{label}}}"
                        table_done = True
                    out.append(table)
                elif "text/plain" in data:
                    out.append(_fence(data["text/plain"]))
        if label.startswith("fig-") and not figure_done:
            raise MarkdownBuildError(f"cell at line {meta.get('line')}: {label} made no figure")
        if label.startswith("tbl-") and not table_done:
            raise MarkdownBuildError(f"cell at line {meta.get('line')}: {label} made no table")
        return out
