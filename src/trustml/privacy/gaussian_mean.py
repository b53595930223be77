r"""Membership inference against a released Gaussian mean.

Members $X_1..X_n$ and non-members $Y_1..Y_n$ are $N(0, I_d)$; the release is
$\tilde\mu=\bar\mu+\xi$ with $\bar\mu=\frac1n\sum_i X_i$ and $\xi\sim N(0,\sigma^2 I_d)$ (the noise
defence; $\sigma^2=0$ is no defence). The attack scores a point by $\langle Z,\tilde\mu\rangle$.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm


def _check(d: int, n: int, reps: int, sigma2: float) -> None:
    if d < 1 or n < 1 or reps < 1:
        raise ValueError(f"d, n and reps must be >= 1, got d={d}, n={n}, reps={reps}")
    if not np.isfinite(sigma2) or sigma2 < 0:
        raise ValueError(f"the noise variance sigma^2 must be >= 0, got {sigma2}")


def simulate_scores(
    d: int, n: int, reps: int, rng: np.random.Generator, sigma2: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`reps` independent worlds at once: IN scores `(reps, n)`, OUT scores `(reps, n)` and the
    released means `(reps, d)`."""
    _check(d, n, reps, sigma2)
    X = rng.standard_normal((reps, n, d))
    Y = rng.standard_normal((reps, n, d))
    mu = X.mean(axis=1)
    if sigma2 > 0:
        mu = mu + np.sqrt(sigma2) * rng.standard_normal((reps, d))
    return np.einsum("rnd,rd->rn", X, mu), np.einsum("rnd,rd->rn", Y, mu), mu


def score_moments(d: float, n: float, sigma2: float = 0.0) -> tuple[float, float, float]:
    r"""Mean of the IN score and the two standard deviations.

    IN: $\langle X_i,\tilde\mu\rangle
    =\frac1n(\|X_i\|^2+\langle X_i,\sum_{k\ne i}X_k\rangle)+\langle X_i,\xi\rangle$ has mean $d/n$ and
    variance $(2d+d(n-1))/n^2+d\sigma^2=d(n+1)/n^2+d\sigma^2$.
    OUT: $\langle Y,\tilde\mu\rangle$ has mean 0 and variance $E\|\tilde\mu\|^2=d/n+d\sigma^2$.
    """
    mean_in = d / n
    sd_in = np.sqrt(d * (n + 1) / n**2 + d * sigma2)
    sd_out = np.sqrt(d / n + d * sigma2)
    return mean_in, sd_in, sd_out


def predicted_accuracy(d: float, n: float, sigma2: float = 0.0) -> float:
    r"""Best accuracy of a threshold on Gaussian approximations of the two score laws.

    With equal variances $d/n$ (and $\sigma^2=0$) this is $\Phi(\tfrac12\sqrt{d/n})$.
    """
    mean_in, sd_in, sd_out = score_moments(d, n, sigma2)
    t = np.linspace(-1.0, 2.0, 2001) * mean_in
    acc = 0.5 * (norm.cdf((mean_in - t) / sd_in) + norm.cdf(t / sd_out))
    return float(acc.max())


def simple_prediction(d: float, n: float, sigma2: float = 0.0) -> float:
    r"""$\Phi\big(\frac{d/n}{2\sqrt{d/n+d\sigma^2}}\big)$, i.e. $\Phi(\tfrac12\sqrt{d/n})$ without noise."""
    return float(norm.cdf((d / n) / (2 * np.sqrt(d / n + d * sigma2))))
