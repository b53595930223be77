"""The preface's answer map: every item of both homeworks exactly once, each row's link resolves to
a section of the book, and that section's title carries the item's label.

HW4's items are those of its question sheet; HW3's follow the numbering of the HW3 solution (1.1 to
1.11, then question 2's parts). Read from the sources (`index.qmd`, the chapters' headings), so it
needs no render.
"""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import ROOT

HW4 = ["1(a)", "1(b)", "1(c)", "2", "3(a)", "3(b)", "3(c)", "3(d)", "3(e)",
       "4(a)", "4(b)", "4(c)"]
HW3 = ([f"1.{i}" for i in range(1, 12)]
       + ["2.1(a)", "2.1(b)", "2.1(c)", "2.1(d)", "2.2(a)", "2.2(b)", "2.3(a)", "2.3(b)", "2.3(c)"])
ITEMS = [f"HW4 {i}" for i in HW4] + [f"HW3 {i}" for i in HW3]


def book_files() -> list[str]:
    """The book's files in order, with Quarto's `part:` entries flattened."""
    book = yaml.safe_load((ROOT / "_quarto.yml").read_text())["book"]
    out: list[str] = []
    for entry in book["chapters"] + book.get("appendices", []):
        if isinstance(entry, str):
            out.append(entry)
        else:
            part = entry.get("part")
            if isinstance(part, str) and part.endswith(".qmd"):
                out.append(part)
            out.extend(entry.get("chapters", []))
    return out


def headings() -> dict[str, str]:
    """Every section id of the book mapped to its heading's title."""
    found = {}
    pattern = re.compile(r"^#+\s+(.*?)\s*\{#(sec-[\w-]+)[^}]*\}\s*$")
    for rel in book_files():
        in_code = False
        for line in (ROOT / rel).read_text(encoding="utf-8").splitlines():
            if line.startswith("```"):
                in_code = not in_code
            elif not in_code and (m := pattern.match(line)):
                found[m.group(2)] = m.group(1)
    return found


def answer_map() -> list[tuple[str, str]]:
    """(item, section id) for each row of the preface's answer map."""
    text = (ROOT / "index.qmd").read_text(encoding="utf-8")
    rows = re.findall(r"^\|\s*(HW[34] [^|]*?)\s*\|\s*@(sec-[\w-]+)\s*\|", text, re.M)
    assert rows, "index.qmd has no answer map"
    return rows


def carries(title: str, label: str) -> bool:
    """Whether a section title names the item: its full label (`3(d)`, `1.10`, `Exercise 2`), or
    the question's number where one section answers all of its parts (`2.2` for 2.2(a))."""
    def has(lab: str) -> bool:
        return re.search(rf"(?<![\w.]){re.escape(lab)}(?![\w.(])", title) is not None
    if label == "2":
        return re.search(r"\bExercise 2\b", title) is not None
    if has(label):
        return True
    stem = re.sub(r"\([a-e]\)$", "", label)
    return stem != label and has(stem)


def test_the_map_lists_every_item_exactly_once():
    items = [item for item, _ in answer_map()]
    assert sorted(items) == sorted(ITEMS), (
        f"missing: {sorted(set(ITEMS) - set(items))}, unknown: {sorted(set(items) - set(ITEMS))}, "
        f"repeated: {sorted({i for i in items if items.count(i) > 1})}")


@pytest.mark.parametrize("item,section", answer_map())
def test_each_row_links_a_section_titled_with_its_item(item, section):
    titles = headings()
    assert section in titles, f"{item}: @{section} is no section of the book"
    label = item.split(" ", 1)[1]
    assert carries(titles[section], label), f"{item}: @{section} is titled {titles[section]!r}"


def test_the_label_check_is_strict():
    assert carries("1.10 The two-dimensional latent manifold", "1.10")
    assert not carries("1.10 The two-dimensional latent manifold", "1.1")
    assert not carries("1.11 The effect of β", "1.1")
    assert carries("2.2 The FGSM defence", "2.2(b)")
    assert not carries("2.1(a) FGSM and PGD", "2.1(b)")
    assert carries("3(d) PGD adversarial training", "3(d)")
    assert not carries("3(c) FGSM adversarial training", "3(d)")
    assert carries("Exercise 2: the proof", "2")
