"""Tables that a notebook shows as Markdown.

A chapter cell that ends in a `Table` displays a pipe table (`text/markdown`), which Quarto turns
into a real table in both HTML and Typst. Displaying a pandas `DataFrame` or `Styler` instead
would emit raw HTML, and any HTML output makes Quarto load RequireJS and jQuery from a CDN on
that page (its support for JavaScript widgets), which breaks the book offline.
"""

from __future__ import annotations

import math
import numbers
import re

import numpy as np
import pandas as pd

from trustml.views.format import half_up


def _cell(value: object, digits: int | None) -> str:
    if isinstance(value, (bool, np.bool_)):
        text = "yes" if value else "no"
    elif isinstance(value, numbers.Integral):
        text = f"{int(value):,}"  # 10,000, as in the prose
    elif isinstance(value, numbers.Real):
        x = float(value)
        if np.isnan(x):
            text = "–"
        elif digits is None:
            text = f"{x:g}"
        else:
            text = f"{half_up(x, digits):.{digits}f}"
    elif value is None:
        text = ""
    else:
        text = str(value)
    if text.startswith("-") and text[1:2].isdigit():
        text = "−" + text[1:]  # a minus sign, not a hyphen
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


PANDOC_COLUMNS = 72  # a pipe table with a longer line takes its column widths from the dashes

# How wide a character sets in the book's proportional font, in widths of a lowercase letter
# (roughly: capitals and a few symbols are wider, punctuation and spaces narrower): a column
# of "APGD‑CE" needs more room than one of "0.0 %" with the same number of characters.
_WIDE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZmw%≤≥×—")
_NARROW = set(" .,;:()[]|!'’‑-ilfjt")
_INSET = 2  # a cell's inset on both sides, in the same units


def _set_width(text: str) -> int:
    """The width `text` sets in, in lowercase letters (see _WIDE), rounded up."""
    return math.ceil(sum(1.35 if c in _WIDE else 0.6 if c in _NARROW else 1.0 for c in text))


def _line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


# a number as a view may pre-format it: '1,234', '−0.5', '36.0 %', '4.9×', '188.1–206.2'
_NUMBER = re.compile(r"[−-]?[\d,]*\.?\d+( ?%|×)?(–[−-]?[\d,]*\.?\d+( ?%)?)?")


def _is_numeric(column: pd.Series) -> bool:
    """Numbers, or strings that all read as numbers (a dash for a missing cell allowed): such a
    column is right-aligned, whether a view formatted it or the table did."""
    if pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        return True
    cells = [str(v) for v in column if v is not None and str(v) not in ("–", "")]
    return bool(cells) and all(_NUMBER.fullmatch(c) for c in cells)


class Table:
    """A `DataFrame` shown as a Markdown pipe table, without its index.

    `digits` fixes the decimals of every float cell (default: shortest `%g` form); numeric
    columns are right-aligned, the others left-aligned.
    """

    def __init__(self, frame: pd.DataFrame, digits: int | None | dict[str, int] = None) -> None:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"Table needs a pandas DataFrame, got {type(frame).__name__}")
        values = digits.values() if isinstance(digits, dict) else [digits]
        if any(d is not None and (isinstance(d, bool) or not isinstance(d, int) or d < 0)
               for d in values):
            raise ValueError("digits must be None, an integer >= 0 or a {column: integer} "
                             f"mapping, got {digits!r}")
        self.frame = frame.reset_index(drop=True)
        self.digits = digits

    def rows(self) -> list[list[str]]:
        """The body's cells as the strings the table shows."""
        per_column = [self.digits.get(c) if isinstance(self.digits, dict) else self.digits
                      for c in self.frame.columns]
        return [[_cell(v, d) for v, d in zip(row, per_column, strict=True)]
                for row in self.frame.itertuples(index=False)]

    def _repr_markdown_(self) -> str:
        header = [_cell(str(c), None) for c in self.frame.columns]
        body = self.rows()
        numeric = [_is_numeric(self.frame[c]) for c in self.frame.columns]
        dashes = [3] * len(header)
        if max((len(_line(cells)) for cells in [header, *body]), default=0) > PANDOC_COLUMNS:
            # a wide table wraps its cells in widths set by the separator's dashes: give each
            # column the set width of its longest cell (or of its header's longest word) and
            # the cell's inset, so names do not wrap in a column as narrow as a number's
            dashes = [_INSET + max(3, *(_set_width(w) for w in h.split()),
                                   *(_set_width(row[i]) for row in body))
                      for i, h in enumerate(header)]
        align = [("-" * d + ":") if num else (":" + "-" * d)
                 for d, num in zip(dashes, numeric, strict=True)]
        return "\n".join(_line(cells) for cells in [header, align, *body]) + "\n"

    def text(self) -> str:
        """The table as plain text, for a terminal (the CLI prints views with this)."""
        return self.frame.to_string(index=False)

    def __repr__(self) -> str:
        return self.text()


def as_table(frame: pd.DataFrame, digits: int | None | dict[str, int] = None) -> Table:
    """`Table(frame, digits)`: what a view returns for a chapter to show."""
    return Table(frame, digits)
