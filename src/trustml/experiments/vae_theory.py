"""Extension: the VAE theory questions (HW3 1.3-1.7) measured on the trained categorical VAE.

One experiment on the main model of `ext-vae-bpd` (loaded from the cache, or trained) and on an
exact one-dimensional linear-Gaussian model:

- the gap between the importance-weighted estimate of log p(x) and the ELBO per test image, for
  growing K (it climbs towards KL(q || p(z|x)) = log p(x) - ELBO), and the same on the exact
  model, where that KL is known;
- the Monte-Carlo KL estimate with L samples against the closed form, per test image;
- single-sample gradient estimates of E_q log p(x|z) with respect to the encoder's mean and
  log-variance, by reparameterisation and by the score function (with and without a baseline).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from trustml.core.budget import Budget
from trustml.core.cache import Result, experiment, run_or_load
from trustml.core.chapters import declare_chapter
from trustml.core.validate import POSITIVE, check_config
from trustml.experiments.vae_bpd import (
    MAIN_CONFIGS,
    CategoricalVAEConfig,
    group_estimates,
    load_model,
    quantized_mnist,
)
from trustml.generative.vae import kl_standard_normal
from trustml.generative.vae_categorical import categorical_nll, log_importance_weights
from trustml.generative.vae_theory import (
    gaussian_kl,
    lg_elbo,
    lg_iwae,
    lg_log_evidence,
    lg_posterior,
    mc_kl_standard_normal,
    reparam_grads,
    score_function_grads,
)


@dataclass(frozen=True)
class TheoryConfig:
    model: CategoricalVAEConfig  # the main model the measurements are made on
    n_images: int  # test images for the IWAE gap and the Monte-Carlo KL
    ks: tuple[int, ...]  # importance samples; each divides the largest
    kl_samples: tuple[int, ...]  # L for the Monte-Carlo KL
    kl_repeats: int  # independent L-sample estimates per image
    grad_images: int  # test images for the gradient variance
    grad_samples: int  # single-sample gradient estimates per image
    lg_points: int  # data points of the linear-Gaussian model
    lg_w: float = 2.0
    lg_s: float = 0.5
    lg_mean_shrink: float = 0.8  # the imperfect q: mean shrunk towards 0 by this factor ...
    lg_var_scale: float = 2.0  # ... and variance scaled by this one
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, lg_s=POSITIVE, lg_var_scale=POSITIVE)
        if any(max(self.ks) % k for k in self.ks):
            raise ValueError(f"TheoryConfig.ks must all divide the largest, got {self.ks}")
        if self.grad_samples < 2:
            raise ValueError(f"TheoryConfig.grad_samples must be >= 2, got {self.grad_samples}")


THEORY_CONFIGS = {
    "full": TheoryConfig(MAIN_CONFIGS["full"], n_images=64, ks=(1, 10, 100, 1000),
                         kl_samples=(1, 4, 16, 64, 256), kl_repeats=200, grad_images=16,
                         grad_samples=1000, lg_points=2000),
    "smoke": TheoryConfig(MAIN_CONFIGS["smoke"], n_images=4, ks=(1, 10, 20),
                          kl_samples=(1, 4, 16), kl_repeats=20, grad_images=2,
                          grad_samples=20, lg_points=50),
}


def _iwae_by_k(log_w: torch.Tensor, ks: tuple[int, ...]) -> np.ndarray:
    """(len(ks), N): per image, the average of the K_max / K independent K-sample estimates."""
    k_max = log_w.shape[0]
    return np.stack([group_estimates(log_w, k_max // k).mean(0).numpy() for k in ks])


def _linear_gaussian(config: TheoryConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Exact evidence, ELBO and KL to the posterior, and IWAE estimates, on data from the model."""
    w, s = config.lg_w, config.lg_s
    x = w * rng.standard_normal(config.lg_points) + s * rng.standard_normal(config.lg_points)
    post_m, post_v = lg_posterior(x, w, s)
    m, v = config.lg_mean_shrink * post_m, config.lg_var_scale * post_v
    return {"lg_evidence": lg_log_evidence(x, w, s), "lg_elbo": lg_elbo(x, w, s, m, v),
            "lg_kl": gaussian_kl(m, v, post_m, post_v),
            "lg_iwae": np.stack([lg_iwae(x, w, s, m, v, k, rng) for k in config.ks])}


def _gradients(model, x: torch.Tensor, samples: int, gen: torch.Generator) -> dict[str, np.ndarray]:
    """Per image: the trace of the covariance of one-sample gradient estimates of
    E_q log p(x|z) w.r.t. (mu, logvar), and the mean gradient, for the three estimators."""
    var, means = [], []
    for xi in x:
        with torch.no_grad():
            mu, logvar = (t[0] for t in model.encode(xi[None]))
        eps = torch.randn(samples, len(mu), generator=gen)

        def log_lik(z: torch.Tensor, xi=xi) -> torch.Tensor:
            return -categorical_nll(model.decode_logits(z), xi[None].expand(len(z), -1, -1, -1))

        grads = [reparam_grads(log_lik, mu, logvar, eps),
                 score_function_grads(log_lik, mu, logvar, eps),
                 score_function_grads(log_lik, mu, logvar, eps, baseline=True)]
        var.append([float(g.var(0).sum()) for g in grads])
        means.append(torch.stack([g.mean(0) for g in grads]).numpy())
    return {"grad_var": np.array(var), "grad_mean": np.stack(means)}


@experiment("ext-vae-theory", version=1, configs=THEORY_CONFIGS,
            metrics=("kl_samples", "ks"))
def theory(config: TheoryConfig, budget: Budget) -> Result:
    """The ELBO gap against IWAE, the Monte-Carlo KL and the gradient estimators, measured."""
    model = load_model(run_or_load("ext-vae-bpd", config.model, budget))
    _, _, test = quantized_mnist(config.model.val_size, None, config.model.test_limit)
    gen = torch.Generator().manual_seed(config.seed)
    x = test[torch.randperm(len(test), generator=gen)[: max(config.n_images, config.grad_images)]]
    with torch.no_grad():
        log_w = log_importance_weights(model, x[: config.n_images], max(config.ks), "encoder", gen)
        mu, logvar = model.encode(x[: config.n_images])
        kl_mc = np.stack([
            torch.stack([mc_kl_standard_normal(mu, logvar, n, gen)
                         for _ in range(config.kl_repeats)]).numpy()
            for n in config.kl_samples])  # (len(L), repeats, N)
    arrays = {
        "elbo": log_w.mean(0).numpy(),  # the ELBO, estimated with K_max samples (MC KL inside)
        "iwae": _iwae_by_k(log_w, config.ks),
        "kl_exact": kl_standard_normal(mu, logvar).numpy(), "kl_mc": kl_mc.astype(np.float32),
        **_gradients(model, x[: config.grad_images], config.grad_samples, gen),
        **_linear_gaussian(config, np.random.default_rng(config.seed)),
    }
    return Result(metrics={"ks": list(config.ks), "kl_samples": list(config.kl_samples)},
                  arrays=arrays)


CHAPTER = declare_chapter(
    "chapters/ext-vae-bpd.qmd",
    ("mnist-standard-cnn", "ext-vae-bpd", "ext-vae-latents", "ext-vae-beta", "ext-vae-theory"),
    "trustml.views.vae_bpd", command="ext-vae",
    title="extension: categorical VAE in bits per dimension")

# the appendix that extends this chapter beyond the questions: the same experiments
APPENDIX = declare_chapter("chapters/app-vae-theory.qmd", CHAPTER.experiments, CHAPTER.view)
