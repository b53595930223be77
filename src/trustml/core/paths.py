"""Where the project lives: the folder holding `_quarto.yml` above this package's own location.

It never depends on the current directory, so the results cache is the same wherever a command
runs (the package is installed in editable mode from `src/trustml/`).
"""

from __future__ import annotations

from pathlib import Path


def project_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` (default: this package) holding `_quarto.yml`."""
    here = (start or Path(__file__)).resolve()
    for folder in (here, *here.parents):
        if (folder / "_quarto.yml").is_file():
            return folder
    return None
