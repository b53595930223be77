"""The IWAE - ELBO gap of HW3 1.3 and the one implied by the likelihood table, reconciled."""

from __future__ import annotations

import numpy as np

from trustml.core.cache import Result
from trustml.views import vae_theory as tv

MODEL = {"latent": 20, "seed": 0}


def _results(seed: int = 0):
    rng = np.random.default_rng(0)
    n, k = 64, 1000
    elbo_k = -290.0 + rng.normal(size=n)  # the K-sample ELBO per image
    iwae = elbo_k + 10.0
    one_sample = elbo_k + rng.normal(scale=5.0, size=n)  # one posterior sample per image
    latents = Result(arrays={"20/elbo": one_sample, "20/encoder_full": iwae - 0.2},
                     meta={"config": {"model": MODEL, "n_images": n, "samples": k, "seed": seed}})
    theory = Result(arrays={"elbo": elbo_k, "iwae": np.stack([elbo_k, iwae])},
                    meta={"config": {"model": MODEL, "n_images": n, "ks": [1, k], "seed": 0}})
    return latents, theory, one_sample, elbo_k


def test_the_two_gaps_differ_by_the_two_estimates_differences():
    latents, theory, one_sample, elbo_k = _results()
    g = tv.gap_agreement(latents, theory)
    assert g["same_images"] and np.isclose(g["theory_gap"], 10.0)
    assert np.isclose(g["theory_gap"] - g["table_gap"], g["elbo_diff"] + g["iwae_diff"])
    assert np.isclose(g["iwae_diff"], 0.2, atol=1e-4)
    assert np.isclose(g["elbo_se"], (one_sample - elbo_k).std(ddof=1) / 8)


def test_the_sentence_states_both_gaps_and_why():
    latents, theory, *_ = _results()
    g = tv.gap_agreement(latents, theory)
    text = tv.gap_agreement_sentence(latents, theory)
    assert f"a gap of {g['table_gap']:.2f} nats on the same 64 test images, not 10.00" in text
    assert "one posterior sample per image" in text and "standard errors" in text
    assert f"the {g['theory_gap'] - g['table_gap']:.2f} nats between the two gaps" in text


def test_other_images_are_not_called_the_same():
    latents, theory, *_ = _results(seed=1)
    text = tv.gap_agreement_sentence(latents, theory)
    assert "other test images" in text and "standard errors" not in text
