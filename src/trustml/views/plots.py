"""Figures shared by the chapters: image grids and small bar charts (numpy + matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def image_grid(images: np.ndarray, nrow: int, padding: int = 2, pad_value: float = 1.0) -> np.ndarray:
    """Tile `images` into one array, like torchvision's `make_grid`.

    `images` is `(N, H, W)` or `(N, C, H, W)` (C = 1 or 3), uint8 or float in [0, 1];
    the result is float `(rows*(H+p)+p, nrow*(W+p)+p[, 3])` in [0, 1].
    """
    x = np.asarray(images)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    if x.ndim == 4:
        x = x[:, 0] if x.shape[1] == 1 else np.moveaxis(x, 1, -1)
    if x.ndim not in (3, 4):
        raise ValueError(f"expected (N,H,W) or (N,C,H,W) images, got shape {images.shape}")
    n, h, w = x.shape[:3]
    ncol = min(nrow, n)
    rows = -(-n // ncol)
    grid = np.full((rows * (h + padding) + padding, ncol * (w + padding) + padding, *x.shape[3:]),
                   pad_value, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        grid[top: top + h, left: left + w] = x[i]
    return np.clip(grid, 0.0, 1.0)


def show_grid(images: np.ndarray, nrow: int, ax=None, title: str | None = None) -> Figure:
    """Draw `image_grid(images, nrow)` without axes; returns the figure."""
    grid = image_grid(images, nrow)
    if ax is None:
        _, ax = plt.subplots(figsize=(grid.shape[1] / 40, grid.shape[0] / 40))
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax.figure


def grouped_bars(
    values: dict[str, np.ndarray], labels: Sequence[str], ax=None, ylabel: str = ""
) -> Figure:
    """One group of bars per label, one bar per series in `values`."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3))
    width = 0.8 / max(len(values), 1)
    positions = np.arange(len(labels))
    for i, (name, series) in enumerate(values.items()):
        ax.bar(positions + (i - (len(values) - 1) / 2) * width, series, width, label=name)
    ax.set_xticks(positions, labels, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize="small")
    ax.spines[["top", "right"]].set_visible(False)
    return ax.figure
