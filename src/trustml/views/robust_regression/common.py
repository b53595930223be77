"""The exercise-2 view's shared pieces: constants, formatting helpers, what it computes."""

from __future__ import annotations

import pandas as pd

from trustml.core.cache import Result, run_or_load

TOLERANCE = 1e-6


# (label, metric key, what it measures). The first group checks the identity and the solvers of
# the square-root Lasso (the chapter); the second solves the robust problem without the identity
# (the appendix).
IDENTITY_CHECKS = [
    ("Worst case Z⋆: loss against bound", "worst_case_rel",
     "|‖(X+Z⋆)w−y‖ − (‖Xw−y‖+λ‖w‖₁)| / bound, minimiser and random w"),
    ("Worst case Z⋆: ‖z⋆ⱼ‖ − λ", "ball_excess", "largest column norm above λ (≤ 0 is feasible)"),
    ("Gradient ascent above the bound", "pga_excess_rel", "max over all starts and steps"),
    ("Gradient ascent short of the bound", "pga_gap_rel", "worst final start"),
    ("SCS against Clarabel: value", "scs_value_rel", "relative"),
    ("statsmodels against Clarabel: value", "statsmodels_value_rel", "relative"),
    ("SCS against Clarabel: w", "scs_w_rel", "max |Δwⱼ| / max(1, max |wⱼ|)"),
    ("statsmodels against Clarabel: w", "statsmodels_w_rel", "max |Δwⱼ| / max(1, max |wⱼ|)"),
]


MINMAX_CHECKS = [
    ("Level bundle: value against √Lasso", "minmax_value_rel", "relative"),
    ("Level bundle: certified gap", "minmax_certified_gap_rel", "(upper − lower) / upper"),
    ("Level bundle: w against √Lasso", "minmax_w_rel", "max |Δwⱼ| / max(1, max |wⱼ|)"),
    ("Subgradient: value against √Lasso", "subgradient_value_rel", "relative"),
    ("Subgradient: w against √Lasso", "subgradient_w_rel", "max |Δwⱼ| / max(1, max |wⱼ|)"),
]


CHECKS = IDENTITY_CHECKS + MINMAX_CHECKS


def compute() -> Result:
    return run_or_load("ex2-robust-regression")


def rows(result: Result) -> pd.DataFrame:
    return pd.DataFrame(result.metrics["rows"])


def worst(result: Result, key: str) -> float:
    return float(rows(result)[key].max())


def pivotal_row(result: Result, sigma: float) -> dict:
    return next(r for r in result.metrics["pivotal"] if r["sigma"] == sigma)


def _tol() -> str:
    return "10⁻⁶"


def failing_checks(result: Result, checks: list[tuple[str, str, str]] = CHECKS) -> list[str]:
    """The metric keys of the checks whose largest value exceeds the tolerance."""
    df = rows(result)
    return [key for _, key, _ in checks if float(df[key].max()) > TOLERANCE]


def _mean_count(x: float, k: int | None = None) -> str:
    """An average count as prose: 'all 5', 'none', '4.6'."""
    if k is not None and round(x, 1) == k:
        return f"all {k}"
    return "none" if round(x, 1) == 0 else f"{x:.1f}"

