"""Every interval and test the book reports: Wilson's interval for a proportion, the Wald
interval of a paired difference of two proportions, and McNemar's exact test."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.stats import binomtest


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval for a binomial proportion `successes / n`."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n > 0, got {successes} of {n}")
    p = successes / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return float(centre - half), float(centre + half)


def paired_difference_interval(a_only: int, b_only: int, n: int, z: float = 1.96
                               ) -> tuple[float, float, float]:
    """The difference of two accuracies measured on the same n images, (b_only - a_only) / n,
    and its 95 % Wald interval for paired proportions (only the discordant images vary)."""
    if n <= 0 or a_only < 0 or b_only < 0 or a_only + b_only > n:
        raise ValueError(f"need 0 <= a_only, b_only and a_only + b_only <= n > 0, got "
                         f"{a_only}, {b_only}, {n}")
    diff = (b_only - a_only) / n
    var = max((a_only + b_only) / n - diff ** 2, 0.0) / n
    half = z * math.sqrt(var)
    return diff, diff - half, diff + half


def _booleans(name: str, values: Any) -> np.ndarray:
    """A 1-d boolean numpy array from a boolean numpy array or tensor (one entry per image)."""
    array = values.detach().cpu().numpy() if hasattr(values, "detach") else values
    if not isinstance(array, np.ndarray) or array.dtype != np.bool_ or array.ndim != 1:
        raise ValueError(f"{name} must be a 1-d boolean tensor (one entry per image)")
    return array


def mcnemar(a_correct: Any, b_correct: Any) -> dict[str, float]:
    """Exact McNemar test of two models on the same images (boolean 'correct' per image, numpy
    or torch).

    `a_only`/`b_only` count the images only A / only B gets right; the two-sided p-value is
    that of `b_only` successes in `a_only + b_only` fair coin flips (1 when they are equal).
    """
    a, b = _booleans("a_correct", a_correct), _booleans("b_correct", b_correct)
    if a.shape != b.shape:
        raise ValueError(f"a_correct and b_correct must cover the same images, got {len(a)} "
                         f"and {len(b)}")
    a_only = int((a & ~b).sum())
    b_only = int((b & ~a).sum())
    n = a_only + b_only
    p = 1.0 if n == 0 else float(binomtest(b_only, n, 0.5).pvalue)
    return {"a_only": a_only, "b_only": b_only, "p_value": min(p, 1.0),
            "difference": (b_only - a_only) / len(a) if len(a) else 0.0}
