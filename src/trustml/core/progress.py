"""Progress bars: shown on a terminal, silent in CI logs and notebooks.

`$TRUSTML_PROGRESS=1` forces bars on, `0` forces them off.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
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


def per_batch(epochs: int, batches_per_epoch: int,
              desc: str) -> Iterator[tuple[int, Callable[[], object]]]:
    """A training loop's epochs, 0 to `epochs` - 1, each with `tick`, to call once per batch:
    one bar over every batch of the run (`epochs * batches_per_epoch`), so its rate and time left
    show after the first batches instead of after the first epoch; the epoch is in its postfix.
    The bar only counts: the loop computes exactly what it computed without it."""
    with progress(total=epochs * batches_per_epoch, desc=desc, unit="batch") as bar:
        for epoch in range(epochs):
            bar.set_postfix_str(f"epoch {epoch + 1}/{epochs}", refresh=False)
            yield epoch, bar.update
