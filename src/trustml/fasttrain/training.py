r"""Fast CIFAR-10 training on a CPU, and the two adversarial defences of the chapter.

`Recipe` is the optimiser and schedule of the fast-training literature (airbench, Jordan 2024):
Nesterov SGD with a 64x learning rate on batch-norm shifts, label smoothing 0.2, a short linear
warm-up then a linear decay, random flips and 2-pixel translations. `train` runs it with one of
four objectives:

* `"clean"`: cross-entropy on the (augmented) batch;
* `"fgsm_mix"`: the adversarial loss $\tilde J=\alpha J(x,y)+(1-\alpha)J(x+\varepsilon\,
  \mathrm{sign}\nabla_xJ,y)$ (Goodfellow et al. 2015), clean and adversarial halves in separate
  forward passes;
* `"fgsm_rs"`: cross-entropy on FGSM examples from a uniform random start in the eps-ball, step
  `Defence.step_ratio` x eps, projected back (Wong, Rice and Kolter 2020, "fast is better than
  free");
* `"pgd_append"`: PGD examples appended to the batch (2N examples in one forward pass);
* `"pgd_halves"`: the same 2N examples and the same mean loss, but each half normalised with its
  own batch-norm statistics (two forward passes of N): the adversarial loss with alpha = 1/2 and
  PGD examples. Shared statistics let the network tell the halves apart, and the one-pass
  defence masks its gradient (see the chapter's 2.3).

With `Recipe.bf16` each step (the attack that makes its batch, forward, backward) runs under bf16
autocast where the device supports it (`trustml.core.precision`); the in-training checks run in
float32.

Images stay uint8 in memory; each batch is augmented, scaled to [0, 1] and laid out
channels-last (about twice as fast for convolutions on a CPU).
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from trustml.adversarial.training import adversarial_examples, collapsed, robustness_check
from trustml.core.cache import HASH_WHEN_SET
from trustml.core.precision import training_autocast
from trustml.core.progress import progress
from trustml.core.validate import COUNT_OR_ZERO, POSITIVE, UNIT, Interval, check_config

Objective = Literal["clean", "fgsm_mix", "fgsm_rs", "pgd_append", "pgd_halves"]
OBJECTIVES = ("clean", "fgsm_mix", "fgsm_rs", "pgd_append", "pgd_halves")


def to_pixels(images: torch.Tensor, device: torch.device | str = "cpu") -> torch.Tensor:
    """uint8 (N, 3, 32, 32) -> float pixels in [0, 1], channels-last, on `device`."""
    x = images.to(device).float().div_(255.0)
    return x.contiguous(memory_format=torch.channels_last)


def augment(images: torch.Tensor, translate: int, flip: bool,
            generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flips and random translations by up to `translate` pixels (reflect
    padding), drawn per image from `generator`; uint8 in, uint8 out, same shape."""
    n = len(images)
    out = images
    if flip:
        mirror = torch.rand(n, generator=generator) < 0.5
        out = torch.where(mirror[:, None, None, None], out.flip(3), out)
    if translate:
        t = translate
        padded = F.pad(out.float(), (t, t, t, t), mode="reflect").to(images.dtype)
        dy = torch.randint(0, 2 * t + 1, (n,), generator=generator)
        dx = torch.randint(0, 2 * t + 1, (n,), generator=generator)
        size = images.shape[-1]
        shifted = torch.empty_like(out)
        for oy in range(2 * t + 1):
            for ox in range(2 * t + 1):
                sel = ((dy == oy) & (dx == ox)).nonzero()[:, 0]
                if len(sel):
                    shifted[sel] = padded[sel, :, oy: oy + size, ox: ox + size]
        out = shifted
    return out


