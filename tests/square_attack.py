r"""Square attack (Andriushchenko et al. 2020): a gradient-free, score-based $\ell_\infty$ attack.

It never looks at a gradient, so it is the standard check for gradient masking: if a model
looks robust to PGD but not to random search on its outputs, its gradients are lying.
Each iteration proposes, for every still-correct image, a new $\pm\varepsilon$ patch of side
$s$ at a random place and keeps it if the Carlini–Wagner margin $\max_{j\ne y}z_j-z_y$ grows.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from trustml.adversarial.attacks import check_eps, check_inputs, eval_mode, margin_loss
from trustml.core.validate import Interval, integer, real

# iterations (out of 10,000) after which the patch fraction p halves (the paper's schedule)
_HALVINGS = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)


def patch_fraction(i: int, queries: int, p_init: float) -> float:
    """Fraction of pixels changed at iteration `i`, the paper's schedule rescaled to `queries`."""
    scaled = int(i * 10_000 / max(queries, 1))
    return p_init / 2 ** sum(scaled > h for h in _HALVINGS)


@torch.no_grad()
def square_attack(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float,
                  queries: int = 1000, p_init: float = 0.3,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Batched Linf Square attack; stops on an image as soon as it is misclassified."""
    eps = check_eps(eps)
    queries = integer(queries, "queries")
    p_init = real(p_init, "p_init", Interval(0.0, 1.0, lo_open=True))
    check_inputs(model, x, y)
    if x.ndim != 4:
        raise ValueError(f"x must be a batch of images (N, C, H, W), got shape {tuple(x.shape)}")
    n, c, h, w = x.shape
    with eval_mode(model):
        # initialisation: vertical stripes of +-eps
        stripes = torch.randint(0, 2, (n, c, 1, w), generator=generator).to(x) * 2 - 1
        x_adv = (x + eps * stripes).clamp(0, 1)
        margin = margin_loss(model(x_adv), y)
        rows = torch.arange(h, device=x.device)[None, :, None]
        cols = torch.arange(w, device=x.device)[None, None, :]
        for i in range(queries):
            idx = (margin <= 0).nonzero()[:, 0]  # positive margin = already fooled
            if len(idx) == 0:
                break
            s = max(1, min(h - 1, round(math.sqrt(patch_fraction(i, queries, p_init) * h * w))))
            top = torch.randint(0, h - s + 1, (len(idx), 1, 1), generator=generator).to(x.device)
            left = torch.randint(0, w - s + 1, (len(idx), 1, 1), generator=generator).to(x.device)
            inside = ((rows >= top) & (rows < top + s) & (cols >= left) & (cols < left + s))[:, None]
            signs = torch.randint(0, 2, (len(idx), c, 1, 1), generator=generator).to(x) * 2 - 1
            xi = x[idx]
            delta = torch.where(inside, eps * signs, x_adv[idx] - xi)
            candidate = (xi + delta).clamp(0, 1)
            new_margin = margin_loss(model(candidate), y[idx])
            better = new_margin > margin[idx]
            x_adv[idx[better]] = candidate[better]
            margin[idx[better]] = new_margin[better]
    return x_adv
