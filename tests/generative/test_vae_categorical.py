import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from trustml.generative.vae_categorical import (
    LEVELS,
    ConvCategoricalVAE,
    categorical_elbo_terms,
    categorical_nll,
    dequantize,
    effective_sample_size,
    iwae_log_likelihood,
    log_importance_weights,
    nats_to_bpd,
    prior_mc_log_likelihood,
    quantize,
    to_unit,
)


def test_bpd_conversion():
    assert nats_to_bpd(784 * math.log(2)) == pytest.approx(1.0)
    # a uniform categorical over 16 levels costs exactly 4 bits per pixel
    logits = torch.zeros(3, LEVELS, 28, 28)
    x = torch.randint(0, LEVELS, (3, 1, 28, 28))
    assert nats_to_bpd(categorical_nll(logits, x)).tolist() == pytest.approx([4.0] * 3)


def test_categorical_nll_against_a_hand_computation():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, LEVELS, 28, 28, generator=g)
    x = torch.randint(0, LEVELS, (2, 1, 28, 28), generator=g)
    expected = np.zeros(2)
    lg = logits.numpy().astype(np.float64)
    for n in range(2):
        for i in range(28):
            for j in range(28):
                z = lg[n, :, i, j]
                log_softmax = z - (np.log(np.exp(z - z.max()).sum()) + z.max())
                expected[n] -= log_softmax[x[n, 0, i, j]]
    assert categorical_nll(logits, x).numpy() == pytest.approx(expected, rel=1e-5)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 255), min_size=1, max_size=50))
def test_quantisation_round_trip(values):
    v = torch.tensor(values, dtype=torch.uint8)
    q = quantize(v)
    assert int(q.min()) >= 0 and int(q.max()) <= LEVELS - 1
    assert torch.equal(quantize(dequantize(q)), q)  # dequantize is a right inverse
    assert int((dequantize(q).long() - v.long()).abs().max()) <= 256 // LEVELS // 2
    assert float(to_unit(q).min()) >= 0 and float(to_unit(q).max()) <= 1


def test_quantize_rejects_floats():
    with pytest.raises(TypeError, match="uint8"):
        quantize(torch.rand(3))


def tiny_model(latent=2, seed=0):
    torch.manual_seed(seed)
    return ConvCategoricalVAE(latent=latent, hidden=16, channels=(4, 8)).eval()


def test_iwae_is_at_least_the_elbo_and_tightens_with_k():
    model = tiny_model()
    x = torch.randint(0, LEVELS, (4, 1, 28, 28), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        mu, logvar = model.encode(x)
        terms = categorical_elbo_terms(model, x, torch.Generator().manual_seed(2))
        # ELBO with the reconstruction averaged over many posterior samples (a precise value)
        log_w = log_importance_weights(model, x, 2000, "encoder", torch.Generator().manual_seed(3))
    elbo_precise = log_w.mean(0)
    iwae_1000 = iwae_log_likelihood(model, x, 1000, torch.Generator().manual_seed(4))
    iwae_10 = iwae_log_likelihood(model, x, 10, torch.Generator().manual_seed(5))
    assert bool((iwae_1000 >= elbo_precise).all())
    assert float(iwae_1000.mean()) >= float(iwae_10.mean()) - 0.05  # monotone in expectation
    # the one-sample ELBO with analytic KL agrees with the weights' mean up to MC noise
    assert float((-(terms.reconstruction + terms.kl)).mean()) == pytest.approx(
        float(elbo_precise.mean()), rel=0.05)
    assert mu.shape == (4, 2) and logvar.shape == (4, 2)


def test_prior_and_encoder_estimates_agree_in_one_dimension():
    """With a 1-D latent the prior covers the posterior well, so both unbiased estimators of
    p(x) must agree closely with many samples."""
    model = tiny_model(latent=1, seed=3)
    x = torch.randint(0, LEVELS, (2, 1, 28, 28), generator=torch.Generator().manual_seed(6))
    enc = iwae_log_likelihood(model, x, 4000, torch.Generator().manual_seed(7))
    pri = prior_mc_log_likelihood(model, x, 4000, torch.Generator().manual_seed(8))
    assert enc.numpy() == pytest.approx(pri.numpy(), abs=0.5)


def test_effective_sample_size_bounds():
    uniform = torch.zeros(50, 3)
    assert effective_sample_size(uniform).numpy() == pytest.approx([50.0] * 3)
    one_hot = torch.full((50, 1), -1e4)
    one_hot[7] = 0.0
    assert float(effective_sample_size(one_hot)) == pytest.approx(1.0)


def test_sampled_pixels_are_levels():
    model = tiny_model()
    imgs = model.sample_pixels(torch.randn(3, 2), torch.Generator().manual_seed(0))
    levels = imgs * (LEVELS - 1)
    assert torch.allclose(levels, levels.round()) and imgs.shape == (3, 1, 28, 28)
    means = model.sample(torch.randn(3, 2))
    assert float(means.min()) >= 0 and float(means.max()) <= 1
