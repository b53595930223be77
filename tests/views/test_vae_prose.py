"""The categorical-VAE chapter's computed sentences (HW3 1.9-1.11) on small made-up results."""

from __future__ import annotations

import numpy as np
import pytest

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
    assert "the left column holds 0 (middle)" in vp.manifold_text(
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


def test_a_tie_in_the_beta_sweep_is_named_as_a_tie():
    runs = {"0.5": {**_run(100, 20, 0.564, 20), "test_bpd_se": 0.001},
            "1.0": {**_run(110, 12, 0.565, 18), "test_bpd_se": 0.001},
            "4.0": {**_run(140, 3, 0.700, 5), "test_bpd_se": 0.001}}
    metrics = {"betas": [0.5, 1.0, 4.0], "runs": runs}
    best = vp.beta_answer(Result(metrics=metrics, arrays={}))["best"]
    assert "cannot tell β = 0.5 and β = 1 apart (0.564 and 0.565 bpd" in best, best
    assert "at β = 4 it is worse, 0.700 bpd" in best and "lowest at" not in best, best
    assert vp.lowest_bound_phrase(metrics) == (
        "the bound is lowest, within its 95 % interval, at β = 0.5 and β = 1")
    runs["1.0"]["test_bpd"] = 0.60  # far outside the interval: one winner
    assert vp.lowest_bound_phrase(metrics) == "the bound is lowest at β = 0.5"


def test_the_best_validation_epoch_is_worded_for_where_it_falls():
    import pandas as pd

    falling = pd.DataFrame({"epoch": [1, 2, 3], "val_bpd": [0.7, 0.6, 0.55]})
    assert vp.validation_best_phrase(falling) == "fell to its lowest, 0.550, in the last epoch (3)"
    turned = pd.DataFrame({"epoch": [1, 2, 3], "val_bpd": [0.7, 0.5, 0.55]})
    assert vp.validation_best_phrase(turned) == "was lowest in epoch 2 (0.500)"


@pytest.mark.parametrize(("bpd", "half", "words"), [
    (0.5652, 0.004, "the same bound"), (0.530, 0.004, "a tighter bound"),
    (0.600, 0.004, "a looser bound")])
def test_the_reference_comparison_reads_the_reference_at_its_precision(bpd, half, words):
    from trustml.views.vae_prose import reference_comparison

    text = reference_comparison(bpd, half, 13)
    assert words in text and "13 epochs" in text
