"""Turn a `.qmd` file into a Jupyter notebook the way Quarto does.

- YAML front matter becomes a raw cell.
- Only fences matching Quarto's own pattern `^(\\s*)(```+)\\s*\\{python( *[ ,].*)?\\}\\s*$`
  are code cells; every other line, other fenced blocks included, is markdown.
- Leading `#| key: value` lines of a code cell are its YAML options.
- Inline expressions `` `{python} expr` `` in markdown are recorded in the cell's metadata.

Each cell's metadata `trustml.line` holds its first line in the `.qmd` (1-based), for errors.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import yaml

from trustml.errors import TrustmlError

CODE_START = re.compile(r"^(\s*)(```+)\s*\{python( *[ ,].*)?\}\s*$")
CODE_END = re.compile(r"^\s*(```+)\s*$")
OPTION_LINE = re.compile(r"^#\|\s?(.*)$")
INLINE_EXPR = re.compile(r"`\{python\}\s+([^`]+?)\s*`")


class QmdSyntaxError(TrustmlError):
    """A `.qmd` file that Quarto would not parse as we expect."""


def parse_options(lines: list[str], where: str) -> tuple[dict[str, Any], list[str]]:
    """Split leading `#|` option lines off a code cell's lines."""
    option_lines: list[str] = []
    for line in lines:
        match = OPTION_LINE.match(line)
        if not match:
            break
        option_lines.append(match.group(1))
    try:
        options = yaml.safe_load("\n".join(option_lines)) if option_lines else {}
    except yaml.YAMLError as exc:
        raise QmdSyntaxError(f"{where}: cell options are not valid YAML: {exc}") from exc
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise QmdSyntaxError(f"{where}: cell options must be `#| key: value` lines")
    return options, lines[len(option_lines):]


def qmd_to_notebook(text: str, name: str = "<qmd>") -> nbformat.NotebookNode:
    """Parse `.qmd` text into a notebook (nbformat v4), without executing anything."""
    lines = text.replace("\r\n", "\n").split("\n")
    cells: list[nbformat.NotebookNode] = []
    i = 0
    if lines and lines[0].strip() == "---":
        for j in range(1, len(lines)):
            if lines[j].strip() in ("---", "..."):
                cell = nbformat.v4.new_raw_cell("\n".join(lines[: j + 1]))
                cell.metadata["trustml"] = {"line": 1, "front_matter": True}
                cells.append(cell)
                i = j + 1
                break
    markdown: list[str] = []
    markdown_start = i + 1

    def flush_markdown() -> None:
        body = "\n".join(markdown).strip("\n")
        if body.strip():
            cell = nbformat.v4.new_markdown_cell(body)
            first = next(k for k, line in enumerate(markdown) if line.strip())
            meta: dict[str, Any] = {"line": markdown_start + first}
            exprs = INLINE_EXPR.findall(body)
            if exprs:
                meta["inline"] = exprs
                at = next(k for k, line in enumerate(markdown) if INLINE_EXPR.search(line))
                meta["inline_line"] = markdown_start + at
            cell.metadata["trustml"] = meta
            cells.append(cell)
        markdown.clear()

    while i < len(lines):
        start = CODE_START.match(lines[i])
        if not start:
            if not markdown:
                markdown_start = i + 1
            markdown.append(lines[i])
            i += 1
            continue
        flush_markdown()
        ticks = len(start.group(2))
        first = i + 1
        j = first
        while j < len(lines):
            end = CODE_END.match(lines[j])
            if end and len(end.group(1)) >= ticks:
                break
            j += 1
        else:
            raise QmdSyntaxError(f"{name}:{i + 1}: code cell is never closed")
        where = f"{name}:{i + 1}"
        options, body = parse_options(lines[first:j], where)
        cell = nbformat.v4.new_code_cell("\n".join(body).strip("\n"))
        cell.metadata["trustml"] = {"line": i + 1, "options": options}
        cells.append(cell)
        i = j + 1
        markdown_start = i + 1
    flush_markdown()
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["trustml"] = {"source": name}
    return nb


def read_qmd(path: str | Path) -> nbformat.NotebookNode:
    path = Path(path)
    return qmd_to_notebook(path.read_text(encoding="utf-8"), name=str(path))
