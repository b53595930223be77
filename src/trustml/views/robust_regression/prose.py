"""The exercise-2 chapter's computed sentences and facts (prose apart from tables and figures)."""

from __future__ import annotations

from trustml.core.cache import Result
from trustml.views.format import fmt_list, fmt_sci
from trustml.views.robust_regression.common import (
    IDENTITY_CHECKS,
    TOLERANCE,
    _mean_count,
    _tol,
    failing_checks,
    pivotal_row,
    rows,
    worst,
)


def bundle_sentence(result: Result) -> str:
    """Where the level bundle method's certified gap stays open, grouped by instance."""
    df = rows(result)
    bad = df[df["minmax_certified_gap_rel"] > TOLERANCE]
    if not len(bad):
        return f"The bundle method closed its certified gap below {_tol()} on every problem."
    groups = [f"{name.replace('rho', 'ρ')} (λ/λmax = "
              f"{', '.join(f'{f:g}' for f in sorted(g['lambda_fraction']))})"
              for name, g in bad.groupby("instance", sort=False)]
    where = fmt_list(groups)
    return (f"Its certified gap itself stays above {_tol()} on {len(bad)} of the {len(df)} "
            f"problems: the {where} instances.")


def tolerance_sentence(result: Result) -> str:
    """What the tolerance says about the answer, in words chosen for the values: whether the
    identity holds, whether the solvers reach the same optimal value, whether their weights
    agree (each to a relative `TOLERANCE` on every instance)."""
    failing = set(failing_checks(result, IDENTITY_CHECKS))
    groups = (  # (keys, what meeting the tolerance means, what missing it means)
        ({"worst_case_rel", "ball_excess", "pga_excess_rel", "pga_gap_rel"},
         "the identity holds on every instance", "the identity's checks miss it on some instance"),
        ({"scs_value_rel", "statsmodels_value_rel"},
         "the three solvers reach the same optimal value",
         "the solvers' optimal values differ by more"),
        ({"scs_w_rel", "statsmodels_w_rel"}, "their weights agree as well",
         "their weights differ by more"),
    )
    good = [yes for keys, yes, _ in groups if not keys & failing]
    bad = [no for keys, _, no in groups if keys & failing]

    text = f"To a relative {_tol()}, then, "
    if good and bad:
        return text + f"{fmt_list(good)}; {fmt_list(bad)}."
    return text + f"{fmt_list(good or bad)}."


def weights_sentence(result: Result) -> str:
    """How well the solvers' weights agree, and why they may agree less well than the values."""
    scs, sm = worst(result, "scs_w_rel"), worst(result, "statsmodels_w_rel")
    if max(scs, sm) <= TOLERANCE:
        return f"The weights agree too, to {fmt_sci(scs)} (SCS) and {fmt_sci(sm)} (statsmodels)."
    return (f"Those differences, up to {fmt_sci(scs)} (SCS) and {fmt_sci(sm)} (statsmodels) "
            "relative, are "
            "a matter of the solvers' accuracy and not of the identity: near the optimum the objective "
            "is flat along some directions, so a difference in value at the solvers' tolerance "
            "(statsmodels' interior-point solver, for one, stops at a duality gap near 10⁻⁷) allows "
            "a larger difference in w.")


def minmax_sentence(result: Result, details: bool = True) -> str:
    """What the identity-free level bundle method found, in words chosen for the values: where it
    misses the tolerance, whether its own certified gap covers the miss (with `details`; without,
    the one-sentence summary that chapter 2 gives before its appendix)."""
    df = rows(result)
    value, gap = df["minmax_value_rel"], df["minmax_certified_gap_rel"]
    if value.max() <= TOLERANCE:
        return (f"a level bundle method, whose certified lower bound owes nothing to the theorem, "
                f"agrees with the square-root Lasso value to {fmt_sci(value.max())} on every instance.")
    miss = value > TOLERANCE
    cap = result.meta["config"]["minmax_iters"]
    capped = df["minmax_iterations"] >= cap
    covered = bool((value[miss] <= gap[miss]).all())
    agree = int((~miss).sum())
    head = (f"a level bundle method, whose certified lower bound owes nothing to the theorem, "
            f"agrees with the square-root Lasso value to {_tol()} on {agree} of the "
            f"{len(df)} instances.")
    if not (miss <= capped).all() or not covered:
        return head + (f" Its distance from the square-root Lasso value (up to "
                       f"{fmt_sci(value[miss].max())}) exceeds its certified gap on some of the "
                       "others, which the identity does not allow: a bug to look for.")
    if not details:
        return head + (f" On the other {int(miss.sum())} it stops at its iteration cap with a "
                       "certified gap wider than its distance from that value: not yet "
                       "converged, and consistent with the identity.")
    done = capped & ~miss  # at the cap, yet already at the value
    n_miss = int(miss.sum())
    text = head + (f" It stops at its cap of {cap} iterations, before its two bounds meet, on "
                   f"{int(capped.sum())} instances: the {n_miss} where it is further off, whose "
                   f"certified gap (up to {fmt_sci(gap[miss].max())}) is wider than their distance "
                   f"from the square-root Lasso value (up to {fmt_sci(value[miss].max())}), so the "
                   "method has not converged there and what it has certified agrees with the "
                   "identity")
    if done.any():
        text += (f"; and {int(done.sum())} of the {agree} that agree, with its certified gap "
                 f"still at {fmt_sci(gap[done].max())}" + ("" if int(done.sum()) == 1 else " at most"))
    return text + "."


