"""The exercise-4 chapter's figures."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from trustml.core.cache import Result
from trustml.views.membership.common import (
    ATTACK_COLOUR,
    ATTACK_LABEL,
    MODEL_LABEL,
    _band,
    _roc_axes,
    _tidy,
    defences,
    dp_models,
    sweep,
)


def gaussian_figure(result: Result) -> Figure:
    a = result.arrays
    fig = Figure(figsize=(5.5, 3.6), layout="constrained")
    ax = fig.subplots()
    _band(ax, a["dims"], a["in_sample"], "fitted threshold, same data (in-sample)", "C0")
    _band(ax, a["dims"], a["fresh"], "same threshold, fresh data", "C1")
    ax.plot(a["dims"], a["theory"], "k--", lw=1, label="Gaussian approximation, best threshold")
    ax.plot(a["dims"], a["theory_simple"], "k:", lw=1, label=r"$\Phi(\frac{1}{2}\sqrt{d/n})$")
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
    left.plot(a["sigma2"], a["norm_theory"], "k--", lw=1, label=r"$\sqrt{d\,(1/n + \sigma^2)}$")
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


def sweep_figure(result: Result) -> Figure:
    df = sweep(result)
    fig = Figure(figsize=(5.5, 5.6), layout="constrained")
    left, right = fig.subplots(2, 1, sharex=True)
    for colour, (name, group) in zip(("C0", "C3"), df.groupby("model", sort=False), strict=False):
        label = MODEL_LABEL[name] + (f" (C = {result.metrics['C_strong']:g})" if name == "l2" else "")
        left.semilogx(group["n"], group["train_acc"], "o-", color=colour, label=f"{label}: train")
        left.semilogx(group["n"], group["test_acc"], "s--", color=colour, label=f"{label}: test")
        right.semilogx(group["n"], group["correctness_attack"], "o-", color=colour,
                       label=f"{label}: attack")
        right.semilogx(group["n"], 0.5 + (group["train_acc"] - group["test_acc"]) / 2, "x:",
                       color="k", ms=6, label=r"$\frac{1}{2}$ + gap / 2" if name == "none" else None)
    left.set_ylabel("accuracy")
    right.set_xlabel("n (members = non-members)")
    right.set_ylabel("membership attack accuracy")
    right.axhline(0.5, color="grey", lw=0.8, ls=":")
    handles, labels = left.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    fig.legend(handles + more[0], labels + more[1], loc="outside lower center", ncols=2,
               frameon=False)  # below the panels: inside, it covered the curves
    for ax in (left, right):
        _tidy(ax)
    return fig


def _noise_axis(ax, x: np.ndarray, chance: float) -> None:
    ax.set_xscale("symlog", linthresh=float(x[x > 0].min()))  # 0, then a log axis
    ax.axhline(chance, color="grey", lw=0.8, ls=":")  # guessing: 10 classes, or in / out
    _tidy(ax)


def _noise_band(ax, x: np.ndarray, values: np.ndarray, colour: str, label: str) -> None:
    """Mean over the noise draws (the columns of `values`), with its 10–90 % band."""
    lo, hi = np.percentile(values, [10, 90], axis=1)
    ax.plot(x, values.mean(1), color=colour, label=label)
    ax.fill_between(x, lo, hi, color=colour, alpha=0.2, lw=0)


NOISE_XLABEL = "noise variance σ² on every parameter (0, then log scale)"


def _noise_title(result: Result, name: str) -> str:
    return MODEL_LABEL[name] + (f", C = {result.metrics['noise_C']:g}" if name == "l2" else "")


def noise_figure(result: Result) -> Figure:
    """Train and test accuracy against the noise variance, one graph per model."""
    a = result.arrays
    fig = Figure(figsize=(5.5, 4.6), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True, sharey=True)
    x = a["noise_sigma2"]
    for ax, name in zip(axes, ("none", "l2"), strict=True):
        for key, colour, label in (("train", "C0", "train accuracy"), ("test", "C1", "test accuracy")):
            _noise_band(ax, x, a[f"noise_{name}_{key}"], colour, label)
        ax.set_title(_noise_title(result, name), fontsize="medium")
        ax.set_ylabel("accuracy")
        _noise_axis(ax, x, 0.1)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=2,
               frameon=False)
    axes[1].set_xlabel(NOISE_XLABEL)
    return fig


def noise_attack_figure(result: Result) -> Figure:
    """The correctness attack's accuracy against the noise variance, both models on one axis."""
    a = result.arrays
    fig = Figure(figsize=(5.5, 3.2), layout="constrained")
    ax = fig.subplots()
    x = a["noise_sigma2"]
    for name, colour in (("none", "C0"), ("l2", "C3")):
        _noise_band(ax, x, a[f"noise_{name}_attack"], colour, _noise_title(result, name))
    ax.set_ylabel("attack accuracy")
    ax.set_xlabel(NOISE_XLABEL)
    ax.legend(frameon=False, fontsize="small")
    _noise_axis(ax, x, 0.5)
    return fig


