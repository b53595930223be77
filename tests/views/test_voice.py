"""A person's voice in the main part: no chapter body talks about the machinery (the budget, the
cache and its manifests, the machine, tests, commands), and no sentence lists numbers read off a
table (`X % and X %`). The appendix "Reproducing this report" and the README are where the
machinery lives.

Checked on two texts of each main-part chapter: its source (the prose outside code cells, and the
string literals of its cells, which computed sentences are made of), and its frozen output
(`_freeze/.../execute-results/*.json`, the markdown with every computed sentence filled in). The
frozen check is skipped for a chapter whose freeze is older than its source: it runs after the
book is re-rendered.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.views.test_answer_map import book_files

APPENDICES = {"chapters/data.qmd", "chapters/ex2-checks.qmd", "chapters/reproducing.qmd",
              "chapters/app-ex4-attacks.qmd", "chapters/app-ex3-defence.qmd",
              "chapters/app-ex1-convgan.qmd", "chapters/app-vae-theory.qmd", "chapters/app-cifar.qmd",
              "references.qmd"}

# words and phrases that belong to the machinery, not to the answer
INFRA = {
    "the cache": r"\bcach(e|ed|es|ing)\b",
    "manifests": r"\bmanifests?\b",
    "the compute budget": r"\b(full|smoke|compute) budget\b|\bthis build\b|\bbudget (is|was) used\b",
    "the machine": r"\bCPUs?\b|\bGPUs?\b|\bcores?\b|\btwo-core\b|\bthis machine\b|\bon this computer\b",
    "tests": r"\bunit tests?\b|\bpytest\b|\btests?/\w|\bthe tests (check|show|run)",
    "commands": r"python -m\b|\bmake (report|test|zip|check)\b|`trustml\b|\bquarto render\b",
    "the repository": r"\b(in|of|to) (the|this|our) repository\b|\bcommitted\b",
    "run times": r"\b(computed|took) in \d|\bcomputed in\b|\bThis part computed\b",
}

# a list of percentages read off a table: the same value twice, or four and more in a row
REPEATED = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?) % and [^;%]{0,30}?(?<![\d.])\1 %")
RUN = re.compile(r"\d+(?:\.\d+)? %(?:(?:,| and| or)[^.;:%\d]{0,25}\d+(?:\.\d+)? %){3,}")


def main_chapters() -> list[Path]:
    return [ROOT / f for f in book_files() if f not in APPENDICES]


def source_text(path: Path) -> str:
    """A chapter's prose outside code cells, and the string literals of its cells."""
    text = path.read_text(encoding="utf-8")
    parts, pos = [], 0
    for m in re.finditer(r"```\{python\}\n(.*?)```", text, re.S):
        parts.append(text[pos:m.start()])
        code = m.group(1)
        try:
            tree = ast.parse(code)
        except SyntaxError:
            tree = None
        if tree is not None:
            parts += [n.value for n in ast.walk(tree)
                      if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        pos = m.end()
    parts.append(text[pos:])
    prose = "\n".join(parts)
    return re.sub(r"`\{python\}[^`]*`", " ", prose)


def frozen_text(path: Path) -> str | None:
    """The frozen markdown of a chapter (every format frozen from its current source), or None
    where no format is."""
    rel = path.relative_to(ROOT).with_suffix("")
    digest = hashlib.md5(path.read_text(encoding="utf-8").replace("\r\n", "\n").encode()).hexdigest()
    texts = []
    for entry in sorted((ROOT / "_freeze" / rel / "execute-results").glob("*.json")):
        frozen = json.loads(entry.read_text(encoding="utf-8"))
        if frozen["hash"] == digest:  # a stale format is left for the next render
            texts.append(frozen["result"]["markdown"])
    if not texts:
        return None
    text = "\n".join(texts).replace("\\.", ".")  # Pandoc escapes a dot after digits
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)  # the provenance comments
    return re.sub(r"```\{?python.*?```", " ", text, flags=re.S)


def problems(text: str) -> list[str]:
    found = []
    for what, pattern in INFRA.items():
        for m in re.finditer(pattern, text, re.I if what != "the machine" else 0):
            found.append(f"{what}: ...{text[max(0, m.start() - 60): m.end() + 40]}...")
    for pattern in (REPEATED, RUN):
        for m in pattern.finditer(text):
            found.append(f"a list of numbers: {m.group(0)!r}")
    return found


@pytest.mark.parametrize("chapter", main_chapters(), ids=lambda p: p.name)
def test_chapter_sources_speak_of_the_answer_not_the_machinery(chapter):
    assert not problems(source_text(chapter)), "\n".join(problems(source_text(chapter)))


@pytest.mark.parametrize("chapter", main_chapters(), ids=lambda p: p.name)
def test_frozen_chapters_speak_of_the_answer_not_the_machinery(chapter):
    text = frozen_text(chapter)
    if text is None:
        pytest.skip(f"the freeze of {chapter.name} is older than its source: re-render the book")
    assert not problems(text), "\n".join(problems(text))


def test_the_scan_finds_what_it_should():
    bad = ("This build used the full budget. It is trained here if it is not cached yet, on this "
           "two-core CPU; python -m trustml bench attacks measures both. Random noise does hurt "
           "(56.9 % and 56.9 %); at 0.2 the worst case leaves 0.0 % and at 0.3 0.0 %. "
           "FGSM leaves 1.0 %, 2.0 %, 3.0 % and 4.0 % correct.")
    kinds = {p.split(":")[0] for p in problems(bad)}
    assert {"the compute budget", "the cache", "the machine", "commands",
            "a list of numbers"} <= kinds
    assert not problems("An L-infinity perturbation budget of 0.3 leaves 88.2 % of the digits "
                        "correct, against 0.9 % for the other model. Machine learning.")
