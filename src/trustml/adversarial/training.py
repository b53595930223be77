"""Adversarial training: plain FGSM (Goodfellow et al. 2015), FGSM with a random start (Wong,
Rice & Kolter 2020) and PGD (Madry et al. 2018).

The loop tracks PGD accuracy on a held-out batch after every epoch. FGSM training can suffer
*catastrophic overfitting*: robustness to FGSM stays high while PGD accuracy collapses within an
epoch. The loop flags a collapse (PGD accuracy falling by more than `collapse_drop` from its
best) and, with `keep_best=True`, prevents it from ending up in the model by restoring the best
epoch's weights; `keep_best=False` keeps the last epoch (to show the failure).
"""

from __future__ import annotations

import copy
import time
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from trustml.adversarial.attacks import check_eps, fgsm, pgd
from trustml.core.precision import training_autocast
from trustml.core.progress import per_batch
from trustml.core.torch_utils import accuracy, minibatches

Method = Literal["fgsm", "fgsm_rs", "pgd"]
METHODS = ("fgsm", "fgsm_rs", "pgd")


def adversarial_examples(model: nn.Module, x: torch.Tensor, y: torch.Tensor, method: Method,
                         eps: float, *, steps: int = 1, step: float | None = None,
                         generator: torch.Generator | None = None) -> torch.Tensor:
    """The adversarial version of a training batch, the model's mode left as it was: `"fgsm"`
    one FGSM step of size `step` (default eps) from `x`; `"fgsm_rs"` the same from a uniform
    random start; `"pgd"` PGD with `steps` steps of 2.5 eps / steps from a random start. The
    MNIST and CIFAR-10 training loops both make their batches with it."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    if method == "pgd":
        return pgd(model, x, y, eps, steps=steps, step_size=2.5 * eps / steps, random_start=True,
                   generator=generator)
    return fgsm(model, x, y, eps, random_start=method == "fgsm_rs", step=step, generator=generator)


def collapsed(earlier: list[float], robust: float, drop: float) -> bool:
    """Wong et al.'s catastrophic-overfitting flag, shared by the MNIST and CIFAR-10 loops: a
    check's PGD accuracy `robust` more than `drop` below the best of the `earlier` checks (never
    on the first check)."""
    return bool(earlier) and robust < max(earlier) - drop


def robustness_check(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int,
                     generator: torch.Generator | None = None) -> tuple[float, float]:
    """The in-training check of both loops: clean accuracy and accuracy under PGD (`steps`
    steps, random start from `generator`) on held-out images."""
    adv = pgd(model, x, y, eps, steps=steps, generator=generator)
    return accuracy(model, x, y), accuracy(model, adv, y)


def adversarial_train(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, method: Method, eps: float,
    epochs: int, lr: float, batch_size: int, seed: int, check_x: torch.Tensor,
    check_y: torch.Tensor, pgd_steps: int = 7, fgsm_alpha: float | None = None,
    check_steps: int = 10, collapse_drop: float = 0.2, eps_warmup_epochs: float = 0.0,
    keep_best: bool = True, bf16: bool = False,
) -> dict[str, list[float]]:
    """Train on adversarial examples only (the standard recipe for both methods).

    With `bf16` each step (the attack that makes its batch, forward, backward) runs under bf16
    autocast where the device supports it; the checks run in float32.

    `eps_warmup_epochs > 0` ramps the training radius linearly from 0 to `eps` over that many
    epochs: from a random initialisation, PGD training at eps 0.2 on MNIST otherwise stays stuck
    at chance level (measured: loss 2.30 after 6 epochs).
    """
    eps = check_eps(eps)
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    device = next(model.parameters()).device
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    batches_per_epoch = -(-len(x) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr,
                                                total_steps=epochs * batches_per_epoch)
    default_ratio = 1.0 if method == "fgsm" else 1.25  # plain FGSM: one step of size eps
    alpha_ratio = default_ratio if fgsm_alpha is None else fgsm_alpha / eps
    warmup_steps = eps_warmup_epochs * batches_per_epoch
    step = 0
    history: dict[str, list[float]] = {"train_loss": [], "check_clean": [], "check_pgd": [],
                                       "seconds": [], "collapsed": []}
    best_state, best_pgd = copy.deepcopy(model.state_dict()), -1.0
    for _, tick in per_batch(epochs, batches_per_epoch, f"{method} training"):
        start, total = time.perf_counter(), 0.0
        model.train()
        for idx in minibatches(len(x), batch_size, gen):
            xb, yb = x[idx], y[idx]
            eps_now = eps * min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else eps
            step += 1
            with training_autocast(device, bf16):
                x_adv = adversarial_examples(model, xb, yb, method, eps_now, steps=pgd_steps,
                                             step=alpha_ratio * eps_now, generator=gen)
                loss = F.cross_entropy(model(x_adv), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
            tick()
        history["train_loss"].append(total / len(x))
        history["seconds"].append(time.perf_counter() - start)
        clean, robust = robustness_check(model, check_x, check_y, eps, check_steps, gen)
        history["collapsed"].append(float(collapsed(history["check_pgd"], robust, collapse_drop)))
        history["check_clean"].append(clean)
        history["check_pgd"].append(robust)
        if robust > best_pgd:
            best_pgd, best_state = robust, copy.deepcopy(model.state_dict())
    if keep_best:  # never keep a collapsed (catastrophically overfit) model
        model.load_state_dict(best_state)
    model.eval()
    return history
