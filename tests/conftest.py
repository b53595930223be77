"""Shared fixtures. Data root: $TRUSTML_DATA, else ../shared/data beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

if not os.environ.get("TRUSTML_DATA") and (ROOT.parent / "shared" / "data").is_dir():
    os.environ["TRUSTML_DATA"] = str(ROOT.parent / "shared" / "data")


@pytest.fixture
def real_data_root() -> Path:
    """The data root holding the real datasets (tests using it fail if it is missing)."""
    root = Path(os.environ.get("TRUSTML_DATA", "data"))
    assert (root / "MNIST" / "raw").is_dir(), f"set TRUSTML_DATA: no MNIST under {root}"
    return root


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    """An empty results cache for one test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("TRUSTML_CACHE", str(folder))
    return folder
