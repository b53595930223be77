r"""The estimators behind the VAE theory questions, as pure functions.

- `mc_kl_standard_normal`: a Monte-Carlo estimate of $\mathrm{KL}(q\,\|\,N(0,I))$ from $L$ samples
  of a diagonal Gaussian $q$, $\frac1L\sum_l[\log q(z_l)-\log p(z_l)]$, for when the KL has no
  closed form (here it has one, so the estimate can be checked against it).
- `reparam_grads` / `score_function_grads`: single-sample estimates of the gradient of
  $\mathbb E_{q}[f(z)]$ with respect to the mean and log-variance of $q$, by the
  reparameterisation $z=\mu+\sigma\varepsilon$ and by the score function (REINFORCE,
  Williams 1992), $f(z)\nabla\log q(z)$, optionally with a leave-one-out baseline.
- A one-dimensional linear-Gaussian model, $z\sim N(0,1)$, $x\mid z\sim N(wz,s^2)$, whose
  evidence, posterior, ELBO and KL to the posterior are all exact: the identity
  $\log p(x)=\mathrm{ELBO}+\mathrm{KL}(q\,\|\,p(z\mid x))$ can be checked to rounding error.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from trustml.core.validate import POSITIVE, real

LOG_2PI = math.log(2 * math.pi)


def _samples(samples: int) -> int:
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be an integer >= 1, got {samples!r}")
    return samples


def log_normal_diag(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    r"""$\log N(z;\mu,\mathrm{diag}\,e^{\ell})$ summed over the last dimension (broadcasting)."""
    return -0.5 * (((z - mu) ** 2) / logvar.exp() + logvar + LOG_2PI).sum(-1)


def mc_kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor, samples: int,
                          generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Per row of `mu`/`logvar` (N, D): $\frac1L\sum_{l=1}^L[\log q(z_l)-\log N(z_l;0,I)]$ with
    $z_l\sim q=N(\mu,\mathrm{diag}\,e^{\ell})$, $L$ = `samples`. Unbiased for the closed form."""
    _samples(samples)
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} "
                         f"and {tuple(logvar.shape)}")
    eps = torch.randn((samples, *mu.shape), generator=generator, dtype=mu.dtype)
    z = mu + (0.5 * logvar).exp() * eps
    # log q(z) - log p(z), with (z - mu)^2 / sigma^2 = eps^2 exactly
    log_ratio = 0.5 * (z.pow(2) - eps.pow(2) - logvar).sum(-1)
    return log_ratio.mean(0)


def _check_gaussian(mu: torch.Tensor, logvar: torch.Tensor) -> None:
    if mu.ndim != 1 or mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must be vectors of one shape, got {tuple(mu.shape)} "
                         f"and {tuple(logvar.shape)}")


