import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustml.generative.metrics import frechet_bootstrap, frechet_by_size, frechet_of_features
from trustml.generative.precision_recall import knn_radii, precision_recall


def blobs(centres, n, rng, scale=0.3):
    """`n` points split evenly among Gaussian blobs at `centres` (2-D)."""
    centres = np.asarray(centres, float)
    k = rng.integers(0, len(centres), n)
    return centres[k] + scale * rng.standard_normal((n, centres.shape[1]))


def test_same_distribution_has_high_precision_and_recall():
    rng = np.random.default_rng(0)
    p, r = precision_recall(rng.standard_normal((1500, 2)), rng.standard_normal((1500, 2)))
    assert p > 0.9 and r > 0.9


def test_disjoint_distributions_have_zero_precision_and_recall():
    rng = np.random.default_rng(1)
    real = blobs([[0, 0]], 500, rng)
    fake = blobs([[50, 50]], 500, rng)
    assert precision_recall(real, fake) == (0.0, 0.0)


def test_mode_dropping_costs_recall_not_precision():
    rng = np.random.default_rng(2)
    real = blobs([[0, 0], [20, 0]], 2000, rng)
    fake = blobs([[0, 0]], 1000, rng)  # only one of the two modes, faithfully
    p, r = precision_recall(real, fake)
    assert p > 0.9
    assert r == pytest.approx(0.5, abs=0.06)


def test_junk_costs_precision_not_recall():
    rng = np.random.default_rng(3)
    real = blobs([[0, 0], [20, 0]], 2000, rng)
    fake = blobs([[0, 0], [20, 0], [0, 40]], 3000, rng)  # a third of the samples are junk
    p, r = precision_recall(real, fake)
    assert p == pytest.approx(2 / 3, abs=0.06)
    assert r > 0.9


def test_knn_radii_by_hand():
    pts = np.array([[0.0], [1.0], [3.0], [7.0]])
    import torch
    radii = knn_radii(torch.from_numpy(pts), k=1)
    assert radii.tolist() == [1.0, 1.0, 2.0, 4.0]
    assert knn_radii(torch.from_numpy(pts), k=2).tolist() == [3.0, 2.0, 3.0, 6.0]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 4))
def test_precision_and_recall_are_fractions_and_swap(seed, k):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((40, 3)), rng.standard_normal((30, 3)) + 1
    p, r = precision_recall(a, b, k)
    assert 0 <= p <= 1 and 0 <= r <= 1
    assert precision_recall(b, a, k) == pytest.approx((r, p))


@pytest.mark.parametrize("real, fake, k, match", [
    (np.zeros((5, 2)), np.zeros((5, 3)), 1, "differ in size"),
    (np.zeros(5), np.zeros((5, 2)), 1, "real must be"),
    (np.zeros((5, 2)), np.full((5, 2), np.nan), 1, "NaN"),
    (np.zeros((5, 2)), np.zeros((5, 2)), 5, "k must be"),
    (np.zeros((5, 2)), np.zeros((5, 2)), 0, "k must be"),
])
def test_invalid_inputs(real, fake, k, match):
    with pytest.raises(ValueError, match=match):
        precision_recall(real, fake, k)


def test_frechet_estimate_and_interval():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((800, 4)), rng.standard_normal((800, 4)) + 0.5
    est, lo, hi = frechet_bootstrap(a, b, 100, rng)
    assert est == pytest.approx(frechet_of_features(a, b))
    assert lo < est < hi and hi - est == pytest.approx(est - lo)
    assert hi - lo < 0.5
    assert est == pytest.approx(4 * 0.25, abs=0.25)  # squared mean shift (+ a small-sample bias)


def test_frechet_by_size_falls_towards_the_truth_as_samples_grow():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2000, 8)), rng.standard_normal((2000, 8))  # truth: 0
    d = frechet_by_size(a, b, (50, 2000), 3, rng)
    assert d.shape == (2, 3)
    assert d[0].mean() > d[1].mean() > 0  # the small-sample bias
    with pytest.raises(ValueError, match="sizes"):
        frechet_by_size(a, b, (3000,), 1, rng)
    with pytest.raises(ValueError, match="reps"):
        frechet_bootstrap(a, b, 1, rng)
