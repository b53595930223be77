"""Tables and figures for the theory questions of the categorical-VAE chapter (HW3 1.3-1.7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from trustml.core.cache import Result
from trustml.views.history import epoch_frame
from trustml.views.table import Table, as_table

ESTIMATORS = ("reparameterisation", "score function", "score function, baseline")


def _spines(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)


def _finish(ax, xlabel: str, ylabel: str, legend_size: int | None) -> None:
    """Labels, a frameless legend, no top and right spines."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize=legend_size)
    _spines(ax)


def terms_figure(main: Result) -> Figure:
    """Reconstruction and KL (nats per image) per epoch, training and validation."""
    h = epoch_frame(main)
    fig = Figure(figsize=(5.5, 4.6), layout="constrained")  # stacked: legible on a phone
    left, right = fig.subplots(2, 1, sharex=True)
    for ax, term, title in ((left, "rec", "reconstruction $-\\mathbb{E}_q\\log p(x\\mid z)$"),
                            (right, "kl", "regularisation KL$(q\\,\\|\\,p(z))$")):
        ax.plot(h.epoch, h[f"train_{term}"], label="training (epoch average)")
        ax.plot(h.epoch, h[f"val_{term}"], label="validation")
        ax.set_title(title)
        ax.set_ylabel("nats per image")
        _spines(ax)
    right.set_xlabel("epoch")
    left.legend(frameon=False)
    return fig


def gap_frame(theory: Result) -> pd.DataFrame:
    """Per K: mean IWAE - ELBO on the VAE's test images (with its standard error) and on the
    linear-Gaussian model, next to that model's exact KL(q || posterior)."""
    a = theory.arrays
    gap = a["iwae"] - a["elbo"]
    lg_gap = a["lg_iwae"] - a["lg_elbo"]
    return pd.DataFrame({
        "K": theory.metrics["ks"],
        "VAE: IWAE - ELBO (nats)": gap.mean(1),
        "± (95 %)": 1.96 * gap.std(1, ddof=1) / np.sqrt(gap.shape[1]),
        "linear-Gaussian: IWAE - ELBO": lg_gap.mean(1),
        "linear-Gaussian: exact KL": np.full(len(lg_gap), a["lg_kl"].mean()),
    })


def gap_agreement(latents: Result, theory: Result) -> dict[str, float | bool]:
    """The IWAE - ELBO gap of question 1.3 against the one implied by the likelihood table's
    columns (`ext-vae-latents`, the main model's row), in nats per image: `theory_gap` (ELBO
    averaged over the K_max encoder samples), `table_gap` (the table's ELBO, one posterior sample
    per image, and its IWAE), the two parts of their difference (`elbo_diff`, the table's ELBO
    minus the K_max-sample one, with the standard error `elbo_se` of a mean of one-sample
    estimates; `iwae_diff`, the two independent K_max-sample IWAE estimates), and `same_images`
    (both draw their test images alike: same seed, count and model)."""
    lc, tc = latents.meta["config"], theory.meta["config"]
    latent = lc["model"]["latent"]
    a, t = latents.arrays, theory.arrays
    table_elbo, table_iwae = a[f"{latent}/elbo"], a[f"{latent}/encoder_full"]
    theory_elbo, theory_iwae = t["elbo"], t["iwae"][-1]
    same = (lc["seed"] == tc["seed"] and lc["n_images"] == tc["n_images"]
            and lc["model"] == tc["model"] and len(table_elbo) == len(theory_elbo))
    diff = table_elbo - theory_elbo if same else None
    return {
        "same_images": same, "n": len(theory_elbo), "k": max(tc["ks"]), "k_table": lc["samples"],
        "theory_gap": float((theory_iwae - theory_elbo).mean()),
        "table_gap": float((table_iwae - table_elbo).mean()),
        "elbo_diff": float(table_elbo.mean() - theory_elbo.mean()),
        "elbo_se": float(diff.std(ddof=1) / np.sqrt(len(diff))) if same else float("nan"),
        "iwae_diff": float(theory_iwae.mean() - table_iwae.mean()),
    }


def gap_agreement_sentence(latents: Result, theory: Result) -> str:
    """Why the likelihood table's ELBO and IWAE columns imply another gap than question 1.3's,
    in words (the chapter names the table just before it)."""
    g = gap_agreement(latents, theory)
    images = f"the same {g['n']} test images" if g["same_images"] else "other test images"
    text = (f"Its ELBO and IWAE columns imply a gap of {g['table_gap']:.2f} nats on {images}, "
            f"not {g['theory_gap']:.2f}, because they are different estimates of the same two "
            "bounds: its ELBO takes one posterior sample per image, as in training, where the gap "
            f"above averages {g['k']:,} samples per image, and its IWAE is an independent "
            f"{g['k_table']:,}-sample estimate.")
    if not g["same_images"]:
        return text
    z = abs(g["elbo_diff"]) / g["elbo_se"]
    return text + (
        f" The one-sample ELBO comes out {abs(g['elbo_diff']):.2f} nats "
        + ("higher" if g["elbo_diff"] > 0 else "lower")
        + f" than the {g['k']:,}-sample one, {z:.1f} standard errors of its Monte-Carlo noise "
        f"({g['elbo_se']:.2f} nats), and the two IWAE estimates differ by "
        f"{abs(g['iwae_diff']):.2f} nats: together, the {abs(g['theory_gap'] - g['table_gap']):.2f} "
        "nats between the two gaps.")


