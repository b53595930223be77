"""Small tools every torch module of the package uses: seeded minibatches, batched predictions,
one context manager that sets (and restores) models' train/eval mode, parameter counts, and one
loader that rebuilds a model from a cached result."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import torch
from torch import nn

M = TypeVar("M", bound=nn.Module)


def minibatches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Shuffled index batches covering 0..n-1 once (the last one may be smaller)."""
    order = torch.randperm(n, generator=generator)
    yield from order.split(batch_size)


@contextmanager
def in_mode(*models: nn.Module, training: bool = False, frozen: bool = False) -> Iterator[None]:
    """Put `models` in train (`training=True`) or eval mode, with `frozen=True` also turn off
    their parameters' `requires_grad`; restore both on exit, whatever happens inside."""
    was_training = [m.training for m in models]
    flags = [[p.requires_grad for p in m.parameters()] for m in models] if frozen else []
    for m in models:
        m.train(training)
        if frozen:
            for p in m.parameters():
                p.requires_grad_(False)
    try:
        yield
    finally:
        for i, m in enumerate(models):
            if frozen:
                for p, flag in zip(m.parameters(), flags[i], strict=True):
                    p.requires_grad_(flag)
            m.train(was_training[i])


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """Logits for `x`, in eval mode (the model's mode is restored)."""
    with in_mode(model):
        return torch.cat([model(x[i: i + batch_size]) for i in range(0, len(x), batch_size)])


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """The fraction of `x` the model classifies as `y` (eval mode)."""
    return float((predict(model, x).argmax(1) == y).float().mean())


def count_parameters(model: nn.Module) -> int:
    """The number of the model's parameters (every tensor, trainable or not)."""
    return sum(p.numel() for p in model.parameters())


def _field(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value  # JSON turned tuples into lists


def kept_weights(result: Any, weights: str = "model") -> dict[str, torch.Tensor]:
    """The state dict a cached result kept under `weights`; a one-line error saying how to
    recompute the result when it kept none."""
    kept = result.weights or {}
    if weights not in kept:
        name = result.meta.get("experiment", "?")
        raise ValueError(f"the result of {name} kept no weights {weights!r} (it has "
                         f"{sorted(kept)}): recompute it with `python -m trustml run {name} "
                         "--force`")
    return kept[weights]


def load_model(result: Any, cls: type[M], *, weights: str = "model", **fields: str) -> M:
    """The model a cached result kept (`result.weights[weights]`), in eval mode on the CPU:
    `cls(**{arg: config[field]})` for each `arg=field` whose field the result's config has (a
    missing one keeps the argument's default), then its weights loaded. For example
    `load_model(result, MLPVAE, weights="vae", latent="latent", hidden="hidden")`."""
    if not isinstance(cls, type) or not issubclass(cls, nn.Module):
        raise TypeError(f"cls must be an nn.Module class, got {cls!r}")
    state = kept_weights(result, weights)
    config = result.meta["config"]
    model = cls(**{arg: _field(config[name]) for arg, name in fields.items() if name in config})
    model.load_state_dict(state)
    return model.eval()
