"""The book, rendered with real Quarto.

- The whole book at the smoke budget (HTML and Typst PDF), once per test session, on a temporary
  copy (`tools/render-smoke.sh`) against an empty results cache, so every experiment's code path
  runs: no cell error, no unresolved cross-reference or citation, a PDF; and the repository's
  `_freeze/` and tracked files are byte-identical afterwards.
- The committed `_freeze/` is fresh (its hashes match the chapters) and comes from a full render.
- The full book renders from `_freeze/` on a copy of the repository without executing a chapter
  and leaves `git status` clean.

Needs Quarto: `tools/quarto.sh` finds or installs it (see CONTRIBUTING.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import make_zip  # noqa: E402

pytestmark = pytest.mark.book

BOOK = yaml.safe_load((ROOT / "_quarto.yml").read_text())["book"]


def _files(entries: list) -> list[str]:
    """The book's files in order, Quarto's `part:` entries flattened."""
    out: list[str] = []
    for entry in entries:
        if isinstance(entry, str):
            out.append(entry)
        else:
            if str(entry.get("part", "")).endswith(".qmd"):
                out.append(entry["part"])
            out.extend(_files(entry.get("chapters", [])))
    return out


CHAPTERS = [ROOT / c for c in _files(BOOK["chapters"] + BOOK.get("appendices", []))]
EXECUTED = [c for c in CHAPTERS if "```{python}" in c.read_text(encoding="utf-8")]


def quarto_hash(path: Path) -> str:
    """What Quarto's freeze compares: the MD5 of the file's text with CRLF turned into LF."""
    return hashlib.md5(path.read_text(encoding="utf-8").replace("\r\n", "\n").encode()).hexdigest()


def freeze_entry(chapter: Path, fmt: str) -> Path:
    rel = chapter.relative_to(ROOT).with_suffix("")
    return ROOT / "_freeze" / rel / "execute-results" / f"{fmt}.json"


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def git_status(repo: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=repo,
                          capture_output=True, text=True, check=True).stdout


def find_quarto() -> str:
    proc = subprocess.run([str(ROOT / "tools" / "quarto.sh")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def book_env(**extra: str) -> dict[str, str]:
    """The environment of a render: the venv's Python, this Quarto (also for copies of the repo)."""
    env = dict(os.environ)
    env.pop("QUARTO_PROFILE", None)
    env["QUARTO_PYTHON"] = str(ROOT / ".venv" / "bin" / "python")
    env["QUARTO"] = find_quarto()
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory) -> dict:
    """Renders the smoke book once; returns the output folder, the log and the repo's state."""
    tmp = tmp_path_factory.mktemp("smoke-book")
    freeze_before, status_before = tree_digest(ROOT / "_freeze"), git_status(ROOT)
    out = tmp / "book"
    proc = subprocess.run([str(ROOT / "tools" / "render-smoke.sh"), str(out)], cwd=ROOT,
                          env=book_env(TRUSTML_CACHE=str(tmp / "cache"), TRUSTML_BUDGET="smoke"),
                          capture_output=True, text=True)
    return {"proc": proc, "out": out, "freeze_before": freeze_before,
            "status_before": status_before}