def roc_figure(result: Result) -> Figure:
    a = result.arrays
    fig = Figure(figsize=(5.5, 5.6), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    styles = {"correctness": ":", "loss": "--", "lira_online": "-", "lira_online_fixed": "-.",
              "lira_offline_fixed": (0, (1, 1))}
    for ax, model in zip(axes, ("none", "l2"), strict=True):
        for name, style in styles.items():
            ax.plot(a["roc_fpr"], np.maximum(a[f"roc_{model}_{name}"], 1e-4), ls=style,
                    color=ATTACK_COLOUR[name], label=ATTACK_LABEL[name])
        _roc_axes(ax, MODEL_LABEL[model])
    for ax in axes:
        ax.set_ylabel("true-positive rate")
    axes[1].set_xlabel("false-positive rate")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2,
               frameon=False, fontsize="small")
    return fig


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
        ax.set_xlabel(r"$\varphi = \log\,p_y / (1 - p_y)$")
        _tidy(ax)
    axes[0].set_ylabel("points")
    for ax in axes[:2]:  # headroom above the bars for the legend
        ax.set_ylim(top=1.5 * ax.get_ylim()[1])
    axes[0].legend(frameon=False, loc="upper left")
    sep = np.concatenate([a["separation_none"], a["separation_l2"]])
    bins = np.linspace(np.percentile(sep, 1), np.percentile(sep, 99), 40)
    for model in ("none", "l2"):
        axes[2].hist(a[f"separation_{model}"], bins, alpha=0.6, label=MODEL_LABEL[model])
    axes[2].set_xlabel(r"$(\mu_{\mathrm{in}} - \mu_{\mathrm{out}}) / \sigma$ per point")
    axes[2].set_title("shadow models", fontsize="medium")
    axes[2].set_ylabel("points")
    axes[2].legend(frameon=False, fontsize="small")
    _tidy(axes[2])
    return fig


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
            ax.plot(fpr, np.maximum(a[f"roc_{kind}_{name}"], 1e-4), ls=style,
                    color=ATTACK_COLOUR[name], label=ATTACK_LABEL[name])
        _roc_axes(ax, f"ε = {result.metrics['attacks'][kind]['epsilon']:.1f}")
    for i, ax in enumerate(axes):
        if i % cols == 0:
            ax.set_ylabel("true-positive rate")
        if i >= len(axes) - cols:  # the last row's panels, and the one above an empty cell
            ax.set_xlabel("false-positive rate")
            ax.tick_params(labelbottom=True)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
               ncols=3, frameon=False, fontsize="small")
    return fig


def defences_figure(result: Result) -> Figure:
    df = defences(result)
    a = result.arrays
    fig = Figure(figsize=(5.5, 6.4), layout="constrained")
    left, right = fig.subplots(2, 1, sharex=True)
    # the L2 penalty red and no regularisation blue, as in the chapter's other figures
    styles = {"l2": ("C3", "o-", "L2 penalty (C sweep)"), "early": ("C2", "s-", "early stopping"),
              "dp": ("C1", "^-", "DP-GD")}
    for kind, (colour, marker, label) in styles.items():
        g = df[df["defence"] == kind]
        left.plot(g["test_acc"], g["loss_attack"], marker, color=colour, label=label, ms=4)
        right.plot(g["test_acc"], g["loss_tpr_1pct"], marker, color=colour, ms=4)
        if kind == "dp":  # the two ends of the DP-GD curve (the DP table lists every epsilon)
            ends = g.sort_values("epsilon").iloc[[0, -1]]
            # labelled from the empty upper left of the panel, a thin line to each point (next
            # to the points the labels sat on the axis or on the crowded curves)
            for r, spot in zip(ends.itertuples(), ((0.22, 0.45), (0.42, 0.72)), strict=True):
                left.annotate(f"ε = {r.epsilon:.1f}", (r.test_acc, r.loss_attack), xytext=spot,
                              textcoords="axes fraction", ha="center", va="bottom", color=colour,
                              zorder=5, arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.6,
                                                    "shrinkA": 2, "shrinkB": 3})
    for name, colour in (("none", "C0"), ("l2", "C3")):
        test = a[f"noise_{name}_test"].mean(1)
        att = a[f"noise_{name}_attack"].mean(1)
        left.plot(test, att, "x:", color=colour, ms=4,
                  label=f"weight noise, {MODEL_LABEL[name]} (correctness attack)")
    left.axhline(0.5, color="grey", lw=0.8, ls=":")
    right.set_xlabel("test accuracy (utility)")
    left.set_ylabel("attack accuracy")
    right.set_ylabel("loss-attack TPR at 1 % FPR")
    fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncols=1,
               frameon=False)
    for ax in (left, right):
        _tidy(ax)
    return fig

