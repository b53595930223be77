"""Quarto's pre-render step: stops `quarto render --to pdf` in a second, before any chapter runs.

The book's PDF is Typst (`format: typst` in _quarto.yml). `--to pdf` asks Quarto for its LaTeX
PDF instead, which would execute every chapter again (`_freeze` holds HTML and Typst results),
need the datasets, and then stop on a missing TeX installation, leaving LaTeX intermediates in
the tree. Quarto passes no output format to a pre-render script, so this one reads the `--to`
of the Quarto process that started it. Standard library only (it runs under any Python).
"""

from __future__ import annotations

import os
import subprocess
import sys

LATEX_FORMATS = {"pdf", "latex", "beamer"}
MESSAGE = ("this book's PDF is Typst, not LaTeX: run `quarto render --to typst` "
           "(or `make report` for HTML and PDF); `--to pdf` is not supported")


def parent_arguments() -> list[str]:
    """The command line of the process that ran this script (Quarto), or [] when unknown."""
    ppid = os.getppid()
    try:
        with open(f"/proc/{ppid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        pass
    try:  # macOS and other systems without /proc
        out = subprocess.run(["ps", "-o", "args=", "-p", str(ppid)], capture_output=True,
                             text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return out.split()


def requested_formats(args: list[str]) -> list[str]:
    """The values of `--to X`, `--to=X`, `-t X` (comma lists split) in `args`."""
    formats: list[str] = []
    for i, arg in enumerate(args):
        value = None
        if arg in ("--to", "-t") and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--to="):
            value = arg.split("=", 1)[1]
        if value:
            formats += [v.strip() for v in value.split(",") if v.strip()]
    return formats


def main() -> int:
    if any(f.split("+")[0] in LATEX_FORMATS for f in requested_formats(parent_arguments())):
        print(f"trustml: {MESSAGE}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
