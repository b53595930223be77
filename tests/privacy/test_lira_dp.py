import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from trustml.privacy import lira
from trustml.privacy import logistic as lr
from trustml.privacy.dp_bound import dp_tpr_bound
from trustml.privacy.threshold import auc, pooled_tpr_interval, roc_curve, tpr_at_fpr, tpr_at_fprs


def gaussian_world(models=40, points=30, shift=1.0, seed=0):
    """Shadow statistics: N(0, 1) per point, + `shift` when the point is IN."""
    rng = np.random.default_rng(seed)
    masks = lira.complementary_splits(models, points, rng)
    base = rng.normal(0, 3, points)  # per-point difficulty
    phi = base + shift * masks + rng.standard_normal(masks.shape)
    return phi, masks


@pytest.mark.parametrize("variant", lira.VARIANTS)
def test_lira_ranks_members_first_when_the_signal_is_strong(variant):
    phi, masks = gaussian_world(shift=8.0)
    scores, member = lira.leave_one_out(phi, masks, 6, variant)
    for s, m in zip(scores, member, strict=True):
        assert s[m].min() > s[~m].max()


def test_online_lira_is_the_gaussian_likelihood_ratio():
    phi, masks = gaussian_world()
    target, shadows, shadow_in = phi[0], phi[1:], masks[1:]
    s = lira.lira_scores(target, shadow_phi=shadows, shadow_in=shadow_in, variant="online")
    j = 7
    ins, outs = shadows[shadow_in[:, j], j], shadows[~shadow_in[:, j], j]
    expected = (norm.logpdf(target[j], ins.mean(), ins.std(ddof=1))
                - norm.logpdf(target[j], outs.mean(), outs.std(ddof=1)))
    assert s[j] == pytest.approx(expected)


def test_complementary_splits_put_every_point_in_half_of_the_models():
    masks = lira.complementary_splits(10, 8, np.random.default_rng(0))
    assert (masks.sum(0) == 5).all() and (masks.sum(1) == 4).all()
    with pytest.raises(ValueError, match="even"):
        lira.complementary_splits(3, 8, np.random.default_rng(0))


def test_lira_rejects_bad_inputs():
    phi, masks = gaussian_world()
    with pytest.raises(ValueError, match="variant"):
        lira.lira_scores(phi[0], shadow_phi=phi[1:], shadow_in=masks[1:], variant="psychic")
    with pytest.raises(ValueError, match="same shape"):
        lira.lira_scores(phi[0], shadow_phi=phi[1:], shadow_in=masks[2:])
    with pytest.raises(ValueError, match="target_phi"):
        lira.lira_scores(phi[0][:5], shadow_phi=phi[1:], shadow_in=masks[1:])
    with pytest.raises(ValueError, match="at least 2 IN"):
        # a pair + one: 1 on some side
        lira.lira_scores(phi[0], shadow_phi=phi[:3], shadow_in=masks[:3], variant="online")
    with pytest.raises(ValueError, match="targets"):
        lira.leave_one_out(phi, masks, 0, "online")


def test_separation_measures_the_shift_in_standard_deviations():
    phi, masks = gaussian_world(models=400, shift=2.0)
    assert np.median(lira.separation(phi, masks)) == pytest.approx(2.0, abs=0.3)


# ------------------------------------------------------------------------------ the DP bound
def gaussian_roc(fpr, mu):
    """Best test between N(0, 1) and N(mu, 1): TPR = Phi(mu - Phi^-1(1 - FPR))."""
    return norm.cdf(mu - norm.ppf(1 - fpr))


def gaussian_delta(eps, mu):
    """The tight delta(eps) of the Gaussian mechanism with sensitivity / sigma = mu (Balle & Wang
    2018)."""
    return norm.cdf(-eps / mu + mu / 2) - np.exp(eps) * norm.cdf(-eps / mu - mu / 2)


@settings(max_examples=100, deadline=None)
@given(mu=st.floats(0.05, 4.0), eps=st.floats(0.0, 8.0))
def test_the_gaussian_mechanism_respects_its_bound_and_touches_it(mu, eps):
    fpr = np.concatenate([[0.0], np.geomspace(1e-6, 1, 400)])
    delta = float(np.clip(gaussian_delta(eps, mu), 0, 1))
    bound = dp_tpr_bound(fpr, eps, delta)
    assert (gaussian_roc(fpr, mu) <= bound + 1e-9).all()
    # the tight delta makes the bound tight: the ROC touches it somewhere
    assert (bound - gaussian_roc(fpr, mu)).min() < 1e-2