def support_recovery_sentence(result: Result, low_sigma: float = 0.25, high_sigma: float = 4.0) -> str:
    """What @tbl-ex2-pivotal shows, in words chosen for the values it holds."""
    low, high = pivotal_row(result, low_sigma), pivotal_row(result, high_sigma)
    k = low["k"]
    tp = [_mean_count(r["sqrt_tp"], k) for r in (low, high)]
    fp = [_mean_count(r["sqrt_fp"]) for r in (low, high)]
    sigmas = f"σ = {low_sigma:g} and σ = {high_sigma:g}"
    if tp[0] == tp[1]:
        found = (f"finds all {k} true variables at both {sigmas}" if tp[0] == f"all {k}"
                 else f"finds on average {tp[0]} of the {k} true variables at both {sigmas}")
    else:
        found = f"finds on average {tp[0]} and {tp[1]} of the {k} true variables at {sigmas}"
    def false_ones(count: str) -> str:
        return "no false variable" if count == "none" else f"{count} false variables on average"

    if fp[0] == fp[1]:
        false = f"selects {false_ones(fp[0])} at both"
    else:
        false = (f"selects {false_ones(fp[0])} at σ = {low_sigma:g} and {false_ones(fp[1])} at "
                 f"σ = {high_sigma:g}")
    true_lasso = _mean_count(low["lasso_tp"], k)
    true_lasso = (f"{true_lasso} true ones" if true_lasso.startswith("all")
                  else f"{true_lasso} of the {k} true ones on average")
    lasso = (f"while the Lasso with α tuned for σ = 1 selects {high['lasso_fp']:.1f} false variables "
             f"on average at σ = {high_sigma:g} and finds {true_lasso} at σ = {low_sigma:g}")
    return f"the square-root Lasso at that one λ {found} and {false}, {lasso}."



def entry_points(result: Result, path: str, threshold: float = 1e-3) -> list[float]:
    """Per variable, the largest relative penalty (penalty / its largest value) at which the
    coefficient exceeds `threshold` in absolute value along the path ('sqrt_lasso' or 'lasso');
    0 where it never does."""
    import numpy as np

    a = result.arrays
    coefs = a[f"path_{path}"]
    pen = a["path_lambda" if path == "sqrt_lasso" else "path_alpha"]
    rel = pen / pen.max()
    out = []
    for j in range(coefs.shape[1]):
        on = np.nonzero(np.abs(coefs[:, j]) > threshold)[0]
        out.append(float(rel[on].max()) if len(on) else 0.0)
    return out


def paths_sentence(result: Result) -> str:
    """How the two paths' entry points compare, for the true and the zero coefficients."""
    truth = [w != 0 for w in result.metrics["path_truth"]]
    first_zero, last_true = {}, {}
    for path in ("sqrt_lasso", "lasso"):
        e = entry_points(result, path)
        first_zero[path] = max((x for x, t in zip(e, truth, strict=True) if not t), default=0.0)
        last_true[path] = min(x for x, t in zip(e, truth, strict=True) if t)
    both_true_first = all(last_true[p] > first_zero[p] for p in last_true)
    return (
        ("On both paths every truly non-zero coefficient enters before any zero one, but not at "
         "the same relative penalty: " if both_true_first else
         "The paths do not agree on which variables enter first: ")
        + f"the first zero coefficient enters the square-root Lasso at λ/λmax = "
        f"{first_zero['sqrt_lasso']:.2g} and the Lasso at α/αmax = {first_zero['lasso']:.2g}, "
        f"and the last true one at {last_true['sqrt_lasso']:.2g} and {last_true['lasso']:.2g} "
        "(a coefficient counts as entered above 10⁻³)")
