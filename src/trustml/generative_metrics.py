"""Measuring generated images: Fréchet distance in a classifier's feature space, class coverage."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from scipy import linalg
from torch import nn


@torch.no_grad()
def feature_statistics(model: nn.Module, x: torch.Tensor,
                       batch_size: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of `model.features(x)` (float64)."""
    was_training = model.training
    model.eval()
    feats = torch.cat([model.features(x[i: i + batch_size]) for i in range(0, len(x), batch_size)])
    model.train(was_training)
    f = feats.double().numpy()
    return f.mean(0), np.cov(f, rowvar=False)


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    r"""$\|\mu_1-\mu_2\|^2+\mathrm{tr}(C_1+C_2-2(C_1C_2)^{1/2})$ between two Gaussians."""
    with warnings.catch_warnings():  # singular products are handled just below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(cov1 @ cov2)
    if not np.isfinite(covmean).all():  # near-singular product: regularise, as pytorch-fid does
        offset = np.eye(len(cov1)) * 1e-6
        covmean = linalg.sqrtm((cov1 + offset) @ (cov2 + offset))
    covmean = np.real(covmean)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(cov1) + np.trace(cov2) - 2 * np.trace(covmean))


@torch.no_grad()
def class_histogram(model: nn.Module, x: torch.Tensor, classes: int = 10) -> np.ndarray:
    """Fraction of `x` the classifier assigns to each class."""
    from trustml.training import predict

    pred = predict(model, x).argmax(1)
    return np.bincount(pred.numpy(), minlength=classes) / len(x)