def reparam_grads(f: Callable[[torch.Tensor], torch.Tensor], mu: torch.Tensor,
                  logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    r"""(L, 2D) single-sample gradients of $\mathbb E_q f(z)$ with respect to $(\mu,\ell)$ by
    reparameterisation, one row per $\varepsilon_l$ in `eps` (L, D): with
    $z=\mu+e^{\ell/2}\varepsilon$, $\partial_\mu=\nabla f(z)$ and
    $\partial_\ell=\nabla f(z)\odot\varepsilon e^{\ell/2}/2$. `f` maps (L, D) to (L,), row by row."""
    _check_gaussian(mu, logvar)
    sigma = (0.5 * logvar.detach()).exp()
    z = (mu.detach() + sigma * eps).requires_grad_(True)
    with torch.enable_grad():
        (grad_z,) = torch.autograd.grad(f(z).sum(), z)
    return torch.cat([grad_z, grad_z * eps * sigma / 2], dim=1)


def score_function_grads(f: Callable[[torch.Tensor], torch.Tensor], mu: torch.Tensor,
                         logvar: torch.Tensor, eps: torch.Tensor,
                         baseline: bool = False) -> torch.Tensor:
    r"""(L, 2D) single-sample score-function (REINFORCE) gradients of $\mathbb E_q f(z)$:
    $(f(z_l)-b_l)\nabla_{\mu,\ell}\log q(z_l)$ with $\nabla_\mu\log q=\varepsilon/\sigma$,
    $\nabla_\ell\log q=(\varepsilon^2-1)/2$. `baseline=True` uses the leave-one-out mean
    $b_l=\frac1{L-1}\sum_{m\ne l}f(z_m)$ (still unbiased: $b_l$ does not depend on $z_l$);
    otherwise $b_l=0$. `f` is only evaluated, never differentiated."""
    _check_gaussian(mu, logvar)
    if baseline and len(eps) < 2:
        raise ValueError("a leave-one-out baseline needs at least 2 samples")
    sigma = (0.5 * logvar.detach()).exp()
    with torch.no_grad():
        fz = f(mu.detach() + sigma * eps)
        if baseline:
            fz = fz - (fz.sum() - fz) / (len(fz) - 1)
        score = torch.cat([eps / sigma, (eps.pow(2) - 1) / 2], dim=1)
    return fz[:, None] * score


# ------------------------------------------------------------- the linear-Gaussian model


def _params(w: float, s: float) -> tuple[float, float]:
    return real(w, "w"), real(s, "s", POSITIVE)


def lg_log_evidence(x: np.ndarray, w: float, s: float) -> np.ndarray:
    r"""$\log p(x)=\log N(x;0,w^2+s^2)$."""
    w, s = _params(w, s)
    var = w * w + s * s
    return -0.5 * (np.asarray(x, float) ** 2 / var + math.log(var) + LOG_2PI)


def lg_posterior(x: np.ndarray, w: float, s: float) -> tuple[np.ndarray, float]:
    r"""Exact posterior $p(z\mid x)=N(wx/(w^2+s^2),\,s^2/(w^2+s^2))$: (mean, variance)."""
    w, s = _params(w, s)
    var = w * w + s * s
    return w * np.asarray(x, float) / var, s * s / var


def gaussian_kl(m1: np.ndarray, v1: np.ndarray, m2: np.ndarray, v2: np.ndarray) -> np.ndarray:
    r"""$\mathrm{KL}(N(m_1,v_1)\,\|\,N(m_2,v_2))$ for scalars, elementwise; variances > 0."""
    v1, v2 = np.asarray(v1, float), np.asarray(v2, float)
    if np.any(v1 <= 0) or np.any(v2 <= 0):
        raise ValueError("variances must be > 0")
    return 0.5 * (np.log(v2 / v1) + (v1 + (np.asarray(m1) - np.asarray(m2)) ** 2) / v2 - 1)


def lg_elbo(x: np.ndarray, w: float, s: float, m: np.ndarray, v: np.ndarray) -> np.ndarray:
    r"""Exact ELBO for $q=N(m,v)$: $\mathbb E_q\log N(x;wz,s^2)-\mathrm{KL}(q\,\|\,N(0,1))$,
    with $\mathbb E_q(x-wz)^2=(x-wm)^2+w^2v$."""
    w, s = _params(w, s)
    x, m, v = (np.asarray(a, float) for a in (x, m, v))
    rec = -0.5 * (((x - w * m) ** 2 + w * w * v) / (s * s) + math.log(s * s) + LOG_2PI)
    return rec - gaussian_kl(m, v, 0.0, 1.0)


def lg_iwae(x: np.ndarray, w: float, s: float, m: np.ndarray, v: np.ndarray, k: int,
            rng: np.random.Generator) -> np.ndarray:
    r"""One $K$-sample importance-weighted estimate of $\log p(x)$ per element of `x`, with
    proposals $z_k\sim q=N(m,v)$: $\log\frac1K\sum_k p(x\mid z_k)p(z_k)/q(z_k)$."""
    w, s = _params(w, s)
    _samples(k)
    x, m, v = (np.asarray(a, float) for a in (x, m, v))
    z = m + np.sqrt(v) * rng.standard_normal((k, *x.shape))
    log_w = (-0.5 * ((x - w * z) ** 2 / (s * s) + math.log(s * s) + LOG_2PI)
             - 0.5 * (z ** 2 + LOG_2PI) + 0.5 * ((z - m) ** 2 / v + np.log(v) + LOG_2PI))
    top = log_w.max(0)
    return top + np.log(np.exp(log_w - top).mean(0))
