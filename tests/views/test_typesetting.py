"""Typesetting: legible figures, Markdown-free computed text, the `--to pdf` stop.

Fast tests of `trustml.views.legibility` and `tools/pre_render.py`, and scans of the committed
`_freeze/` (what the book shows): every frozen figure records its smallest font, which must be at
least 7 pt in the PDF and 9 CSS px on a 390-pixel phone; no inline output carries escaped
Markdown. The Typst source and the real `quarto render --to pdf` are in tests/test_book.py.
"""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.figure import Figure

from tests.conftest import ROOT
from trustml.views import legibility
from trustml.views.legibility import (
    MIN_FONT_KEY,
    PHONE_MIN_PX,
    PHONE_WIDTH,
    PRINT_MIN_PT,
    PRINT_WIDTH,
    legible,
    min_font_pt,
    png_dpi,
    png_text,
    png_width,
    png_with_text,
)

sys.path.insert(0, str(ROOT / "tools"))
import pre_render  # noqa: E402

FREEZE = ROOT / "_freeze"


def on_paper(font_pt: float, width_in: float) -> float:
    return font_pt * min(1.0, PRINT_WIDTH / width_in)


def on_phone(font_pt: float, width_in: float) -> float:
    return font_pt * PHONE_WIDTH / (72.0 * width_in)


@given(st.floats(min_value=0.5, max_value=20.0))
def test_the_minimum_font_is_legible_on_paper_and_on_a_phone(width):
    font = min_font_pt(width)
    assert on_paper(font, width) >= PRINT_MIN_PT - 1e-9
    assert on_phone(font, width) >= PHONE_MIN_PX - 1e-9


@pytest.mark.parametrize("width", [0.0, -1.0, float("nan")])
def test_a_figure_without_a_positive_width_is_refused(width):
    with pytest.raises(ValueError, match="positive"):
        min_font_pt(width)


def test_legible_narrows_a_wide_figure_and_raises_only_small_texts():
    fig = Figure(figsize=(9, 3))
    ax = fig.add_subplot()
    ax.set_title("small", fontsize=5)
    big = ax.set_xlabel("big", fontsize=30)
    smallest = legible(fig)
    assert fig.get_figwidth() == pytest.approx(PRINT_WIDTH)
    assert smallest == pytest.approx(min_font_pt(PRINT_WIDTH + 2 * legibility.TIGHT_PAD))
    assert big.get_fontsize() == 30


def test_png_text_chunks_round_trip_and_bad_images_are_refused():
    import io

    fig = Figure(figsize=(1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    tagged = png_with_text(buf.getvalue(), MIN_FONT_KEY, "10.50")
    assert png_text(tagged)[MIN_FONT_KEY] == "10.50"
    assert png_width(tagged) == 50 and png_dpi(tagged) == pytest.approx(50, abs=0.1)
    with pytest.raises(ValueError, match="not a PNG"):
        png_with_text(b"GIF89a....", MIN_FONT_KEY, "1")


def test_outside_a_kernel_install_does_nothing():
    legibility.install()  # no IPython shell here: returns without error


def frozen_figures(fmt: str) -> list:
    return sorted(FREEZE.glob(f"**/figure-{fmt}/*.png"))



@pytest.mark.parametrize("fmt", ["html", "typst"])
def test_every_frozen_figure_records_a_legible_smallest_font(fmt):
    figures = frozen_figures(fmt)
    assert figures, f"no frozen {fmt} figures"
    for path in figures:
        png = path.read_bytes()
        recorded = png_text(png).get(MIN_FONT_KEY)
        assert recorded, f"{path.relative_to(ROOT)} was not drawn through trustml.views.legibility"
        if recorded == "none":  # a figure of images only
            continue
        dpi = png_dpi(png)
        assert dpi, f"{path.relative_to(ROOT)} records no resolution (pHYs chunk)"
        width_in = png_width(png) / dpi
        font = float(recorded)
        assert on_paper(font, width_in) >= PRINT_MIN_PT - 0.05, path.name
        assert on_phone(font, width_in) >= PHONE_MIN_PX - 0.05, path.name


@pytest.mark.parametrize("fmt", ["html", "typ"])
def test_no_inline_output_carries_escaped_markdown_or_a_citation(fmt):
    """Quarto escapes an inline expression's output: Markdown or a citation in it would print
    literally ("\\*catastrophic overfitting\\*", "\\[@wong2020fast\\]")."""
    for entry in sorted(FREEZE.glob(f"**/execute-results/{fmt}.json")):
        markdown = json.loads(entry.read_text(encoding="utf-8"))["result"]["markdown"]
        for bad in ("\\*", "\\[@", "\\@"):
            i = markdown.find(bad)
            assert i < 0, f"{entry.relative_to(ROOT)}: {markdown[max(0, i - 60):i + 60]!r}"


@pytest.mark.parametrize("args, formats", [
    (["quarto.ts", "render", "--to", "pdf"], ["pdf"]),
    (["render", "-t", "typst,pdf"], ["typst", "pdf"]),
    (["render", "--to=latex"], ["latex"]),
    (["render"], []),
    (["render", "--to"], []),
])
def test_pre_render_reads_the_requested_formats(args, formats):
    assert pre_render.requested_formats(args) == formats


@pytest.mark.parametrize("args, code", [
    (["render", "--to", "pdf"], 1), (["render", "--to", "pdf+foo"], 1),
    (["render", "--to", "typst"], 0), (["render"], 0), (["preview"], 0)])
def test_pre_render_stops_only_a_latex_render(monkeypatch, capsys, args, code):
    monkeypatch.setattr(pre_render, "parent_arguments", lambda: args)
    assert pre_render.main() == code
    err = capsys.readouterr().err
    assert (err.count("\n") == 1 and "--to typst" in err) if code else err == ""
