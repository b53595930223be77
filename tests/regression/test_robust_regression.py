import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustml.experiments.robust_regression import lambda_max, pivotal_lambda
from trustml.regression.robust import (
    inner_max_pga,
    perturbed_loss,
    project_columns,
    robust_minmax_cutting_plane,
    solve_sqrt_lasso_cvxpy,
    solve_sqrt_lasso_statsmodels,
    sqrt_lasso_objective,
    worst_case_perturbation,
)


def instance(seed, n=12, d=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.3 * rng.normal(size=n)
    return X, y, rng


# lam >= 1e-100 or 0: below, the squares in np.linalg.norm of a column of length lam are subnormal
# and the test itself measures the norm 3 % off (found by hypothesis at lam = 3e-162)
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 8), d=st.integers(1, 8),
       lam=st.one_of(st.just(0.0), st.floats(1e-100, 10)), zero_frac=st.floats(0, 1))
def test_worst_case_attains_the_bound(seed, n, d, lam, zero_frac):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(n, d)), rng.normal(size=n)
    w = rng.normal(size=d) * (rng.uniform(size=d) >= zero_frac)
    Z = worst_case_perturbation(X, y, w, lam)
    assert np.all(np.linalg.norm(Z, axis=0) <= lam * (1 + 1e-12))
    bound = sqrt_lasso_objective(X, y, w, lam)
    assert perturbed_loss(X, y, w, Z) == pytest.approx(bound, rel=1e-12, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), lam=st.floats(0.01, 5))
def test_no_feasible_perturbation_beats_the_bound(seed, lam):
    X, y, rng = instance(seed)
    w = rng.normal(size=X.shape[1])
    bound = sqrt_lasso_objective(X, y, w, lam)
    for _ in range(20):
        Z = project_columns(rng.normal(size=X.shape) * 3 * lam, lam)
        assert perturbed_loss(X, y, w, Z) <= bound * (1 + 1e-12)


def test_gradient_ascent_converges_to_the_bound_from_below():
    X, y, rng = instance(1)
    w = rng.normal(size=X.shape[1])
    bound = sqrt_lasso_objective(X, y, w, 0.7)
    ascent = inner_max_pga(X, y, w, 0.7, steps=200, starts=16)
    assert ascent.history.max() <= bound * (1 + 1e-12)
    assert ascent.values.min() == pytest.approx(bound, rel=1e-8)
    assert np.all(np.diff(ascent.history, axis=0) >= -1e-9)  # ascent never goes down


def test_edge_case_zero_residual():
    X = np.eye(3)
    w = np.array([1.0, -2.0, 0.0])
    y = X @ w  # r = 0
    Z = worst_case_perturbation(X, y, w, 0.5)
    assert perturbed_loss(X, y, w, Z) == pytest.approx(0.5 * 3)
    assert np.all(Z[:, 2] == 0)  # w_j = 0 gives z_j = 0


def test_edge_case_w_zero():
    X, y, _ = instance(2)
    w = np.zeros(X.shape[1])
    assert perturbed_loss(X, y, w, worst_case_perturbation(X, y, w, 3.0)) == pytest.approx(
        np.linalg.norm(y))


def test_cvxpy_objective_at_solution_and_optimality():
    X, y, rng = instance(3, n=30, d=6)
    lam = 0.4 * lambda_max(X, y)
    sol = solve_sqrt_lasso_cvxpy(X, y, lam)
    assert sol.status == "optimal"
    assert sol.value == pytest.approx(np.linalg.norm(X @ sol.w - y) + lam * np.abs(sol.w).sum())
    for _ in range(50):  # no random nearby point is better
        w = sol.w + 1e-3 * rng.normal(size=sol.w.shape)
        assert sqrt_lasso_objective(X, y, w, lam) >= sol.value - 1e-9


def test_lambda_zero_is_least_squares():
    X, y, _ = instance(4, n=30, d=5)
    sol = solve_sqrt_lasso_cvxpy(X, y, 0.0)
    ls = np.linalg.lstsq(X, y, rcond=None)[0]
    assert sol.value == pytest.approx(np.linalg.norm(X @ ls - y), rel=1e-8)
    np.testing.assert_allclose(sol.w, ls, atol=1e-4)  # interior-point accuracy on w


def test_above_lambda_max_the_solution_is_zero():
    X, y, _ = instance(5, n=30, d=5)
    sol = solve_sqrt_lasso_cvxpy(X, y, 1.05 * lambda_max(X, y))
    assert np.abs(sol.w).max() < 1e-6


def test_statsmodels_scaling_matches():
    X, y, _ = instance(6, n=40, d=6)
    lam = 0.3 * lambda_max(X, y)
    ours = solve_sqrt_lasso_cvxpy(X, y, lam)
    theirs = solve_sqrt_lasso_statsmodels(X, y, lam)
    assert theirs.value == pytest.approx(ours.value, rel=1e-6)


def test_minmax_without_identity_matches_sqrt_lasso():
    X, y, _ = instance(7, n=25, d=4)
    lam = 0.3 * lambda_max(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        robust = robust_minmax_cutting_plane(X, y, lam, max_iter=60)
    ours = solve_sqrt_lasso_cvxpy(X, y, lam)
    assert robust.lower_bound <= ours.value * (1 + 1e-6)
    assert robust.value == pytest.approx(ours.value, rel=1e-5)


@pytest.mark.parametrize("bad", [
    dict(lam=-0.1), dict(lam=float("nan")), dict(y=np.zeros(3)), dict(w=np.zeros(2)),
    dict(X=np.zeros(5)),
])
def test_invalid_input_raises_clear_error(bad):
    X, y, _ = instance(8)
    args = {"X": X, "y": y, "w": np.zeros(X.shape[1]), "lam": 1.0, **bad}
    with pytest.raises(ValueError, match="lambda|shape|2-D"):
        sqrt_lasso_objective(args["X"], args["y"], args["w"], args["lam"])


def test_pivotal_lambda_grows_slowly_with_d():
    assert 2.5 < pivotal_lambda(10) < pivotal_lambda(1000) < 5


def _pivotal_result(low_tp, high_tp, low_fp, high_fp):
    from trustml.core.cache import Result

    rows = [{"sigma": s, "k": 5, "lambda": 1.0, "sqrt_tp": tp, "sqrt_fp": fp, "lasso_tp": 4.8,
             "lasso_fp": 11.8} for s, tp, fp in ((0.25, low_tp, low_fp), (4.0, high_tp, high_fp))]
    return Result(metrics={"pivotal": rows})


@pytest.mark.parametrize(("values", "expected", "absent"), [
    ((5.0, 5.0, 0.0, 0.1), ["finds all 5 true variables at both σ = 0.25 and σ = 4",
                            "no false variable at σ = 0.25 and 0.1 false variables on average"],
     ["none", "5.0 and 5.0"]),
    ((5.0, 5.0, 0.0, 0.0), ["selects no false variable at both"], ["none"]),
    ((4.6, 3.2, 0.3, 0.3), ["on average 4.6 and 3.2 of the 5 true variables",
                            "0.3 false variables on average at both"], ["all 5"]),
])
def test_support_recovery_sentence_reads_as_written_for_its_values(values, expected, absent):
    from trustml.views.robust_regression import support_recovery_sentence

    text = support_recovery_sentence(_pivotal_result(*values))
    for phrase in expected:
        assert phrase in text
    for phrase in absent:
        assert phrase not in text
