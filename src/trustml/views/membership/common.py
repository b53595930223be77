"""The exercise-4 view's shared pieces: constants, formatting helpers, what it computes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trustml.core.cache import Result, run_or_load
from trustml.privacy.dp_bound import dp_tpr_bound

MODEL_LABEL = {"none": "no regularisation", "l2": "L2"}


ATTACK_LABEL = {"correctness": "correctly classified", "loss": "loss threshold",
                "lira_online": "LiRA online", "lira_online_fixed": "LiRA online, fixed variance",
                "lira_offline_fixed": "LiRA offline, fixed variance"}
# one colour per attack in every ROC figure
ATTACK_COLOUR = {"correctness": "C0", "loss": "C1", "lira_online": "C2",
                 "lira_online_fixed": "C3", "lira_offline_fixed": "C4"}


def compute() -> tuple[Result, Result]:
    return run_or_load("ex4-gaussian-mean"), run_or_load("ex4-logistic")


def _band(ax, x, summary, label, colour, spread=True):
    mean, half, lo, hi = summary
    ax.plot(x, mean, color=colour, label=label)
    ax.fill_between(x, mean - half, mean + half, color=colour, alpha=0.35, lw=0)
    if spread:
        ax.fill_between(x, lo, hi, color=colour, alpha=0.1, lw=0)


def _tidy(ax):
    ax.spines[["top", "right"]].set_visible(False)


def sweep(result: Result) -> pd.DataFrame:
    return pd.DataFrame(result.metrics["sweep"])


def noise_collapse(result: Result, model: str) -> float:
    """Smallest σ² at which the mean test accuracy has lost half of its way down to 10 %
    (chance for ten classes)."""
    a = result.arrays
    test = a[f"noise_{model}_test"].mean(1)
    half = test[0] - (test[0] - 0.1) / 2
    below = np.flatnonzero(test <= half)
    return float(a["noise_sigma2"][below[0]]) if len(below) else float("nan")


def noise_point(result: Result, model: str, sigma2: float) -> dict:
    a = result.arrays
    i = int(np.argmin(np.abs(a["noise_sigma2"] - sigma2)))
    return {k: float(a[f"noise_{model}_{k}"][i].mean()) for k in ("train", "test", "attack")}


def _interval(values: list[float]) -> str:
    est, lo, hi = values
    return f"{100 * est:.1f} % [{100 * lo:.1f}, {100 * hi:.1f}]"


def attack(result: Result, model: str, attack: str) -> dict:
    """One attack on one kind of model: accuracy, AUC, TPR at each FPR as (estimate, lo, hi)."""
    return result.metrics["attacks"][model][attack]


def _roc_axes(ax, title: str) -> None:
    ax.plot([1e-4, 1], [1e-4, 1], color="grey", lw=0.8)
    ax.set(xscale="log", yscale="log", xlim=(1e-4, 1), ylim=(1e-4, 1.05))
    ax.set_title(title, fontsize="medium")
    _tidy(ax)


def confidence(result: Result, model: str) -> dict:
    """The target model's statistic φ on members and non-members (medians) and the per-point
    separation of the IN and OUT shadow distributions (median, in shadow standard deviations)."""
    a = result.arrays
    phi, member = a[f"phi_{model}"], a[f"member_{model}"].astype(bool)
    return {"phi_in": float(np.median(phi[member])), "phi_out": float(np.median(phi[~member])),
            "separation": float(np.median(a[f"separation_{model}"]))}


def dp_models(result: Result) -> list[str]:
    return [k for k in result.metrics["attacks"] if k.startswith("dp")]


def dp_bound_at(result: Result, kind: str, fpr: float) -> float:
    """The largest TPR the DP guarantee of model `kind` allows at `fpr`."""
    eps = result.metrics["attacks"][kind]["epsilon"]
    return float(dp_tpr_bound(fpr, eps, result.metrics["dp_delta"]))


def defences(result: Result) -> pd.DataFrame:
    return pd.DataFrame(result.metrics["defences"])


def best_under(result: Result, kind: str, max_attack: float) -> float:
    """Best test accuracy of a defence among its settings whose loss attack is <= max_attack."""
    df = defences(result)
    ok = df[(df["defence"] == kind) & (df["loss_attack"] <= max_attack)]
    return float(ok["test_acc"].max()) if len(ok) else float("nan")

