"""Robust accuracy: an example counts as robust only if it is classified correctly both clean
and after the attack (an attack that fails on a misclassified image must not 'fix' it)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from trustml.core.progress import progress
from trustml.core.torch_utils import predict

Attack = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


def survivors(model: nn.Module, x: torch.Tensor, y: torch.Tensor, attack: Attack,
              candidates: torch.Tensor, batch_size: int = 1000,
              desc: str | None = None) -> torch.Tensor:
    """Boolean per example: among `candidates`, those the model still classifies correctly
    after `attack` (the others are False). Only candidates are attacked, batch by batch."""
    robust = candidates.clone()
    idx = candidates.nonzero()[:, 0]
    bar_options = {"desc": desc} if desc else {"disable": True}
    for start in progress(range(0, len(idx), batch_size), **bar_options):
        b = idx[start: start + batch_size]
        x_adv = attack(model, x[b], y[b])
        robust[b] = predict(model, x_adv).argmax(1) == y[b]
    return robust


def robust_correct(model: nn.Module, x: torch.Tensor, y: torch.Tensor, attack: Attack,
                   batch_size: int = 1000, desc: str | None = None) -> torch.Tensor:
    """Boolean per example: clean prediction correct and adversarial prediction correct.

    Only clean-correct examples are attacked (the others are already errors), batch by batch.
    """
    clean = predict(model, x).argmax(1) == y
    return survivors(model, x, y, attack, clean, batch_size, desc)
