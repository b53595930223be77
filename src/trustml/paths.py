"""Where the project lives: its root (for the results cache) and the book's files."""

from __future__ import annotations

import os
from pathlib import Path


def project_root(start: Path | None = None) -> Path:
    """`$QUARTO_PROJECT_ROOT`, else the nearest folder upwards holding `_quarto.yml`, else cwd."""
    env = os.environ.get("QUARTO_PROJECT_ROOT")
    if env:
        return Path(env)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_quarto.yml").is_file():
            return folder
    return here
