r"""Robust linear regression under feature-wise perturbations is the square-root Lasso.

For $X \in \mathbb R^{n\times d}$, $y\in\mathbb R^n$ and $Z=[z_1,\dots,z_d]$ with
$\|z_j\|_2\le\lambda$:

$$\max_Z \|(X+Z)w-y\|_2 = \|Xw-y\|_2 + \lambda\|w\|_1 \quad\text{for every } w,$$

attained at $z_j^\star = \lambda\,\mathrm{sign}(w_j)\,u$ with $u = r/\|r\|_2$, $r = Xw-y$
(any unit $u$ when $r=0$). The functions here are the pure math (objectives, the worst case,
projected gradient ascent on $Z$, a generic min–max solver that never uses the identity) and
thin wrappers around the convex solvers used to check it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Array = np.ndarray


def _check(X: Array, y: Array, w: Array | None, lam: float) -> tuple[Array, Array, Array | None]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D (n, d) array, got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X {X.shape}, got {y.shape}")
    if not np.isfinite(lam) or lam < 0:
        raise ValueError(f"lambda must be a finite number >= 0, got {lam}")
    if w is not None:
        w = np.asarray(w, dtype=np.float64)
        if w.shape != (X.shape[1],):
            raise ValueError(f"w must have shape ({X.shape[1]},) to match X {X.shape}, got {w.shape}")
    return X, y, w


def sqrt_lasso_objective(X: Array, y: Array, w: Array, lam: float) -> float:
    r"""$\|Xw-y\|_2 + \lambda\|w\|_1$ (the norm is not squared)."""
    X, y, w = _check(X, y, w, lam)
    return float(np.linalg.norm(X @ w - y) + lam * np.abs(w).sum())


def perturbed_loss(X: Array, y: Array, w: Array, Z: Array) -> float:
    r"""$\|(X+Z)w - y\|_2$."""
    return float(np.linalg.norm((np.asarray(X) + np.asarray(Z)) @ np.asarray(w) - np.asarray(y)))


def worst_case_perturbation(X: Array, y: Array, w: Array, lam: float) -> Array:
    r"""The maximiser $Z^\star$ of $\|(X+Z)w-y\|_2$ over $\|z_j\|_2\le\lambda$.

    $z_j^\star = \lambda\,\mathrm{sign}(w_j)\,u$, $u=r/\|r\|_2$, $r=Xw-y$. Edge cases: if
    $r=0$ any unit vector works and we take $u=e_1$; if $w_j=0$ column $j$ does not affect the
    loss and $\mathrm{sign}(0)=0$ gives $z_j^\star=0$.
    """
    X, y, w = _check(X, y, w, lam)
    r = X @ w - y
    norm = np.linalg.norm(r)
    if norm > 0:
        u = r / norm
    else:
        u = np.zeros_like(r)
        u[0] = 1.0
    return lam * np.outer(u, np.sign(w))


def project_columns(Z: Array, lam: float) -> Array:
    """Project each column of `Z` (last two axes `(n, d)`) onto the Euclidean ball of radius lam."""
    norms = np.linalg.norm(Z, axis=-2, keepdims=True)
    scale = np.minimum(1.0, lam / np.maximum(norms, 1e-300))
    return Z * scale


@dataclass(frozen=True)
class AscentResult:
    values: Array  # (starts,) final loss of each start
    history: Array  # (steps + 1, starts) loss along the ascent
    Z: Array  # (n, d) best perturbation found


def inner_max_pga(
    X: Array, y: Array, w: Array, lam: float, *, steps: int = 200, starts: int = 32,
    step_size: float | None = None, seed: int = 0,
) -> AscentResult:
    r"""Projected gradient ascent on $Z \mapsto \|(X+Z)w-y\|_2$ from random starts (vectorised).

    Starts are drawn uniformly inside the feasible set (random directions, random radii). The
    gradient is $g\,w^\top$ with $g=\rho/\|\rho\|$, $\rho=(X+Z)w-y$; each column is projected
    back onto its $\lambda$-ball. Nothing here uses the closed form.
    """
    X, y, w = _check(X, y, w, lam)
    n, d = X.shape
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(starts, n, d))
    Z = Z / np.linalg.norm(Z, axis=1, keepdims=True) * lam * rng.uniform(size=(starts, 1, d))
    w_max = np.abs(w).max() if w.size else 0.0
    # Ascent on a convex function with projection never decreases it, whatever the step; a
    # long step (1000 lambda / |w|_inf) makes even columns with small |w_j| converge quickly.
    eta = step_size if step_size is not None else (1000 * lam / w_max if w_max > 0 else 1.0)
    history = np.empty((steps + 1, starts))

    def residual(Z: Array) -> Array:
        return np.einsum("snd,d->sn", X[None] + Z, w) - y[None]

    res = residual(Z)
    history[0] = np.linalg.norm(res, axis=1)
    for k in range(steps):
        g = res / np.maximum(np.linalg.norm(res, axis=1, keepdims=True), 1e-300)
        Z = project_columns(Z + eta * g[:, :, None] * w[None, None, :], lam)
        res = residual(Z)
        history[k + 1] = np.linalg.norm(res, axis=1)
    best = int(np.argmax(history[-1]))
    return AscentResult(values=history[-1], history=history, Z=Z[best])


@dataclass(frozen=True)
class SolverResult:
    w: Array
    value: float
    status: str
    solver: str


def solve_sqrt_lasso_cvxpy(X: Array, y: Array, lam: float, solver: str = "CLARABEL",
                           **solver_options) -> SolverResult:
    r"""$\min_w \|Xw-y\|_2 + \lambda\|w\|_1$ with cvxpy; value recomputed from the returned $w$."""
    import cvxpy as cp

    X, y, _ = _check(X, y, None, lam)
    w = cp.Variable(X.shape[1])
    problem = cp.Problem(cp.Minimize(cp.norm(X @ w - y, 2) + lam * cp.norm1(w)))
    problem.solve(solver=solver, **solver_options)
    if w.value is None:
        raise RuntimeError(f"{solver} returned no solution (status {problem.status})")
    w_hat = np.asarray(w.value, dtype=np.float64)
    return SolverResult(w_hat, sqrt_lasso_objective(X, y, w_hat, lam), str(problem.status), solver)


def solve_sqrt_lasso_statsmodels(X: Array, y: Array, lam: float) -> SolverResult:
    r"""statsmodels' `fit_regularized(method="sqrt_lasso")` (cvxopt inside).

    Its objective is $\|y-Xw\|_2/\sqrt n + (\alpha/n)\|w\|_1$; multiplying by $\sqrt n$ shows it
    equals ours with $\lambda=\alpha/\sqrt n$, so we pass $\alpha=\lambda\sqrt n$.
    """
    import statsmodels.api as sm

    X, y, _ = _check(X, y, None, lam)
    n = X.shape[0]
    fit = sm.OLS(y, X).fit_regularized(method="sqrt_lasso", alpha=lam * np.sqrt(n), L1_wt=1.0)
    w_hat = np.asarray(fit.params, dtype=np.float64)
    return SolverResult(w_hat, sqrt_lasso_objective(X, y, w_hat, lam), "optimal", "statsmodels/cvxopt")


# The min-max solvers need the inner maximum to ~1e-9; with a very long step each projected
# ascent step sets every column to the lambda-ball boundary along the current gradient.
LONG_STEP = 1e6


@dataclass(frozen=True)
class MinMaxResult:
    w: Array
    value: float  # robust loss at w, by projected gradient ascent
    lower_bound: float  # certified lower bound on the min-max value (cutting planes)
    iterations: int
    history: Array  # (iterations, 2): upper and lower bound per iteration


def robust_minmax_cutting_plane(
    X: Array, y: Array, lam: float, *, max_iter: int = 200, tol: float = 1e-7,
    level: float = 0.3, pga_steps: int = 200, pga_starts: int = 8, seed: int = 0,
) -> MinMaxResult:
    r"""Solve $\min_w\max_Z\|(X+Z)w-y\|_2$ without the closed form (a level bundle method).

    Keep the perturbations $Z_1..Z_k$ found so far by projected gradient ascent. The model
    $m_k(w)=\max_i\|(X+Z_i)w-y\|_2$ under-estimates the robust loss, so $L_k=\min_w m_k(w)$
    (an SOCP) is a certified lower bound on the min–max value; the best robust loss found
    numerically, $U_k$, is an upper bound. The next $w$ is the projection of the best point onto
    the level set $\{m_k \le L_k + \text{level}\,(U_k-L_k)\}$, which keeps the iterates stable
    (plain Kelley cutting planes crawl when $d$ is large). Stop when $U_k-L_k\le$ `tol` $U_k$.
    """
    import cvxpy as cp

    X, y, _ = _check(X, y, None, lam)
    d = X.shape[1]
    w_var, t = cp.Variable(d), cp.Variable()
    cuts: list[Array] = []
    w = np.zeros(d)
    best_w, best_upper, lower = w, np.inf, -np.inf
    history = []

    def solve(problem) -> bool:
        try:
            problem.solve(solver="CLARABEL")
        except cp.error.SolverError:
            try:
                problem.solve(solver="SCS", eps=1e-10, max_iters=200_000)
            except cp.error.SolverError:
                return False
        return w_var.value is not None

    for k in range(max_iter):
        ascent = inner_max_pga(X, y, w, lam, steps=pga_steps, starts=pga_starts, seed=seed + k,
                               step_size=LONG_STEP * lam / max(np.abs(w).max(), 1e-12))
        upper = float(ascent.values.max())
        if upper < best_upper:
            best_w, best_upper = w, upper
        cuts.append(ascent.Z)
        history.append((best_upper, lower))
        if best_upper - lower <= tol * max(best_upper, 1e-12):
            break
        if not solve(cp.Problem(cp.Minimize(t), [cp.norm((X + Z) @ w_var - y, 2) <= t
                                                 for Z in cuts])):
            break
        lower = max(lower, float(t.value))
        target = lower + level * (best_upper - lower)
        if not solve(cp.Problem(cp.Minimize(cp.sum_squares(w_var - best_w)),
                                [cp.norm((X + Z) @ w_var - y, 2) <= target for Z in cuts])):
            break
        w = np.asarray(w_var.value, dtype=np.float64)
    return MinMaxResult(best_w, best_upper, lower, len(history), np.asarray(history))


def robust_minmax_subgradient(
    X: Array, y: Array, lam: float, *, iters: int = 2000, pga_steps: int = 30,
    pga_starts: int = 4, seed: int = 0,
) -> MinMaxResult:
    r"""Subgradient descent on $w$ with the numerically found inner maximiser (Danskin).

    $g = (X+Z_w)^\top \rho/\|\rho\|$, $\rho=(X+Z_w)w-y$, step $c/\sqrt{k+1}$; the best iterate is
    kept. Converges at the slow $O(1/\sqrt k)$ rate of subgradient methods; the returned
    `lower_bound` is $-\infty$ (this method certifies nothing).
    """
    X, y, _ = _check(X, y, None, lam)
    w = np.zeros(X.shape[1])
    scale = np.linalg.norm(y) / (np.linalg.norm(X, 2) + lam * np.sqrt(X.shape[1])) ** 2
    best_w, best = w, np.inf
    history = []
    for k in range(iters):
        ascent = inner_max_pga(X, y, w, lam, steps=pga_steps, starts=pga_starts, seed=seed + k,
                               step_size=LONG_STEP * lam / max(np.abs(w).max(), 1e-12))
        value = float(ascent.values.max())
        if value < best:
            best_w, best = w.copy(), value
        history.append((best, -np.inf))
        A = X + ascent.Z
        rho = A @ w - y
        g = A.T @ rho / max(np.linalg.norm(rho), 1e-300)
        w = w - scale * np.linalg.norm(y) / np.sqrt(k + 1) * g / max(np.linalg.norm(g), 1e-300)
    return MinMaxResult(best_w, best, -np.inf, iters, np.asarray(history))