@dataclass(frozen=True)
class Recipe:
    """Optimiser and schedule. `lr` is the peak learning rate of the mean batch loss for the
    network's weights; batch-norm shifts get `bias_lr_scale` times it (and that much less
    weight decay). The rate rises linearly from `start_lr` x peak over the first `warmup`
    fraction of the steps, then falls linearly to `final_lr` x peak. `bf16`: the steps run
    under bf16 autocast where the device supports it (float32 elsewhere)."""

    epochs: float
    batch_size: int = 500
    lr: float = 0.75
    momentum: float = 0.85
    weight_decay: float = 1.3e-3
    bias_lr_scale: float = 64.0
    label_smoothing: float = 0.2
    warmup: float = 0.2
    start_lr: float = 0.2
    final_lr: float = 0.05
    translate: int = 2
    flip: bool = True
    bf16: bool = True  # bf16 autocast for the training steps where the device computes it

    def __post_init__(self) -> None:
        check_config(self, epochs=POSITIVE, lr=POSITIVE, momentum=Interval(0.0, 1.0, hi_open=True),
                     weight_decay=Interval(0.0), bias_lr_scale=POSITIVE,
                     label_smoothing=Interval(0.0, 1.0, hi_open=True), warmup=UNIT,
                     start_lr=UNIT, final_lr=UNIT, translate=COUNT_OR_ZERO)

    def lr_factor(self, step: int, total: int) -> float:
        """The schedule's multiplier of the peak rate at `step` of `total`."""
        warm = int(self.warmup * total)
        if step < warm:
            return self.start_lr + (1 - self.start_lr) * step / warm
        frac = (step - warm) / max(1, total - warm)
        return 1.0 + (self.final_lr - 1.0) * frac


def _optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.SGD:
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    shifts = [p for n, p in trainable if p.ndim == 1]
    weights = [p for n, p in trainable if p.ndim > 1]
    groups = [{"params": weights, "lr": recipe.lr, "weight_decay": recipe.weight_decay,
               "base": recipe.lr},
              {"params": shifts, "lr": recipe.lr * recipe.bias_lr_scale,
               "weight_decay": recipe.weight_decay / recipe.bias_lr_scale,
               "base": recipe.lr * recipe.bias_lr_scale}]
    return torch.optim.SGD(groups, momentum=recipe.momentum, nesterov=recipe.momentum > 0)


def mixed_adversarial_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, x_adv: torch.Tensor,
                  alpha: float, label_smoothing: float = 0.0) -> torch.Tensor:
    r"""$\alpha J(x,y)+(1-\alpha)J(x_{adv},y)$, the two terms in separate forward passes."""
    clean = F.cross_entropy(model(x), y, label_smoothing=label_smoothing)
    adv = F.cross_entropy(model(x_adv), y, label_smoothing=label_smoothing)
    return alpha * clean + (1 - alpha) * adv


def appended_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, x_adv: torch.Tensor,
                  label_smoothing: float = 0.0) -> torch.Tensor:
    """Mean loss over the batch with the adversarial examples appended (2N in one pass)."""
    both = torch.cat([x, x_adv]).contiguous(memory_format=torch.channels_last)
    return F.cross_entropy(model(both), torch.cat([y, y]), label_smoothing=label_smoothing)


def halves_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, x_adv: torch.Tensor,
                label_smoothing: float = 0.0) -> torch.Tensor:
    """The appended batch's mean loss over its 2N examples with each half normalised by its own
    batch-norm statistics: two forward passes of N, the adversarial loss at alpha = 1/2."""
    return mixed_adversarial_loss(model, x, y, x_adv, 0.5, label_smoothing)


@dataclass(frozen=True)
class Defence:
    """The adversarial part of an objective: radius, PGD steps (for `pgd_append` and
    `pgd_halves`), the weight of the clean loss (for `fgsm_mix`), FGSM's step as a multiple of
    eps (for `fgsm_rs`), and the PGD check run `checks` times during training with
    `check_steps` steps. A check whose PGD accuracy falls more than `collapse_drop` below the
    best check before it is flagged as catastrophic overfitting (Wong et al.'s criterion: a
    drop of more than 20 points).

    `check_images` is unused (deprecated): the check's images are the caller's (`check`, the
    last `DefenceConfig.check_n` test images). It stays because it is part of the committed
    results' cache hashes; removing it means bumping the CIFAR defences and recomputing them."""

    eps: float
    alpha: float = 0.5
    pgd_steps: int = 5
    checks: int = 8
    check_images: int = 500
    check_steps: int = 10
    step_ratio: float = 1.25
    collapse_drop: float = 0.2
    # the checks' radius; None: the training radius `eps` (left out of the hash while None)
    check_eps: float | None = field(default=None, metadata=HASH_WHEN_SET)

    def __post_init__(self) -> None:
        radius = Interval(0.0, 1.0, lo_open=True)
        check_config(self, eps=radius, alpha=UNIT, step_ratio=POSITIVE, collapse_drop=UNIT,
                     check_eps=radius)

    @property
    def check_radius(self) -> float:
        """The radius of the in-training PGD checks."""
        return self.eps if self.check_eps is None else self.check_eps


