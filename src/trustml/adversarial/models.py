"""Classifiers for MNIST. Inputs are pixels in [0, 1], shape (N, 1, 28, 28)."""

from __future__ import annotations

import torch
from torch import nn


class StandardCNN(nn.Module):
    """conv5x5(32)-pool-conv5x5(64)-pool-fc(1024→128)-fc(10), ReLU; 454,922 parameters.

    `features(x)` returns the 128-d penultimate activations (used for Fréchet distances).
    Normalisation (MNIST mean/std) happens inside the model, so attacks work in pixel space.
    """

    MEAN, STD = 0.1307, 0.3081

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU())
        self.head = nn.Linear(128, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body((x - self.MEAN) / self.STD)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
