"""Tables are shown as Markdown pipe tables (no raw HTML in the book)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustml.views.table import Table, as_table

UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def test_markdown_table_layout_and_alignment():
    md = as_table(pd.DataFrame({"model": ["VAE", "GAN"], "FD": [196.04, 222.5], "n": [10, 20]}),
                  digits=1)._repr_markdown_()
    lines = md.strip().split("\n")
    assert lines[0] == "| model | FD | n |"
    assert lines[1] == "| :--- | ---: | ---: |"
    assert lines[2] == "| VAE | 196.0 | 10 |"
    assert lines[3] == "| GAN | 222.5 | 20 |"


def test_a_wide_table_gives_each_column_the_width_of_its_longest_cell():
    """Pandoc sets a pipe table longer than 72 characters in widths proportional to the
    separator's dashes: a column of model names gets more than a column of numbers."""
    frame = pd.DataFrame({"model": ["PGD defence, two passes", "standard"],
                          "clean": [81.2, 90.0], "worst case 8/255": [33.2, 0.0],
                          "worst 4/255": [59.0, 0.0], "PGD-10 8/255": [36.7, 0.0],
                          "FGSM at 8/255": [50.1, 9.0], "members broken": [12, 3]})
    lines = as_table(frame, 1)._repr_markdown_().strip().split("\n")
    assert max(len(line) for line in lines) > 72
    dashes = [cell.strip() for cell in lines[1].strip("|").split("|")]
    assert dashes == [":" + "-" * 24, *("-" * n + ":" for n in (7, 7, 7, 9, 8, 10))]
    assert lines[2] == "| PGD defence, two passes | 81.2 | 33.2 | 59.0 | 36.7 | 50.1 | 12 |"


def test_a_column_of_capitals_gets_more_room_than_one_of_digits_as_long():
    """Widths count how wide characters set, not how many there are: 'APGD‑CE' beside a
    number ran into its neighbour when both had seven dashes."""
    frame = pd.DataFrame({"name": ["APGD-CE  APGD-T"] * 2, "value": ["1234567 1234567"] * 2,
                          "padding to make the table wide": ["x" * 40] * 2})
    lines = as_table(frame)._repr_markdown_().strip().split("\n")
    dashes = [cell.strip().strip(":") for cell in lines[1].strip("|").split("|")]
    assert len(dashes[0]) > len(dashes[1]) >= len("1234567 1234567")


def test_cells_are_escaped_and_special_values_readable():
    t = Table(pd.DataFrame({"a": ["x|y", None], "b": [True, False], "c": [np.nan, 0.25]}))
    assert t.rows() == [["x\\|y", "yes", "–"], ["–", "no", "0.25"]]  # a missing value shows a dash


def test_index_is_dropped_and_no_html_is_offered():
    t = as_table(pd.DataFrame({"a": [1]}, index=["row"]))
    assert "row" not in t._repr_markdown_()
    assert not hasattr(t, "_repr_html_")


@pytest.mark.parametrize("bad", [None, [1, 2], {"a": [1]}, np.zeros(3)])
def test_rejects_what_is_not_a_dataframe(bad):
    with pytest.raises(TypeError, match="DataFrame"):
        Table(bad)


@pytest.mark.parametrize("digits", [-1, 1.5, True, "2"])
def test_rejects_bad_digits(digits):
    with pytest.raises(ValueError, match="digits"):
        Table(pd.DataFrame({"a": [1.0]}), digits)


@given(st.lists(st.tuples(st.text(max_size=8), st.floats(allow_nan=True, allow_infinity=True),
                          st.integers(-10**6, 10**6)), max_size=6),
       st.none() | st.integers(0, 4))
def test_every_row_has_one_cell_per_column(rows, digits):
    frame = pd.DataFrame(rows, columns=["text", "x", "k"])
    lines = as_table(frame, digits)._repr_markdown_().strip().split("\n")
    assert len(lines) == len(rows) + 2
    for line in lines:
        assert len(UNESCAPED_PIPE.findall(line)) == 4


def test_digits_per_column():
    import pandas as pd

    from trustml.views.table import Table

    t = Table(pd.DataFrame({"a": [1.25, 2.0], "b": [0.123456, -0.5]}), {"a": 1, "b": 3})
    assert t.rows() == [["1.3", "0.123"], ["2.0", "−0.500"]]  # half away from zero; a minus sign
    with pytest.raises(ValueError, match="digits"):
        Table(pd.DataFrame({"a": [1.0]}), {"a": -1})


def test_tables_and_prose_round_a_share_the_same_way():
    import pandas as pd

    from trustml.views.format import fmt_pct, half_up
    from trustml.views.table import Table

    for k in range(0, 2001, 7):  # shares of 2,000 images in 32 and 64 bits
        for share in (k / 2000, float(np.float32(k / 2000))):
            cell = Table(pd.DataFrame({"a": [100 * share]}), 1).rows()[0][0]
            assert fmt_pct(share) == f"{cell} %"
    assert half_up(0.0635 * 100) == 6.4 and half_up(-0.04) == 0.0 and str(half_up(-0.04)) == "0.0"


def test_a_shown_difference_is_the_difference_of_the_shown_values():
    """91.1 % minus 81.2 % reads 9.9 points even when the unrounded values differ by 9.99."""
    from hypothesis import given
    from hypothesis import strategies as st

    from trustml.views.format import fmt_pct, fmt_pp_shown

    assert fmt_pp_shown(0.91114, 0.81150) == "9.9 percentage points"

    @given(st.floats(0, 1), st.floats(0, 1))
    def shown(a: float, b: float) -> None:
        pa, pb = (float(fmt_pct(v).removesuffix(" %")) for v in (a, b))
        assert fmt_pp_shown(a, b) == f"{pa - pb:.1f} percentage points".replace("-0.0", "0.0")

    shown()


def test_columns_of_formatted_numbers_are_right_aligned():
    import pandas as pd

    from trustml.views.table import Table

    frame = pd.DataFrame({"model": ["a", "b"], "rate": ["1,234", "56"], "share": ["8.4 %", "–"],
                          "interval": ["188.1–206.2", "3.8–7.8"], "note": ["ok", "5 of 7"]})
    align = Table(frame)._repr_markdown_().splitlines()[1].split("|")[1:-1]
    assert [a.strip()[0] == ":" for a in align] == [True, False, False, False, True]
