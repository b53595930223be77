r"""The chapter's measurements, as pure functions of models and images.

* `stratified_halves`: two disjoint halves of a labelled set with equal class counts (2.1c).
* `sign_noise`, `l2_noise`: the random baselines of FGSM (2.1b): a random sign pattern of the
  same $\ell_\infty$ size, and a random direction of the same $\ell_2$ norm as $\varepsilon\,
  \mathrm{sign}(\cdot)$, i.e. $\varepsilon\sqrt d$.
* `loss_change`: per image, the loss before and after a perturbation and the first-order
  prediction $\eta^\top\nabla_xJ$.
* `transfer_accuracy`: adversarial examples crafted on one model, classified by another.
* `input_gradients`, `gradient_cosine`: how alike two models' input gradients are.
* `objective_gradients`: the parameter gradients of the adversarial loss and of the appended
  batch, for the identity of 2.3(b).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from trustml.adversarial.attacks import check_eps, eval_mode
from trustml.core.torch_utils import in_mode, predict
from trustml.core.validate import UNIT, real
from trustml.fasttrain.training import appended_loss, mixed_adversarial_loss


def stratified_halves(labels: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of two disjoint halves of `labels`, each holding half of every class (an odd
    class count puts its extra image in the first half); shuffled within each half."""
    if labels.ndim != 1 or labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError("labels must be a 1-d integer tensor of class labels")
    gen = torch.Generator().manual_seed(seed)
    first, second = [labels.new_empty(0)], [labels.new_empty(0)]
    for c in labels.unique():
        idx = (labels == c).nonzero()[:, 0]
        idx = idx[torch.randperm(len(idx), generator=gen)]
        k = (len(idx) + 1) // 2
        first.append(idx[:k])
        second.append(idx[k:])
    a, b = torch.cat(first), torch.cat(second)
    return a[torch.randperm(len(a), generator=gen)], b[torch.randperm(len(b), generator=gen)]


def sign_noise(x: torch.Tensor, eps: float, generator: torch.Generator) -> torch.Tensor:
    r"""A random perturbation $\varepsilon\cdot s$, $s$ uniform on $\{-1,1\}^d$ (before clipping
    to the image box): FGSM's $\ell_\infty$ size without its direction."""
    eps = check_eps(eps)
    signs = torch.randint(0, 2, x.shape, generator=generator, device=x.device).to(x.dtype)
    return eps * (2 * signs - 1)


def l2_noise(x: torch.Tensor, eps: float, generator: torch.Generator) -> torch.Tensor:
    r"""A uniformly random direction per image with $\ell_2$ norm $\varepsilon\sqrt d$, FGSM's
    $\ell_2$ norm (before clipping to the image box)."""
    eps = check_eps(eps)
    g = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    d = x[0].numel()
    norms = g.flatten(1).norm(dim=1).clamp_min(1e-12)
    return g * (eps * math.sqrt(d) / norms).view(-1, *([1] * (x.ndim - 1)))


def input_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                    batch_size: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Per image: the cross-entropy $J(x,y)$ and its gradient $\nabla_xJ$ (eval mode)."""
    losses, grads = [], []
    with eval_mode(model), torch.enable_grad():
        for i in range(0, len(x), batch_size):
            xb = x[i: i + batch_size].detach().requires_grad_(True)
            loss = F.cross_entropy(model(xb), y[i: i + batch_size], reduction="none")
            (g,) = torch.autograd.grad(loss.sum(), xb)
            losses.append(loss.detach())
            grads.append(g)
    return torch.cat(losses), torch.cat(grads)


@torch.no_grad()
def loss_change(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eta: torch.Tensor,
                grad: torch.Tensor, clean_loss: torch.Tensor) -> dict[str, torch.Tensor]:
    r"""Per image, for the perturbation $\eta$ clipped to the box ($x+\eta\in[0,1]$): the actual
    loss increase $J(x+\eta)-J(x)$, the first-order prediction $\eta^\top\nabla_xJ$ (of the
    clipped $\eta$), whether the image is still classified correctly, and $\|\eta\|_\infty$,
    $\|\eta\|_2$ of the clipped perturbation."""
    x_new = (x + eta).clamp(0.0, 1.0)
    eta = x_new - x
    logits = predict(model, x_new)
    loss = F.cross_entropy(logits, y, reduction="none")
    return {"increase": loss - clean_loss, "first_order": (eta * grad).flatten(1).sum(1),
            "correct": logits.argmax(1) == y, "linf": eta.flatten(1).abs().amax(1),
            "l2": eta.flatten(1).norm(dim=1)}


def gradient_cosine(g1: torch.Tensor, g2: torch.Tensor) -> torch.Tensor:
    """Per image, the cosine of two gradients (0 where either vanishes)."""
    a, b = g1.flatten(1), g2.flatten(1)
    denom = a.norm(dim=1) * b.norm(dim=1)
    return torch.where(denom > 0, (a * b).sum(1) / denom.clamp_min(1e-30), torch.zeros_like(denom))


def transfer_accuracy(target: nn.Module, x_adv: torch.Tensor, y: torch.Tensor,
                      clean_correct: torch.Tensor | None = None) -> float:
    """Accuracy of `target` on adversarial examples crafted on another model; with
    `clean_correct`, only images both models classify correctly clean count (so a transfer
    rate is not inflated by clean errors)."""
    correct = predict(target, x_adv).argmax(1) == y
    if clean_correct is not None:
        correct = correct[clean_correct]
    return float(correct.float().mean()) if len(correct) else float("nan")


def objective_gradients(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                        x_adv: torch.Tensor, alpha: float = 0.5, train_mode: bool = False,
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The flattened parameter gradients of the adversarial loss $\alpha J(x)+(1-\alpha)
    J(x_{adv})$ (two forward passes) and of the mean loss over the appended batch (one pass of
    2N). Equal for $\alpha=\tfrac12$ when the model has no batch-dependent layer in the mode
    used (`train_mode=False`: batch-norm uses its running statistics). The model's mode and
    batch-norm running statistics are left as they were."""
    alpha = real(alpha, "alpha", UNIT)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    params = [p for p in model.parameters() if p.requires_grad]
    out = []
    try:
        with in_mode(model, training=train_mode):
            for loss_fn in (lambda: mixed_adversarial_loss(model, x, y, x_adv, alpha),
                            lambda: appended_loss(model, x, y, x_adv)):
                grads = torch.autograd.grad(loss_fn(), params)
                out.append(torch.cat([g.flatten() for g in grads]))
    finally:
        model.load_state_dict(state)
    return out[0], out[1]
