"""The exercise-4 chapter's tables."""

from __future__ import annotations

import pandas as pd

from trustml.core.cache import Result
from trustml.views.format import fmt_float, fmt_sci
from trustml.views.membership.common import (
    ATTACK_LABEL,
    MODEL_LABEL,
    _interval,
    attack,
    defences,
    dp_bound_at,
    dp_models,
    sweep,
)
from trustml.views.table import Table, as_table


def convergence_table(result: Result) -> Table:
    df = sweep(result)
    out = pd.DataFrame({
        "n": df["n"], "Model": df["model"].map(MODEL_LABEL),
        "lbfgs iterations": df["n_iter"],
        "Converged": df["converged"].map({True: "yes", False: "no (iteration limit)"}),
        "Train acc.": df["train_acc"].map(lambda v: fmt_float(v, 3)),
        "Test acc.": df["test_acc"].map(lambda v: fmt_float(v, 3)),
        "Attack acc.": df["correctness_attack"].map(lambda v: fmt_float(v, 3)),
    })
    return as_table(out)


def attacks_table(result: Result) -> Table:
    rows = []
    for model in ("none", "l2"):
        for name, s in result.metrics["attacks"][model].items():
            rows.append({"Model": MODEL_LABEL[model], "Attack": ATTACK_LABEL[name],
                         "AUC": fmt_float(s['auc'], 3),
                         **{f"TPR at {100 * float(f):g} % FPR": _interval(v)
                            for f, v in s["tpr"].items()}})
    return as_table(pd.DataFrame(rows))


def dp_table(result: Result) -> Table:
    g = defences(result)
    g = g[g["defence"] == "dp"]
    out = pd.DataFrame({
        "Noise multiplier": g["knob"].map("{:g}".format),
        f"ε (δ = {fmt_sci(result.metrics['dp_delta'], 0)})": g["epsilon"].map("{:.2f}".format),
        "Train acc.": g["train_acc"].map(lambda v: fmt_float(v, 3)),
        "Test acc.": g["test_acc"].map(lambda v: fmt_float(v, 3)),
        "Loss-attack acc.": g["loss_attack"].map(lambda v: fmt_float(v, 3)),
        "TPR at 1 % FPR": g["loss_tpr_1pct"].map(lambda v: fmt_float(v, 3)),
    })
    return as_table(out)


def _three_figures(percent: float) -> str:
    """A percentage to three significant figures, trailing zeros kept ('99.0', '9.19',
    '0.297'); 100 and more without decimals."""
    for floor, digits in ((100, 0), (10, 1), (1, 2)):
        if percent >= floor:
            return f"{percent:.{digits}f}"
    return f"{percent:.3f}"


def dp_attack_table(result: Result) -> Table:
    """LiRA against each DP-GD population, with the most the guarantee allows."""
    rows = []
    for kind in dp_models(result):
        s = attack(result, kind, "lira_online")
        rows.append({
            "ε": f"{result.metrics['attacks'][kind]['epsilon']:.2f}",
            "Test acc.": f"{100 * s['test_acc']:.1f} %",
            "LiRA AUC": fmt_float(s['auc'], 3),
            **{f"TPR at {100 * float(f):g} % FPR (bound)":
               f"{_interval(v)} ({_three_figures(100 * dp_bound_at(result, kind, float(f)))} %)"
               for f, v in s["tpr"].items()},
        })
    return as_table(pd.DataFrame(rows))

