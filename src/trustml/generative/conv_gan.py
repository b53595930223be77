"""A small DCGAN (Radford et al. 2016) for 28x28 MNIST, sized for a CPU core.

Generator: noise -> linear -> (2c, 7, 7) -> transposed conv 4x4/2 -> (c, 14, 14) ->
transposed conv 4x4/2 -> (1, 28, 28), batch normalisation and ReLU between, sigmoid output.
Discriminator: conv 4x4/2 (c) -> conv 4x4/2 (2c) with batch normalisation -> linear logit,
LeakyReLU(0.2). Weights start as N(0, 0.02) (batch-norm scales N(1, 0.02)), as in DCGAN.
It trains with the same losses and loop as the MLP GAN (`trustml.generative.gan`, `train_gan`).
"""

from __future__ import annotations

import torch
from torch import nn


def _dcgan_init(module: nn.Module) -> None:
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d | nn.BatchNorm1d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class ConvGenerator(nn.Module):
    def __init__(self, noise_dim: int = 64, channels: int = 32):
        super().__init__()
        if noise_dim < 1 or channels < 1:
            raise ValueError(f"noise_dim and channels must be >= 1, got {noise_dim}, {channels}")
        self.noise_dim = noise_dim
        c = channels
        self.project = nn.Sequential(nn.Linear(noise_dim, 2 * c * 49, bias=False),
                                     nn.BatchNorm1d(2 * c * 49), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * c, c, 4, 2, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
            nn.ConvTranspose2d(c, 1, 4, 2, 1), nn.Sigmoid())
        self.apply(_dcgan_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z)
        return self.net(h.view(len(z), -1, 7, 7))


class ConvDiscriminator(nn.Module):
    def __init__(self, channels: int = 32):
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be >= 1, got {channels}")
        c = channels
        self.net = nn.Sequential(
            nn.Conv2d(1, c, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * c), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * c * 49, 1))
        self.apply(_dcgan_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)
