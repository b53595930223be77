"""Improved precision and recall of a generative model (Kynkäänniemi et al. 2019).

Each set of feature vectors defines a manifold estimate: the union of balls around its points
with radius the distance to their k-th nearest neighbour in the same set. Precision is the
fraction of generated points inside the real manifold (quality); recall is the fraction of real
points inside the generated manifold (coverage).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Manifold:
    """A set of feature vectors and, for each, the radius reaching its k-th nearest neighbour."""

    points: torch.Tensor
    radii: torch.Tensor


def _as_features(a: np.ndarray, name: str) -> torch.Tensor:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or len(a) < 2:
        raise ValueError(f"{name} must be a (points, features) array with >= 2 points, "
                         f"got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return torch.from_numpy(a).float()


def knn_radii(features: torch.Tensor, k: int, chunk: int = 2048) -> torch.Tensor:
    """Distance from every point to its k-th nearest other point of the same set."""
    radii = []
    for i in range(0, len(features), chunk):
        d = torch.cdist(features[i: i + chunk], features)
        radii.append(d.kthvalue(k + 1, dim=1).values)  # the point itself is at distance 0
    return torch.cat(radii)


def manifold(features: np.ndarray, k: int = 3, name: str = "features") -> Manifold:
    """The k-NN manifold estimate of a set of feature vectors."""
    points = _as_features(features, name)
    if not 1 <= k < len(points):
        raise ValueError(f"k must be in [1, {len(points) - 1}] for {len(points)} {name}, got {k}")
    return Manifold(points, knn_radii(points, k))


def _coverage(points: torch.Tensor, m: Manifold, chunk: int = 2048) -> float:
    """Fraction of `points` inside at least one ball of the manifold."""
    inside = [(torch.cdist(points[i: i + chunk], m.points) <= m.radii[None]).any(1)
              for i in range(0, len(points), chunk)]
    return float(torch.cat(inside).double().mean())


def precision_recall_of(real: Manifold, generated: Manifold) -> tuple[float, float]:
    """(precision, recall) from two manifolds (the real one can be reused across models)."""
    if real.points.shape[1] != generated.points.shape[1]:
        raise ValueError(f"real and generated features differ in size: "
                         f"{real.points.shape[1]} vs {generated.points.shape[1]}")
    return _coverage(generated.points, real), _coverage(real.points, generated)


def precision_recall(real: np.ndarray, generated: np.ndarray, k: int = 3) -> tuple[float, float]:
    """(precision, recall) of `generated` against `real` feature vectors, k-NN manifolds."""
    return precision_recall_of(manifold(real, k, "real"), manifold(generated, k, "generated"))