def test_bound_by_hand():
    assert dp_tpr_bound(0.0, 0.0, 0.0) == 0.0
    assert dp_tpr_bound(0.3, 0.0, 0.0) == pytest.approx(0.3)  # eps = 0: no attack beats guessing
    assert dp_tpr_bound(0.01, 1.0, 1e-5) == pytest.approx(np.e * 0.01 + 1e-5)
    assert dp_tpr_bound(0.01, 10.0, 1e-5) > 0.9999  # vacuous
    # the second constraint: 1 - FPR <= e^eps (1 - TPR) + delta
    assert dp_tpr_bound(0.9, 1.0, 0.0) == pytest.approx(1 - np.exp(-1) * 0.1)


@settings(max_examples=50, deadline=None)
@given(eps=st.floats(0, 20), delta=st.floats(0, 1))
def test_bound_is_a_monotone_roc_above_the_diagonal(eps, delta):
    fpr = np.linspace(0, 1, 101)
    b = dp_tpr_bound(fpr, eps, delta)
    assert (np.diff(b) >= -1e-12).all() and (b >= fpr - 1e-12).all() and (b <= 1).all()


@pytest.mark.parametrize("fpr, eps, delta, match", [
    (0.1, -1.0, 0.0, "epsilon"), (0.1, float("nan"), 0.0, "epsilon"), (0.1, 1.0, 1.5, "delta"),
    (1.5, 1.0, 0.0, "fpr"), (np.array([0.1, np.nan]), 1.0, 0.0, "fpr"),
])
def test_bound_rejects_bad_inputs(fpr, eps, delta, match):
    with pytest.raises(ValueError, match=match):
        dp_tpr_bound(fpr, eps, delta)


# ----------------------------------------------------------------------- ROC summaries
@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-4, 4), min_size=1, max_size=15),
       st.lists(st.integers(-4, 4), min_size=1, max_size=15), st.floats(0, 1))
def test_vectorised_tpr_and_auc_agree_with_the_curve(ins, outs, f):
    ins, outs = np.array(ins, float), np.array(outs, float)
    fpr, tpr = roc_curve(in_scores=ins, out_scores=outs)
    at = tpr_at_fpr(in_scores=ins, out_scores=outs, fpr=f)
    assert tpr_at_fprs(in_scores=ins, out_scores=outs, fprs=[f])[0] == at == tpr[fpr <= f].max()
    assert auc(in_scores=ins, out_scores=outs) == pytest.approx(np.trapezoid(tpr, fpr))


def test_pooled_interval_brackets_the_pooled_estimate():
    rng = np.random.default_rng(0)
    member = np.zeros((12, 400), bool)
    member[:, :200] = True
    scores = rng.standard_normal(member.shape) + 1.5 * member
    est, lo, hi = pooled_tpr_interval(scores, member, [0.01, 0.1], 200, rng)
    assert (lo <= est).all() and (est <= hi).all() and (hi - lo > 0).all()
    assert est[1] == pytest.approx(gaussian_roc(0.1, 1.5), abs=0.05)
    with pytest.raises(ValueError, match="same shape|one shape"):
        pooled_tpr_interval(scores, member[:3], [0.01], 10, rng)


def test_batched_dp_gd_trains_each_model_on_its_own_mask():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    masks = lira.complementary_splits(2, 40, rng)
    batch = lr.dp_gd_population(X, y, masks, steps=5, clip=1.0, noise_multiplier=0.0 + 1e-9,
                                lr=1.0, rng=np.random.default_rng(1), classes=3)
    alone = lr.dp_gd(X[masks[1]], y[masks[1]], steps=5, clip=1.0, noise_multiplier=1e-9, lr=1.0,
                     rng=np.random.default_rng(2), classes=3)
    np.testing.assert_allclose(batch[1].W, alone.W, atol=1e-6)
    with pytest.raises(ValueError, match="masks"):
        lr.dp_gd_population(X, y, masks[:, :5], steps=1, clip=1.0, noise_multiplier=1.0, lr=1.0,
                            rng=rng)


def test_auc_takes_its_scores_by_name_so_the_scikit_learn_order_cannot_slip_in():
    labels, scores = np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.8, 0.3])
    with pytest.raises(TypeError):
        auc(labels, scores)  # scikit-learn's (y_true, y_score) order: refused, not misread
    assert auc(in_scores=scores[labels == 1], out_scores=scores[labels == 0]) == 1.0
