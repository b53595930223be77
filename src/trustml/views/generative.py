"""Exercise 1's tables and figures."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from trustml.core.cache import Result, run_or_load, run_or_load_parallel
from trustml.experiments.generative import CHAPTER
from trustml.views.history import epoch_frame
from trustml.views.plots import show_grid
from trustml.views.table import Table, as_table

PYTORCH_EXAMPLES_TEST_LOSS_EPOCH_10 = 105.6  # pytorch/examples' VAE, summed BCE + KL, epoch 10


MODELS = {"VAE": "vae", "GAN": "gan", "conv GAN": "convgan"}
ROW_LABELS = {"VAE": "VAE (decoder means)"}  # what the comparison scores (see _samples)
# one colour per source in every comparison figure: real images grey, each model its own
COLOURS = {"real": "C7", "VAE": "C0", "GAN": "C1", "conv GAN": "C2"}


def compute() -> dict[str, Result]:
    """The VAE on one core; the MLP GAN, then the conv GAN, on the other; then the CNN and the
    metrics."""
    models = run_or_load_parallel(["ex1-vae", "ex1-gan", "ex1-convgan"])
    return {
        "vae": models["ex1-vae"],
        "gan": models["ex1-gan"],
        "convgan": models["ex1-convgan"],
        "cnn": run_or_load("mnist-standard-cnn"),
        "compare": run_or_load("ex1-compare"),
    }


def _tidy(ax):
    ax.spines[["top", "right"]].set_visible(False)


def vae_history(r: Result) -> pd.DataFrame:
    h = epoch_frame(r)
    h["train_loss"] = h.train_rec + h.train_kl
    h["test_loss"] = h.test_rec + h.test_kl
    return h


def vae_test_loss_at(r: Result, epoch: int) -> float:
    h = vae_history(r)
    row = h[h.epoch == epoch]
    return float(row.test_loss.iloc[0]) if len(row) else float("nan")


def _per_set_figure(h: pd.DataFrame, lines: tuple[tuple[str, str, str], ...],
                    ylabel: str, height: float) -> Figure:
    """One graph per data set, training set on top and test set below, each with its own y-range
    covering every epoch: `lines` are (column suffix, colour, label), drawn from the columns
    `train_<suffix>` and `test_<suffix>` of the history `h`."""
    fig = Figure(figsize=(5.5, height), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    for ax, prefix, title in zip(axes, ("train", "test"), ("training set", "test set"), strict=True):
        for key, colour, label in lines:
            ax.plot(h.epoch, h[f"{prefix}_{key}"], "-", color=colour, label=label)
        values = h[[f"{prefix}_{key}" for key, _, _ in lines]].to_numpy(dtype=float)
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
        pad = 0.05 * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1.0)
        ax.set_ylim(0.0 if lo >= 0 else lo - pad, hi + pad)  # losses: from 0 when >= 0
        ax.set_title(title, fontsize="medium")
        ax.set_ylabel(ylabel)
        _tidy(ax)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center",
               ncols=len(lines), frameon=False)  # above the graphs: inside, it hid curves
    axes[1].set_xlabel("epoch")
    return fig


def vae_curves_figure(r: Result) -> Figure:
    """The two graphs of 1(a): the loss per epoch on the training set (the average over each
    epoch's batches, top) and on the test set (a full pass after each epoch, bottom), every
    epoch shown: the negative ELBO and its two terms."""
    return _per_set_figure(vae_history(r), (("loss", "C0", "negative ELBO"),
                                            ("rec", "C1", "reconstruction"), ("kl", "C2", "KL")),
                           "nats per image", 4.6)


def snapshots_figure(r: Result) -> Figure:
    epochs = r.metrics["snapshot_epochs"]
    snaps = r.arrays["snapshots"].astype(np.float32)
    cols = min(len(epochs), 3)
    rows = -(-len(epochs) // cols)
    fig = Figure(figsize=(2.3 * cols, 2.45 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, epoch, grid in zip(axes, epochs, snaps, strict=False):
        k = int(np.sqrt(len(grid)))
        show_grid(grid[: k * k], nrow=k, ax=ax, title=f"epoch {epoch}")
        ax.title.set_fontsize("small")
    for ax in axes[len(epochs):]:
        ax.set_axis_off()
    return fig


def n_parameters(r: Result, network: str) -> int:
    """Trainable parameters of one stored network (batch-norm running statistics excluded)."""
    return int(sum(v.numel() for k, v in r.weights[network].items()
                   if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))))


def gan_history(r: Result) -> pd.DataFrame:
    return epoch_frame(r)


def gan_curves_figure(r: Result) -> Figure:
    """The two graphs of 1(b): the discriminator's and the generator's losses per epoch on the
    training set (the average over each epoch's batches, top) and on the test set (bottom)."""
    return _per_set_figure(gan_history(r), (("d", "C0", "discriminator"), ("g", "C1", "generator")),
                           "binary cross-entropy", 4.4)


def _coverage(hist: np.ndarray) -> dict:
    p = np.clip(hist, 1e-12, 1)
    return {"min": float(hist.min()), "max": float(hist.max()),
            "kl_uniform": float((p * np.log(p * len(p))).sum())}


def coverage(results: dict[str, Result], name: str) -> dict:
    return _coverage(results["compare"].arrays[f"hist/{name}"])


def comparison_table(results: dict[str, Result]) -> Table:
    cmp = results["compare"]
    fid, ci, pr = cmp.metrics["fid"], cmp.metrics["fid_ci"], cmp.metrics["pr"]
    rows = []
    for name, key in (("train images (floor)", None), *MODELS.items()):
        cov = _coverage(cmp.arrays[f"hist/{name}"])
        rows.append({
            "Images": ROW_LABELS.get(name, name),
            "Fréchet distance": f"{fid[name]:.1f}",
            "95 % interval": f"{ci[name][0]:.1f}–{ci[name][1]:.1f}",
            "Precision": f"{pr[name]['precision']:.3f}",
            "Recall": f"{pr[name]['recall']:.3f}",
            "Rarest class": f"{100 * cov['min']:.1f} %",
            "KL to uniform": f"{cov['kl_uniform']:.3f}",
            # one unit down the column (not "86 s" beside "3.8 min")
            "Training (min)": f"{results[key].meta['elapsed_s'] / 60:.1f}" if key else "–",
        })
    return as_table(pd.DataFrame(rows))


def class_histogram_figure(results: dict[str, Result]) -> Figure:
    cmp = results["compare"]
    fig = Figure(figsize=(5.5, 3.0), layout="constrained")
    ax = fig.subplots()
    names = ("test images", *MODELS)
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        ax.bar(np.arange(10) + (i - (len(names) - 1) / 2) * width, 100 * cmp.arrays[f"hist/{name}"],
               width, label=name, color=COLOURS.get(name, COLOURS["real"]))
    ax.axhline(10, color="grey", lw=0.8, ls=":")
    ax.set_xticks(range(10))
    ax.set_xlabel("class predicted by the standard CNN")
    ax.set_ylabel("share of images (%)")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside upper center", ncols=len(names),
               frameon=False)
    _tidy(ax)
    return fig


def fid_by_size(results: dict[str, Result], name: str) -> pd.DataFrame:
    """Fréchet distance against the number of samples: mean and range over random subsets,
    then the estimate from all samples."""
    cmp = results["compare"]
    a = cmp.arrays
    d = a[f"fid_size/{name}"]
    full = cmp.metrics["fid"][name]  # all samples: one estimate
    return pd.DataFrame({"n": [*a["sizes"], cmp.metrics["n"]], "mean": [*d.mean(1), full],
                         "min": [*d.min(1), full], "max": [*d.max(1), full]})


def metrics_figure(results: dict[str, Result]) -> Figure:
    """Left: Fréchet distance against the sample size. Right: precision against recall."""
    cmp = results["compare"]
    fig = Figure(figsize=(5.5, 5.2), layout="constrained")
    left, right = fig.subplots(2, 1)
    for name in ("train images (floor)", *MODELS):
        colour = COLOURS.get(name, COLOURS["real"])
        df = fid_by_size(results, name)
        left.errorbar(df.n, df["mean"], yerr=[df["mean"] - df["min"], df["max"] - df["mean"]],
                      fmt="o-", ms=3, color=colour, label=name, capsize=2)
        p = cmp.metrics["pr"][name]
        right.plot(p["recall"], p["precision"], "o", color=colour, label=name)
        right.annotate(name, (p["recall"], p["precision"]), fontsize="small",
                       xytext=(4, 4), textcoords="offset points")
    left.set(xscale="log", yscale="log", xlabel="samples per set", ylabel="Fréchet distance")
    left.legend(frameon=False, fontsize="small", ncols=2)
    right.set(xlim=(0, 1.05), ylim=(0, 1.05), xlabel="recall (coverage)",
              ylabel="precision (quality)")
    for ax in (left, right):
        _tidy(ax)
    return fig


def summary_vae(vae: Result) -> str:
    h = vae_history(vae)
    return "VAE (nats per image):\n" + h[["epoch", "train_loss", "test_loss", "test_rec", "test_kl"]] \
        .to_string(index=False, float_format="%.2f")


def summary_gan(gan: Result) -> str:
    g = gan_history(gan)
    return "GAN:\n" + g[["epoch", "train_d", "train_g", "test_d", "test_g"]] \
        .to_string(index=False, float_format="%.3f")


def summary_convgan(convgan: Result) -> str:
    return "conv " + summary_gan(convgan)


def summary(results: Mapping[str, Result]) -> str:
    """Plain-text tables for `python -m trustml ex1`, of the experiments in `results` (one
    model's curves for `--model`; the comparison once every model and the metrics are there)."""
    parts = [show(results[name]) for name, show in (("ex1-vae", summary_vae),
                                                    ("ex1-gan", summary_gan),
                                                    ("ex1-convgan", summary_convgan))
             if name in results]
    if all(name in results for name in CHAPTER.experiments):
        short = {"vae": "ex1-vae", "gan": "ex1-gan", "convgan": "ex1-convgan",
                 "cnn": "mnist-standard-cnn", "compare": "ex1-compare"}
        parts.append(comparison_table({k: results[v] for k, v in short.items()}).text())
    return "\n\n".join(parts)
