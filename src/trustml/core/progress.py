"""Progress bars: shown on a terminal, silent in CI logs and notebooks.

`$TRUSTML_PROGRESS=1` forces bars on, `0` forces them off.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def _disabled() -> bool | None:
    flag = os.environ.get("TRUSTML_PROGRESS", "").strip()
    if flag == "1":
        return False
    if flag == "0" or os.environ.get("CI"):
        return True
    return None  # tqdm: disable when not a TTY


def progress(iterable: Iterable[T] | None = None, **kwargs: Any) -> tqdm:
    """`tqdm(iterable, **kwargs)` with trustml's on/off rule."""
    kwargs.setdefault("disable", _disabled())
    kwargs.setdefault("dynamic_ncols", True)
    kwargs.setdefault("leave", False)
    return tqdm(iterable, **kwargs)
