"""`make zip`: the source bundle holds what a grader needs and runs an exercise's script on its own."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import make_zip  # noqa: E402


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return make_zip.write_source_zip(tmp_path_factory.mktemp("dist"))


def test_bundle_is_named_with_the_version_and_holds_the_source(bundle):
    version = make_zip.version()
    assert bundle.name == f"trustml-{version}-source.zip"
    names = set(zipfile.ZipFile(bundle).namelist())
    top = f"trustml-{version}/"
    for needed in ("README.md", "environment.yml", "pyproject.toml", "_quarto.yml", "index.qmd",
                   "src/trustml/__init__.py", "src/trustml/cli.py", "chapters/ex3-adversarial.qmd",
                   "scripts/ex2_robust_regression.py", "scripts/ex4_membership.py"):
        assert top + needed in names, needed
    assert all(n.startswith(top) for n in names)
    assert any(n.startswith(top + "results/full/") for n in names)


def test_the_zip_opens_on_the_TAs_readme(bundle):
    """The top README is the TA's one-screen guide, naming every exercise's script; the project's
    README is kept beside it."""
    zf = zipfile.ZipFile(bundle)
    top = f"trustml-{make_zip.version()}/"
    readme = zf.read(top + "README.md").decode()
    assert readme == (ROOT / "handin" / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 40
    for script in (ROOT / "scripts").glob("*.py"):
        assert f"scripts/{script.name}" in readme, script.name
    assert zf.read(top + "README-project.md") == (ROOT / "README.md").read_bytes()
    assert top + "handin/README.md" not in zf.namelist()


def test_sizes_are_stated(tmp_path):
    small, big = tmp_path / "a", tmp_path / "b"
    small.write_bytes(b"x" * 2000)
    big.write_bytes(b"x" * 3_000_000)
    assert make_zip.sized(small).endswith("(2.0 kB)") and make_zip.sized(big).endswith("(3.0 MB)")


def test_bundle_leaves_out_environments_data_and_scratch(bundle):
    for name in zipfile.ZipFile(bundle).namelist():
        rel = name.split("/", 1)[1]
        assert not {".venv", "__pycache__", ".git"} & set(rel.split("/"))
        assert not rel.startswith(("data/", "dist/", "_book/", "_book-smoke/", "results/smoke/"))
        assert not name.endswith((".pyc", ".quarto_ipynb"))


def test_pdf_is_copied_under_the_version_and_a_missing_one_is_one_clear_error(tmp_path):
    pdf = tmp_path / "book.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%%EOF\n")
    copied = make_zip.copy_pdf(pdf, tmp_path)
    assert copied.name == f"trustml-{make_zip.version()}.pdf" and copied.read_bytes() == pdf.read_bytes()
    with pytest.raises(SystemExit, match="run `make report` first"):
        make_zip.copy_pdf(tmp_path / "missing.pdf", tmp_path)
    (tmp_path / "fake.pdf").write_text("not a pdf")
    with pytest.raises(SystemExit, match="no PDF"):
        make_zip.copy_pdf(tmp_path / "fake.pdf", tmp_path)


def test_unzipped_bundle_runs_an_exercise_script_at_the_smoke_budget(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(tmp_path)
    src = tmp_path / f"trustml-{make_zip.version()}"
    env = dict(os.environ, PYTHONPATH=str(src / "src"), TRUSTML_CACHE=str(tmp_path / "cache"),
               TRUSTML_PROGRESS="0")
    where = subprocess.run([sys.executable, "-c", "import trustml; print(trustml.__file__)"],
                           cwd=src, env=env, capture_output=True, text=True, check=True).stdout
    assert where.strip().startswith(str(src)), "the bundle's own package must be the one imported"
    proc = subprocess.run([sys.executable, "scripts/ex2_robust_regression.py", "--budget", "smoke"],
                          cwd=src, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "computed in" in proc.stdout + proc.stderr
    assert list((tmp_path / "cache" / "smoke").iterdir())
