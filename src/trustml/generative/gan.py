"""A fully connected GAN for MNIST with the non-saturating generator loss.

Generator: noise (64) - 256 - 512 - 784, LeakyReLU, sigmoid output (pixels in [0, 1]).
Discriminator: 784 - 512 - 256 - 1 logit, LeakyReLU(0.2) and dropout 0.3.
Losses (binary cross-entropy on logits): the discriminator sees real images with a smoothed
label (one-sided label smoothing, 0.9) and fakes with label 0; the generator minimises
-log D(G(z)) (the non-saturating loss of Goodfellow et al. 2014).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Generator(nn.Module):
    def __init__(self, noise_dim: int = 64, hidden: tuple[int, int] = (256, 512)):
        super().__init__()
        h1, h2 = hidden
        self.noise_dim = noise_dim
        self.net = nn.Sequential(
            nn.Linear(noise_dim, h1), nn.LeakyReLU(0.2),
            nn.Linear(h1, h2), nn.BatchNorm1d(h2), nn.LeakyReLU(0.2),
            nn.Linear(h2, 784), nn.Sigmoid())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, 1, 28, 28)


class Discriminator(nn.Module):
    def __init__(self, hidden: tuple[int, int] = (512, 256), dropout: float = 0.3):
        super().__init__()
        h1, h2 = hidden
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(784, h1), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Linear(h1, h2), nn.LeakyReLU(0.2), nn.Dropout(dropout), nn.Linear(h2, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor,
                       real_label: float = 0.9) -> torch.Tensor:
    """Mean BCE: real images towards `real_label` (smoothing), fakes towards 0."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_label))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return real + fake


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating loss, mean of -log D(G(z))."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
