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
    """Robust accuracy against eps, one colour per model: solid lines with markers, the worst
    case over every attack on the subset (the robust accuracy); thin dashed lines in the same
    colour, our PGD on the whole test set (an upper bound). Both start at the clean accuracy at
    eps 0; a grey tick at 0.5: the grey-image bound, which holds there."""
    from matplotlib.lines import Line2D

    fig = Figure(figsize=(6.2, 3.4), layout="constrained")
    ax = fig.subplots()
    xs = [0.0, *EVAL_EPS]
    n = n_subset = 0
    for i, model in enumerate(MODEL_NAMES):
        acc = [accuracies(results, model, e) for e in EVAL_EPS]
        clean = 100 * acc[0]["clean"]
        n, n_subset = acc[0]["n"], acc[0]["n_subset"]
        ax.plot(xs, [clean] + [100 * a["pgd"] for a in acc], ls="--", lw=0.9, color=f"C{i}")
        ax.plot(xs, [clean] + [100 * a["worst"] for a in acc], marker="o", ms=4, lw=1.6,
                color=f"C{i}", label=MODELS[model])
    # the bound holds from 0.5 on (every image lies within 0.5 of the all-grey one): a tick
    # there, not a line across radii it says nothing about
    bound = 100 * grey_bound()
    ax.plot([EVAL_EPS[-1]], [bound], marker="_", ms=16, mew=1.5, color="0.35")
    # its label right of the axes, where no curve runs (left of the tick, it sat on them)
    ax.annotate("grey-image\nbound", (EVAL_EPS[-1], bound), xytext=(10, 0),
                textcoords="offset points", ha="left", va="center", fontsize=8, color="0.35",
                annotation_clip=False)
    ax.set_xlabel("ε (ℓ∞ radius, pixels in [0, 1])")
    ax.set_ylabel("robust accuracy (%)")
    ax.set_xticks(xs)
    ax.spines[["top", "right"]].set_visible(False)
    # both legends outside the axes: inside, they covered the curves
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", frameon=False,
               fontsize=9)
    styles = [Line2D([], [], color="0.3", lw=1.6, marker="o", ms=4),
              Line2D([], [], color="0.3", lw=0.9, ls="--")]
    fig.legend(styles, [f"worst case, first {n_subset:,} images",
                        f"our PGD, all {n:,} (upper bound)"],
               loc="outside lower center", ncols=1, frameon=False, fontsize=9)
    # one column: `legible` raises the fonts to the phone's floor, and two columns of these
    # labels would then be wider than the figure (the PNG wider, so its text smaller)
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
                    f"ε = {e:g}") for e in EVAL_EPS]
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
    """One row per test image: the clean image, its adversarial version at each eps (the
    prediction below, red where wrong) and the perturbation at the smallest eps (grey = 0)."""
    a = result.arrays
    n = len(a["samples/label"])
    eps_values = [e for e in EVAL_EPS if f"samples/{attack}/{e}" in a]
    cols = 2 + len(eps_values)
    fig = Figure(figsize=(0.85 * cols, 1.05 * n + 0.3), layout="constrained")
    axes = fig.subplots(n, cols, squeeze=False)
    for i in range(n):
        label, clean = int(a["samples/label"][i]), a["samples/clean"][i, 0]
        cells = [(clean, f"y = {label}", "black", "clean")]
        for eps in eps_values:
            pred = int(a[f"samples/{attack}/{eps}/pred"][i])
            cells.append((a[f"samples/{attack}/{eps}"][i, 0], f"→ {pred}",
                          "C3" if pred != label else "black", f"ε = {eps:g}"))
        eps = eps_values[0]  # FGSM's perturbation is eps times one sign pattern: show it once
        delta = (a[f"samples/{attack}/{eps}"][i, 0] - clean) / (2 * eps) + 0.5
        cells.append((delta, "", "black", f"δ at {eps:g}"))
        for c, (img, below, colour, header) in enumerate(cells):
            ax = axes[i, c]
            ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.spines[:].set_visible(False)
            ax.set_xlabel(below, color=colour, labelpad=1)
            if i == 0:
                ax.set_title(header, pad=2)
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

