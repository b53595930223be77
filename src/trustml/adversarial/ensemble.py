r"""Robust accuracy as the field reports it: the per-image worst case over an attack ensemble.

An image is robust only if the model classifies it correctly clean *and* after every attack of
the ensemble. The attacks run one after the other, each on the images that all previous attacks
left robust (as AutoAttack does), so the report also says how many images each attack breaks
*beyond* the ones before it: the evidence for or against gradient masking.

`autoattack(eps)` is the standard AutoAttack ensemble (Croce & Hein 2020: APGD-CE, APGD-T on the
DLR loss, FAB-T, Square) built from torchattacks' implementations, with the original paper's
iteration counts: torchattacks' own `AutoAttack` class keeps its attacks' defaults (10 APGD steps
instead of 100), a weaker attack than the one the paper's numbers come from.
Our PGD joins an ensemble as a spec (`trustml.adversarial.specs.PGD`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from trustml.adversarial.attacks import check_eps, check_inputs, check_model_and_batch, eval_mode
from trustml.adversarial.evaluation import Attack, survivors
from trustml.core.torch_utils import predict
from trustml.core.validate import integer


def project(x: torch.Tensor, x_adv: torch.Tensor, eps: float) -> torch.Tensor:
    """`x_adv` pulled back into the eps-ball around `x` and into [0, 1] (third-party attacks may
    overshoot by rounding)."""
    return (x + (x_adv - x).clamp(-eps, eps)).clamp(0.0, 1.0)


@dataclass(frozen=True)
class EnsembleReport:
    """Per image: `clean` (correct without attack), `attacked` (clean and among the candidates:
    the images the ensemble attacked), `broken_by[name]` (first broken by that attack, having
    survived all attacks before it) and `robust` (survived every attack)."""

    names: tuple[str, ...]
    clean: torch.Tensor
    attacked: torch.Tensor
    broken_by: dict[str, torch.Tensor]
    robust: torch.Tensor

    def added(self) -> dict[str, int]:
        """Images each attack breaks beyond the attacks before it."""
        return {name: int(self.broken_by[name].sum()) for name in self.names}

    def accuracy(self) -> dict[str, float]:
        """Clean accuracy, then robust accuracy after each prefix of the ensemble."""
        n = len(self.clean)
        out = {"clean": float(self.clean.sum()) / n}
        survivors = self.attacked.clone()
        for name in self.names:
            survivors &= ~self.broken_by[name]
            out[name] = float(survivors.sum()) / n
        return out


def worst_case(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
               attacks: Sequence[tuple[str, Attack]], batch_size: int = 500,
               candidates: torch.Tensor | None = None) -> EnsembleReport:
    """Run `attacks` (name, attack) in order, each on the images still robust; see the module.
    `candidates` (boolean per image) restricts the ensemble to images an earlier evaluation
    left robust: the others count as broken before it."""
    batch_size = integer(batch_size, "batch_size")
    names = tuple(name for name, _ in attacks)
    if not names or len(set(names)) != len(names):
        raise ValueError(f"attacks must be a non-empty sequence with distinct names, got {list(names)}")
    check_inputs(model, x, y)
    if candidates is not None and (not isinstance(candidates, torch.Tensor)
                                   or candidates.dtype != torch.bool
                                   or candidates.shape != (len(x),)):
        raise ValueError(f"candidates must be a boolean tensor with one entry per image "
                         f"({len(x)}), got {getattr(candidates, 'dtype', type(candidates).__name__)}")
    clean = predict(model, x).argmax(1) == y
    robust = clean.clone() if candidates is None else clean & candidates
    attacked = robust.clone()
    broken_by: dict[str, torch.Tensor] = {}
    for name, attack in attacks:
        still = survivors(model, x, y, attack, robust, batch_size)
        broken_by[name] = robust & ~still
        robust = still
    return EnsembleReport(names, clean, attacked, broken_by, robust)


def import_torchattacks():
    """torchattacks, or an error saying how to install it (the `[attacks]` extra)."""
    try:
        import torchattacks
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "AutoAttack needs torchattacks: pip install 'trustml[attacks]' (or, to keep your torch, "
            "pip install --no-deps torchattacks==3.5.1)") from None
    return torchattacks


def check_classes(model: nn.Module, x: torch.Tensor, n_classes: int) -> None:
    """The model's number of classes (its logits on one image) must be `n_classes`."""
    check_model_and_batch(model, x, torch.zeros(len(x), dtype=torch.long))
    if len(x):
        with torch.no_grad(), eval_mode(model):
            classes = model(x[:1]).shape[-1]
        if classes != n_classes:
            raise ValueError(f"the model has {classes} classes but autoattack was built for "
                             f"n_classes={n_classes}: pass n_classes={classes} to autoattack")


def autoattack(eps: float, apgd_steps: int = 100, fab_steps: int = 100,
               square_queries: int = 5000, n_classes: int = 10, targets: int | None = None,
               seed: int = 0) -> list[tuple[str, Attack]]:
    """The standard AutoAttack ensemble (ℓ∞) from torchattacks, at the paper's sizes by default.
    `targets` (default: every other class, as the paper) is the number of target classes
    APGD-T and FAB-T try, the likeliest first."""
    torchattacks = import_torchattacks()

    eps = check_eps(eps)
    apgd_steps, fab_steps = integer(apgd_steps, "apgd_steps"), integer(fab_steps, "fab_steps")
    square_queries = integer(square_queries, "square_queries")
    targets = n_classes - 1 if targets is None else integer(targets, "targets")
    if targets > n_classes - 1:
        raise ValueError(f"targets must be at most n_classes - 1 = {n_classes - 1}, got {targets}")

    def targeted(attack):  # torchattacks sets the number of target classes in the constructor
        attack.n_target_classes = targets
        return attack

    factories = {
        "APGD-CE": lambda m: torchattacks.APGD(m, norm="Linf", eps=eps, steps=apgd_steps,
                                               loss="ce", seed=seed),
        "APGD-T": lambda m: targeted(torchattacks.APGDT(m, norm="Linf", eps=eps, steps=apgd_steps,
                                                        n_classes=n_classes, seed=seed)),
        "FAB-T": lambda m: targeted(torchattacks.FAB(m, norm="Linf", eps=eps, steps=fab_steps,
                                                     multi_targeted=True, n_classes=n_classes,
                                                     seed=seed)),
        "Square": lambda m: torchattacks.Square(m, norm="Linf", eps=eps, n_queries=square_queries,
                                                seed=seed),
    }

    def wrap(make: Callable[[nn.Module], object]) -> Attack:
        def attack(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            check_classes(model, x, n_classes)
            # torchattacks' FAB reshapes with .view: give it the standard (not channels-last) layout
            x = x.contiguous()
            return project(x, make(model)(x, y).detach(), eps)
        return attack

    return [(name, wrap(make)) for name, make in factories.items()]
