r"""A small residual network for CIFAR-10 that trains to 90 % on a two-core CPU.

The design follows the fast CIFAR-10 training literature: Page's DAWNBench ResNet ("How to
train your ResNet", 2018: conv-pool-batch-norm groups, a scaled linear head) and Jordan's
airbench (2024: a frozen 2x2 patch-whitening first layer, three groups of widths 64/256/256,
batch-norm without a learned scale, GELU). Here at half airbench's width (32/128/128) and with a
residual pair of convolutions in each group. Inputs are pixels in [0, 1], shape (N, 3, 32, 32);
the model normalises internally, so attacks work in pixel space.
"""

from __future__ import annotations

import torch
from torch import nn

from trustml.core.torch_utils import in_mode
from trustml.core.validate import POSITIVE, integer, real

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


def _batch_norm(channels: int) -> nn.BatchNorm2d:
    bn = nn.BatchNorm2d(channels, momentum=0.4, eps=1e-12)
    bn.weight.requires_grad_(False)  # only the shift is learned (airbench)
    return bn


class ConvGroup(nn.Module):
    """conv3x3 -> max-pool 2 -> BN -> GELU, then a residual pair conv3x3-BN-GELU (x2)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.entry = nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                                   nn.MaxPool2d(2), _batch_norm(c_out), nn.GELU())
        self.residual = nn.Sequential(
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), _batch_norm(c_out), nn.GELU(),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), _batch_norm(c_out), nn.GELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.entry(x)
        return x + self.residual(x)


class CifarResNet(nn.Module):
    """Normalise -> frozen 2x2 whitening conv (24 channels) -> GELU -> three `ConvGroup`s ->
    global max-pool -> linear (no bias), logits scaled by `head_scale`."""

    def __init__(self, widths: tuple[int, int, int] = (32, 128, 128), whiten_width: int = 24,
                 head_scale: float = 1 / 9):
        super().__init__()
        widths = tuple(integer(w, "widths") for w in widths)
        if len(widths) != 3 or whiten_width % 2:
            raise ValueError(f"widths must be three channel counts and whiten_width even, got "
                             f"{widths} and {whiten_width}")
        self.widths, self.head_scale = widths, float(head_scale)
        if not self.head_scale > 0:
            raise ValueError(f"head_scale must be > 0, got {head_scale}")
        self.register_buffer("mean", torch.tensor(CIFAR_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(CIFAR_STD).view(1, 3, 1, 1))
        self.whiten = nn.Conv2d(3, whiten_width, 2, padding=0, bias=True)
        self.whiten.weight.requires_grad_(False)
        c0 = whiten_width
        self.groups = nn.Sequential(ConvGroup(c0, widths[0]), ConvGroup(widths[0], widths[1]),
                                    ConvGroup(widths[1], widths[2]))
        self.head = nn.Linear(widths[2], 10, bias=False)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.gelu(self.whiten((x - self.mean) / self.std))
        x = self.groups(x)
        return x.amax(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)) * self.head_scale

    @torch.no_grad()
    def init_whitening(self, x: torch.Tensor, eps: float = 5e-4) -> None:
        r"""Set the first layer to the ZCA-like whitening of 2x2 patches of `x` (pixels in
        [0, 1]): its filters are the patch covariance's eigenvectors $v_i/\sqrt{\lambda_i+\epsilon}$
        and their negatives (airbench). The bias stays learnable."""
        eps = real(eps, "eps", POSITIVE)
        z = (x - self.mean) / self.std
        patches = z.unfold(2, 2, 1).unfold(3, 2, 1).transpose(1, 3).reshape(-1, 3 * 2 * 2)
        patches = patches - patches.mean(0)
        cov = patches.T @ patches / len(patches)
        values, vectors = torch.linalg.eigh(cov.double())
        filters = (vectors.T / torch.sqrt(values[:, None] + eps)).flip(0).float()
        filters = filters.reshape(-1, 3, 2, 2)  # patches were flattened as (channel, row, column)
        half = self.whiten.out_channels // 2
        self.whiten.weight.copy_(torch.cat([filters[:half], -filters[:half]]))


class _BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out))
        self.skip = (nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                   nn.BatchNorm2d(c_out))
                     if stride != 1 or c_in != c_out else nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.relu(self.body(x) + self.skip(x))


def resnet18() -> nn.Module:
    """The CIFAR-10 ResNet-18 the homework names (3x3 stem, four stages of two basic blocks,
    64-512 channels): only for comparing its cost with `CifarResNet`, never trained here."""
    layers: list[nn.Module] = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU()]
    c_in = 64
    for c_out, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers += [_BasicBlock(c_in, c_out, stride), _BasicBlock(c_out, c_out, 1)]
        c_in = c_out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10)]
    return nn.Sequential(*layers)


def multiply_adds(model: nn.Module, input_shape: tuple[int, ...] = (1, 3, 32, 32)) -> int:
    """Multiply-adds of the convolutions and linear layers for one forward pass of one image
    (the bulk of the compute; normalisation, activations and pooling are not counted)."""
    total = 0

    def hook(module: nn.Module, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            total += output[0].numel() * k
        elif isinstance(module, nn.Linear):
            total += module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad(), in_mode(model):
            model(torch.zeros(input_shape))
    finally:
        for h in handles:
            h.remove()
    return total
