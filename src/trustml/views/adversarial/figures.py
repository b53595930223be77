"""The exercise-3 chapter's figures."""

from __future__ import annotations

from matplotlib.figure import Figure

from trustml.core.cache import Result
from trustml.experiments.adversarial import (
    EVAL_EPS,
    MODELS,
)
from trustml.views.adversarial.common import (
    MODEL_NAMES,
    accuracies,
    eval_result,
    grey_bound,
    training_history,
)


def curve_figure(results: dict[str, Result]) -> Figure:
    """Robust accuracy against eps, one line per model (our PGD on the test set); crosses: the
    worst case over every attack on the subset."""
    fig = Figure(figsize=(6.2, 3.4), layout="constrained")
    ax = fig.subplots()
    for i, model in enumerate(MODEL_NAMES):
        acc = [accuracies(results, model, e) for e in EVAL_EPS]
        xs = [0.0, *EVAL_EPS]
        ax.plot(xs, [100 * acc[0]["clean"]] + [100 * a["pgd"] for a in acc], marker="o", ms=4,
                color=f"C{i}", label=MODELS[model])
        ax.plot(EVAL_EPS, [100 * a["worst"] for a in acc], ls="none", marker="x", ms=7,
                color=f"C{i}")
    ax.axhline(100 * grey_bound(), color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("eps (ℓ∞ radius, pixels in [0, 1])")
    ax.set_ylabel("robust accuracy (%)")
    ax.set_xticks([0.0, *EVAL_EPS])
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=9)
    return fig


def images_figure(results: dict[str, Result], sample: int = 0) -> Figure:
    """One test image attacked (our PGD) at every eps, against every model; the prediction in
    red where it is wrong."""
    models = MODEL_NAMES
    fig = Figure(figsize=(1.2 * (len(EVAL_EPS) + 1), 1.25 * len(models)), layout="constrained")
    axes = fig.subplots(len(models), len(EVAL_EPS) + 1, squeeze=False)
    for r, model in enumerate(models):
        a = eval_result(results, model).arrays
        label = int(a["samples/label"][sample])
        panels = [(a["samples/clean"][sample, 0], int(a["samples/clean_pred"][sample]), "clean")]
        panels += [(a[f"samples/pgd/{e}"][sample, 0], int(a[f"samples/pgd/{e}/pred"][sample]),
                    f"eps {e:g}") for e in EVAL_EPS]
        for c, (img, pred, title) in enumerate(panels):
            ax = axes[r, c]
            ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{title}: {pred}", fontsize=8,
                         color="C3" if pred != label else "black")
            if c == 0:
                ax.set_ylabel(MODELS[model], fontsize=8)
    return fig


def samples_figure(result: Result, attack: str = "fgsm") -> Figure:
    """Per eps: the clean image, the adversarial image and the perturbation (grey = 0)."""
    a = result.arrays
    n = len(a["samples/label"])
    eps_values = [e for e in EVAL_EPS if f"samples/{attack}/{e}" in a]
    fig = Figure(figsize=(1.25 * n, 0.8 * 3 * len(eps_values)), layout="constrained")
    axes = fig.subplots(3 * len(eps_values), n, squeeze=False)
    for r, eps in enumerate(eps_values):
        adv = a[f"samples/{attack}/{eps}"]
        pred = a[f"samples/{attack}/{eps}/pred"]
        for i in range(n):
            clean, x_adv = a["samples/clean"][i, 0], adv[i, 0]
            panels = [(clean, f"y={a['samples/label'][i]}, pred {a['samples/clean_pred'][i]}"),
                      (x_adv, f"eps {eps:g}: pred {pred[i]}"),
                      ((x_adv - clean) / (2 * eps) + 0.5, "perturbation")]
            for k, (img, title) in enumerate(panels):
                ax = axes[3 * r + k, i]
                ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
                ax.set_title(title, fontsize=8, color="C3" if k == 1
                             and pred[i] != a["samples/label"][i] else "black")
                ax.set_axis_off()
    return fig


def training_figure(results: dict[str, Result]) -> Figure:
    fig = Figure(figsize=(6.2, 3.2), layout="constrained")
    ax = fig.subplots()
    for i, model in enumerate(MODEL_NAMES[1:], start=1):
        h = training_history(results[model])
        cfg = results[model].meta["config"]
        ax.plot(h.epoch, 100 * h.check_pgd, marker="o", ms=3, color=f"C{i}",
                label=f"{MODELS[model]} (trained at {cfg['eps']:g})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("PGD-10 accuracy (%)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=9)
    return fig

