"""The CIFAR-10 chapter's figures."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from trustml.core.cache import Result
from trustml.core.keys import number_key
from trustml.experiments.cifar import (
    PIXEL,
)
from trustml.views.cifar.common import (
    CLASSES,
    EPS8,
    MODEL_LABELS,
    autoattack_cell,
)


def curve_figure(results: dict[str, Result]) -> Figure:
    """Accuracy against the radius: FGSM (dashed) and PGD (solid) for the standard model and
    the two defences; crosses: AutoAttack at 8/255."""
    fig = Figure(figsize=(5.5, 4.4), layout="constrained")
    ax = fig.subplots()
    series = [("standard", results["cifar-attacks"].metrics)]
    for name, key in (("FGSM defence", "cifar-fgsm-defence"), ("PGD defence", "cifar-pgd-defence")):
        if key in results:
            series.append((name, results[key].metrics))
    for i, (name, m) in enumerate(series):
        radii = sorted(float(e) for e in m["pgd"])
        xs = [0.0, *(e / PIXEL for e in radii)]
        for attack, style in (("pgd", "-"), ("fgsm", "--")):
            ys = [100 * m["clean"], *(100 * m[attack][number_key(e)] for e in radii)]
            ax.plot(xs, ys, style, marker="o" if attack == "pgd" else None, ms=3.5,
                    color=f"C{i}", label=f"{name}, {'PGD-10' if attack == 'pgd' else 'FGSM'}")
        ax.plot([EPS8 / PIXEL], [100 * autoattack_cell(m)], "x", ms=8, color=f"C{i}")
    ax.plot([], [], "x", ms=8, color="0.3", label="worst case (AutoAttack), 8/255")
    ax.set_xlabel("ε (ℓ∞ radius, in units of 1/255)")
    ax.set_ylabel("accuracy (%)")
    ax.set_xticks([0, 1, 2, 4, 8, 16])
    ax.spines[["top", "right"]].set_visible(False)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2,
               frameon=False)  # below the axes: inside, it covered the curves
    return fig


def samples_figure(attacks: Result) -> Figure:
    """Five test images, their FGSM and PGD versions at 8/255 and the perturbation (scaled to
    the full grey range), with the predicted class and its probability."""
    a = attacks.arrays
    k = len(a["samples/label"])
    fig = Figure(figsize=(1.3 * k, 5.6), layout="constrained")
    axes = fig.subplots(4, k, squeeze=False)
    rows = [("clean", a["samples/clean"]), ("FGSM", a["samples/fgsm"]), ("PGD", a["samples/pgd"]),
            ("PGD − clean", a["samples/pgd"] - a["samples/clean"])]
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
                key = {"clean": "clean", "FGSM": "fgsm", "PGD": "pgd"}[name]
                pred = int(a[f"samples/{key}/pred"][c])
                conf = float(a[f"samples/{key}/confidence"][c])
                wrong = pred != int(a["samples/label"][c])
                ax.set_title(f"{CLASSES[pred]}\n{100 * conf:.0f} %",
                             color="C3" if wrong else "black")
            if c == 0:
                ax.set_ylabel(name)
    return fig


def check_figure(results: dict[str, Result]) -> Figure:
    """Clean and PGD-10 accuracy at 8/255 on 500 held-out test images during fine-tuning."""
    fig = Figure(figsize=(6.2, 3.0), layout="constrained")
    ax = fig.subplots()
    for i, key in enumerate(("cifar-fgsm-defence", "cifar-pgd-defence")):
        h = results[key].metrics["history"]
        ax.plot(h["check_step"], [100 * v for v in h["check_pgd"]], "-o", ms=3.5, color=f"C{i + 1}",
                label=f"{MODEL_LABELS[key]}: PGD-10")
        ax.plot(h["check_step"], [100 * v for v in h["check_clean"]], "--", color=f"C{i + 1}",
                label=f"{MODEL_LABELS[key]}: clean")
    ax.set_xlabel("epochs of fine-tuning")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False)
    return fig

