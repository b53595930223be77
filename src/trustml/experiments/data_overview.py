"""The data chapter: sizes, class balance, pixel statistics and sample images."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trustml.core.budget import Budget
from trustml.core.cache import Result, experiment
from trustml.core.chapters import declare_chapter
from trustml.core.validate import check_config
from trustml.data import (
    CIFAR10_CLASSES,
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    load_cifar10,
    load_fashion_mnist,
    load_mnist,
)

DATASETS = {
    "MNIST": (load_mnist, MNIST_CLASSES),
    "Fashion-MNIST": (load_fashion_mnist, FASHION_MNIST_CLASSES),
    "CIFAR-10": (load_cifar10, CIFAR10_CLASSES),
}


@dataclass(frozen=True)
class DataOverviewConfig:
    per_class: int  # sample images per class in the grids
    stats_limit: int | None  # training images used for pixel statistics (None: all)
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self)


CONFIGS = {"full": DataOverviewConfig(per_class=10, stats_limit=None),
           "smoke": DataOverviewConfig(per_class=4, stats_limit=2_000)}


def pixel_mean_std(images: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of uint8 pixels scaled to [0, 1], exactly, via a histogram."""
    hist = np.bincount(images.ravel(), minlength=256).astype(np.float64)
    values = np.arange(256) / 255.0
    mean = hist @ values / hist.sum()
    var = hist @ (values - mean) ** 2 / hist.sum()
    return float(mean), float(np.sqrt(var))


@experiment("data-overview", version=2, configs=CONFIGS,
            metrics=("datasets",))
def data_overview(config: DataOverviewConfig, budget: Budget) -> Result:
    """Dataset sizes, class counts, pixel mean/std and per-class sample images."""
    rng = np.random.default_rng(config.seed)
    metrics: dict = {"datasets": {}}
    arrays: dict[str, np.ndarray] = {}
    for key, (loader, classes) in DATASETS.items():
        info: dict = {"classes": list(classes)}
        for split in ("train", "test"):
            images, labels = loader(split)
            x, y = images.numpy(), labels.numpy()
            counts = np.bincount(y, minlength=len(classes))
            info[split] = {"n": int(len(y)), "shape": list(x.shape[1:])}
            arrays[f"{key}/{split}/counts"] = counts
            if split == "train":
                subset = x if config.stats_limit is None else x[: config.stats_limit]
                info["pixel_mean"], info["pixel_std"] = pixel_mean_std(subset)
                picks = np.stack([
                    rng.choice(np.flatnonzero(y == c), size=config.per_class, replace=False)
                    for c in range(len(classes))
                ])  # (classes, per_class)
                arrays[f"{key}/samples"] = x[picks]
        metrics["datasets"][key] = info
    return Result(metrics=metrics, arrays=arrays)


CHAPTER = declare_chapter("chapters/data.qmd", ("data-overview",), "trustml.views.data_overview")