def gap_table(theory: Result) -> Table:
    frame = gap_frame(theory)
    # a minus sign in the headers, not the hyphen of the frame's column names
    return as_table(frame.rename(columns=lambda c: c.replace(" - ", " − ")), 3)


def gap_figure(theory: Result) -> Figure:
    a, ks = theory.arrays, np.asarray(theory.metrics["ks"])
    fig = Figure(figsize=(5.5, 5.0), layout="constrained")  # stacked: legible on a phone
    left, right = fig.subplots(2, 1, sharex=True)
    gap = a["iwae"] - a["elbo"]
    left.plot(ks, gap, color="grey", lw=0.5, alpha=0.5)
    left.plot(ks, gap.mean(1), color="C0", lw=2, marker="o", label="mean over test images")
    left.set_title("trained VAE, per test image")
    lg_gap = (a["lg_iwae"] - a["lg_elbo"]).mean(1)
    right.plot(ks, lg_gap, color="C0", marker="o", label="IWAE$_K$ − ELBO (mean)")
    right.axhline(a["lg_kl"].mean(), color="C3", ls="--",
                  label="exact KL$(q\\,\\|\\,p(z\\mid x))$ (mean)")
    right.set_title("linear-Gaussian model, exact posterior")
    for ax in (left, right):
        ax.set_xscale("log")
        _finish(ax, "importance samples K" if ax is right else "", "nats", None)
    return fig


def mc_kl_frame(theory: Result) -> pd.DataFrame:
    """Per L: the bias of the L-sample KL estimate (mean over repeats and images, with its 95 %
    half-width), its standard deviation (mean over images) and that times sqrt(L)."""
    a, ls = theory.arrays, np.asarray(theory.metrics["kl_samples"])
    err = a["kl_mc"].astype(np.float64) - a["kl_exact"]  # (L, repeats, N)
    flat = err.reshape(len(ls), -1)
    sd = err.std(1, ddof=1).mean(1)
    return pd.DataFrame({
        "L": ls, "bias (nats)": flat.mean(1),
        "± (95 %)": 1.96 * flat.std(1, ddof=1) / np.sqrt(flat.shape[1]),
        "standard deviation (nats)": sd, "sd × √L": sd * np.sqrt(ls)})


def mc_kl_table(theory: Result) -> Table:
    return as_table(mc_kl_frame(theory), 3)


def mc_kl_figure(theory: Result) -> Figure:
    df = mc_kl_frame(theory)
    fig = Figure(figsize=(4.2, 2.8), layout="constrained")
    ax = fig.subplots()
    ax.loglog(df.L, df["standard deviation (nats)"], marker="o", label="measured")
    ax.loglog(df.L, df["standard deviation (nats)"].iloc[0] / np.sqrt(df.L), ls="--",
              color="grey", label="$\\propto 1/\\sqrt{L}$")
    _finish(ax, "samples L", "sd of the KL estimate (nats)", 8)
    return fig


def gradient_frame(theory: Result) -> pd.DataFrame:
    """Per estimator (medians over the test images): the total variance of a one-sample
    gradient estimate, its ratio to the reparameterised one, the samples needed to match one
    reparameterised sample, and how far its mean over all samples lies from the
    reparameterised mean, relative to the noise expected at that many samples."""
    a = theory.arrays
    var, mean = a["grad_var"], a["grad_mean"]  # (images, 3), (images, 3, 2D)
    samples = theory.meta["config"]["grad_samples"]
    ref = mean[:, 0]
    rows = []
    for i, name in enumerate(ESTIMATORS):
        dist = np.linalg.norm(mean[:, i] - ref, axis=1)
        noise = np.sqrt((var[:, i] + var[:, 0]) / samples)
        rows.append({"estimator": name, "variance of one sample": np.median(var[:, i]),
                     "× reparameterisation": np.median(var[:, i] / var[:, 0]),
                     "distance of the means / its noise": np.median(dist / noise) if i else np.nan})
    return pd.DataFrame(rows)


def _significant(x: float, digits: int = 3) -> str:
    """`x` to `digits` significant digits, without an exponent (73,700,000; 0.988)."""
    if np.isnan(x):
        return "–"
    r = float(f"{x:.{digits}g}")
    return f"{r:,.0f}" if abs(r) >= 10 ** (digits - 1) else f"{r:.{digits}g}"


def gradient_table(theory: Result) -> Table:
    df = gradient_frame(theory)
    return as_table(df.assign(**{c: df[c].map(_significant) for c in df.columns[1:]}))
