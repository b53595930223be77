"""Exercise 2: robust regression = square-root Lasso, checked numerically on many instances."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from trustml.core.budget import Budget
from trustml.core.cache import Result, experiment
from trustml.core.chapters import declare_chapter
from trustml.core.progress import progress
from trustml.core.validate import NON_NEGATIVE, POSITIVE, Interval, check_config
from trustml.regression.robust import (
    inner_max_pga,
    perturbed_loss,
    robust_minmax_cutting_plane,
    robust_minmax_subgradient,
    solve_sqrt_lasso_cvxpy,
    solve_sqrt_lasso_statsmodels,
    sqrt_lasso_objective,
    worst_case_perturbation,
)


@dataclass(frozen=True)
class InstanceSpec:
    name: str
    n: int
    d: int
    rho: float = 0.0  # correlation of neighbouring features (Toeplitz rho^|i-j|)
    k: int = 3  # non-zero true coefficients
    noise: float = 0.5

    def __post_init__(self) -> None:
        check_config(self, rho=Interval(-1.0, 1.0, lo_open=True, hi_open=True),
                     noise=NON_NEGATIVE)


@dataclass(frozen=True)
class RobustRegressionConfig:
    instances: tuple[InstanceSpec, ...]
    lambda_fractions: tuple[float, ...]  # lambda as a fraction of lambda_max (w* = 0 above 1)
    random_w: int  # random w per instance for the worst-case check
    pga_starts: int
    pga_steps: int
    minmax_iters: int  # level-bundle iterations (cap)
    subgradient_iters: int
    grid_points: int  # lambda grid of the figures
    pivotal_reps: int  # repetitions of the pivotal-lambda experiment
    seed: int = 0

    def __post_init__(self) -> None:
        check_config(self, lambda_fractions=POSITIVE)


CONFIGS = {
    "full": RobustRegressionConfig(
        instances=(
            InstanceSpec("n > d", 100, 10),
            InstanceSpec("n < d", 30, 60),
            InstanceSpec("n >> d", 500, 10),
            InstanceSpec("correlated, rho = 0.9", 80, 20, rho=0.9),
        ),
        lambda_fractions=(0.05, 0.3, 1.2), random_w=20, pga_starts=32, pga_steps=300,
        minmax_iters=40, subgradient_iters=500, grid_points=15, pivotal_reps=20),
    "smoke": RobustRegressionConfig(
        instances=(InstanceSpec("n > d", 20, 5), InstanceSpec("n < d", 8, 12)),
        lambda_fractions=(0.3, 1.2), random_w=3, pga_starts=4, pga_steps=30, minmax_iters=5,
        subgradient_iters=20, grid_points=4, pivotal_reps=2),
}


def make_instance(spec: InstanceSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian design (Toeplitz correlation), columns scaled to ||x_j||^2 = n, sparse truth."""
    idx = np.arange(spec.d)
    cov = spec.rho ** np.abs(idx[:, None] - idx[None, :])
    X = rng.normal(size=(spec.n, spec.d)) @ np.linalg.cholesky(cov).T
    X *= np.sqrt(spec.n) / np.linalg.norm(X, axis=0)
    w_true = np.zeros(spec.d)
    w_true[: spec.k] = rng.choice([-1.0, 1.0], size=spec.k) * rng.uniform(1, 3, size=spec.k)
    y = X @ w_true + spec.noise * rng.normal(size=spec.n)
    return X, y, w_true


