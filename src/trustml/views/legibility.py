"""Figures whose text stays legible in print and on a phone, and PNGs that say how small it is.

A figure `w` inches wide is shown at most `PRINT_WIDTH` inches wide in the PDF (wider ones are
scaled down) and `PHONE_WIDTH` CSS pixels wide on a 390-pixel phone. A font of `s` points is
then `s * min(1, PRINT_WIDTH / w)` points on paper and `s * PHONE_WIDTH / (72 * w)` CSS pixels
on the phone. `legible(fig)` narrows a figure wider than the page to the page, then raises every
text of it to the size that keeps both above `PRINT_MIN_PT` and `PHONE_MIN_PX`. The chapters show
figures through `install()`, which runs `legible` on each figure before IPython draws it and
writes the smallest font size into the PNG (a `tEXt` chunk, `MIN_FONT_KEY`; "none" for a figure
without text), so the rendered
book can be checked figure by figure (`tools/check_html.py`, `tests/test_typesetting.py`).

Examples::

    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(8, 3)); ax = fig.add_subplot(); _ = ax.set_title("t", fontsize=6)
    >>> round(legible(fig), 1), bool(fig.get_figwidth() <= PRINT_WIDTH)
    (11.4, True)
"""

from __future__ import annotations

import base64
import struct
import zlib

from matplotlib.figure import Figure
from matplotlib.text import Text

PRINT_WIDTH = 5.77  # inches: A4 less the 1.25 in margins of the Typst format (_quarto.yml)
PRINT_MIN_PT = 7.0  # smallest text on paper, points
PHONE_WIDTH = 339.0  # CSS pixels a figure gets on a 390-pixel-wide phone (Quarto's padding)
PHONE_MIN_PX = 9.0  # smallest text on that phone, CSS pixels
MIN_FONT_KEY = "trustml:min-font-pt"
TIGHT_PAD = 0.1  # inches matplotlib's tight bounding box adds on each side (savefig.pad_inches)


def min_font_pt(width_in: float) -> float:
    """The smallest font size (points) that stays legible in a figure `width_in` inches wide."""
    if not width_in > 0:
        raise ValueError(f"a figure's width must be positive, got {width_in!r} inches")
    on_paper = PRINT_MIN_PT / min(1.0, PRINT_WIDTH / width_in)
    on_phone = PHONE_MIN_PX * 72.0 * width_in / PHONE_WIDTH
    return max(on_paper, on_phone)


def _texts(fig: Figure) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def smallest_font_pt(fig: Figure) -> float | None:
    """The size (points) of the smallest visible, non-empty text of `fig`; None without text."""
    sizes = [t.get_fontsize() for t in _texts(fig)]
    return min(sizes) if sizes else None


def legible(fig: Figure) -> float:
    """Narrows `fig` to the page width if wider, raises its small texts to `min_font_pt` of its
    width; returns the smallest font size it then has (that floor when it has no text). A legend
    or label outside the axes can still make the drawn image wider than the figure, and its text
    smaller as shown: the checks measure the drawn image."""
    width, height = fig.get_size_inches()
    if width > PRINT_WIDTH:
        fig.set_size_inches(PRINT_WIDTH, height * PRINT_WIDTH / width)
    floor = min_font_pt(fig.get_figwidth() + 2 * TIGHT_PAD)
    for text in _texts(fig):
        if text.get_fontsize() < floor:
            text.set_fontsize(floor)
    for ax in fig.axes:  # tick labels are made anew when drawn: raise the axes' own setting too
        for axis, name in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            for which in ("major", "minor"):
                size = axis._get_tick(major=which == "major").label1.get_fontsize()
                if size < floor:
                    ax.tick_params(axis=name, which=which, labelsize=floor)
    smallest = smallest_font_pt(fig)
    return floor if smallest is None else smallest


def png_with_text(png: bytes, key: str, value: str) -> bytes:
    """`png` with a `tEXt` chunk `key: value` inserted after its header chunk."""
    signature = b"\x89PNG\r\n\x1a\n"
    if not png.startswith(signature):
        raise ValueError("not a PNG image (its signature is missing)")
    ihdr_end = len(signature) + 8 + struct.unpack(">I", png[8:12])[0] + 4
    data = key.encode("latin-1") + b"\0" + value.encode("latin-1")
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + data) & 0xFFFFFFFF)
    return png[:ihdr_end] + chunk + png[ihdr_end:]


def png_width(png: bytes) -> int:
    """The width in pixels of a PNG image (from its header chunk)."""
    return struct.unpack(">I", png[16:20])[0]


def _chunks(png: bytes):
    """(type, data) of each chunk of a PNG, up to its end chunk."""
    i = 8
    while i + 8 <= len(png):
        length, kind = struct.unpack(">I", png[i:i + 4])[0], png[i + 4:i + 8]
        yield kind, png[i + 8:i + 8 + length]
        if kind == b"IEND":
            return
        i += 12 + length


def png_text(png: bytes) -> dict[str, str]:
    """The `tEXt` chunks of a PNG as a dict."""
    out = {}
    for kind, data in _chunks(png):
        if kind == b"tEXt":
            key, _, value = data.partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
    return out


def png_dpi(png: bytes) -> float | None:
    """The resolution a PNG records (its `pHYs` chunk, in pixels per metre), or None."""
    for kind, data in _chunks(png):
        if kind == b"pHYs" and data[8:9] == b"\x01":
            return struct.unpack(">I", data[:4])[0] * 0.0254
    return None


def install() -> None:
    """In an IPython kernel (a chapter being rendered), make every PNG figure legible first and
    record its smallest font; elsewhere, nothing."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["image/png"]
    draw = formatter.lookup_by_type(Figure) if Figure in formatter.type_printers else None
    if draw is None or getattr(draw, "_trustml_legible", False):
        return

    def legible_png(fig: Figure):
        has_text = smallest_font_pt(fig) is not None
        smallest = legible(fig)
        out = draw(fig)
        raw = base64.b64decode(out) if isinstance(out, str) else out
        if not isinstance(raw, bytes | bytearray):
            return out
        recorded = f"{smallest:.2f}" if has_text else "none"  # none: images only (sample grids)
        tagged = png_with_text(bytes(raw), MIN_FONT_KEY, recorded)
        return base64.b64encode(tagged).decode("ascii") if isinstance(out, str) else tagged

    legible_png._trustml_legible = True  # type: ignore[attr-defined]
    formatter.for_type(Figure, legible_png)
