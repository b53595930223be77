"""The exercise-2 chapter's figures."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from trustml.core.cache import Result
from trustml.views.robust_regression.common import (
    TOLERANCE,
)


def objective_grid_figure(result: Result) -> Figure:
    a = result.arrays
    fig = Figure(figsize=(5.5, 4.2), layout="constrained")
    left, right = fig.subplots(2, 1, sharex=True)
    left.plot(a["grid_lambda"], a["grid_sqrt_lasso"], "o-", label="square-root Lasso, cvxpy")
    left.plot(a["grid_lambda"], a["grid_robust"], "x--", label="robust min–max, no identity")
    left.set_ylabel("optimal value")
    left.legend(frameon=False, fontsize="small")
    diff = np.abs(a["grid_robust"] - a["grid_sqrt_lasso"]) / a["grid_sqrt_lasso"]
    right.semilogy(a["grid_lambda"], np.maximum(diff, 1e-17), "o-",
                   label=r"$|$robust $-$ $\sqrt{\mathrm{Lasso}}|$ / $\sqrt{\mathrm{Lasso}}$")
    right.semilogy(a["grid_lambda"], np.maximum(a["grid_robust_gap"] / a["grid_robust"], 1e-17),
                   "s:", label="certified gap (robust)")
    right.axhline(TOLERANCE, color="grey", lw=0.8, ls=":")
    right.set_xlabel("λ")
    right.set_ylabel("relative difference")
    fig.legend(*right.get_legend_handles_labels(), loc="outside lower center", ncols=2,
               frameon=False)  # below: inside, it covered the gap's drops
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
    return fig


def paths_figure(result: Result) -> Figure:
    a = result.arrays
    truth = np.asarray(result.metrics["path_truth"])
    fig = Figure(figsize=(5.5, 4.6), layout="constrained")
    left, right = fig.subplots(2, 1)
    lam_rel = a["path_lambda"] / a["path_lambda"].max()
    alpha_rel = a["path_alpha"] / a["path_alpha"].max()
    colours = [f"C{j % 10}" for j in range(len(truth))]
    for j in range(len(truth)):
        style = "-" if truth[j] != 0 else ":"
        left.semilogx(lam_rel, a["path_sqrt_lasso"][:, j], style, color=colours[j],
                      label=(f"$w_{{{j + 1}}}$" if truth[j] != 0 else
                             "true zeros" if j == int(np.argmax(truth == 0)) else None))
        right.semilogx(alpha_rel, a["path_lasso"][:, j], style, color=colours[j])
    left.set_title("square-root Lasso", fontsize="medium")
    right.set_title("Lasso (scikit-learn)", fontsize="medium")
    left.set_xlabel(r"$\lambda / \lambda_{\max}$")
    right.set_xlabel(r"$\alpha / \alpha_{\max}$")
    fig.legend(*left.get_legend_handles_labels(), loc="outside right center", frameon=False)
    left.set_ylabel("coefficient")
    right.set_ylabel("coefficient")
    for ax in (left, right):
        ax.invert_xaxis()
        ax.spines[["top", "right"]].set_visible(False)
    return fig

