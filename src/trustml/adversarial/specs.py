"""Attacks as small frozen specs: `FGSM(eps)`, `PGD(eps, ...)`, `TopTargetsPGD(eps, ...)`.

A spec holds an attack's settings (it is hashable and can be a config field) and attacks when
called: `spec(model, x, y) -> x_adv`, drawing its random starts from a generator seeded with
`spec.seed` on every call (so each batch is attacked alike, whatever ran before). Every attack
of the book is built from one of these.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from trustml.adversarial.attacks import (
    LOSSES,
    SCHEDULES,
    check_eps,
    fgsm,
    pgd,
    pgd_top_targets,
)
from trustml.core.validate import integer


def _check_choice(spec: object, name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{type(spec).__name__}.{name} must be one of {list(choices)}, got {value!r}")


@dataclass(frozen=True)
class FGSM:
    """The fast gradient sign method at radius `eps` (see `attacks.fgsm`)."""

    eps: float

    def __post_init__(self) -> None:
        check_eps(self.eps)

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return fgsm(model, x, y, self.eps)


@dataclass(frozen=True)
class PGD:
    """PGD at radius `eps` (see `attacks.pgd`); `early_stop=True` keeps the first fooling
    iterate (for evaluation: any fooling point in the ball counts)."""

    eps: float
    steps: int = 40
    step_size: float | None = None
    restarts: int = 1
    loss: str = "ce"
    early_stop: bool = True
    schedule: str = "constant"
    shards: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        check_eps(self.eps)
        integer(self.steps, "steps"), integer(self.restarts, "restarts"), integer(self.shards, "shards")
        _check_choice(self, "loss", self.loss, LOSSES)
        _check_choice(self, "schedule", self.schedule, SCHEDULES)

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return pgd(model, x, y, self.eps, steps=self.steps, step_size=self.step_size,
                   restarts=self.restarts, loss=self.loss, early_stop=self.early_stop,
                   schedule=self.schedule, shards=self.shards,
                   generator=torch.Generator(device=x.device).manual_seed(self.seed))


@dataclass(frozen=True)
class TopTargetsPGD:
    """Targeted PGD towards each of the `targets` likeliest wrong classes in turn, margin loss,
    step 2 eps on a cosine decay by default (see `attacks.pgd_top_targets`)."""

    eps: float
    targets: int = 3
    steps: int = 100
    step_size: float | None = None
    loss: str = "margin"
    schedule: str = "cosine"
    shards: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        check_eps(self.eps)
        integer(self.targets, "targets"), integer(self.steps, "steps"), integer(self.shards, "shards")
        _check_choice(self, "loss", self.loss, LOSSES)
        _check_choice(self, "schedule", self.schedule, SCHEDULES)

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return pgd_top_targets(model, x, y, self.eps, targets=self.targets, steps=self.steps,
                               step_size=self.step_size, loss=self.loss, schedule=self.schedule,
                               shards=self.shards,
                               generator=torch.Generator(device=x.device).manual_seed(self.seed))


def strong_pgd(eps: float, *, ce_steps: int = 40, ce_restarts: int = 1, targets: int = 3,
               targeted_steps: int = 50, shards: int = 1, seed: int = 0
               ) -> list[tuple[str, PGD | TopTargetsPGD]]:
    """Our strong PGD at `eps` as the two members of a worst-case ensemble, (name, attack) in the
    order run: the textbook attack (cross-entropy, `ce_steps` constant steps of 2.5 eps / steps,
    `ce_restarts` random starts, early stopping), then the fixed one (margin loss, targeted at
    each of the `targets` likeliest wrong classes, `targeted_steps` steps of 2 eps decaying on a
    cosine). Exercise 3 and the CIFAR-10 chapter both attack with it.

    Examples::

        report = worst_case(model, x, y, strong_pgd(0.3))
    """
    return [
        ("pgd_ce", PGD(eps, steps=ce_steps, restarts=ce_restarts, early_stop=True, shards=shards,
                       seed=seed)),
        ("pgd_margin", TopTargetsPGD(eps, targets=targets, steps=targeted_steps, shards=shards,
                                     seed=seed)),
    ]
