"""Measuring generated images: Fréchet distance in a classifier's feature space, class coverage."""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import norm
from torch import nn

from trustml.core.torch_utils import in_mode


@torch.no_grad()
def features(model: nn.Module, x: torch.Tensor, batch_size: int = 2000) -> np.ndarray:
    """`model.features(x)` in batches, in eval mode (float64)."""
    with in_mode(model):
        feats = torch.cat([model.features(x[i: i + batch_size])
                           for i in range(0, len(x), batch_size)])
    return feats.double().numpy()


def frechet_of_features(f1: np.ndarray, f2: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two sets of feature vectors."""
    return frechet_distance(f1.mean(0), np.cov(f1, rowvar=False), f2.mean(0), np.cov(f2, rowvar=False))


def frechet_bootstrap(f1: np.ndarray, f2: np.ndarray, reps: int, rng: np.random.Generator,
                      level: float = 0.95) -> tuple[float, float, float]:
    """Fréchet distance and a normal-approximation bootstrap interval, estimate +- z * sd.

    Both sets are resampled with replacement; the bootstrap gives the standard deviation only.
    (Percentile intervals would be shifted: duplicated points shrink the covariances' effective
    sample size, which inflates the distance, the same upward bias as fewer samples.)
    """
    if reps < 2 or not 0 < level < 1:
        raise ValueError(f"need reps >= 2 and level in (0, 1), got {reps} and {level}")
    boot = [frechet_of_features(f1[rng.integers(0, len(f1), len(f1))],
                                f2[rng.integers(0, len(f2), len(f2))]) for _ in range(reps)]
    estimate = frechet_of_features(f1, f2)
    half = float(norm.ppf((1 + level) / 2) * np.std(boot, ddof=1))
    return estimate, estimate - half, estimate + half


def frechet_by_size(f1: np.ndarray, f2: np.ndarray, sizes: tuple[int, ...], repeats: int,
                    rng: np.random.Generator) -> np.ndarray:
    """`(len(sizes), repeats)` distances between random subsets of `size` points of each set
    (without replacement): how the estimate depends on the sample size."""
    if max(sizes) > min(len(f1), len(f2)) or min(sizes) < 2:
        raise ValueError(f"sizes must be in [2, {min(len(f1), len(f2))}], got {sizes}")
    return np.array([[frechet_of_features(f1[rng.permutation(len(f1))[:m]],
                                          f2[rng.permutation(len(f2))[:m]])
                      for _ in range(repeats)] for m in sizes])


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    r"""$\|\mu_1-\mu_2\|^2+\mathrm{tr}(C_1+C_2-2(C_1C_2)^{1/2})$ between two Gaussians.

    $\mathrm{tr}(C_1C_2)^{1/2}$ is the sum of the square roots of the eigenvalues of $C_1C_2$,
    which are real and non-negative for covariance matrices (round-off is clipped at 0): one
    eigenvalue call instead of a matrix square root, fast enough to bootstrap.
    """
    eigenvalues = np.linalg.eigvals(cov1 @ cov2)
    trace_sqrt = np.sqrt(np.clip(eigenvalues.real, 0.0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(cov1) + np.trace(cov2) - 2 * trace_sqrt)


@torch.no_grad()
def class_histogram(model: nn.Module, x: torch.Tensor, classes: int = 10) -> np.ndarray:
    """Fraction of `x` the classifier assigns to each class."""
    from trustml.core.torch_utils import predict

    pred = predict(model, x).argmax(1)
    return np.bincount(pred.numpy(), minlength=classes) / len(x)
