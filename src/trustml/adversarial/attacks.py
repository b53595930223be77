r"""$\ell_\infty$ attacks in pixel space: FGSM and PGD (with restarts, CE or margin loss, targeted).

Images live in $[0,1]$; every returned image satisfies $\|x_{adv}-x\|_\infty\le\varepsilon$ and
$0\le x_{adv}\le1$. The model is put in eval mode for the attack and restored afterwards;
gradients are taken with respect to the input only (parameters' `.grad` are left untouched).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from trustml.core.torch_utils import in_mode
from trustml.core.validate import NON_NEGATIVE, POSITIVE, UNIT, integer, real

Loss = Literal["ce", "margin"]
LOSSES = ("ce", "margin")
Schedule = Literal["constant", "cosine"]
SCHEDULES = ("constant", "cosine")


def check_eps(eps: float) -> float:
    """`eps` as a float in [0, 1] (pixels live in [0, 1]); numpy and 0-d tensor scalars accepted."""
    return real(eps, "eps", UNIT)


def _range_hint(x: torch.Tensor) -> str:
    """The likely cause of pixels outside [0, 1]."""
    if float(x.min()) < 0.0:
        return (" (normalised images? attacks work on raw pixels: put the normalisation inside "
                "the model, as a first layer)")
    return " (uint8-range pixels? scale them to [0, 1], e.g. with trustml.data.to_float)"


def check_model_and_batch(model: object, x: torch.Tensor, y: torch.Tensor) -> None:
    """The two mistakes that would otherwise surface as a confusing error further in: a model
    that is not an `nn.Module`, and a single image without its batch dimension."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__} (wrap a "
                        "function in an nn.Module whose forward calls it)")
    if (isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor)
            and (y.ndim == 0 or (x.ndim == 3 and len(y) == 1 and len(x) != 1))):
        raise ValueError(f"x of shape {tuple(x.shape)} with {y.numel()} label looks like one image "
                         "without its batch dimension: pass x[None] and y.reshape(1)")


def check_images(x: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None = None) -> None:
    """Images: a floating tensor, finite, in [0, 1]; labels (and targets): integers >= 0, one per
    image. (Labels above the model's classes are caught by `check_classes`.)"""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.ndim < 2:
        raise ValueError("x must be a floating tensor of images (N, ...) with pixels in [0, 1], "
                         f"got {type(x).__name__} {getattr(x, 'dtype', '')}")
    pixels = x.detach()  # images that require grad are fine: no warning from the checks
    if x.numel() and (not bool(torch.isfinite(pixels).all()) or float(pixels.min()) < 0.0
                      or float(pixels.max()) > 1.0):
        raise ValueError("x must hold finite pixels in [0, 1], "
                         f"got values in [{float(pixels.min()):g}, {float(pixels.max()):g}]"
                         + _range_hint(pixels))
    for name, labels in (("y", y), ("target", target)):
        if labels is None:
            continue
        if (not isinstance(labels, torch.Tensor) or labels.dtype.is_floating_point
                or labels.dtype == torch.bool or labels.shape != (len(x),)):
            raise ValueError(f"{name} must be an integer tensor of {len(x)} class labels (one per "
                             f"image), got {getattr(labels, 'dtype', type(labels).__name__)} of "
                             f"shape {tuple(getattr(labels, 'shape', ()))}")
        if len(labels) and int(labels.min()) < 0:
            raise ValueError(f"{name} must hold class labels >= 0, got {int(labels.min())}")


def check_inputs(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                 target: torch.Tensor | None = None) -> None:
    """`check_images`, then the images have the model's dtype and every label (and target) is
    one of the model's classes (the model is run on one image to count them)."""
    check_model_and_batch(model, x, y)
    check_images(x, y, target)
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), x.dtype)
    if x.dtype != dtype:
        raise ValueError(f"x must have the model's dtype {dtype}, got {x.dtype} (convert the "
                         f"images with x.to({dtype}))")
    if not len(x):
        return
    with torch.no_grad(), eval_mode(model):
        classes = model(x[:1]).shape[1]
    for name, labels in (("y", y), ("target", target)):
        if labels is not None and int(labels.max()) >= classes:
            raise ValueError(f"{name} must hold class labels < {classes} (the model's "
                             f"classes), got {int(labels.max())}")


def check_loss(loss: str) -> str:
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {list(LOSSES)}, got {loss!r}")
    return loss


def check_schedule(schedule: str) -> str:
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {list(SCHEDULES)}, got {schedule!r}")
    return schedule