def objective_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, objective: Objective,
                   defence: Defence | None, recipe: Recipe, generator: torch.Generator
                   ) -> torch.Tensor:
    """The training loss of one batch under `objective` (see the module), the adversarial
    examples made from the model in its current mode."""
    smoothing = recipe.label_smoothing
    if objective == "clean":
        return F.cross_entropy(model(x), y, label_smoothing=smoothing)
    assert defence is not None
    if objective == "fgsm_mix":
        x_adv = adversarial_examples(model, x, y, "fgsm", defence.eps)
        return mixed_adversarial_loss(model, x, y, x_adv, defence.alpha, smoothing)
    if objective == "fgsm_rs":
        x_adv = adversarial_examples(model, x, y, "fgsm_rs", defence.eps,
                                     step=defence.step_ratio * defence.eps, generator=generator)
        return F.cross_entropy(model(x_adv), y, label_smoothing=smoothing)
    x_adv = adversarial_examples(model, x, y, "pgd", defence.eps, steps=defence.pgd_steps,
                                 generator=generator)
    if objective == "pgd_halves":
        return halves_loss(model, x, y, x_adv, smoothing)
    return appended_loss(model, x, y, x_adv, smoothing)


def train(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, recipe: Recipe, *,
          seed: int, objective: Objective = "clean", defence: Defence | None = None,
          check: tuple[torch.Tensor, torch.Tensor] | None = None, desc: str = "training",
          step_timer: list[float] | None = None) -> dict[str, list]:
    """Train `model` in place on uint8 `images`; returns the history: per epoch the training
    loss and seconds, and (with a defence) the clean and PGD accuracy of the check images at
    `defence.checks` evenly spaced steps, each flagged if it shows catastrophic overfitting
    (no checks without `check` images). `step_timer`, if given, receives each step's seconds
    (batch preparation, attack, forward, backward and update)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {list(OBJECTIVES)}, got {objective!r}")
    if (objective == "clean") != (defence is None):
        raise ValueError("a defence is given exactly when the objective is adversarial "
                         f"(objective {objective!r}, defence {defence})")
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    # the attacks' random starts are drawn on the model's device (a CPU generator cannot feed
    # CUDA tensors); on the CPU it is the batch generator, as the committed results were made
    attack_gen = gen if device.type == "cpu" else torch.Generator(device=device).manual_seed(seed)
    torch.manual_seed(seed)
    opt = _optimizer(model, recipe)
    n = len(images)
    steps_per_epoch = math.ceil(n / recipe.batch_size)
    total = max(1, round(recipe.epochs * steps_per_epoch))
    history: dict[str, list] = {"train_loss": [], "seconds": [], "check_step": [],
                                "check_clean": [], "check_pgd": [], "check_collapsed": []}
    check_at = set() if defence is None or check is None else {
        round(total * (i + 1) / defence.checks) for i in range(defence.checks)}

    def run_check(step: int) -> None:
        assert defence is not None and check is not None
        clean, robust = robustness_check(model, *check, defence.check_radius, defence.check_steps,
                                         torch.Generator(device=device).manual_seed(seed))
        history["check_step"].append(step / steps_per_epoch)
        history["check_collapsed"].append(collapsed(history["check_pgd"], robust,
                                                    defence.collapse_drop))
        history["check_clean"].append(clean)
        history["check_pgd"].append(robust)

    step, bar = 0, progress(total=total, desc=desc)
    while step < total:
        start, loss_sum, seen = time.perf_counter(), 0.0, 0
        for idx in torch.randperm(n, generator=gen).split(recipe.batch_size):
            if step >= total:
                break
            step_start = time.perf_counter()
            for group in opt.param_groups:
                group["lr"] = group["base"] * recipe.lr_factor(step, total)
            xb = to_pixels(augment(images[idx], recipe.translate, recipe.flip, gen), device)
            yb = labels[idx].to(device)
            model.train()
            with training_autocast(device, recipe.bf16):
                loss = objective_loss(model, xb, yb, objective, defence, recipe, attack_gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if step_timer is not None:
                step_timer.append(time.perf_counter() - step_start)
            loss_sum += float(loss.detach()) * len(idx)
            seen += len(idx)
            step += 1
            bar.update()
            if step in check_at:
                run_check(step)
        history["train_loss"].append(loss_sum / max(seen, 1))
        history["seconds"].append(time.perf_counter() - start)
    bar.close()
    model.eval()
    return history


def clone(model: nn.Module) -> nn.Module:
    """A deep copy (fine-tuning starts from a copy of the standard model)."""
    return copy.deepcopy(model)
