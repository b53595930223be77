"""`python -m trustml.report execute|pdf [--profile smoke]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trustml.errors import TrustmlError
from trustml.report.build import execute_all, main_pdf
from trustml.report.project import load_project


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trustml.report", description=__doc__)
    parser.add_argument("command", choices=["execute", "pdf"],
                        help="execute: run every chapter; pdf: run them and build the PDF")
    parser.add_argument("chapters", nargs="*", help="(execute) only these .qmd files")
    parser.add_argument("--profile", default=None, help="Quarto profile, e.g. smoke")
    parser.add_argument("--root", default=".", help="project root (holds _quarto.yml)")
    parser.add_argument("--output", type=Path, default=None, help="(pdf) where to write the PDF")
    args = parser.parse_args(argv)
    try:
        project = load_project(args.root, args.profile)
        if args.command == "execute":
            chapters = [Path(c).resolve() for c in args.chapters] or None
            execute_all(project, chapters)
        else:
            pdf = main_pdf(project, args.output)
            print(pdf.resolve())
    except TrustmlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
