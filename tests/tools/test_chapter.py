"""`make chapter` (tools/chapter.sh) with a stand-in Quarto: its errors, the HTML-only render of
one chapter, and the chapter's _freeze entry put back when its text is unchanged."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FAKE_QUARTO = """#!/bin/sh
# a stand-in for `quarto render SRC --to html`: logs its arguments, rewrites the freeze entry
echo "$@" >> "$FAKE_LOG"
stem=$(basename "$2" .qmd)
echo '{"hash": "rewritten", "result": {}}' > "_freeze/chapters/$stem/execute-results/html.json"
"""


def _book(tmp_path: Path) -> tuple[Path, dict]:
    book = tmp_path / "book"
    (book / "tools").mkdir(parents=True)
    for name in ("chapter.sh", "quarto.sh"):
        shutil.copy2(ROOT / "tools" / name, book / "tools" / name)
    (book / "chapters").mkdir()
    text = "# A chapter\n\nOne sentence.\n"
    (book / "chapters" / "ch.qmd").write_text(text)
    entry = book / "_freeze" / "chapters" / "ch" / "execute-results"
    entry.mkdir(parents=True)
    (entry / "html.json").write_text(json.dumps(
        {"hash": hashlib.md5(text.encode()).hexdigest(), "result": {"markdown": "frozen"}}))
    quarto = tmp_path / "quarto"
    quarto.write_text(FAKE_QUARTO)
    quarto.chmod(0o755)
    env = {**os.environ, "QUARTO": str(quarto), "QUARTO_PYTHON": sys.executable,
           "FAKE_LOG": str(tmp_path / "log"), "PATH": "/usr/bin:/bin"}
    return book, env


def _run(book: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(book / "tools" / "chapter.sh"), *args], env=env,
                          capture_output=True, text=True, timeout=60)


def test_chapter_names_what_is_missing(tmp_path):
    book, env = _book(tmp_path)
    r = _run(book, env)
    assert r.returncode == 2 and "make chapter CH=" in r.stderr
    r = _run(book, env, "nope")
    assert r.returncode == 2 and "no chapters/nope.qmd" in r.stderr and "ch" in r.stderr


def test_chapter_renders_html_only_and_puts_back_an_unchanged_freeze(tmp_path):
    book, env = _book(tmp_path)
    html = book / "_freeze" / "chapters" / "ch" / "execute-results" / "html.json"
    before = html.read_bytes()
    r = _run(book, env, "ch")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "log").read_text().split() == ["render", "chapters/ch.qmd", "--to", "html"]
    assert html.read_bytes() == before  # the text is what the entry was made from
    (book / "chapters" / "ch.qmd").write_text("# A chapter\n\nAn edited sentence.\n")
    assert _run(book, env, "ch").returncode == 0
    assert json.loads(html.read_text())["hash"] == "rewritten"  # after an edit Quarto's stays
