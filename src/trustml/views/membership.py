"""Exercise 4's tables and figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from trustml.cache import Result, run_or_load
from trustml.views.table import Table, as_table

MODEL_LABEL = {"none": "no regularisation", "l2": "L2"}
ATTACK_LABEL = {"correctness": "correctly classified", "loss": "loss threshold", "lira": "LiRA"}


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


def gaussian_figure(result: Result) -> Figure:
    a = result.arrays
    fig = Figure(figsize=(7, 3.2), layout="constrained")
    ax = fig.subplots()
    _band(ax, a["dims"], a["in_sample"], "fitted threshold, same data (in-sample)", "C0")
    _band(ax, a["dims"], a["fresh"], "same threshold, fresh data", "C1")
    ax.plot(a["dims"], a["theory"], "k--", lw=1, label="Gaussian approximation, best threshold")
    ax.plot(a["dims"], a["theory_simple"], "k:", lw=1, label="Φ(½√(d/n))")
    ax.set_xlabel("dimension d")
    ax.set_ylabel("attack accuracy")
    ax.legend(frameon=False, fontsize="small", loc="lower right")
    _tidy(ax)
    return fig


def gaussian_defence_figure(result: Result) -> Figure:
    a = result.arrays
    fig = Figure(figsize=(7, 3), layout="constrained")
    left, right = fig.subplots(1, 2)
    _band(left, a["sigma2"], a["norm"], "‖μ̃‖₂ (mean, 95 % CI, 10–90 %)", "C2")
    left.plot(a["sigma2"], a["norm_theory"], "k--", lw=1, label="√(d(1/n + σ²))")
    left.set_xlabel("noise variance σ²")
    left.set_ylabel("error ‖μ̃ − μ‖₂ = ‖μ̃‖₂")
    left.legend(frameon=False, fontsize="small")
    _band(right, a["sigma2"], a["defence_in_sample"], "fitted per release (in-sample)", "C0")
    _band(right, a["sigma2"], a["defence_fresh"], "calibrated threshold, new releases", "C1")
    right.plot(a["sigma2"], a["defence_theory"], "k--", lw=1, label="Gaussian approximation")
    right.axhline(0.5, color="grey", lw=0.8, ls=":")
    right.set_xlabel("noise variance σ²")
    right.set_ylabel("attack accuracy")
    right.legend(frameon=False, fontsize="small")
    for ax in (left, right):
        _tidy(ax)
    return fig


def sweep(result: Result) -> pd.DataFrame:
    return pd.DataFrame(result.metrics["sweep"])


def sweep_figure(result: Result) -> Figure:
    df = sweep(result)
    fig = Figure(figsize=(7, 3), layout="constrained")
    left, right = fig.subplots(1, 2)
    for colour, (name, group) in zip(("C0", "C3"), df.groupby("model", sort=False), strict=False):
        label = MODEL_LABEL[name] + (f" (C = {result.metrics['C_strong']:g})" if name == "l2" else "")
        left.semilogx(group["n"], group["train_acc"], "o-", color=colour, label=f"{label}: train")
        left.semilogx(group["n"], group["test_acc"], "s--", color=colour, label=f"{label}: test")
        right.semilogx(group["n"], group["correctness_attack"], "o-", color=colour,
                       label=f"{label}: attack accuracy")
        right.semilogx(group["n"], 0.5 + (group["train_acc"] - group["test_acc"]) / 2, "x:",
                       color="k", ms=6, label="½ + gap / 2" if name == "none" else None)
    left.set_xlabel("n (members = non-members)")
    left.set_ylabel("accuracy")
    right.set_xlabel("n (members = non-members)")
    right.set_ylabel("membership attack accuracy")
    right.axhline(0.5, color="grey", lw=0.8, ls=":")
    for ax in (left, right):
        ax.legend(frameon=False, fontsize="x-small")
        _tidy(ax)
    return fig


def convergence_table(result: Result) -> Table:
    df = sweep(result)
    out = pd.DataFrame({
        "n": df["n"], "Model": df["model"].map(MODEL_LABEL),
        "lbfgs iterations": df["n_iter"],
        "Converged": df["converged"].map({True: "yes", False: "no (hit max_iter)"}),
        "Train acc.": df["train_acc"].map("{:.3f}".format),
        "Test acc.": df["test_acc"].map("{:.3f}".format),
        "Attack acc.": df["correctness_attack"].map("{:.3f}".format),
    })
    return as_table(out)


def noise_figure(result: Result) -> Figure:
    a = result.arrays
    fig = Figure(figsize=(7, 3), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    x = a["noise_sigma2"]
    for ax, name in zip(axes, ("none", "l2"), strict=True):
        for key, colour, label in (("train", "C0", "train accuracy"), ("test", "C1", "test accuracy"),
                                   ("attack", "C3", "attack accuracy")):
            values = a[f"noise_{name}_{key}"]
            mean = values.mean(1)
            lo, hi = np.percentile(values, [10, 90], axis=1)
            ax.plot(x, mean, color=colour, label=label)
            ax.fill_between(x, lo, hi, color=colour, alpha=0.2, lw=0)
        title = MODEL_LABEL[name] + (f", C = {result.metrics['noise_C']:g}" if name == "l2" else "")
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("noise variance σ² on every parameter")
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        _tidy(ax)
    axes[0].set_ylabel("accuracy")
    axes[0].legend(frameon=False, fontsize="small")
    return fig


def noise_point(result: Result, model: str, sigma2: float) -> dict:
    a = result.arrays
    i = int(np.argmin(np.abs(a["noise_sigma2"] - sigma2)))
    return {k: float(a[f"noise_{model}_{k}"][i].mean()) for k in ("train", "test", "attack")}


def attacks_table(result: Result) -> Table:
    rows = []
    for model, attacks in result.metrics["attacks"].items():
        for attack, s in attacks.items():
            rows.append({"Model": MODEL_LABEL[model], "Attack": ATTACK_LABEL[attack],
                         "Accuracy": f"{s['accuracy']:.3f}",
                         "TPR at 1 % FPR": f"{s['tpr_at_1pct_fpr']:.3f}",
                         "AUC": f"{s['auc']:.3f}"})
    return as_table(pd.DataFrame(rows))


def roc_figure(result: Result) -> Figure:
    a = result.arrays
    fig = Figure(figsize=(7, 3), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, model in zip(axes, ("none", "l2"), strict=True):
        for attack, style in (("correctness", ":"), ("loss", "--"), ("lira", "-")):
            fpr, tpr = a[f"roc_{model}_{attack}_fpr"], a[f"roc_{model}_{attack}_tpr"]
            ax.loglog(np.maximum(fpr, 1e-3), np.maximum(tpr, 1e-3), style, label=ATTACK_LABEL[attack])
        ax.loglog([1e-3, 1], [1e-3, 1], color="grey", lw=0.8)
        ax.set_title(MODEL_LABEL[model], fontsize="medium")
        ax.set_xlabel("false-positive rate")
        _tidy(ax)
    axes[0].set_ylabel("true-positive rate")
    axes[0].legend(frameon=False, fontsize="small")
    return fig


def defences(result: Result) -> pd.DataFrame:
    return pd.DataFrame(result.metrics["defences"])


def defences_figure(result: Result) -> Figure:
    df = defences(result)
    a = result.arrays
    fig = Figure(figsize=(7, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2, sharex=True)
    styles = {"l2": ("C0", "o-", "L2 penalty (C sweep)"), "early": ("C2", "s-", "early stopping"),
              "dp": ("C3", "^-", "DP-GD")}
    for kind, (colour, marker, label) in styles.items():
        g = df[df["defence"] == kind]
        left.plot(g["test_acc"], g["loss_attack"], marker, color=colour, label=label, ms=4)
        right.plot(g["test_acc"], g["loss_tpr_1pct"], marker, color=colour, ms=4)
        if kind == "dp":
            for r in g.itertuples():
                left.annotate(f"ε={r.epsilon:.1f}", (r.test_acc, r.loss_attack), fontsize=6,
                              xytext=(2, 3), textcoords="offset points")
    for name, colour in (("none", "C4"), ("l2", "C5")):
        test = a[f"noise_{name}_test"].mean(1)
        att = a[f"noise_{name}_attack"].mean(1)
        left.plot(test, att, "x:", color=colour, ms=4,
                  label=f"weight noise ({MODEL_LABEL[name]}; correctness attack)")
    left.axhline(0.5, color="grey", lw=0.8, ls=":")
    left.set_xlabel("test accuracy (utility)")
    right.set_xlabel("test accuracy (utility)")
    left.set_ylabel("loss-attack accuracy")
    right.set_ylabel("loss-attack TPR at 1 % FPR")
    fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncols=3,
               frameon=False, fontsize="x-small")
    for ax in (left, right):
        _tidy(ax)
    return fig


def best_under(result: Result, kind: str, max_attack: float) -> float:
    """Best test accuracy of a defence among its settings whose loss attack is <= max_attack."""
    df = defences(result)
    ok = df[(df["defence"] == kind) & (df["loss_attack"] <= max_attack)]
    return float(ok["test_acc"].max()) if len(ok) else float("nan")


def dp_table(result: Result) -> Table:
    g = defences(result)
    g = g[g["defence"] == "dp"]
    out = pd.DataFrame({
        "Noise multiplier": g["knob"].map("{:g}".format),
        "ε (δ = " + f"{result.metrics['dp_delta']:g})": g["epsilon"].map("{:.2f}".format),
        "Train acc.": g["train_acc"].map("{:.3f}".format),
        "Test acc.": g["test_acc"].map("{:.3f}".format),
        "Loss-attack acc.": g["loss_attack"].map("{:.3f}".format),
        "TPR at 1 % FPR": g["loss_tpr_1pct"].map("{:.3f}".format),
    })
    return as_table(out)


def summary(gaussian: Result, logistic: Result) -> str:
    """Plain-text tables for the command line."""
    a = gaussian.arrays
    g = pd.DataFrame({"d": a["dims"], "in-sample": a["in_sample"][0], "fresh": a["fresh"][0],
                      "theory": a["theory"]})
    return "\n\n".join([
        g.iloc[:: max(1, len(g) // 10)].to_string(index=False, float_format="%.3f"),
        convergence_table(logistic).text(),
        attacks_table(logistic).text(),
        dp_table(logistic).text(),
    ])
