import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from trustml.privacy import gaussian_mean as gm
from trustml.privacy import logistic as lr
from trustml.privacy.threshold import best_threshold, threshold_accuracy, tpr_at_fpr


def brute_force(ins, outs):
    candidates = np.concatenate([ins, outs, [np.inf]])
    return max(((ins >= t).sum() + (outs < t).sum()) / (len(ins) + len(outs)) for t in candidates)


scores = st.lists(st.integers(-5, 5).map(float), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(ins=scores, outs=scores)
def test_best_threshold_matches_brute_force_with_ties(ins, outs):
    ins, outs = np.array(ins), np.array(outs)
    fit = best_threshold(in_scores=ins, out_scores=outs)
    assert fit.accuracy == pytest.approx(brute_force(ins, outs))
    assert threshold_accuracy(in_scores=ins, out_scores=outs,
                              threshold=fit.threshold) == pytest.approx(fit.accuracy)


def test_batched_threshold_equals_one_by_one():
    rng = np.random.default_rng(0)
    ins, outs = rng.normal(1, 1, (20, 15)), rng.normal(0, 1, (20, 9))
    fit = best_threshold(in_scores=ins, out_scores=outs)
    for r in range(20):
        single = best_threshold(in_scores=ins[r], out_scores=outs[r])
        assert single.accuracy == fit.accuracy[r] and single.threshold == fit.threshold[r]


def test_hand_built_threshold_case():
    fit = best_threshold(in_scores=np.array([3.0, 4.0, 5.0]), out_scores=np.array([1.0, 2.0, 3.5]))
    assert fit.threshold == 3.0 and fit.accuracy == pytest.approx(5 / 6)
    everything_out = best_threshold(in_scores=np.array([0.0]), out_scores=np.array([1.0, 2.0]))
    assert everything_out.threshold == np.inf and everything_out.accuracy == pytest.approx(2 / 3)


def test_correctness_attack_on_a_hand_built_model():
    # two classes in 1-D: class 1 iff x > 0. Members: 3 correct, 1 wrong; non-members: 2 of 4.
    W, b = np.array([[-1.0], [1.0]]), np.zeros(2)
    X_in, y_in = np.array([[1.0], [2.0], [-1.0], [-3.0]]), np.array([1, 1, 0, 1])
    X_out, y_out = np.array([[1.0], [-1.0], [2.0], [-2.0]]), np.array([1, 1, 0, 0])
    acc_in, acc_out = lr.accuracy(W, b, X_in, y_in), lr.accuracy(W, b, X_out, y_out)
    assert (acc_in, acc_out) == (0.75, 0.5)
    attack = lr.correctness_attack_accuracy(acc_in, acc_out)
    correct_in = lr.correct(W, b, X_in, y_in)
    wrong_out = ~lr.correct(W, b, X_out, y_out)
    assert attack == pytest.approx((correct_in.sum() + wrong_out.sum()) / 8) == 0.625


def test_tpr_at_fpr():
    ins, outs = np.array([5.0, 4.0, 0.5, 0.1]), np.arange(100) / 100.0  # outs in [0, 0.99]
    assert tpr_at_fpr(in_scores=ins, out_scores=outs, fpr=0.0) == 0.5  # above every non-member
    assert tpr_at_fpr(in_scores=ins, out_scores=outs, fpr=0.5) == 0.75  # the top half of outs may be flagged
    with pytest.raises(ValueError):
        tpr_at_fpr(in_scores=ins, out_scores=outs, fpr=1.5)


def test_noise_draws_reproducible_from_seed():
    model = lr.LinearModel(W=np.ones((3, 4)), b=np.zeros(3))
    a = lr.noisy_parameters(model, 0.5, 7, np.random.default_rng(42))
    b = lr.noisy_parameters(model, 0.5, 7, np.random.default_rng(42))
    c = lr.noisy_parameters(model, 0.5, 7, np.random.default_rng(43))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    s1 = gm.simulate_scores(10, 5, 3, np.random.default_rng(1), sigma2=0.2)
    s2 = gm.simulate_scores(10, 5, 3, np.random.default_rng(1), sigma2=0.2)
    assert all(np.array_equal(x, y) for x, y in zip(s1, s2, strict=True))


def test_negative_variance_is_rejected():
    model = lr.LinearModel(W=np.ones((3, 4)), b=np.zeros(3))
    with pytest.raises(ValueError, match="sigma"):
        lr.noisy_parameters(model, -0.1, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="sigma"):
        gm.simulate_scores(5, 5, 2, np.random.default_rng(0), sigma2=-1.0)


def test_n_larger_than_the_data_is_rejected(real_data_root):
    with pytest.raises(ValueError, match="Fashion-MNIST has 10000"):
        lr.fashion_features(100, 20_000)


def test_score_moments_match_simulation():
    d, n = 200, 50
    ins, outs, _ = gm.simulate_scores(d, n, 400, np.random.default_rng(0))
    mean_in, sd_in, sd_out = gm.score_moments(d, n)
    assert ins.mean() == pytest.approx(mean_in, rel=0.05)
    assert ins.std() == pytest.approx(sd_in, rel=0.05)
    assert outs.std() == pytest.approx(sd_out, rel=0.05)
    assert gm.simple_prediction(d, n) == pytest.approx(norm.cdf(0.5 * np.sqrt(d / n)))


def test_dp_epsilon_decreases_with_noise():
    eps = [lr.dp_gd_epsilon(50, s, 1e-5) for s in (1.0, 4.0, 16.0)]
    assert eps[0] > eps[1] > eps[2] > 0
    assert lr.dp_gd_epsilon(50, 0.0, 1e-5) == float("inf")
