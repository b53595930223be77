import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from trustml.generative.vae import kl_standard_normal
from trustml.generative.vae_theory import (
    gaussian_kl,
    lg_elbo,
    lg_iwae,
    lg_log_evidence,
    lg_posterior,
    log_normal_diag,
    mc_kl_standard_normal,
    reparam_grads,
    score_function_grads,
)

floats = st.floats(-2.0, 2.0)


def test_log_normal_diag_matches_torch():
    g = torch.Generator().manual_seed(0)
    z, mu, logvar = (torch.randn(5, 3, generator=g) for _ in range(3))
    dist = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    assert log_normal_diag(z, mu, logvar) == pytest.approx(dist.log_prob(z).sum(-1), abs=1e-5)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_mc_kl_is_unbiased_for_the_closed_form(seed):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(4, 3, generator=g, dtype=torch.float64)
    logvar = torch.randn(4, 3, generator=g, dtype=torch.float64)
    exact = kl_standard_normal(mu, logvar)
    # 200 independent 50-sample estimates: their mean is within 5 standard errors of the truth
    reps = torch.stack([mc_kl_standard_normal(mu, logvar, 50, g) for _ in range(200)])
    se = reps.std(0) / math.sqrt(len(reps))
    assert ((reps.mean(0) - exact).abs() <= 5 * se + 1e-12).all()


def test_mc_kl_error_shrinks_like_one_over_sqrt_l():
    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.tensor([[0.5, -1.0]]), torch.tensor([[-0.5, 0.3]])
    sd = {n: torch.stack([mc_kl_standard_normal(mu, logvar, n, g) for _ in range(2000)]).std()
          for n in (4, 64)}
    assert float(sd[4] / sd[64]) == pytest.approx(4.0, rel=0.15)


def test_mc_kl_is_exact_when_q_is_the_prior():
    zeros = torch.zeros(2, 5)
    assert torch.allclose(mc_kl_standard_normal(zeros, zeros, 10), torch.zeros(2), atol=1e-6)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_mc_kl_rejects_bad_sample_counts(bad):
    with pytest.raises(ValueError, match="samples"):
        mc_kl_standard_normal(torch.zeros(1, 2), torch.zeros(1, 2), bad)


def test_mc_kl_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        mc_kl_standard_normal(torch.zeros(1, 2), torch.zeros(1, 3), 5)


