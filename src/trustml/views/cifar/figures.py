"""The CIFAR-10 chapter's figures."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from trustml.core.cache import Result
from trustml.experiments.cifar import PIXEL
from trustml.views.cifar.common import (
    CLASSES,
    MODEL_LABELS,
    TRAINING,
    at_radius,
    radii,
)

# the models as the curve's legend names them: "defence" says that a colour is a model, beside
# the line styles that are attacks ("FGSM" alone would read as the attack)
LEGEND_LABELS = {**MODEL_LABELS, "cifar-eval-fgsm": "FGSM defence",
                 "cifar-eval-fgsmrs": "FGSM-RS defence", "cifar-eval-pgd": "PGD defence, one pass",
                 "cifar-eval-pgd-halves": "PGD defence, two passes",
                 "cifar-eval-pgd-halves-11": "PGD defence, 11/255"}


def curve_figure(results: dict[str, Result]) -> Figure:
    """Accuracy against the radius for the standard model and the defences: the worst
    case over every attack (solid, the robust accuracy) and PGD-10 (dotted, what the weak
    attack reports)."""
    fig = Figure(figsize=(5.8, 4.4), layout="constrained")
    ax = fig.subplots()
    for i, key in enumerate(MODEL_LABELS):
        m = results[key].metrics
        rs = radii(m)
        xs = [0.0, *(e / PIXEL for e in rs)]
        for attack, style, width in (("worst", "-", 1.8), ("pgd10", ":", 1.2)):
            ys = [100 * m["clean"], *(100 * at_radius(m, attack, e) for e in rs)]
            ax.plot(xs, ys, style, lw=width, marker="o" if attack == "worst" else None, ms=3.5,
                    color=f"C{i}")
    ax.set_xlabel("ε (ℓ∞ radius, in units of 1/255)")
    ax.set_ylabel("accuracy (%)")
    ax.set_xticks([0, 1, 2, 4, 6.39, 8], ["0", "1", "2", "4", "6.39", "8"])
    ax.set_ylim(0, 100)
    ax.spines[["top", "right"]].set_visible(False)
    # below the axes (inside, it covered the curves): the models by colour, the attacks by line
    # style, in short labels (`legible` raises the fonts to a phone's floor, and "model, attack"
    # labels made the legend, so the PNG, wider than the figure and its text smaller)
    models = [Line2D([], [], color=f"C{i}", lw=1.8) for i in range(len(MODEL_LABELS))]
    styles = [Line2D([], [], color="0.3", lw=1.8, marker="o", ms=3.5),
              Line2D([], [], color="0.3", lw=1.2, ls=":")]
    fig.legend([*models, *styles], [*LEGEND_LABELS.values(), "worst case", "PGD-10"],
               loc="outside lower center", ncols=2, frameon=False)
    return fig


def samples_figure(attacks: Result) -> Figure:
    """Five test images, their FGSM and PGD-10 versions at 8/255 and the perturbation (scaled
    to the full grey range), with the predicted class and its probability."""
    a = attacks.arrays
    k = len(a["samples/label"])
    fig = Figure(figsize=(1.3 * k, 5.6), layout="constrained")
    axes = fig.subplots(4, k, squeeze=False)
    rows = [("clean", a["samples/clean"]), ("FGSM", a["samples/fgsm"]),
            ("PGD-10", a["samples/pgd"]), ("PGD-10 δ", a["samples/pgd"] - a["samples/clean"])]
    for r, (name, images) in enumerate(rows):
        for c in range(k):
            ax = axes[r, c]
            img = np.asarray(images[c], dtype=np.float32).transpose(1, 2, 0)
            if r == 3:
                span = max(float(np.abs(img).max()), 1e-12)
                img = 0.5 + 0.5 * img / span
            ax.imshow(np.clip(img, 0, 1), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r < 3:
                key = {"clean": "clean", "FGSM": "fgsm", "PGD-10": "pgd"}[name]
                pred = int(a[f"samples/{key}/pred"][c])
                conf = float(a[f"samples/{key}/confidence"][c])
                wrong = pred != int(a["samples/label"][c])
                ax.set_title(f"{CLASSES[pred]}\n{100 * conf:.0f} %",
                             color="C3" if wrong else "black")
            if c == 0:
                ax.set_ylabel(name)
    return fig


def check_figure(results: dict[str, Result], keys: tuple[str, ...] = tuple(TRAINING)) -> Figure:
    """Clean and PGD-10 accuracy at 8/255 on the held-out test images during fine-tuning, one
    panel per defence of `keys` (evaluation experiments); black rings: checks flagged as
    catastrophic overfitting."""
    cols = len(keys) if len(keys) <= 3 else 2  # two panels a row: the titles fit their panels
    rows = math.ceil(len(keys) / cols)
    fig = Figure(figsize=(6.4, 2.4 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, sharey=True, squeeze=False).ravel()
    for ax in axes[len(keys):]:
        ax.set_visible(False)
    for i, (ax, key) in enumerate(zip(axes[: len(keys)], keys, strict=True)):
        h = results[TRAINING[key]].metrics["history"]
        colour = f"C{list(MODEL_LABELS).index(key)}"
        ax.plot(h["check_step"], [100 * v for v in h["check_pgd"]], "-o", ms=3, color=colour,
                label="PGD-10")
        ax.plot(h["check_step"], [100 * v for v in h["check_clean"]], "--", color=colour,
                label="clean")
        flagged = [j for j, f in enumerate(h["check_collapsed"]) if f]
        if flagged:
            ax.plot([h["check_step"][j] for j in flagged], [100 * h["check_pgd"][j] for j in flagged],
                    "o", ms=8, mfc="none", color="k", label="collapsed")
        ax.set_title(LEGEND_LABELS[key], fontsize=9)
        if i >= len(keys) - cols:  # the bottom row
            ax.set_xlabel("epochs of fine-tuning")
        ax.set_ylim(0, 100)
        ax.spines[["top", "right"]].set_visible(False)
        if i % cols == 0:
            ax.set_ylabel("accuracy (%)")
        if i == 0:
            ax.legend(frameon=False, fontsize=9)
    return fig
