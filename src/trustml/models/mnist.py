"""Classifiers for MNIST. Inputs are pixels in [0, 1], shape (N, 1, 28, 28)."""

from __future__ import annotations

import torch
from torch import nn

from trustml.core.torch_utils import in_mode


class _PixelClassifier(nn.Module):
    """A classifier of [0, 1] pixels that normalises inside the model (so attacks work in pixel
    space) and exposes its penultimate activations as `features`."""

    MEAN, STD = 0.1307, 0.3081
    body: nn.Module
    head: nn.Module

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body((x - self.MEAN) / self.STD)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class StandardCNN(_PixelClassifier):
    """conv5x5(32)-pool-conv5x5(64)-pool-fc(3136→128)-fc(10), ReLU; 454,922 parameters.

    `features(x)` returns the 128-d penultimate activations (used for Fréchet distances).
    Normalisation (MNIST mean/std) happens inside the model, so attacks work in pixel space.
    """

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU())
        self.head = nn.Linear(128, 10)


class FastCNN(_PixelClassifier):
    """conv4x4(16w, stride 2)-conv4x4(32w, stride 2)-fc(1568w→100w)-fc(10), ReLU.

    The MNIST model of Wong, Rice & Kolter (2020) at `width=1` (166,406 parameters); `width`
    multiplies every layer's channels/units. Strided convolutions instead of pooling make one
    attack step ~15x cheaper than `StandardCNN` on a CPU (measured: 20.9k vs 1.4k image-steps/s,
    batch 500, 2 threads), which is what makes adversarial training and many-restart
    evaluations affordable.
    """

    def __init__(self, width: int = 1):
        super().__init__()
        c1, c2, hidden = 16 * width, 32 * width, 100 * width
        self.body = nn.Sequential(
            nn.Conv2d(1, c1, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(c2 * 7 * 7, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, 10)


def layer_table(model: nn.Module, input_shape: tuple[int, ...] = (1, 1, 28, 28)) -> list[dict]:
    """One row per leaf layer: name, layer, output shape (without the batch), parameters."""
    rows: list[dict] = []
    hooks = []
    for name, module in model.named_modules():
        if len(list(module.children())) == 0:
            def hook(mod, _inputs, output, name=name):
                rows.append({"name": name, "layer": repr(mod), "output": tuple(output.shape[1:]),
                             "parameters": sum(p.numel() for p in mod.parameters())})
            hooks.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad(), in_mode(model):
            model(torch.zeros(input_shape))
    finally:
        for h in hooks:
            h.remove()
    return rows
