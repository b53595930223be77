"""Execute a chapter's notebook in a fresh Jupyter kernel with nbclient, as Quarto does.

Besides the chapter's own cells the notebook gets a setup cell (figure format, like
Quarto's) and, before each markdown cell with inline expressions, a hidden cell that
evaluates them in order and records their display values.
"""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError

from trustml.errors import TrustmlError
from trustml.report.project import Project
from trustml.report.qmd import read_qmd

ANSI = re.compile(r"\x1b\[[0-9;]*m")
INLINE_MIME = "application/vnd.trustml.inline+json"

SETUP = """\
%matplotlib inline
import matplotlib.pyplot as __trustml_plt
from matplotlib_inline.backend_inline import set_matplotlib_formats as __trustml_formats
__trustml_formats({fig_format!r})
__trustml_plt.rcParams.update({{"figure.dpi": {dpi}, "savefig.dpi": {dpi}}})


def __trustml_inline(value):
    data = get_ipython().display_formatter.format(value)[0]
    return {{k: data[k] for k in ("text/markdown", "text/plain") if k in data}}
"""


class ChapterExecutionError(TrustmlError):
    """A chapter cell raised; the message names the chapter, the line and the traceback."""


def _inline_cell(exprs: list[str], line: int) -> nbformat.NotebookNode:
    items = ", ".join(f"__trustml_inline(({expr}))" for expr in exprs)
    source = f"display({{{INLINE_MIME!r}: [{items}]}}, raw=True)"
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["trustml"] = {"role": "inline", "line": line, "exprs": exprs}
    return cell


def prepare(nb: nbformat.NotebookNode, options: dict[str, Any]) -> nbformat.NotebookNode:
    """Add the setup cell and the inline-expression cells to a parsed notebook."""
    nb = copy.deepcopy(nb)
    setup = nbformat.v4.new_code_cell(
        SETUP.format(fig_format=options.get("fig-format", "png"), dpi=options.get("fig-dpi", 150))
    )
    setup.metadata["trustml"] = {"role": "setup", "line": 0}
    cells = [setup]
    for cell in nb.cells:
        exprs = cell.metadata.get("trustml", {}).get("inline")
        if cell.cell_type == "markdown" and exprs:
            cells.append(_inline_cell(exprs, cell.metadata["trustml"]["inline_line"]))
        cells.append(cell)
    nb.cells = cells
    return nb


def _describe_failure(nb: nbformat.NotebookNode, chapter: str) -> str:
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                meta = cell.metadata.get("trustml", {})
                line = meta.get("line", "?")
                if meta.get("role") == "inline":
                    what = f"an inline expression at line {line}: {meta['exprs']}"
                elif meta.get("role") == "setup":
                    what = "the setup cell (is matplotlib-inline installed?)"
                else:
                    what = f"the code cell at line {line}:\n{cell.source}"
                tb = ANSI.sub("", "\n".join(output.get("traceback", [])))
                return f"{chapter}: {what}\n{tb}"
    return chapter


def execute_chapter(
    path: str | Path, project: Project, timeout: int | None = None
) -> nbformat.NotebookNode:
    """Execute one chapter in a fresh kernel; raise `ChapterExecutionError` on any cell error."""
    path = Path(path)
    chapter = str(path.relative_to(project.root)) if path.is_absolute() else str(path)
    options = {**project.execute_options, **_format_options(project)}
    nb = prepare(read_qmd(path), options)
    cwd = project.root if project.config.get("project", {}).get("execute-dir") == "project" \
        else path.parent
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=timeout,
        allow_errors=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    try:
        client.execute(env=project.kernel_env())
    except CellExecutionError as exc:
        raise ChapterExecutionError(_describe_failure(nb, chapter)) from exc
    except DeadKernelError as exc:
        raise ChapterExecutionError(f"{chapter}: the kernel died ({exc})") from exc
    return nb


def _format_options(project: Project) -> dict[str, Any]:
    formats = project.config.get("format", {})
    typst = formats.get("typst", {}) if isinstance(formats, dict) else {}
    return {k: v for k, v in (typst or {}).items() if k in ("fig-format", "fig-dpi")}


def inline_values(cell: nbformat.NotebookNode) -> list[str]:
    """Markdown text of each inline expression, as Quarto shows it.

    `text/markdown` if the value has one, else `text/plain` with a string's quotes removed.
    """
    values: list[str] = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        for bundle in data.get(INLINE_MIME, []):
            if "text/markdown" in bundle:
                values.append(bundle["text/markdown"])
                continue
            text = bundle.get("text/plain", "")
            try:
                literal = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                literal = None
            values.append(literal if isinstance(literal, str) else text)
    return values