def test_smoke_book_renders(smoke_book):
    proc = smoke_book["proc"]
    assert proc.returncode == 0, proc.stderr[-4000:]
    pdf = smoke_book["out"] / "trustml.pdf"
    assert proc.stdout.strip().endswith("trustml.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 50_000


def test_smoke_book_has_every_chapter_and_no_unresolved_reference(smoke_book):
    assert smoke_book["proc"].returncode == 0
    out = smoke_book["out"]
    for chapter in CHAPTERS:
        page = out / chapter.relative_to(ROOT).with_suffix(".html")
        html = page.read_text(encoding="utf-8")
        assert "?@" not in html, f"unresolved cross-reference in {page.name}"
        assert 'trustml.pdf"' in html, f"{page.name} does not link the PDF"
        assert "cdn.jsdelivr" not in html and "googleapis" not in html, f"{page.name} loads from a CDN"
    log = (out / "render.log").read_text(encoding="utf-8")
    assert "Unable to resolve crossref" not in log
    assert "not found" not in log.lower().replace("typst-gather binary not found", "")


def test_smoke_book_cites_and_lists_the_references(smoke_book):
    assert smoke_book["proc"].returncode == 0
    refs = " ".join((smoke_book["out"] / "references.html").read_text(encoding="utf-8").split())
    assert "Towards Deep Learning Models Resistant to Adversarial Attacks" in refs
    ex3 = (smoke_book["out"] / "chapters" / "ex3-adversarial.html").read_text(encoding="utf-8")
    assert 'data-cites="madry2018towards"' in ex3


def test_smoke_render_leaves_freeze_and_tracked_files_untouched(smoke_book):
    assert tree_digest(ROOT / "_freeze") == smoke_book["freeze_before"]
    assert git_status(ROOT) == smoke_book["status_before"]


@pytest.mark.parametrize("chapter", EXECUTED, ids=[c.stem for c in EXECUTED])
@pytest.mark.parametrize("fmt", ["html", "typ"])
def test_freeze_matches_the_chapter(chapter, fmt):
    entry = freeze_entry(chapter, fmt)
    assert entry.is_file(), f"{entry.relative_to(ROOT)} missing: run `make report` and commit _freeze/"
    frozen = json.loads(entry.read_text(encoding="utf-8"))["hash"]
    assert frozen == quarto_hash(chapter), (
        f"{chapter.relative_to(ROOT)} changed since its _freeze entry was written: "
        "run `make report` (full budget) and commit _freeze/")


@pytest.mark.parametrize("chapter", EXECUTED, ids=[c.stem for c in EXECUTED])
def test_freeze_was_rendered_from_the_current_full_budget_results(chapter):
    """Freeze hashes only the text: a chapter must be re-rendered when an experiment it shows
    gets a new version or config. Its frozen output names the cache entries it used."""
    from trustml.core.budget import get_budget
    from trustml.core.cache import entry_dir, get_experiment
    from trustml.views.provenance import parse_stamps

    markdown = json.loads(freeze_entry(chapter, "html").read_text())["result"]["markdown"]
    used = parse_stamps(markdown)
    assert used, f"{chapter.name} records no results (its last cell shows results_used())"
    full = get_budget("full")
    for (budget, name), digest in used.items():
        assert budget == "full", f"{chapter.name} was frozen from the {budget} budget"
        exp = get_experiment(name)
        current = entry_dir(exp, exp.config_for(full), full).name
        assert digest == current, (
            f"{chapter.name} shows {name} {digest}, but the current result is {current}: delete "
            f"_freeze/{chapter.relative_to(ROOT).with_suffix('').as_posix()} and run `make report`")


def test_freeze_comes_from_the_full_budget():
    for fmt in ("html", "typ"):
        entry = freeze_entry(ROOT / "chapters" / "reproducing.qmd", fmt)  # appendix H says it
        markdown = json.loads(entry.read_text())["result"]["markdown"]
        assert "This build used the **full** budget" in markdown, f"_freeze ({fmt}) is not a full render"


@pytest.fixture
def repo_copy(tmp_path) -> Path:
    """The repository's tracked (and unignored) files, without results/, as a fresh git repository."""
    copy = tmp_path / "clone"
    for rel in make_zip.source_files(ROOT):  # what a clone holds (the hand-in bundle's list)
        if not rel.startswith("results/"):
            (copy / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, copy / rel)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"]):
        subprocess.run(cmd, cwd=copy, check=True)
    return copy


def render_copy(copy: Path) -> subprocess.CompletedProcess:
    # A chapter that executes runs at the smoke budget against an empty cache (and is seen).
    return subprocess.run([str(copy / "tools" / "render.sh")], cwd=copy,
                          env=book_env(TRUSTML_CACHE=str(copy.parent / "cache"), TRUSTML_BUDGET="smoke"),
                          capture_output=True, text=True)


def test_full_render_from_freeze_executes_nothing_and_leaves_the_tree_clean(repo_copy):
    proc = render_copy(repo_copy)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "Executing" not in proc.stdout + proc.stderr
    assert proc.stdout.strip() == str(repo_copy / "_book" / "trustml.pdf")
    assert (repo_copy / "_book" / "trustml.pdf").stat().st_size > 100_000
    assert git_status(repo_copy) == ""
    check_typst_math((repo_copy / "_book" / "trustml.typ").read_text(encoding="utf-8"))


# What pandoc 3.9's Typst writer makes of TeX that Typst then sets wrong (assets/typst-math.lua
# rewrites it): a norm's subscript set as a limit under `parallel` or `∥` (the relation "parallel
# to"), escaped bars `\|` for an absolute value, an operator name as spaced text `"sign" \(`.
BAD_TYPST_MATH = {
    "a norm's subscript set as a limit": re.compile(r"(parallel|∥)\s*[_^]"),
    "escaped bars (loose absolute value)": re.compile(r"\\\|"),
    "an operator name as text": re.compile(r'"[A-Za-z][A-Za-z ]*" \\\('),
    "a thousands comma with a space": re.compile(r"\d \\, \d{3}\b"),
    # a norm whose bars are bare fences (spaced off what precedes them); the filter classes them
    "a norm's bars as bare fences": re.compile(r'(?<!", )‖[^‖$\n]{1,60}‖_'),
}


def math_spans(typst: str) -> list[str]:
    """The `$...$` math of a Typst document (escaped dollars skipped)."""
    return re.findall(r"(?<!\\)\$(.+?)(?<!\\)\$", typst, flags=re.S)


def check_typst_math(typst: str) -> None:
    spans = math_spans(typst)
    assert len(spans) > 100, "the Typst source holds almost no math"
    for what, pattern in BAD_TYPST_MATH.items():
        hits = [s[:80] for s in spans if pattern.search(s)]
        assert not hits, f"{what} in the PDF's math: {hits[:3]}"


def test_the_typst_table_filter_keeps_a_wide_tables_widths_and_sizes_a_narrow_one(tmp_path):
    """A pipe table wider than 72 characters keeps the widths of its separator's dashes (Typst's
    own sizing of a too-wide table gave every wide column the same share); a narrow one is left
    to Typst (`columns: N`, sized to the content)."""
    wide = ("| model | clean | worst 8/255 |\n| :------------------------------------ | -----: | "
            "----------------------------------: |\n| PGD defence, two passes, trained at 11/255 | "
            "74.1 | 36.0 |\n")
    narrow = "| a | b |\n| :--- | ---: |\n| x | 1 |\n"
    quarto = find_quarto()

    def typst(text: str) -> str:
        source = tmp_path / "t.md"
        source.write_text(text, encoding="utf-8")
        proc = subprocess.run([quarto, "pandoc", str(source), "-t", "typst", "--lua-filter",
                               str(ROOT / "assets" / "typst-tables.lua")],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    shares = [float(v) for v in re.findall(r"([\d.]+)%", re.search(r"columns: \(([^)]*)\)",
                                                                   typst(wide)).group(1))]
    assert len(shares) == 3 and abs(sum(shares) - 100) < 1 and shares[0] > shares[1]
    assert re.search(r"columns: 2,", typst(narrow))


@pytest.mark.parametrize("tex, bad", [
    (r"$\|r+Zw\|_2$", "a norm's subscript set as a limit"),
    (r"$\left\|\sum_j w_j\right\|_2$", "a norm's subscript set as a limit"),
    (r"$\lambda|\operatorname{sign}(w_j)|$", "escaped bars (loose absolute value)"),
    (r"$\operatorname{sign}(w_j)$", "an operator name as text"),
    (r"$784\times10+10=7{,}850$", "a thousands comma with a space"),
    (r"$u=r/\|r\|_2+\lambda\|w\|_1$", "a norm's subscript set as a limit")])
def test_the_typst_math_filter_mends_what_pandoc_sets_wrong(tmp_path, tex, bad):
    """Without the filter pandoc writes the defect (so the check can fail); with it, it does not."""
    source = tmp_path / "m.md"
    source.write_text(tex + "\n", encoding="utf-8")
    quarto = find_quarto()

    def typst(*extra: str) -> str:
        proc = subprocess.run([quarto, "pandoc", str(source), "-t", "typst", *extra],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert BAD_TYPST_MATH[bad].search(typst())
    fixed = typst("--lua-filter", str(ROOT / "assets" / "typst-math.lua"))
    assert not any(p.search(fixed) for p in BAD_TYPST_MATH.values()), fixed


def test_render_to_pdf_stops_at_once_and_names_the_typst_command(repo_copy):
    """`quarto render --to pdf` (LaTeX) stops before any chapter runs and leaves nothing behind."""
    import time

    start = time.monotonic()
    proc = subprocess.run([find_quarto(), "render", "--to", "pdf"], cwd=repo_copy,
                          env=book_env(TRUSTML_CACHE=str(repo_copy.parent / "cache")),
                          capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - start
    assert proc.returncode != 0
    assert "quarto render --to typst" in proc.stderr
    assert "Executing" not in proc.stdout + proc.stderr
    assert elapsed < 30, f"took {elapsed:.0f} s"
    assert git_status(repo_copy) == ""


def test_a_failed_render_leaves_no_stray_file(repo_copy):
    chapter = repo_copy / "chapters" / "data.qmd"
    chapter.write_text(chapter.read_text() + '\n```{python}\nraise RuntimeError("boom")\n```\n')
    proc = render_copy(repo_copy)
    assert proc.returncode != 0
    assert "quarto render failed" in proc.stderr
    assert git_status(repo_copy) == " M chapters/data.qmd\n"
    ignored = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=repo_copy,
                             capture_output=True, text=True, check=True).stdout.split("\n")
    # Quarto's own folders may stay; its intermediates (e.g. chapters/data_files/) may not.
    assert sorted(line for line in ignored if line.startswith("!!")) in (
        ["!! .quarto/"], ["!! .quarto/", "!! _book/"])
