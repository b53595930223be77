"""The hand-in bundle (`make zip`): the report's PDF and a zip of the source, named with the version.

    python tools/make_zip.py [--pdf _book/trustml.pdf] [--out dist]

The zip holds every file git tracks, plus new files git does not ignore, under one folder
`trustml-<version>/`: the package, the chapters, the scripts, `environment.yml`, `pyproject.toml`,
the committed full-budget results and `_freeze/`. Its `README.md` is the TA's one-screen guide
(`handin/README.md`: how to run each exercise's script); the project's README goes in as
`README-project.md`. Ignored files never go in: no `.venv`, no data, no smoke-budget cache, no
rendered book. Both files' sizes are printed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = ("pyproject.toml", "environment.yml", "README.md", "handin/README.md",
            "src/trustml/__init__.py", "_quarto.yml")
# where a file of the checkout goes in the zip, where that is not its own path
RENAMED = {"handin/README.md": "README.md", "README.md": "README-project.md"}


def version(root: Path = ROOT) -> str:
    """The project's version, from pyproject.toml (`version = "..."` in `[project]`)."""
    found = re.search(r'^version\s*=\s*"([^"]+)"', (root / "pyproject.toml").read_text(), re.M)
    if not found:
        raise SystemExit("make zip: pyproject.toml has no version")
    return found.group(1)


def source_files(root: Path = ROOT) -> list[str]:
    """Tracked files and untracked ones git does not ignore, that exist, sorted."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=root, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        raise SystemExit(f"make zip: {root} is not a git checkout; run it in a clone") from None
    files = sorted({f for f in out.decode().split("\0") if f and (root / f).is_file()})
    missing = [f for f in REQUIRED if f not in files]
    if missing:
        raise SystemExit(f"make zip: the checkout lacks {', '.join(missing)}")
    return files


def write_source_zip(out_dir: Path, root: Path = ROOT) -> Path:
    """`<out_dir>/trustml-<version>-source.zip`, written to a temporary name and renamed."""
    name = f"trustml-{version(root)}"
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{name}-source.zip"
    part = target.with_suffix(".zip.part")
    with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rel in source_files(root):
            zf.write(root / rel, f"{name}/{RENAMED.get(rel, rel)}")
    part.replace(target)
    return target


def copy_pdf(pdf: Path, out_dir: Path, root: Path = ROOT) -> Path:
    if not pdf.is_file() or pdf.read_bytes()[:5] != b"%PDF-":
        raise SystemExit(f"make zip: no PDF at {pdf}; run `make report` first")
    target = out_dir / f"trustml-{version(root)}.pdf"
    shutil.copyfile(pdf, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdf", type=Path, default=ROOT / "_book" / "trustml.pdf",
                        help="the rendered report (default: _book/trustml.pdf)")
    parser.add_argument("--no-pdf", action="store_true", help="only the source zip")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.no_pdf:
        print(sized(copy_pdf(args.pdf, args.out)))
    print(sized(write_source_zip(args.out)))
    return 0


def sized(path: Path) -> str:
    """`path (12.3 MB)`: a file with its size."""
    size = path.stat().st_size
    return f"{path} ({size / 1e6:.1f} MB)" if size >= 1e5 else f"{path} ({size / 1e3:.1f} kB)"


if __name__ == "__main__":
    sys.exit(main())
