"""Exercise 3's tables and figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from trustml.cache import Result, run_or_load
from trustml.experiments.adversarial import EVAL_EPS, EVALUATIONS, MODELS, STRONG_ATTACKS
from trustml.experiments.classifier import wilson_interval
from trustml.views.format import fmt_pct, fmt_seconds
from trustml.views.history import epoch_frame
from trustml.views.table import Table, as_table

MODEL_NAMES = list(MODELS)
TABLE_MODELS = MODEL_NAMES[:3]  # the 3x3 tables: standard, FGSM-trained, PGD-trained
# which experiments each part of the exercise runs (the command line's --part)
PARTS: dict[str, tuple[str, ...]] = {
    "a": ("mnist-standard-cnn",),
    "b": ("ex3b-attacks-standard",),
    "c": ("ex3-fgsm-model", "ex3c-attacks-fgsm"),
    "d": ("ex3-pgd-model", "ex3d-attacks-pgd"),
    "e": ("ex3-strong-model", "ex3e-strong-attacks"),
}
EVAL_OF = {model: name for name, model in EVALUATIONS.items()}


def compute() -> dict[str, Result]:
    """Every experiment of the chapter, one after the other. (Convolutions use both cores well:
    two single-threaded processes side by side measured no faster than one with two threads.)"""
    names = [name for part in PARTS.values() for name in part]
    return {name: run_or_load(name) for name in names}


def compute_part(part: str, force: bool = False) -> dict[str, Result]:
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; choose one of {', '.join(PARTS)}")
    return {name: run_or_load(name, force=force) for name in PARTS[part]}


# ----------------------------------------------------------------------------- part (a)

def _styled(df: pd.DataFrame, digits: int = 2) -> Table:
    return as_table(df, digits)


def architecture_table(cnn: Result, styled: bool = True):
    rows = [{"layer": r["layer"].split("(")[0] + _short_args(r["layer"]),
             "output shape": " × ".join(map(str, r["output"])),
             "parameters": f"{r['parameters']:,}"} for r in cnn.metrics["layers"]]
    rows.append({"layer": "total", "output shape": "",
                 "parameters": f"{cnn.metrics['parameters']:,}"})
    df = pd.DataFrame(rows)
    return _styled(df) if styled else df


def _short_args(text: str) -> str:
    inside = text[text.find("(") + 1: text.rfind(")")]
    keep = [a.strip() for a in inside.split(",") if "=" not in a or a.strip().startswith(
        ("kernel_size", "stride", "padding", "in_features", "out_features"))]
    return f"({', '.join(keep)})" if inside and keep != [""] else ""


def accuracy_ci(cnn: Result) -> tuple[float, float, float]:
    lo, hi = cnn.metrics["test_acc_ci"]
    return cnn.metrics["test_acc"], lo, hi


# -------------------------------------------------------------------------- parts (b)-(d)

def eval_result(results: dict[str, Result], model: str) -> Result:
    return results[EVAL_OF[model]]


def eps_table(results: dict[str, Result], eps: float, models: list[str] | None = None,
              styled: bool = True):
    """Rows clean / FGSM / PGD, one column per model, accuracies in percent."""
    models = models or TABLE_MODELS
    table = {}
    for model in models:
        m = eval_result(results, model).metrics
        table[MODELS[model]] = {"clean": m["clean"], "FGSM": m["fgsm"][str(eps)],
                                pgd_label(results): m["pgd"][str(eps)]}
    df = (pd.DataFrame(table) * 100).rename_axis(f"accuracy (%), eps {eps}").reset_index()
    return _styled(df) if styled else df


def pgd_label(results: dict[str, Result]) -> str:
    cfg = results["ex3b-attacks-standard"].meta["config"]
    return f"PGD-{cfg['pgd_steps']} × {cfg['pgd_restarts']} restarts"


def sanity_checks(results: dict[str, Result], styled: bool = False):
    """The bounds every honest evaluation must satisfy, checked on every model."""
    rows, bound = [], grey_bound()
    for model in TABLE_MODELS:
        m = eval_result(results, model).metrics
        fg = [m["fgsm"][str(e)] for e in EVAL_EPS]
        pg = [m["pgd"][str(e)] for e in EVAL_EPS]
        rows.append({
            "model": MODELS[model],
            "accuracy falls with eps": bool(np.all(np.diff(fg) <= 0) and np.all(np.diff(pg) <= 0)
                                            and fg[0] <= m["clean"] and pg[0] <= m["clean"]),
            "PGD ≤ FGSM": all(p <= f for p, f in zip(pg, fg, strict=True)),
            f"PGD ≤ {fmt_pct(bound, 2)} at eps 0.5": pg[-1] <= bound,
            "PGD at eps 0.5": fmt_pct(pg[-1], 2),
            "FGSM at eps 0.5": fmt_pct(fg[-1], 2),
        })
    df = pd.DataFrame(rows)
    if styled:
        return _styled(df.replace({True: "yes", False: "NO"}))
    return df


def grey_bound() -> float:
    """Largest share of one class in the test set: every test image lies within 0.5 of the
    all-grey image, so at eps 0.5 no classifier can be right on more images than that."""
    from trustml.data import load_mnist

    _, y = load_mnist("test")
    return float(np.bincount(y.numpy()).max() / len(y))


def fgsm_above_bound(results: dict[str, Result]) -> list[str]:
    """Models on which FGSM (a single step) leaves more than the bound correct at eps 0.5."""
    bound = grey_bound()
    return [MODELS[m] for m in TABLE_MODELS
            if eval_result(results, m).metrics["fgsm"][str(EVAL_EPS[-1])] > bound]


def weakest_strong_attack(results: dict[str, Result], model: str) -> str:
    """The harder attack that leaves the most images correct, summed over both radii."""
    m = results["ex3e-strong-attacks"].metrics["accuracy"]
    eps = results["ex3e-strong-attacks"].meta["config"]["eps"]
    score = {k: sum(m[f"{model}/{e}/{k}"] for e in eps) for k in STRONG_ATTACKS if k != "pgd_eval"}
    return STRONG_ATTACKS[max(score, key=score.get)]


def square_only(results: dict[str, Result], model: str, eps: float) -> int:
    """Images the gradient-free Square attack broke although every gradient attack failed
    (the signature of gradient masking)."""
    a = results["ex3e-strong-attacks"].arrays
    gradient_robust = np.ones_like(a[f"{model}/{eps}/square"], dtype=bool)
    for key in STRONG_ATTACKS:
        if key != "square":
            gradient_robust &= a[f"{model}/{eps}/{key}"].astype(bool)
    return int((gradient_robust & ~a[f"{model}/{eps}/square"].astype(bool)).sum())


def all_sane(results: dict[str, Result]) -> bool:
    table = sanity_checks(results)
    return bool(table.select_dtypes(bool).all().all())


def samples_figure(result: Result, attack: str = "fgsm") -> Figure:
    """Per eps: the clean image, the adversarial image and the perturbation (grey = 0)."""
    a = result.arrays
    n = len(a["samples/label"])
    eps_values = [e for e in EVAL_EPS if f"samples/{attack}/{e}" in a]
    # at most ~9 in tall for 3 eps values, so figure and caption fit an A4 page
    fig = Figure(figsize=(1.25 * n, 1.0 * 3 * len(eps_values)), layout="constrained")
    axes = fig.subplots(3 * len(eps_values), n, squeeze=False)
    for r, eps in enumerate(eps_values):
        adv = a[f"samples/{attack}/{eps}"]
        pred = a[f"samples/{attack}/{eps}/pred"]
        for i in range(n):
            clean, x_adv = a["samples/clean"][i, 0], adv[i, 0]
            panels = [(clean, f"y={a['samples/label'][i]}, pred {a['samples/clean_pred'][i]}"),
                      (x_adv, f"eps {eps}: pred {pred[i]}"),
                      ((x_adv - clean) / (2 * eps) + 0.5, "perturbation")]
            for k, (img, title) in enumerate(panels):
                ax = axes[3 * r + k, i]
                ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
                ax.set_title(title, fontsize=7, color="C3" if "pred" in title and k == 1
                             and pred[i] != a["samples/label"][i] else "black")
                ax.set_axis_off()
    return fig


# --------------------------------------------------------------------- training curves (c-e)

def training_history(result: Result) -> pd.DataFrame:
    return epoch_frame(result)


def training_figure(results: dict[str, Result]) -> Figure:
    fig = Figure(figsize=(7.5, 3), layout="constrained")
    ax_clean, ax_pgd = fig.subplots(1, 2, sharey=True)
    for i, model in enumerate(MODEL_NAMES[1:]):
        h = training_history(results[model])
        cfg = results[model].meta["config"]
        label = f"{MODELS[model]} (eps {cfg['eps']})"
        ax_clean.plot(h.epoch, 100 * h.check_clean, marker="o", ms=3, color=f"C{i}", label=label)
        ax_pgd.plot(h.epoch, 100 * h.check_pgd, marker="o", ms=3, color=f"C{i}", label=label)
    ax_clean.set_title("clean accuracy, held-out batch")
    ax_pgd.set_title("PGD-10 accuracy at the training eps")
    for ax in (ax_clean, ax_pgd):
        ax.set_xlabel("epoch")
        ax.spines[["top", "right"]].set_visible(False)
    ax_clean.set_ylabel("accuracy (%)")
    ax_pgd.legend(frameon=False, fontsize=8)
    return fig


def collapse_summary(result: Result) -> dict[str, float]:
    """Best and last held-out PGD accuracy, and the epochs flagged as collapsed."""
    h = training_history(result)
    return {"best": float(h.check_pgd.max()), "best_epoch": int(h.epoch[h.check_pgd.idxmax()]),
            "epochs": len(h),
            "last": float(h.check_pgd.iloc[-1]), "collapsed_epochs": int(h.collapsed.sum()),
            "min_after_best": float(h.check_pgd[h.check_pgd.idxmax():].min())}


# ---------------------------------------------------------------------------- part (e)

def strong_table(results: dict[str, Result], models: list[str] | None = None,
                 styled: bool = True):
    """Accuracy (%) under each attack of part (e) and under all of them at once (per image, the
    worst case), on the same random subset of the test set for both models."""
    r = results["ex3e-strong-attacks"]
    cfg = r.meta["config"]
    models = models or cfg["models"]
    rows = []
    for eps in cfg["eps"]:
        for model in models:
            row = {"eps": eps, "model": MODELS[model]}
            for key, label in STRONG_ATTACKS.items():
                row[label] = 100 * r.metrics["accuracy"][f"{model}/{eps}/{key}"]
            row["all attacks (worst case per image)"] = 100 * r.metrics["accuracy"][f"{model}/{eps}/all"]
            rows.append(row)
    df = pd.DataFrame(rows)
    return _styled(df) if styled else df


def subset_accuracy(results: dict[str, Result], model: str, eps: float, attack: str
                    ) -> tuple[float, float, float]:
    """Accuracy on part (e)'s subset under `attack` (a key of STRONG_ATTACKS, or "all" for the
    worst case over every attack), with a 95 % Wilson interval."""
    robust = results["ex3e-strong-attacks"].arrays[f"{model}/{eps}/{attack}"]
    lo, hi = wilson_interval(int(robust.sum()), len(robust))
    return float(robust.mean()), lo, hi


def paired_counts(results: dict[str, Result], eps: float, attack: str = "all") -> tuple[int, int]:
    """Images robust for the stronger model only, and for the PGD-trained model only (the
    discordant pairs of a McNemar test on the same subset)."""
    r = results["ex3e-strong-attacks"]
    d_model, e_model = r.meta["config"]["models"]
    d = r.arrays[f"{d_model}/{eps}/{attack}"].astype(bool)
    e = r.arrays[f"{e_model}/{eps}/{attack}"].astype(bool)
    return int((e & ~d).sum()), int((d & ~e).sum())


# -------------------------------------------------------------------------------- timing

def timing_table(results: dict[str, Result]) -> pd.DataFrame:
    rows = []
    for part, names in PARTS.items():
        for name in names:
            rows.append({"part": part, "experiment": name,
                         "seconds": results[name].meta["elapsed_s"]})
    table = pd.DataFrame(rows)
    table["time"] = table.seconds.map(fmt_seconds)
    return table


def timing_styled(results: dict[str, Result]):
    return _styled(timing_table(results)[["part", "experiment", "time"]])


def summary(*results: Result) -> str:
    """Plain-text tables for the command line (`python -m trustml ex3`)."""
    by_name = {r.meta["experiment"]: r for r in results}
    lines = []
    if "mnist-standard-cnn" in by_name:
        acc, lo, hi = accuracy_ci(by_name["mnist-standard-cnn"])
        table = architecture_table(by_name["mnist-standard-cnn"], styled=False)
        lines += ["(a) standard model", table.to_string(index=False),
                  f"test accuracy {fmt_pct(acc, 2)} (95 % CI {fmt_pct(lo, 2)}-{fmt_pct(hi, 2)})"]
    for model in MODEL_NAMES[1:]:
        if model in by_name:
            h = training_history(by_name[model])
            lines += [f"\n{MODELS[model]} training (held-out batch)",
                      h[["epoch", "train_loss", "check_clean", "check_pgd", "collapsed",
                         "seconds"]].round(4).to_string(index=False)]
    for name, model in EVALUATIONS.items():
        if name in by_name:
            m = by_name[name].metrics
            table = pd.DataFrame({"FGSM": m["fgsm"], "PGD": m["pgd"]}).T * 100
            lines += [f"\n{MODELS[model]}: accuracy (%) on {m['n']:,} test images, "
                      f"clean {fmt_pct(m['clean'], 2)}", table.round(2).to_string()]
    if "ex3e-strong-attacks" in by_name:
        m = by_name["ex3e-strong-attacks"].metrics
        lines += [f"\n(e) harder attacks, accuracy (%) on {m['n']:,} test images"]
        lines += [f"  {k:42s} {100 * v:6.2f}" for k, v in m["accuracy"].items()]
    return "\n".join(lines)