def lambda_max(X: np.ndarray, y: np.ndarray) -> float:
    r"""Smallest lambda with $w^\star=0$: $\|X^\top y\|_\infty/\|y\|_2$ (zero is in the subdifferential)."""
    return float(np.abs(X.T @ y).max() / np.linalg.norm(y))


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def _check_instance(spec, X, y, lam, config, rng) -> dict:
    row: dict = {"instance": spec.name, "n": spec.n, "d": spec.d, "lambda": lam}
    t0 = time.perf_counter()
    clarabel = solve_sqrt_lasso_cvxpy(X, y, lam, "CLARABEL")
    row.update(solver="CLARABEL", status=clarabel.status, value=clarabel.value,
               nonzeros=int((np.abs(clarabel.w) > 1e-6).sum()))
    scs = solve_sqrt_lasso_cvxpy(X, y, lam, "SCS", eps=1e-10, max_iters=200_000)
    sm = solve_sqrt_lasso_statsmodels(X, y, lam)
    wscale = max(np.abs(clarabel.w).max(), 1.0)  # relative for |w| >= 1, absolute below
    row["scs_value_rel"] = _rel(scs.value, clarabel.value)
    row["scs_w_rel"] = float(np.abs(scs.w - clarabel.w).max() / wscale)
    row["statsmodels_value_rel"] = _rel(sm.value, clarabel.value)
    row["statsmodels_w_rel"] = float(np.abs(sm.w - clarabel.w).max() / wscale)
    # worst case at the minimiser and at random w (some with exact zeros)
    ws = [clarabel.w] + [rng.normal(size=spec.d) * (rng.uniform(size=spec.d) < 0.7)
                         for _ in range(config.random_w)]
    attain, ball = 0.0, 0.0
    for w in ws:
        Z = worst_case_perturbation(X, y, w, lam)
        bound = sqrt_lasso_objective(X, y, w, lam)
        attain = max(attain, _rel(perturbed_loss(X, y, w, Z), bound))
        ball = max(ball, float(np.linalg.norm(Z, axis=0).max() - lam))
    row["worst_case_rel"] = attain
    row["ball_excess"] = ball
    # projected gradient ascent never beats the bound, and reaches it
    exceed, gap = -np.inf, 0.0
    for w in ws[:3]:
        bound = sqrt_lasso_objective(X, y, w, lam)
        ascent = inner_max_pga(X, y, w, lam, steps=config.pga_steps, starts=config.pga_starts,
                               seed=int(rng.integers(1 << 31)))
        exceed = max(exceed, float((ascent.history.max() - bound) / bound))
        gap = max(gap, float((bound - ascent.values.min()) / bound))
    row["pga_excess_rel"] = exceed
    row["pga_gap_rel"] = gap
    # the robust problem solved without the identity
    bundle = robust_minmax_cutting_plane(X, y, lam, max_iter=config.minmax_iters)
    row["minmax_value_rel"] = _rel(bundle.value, clarabel.value)
    row["minmax_certified_gap_rel"] = float((bundle.value - bundle.lower_bound) / bundle.value)
    row["minmax_w_rel"] = float(np.abs(bundle.w - clarabel.w).max() / wscale)
    row["minmax_iterations"] = bundle.iterations
    sub = robust_minmax_subgradient(X, y, lam, iters=config.subgradient_iters)
    row["subgradient_value_rel"] = _rel(sub.value, clarabel.value)
    row["subgradient_w_rel"] = float(np.abs(sub.w - clarabel.w).max() / wscale)
    row["seconds"] = time.perf_counter() - t0
    return row


def pivotal_lambda(d: int, alpha: float = 0.05, c: float = 1.1) -> float:
    r"""Belloni–Chernozhukov–Wang's choice in our scaling: $c\,\Phi^{-1}(1-\alpha/(2d))$.

    Their objective $\sqrt{Q(w)}+\frac{\lambda}{n}\|w\|_1$ with $Q=\|y-Xw\|^2/n$ and columns
    normalised to $\|x_j\|^2=n$ takes $\lambda=c\sqrt n\,\Phi^{-1}(1-\alpha/(2d))$; multiplying by
    $\sqrt n$ gives ours with $\lambda/\sqrt n$: free of the noise level and of $n$.
    """
    return float(c * norm.ppf(1 - alpha / (2 * d)))


@experiment("ex2-robust-regression", version=2, configs=CONFIGS,
            metrics=("grid_instance", "path_truth", "pivotal", "rows"))
