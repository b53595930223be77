"""The data chapter's table and figures."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from trustml.core.cache import Result, run_or_load
from trustml.views.format import fmt_float, fmt_int
from trustml.views.plots import grouped_bars, show_grid
from trustml.views.table import Table, as_table


def compute() -> Result:
    """The cached `data-overview` experiment for the active budget."""
    return run_or_load("data-overview")


def sizes_table(result: Result) -> Table:
    rows = []
    for name, info in result.metrics["datasets"].items():
        rows.append({
            "Dataset": name,
            "Train images": fmt_int(info["train"]["n"]),
            "Test images": fmt_int(info["test"]["n"]),
            "Image shape": " × ".join(str(s) for s in info["train"]["shape"]),
            "Classes": len(info["classes"]),
            "Pixel mean": fmt_float(info["pixel_mean"], 4),
            "Pixel std": fmt_float(info["pixel_std"], 4),
        })
    return as_table(pd.DataFrame(rows))


def class_balance_figure(result: Result) -> Figure:
    """Share of each class (index 0-9) per dataset and split."""
    fig = Figure(figsize=(7, 3.0), layout="constrained")
    ax = fig.subplots()
    series = {}
    for name in result.metrics["datasets"]:
        for split in ("train", "test"):
            counts = result.arrays[f"{name}/{split}/counts"]
            series[f"{name} {split}"] = 100 * counts / counts.sum()
    grouped_bars(series, [str(c) for c in range(10)], ax=ax, ylabel="share of split (%)")
    ax.axhline(10, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("class index")
    ax.tick_params(axis="x", rotation=0)
    ax.legend(ncols=3, frameon=False, fontsize="small", loc="lower center",
              bbox_to_anchor=(0.5, 1.0))
    return fig


def sample_figures(result: Result) -> list[Figure]:
    """One figure per dataset, one row per class (shown side by side on a page, stacked on a
    phone: see the chapter's `layout-ncol` and assets/trustml.scss)."""
    figures = []
    for name in result.metrics["datasets"]:
        fig = Figure(figsize=(3.2, 3.4), layout="constrained")
        ax = fig.subplots()
        samples = result.arrays[f"{name}/samples"]  # (classes, per_class, ...)
        show_grid(samples.reshape(-1, *samples.shape[2:]), nrow=samples.shape[1], ax=ax)
        figures.append(fig)
    return figures


def show_all(figures: list[Figure]) -> None:
    """Display several figures from one chapter cell (its subfigures)."""
    from IPython.display import display

    display(*figures)


def largest_class_share(result: Result, dataset: str, split: str) -> float:
    counts = result.arrays[f"{dataset}/{split}/counts"]
    return float(counts.max() / counts.sum())
