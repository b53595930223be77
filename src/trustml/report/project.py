"""Read the Quarto project the way Quarto does: `_quarto.yml`, profiles, `_environment` files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from trustml.errors import TrustmlError


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return override


def read_dotenv(path: Path) -> dict[str, str]:
    """`KEY=value` lines of a dotenv file (comments and blank lines ignored)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        values[key.strip()] = value.strip().strip("'\"")
    return values


@dataclass(frozen=True)
class Project:
    root: Path
    config: dict[str, Any]
    profiles: tuple[str, ...]

    @property
    def chapters(self) -> list[Path]:
        """Chapter files in `book.chapters` order (parts flattened)."""
        entries = self.config.get("book", {}).get("chapters", [])
        files: list[Path] = []
        for entry in entries:
            if isinstance(entry, str):
                files.append(self.root / entry)
            elif isinstance(entry, dict):
                if "file" in entry:
                    files.append(self.root / entry["file"])
                files.extend(self.root / c for c in entry.get("chapters", []))
        return files

    @property
    def execute_options(self) -> dict[str, Any]:
        return dict(self.config.get("execute", {}))

    def environment(self) -> dict[str, str]:
        """Variables Quarto would add: `_environment`, then profile files, then `.local`."""
        values: dict[str, str] = {}
        names = ["_environment", *(f"_environment-{p}" for p in self.profiles), "_environment.local"]
        for name in names:
            values.update(read_dotenv(self.root / name))
        values["QUARTO_PROJECT_ROOT"] = str(self.root)
        if self.profiles:
            values["QUARTO_PROFILE"] = ",".join(self.profiles)
        return values

    def kernel_env(self) -> dict[str, str]:
        """The process environment plus Quarto's additions; set variables are never overridden."""
        env = dict(os.environ)
        for key, value in self.environment().items():
            if key in ("QUARTO_PROJECT_ROOT", "QUARTO_PROFILE"):
                env[key] = value
            else:
                env.setdefault(key, value)
        return env


def load_project(root: str | os.PathLike[str] = ".", profile: str | None = None) -> Project:
    """Parse `<root>/_quarto.yml` merged with `_quarto-<profile>.yml` for each active profile."""
    root = Path(root).resolve()
    main = root / "_quarto.yml"
    if not main.is_file():
        raise TrustmlError(f"no _quarto.yml in {root}: run this from the project root")
    config = yaml.safe_load(main.read_text()) or {}
    if profile is None:
        profile = os.environ.get("QUARTO_PROFILE", "")
    profiles = tuple(p.strip() for p in profile.split(",") if p.strip())
    for name in profiles:
        extra = root / f"_quarto-{name}.yml"
        if extra.is_file():
            config = _merge(config, yaml.safe_load(extra.read_text()) or {})
    return Project(root=root, config=config, profiles=profiles)