def robust_regression(config: RobustRegressionConfig, budget: Budget) -> Result:
    """Square-root Lasso vs the robust min-max problem: solvers, worst cases, paths."""
    from sklearn.linear_model import lasso_path

    rng = np.random.default_rng(config.seed)
    rows = []
    instances = [(spec, *make_instance(spec, rng)) for spec in config.instances]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # solver chatter; accuracy is measured, not assumed
        jobs = [(inst, f) for inst in instances for f in config.lambda_fractions]
        for (spec, X, y, _), frac in progress(jobs, desc="ex2 instances"):
            lam = frac * lambda_max(X, y)
            row = _check_instance(spec, X, y, lam, config, rng)
            row["lambda_fraction"] = frac
            rows.append(row)

        # (i) robust objective vs square-root Lasso across a lambda grid (first instance)
        spec, X, y, _ = instances[0]
        grid = np.linspace(0.02, 1.2, config.grid_points) * lambda_max(X, y)
        sqrt_values, robust_values, robust_gaps = [], [], []
        for lam in progress(grid, desc="ex2 lambda grid"):
            sqrt_values.append(solve_sqrt_lasso_cvxpy(X, y, lam).value)
            bundle = robust_minmax_cutting_plane(X, y, lam, max_iter=config.minmax_iters)
            robust_values.append(bundle.value)
            robust_gaps.append(bundle.value - bundle.lower_bound)

        # (ii) square-root Lasso path next to the Lasso path
        path_spec = InstanceSpec("path", 100, 12, rho=0.3, k=4)
        Xp, yp, wp = make_instance(path_spec, rng)
        lam_grid = np.geomspace(1.0, 0.01, config.grid_points) * lambda_max(Xp, yp)
        sqrt_path = np.stack([solve_sqrt_lasso_cvxpy(Xp, yp, lam).w for lam in lam_grid])
        n = path_spec.n
        alpha_max = np.abs(Xp.T @ yp).max() / n
        alphas, lasso_coefs, _ = lasso_path(Xp, yp, alphas=np.geomspace(1.0, 0.01, config.grid_points)
                                            * alpha_max)

        # (iii) the pivotal lambda: the same lambda works whatever the noise level
        piv = pivotal_recovery(config, rng)

    return Result(
        metrics={"rows": rows, "pivotal": piv,
                 "path_truth": wp.tolist(), "grid_instance": spec.name},
        arrays={
            "grid_lambda": grid, "grid_sqrt_lasso": np.array(sqrt_values),
            "grid_robust": np.array(robust_values), "grid_robust_gap": np.array(robust_gaps),
            "path_lambda": lam_grid, "path_sqrt_lasso": sqrt_path,
            "path_alpha": alphas, "path_lasso": lasso_coefs.T,
        },
    )


def pivotal_recovery(config: RobustRegressionConfig, rng: np.random.Generator) -> list[dict]:
    """Support recovery of the square-root Lasso (pivotal lambda) and the Lasso (lambda tuned
    for noise 1) as the noise level changes."""
    from sklearn.linear_model import Lasso

    spec = InstanceSpec("pivotal", 200, 40, k=5)
    lam = pivotal_lambda(spec.d)
    alpha = lam / np.sqrt(spec.n)  # the Lasso's theory value for noise sigma = 1
    out = []
    for sigma in (0.25, 1.0, 4.0):
        stats = {"sqrt": [0, 0], "lasso": [0, 0]}
        for _ in range(config.pivotal_reps):
            X, y, w_true = make_instance(InstanceSpec("pivotal", spec.n, spec.d, k=spec.k,
                                                      noise=sigma), rng)
            # scale the signal with the noise so the problem stays equally hard
            y = X @ (w_true * sigma) + (y - X @ w_true)
            true = np.abs(w_true) > 0
            w_sqrt = solve_sqrt_lasso_cvxpy(X, y, lam).w
            w_lasso = Lasso(alpha=alpha, fit_intercept=False, max_iter=50_000).fit(X, y).coef_
            for key, w in (("sqrt", w_sqrt), ("lasso", w_lasso)):
                found = np.abs(w) > 1e-6 * max(np.abs(w).max(), 1e-12)
                stats[key][0] += int((found & true).sum())
                stats[key][1] += int((found & ~true).sum())
        reps = config.pivotal_reps
        out.append({"sigma": sigma, "lambda": lam, "alpha": alpha,
                    "sqrt_tp": stats["sqrt"][0] / reps, "sqrt_fp": stats["sqrt"][1] / reps,
                    "lasso_tp": stats["lasso"][0] / reps, "lasso_fp": stats["lasso"][1] / reps,
                    "k": spec.k, "d": spec.d})
    return out


CHAPTER = declare_chapter(
    "chapters/ex2-robust-regression.qmd", ("ex2-robust-regression",),
    "trustml.views.robust_regression", command="ex2",
    title="exercise 2 (robust regression)")
CHECKS = declare_chapter("chapters/ex2-checks.qmd", ("ex2-robust-regression",),
                         "trustml.views.robust_regression")
