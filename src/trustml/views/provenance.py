"""Which cache entries a chapter was rendered from, recorded in its output.

Quarto's freeze hashes only a chapter's text, so a chapter rendered before one of its
experiments changed (a new version or config) keeps showing the old numbers. The last cell of
every chapter shows `results_used()`: an HTML comment (invisible in HTML, dropped from the PDF)
naming each experiment and config hash the chapter's kernel used. `tests/book/test_book.py` compares
the frozen comments with the current full-budget hashes.
"""

from __future__ import annotations

import re

from trustml.core.cache import used_results

STAMP = re.compile(r"<!-- trustml-results (.*?) -->")


class ResultsStamp:
    """Shown as Markdown: `<!-- trustml-results full/ex1-vae=a56b… … -->`."""

    def __init__(self, used: dict[tuple[str, str], str]) -> None:
        self.used = dict(sorted(used.items()))

    def _repr_markdown_(self) -> str:
        entries = " ".join(f"{budget}/{name}={digest}" for (budget, name), digest in self.used.items())
        return f"<!-- trustml-results {entries} -->\n"

    def __repr__(self) -> str:
        return f"ResultsStamp({len(self.used)} results)"


def results_used() -> ResultsStamp:
    """The results this kernel has used so far (show it in a chapter's last cell)."""
    return ResultsStamp(used_results())


def parse_stamps(markdown: str) -> dict[tuple[str, str], str]:
    """`{(budget, experiment): hash}` from every stamp in a rendered chapter's markdown."""
    found: dict[tuple[str, str], str] = {}
    for body in STAMP.findall(markdown):
        for item in body.split():
            key, _, digest = item.partition("=")
            budget, _, name = key.partition("/")
            found[(budget, name)] = digest
    return found
