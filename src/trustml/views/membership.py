"""Exercise 4's tables and figures."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from trustml.core.cache import Result, run_or_load
from trustml.privacy.dp_bound import dp_tpr_bound
from trustml.views.format import fmt_pct, fmt_sci
from trustml.views.table import Table, as_table

MODEL_LABEL = {"none": "no regularisation", "l2": "L2"}
ATTACK_LABEL = {"correctness": "correctly classified", "loss": "loss threshold",
                "lira_online": "LiRA online", "lira_online_fixed": "LiRA online, fixed variance",
                "lira_offline_fixed": "LiRA offline, fixed variance"}


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
    fig = Figure(figsize=(5.5, 4.4), layout="constrained")
    left, right = fig.subplots(2, 1, sharex=True)
    _band(left, a["sigma2"], a["norm"], "‖μ̃‖₂ (mean, 95 % CI, 10–90 %)", "C2")
    left.plot(a["sigma2"], a["norm_theory"], "k--", lw=1, label="√(d(1/n + σ²))")
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
    fig = Figure(figsize=(5.5, 5.0), layout="constrained")
    left, right = fig.subplots(2, 1, sharex=True)
    for colour, (name, group) in zip(("C0", "C3"), df.groupby("model", sort=False), strict=False):
        label = MODEL_LABEL[name] + (f" (C = {result.metrics['C_strong']:g})" if name == "l2" else "")
        left.semilogx(group["n"], group["train_acc"], "o-", color=colour, label=f"{label}: train")
        left.semilogx(group["n"], group["test_acc"], "s--", color=colour, label=f"{label}: test")
        right.semilogx(group["n"], group["correctness_attack"], "o-", color=colour,
                       label=f"{label}: attack accuracy")
        right.semilogx(group["n"], 0.5 + (group["train_acc"] - group["test_acc"]) / 2, "x:",
                       color="k", ms=6, label="½ + gap / 2" if name == "none" else None)
    left.set_ylabel("accuracy")
    right.set_xlabel("n (members = non-members)")
    right.set_ylabel("membership attack accuracy")
    right.axhline(0.5, color="grey", lw=0.8, ls=":")
    left.legend(frameon=False, fontsize="small", ncols=2, loc="lower right")
    right.legend(frameon=False, fontsize="small", loc="upper right")
    for ax in (left, right):
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
    fig = Figure(figsize=(5.5, 4.6), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True, sharey=True)
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
        ax.set_xscale("symlog", linthresh=float(x[x > 0].min()))  # 0, then a log axis
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        _tidy(ax)
    for ax in axes:
        ax.set_ylabel("accuracy")
    axes[0].legend(frameon=False, fontsize="small", ncols=3, loc="upper center",
                   bbox_to_anchor=(0.5, 1.35))
    axes[1].set_xlabel("noise variance σ² on every parameter (0, then a logarithmic scale)")
    return fig


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


def attacks_table(result: Result) -> Table:
    rows = []
    for model in ("none", "l2"):
        for name, s in result.metrics["attacks"][model].items():
            rows.append({"Model": MODEL_LABEL[model], "Attack": ATTACK_LABEL[name],
                         "AUC": f"{s['auc']:.3f}",
                         **{f"TPR at {100 * float(f):g} % FPR": _interval(v)
                            for f, v in s["tpr"].items()}})
    return as_table(pd.DataFrame(rows))


def _roc_axes(ax, title: str) -> None:
    ax.plot([1e-4, 1], [1e-4, 1], color="grey", lw=0.8)
    ax.set(xscale="log", yscale="log", xlim=(1e-4, 1), ylim=(1e-4, 1.05))
    ax.set_title(title, fontsize="medium")
    _tidy(ax)


def roc_figure(result: Result) -> Figure:
    a = result.arrays
    fig = Figure(figsize=(5.5, 5.6), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    styles = {"correctness": ":", "loss": "--", "lira_online": "-", "lira_online_fixed": "-.",
              "lira_offline_fixed": (0, (1, 1))}
    for ax, model in zip(axes, ("none", "l2"), strict=True):
        for name, style in styles.items():
            ax.plot(a["roc_fpr"], np.maximum(a[f"roc_{model}_{name}"], 1e-4), ls=style,
                    label=ATTACK_LABEL[name])
        _roc_axes(ax, MODEL_LABEL[model])
    for ax in axes:
        ax.set_ylabel("true-positive rate")
    axes[1].set_xlabel("false-positive rate")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2,
               frameon=False, fontsize="small")
    return fig


def confidence(result: Result, model: str) -> dict:
    """The target model's statistic φ on members and non-members (medians) and the per-point
    separation of the IN and OUT shadow distributions (median, in shadow standard deviations)."""
    a = result.arrays
    phi, member = a[f"phi_{model}"], a[f"member_{model}"].astype(bool)
    return {"phi_in": float(np.median(phi[member])), "phi_out": float(np.median(phi[~member])),
            "separation": float(np.median(a[f"separation_{model}"]))}


def confidence_figure(result: Result) -> Figure:
    a = result.arrays
    fig = Figure(figsize=(5.5, 4.4), layout="constrained")
    grid = fig.add_gridspec(2, 2)
    axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, :])]
    for ax, model in zip(axes[:2], ("none", "l2"), strict=True):
        phi, member = a[f"phi_{model}"], a[f"member_{model}"].astype(bool)
        bins = np.linspace(np.percentile(phi, 1), np.percentile(phi, 99), 40)
        ax.hist(phi[member], bins, alpha=0.6, label="members")
        ax.hist(phi[~member], bins, alpha=0.6, label="non-members")
        ax.set_title(MODEL_LABEL[model], fontsize="medium")
        ax.set_xlabel("φ = log(p_y / (1 − p_y))")
        _tidy(ax)
    axes[0].set_ylabel("points")
    axes[0].legend(frameon=False, fontsize="small")
    sep = np.concatenate([a["separation_none"], a["separation_l2"]])
    bins = np.linspace(np.percentile(sep, 1), np.percentile(sep, 99), 40)
    for model in ("none", "l2"):
        axes[2].hist(a[f"separation_{model}"], bins, alpha=0.6, label=MODEL_LABEL[model])
    axes[2].set_xlabel("(μ_in − μ_out) / σ per point")
    axes[2].set_title("shadow models", fontsize="medium")
    axes[2].legend(frameon=False, fontsize="small")
    _tidy(axes[2])
    return fig


def dp_models(result: Result) -> list[str]:
    return [k for k in result.metrics["attacks"] if k.startswith("dp")]


def dp_roc_figure(result: Result) -> Figure:
    """ROC curves of the attacks on each DP-GD model against the region its guarantee allows."""
    a = result.arrays
    kinds = dp_models(result)
    cols = 2 if len(kinds) > 1 else 1
    rows = -(-len(kinds) // cols)
    fig = Figure(figsize=(5.5, 2.1 * rows + 0.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, sharey=True)).ravel()
    for ax in axes[len(kinds):]:
        ax.set_axis_off()
    axes = axes[: len(kinds)]
    fpr = a["roc_fpr"]
    for ax, kind in zip(np.atleast_1d(axes), kinds, strict=True):
        bound = a[f"bound_{kind}"]
        ax.fill_between(fpr, bound, 1.05, color="0.85", lw=0, label="excluded by (ε, δ)-DP")
        ax.plot(fpr, bound, color="k", lw=0.8)
        for name, style in (("loss", "--"), ("lira_online", "-")):
            ax.plot(fpr, np.maximum(a[f"roc_{kind}_{name}"], 1e-4), ls=style, label=ATTACK_LABEL[name])
        _roc_axes(ax, f"ε = {result.metrics['attacks'][kind]['epsilon']:.1f}")
        ax.tick_params(labelsize="small")
    for i, ax in enumerate(axes):
        if i % cols == 0:
            ax.set_ylabel("true-positive rate")
        if i >= len(axes) - cols:
            ax.set_xlabel("false-positive rate")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
               ncols=3, frameon=False, fontsize="small")
    return fig


def dp_bound_at(result: Result, kind: str, fpr: float) -> float:
    """The largest TPR the DP guarantee of model `kind` allows at `fpr`."""
    eps = result.metrics["attacks"][kind]["epsilon"]
    return float(dp_tpr_bound(fpr, eps, result.metrics["dp_delta"]))


def defences(result: Result) -> pd.DataFrame:
    return pd.DataFrame(result.metrics["defences"])


def defences_figure(result: Result) -> Figure:
    df = defences(result)
    a = result.arrays
    fig = Figure(figsize=(5.5, 5.4), layout="constrained")
    left, right = fig.subplots(2, 1, sharex=True)
    styles = {"l2": ("C0", "o-", "L2 penalty (C sweep)"), "early": ("C2", "s-", "early stopping"),
              "dp": ("C3", "^-", "DP-GD")}
    for kind, (colour, marker, label) in styles.items():
        g = df[df["defence"] == kind]
        left.plot(g["test_acc"], g["loss_attack"], marker, color=colour, label=label, ms=4)
        right.plot(g["test_acc"], g["loss_tpr_1pct"], marker, color=colour, ms=4)
        if kind == "dp":
            for i, r in enumerate(g.itertuples()):  # alternate above/below: neighbours do not collide
                left.annotate(f"ε = {r.epsilon:.1f}", (r.test_acc, r.loss_attack), fontsize="x-small",
                              xytext=(2, 4 if i % 2 == 0 else -9), textcoords="offset points",
                              zorder=5, bbox={"fc": "white", "ec": "none", "pad": 0.5, "alpha": 0.85})
    for name, colour in (("none", "C4"), ("l2", "C5")):
        test = a[f"noise_{name}_test"].mean(1)
        att = a[f"noise_{name}_attack"].mean(1)
        left.plot(test, att, "x:", color=colour, ms=4,
                  label=f"weight noise ({MODEL_LABEL[name]}; correctness attack)")
    left.axhline(0.5, color="grey", lw=0.8, ls=":")
    right.set_xlabel("test accuracy (utility)")
    left.set_ylabel("loss-attack accuracy")
    right.set_ylabel("loss-attack TPR at 1 % FPR")
    fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncols=2,
               frameon=False, fontsize="small")
    for ax in (left, right):
        _tidy(ax)
    return fig


def l2_cost_phrase(result: Result, scarce: float = 0.02) -> str:
    """What the L2 penalty costs in test accuracy over the n sweep, in words that fit the values:
    a real cost where data are scarce is named with its numbers."""
    sw = sweep(result)
    none, l2 = (sw[sw.model == m].set_index("n") for m in ("none", "l2"))
    n_small = int(sw.n.min())
    if none.loc[n_small, "test_acc"] - l2.loc[n_small, "test_acc"] > scarce:
        return (f"it pays for its small gap in test accuracy where data are scarce "
                f"({fmt_pct(l2.loc[n_small, 'test_acc'])} against "
                f"{fmt_pct(none.loc[n_small, 'test_acc'])} without the penalty at n = {n_small})")
    return "it gives up little test accuracy for its small gap"


def dp_guarantee_sentence(result: Result, max_attack: float = 0.55, fpr: float = 0.01) -> str:
    """What the DP guarantee of the most accurate DP-GD model within `max_attack` says about
    attacks not measured here, in words chosen for how informative it is at that epsilon."""
    df = defences(result)
    ok = df[(df["defence"] == "dp") & (df["loss_attack"] <= max_attack)]
    if not len(ok):
        return "No DP-GD model keeps the loss attack that low."
    row = ok.loc[ok["test_acc"].idxmax()]
    bound = float(dp_tpr_bound(fpr, float(row["epsilon"]), result.metrics["dp_delta"]))
    head = (f"Only DP-GD's model carries a guarantee against attacks not measured here, "
            f"TPR ≤ exp(ε)·FPR + δ; at its ε = {row['epsilon']:.1f} ")
    if bound >= 0.99:
        return head + (f"that guarantee is vacuous: at {100 * fpr:g} % FPR it allows a TPR of "
                       f"{100 * bound:.0f} %, so its measured privacy is an empirical result, "
                       "like the others'.")
    return head + f"it caps every attack's TPR at {100 * fpr:g} % FPR at {100 * bound:.3g} %."


def leak_phrase(result: Result, fpr: float) -> str:
    """Whether, to LiRA (its better variant per model), the L2 model leaks more or less than the
    unregularised one at `fpr`, said only as strongly as the bootstrap intervals allow."""
    variants = ("lira_online", "lira_online_fixed")

    def best(model: str) -> list[float]:
        return max((attack(result, model, a)["tpr"][f"{fpr:g}"] for a in variants),
                   key=lambda v: v[0])

    l2, none = best("l2"), best("none")
    if l2[1] > none[2]:
        return ("the L2 model leaks more than the unregularised one, and the intervals do not "
                "overlap")
    if l2[2] < none[1]:
        return ("the L2 model leaks less than the unregularised one, and the intervals do not "
                "overlap")
    return ("the two models cannot be told apart at this number of target models (the intervals "
            "overlap)")


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
        f"ε (δ = {fmt_sci(result.metrics['dp_delta'], 0)})": g["epsilon"].map("{:.2f}".format),
        "Train acc.": g["train_acc"].map("{:.3f}".format),
        "Test acc.": g["test_acc"].map("{:.3f}".format),
        "Loss-attack acc.": g["loss_attack"].map("{:.3f}".format),
        "TPR at 1 % FPR": g["loss_tpr_1pct"].map("{:.3f}".format),
    })
    return as_table(out)


def dp_attack_table(result: Result) -> Table:
    """LiRA against each DP-GD population, with the most the guarantee allows."""
    rows = []
    for kind in dp_models(result):
        s = attack(result, kind, "lira_online")
        rows.append({
            "ε": f"{result.metrics['attacks'][kind]['epsilon']:.2f}",
            "Test acc.": f"{100 * s['test_acc']:.1f} %",
            "LiRA AUC": f"{s['auc']:.3f}",
            **{f"TPR at {100 * float(f):g} % FPR (bound)":
               f"{_interval(v)} ({100 * dp_bound_at(result, kind, float(f)):.3g} %)"
               for f, v in s["tpr"].items()},
        })
    return as_table(pd.DataFrame(rows))


def summary(results: Mapping[str, Result]) -> str:
    """Plain-text tables for the command line (`python -m trustml ex4`)."""
    gaussian, logistic = results["ex4-gaussian-mean"], results["ex4-logistic"]
    a = gaussian.arrays
    g = pd.DataFrame({"d": a["dims"], "in-sample": a["in_sample"][0], "fresh": a["fresh"][0],
                      "theory": a["theory"]})
    return "\n\n".join([
        g.iloc[:: max(1, len(g) // 10)].to_string(index=False, float_format="%.3f"),
        convergence_table(logistic).text(),
        attacks_table(logistic).text(),
        dp_table(logistic).text(),
        dp_attack_table(logistic).text(),
    ])
