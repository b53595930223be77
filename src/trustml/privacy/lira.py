"""The likelihood-ratio attack (LiRA, Carlini et al. 2022) from a population of models.

A population of models is trained on random halves of a candidate pool (in complementary
pairs, so every point is IN for exactly half of them). Each model in turn is the *target*; the
others are its *shadow models*. For every candidate point the attack fits a Gaussian to the
statistic $\\phi$ of the shadow models that trained on it (IN) and one to those that did not
(OUT), and scores the target's $\\phi$:

- online: $\\log N(\\phi;\\mu_{in},\\sigma_{in}^2)-\\log N(\\phi;\\mu_{out},\\sigma_{out}^2)$;
- offline: $\\log\\Phi((\\phi-\\mu_{out})/\\sigma_{out})$, a one-sided test against OUT only;
- fixed variance: one $\\sigma$ per side shared by all points (better with few shadow models),
  else a variance per point.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

VARIANTS = ("online", "online_fixed", "offline_fixed")


def complementary_splits(models: int, pool: int, rng: np.random.Generator) -> np.ndarray:
    """`(models, pool)` membership masks: pairs of complementary random halves."""
    if models < 2 or models % 2:
        raise ValueError(f"models must be an even number >= 2, got {models}")
    if pool < 2 or pool % 2:
        raise ValueError(f"pool must be an even number >= 2, got {pool}")
    masks = np.zeros((models, pool), bool)
    for k in range(0, models, 2):
        masks[k, rng.permutation(pool)[: pool // 2]] = True
        masks[k + 1] = ~masks[k]
    return masks


def lira_scores(target_phi: np.ndarray, *, shadow_phi: np.ndarray, shadow_in: np.ndarray,
                variant: str = "online") -> np.ndarray:
    """LiRA scores of the N candidate points (higher: more likely a member).

    `shadow_phi (K, N)` are the statistics of the points under K shadow models and
    `shadow_in (K, N)` says which points each shadow model trained on.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    shadow_phi = np.asarray(shadow_phi, dtype=np.float64)
    shadow_in = np.asarray(shadow_in)
    if shadow_in.dtype != bool and not np.isin(shadow_in, (0, 1)).all():
        raise ValueError("shadow_in must say which points each shadow model trained on (booleans "
                         "or 0/1), got other values: are shadow_phi and shadow_in swapped?")
    if shadow_phi.shape != shadow_in.shape or shadow_phi.ndim != 2:
        raise ValueError("shadow_phi and shadow_in must be (K, N) arrays of the same shape")
    if np.shape(target_phi) != shadow_phi.shape[1:]:
        raise ValueError(f"target_phi must have shape {shadow_phi.shape[1:]}, "
                         f"got {np.shape(target_phi)}")
    ins, outs = shadow_in.astype(bool), ~shadow_in.astype(bool)
    per_point = variant == "online"
    need = 2 if per_point else 1
    if (ins.sum(0) < need).any() or (outs.sum(0) < need).any():
        raise ValueError(f"every point needs at least {need} IN and {need} OUT shadow models")
    mu_in, var_in = _side(shadow_phi, ins, per_point)
    mu_out, var_out = _side(shadow_phi, outs, per_point)
    if variant == "offline_fixed":
        return norm.logcdf((target_phi - mu_out) / np.sqrt(var_out))
    return _logpdf(target_phi, mu_in, var_in) - _logpdf(target_phi, mu_out, var_out)


def _side(phi: np.ndarray, mask: np.ndarray, per_point: bool) -> tuple[np.ndarray, np.ndarray]:
    """Mean per point and variance (per point, or pooled over all points) of one side."""
    count = mask.sum(0)
    mu = (phi * mask).sum(0) / count
    sq = (phi - mu) ** 2 * mask
    var = sq.sum(0) / (count - 1) if per_point else sq.sum() / (count - 1).sum()
    return mu, np.maximum(var, 1e-6)


def _logpdf(x: np.ndarray, mu: np.ndarray, var: np.ndarray) -> np.ndarray:
    return -0.5 * (x - mu) ** 2 / var - 0.5 * np.log(var)


def separation(shadow_phi: np.ndarray, shadow_in: np.ndarray) -> np.ndarray:
    """Per point, $(\\mu_{in}-\\mu_{out})/\\sqrt{(\\sigma_{in}^2+\\sigma_{out}^2)/2}$: how many
    shadow standard deviations training on the point moves its statistic."""
    mu_in, var_in = _side(shadow_phi, shadow_in, True)
    mu_out, var_out = _side(shadow_phi, ~shadow_in, True)
    return (mu_in - mu_out) / np.sqrt((var_in + var_out) / 2)


def leave_one_out(phi: np.ndarray, masks: np.ndarray, targets: int,
                  variant: str) -> tuple[np.ndarray, np.ndarray]:
    """Attack each of the first `targets` models with all the others as shadow models.

    `phi (M, N)` is every model's statistic on every point and `masks (M, N)` their training
    sets. Returns `(scores, is_member)`, both `(targets, N)`.
    """
    if not 1 <= targets <= len(phi):
        raise ValueError(f"targets must be in [1, {len(phi)}], got {targets}")
    scores = np.empty((targets, phi.shape[1]))
    for t in range(targets):
        others = np.arange(len(phi)) != t
        scores[t] = lira_scores(phi[t], shadow_phi=phi[others], shadow_in=masks[others],
                                variant=variant)
    return scores, masks[:targets].copy()