def _quadratic(a: torch.Tensor, b: torch.Tensor):
    """f(z) = a.z + b.z^2: E_q f = a.mu + b.(mu^2 + sigma^2), so the gradient is exact."""
    def f(z: torch.Tensor) -> torch.Tensor:
        return z @ a + z.pow(2) @ b

    def exact(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return torch.cat([a + 2 * b * mu, b * logvar.exp()])
    return f, exact


@settings(max_examples=15, deadline=None)
@given(st.lists(floats, min_size=2, max_size=2), st.lists(floats, min_size=2, max_size=2),
       st.integers(0, 10_000))
def test_both_estimators_match_the_exact_gradient_in_mean(mu_list, logvar_list, seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.tensor([1.0, -0.5], dtype=torch.float64)
    b = torch.tensor([0.3, 0.8], dtype=torch.float64)
    f, exact = _quadratic(a, b)
    mu = torch.tensor(mu_list, dtype=torch.float64)
    logvar = torch.tensor(logvar_list, dtype=torch.float64)
    eps = torch.randn(20_000, 2, generator=g, dtype=torch.float64)
    truth = exact(mu, logvar)
    for grads in (reparam_grads(f, mu, logvar, eps),
                  score_function_grads(f, mu, logvar, eps),
                  score_function_grads(f, mu, logvar, eps, baseline=True)):
        se = grads.std(0) / math.sqrt(len(grads))
        assert ((grads.mean(0) - truth).abs() <= 5 * se + 1e-9).all()


def test_reparameterisation_has_lower_variance_on_a_smooth_objective():
    g = torch.Generator().manual_seed(0)
    f, _ = _quadratic(torch.tensor([1.0, -0.5]), torch.tensor([0.3, 0.8]))
    mu, logvar = torch.tensor([1.0, -1.0]), torch.tensor([-2.0, -2.0])
    eps = torch.randn(5000, 2, generator=g)
    rep = reparam_grads(f, mu, logvar, eps).var(0).sum()
    score = score_function_grads(f, mu, logvar, eps).var(0).sum()
    assert float(score / rep) > 10


def test_the_baseline_needs_two_samples_and_gaussians_must_be_vectors():
    f, _ = _quadratic(torch.ones(2), torch.ones(2))
    with pytest.raises(ValueError, match="at least 2"):
        score_function_grads(f, torch.zeros(2), torch.zeros(2), torch.zeros(1, 2), baseline=True)
    with pytest.raises(ValueError, match="vectors"):
        reparam_grads(f, torch.zeros(1, 2), torch.zeros(1, 2), torch.zeros(3, 2))


@settings(max_examples=40, deadline=None)
@given(floats, st.floats(0.1, 3.0), st.floats(-5.0, 5.0), floats, st.floats(0.05, 3.0))
def test_evidence_is_elbo_plus_kl_to_the_posterior(w, s, x, m, v):
    post_m, post_v = lg_posterior(x, w, s)
    kl = gaussian_kl(m, v, post_m, post_v)
    assert float(lg_log_evidence(x, w, s)) == pytest.approx(float(lg_elbo(x, w, s, m, v) + kl),
                                                            abs=1e-9)
    assert kl >= -1e-12
    # q equal to the posterior closes the gap
    assert float(lg_elbo(x, w, s, post_m, post_v)) == pytest.approx(
        float(lg_log_evidence(x, w, s)), abs=1e-9)


def test_linear_gaussian_evidence_against_numerical_integration():
    w, s, x = 1.3, 0.4, 0.7
    z = np.linspace(-10, 10, 200_001)
    joint = np.exp(-0.5 * ((x - w * z) ** 2 / s**2 + z**2)) / (2 * math.pi * s)
    assert math.log(np.trapezoid(joint, z)) == pytest.approx(float(lg_log_evidence(x, w, s)),
                                                             abs=1e-8)


def test_iwae_climbs_from_the_elbo_to_the_evidence():
    rng = np.random.default_rng(0)
    w, s, x, m, v = 2.0, 0.5, np.full(4000, 1.5), 0.2, 0.3
    elbo, evidence = float(lg_elbo(x[0], w, s, m, v)), float(lg_log_evidence(x[0], w, s))
    means = [float(lg_iwae(x, w, s, m, v, k, rng).mean()) for k in (1, 10, 1000)]
    assert means[0] == pytest.approx(elbo, abs=0.1)
    assert means[0] < means[1] < means[2] <= evidence + 1e-3
    assert means[2] == pytest.approx(evidence, abs=0.05)


def test_linear_gaussian_rejects_bad_parameters():
    with pytest.raises(ValueError, match="s"):
        lg_log_evidence(0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="variances"):
        gaussian_kl(0.0, -1.0, 0.0, 1.0)


def test_experiment_configs_name_the_offending_field():
    import dataclasses

    from trustml.experiments.vae_bpd import LATENTS_CONFIGS
    from trustml.experiments.vae_theory import THEORY_CONFIGS

    smoke = THEORY_CONFIGS["smoke"]
    with pytest.raises(ValueError, match="ks must all divide"):
        dataclasses.replace(smoke, ks=(3, 10))
    with pytest.raises(ValueError, match="grad_samples"):
        dataclasses.replace(smoke, grad_samples=1)
    with pytest.raises(ValueError, match="lg_s"):
        dataclasses.replace(smoke, lg_s=0.0)
    smoke_latents = LATENTS_CONFIGS["smoke"]
    with pytest.raises(ValueError, match="main model"):
        dataclasses.replace(smoke_latents, model=dataclasses.replace(smoke_latents.model, latent=2))
    assert smoke_latents.small_model().latent == 2
    assert dataclasses.replace(smoke_latents.small_model(), latent=smoke_latents.model.latent) \
        == smoke_latents.model  # trained exactly like the main model
    with pytest.raises(ValueError, match="groups"):
        dataclasses.replace(LATENTS_CONFIGS["smoke"], groups=10**6)

