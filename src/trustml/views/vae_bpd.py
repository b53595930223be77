"""Tables and figures of the categorical-VAE extension chapter."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from trustml.core.cache import Result, run_or_load
from trustml.core.keys import number_key
from trustml.experiments.vae_theory import CHAPTER
from trustml.generative.vae_categorical import nats_to_bpd
from trustml.views import vae_theory as theory_view
from trustml.views.history import epoch_frame
from trustml.views.plots import show_grid
from trustml.views.table import Table, as_table

# the chapter's own experiments (its declaration also lists the standard CNN it borrows)
NAMES = tuple(name for name in CHAPTER.experiments if name.startswith("ext-vae-"))

# the homework's reference solution: test bpd of its categorical VAE and its training epochs
REFERENCE_BPD = 0.56
REFERENCE_EPOCHS = 80

# the PDF's text width in inches (A4 less Typst's 1.25 in margins): figures this wide are
# printed at their own size, so their font sizes are the printed ones
PRINT_WIDTH = 5.75


def latent_run(result: Result, latent: int) -> dict:
    """The measurements of the model with `latent` latent dimensions (`ext-vae-latents`)."""
    return result.metrics["runs"][number_key(latent)]


def compute() -> dict[str, Result]:
    """Every experiment of the chapter (as `experiments.vae_theory.CHAPTER` declares them)."""
    return {name: run_or_load(name) for name in CHAPTER.experiments}


def _styled(df: pd.DataFrame, digits: int = 3) -> Table:
    return as_table(df, digits)


def history(result: Result) -> pd.DataFrame:
    h = epoch_frame(result)
    h["train_bpd"] = nats_to_bpd(h.train_rec + h.train_kl)
    h["val_bpd"] = nats_to_bpd(h.val_rec + h.val_kl)
    return h


def curves_figure(result: Result) -> Figure:
    """Training and validation bpd per epoch on one axis, the y range zoomed to where the curves
    differ; epochs above the top of the axis are written out at the top instead of plotted."""
    h = history(result)
    test = result.metrics["test_bpd"]
    fig = Figure(figsize=(6, 3), layout="constrained")
    ax = fig.subplots()
    tail = np.concatenate([h.train_bpd.iloc[2:], h.val_bpd.iloc[2:], [test]])
    top = float(tail.max()) if len(h) > 3 else float(max(h.train_bpd.max(), h.val_bpd.max()))
    low = float(min(tail.min(), h.train_bpd.min(), h.val_bpd.min()))
    pad = 0.06 * (top - low)
    ax.set_ylim(low - pad, top + pad)
    ax.plot(h.epoch, h.train_bpd, marker=".", label="training set (average over the epoch's batches)")
    ax.plot(h.epoch, h.val_bpd, marker=".", label="validation set (after each epoch)")
    ax.axhline(test, color="grey", ls=":", label="test set, final")
    off = h[(h.train_bpd > top + pad) | (h.val_bpd > top + pad)]
    if len(off):
        note = "\n".join(f"epoch {int(r.epoch)}: {r.train_bpd:.2f} / {r.val_bpd:.2f}"
                          for r in off.itertuples())
        # top right: the curves have come down by then (bottom left, the early ones crossed it)
        ax.text(0.98, 0.95, f"above the axis (training / validation):\n{note}",
                transform=ax.transAxes, ha="right", va="top")
    ax.set_xlabel("epoch")
    ax.set_ylabel("−ELBO (bpd)")
    ax.spines[["top", "right"]].set_visible(False)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", frameon=False)
    return fig


def samples_figure(result: Result) -> Figure:
    """8x8 grids with every pixel sampled, per snapshot epoch, and the final decoder means."""
    epochs = result.metrics["snapshot_epochs"]
    snaps = result.arrays["snapshots"].astype(np.float32)  # (epochs, 2, 64, 1, 28, 28)
    panels = [(snaps[i, 0], f"epoch {e}") for i, e in enumerate(epochs)]
    panels.append((snaps[-1, 1], f"means, {epochs[-1]}"))
    fig = Figure(figsize=(PRINT_WIDTH, PRINT_WIDTH / len(panels) + 0.4), layout="constrained")
    for ax, (grid, title) in zip(fig.subplots(1, len(panels)), panels, strict=True):
        show_grid(grid, nrow=8, ax=ax, title=title)
    return fig


def manifold_figure(result: Result) -> Figure:
    a = result.arrays
    # stacked, so that the grid of decoded digits gets the page's width (side by side, each
    # digit was under 3 mm wide in print)
    fig = Figure(figsize=(4.0, 6.3), layout="constrained")
    left, right = fig.subplots(2, 1, height_ratios=[1.45, 1])
    grid = a["manifold"].astype(np.float32)
    show_grid(grid, nrow=int(np.sqrt(len(grid))), ax=left, title="decoder means on the grid")
    mu, labels = a["test_mu"], a["test_labels"]
    sc = right.scatter(mu[:, 0], mu[:, 1], c=labels, cmap="tab10", s=1, alpha=0.5, rasterized=True)
    q = a["grid"]
    right.add_patch(Rectangle((q[0], q[0]), q[-1] - q[0], q[-1] - q[0], fill=False, ls="--",
                              color="black", lw=0.8))
    right.set_xlabel("$z_1$ (posterior mean)")
    right.set_ylabel("$z_2$")
    right.set_title("test images in latent space")
    cb = fig.colorbar(sc, ax=right, ticks=range(10))
    cb.set_label("digit")
    return fig


def manifold_digits(result: Result) -> pd.Series:
    """How many manifold cells the standard CNN reads as each digit 0-9 (zeros included)."""
    counts = np.bincount(result.arrays["manifold_digits"].astype(int), minlength=10)
    return pd.Series(counts, index=range(10), name="cells")


def manifold_coverage(result: Result) -> float:
    """Share of test posterior means inside the plotted square of Gaussian percentiles."""
    mu, q = result.arrays["test_mu"], result.arrays["grid"]
    inside = (mu >= q[0]).all(1) & (mu <= q[-1]).all(1)
    return float(inside.mean())


def beta_frame(result: Result) -> pd.DataFrame:
    rows = []
    for beta in result.metrics["betas"]:
        r = result.metrics["runs"][number_key(beta)]
        rows.append({"beta": beta, "reconstruction (nats)": r["test_rec"],
                     "KL (nats)": r["test_kl"], "test bpd (beta = 1 bound)": r["test_bpd"],
                     "active units (of 20)": r["active_units"],
                     "units with KL > 0.1 nats": int(np.sum(np.asarray(r["kl_per_dim"]) > 0.1)),
                     "largest KL of one unit (nats)": max(r["kl_per_dim"])})
    return pd.DataFrame(rows)


def beta_table(result: Result):
    frame = beta_frame(result)
    frame["beta"] = [f"{b:g}" for b in frame["beta"]]  # 0.5, 1, 2, 4: not 0.500
    return _styled(frame.rename(columns={c: c.replace("beta", "β") for c in frame.columns}), 3)


def beta_figure(result: Result) -> Figure:
    betas = result.metrics["betas"]
    fig = Figure(figsize=(PRINT_WIDTH, 3.8), layout="constrained")
    axes = fig.subplots(2, len(betas), height_ratios=[2.2, 1])
    for i, beta in enumerate(betas):
        grid = result.arrays[f"samples/{beta}"].astype(np.float32)[1]  # decoder means
        show_grid(grid[:36], nrow=6, ax=axes[0, i], title=f"β = {beta:g}")
        kl = np.sort(result.metrics["runs"][number_key(beta)]["kl_per_dim"])[::-1]
        axes[1, i].bar(np.arange(len(kl)), kl, color="C0")
        axes[1, i].spines[["top", "right"]].set_visible(False)
        axes[1, i].set_xticks([0, 10])  # a tick at 20 ran into the next panel's 0
        if i:  # one KL scale for every beta, so the bars compare across panels
            axes[1, i].sharey(axes[1, 0])
            axes[1, i].tick_params(labelleft=False)
    axes[1, 0].set_ylabel("KL (nats)")
    fig.supxlabel("latent unit, sorted by its KL")
    return fig


def bound_frame(result: Result) -> pd.DataFrame:
    a = result.arrays
    rows = []
    for latent in result.metrics["latents"]:
        get = lambda k, latent=latent: a[f"{latent}/{k}"]  # noqa: E731
        k = result.meta["config"]["samples"]
        rows.append({
            "latent size": latent,
            "test bpd": result.metrics["runs"][number_key(latent)]["test_bpd"],
            "ELBO": float(nats_to_bpd(-get("elbo")).mean()),
            f"IWAE, K = {k:,}": float(nats_to_bpd(-get("encoder_full")).mean()),
            f"prior MC, K = {k:,}": float(nats_to_bpd(-get("prior_full")).mean()),
            "IWAE spread (nats)": float(get("encoder_groups").std(0).mean()),
            "prior MC spread (nats)": float(get("prior_groups").std(0).mean()),
            "IWAE ESS": float(get("encoder_ess").mean()),
            "prior MC ESS": float(get("prior_ess").mean()),
        })
    return pd.DataFrame(rows)


def bound_table(result: Result):
    df = bound_frame(result)  # -log p(x) in bpd: a code length, lower is tighter
    df = df.rename(columns={c: f"{c} (bpd)" for c in df.columns[2:5]})
    # bpd to the third decimal (the differences between bounds are that small); spreads and
    # effective sample sizes to the second, as the prose quotes them
    digits = {c: 3 if "bpd" in c else 2 for c in df.columns}
    return as_table(df, digits)


def summary(results: Mapping[str, Result]) -> str:
    """Plain-text tables for `python -m trustml ext-vae`, of the experiments in `results`."""
    by = dict(results)
    lines = []
    if "ext-vae-bpd" in by:
        r = by["ext-vae-bpd"]
        h = history(r)
        lines += ["categorical VAE, latent 20: bits per dimension",
                  h[["epoch", "train_bpd", "val_bpd", "seconds"]].round(4).to_string(index=False),
                  f"test bpd {r.metrics['test_bpd']:.4f} ± {1.96 * r.metrics['test_bpd_se']:.4f} "
                  f"(95 %), training {r.metrics['train_seconds']:.0f} s"]
    if "ext-vae-beta" in by:
        lines += ["\nbeta sweep", beta_frame(by["ext-vae-beta"]).round(3).to_string(index=False)]
    if "ext-vae-latents" in by:
        r = by["ext-vae-latents"]
        epochs = {k: v["epochs"] for k, v in r.metrics["runs"].items()}
        lines += ["\nlatent sizes: test bpd and -log p(x) estimates in bpd (lower is tighter); "
                  "epochs " + ", ".join(f"latent {k}: {e}" for k, e in epochs.items()),
                  bound_frame(r).round(3).to_string(index=False),
                  "latent-2 manifold, cells per digit (standard CNN): "
                  + " ".join(f"{d}:{n}" for d, n in manifold_digits(r).items())]
    if "ext-vae-theory" in by:
        r = by["ext-vae-theory"]
        lines += ["\nIWAE - ELBO by K", theory_view.gap_frame(r).round(3).to_string(index=False),
                  "\nMonte-Carlo KL", theory_view.mc_kl_frame(r).round(3).to_string(index=False),
                  "\ngradient estimators", theory_view.gradient_frame(r).to_string(index=False)]
    return "\n".join(lines)
