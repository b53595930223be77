"""The categorical-VAE chapter's computed sentences (HW3 1.9-1.11) on small made-up results."""

from __future__ import annotations

import numpy as np

from trustml.core.cache import Result
from trustml.views import vae_prose as vp


def test_ink_and_stray_pixels():
    img = np.zeros((1, 28, 28))
    img[0, 5:8, 5] = 3  # a 3-pixel stroke
    img[0, 20, 20] = 1  # one stray pixel
    ink, stray = vp._ink_stats(img)
    assert ink == 4 / 784 and stray == 1 / 4


def test_manifold_places_name_where_each_digit_sits():
    grid = np.full((6, 6), 8)
    grid[:, :2] = 0  # left edge
    grid[:2, 4:] = 1  # top right
    places = vp.manifold_places(Result(metrics={}, arrays={"manifold_digits": grid.ravel()}))
    assert places["the left side"] == [0] and places["the top right"] == [1]
    assert "0 sits on the left side" in vp.manifold_text(
        Result(metrics={}, arrays={"manifold_digits": grid.ravel()}))


def _run(rec, kl, bpd, busy):
    return {"test_rec": rec, "test_kl": kl, "test_bpd": bpd,
            "kl_per_dim": [1.0] * busy + [0.0] * (20 - busy)}


def test_beta_answer_follows_the_values():
    runs = {"0.5": _run(100, 20, 0.60, 20), "1.0": _run(110, 12, 0.55, 18),
            "4.0": _run(140, 3, 0.70, 5)}
    answer = vp.beta_answer(Result(metrics={"betas": [0.5, 1.0, 4.0], "runs": runs}, arrays={}))
    assert "best at β = 1 (0.550 bpd)" in answer["best"] and "not monotone" in answer["best"]
    assert "20.0 nats" in answer["small"] and "is worse" in answer["small"]
    assert "only 5 of 20" in answer["big"] and "other 15 have collapsed" in answer["big"]
    runs["0.5"]["test_bpd"] = 0.50  # now beta < 1 has the best bound
    answer = vp.beta_answer(Result(metrics={"betas": [0.5, 1.0, 4.0], "runs": runs}, arrays={}))
    assert "best at β = 0.5" in answer["best"] and "not monotone" not in answer["best"]
    assert "is worse" not in answer["small"]