def step_sizes(alpha: float, steps: int, schedule: Schedule = "constant") -> list[float]:
    r"""The step size of each PGD step: constant $\alpha$, or a cosine decay from $\alpha$ towards 0,
    $\alpha_t=\tfrac{\alpha}{2}(1+\cos(\pi t/T))$ (large first steps reach the corners of the
    ball, small last steps refine)."""
    check_schedule(schedule)
    if schedule == "constant":
        return [alpha] * steps
    return [0.5 * alpha * (1 + math.cos(math.pi * t / steps)) for t in range(steps)]


def eval_mode(model: nn.Module):
    """Put `model` in eval mode and freeze its parameters; restore both afterwards."""
    return in_mode(model, training=False, frozen=True)


def margin_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Carlini–Wagner margin $\max_{j\ne y}z_j-z_y$ per example (positive = misclassified)."""
    true = logits.gather(1, y[:, None])[:, 0]
    others = logits.masked_fill(F.one_hot(y, logits.shape[1]).bool(), float("-inf"))
    return others.max(1).values - true


def attack_loss(logits: torch.Tensor, y: torch.Tensor, loss: Loss,
                target: torch.Tensor | None = None) -> torch.Tensor:
    """Per-example loss the attacker *ascends*."""
    check_loss(loss)
    if target is not None:  # targeted: make the target class win
        if loss == "ce":
            return -F.cross_entropy(logits, target, reduction="none")
        return -margin_loss(logits, target)
    if loss == "ce":
        return F.cross_entropy(logits, y, reduction="none")
    return margin_loss(logits, y)


# The activations one gradient computation may hold. In smaller chunks they stay in the
# processor's caches: on the 2-core EPYC, PGD on StandardCNN (352 KB of activations an image)
# runs about 10 % faster in chunks of 64 images than of 128; FastCNN (45 KB) is fastest
# unchunked. Per-image gradients in eval mode do not depend on the chunk (bit-identical,
# tests/adversarial/test_attacks.py), so neither do the attacks' images.
CHUNK_BYTES = 24 * 2**20


def activation_bytes(model: nn.Module, x: torch.Tensor) -> int:
    """Bytes of the outputs of `model`'s leaf modules for the first image of `x` (one forward
    pass, no gradient): the activations a gradient computation holds per image."""
    total = 0

    def add(_module: nn.Module, _inputs: object, output: object) -> None:
        nonlocal total
        if isinstance(output, torch.Tensor):
            total += output.numel() * output.element_size()

    leaves = [m for m in model.modules() if next(m.children(), None) is None]
    hooks = [m.register_forward_hook(add) for m in leaves]
    try:
        with torch.no_grad():
            model(x[:1])
    finally:
        for hook in hooks:
            hook.remove()
    return total


def chunk_size(model: nn.Module, x: torch.Tensor) -> int:
    """Images per gradient computation: as many as keep their activations under
    `CHUNK_BYTES`, at least 16 (the model in eval mode, as the attacks call it)."""
    if len(x) <= 16:
        return max(len(x), 1)
    return max(16, CHUNK_BYTES // max(activation_bytes(model, x), 1))


def _input_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: Loss,
                    target: torch.Tensor | None,
                    chunk: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The gradient of the attack loss with respect to each image, and the logits, computed in
    equal chunks of at most `chunk` images (all at once by default)."""
    if chunk is not None and len(x) > chunk:
        pieces = -(-len(x) // chunk)
        parts = [_input_gradient(model, xs, ys, loss, ts) for xs, ys, ts in zip(
            x.tensor_split(pieces), y.tensor_split(pieces),
            [None] * pieces if target is None else target.tensor_split(pieces), strict=True)]
        return torch.cat([g for g, _ in parts]), torch.cat([logit for _, logit in parts])
    with torch.enable_grad():  # attacks work even when called under torch.no_grad()
        x = x.detach().requires_grad_(True)
        logits = model(x)
        values = attack_loss(logits, y, loss, target)
        (grad,) = torch.autograd.grad(values.sum(), x)
    return grad, logits.detach()


def _fooled(logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
    """Untargeted: predicted class is not `y`; targeted: predicted class is `target`."""
    return logits.argmax(1) != y if target is None else logits.argmax(1) == target


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, *,
         random_start: bool = False, step: float | None = None,
         generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Fast gradient sign method: one signed gradient step of the cross-entropy,
    $x+\varepsilon\,\mathrm{sign}\nabla_x\mathrm{CE}$, clipped to $[0,1]$ (Goodfellow et al. 2015).

    For training (FGSM-RS, Wong, Rice & Kolter 2020): `random_start=True` steps from a uniform
    random point of the $\varepsilon$-ball (drawn from `generator`), `step` (default
    $\varepsilon$) sets the step size, and the result is projected back onto the ball.
    """
    eps = check_eps(eps)
    step = eps if step is None else real(step, "step", NON_NEGATIVE)
    check_inputs(model, x, y)
    with eval_mode(model):
        if random_start:
            noise = torch.rand(x.shape, generator=generator, device=x.device)
            delta = (x + (noise * 2 - 1) * eps).clamp(0.0, 1.0) - x
        else:
            delta = torch.zeros_like(x)
        grad, _ = _input_gradient(model, x + delta, y, "ce", None)
        delta = (delta + step * grad.sign()).clamp(-eps, eps)
        return (x + delta).clamp(0.0, 1.0).detach()


def pgd(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int = 40,
    step_size: float | None = None, random_start: bool = True, restarts: int = 1,
    loss: Loss = "ce", target: torch.Tensor | None = None,
    generator: torch.Generator | None = None, early_stop: bool = False,
    schedule: Schedule = "constant", shards: int = 1,
) -> torch.Tensor:
    r"""Projected gradient descent (Madry et al. 2018) in the $\ell_\infty$ ball, batched.

    Each step: $\delta\leftarrow\Pi(\delta+\alpha\,\mathrm{sign}\nabla_\delta\ell)$, projected onto
    $\|\delta\|_\infty\le\varepsilon$ and $0\le x+\delta\le1$. With `restarts > 1`, each restart
    (from a fresh uniform random start) only attacks the examples still classified correctly
    (still not classified as `target`), and an example keeps its first successful perturbation;
    an example never fooled keeps the final iterate of its highest-loss restart.
    Default step size: $2.5\,\varepsilon/\text{steps}$; `schedule="cosine"` decays it from
    `step_size` towards 0 (see `step_sizes`).

    `early_stop=True` (for evaluation) stops attacking an example at the first iterate that
    fools the model and keeps that iterate: any fooling point inside the ball counts, so this is
    never weaker than keeping the last iterate, and it is much cheaper on a non-robust model.

    `shards > 1` splits the batch into that many parts, attacked side by side in threads with
    one intra-op thread each (see `in_shards`): faster on a CPU, where one small convolution
    parallelises badly over cores. Each part draws its random starts from its own generator,
    seeded from `generator`, so the result depends on `shards` but not on the machine. Within
    a part, gradients are computed in cache-sized chunks (`chunk_size`), which changes no bit.
    """
    eps = check_eps(eps)
    steps, restarts = integer(steps, "steps"), integer(restarts, "restarts")
    shards = integer(shards, "shards")
    alpha = 2.5 * eps / steps if step_size is None else real(step_size, "step_size", POSITIVE)
    alphas = step_sizes(alpha, steps, schedule)
    check_loss(loss)
    check_inputs(model, x, y, target)
    with eval_mode(model):  # entered once, here: the parts share the model
        chunk = chunk_size(model, x)
        if shards > 1 and len(x) >= 2:
            def attack_part(part: torch.Tensor, part_generator: torch.Generator) -> torch.Tensor:
                return _pgd(model, x[part], y[part], eps, alphas, random_start, restarts, loss,
                            None if target is None else target[part], part_generator,
                            early_stop, chunk)

            return in_shards(attack_part, len(x), shards, generator, x.device)
        return _pgd(model, x, y, eps, alphas, random_start, restarts, loss, target, generator,
                    early_stop, chunk)


def in_shards(attack_part, n: int, shards: int, generator: torch.Generator | None,
              device: torch.device) -> torch.Tensor:
    """`attack_part(indices, generator)` on `shards` contiguous parts of `n` images, side by
    side in threads (one intra-op thread each, restored afterwards), concatenated in order.
    Each part gets a generator seeded from `generator` (or torch's default one), drawn before
    any thread starts, so the result is the same for any number of cores."""
    parts = [p for p in torch.arange(n, device=device).tensor_split(shards) if len(p)]
    seeds = torch.randint(0, 2**62, (len(parts),), generator=generator,
                          device=generator.device if generator is not None else "cpu").tolist()
    generators = [torch.Generator(device=device).manual_seed(s) for s in seeds]
    threads = min(len(parts), torch.get_num_threads())
    if threads < 2:
        return torch.cat([attack_part(p, g) for p, g in zip(parts, generators, strict=True)])
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(attack_part, parts, generators))
    finally:
        torch.set_num_threads(previous)
    return torch.cat(results)


def _pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, alphas: list[float],
         random_start: bool, restarts: int, loss: Loss, target: torch.Tensor | None,
         generator: torch.Generator | None, early_stop: bool,
         chunk: int | None = None) -> torch.Tensor:
    """The PGD loop of `pgd`, on validated arguments, the model in eval mode; gradients `chunk`
    images at a time (see `chunk_size`)."""
    best = x.clone()
    best_loss = torch.full((len(x),), float("-inf"), device=x.device)
    active = torch.ones(len(x), dtype=torch.bool, device=x.device)
    for _ in range(restarts):
        idx = active.nonzero()[:, 0]
        if len(idx) == 0:
            break
        xa, ya = x[idx], y[idx]
        ta = None if target is None else target[idx]
        if random_start:
            noise = torch.rand(xa.shape, generator=generator, device=x.device)
            delta = ((2 * noise - 1) * eps + xa).clamp(0.0, 1.0) - xa
        else:
            delta = torch.zeros_like(xa)
        for alpha in alphas:
            grad, logits = _input_gradient(model, xa + delta, ya, loss, ta, chunk)
            if early_stop:
                fooled = _fooled(logits, ya, ta)
                if fooled.any():
                    best[idx[fooled]] = (xa + delta)[fooled].detach()
                    active[idx[fooled]] = False
                    keep = ~fooled
                    idx, xa, ya, delta, grad = idx[keep], xa[keep], ya[keep], delta[keep], grad[keep]
                    ta = None if ta is None else ta[keep]
                    if len(idx) == 0:
                        break
            # in place where the tensor is ours (the same operations in the same order as
            # (delta + alpha * grad.sign()).clamp, so the same bits, with fewer temporaries);
            # not on `grad`, which may be an expanded view (e.g. under a global sum)
            delta = delta.add_(grad.sign().mul_(alpha)).clamp_(-eps, eps)
            delta = (xa + delta).clamp_(0.0, 1.0).sub_(xa)
        if len(idx) == 0:
            continue
        x_adv = (xa + delta).detach()
        if restarts == 1:  # nothing to compare with: keep the last iterate, skip a forward pass
            best[idx] = x_adv
            break
        logits = model(x_adv)
        values = attack_loss(logits, ya, loss, ta)
        success = _fooled(logits, ya, ta)
        better = success | (values > best_loss[idx])
        best[idx[better]] = x_adv[better]
        best_loss[idx] = torch.maximum(best_loss[idx], values)
        active[idx[success]] = False
    return best.detach()


def pgd_top_targets(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float,
                    targets: int = 3, steps: int = 100, step_size: float | None = None,
                    loss: Loss = "margin", schedule: Schedule = "cosine",
                    generator: torch.Generator | None = None, shards: int = 1) -> torch.Tensor:
    r"""Targeted PGD towards each of the `targets` most likely wrong classes (by the clean
    logits) in turn; an image keeps the first perturbation that makes it misclassified.

    An image counts as broken if *any* of the targeted runs succeeds. Defaults: margin loss
    (it does not saturate when the softmax does), step size $2\varepsilon$ decaying on a cosine.
    """
    eps = check_eps(eps)
    targets = integer(targets, "targets")
    step_size = 2 * eps if step_size is None else step_size
    check_inputs(model, x, y)
    with torch.no_grad(), eval_mode(model):
        logits = model(x)
    if targets >= logits.shape[1]:
        raise ValueError(f"targets must be below the number of classes ({logits.shape[1]}), "
                         f"got {targets}")
    order = logits.masked_fill(F.one_hot(y, logits.shape[1]).bool(), float("-inf")).argsort(
        1, descending=True)
    best = x.clone()
    active = logits.argmax(1) == y
    for rank in range(targets):
        idx = active.nonzero()[:, 0]
        if len(idx) == 0:
            break
        x_adv = pgd(model, x[idx], y[idx], eps, steps=steps, step_size=step_size, loss=loss,
                    target=order[idx, rank], generator=generator, early_stop=True,
                    schedule=schedule, shards=shards)
        with torch.no_grad(), eval_mode(model):
            fooled = model(x_adv).argmax(1) != y[idx]
        best[idx[fooled]] = x_adv[fooled]
        active[idx[fooled]] = False
    return best
