"""The CIFAR-10 chapter's tables, figures and computed sentences (HW3, question 2)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from trustml.core.cache import Result, run_or_load
from trustml.core.keys import number_key
from trustml.core.stats import mcnemar, paired_difference_interval, wilson_interval
from trustml.experiments.cifar import (
    CHAPTER,
    PIXEL,
    REFERENCE_FGSM_EPS,
    REFERENCE_PGD_EPS,
    REFERENCE_STD,
)
from trustml.views.format import fmt_int, fmt_pct, fmt_pp, fmt_sci, fmt_seconds, half_up
from trustml.views.table import Table, as_table

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")
PARTS = dict(CHAPTER.parts)  # the question's parts, as the experiments module declares them
EXPERIMENTS = CHAPTER.experiments
EPS8 = 8 * PIXEL
# published CIFAR-10 models at 8/255 (clean, reported robust, AutoAttack), from the AutoAttack
# repository's table (Croce & Hein 2020); TRADES was evaluated at 0.031 (7.9/255), as published
PUBLISHED = {
    "PGD training": ("madry2018towards", 87.14, 47.04, 44.29),
    "FGSM-RS training": ("wong2020fast", 83.34, 46.06, 43.38),
    "TRADES": ("zhang2019theoretically", 84.92, 56.43, 53.18),
}


def compute() -> dict[str, Result]:
    """Every experiment of the chapter, one after the other."""
    return {name: run_or_load(name) for name in EXPERIMENTS}


# ------------------------------------------------------------------------------- formatting

def _table(df: pd.DataFrame, digits: int | None = 1) -> Table:
    """`as_table` after rounding every float cell half-up at `digits` (`half_up`), so the same
    count shows the same way in every table and in the prose."""
    df = df.copy()
    for c in df.columns:
        if pd.api.types.is_float_dtype(df[c]) and isinstance(digits, int):
            df[c] = df[c].map(lambda v: half_up(v, digits))
    return as_table(df, digits)


def eps_label(eps: float) -> str:
    """A radius in /255 units: '8/255', '0.64/255'."""
    k = eps / PIXEL
    return f"{k:.0f}/255" if abs(k - round(k)) < 1e-6 else f"{k:.2f}/255"


def eps_name(eps: float) -> str:
    """The radius with the reference's setting it stands for, where it is one."""
    if abs(eps - REFERENCE_FGSM_EPS) < 1e-9:
        return f"{eps_label(eps)} (reference FGSM)"
    if abs(eps - REFERENCE_PGD_EPS) < 1e-9:
        return f"{eps_label(eps)} (reference PGD)"
    return eps_label(eps)


def _bool(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(a).astype(bool))


def interval_text(correct: np.ndarray) -> str:
    """'91.2 % (95 % interval 90.6–91.7 %)' for per-image correctness."""
    k, n = int(np.sum(correct)), len(correct)
    lo, hi = wilson_interval(k, n)
    return f"{fmt_pct(k / n)} (95 % interval {100 * lo:.1f}–{fmt_pct(hi)})"


# ------------------------------------------------------------------- the standard model

def standard_facts(standard: Result) -> dict[str, str]:
    """Inline values about the standard model."""
    m = standard.meta["config"]
    metr = standard.metrics
    weights = sum(v.numel() * 4 for v in standard.weights["model"].values())
    return {
        "accuracy": interval_text(standard.arrays["correct"]),
        "accuracy_short": fmt_pct(metr["test_accuracy"]),
        "epochs": f"{m['recipe']['epochs']:g}",
        "minutes": fmt_seconds(metr["train_seconds"]),
        "images_per_second": fmt_int(metr["images_per_second"]),
        "parameters": fmt_int(metr["parameters"]),
        "weights_mb": f"{weights / 1e6:.1f} MB",
        "widths": "/".join(str(w) for w in m["widths"]),
        "batch": fmt_int(m["recipe"]["batch_size"]),
    }


def resnet18_cost(standard: Result, epochs: int = 200) -> dict[str, str]:
    """Why not ResNet-18: its multiply-adds per image against ours, and its training time on
    this CPU extrapolated from the throughput measured for ours (same work per multiply-add)."""
    from trustml.core.torch_utils import count_parameters
    from trustml.models.cifar import CifarResNet, multiply_adds, resnet18

    ours = multiply_adds(CifarResNet(tuple(standard.meta["config"]["widths"])))
    theirs_model = resnet18()
    theirs = multiply_adds(theirs_model)
    ratio = theirs / ours
    epoch_s = standard.metrics["n_train"] / (standard.metrics["images_per_second"] / ratio)
    return {"ours": f"{ours / 1e6:.1f} M", "resnet18": f"{theirs / 1e6:.0f} M",
            "ratio": f"{ratio:.1f}",
            "resnet18_parameters": f"{count_parameters(theirs_model) / 1e6:.1f} million",
            "epoch": fmt_seconds(epoch_s), "schedule_epochs": fmt_int(epochs),
            "schedule": f"{epochs * epoch_s / 86400:.1f} days"}


def part_time(results: dict[str, Result], part: str) -> str:
    """The compute time of one part of the question (its experiments other than the standard
    model), from the cache manifests."""
    names = [n for n in PARTS[part] if n != "cifar-standard"]
    return fmt_seconds(sum(float(results[n].meta.get("elapsed_s", 0.0)) for n in names))


# ------------------------------------------------------------------------- 2.1(a) attacks

def eps_table(result: Result, styled: bool = True):
    """FGSM and PGD accuracy of one model per radius (the first n test images)."""
    m = result.metrics
    rows = [{"ε (pixels)": eps_name(e), "FGSM": 100 * m["fgsm"][number_key(e)],
             "PGD-10": 100 * m["pgd"][number_key(e)]} for e in sorted(float(k) for k in m["fgsm"])]
    df = pd.DataFrame(rows)
    return _table(df, 1) if styled else df


def pgd_versus_fgsm(metrics: dict) -> str:
    """Whether PGD is at least as strong as FGSM at every radius measured, in words."""
    radii = sorted(float(k) for k in metrics["pgd"])
    weaker = [e for e in radii if metrics["pgd"][number_key(e)] > metrics["fgsm"][number_key(e)]]
    if not weaker:
        return ("PGD is never weaker than FGSM, as expected of an attack that takes ten steps "
                "along the changing gradient where FGSM takes one.")
    return ("PGD is weaker than FGSM at " + ", ".join(eps_label(e) for e in weaker)
            + ": ten steps of 2.5ε/10 do not always reach the corner FGSM jumps to.")


def autoattack_cell(result_metrics: dict) -> float:
    aa = result_metrics["autoattack"]
    names = list(aa["added"])
    return aa["accuracy"][names[-1]]


def curve_figure(results: dict[str, Result]) -> Figure:
    """Accuracy against the radius: FGSM (dashed) and PGD (solid) for the standard model and
    the two defences; crosses: AutoAttack at 8/255."""
    fig = Figure(figsize=(6.2, 3.3), layout="constrained")
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
    ax.legend(frameon=False, fontsize=8, ncol=2)
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
                ax.set_title(f"{CLASSES[pred]} {100 * conf:.0f} %", fontsize=8,
                             color="C3" if wrong else "black")
            if c == 0:
                ax.set_ylabel(name, fontsize=9)
    return fig


# ------------------------------------------------------------------- 2.1(b) random noise

NOISE_NAMES = {"fgsm": "FGSM", "sign": "random signs", "l2": "random ℓ2"}


def noise_table(noise: Result, styled: bool = True):
    """Per radius and perturbation: accuracy, mean loss increase and mean first-order term."""
    m = noise.metrics
    rows = []
    for key, run in m["runs"].items():
        name, eps = key.split("@")
        rows.append({"ε": eps_label(float(eps)), "perturbation": NOISE_NAMES[name],
                     "accuracy (%)": 100 * run["accuracy"], "loss increase": run["increase"],
                     "ηᵀ∇J (mean)": run["first_order"], "ηᵀ∇J (sd)": run["first_order_sd"]})
    df = pd.DataFrame(rows)
    if styled:  # each column to its own precision, without negative zeros
        df["accuracy (%)"] = df["accuracy (%)"].map(half_up)
        for c in ("loss increase", "ηᵀ∇J (mean)", "ηᵀ∇J (sd)"):
            df[c] = df[c].map(lambda v: half_up(v, 2))
        return as_table(df, {"accuracy (%)": 1, "loss increase": 2, "ηᵀ∇J (mean)": 2,
                             "ηᵀ∇J (sd)": 2})
    return df


def _signed(x: float) -> str:
    """Three decimals, with a true minus sign and no negative zero."""
    text = f"{x:.3f}"
    return "0.000" if text == "-0.000" else text.replace("-", "−")


def noise_facts(noise: Result) -> dict[str, str]:
    """Inline values of 2.1(b): accuracy under each perturbation at a small and at the largest
    radius, and the first-order term against the actual loss increase."""
    m = noise.metrics
    run = m["runs"]
    radii = sorted({float(k.split("@")[1]) for k in run})
    small, large = radii[0], radii[-1]
    out = {"n": fmt_int(m["n"]), "clean": fmt_pct(m["clean"]), "dimension": fmt_int(m["dimension"]),
           "sqrt_d": f"{np.sqrt(m['dimension']):.0f}", "small": eps_label(small),
           "large": eps_label(large)}
    for where, eps in (("small", small), ("large", large)):
        for name in ("fgsm", "sign", "l2"):
            r = run[f"{name}@{eps}"]
            out[f"{name}_acc_{where}"] = fmt_pct(r["accuracy"])
            out[f"{name}_increase_{where}"] = f"{r['increase']:.2f}"
            out[f"{name}_first_{where}"] = _signed(r["first_order"])
            out[f"{name}_sd_{where}"] = f"{r['first_order_sd']:.3f}"
    fs, fl = run[f"fgsm@{small}"], run[f"fgsm@{large}"]
    # the linear approximation: close where the predicted and actual increases agree within 30 %
    close = abs(fs["first_order"] - fs["increase"]) <= 0.3 * abs(fs["increase"])
    out["first_order_small_verdict"] = "close to" if close else "not close to"
    out["first_order_large_verdict"] = ("overshoots" if fl["first_order"] > 1.3 * fl["increase"]
                                        else "still matches")
    sl = run[f"sign@{large}"]
    out["sign_hurts_large"] = ("does hurt" if m["clean"] - sl["accuracy"] > 0.05
                               else "barely hurts")
    return out


# ------------------------------------------------------------------------ 2.1(c) transfer

def transfer_table(study: Result, styled: bool = True):
    """Accuracy of the target model (columns) on adversarial examples crafted on the source
    model (rows), per attack and radius; the diagonal is the white-box attack."""
    t = study.metrics["transfer"]
    rows = []
    keys = sorted({k.split("/")[0] for k in t}, key=lambda k: (k.split("@")[0], float(k.split("@")[1])))
    for key in keys:
        attack, eps = key.split("@")
        for source in ("A", "B"):
            rows.append({"attack": f"{'FGSM' if attack == 'fgsm' else 'PGD-10'} {eps_label(float(eps))}",
                         "crafted on": source,
                         "accuracy of A (%)": 100 * t[f"{key}/{source}->A"]["accuracy"],
                         "accuracy of B (%)": 100 * t[f"{key}/{source}->B"]["accuracy"]})
    df = pd.DataFrame(rows)
    return _table(df, 1) if styled else df


def transfer_facts(study: Result) -> dict[str, str]:
    m = study.metrics
    t = m["transfer"]
    models = m["models"]
    k8 = number_key(EPS8)

    def acc(attack: str, src: str, tgt: str) -> float:
        return t[f"{attack}@{k8}/{src}->{tgt}"]["accuracy"]

    white = np.mean([acc("pgd", "A", "A"), acc("pgd", "B", "B")])
    black = np.mean([acc("pgd", "A", "B"), acc("pgd", "B", "A")])
    fg_white = np.mean([acc("fgsm", "A", "A"), acc("fgsm", "B", "B")])
    fg_black = np.mean([acc("fgsm", "A", "B"), acc("fgsm", "B", "A")])
    clean = np.mean([models["A"]["clean"], models["B"]["clean"]])
    return {
        "clean_a": fmt_pct(models["A"]["clean"]), "clean_b": fmt_pct(models["B"]["clean"]),
        "epochs": f"{study.meta['config']['model']['recipe']['epochs']:g}",
        "n_train": fmt_int(models["A"]["n_train"]),
        "agreement": fmt_pct(m["agreement"]),
        "agreement_wrong": fmt_pct(m["agreement_when_both_wrong"]),
        "cosine": f"{m['gradient_cosine']:.2f}",
        "random_cosine": f"{1 / np.sqrt(3 * 32 * 32):.3f}",
        "sign_agreement": fmt_pct(m["sign_agreement"]),
        "pgd_white": fmt_pct(white), "pgd_black": fmt_pct(black),
        "fgsm_white": fmt_pct(fg_white), "fgsm_black": fmt_pct(fg_black),
        "clean_mean": fmt_pct(clean),
        "pgd_drop_black": fmt_pp(clean - black), "fgsm_drop_black": fmt_pp(clean - fg_black),
        "transfer_order": (
            f"FGSM transfers better than PGD ({fmt_pct(fg_black)} left correct on the other "
            "model, against PGD's " + fmt_pct(black) + "), although PGD is far stronger in white "
            "box: PGD's ten steps fit the source model's own loss surface, including its "
            "idiosyncrasies, while FGSM's single step follows the broad direction of the "
            "gradient, which the two models share more." if fg_black < black else
            f"PGD transfers better than FGSM ({fmt_pct(black)} left correct on the other model, "
            f"against FGSM's {fmt_pct(fg_black)}): the stronger white-box attack is also the "
            "stronger transfer attack here."),
    }


# ------------------------------------------------------------------- 2.1(d) augmentation

def _compare_rows(study: Result, a: str, b: str) -> list[dict]:
    arrays = study.arrays
    rows = []
    keys = [("clean", "clean", None)]
    for eps in (4 * PIXEL, EPS8):
        keys += [(f"FGSM {eps_label(eps)}", f"robust/fgsm/{eps}", eps),
                 (f"PGD-10 {eps_label(eps)}", f"robust/pgd/{eps}", eps)]
    keys.append(("AutoAttack 8/255", "autoattack/robust", EPS8))
    for label, key, _ in keys:
        if f"{a}/{key}" not in arrays:  # a radius the smoke budget does not evaluate
            continue
        ca, cb = _bool(arrays[f"{a}/{key}"]), _bool(arrays[f"{b}/{key}"])
        test = mcnemar(ca, cb)
        rows.append({"measure": label, "images": len(ca), "acc_a": float(ca.float().mean()),
                     "acc_b": float(cb.float().mean()), **test})
    return rows


def augmentation_table(study: Result, styled: bool = True):
    """Model A (flips and translations) against A without augmentation, on the same images:
    accuracies, the paired difference with its 95 % interval, and McNemar's exact p-value."""
    rows = _compare_rows(study, "A-noaug", "A")
    records = []
    for r in rows:
        diff, lo, hi = paired_difference_interval(r["a_only"], r["b_only"], r["images"])
        records.append({"measure": r["measure"], "images": r["images"],
                        "without (%)": 100 * r["acc_a"], "with (%)": 100 * r["acc_b"],
                        "with − without":
                            f"{half_up(100 * diff):.1f} [{half_up(100 * lo):.1f}, "
                            f"{half_up(100 * hi):.1f}]",
                        "p-value": r["p_value"]})
    df = pd.DataFrame(records)
    if styled:
        df["p-value"] = df["p-value"].map(lambda p: "< 0.0001" if p < 1e-4 else f"{p:.2g}")
        return _table(df, 1)
    return df


def augmentation_verdict(study: Result, alpha: float = 0.05) -> str:
    """What augmentation did, measure by measure, from McNemar's test."""
    rows = _compare_rows(study, "A-noaug", "A")
    helped = [r for r in rows if r["p_value"] < alpha and r["b_only"] > r["a_only"]]
    hurt = [r for r in rows if r["p_value"] < alpha and r["b_only"] < r["a_only"]]
    tied = [r for r in rows if r["p_value"] >= alpha]

    def names(rs: list[dict]) -> str:
        items = [r["measure"] for r in rs]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]

    parts = []
    clean = rows[0]
    if clean in helped:
        parts.append(f"Augmentation raised clean accuracy from {fmt_pct(clean['acc_a'])} to "
                     f"{fmt_pct(clean['acc_b'])} (McNemar p = {clean['p_value']:.2g}).")
    elif clean in hurt:
        parts.append(f"Augmentation lowered clean accuracy from {fmt_pct(clean['acc_a'])} to "
                     f"{fmt_pct(clean['acc_b'])} (McNemar p = {clean['p_value']:.2g}).")
    else:
        parts.append(f"Clean accuracy did not change measurably ({fmt_pct(clean['acc_a'])} without, "
                     f"{fmt_pct(clean['acc_b'])} with augmentation, p = {clean['p_value']:.2g}).")
    adv_helped = [r for r in helped if r is not clean]
    adv_hurt = [r for r in hurt if r is not clean]
    adv_tied = [r for r in tied if r is not clean]
    if adv_helped:
        parts.append(f"Under attack it helped on {names(adv_helped)}, but every such gain is "
                     "small next to the clean accuracy the attacks remove.")
    if adv_hurt:
        parts.append(f"It made the model measurably less robust on {names(adv_hurt)}.")
    if adv_tied:
        parts.append(f"On {names(adv_tied)} the two models cannot be told apart on these images.")
    if clean in hurt:
        epochs = study.meta["config"]["model"]["recipe"]["epochs"]
        parts.append(f"Augmentation is a regulariser, and after {epochs:g} epochs on half the "
                     "training set neither model has trained long enough to overfit, so there is "
                     "nothing for it to counter; the likely reason it costs accuracy here is that "
                     "the augmented task is harder to fit in so few steps.")
    return " ".join(parts)


# -------------------------------------------------------------------------- 2.2, 2.3 defences

MODEL_LABELS = {"cifar-attacks": "standard", "cifar-fgsm-defence": "FGSM defence",
                "cifar-pgd-defence": "PGD defence"}
STUDY_LABELS = {"A": "model A", "B": "model B", "A-noaug": "A, no aug."}


def defence_table(results: dict[str, Result], styled: bool = True):
    """Clean, FGSM, PGD (and AutoAttack at 8/255) accuracy of the standard model and the two
    defences, per radius."""
    rows = []
    for key, label in MODEL_LABELS.items():
        m = results[key].metrics
        row = {"model": label, "clean": 100 * m["clean"]}
        for eps in (e for e in (REFERENCE_PGD_EPS, 4 * PIXEL, EPS8) if number_key(e) in m["fgsm"]):
            row[f"FGSM {eps_label(eps)}"] = 100 * m["fgsm"][number_key(eps)]
            row[f"PGD {eps_label(eps)}"] = 100 * m["pgd"][number_key(eps)]
        row["worst 8/255"] = 100 * autoattack_cell(m)
        rows.append(row)
    df = pd.DataFrame(rows)
    return _table(df, 1) if styled else df


def all_models_table(results: dict[str, Result], styled: bool = True):
    """Every model of the chapter at 8/255: clean accuracy (whole test set), FGSM and PGD
    (first 2,000) and the worst case over PGD and AutoAttack (first 1,000)."""
    entries = [("standard", results["cifar-attacks"].metrics)]
    for name, m in results["cifar-study"].metrics["models"].items():
        entries.append((STUDY_LABELS[name], m))
    entries += [(MODEL_LABELS[k], results[k].metrics) for k in ("cifar-fgsm-defence",
                                                                  "cifar-pgd-defence")]
    rows = []
    for name, m in entries:
        aa = m["autoattack"]
        rows.append({"model": name, "clean": 100 * m["clean"],
                     "FGSM": 100 * m["fgsm"][number_key(EPS8)], "PGD-10": 100 * m["pgd"][number_key(EPS8)],
                     "PGD-10 (subset)": 100 * aa["pgd"],
                     **{k: 100 * v for k, v in aa["accuracy"].items() if k != "clean"}})
    df = pd.DataFrame(rows)
    return _table(df, 1) if styled else df


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
    ax.legend(frameon=False, fontsize=8)
    return fig


def _flat_fgsm(m: dict, within: float = 0.01) -> str:
    """' Its FGSM accuracy barely changes from r0 to r1 ...' where it stays within `within`
    of its value at the smallest radius over several radii ('' otherwise)."""
    radii = sorted(float(e) for e in m["fgsm"])
    base = m["fgsm"][number_key(radii[0])]
    flat = [e for e in radii if abs(m["fgsm"][number_key(e)] - base) <= within]
    last = flat[-1] if len(flat) == len([e for e in radii if e <= flat[-1]]) else radii[0]
    if last / radii[0] < 4:
        return ""
    return (f" Its FGSM accuracy barely changes from {eps_label(radii[0])} to {eps_label(last)} "
            f"({fmt_pct(base)} and {fmt_pct(m['fgsm'][number_key(last)])}), another sign of a masked "
            "gradient rather than of robustness.")


def overfitting_sentence(fgsm_defence: Result) -> str:
    """What the PGD checks during FGSM fine-tuning show."""
    h = fgsm_defence.metrics["history"]
    pgd, clean = h["check_pgd"], h["check_clean"]
    best = int(np.argmax(pgd))
    final_fgsm = fgsm_defence.metrics["fgsm"][number_key(EPS8)]
    final_pgd = fgsm_defence.metrics["pgd"][number_key(EPS8)]
    if pgd[best] < 0.05 and final_fgsm - final_pgd > 0.2:
        return (f"PGD accuracy on the held-out images was near zero at every check, from the "
                f"first one after {h['check_step'][0]:.2f} epochs (at most {fmt_pct(pgd[best])}), "
                f"while the final model resists FGSM on {fmt_pct(final_fgsm)} of the images and PGD "
                f"on {fmt_pct(final_pgd)}. This is catastrophic overfitting from "
                "the start: the network learnt within the first few hundred steps to make the "
                "single FGSM step useless, by bending its loss surface so that the gradient "
                "sign no longer points uphill far enough, without becoming robust to an attack "
                "that takes several steps." + _flat_fgsm(fgsm_defence.metrics))
    if pgd[-1] < pgd[best] - 0.1:
        return (f"PGD accuracy on the held-out images peaked at {fmt_pct(pgd[best])} after "
                f"{h['check_step'][best]:.2f} epochs and then collapsed to {fmt_pct(pgd[-1])}, while "
                f"FGSM accuracy of the final model is {fmt_pct(final_fgsm)}: catastrophic "
                "overfitting, the network has learnt to make the single "
                "FGSM step useless without becoming robust to a multi-step attack.")
    gap = final_fgsm - final_pgd
    if gap > 0.2:
        return (f"PGD accuracy on the held-out images never collapsed (its last check is "
                f"{fmt_pct(pgd[-1])}, its best {fmt_pct(pgd[best])}), but the final model's FGSM "
                f"accuracy ({fmt_pct(final_fgsm)}) is {fmt_pp(gap)} above its PGD accuracy "
                f"({fmt_pct(final_pgd)}): the FGSM examples it was trained on are a weak "
                "approximation of the worst case.")
    return (f"PGD accuracy on the held-out images rose steadily to {fmt_pct(pgd[-1])} "
            f"(clean {fmt_pct(clean[-1])}); within this short fine-tuning there is no sign of "
            "catastrophic overfitting.")


def tradeoff_facts(results: dict[str, Result]) -> dict[str, str]:
    s = results["cifar-attacks"].metrics
    out = {}
    for key, short in (("cifar-fgsm-defence", "fgsm"), ("cifar-pgd-defence", "pgd")):
        m = results[key].metrics
        out[f"{short}_clean"] = fmt_pct(m["clean"])
        out[f"{short}_clean_drop"] = fmt_pp(s["clean"] - m["clean"])
        out[f"{short}_pgd8"] = fmt_pct(m["pgd"][number_key(EPS8)])
        out[f"{short}_aa8"] = fmt_pct(autoattack_cell(m))
        out[f"{short}_fgsm8"] = fmt_pct(m["fgsm"][number_key(EPS8)])
        out[f"{short}_pgd8_gain"] = fmt_pp(m["pgd"][number_key(EPS8)] - s["pgd"][number_key(EPS8)])
        out[f"{short}_train"] = fmt_seconds(m["train_seconds"])
        out[f"{short}_epochs"] = f"{m['epochs']:g}"
    out["standard_clean"] = fmt_pct(s["clean"])
    out["standard_pgd8"] = fmt_pct(s["pgd"][number_key(EPS8)])
    out["standard_aa8"] = fmt_pct(autoattack_cell(s))
    return out


def fgsm_defence_sentence(results: dict[str, Result]) -> str:
    """2.2(a): what the FGSM fine-tuning did to clean and robust accuracy at 8/255."""
    s, m = results["cifar-attacks"].metrics, results["cifar-fgsm-defence"].metrics
    k = number_key(EPS8)
    clean = (f"Clean accuracy falls from {fmt_pct(s['clean'])} to {fmt_pct(m['clean'])}"
             if m["clean"] < s["clean"] - 0.005 else
             f"Clean accuracy stays at {fmt_pct(m['clean'])} (standard model: {fmt_pct(s['clean'])})")
    return (f"{clean}. At 8/255 the fine-tuned model resists FGSM on {fmt_pct(m['fgsm'][k])} of "
            f"the images (the standard model: {fmt_pct(s['fgsm'][k])}), PGD on "
            f"{fmt_pct(m['pgd'][k])} and the worst case over PGD and AutoAttack on "
            f"{fmt_pct(autoattack_cell(m))}.")


def pgd_defence_sentence(results: dict[str, Result]) -> str:
    """2.3(a): the PGD defence's accuracies, and whether AutoAttack confirms its PGD number."""
    m = results["cifar-pgd-defence"].metrics
    k = number_key(EPS8)
    aa = m["autoattack"]
    worst, subset = autoattack_cell(m), aa["pgd"]
    added = aa["added"]
    first = max(added, key=added.get)
    text = (f"It keeps {fmt_pct(m['clean'])} clean and {fmt_pct(m['pgd'][k])} under PGD-10 at "
            "8/255. ")
    if worst < 0.5 * subset:
        text += (f"AutoAttack takes almost all of that away: of the {fmt_int(subset * aa['n'])} "
                 f"images of the subset that PGD-10 left robust, {first} alone breaks "
                 f"{fmt_int(added[first])}, and the worst case is {fmt_pct(worst)}. The PGD-10 "
                 "number is therefore no robustness claim: after this short fine-tuning the loss "
                 "surface is rough enough to stall ten fixed steps, not flat enough to stop a "
                 "hundred adaptive ones. By the field's standard, this defence does not survive "
                 "at 8/255.")
    else:
        text += (f"AutoAttack confirms most of it: the worst case over PGD and AutoAttack is "
                 f"{fmt_pct(worst)} on the subset where PGD-10 leaves {fmt_pct(subset)}.")
    return text


def tradeoff_sentence(results: dict[str, Result], eps: float = 2 * PIXEL) -> str:
    """2.2(b): what each defence paid in clean accuracy and what it bought."""
    s = results["cifar-attacks"].metrics
    f, p = results["cifar-fgsm-defence"].metrics, results["cifar-pgd-defence"].metrics
    k = number_key(eps)
    text = (f"Both defences pay in clean accuracy: {fmt_pp(s['clean'] - f['clean'])} for the FGSM "
            f"defence and {fmt_pp(s['clean'] - p['clean'])} for the PGD defence. ")
    if k in s["pgd"]:
        text += (f"What they buy on this budget is robustness to small perturbations: under PGD-10 "
                 f"at {eps_label(eps)} they keep {fmt_pct(f['pgd'][k])} and {fmt_pct(p['pgd'][k])} "
                 f"of the images, the standard model {fmt_pct(s['pgd'][k])}. ")
    best = max(autoattack_cell(f), autoattack_cell(p))
    if best < 0.05:
        text += (f"At 8/255 neither keeps more than {fmt_pct(best)} under the worst case, so the "
                 "clean accuracy they gave up bought nothing at the radius they were trained for.")
    else:
        text += (f"At 8/255 the worst case leaves {fmt_pct(autoattack_cell(f))} and "
                 f"{fmt_pct(autoattack_cell(p))}, against {fmt_pct(autoattack_cell(s))} for the "
                 "standard model.")
    return text


def cost_sentence(results: dict[str, Result]) -> str:
    """2.3(c): FGSM against PGD, as attack and as defence, in measured seconds."""
    s = results["cifar-attacks"].metrics
    f, p = results["cifar-fgsm-defence"].metrics, results["cifar-pgd-defence"].metrics
    k = number_key(EPS8)

    def ratio(m: dict) -> float:  # from the milliseconds per image the table shows
        return (round(1000 * m["seconds"][f"pgd@{k}"] / m["n"], 1)
                / round(1000 * m["seconds"][f"fgsm@{k}"] / m["n"], 1))

    return (f"As an attack, PGD-10 took {ratio(s):.1f} times as long as FGSM per image on the "
            f"standard model and {ratio(p):.1f} times on the PGD defence, not ten: it stops "
            "attacking an image as soon as it is misclassified, so its cost depends on the "
            "model's robustness. As a defence, one epoch of PGD training (with "
            f"{results['cifar-pgd-defence'].meta['config']['defence']['pgd_steps']} steps per "
            f"batch) took {p['seconds_per_epoch'] / f['seconds_per_epoch']:.1f} times as long as "
            "one epoch of the FGSM defence.")


def _all_model_metrics(results: dict[str, Result]) -> dict[str, dict]:
    out = {"standard": results["cifar-attacks"].metrics}
    out.update({STUDY_LABELS[k]: m for k, m in results["cifar-study"].metrics["models"].items()})
    out.update({MODEL_LABELS[k]: results[k].metrics for k in ("cifar-fgsm-defence",
                                                               "cifar-pgd-defence")})
    return out


def defences_verdict(results: dict[str, Result]) -> str:
    """2.3(c): which attack was stronger everywhere, and which defence survives at 8/255."""
    models = _all_model_metrics(results)
    weaker = [name for name, m in models.items()
              if any(m["pgd"][e] > m["fgsm"][e] for e in m["pgd"])]
    first = ("PGD was the stronger white-box attack on every model and at every radius of this "
             "chapter, and only PGD exposed the FGSM defence." if not weaker else
             f"PGD was the weaker white-box attack somewhere on {', '.join(weaker)}.")
    worst = {MODEL_LABELS[k]: autoattack_cell(results[k].metrics)
             for k in ("cifar-fgsm-defence", "cifar-pgd-defence")}
    if max(worst.values()) < 0.05:
        second = (f"Neither defence keeps more than {fmt_pct(max(worst.values()))} of the images "
                  "under AutoAttack at 8/255 after a fine-tuning this short.")
    else:
        second = ("Under AutoAttack at 8/255 the two defences keep "
                  + " and ".join(f"{fmt_pct(v)} ({k})" for k, v in worst.items()) + ".")
    return f"{first} {second}"


def gradients_table(gradients: Result, styled: bool = True):
    """Cosine and relative difference of the parameter gradients of the adversarial loss and of
    the appended batch."""
    df = pd.DataFrame([{"examples": r["attack"].upper(), "batch-norm": r["batch_norm"],
                        "α": r["alpha"], "cosine": r["cosine"],
                        "relative difference": r["relative_difference"]}
                       for r in gradients.metrics["rows"]])
    if styled:
        df["relative difference"] = df["relative difference"].map(
            lambda v: fmt_sci(v, 0) if v < 1e-3 else f"{100 * v:.0f} %")
        df["cosine"] = df["cosine"].map(lambda v: f"{min(v, 1.0):.4f}")  # rounding can pass 1
        return as_table(df)
    return df


def gradient_facts(gradients: Result) -> dict[str, str]:
    rows = gradients.metrics["rows"]

    def pick(attack: str, bn: str, alpha: float) -> dict:
        return next(r for r in rows if r["attack"] == attack and r["batch_norm"] == bn
                    and abs(r["alpha"] - alpha) < 1e-9)

    eval_max = max(r["relative_difference"] for r in rows
                   if r["batch_norm"] == "eval" and abs(r["alpha"] - 0.5) < 1e-9)
    return {"eval_max": fmt_sci(eval_max, 0),
            "fgsm_train_cos": f"{pick('fgsm', 'train', 0.5)['cosine']:.3f}",
            "pgd_train_cos": f"{pick('pgd', 'train', 0.5)['cosine']:.3f}",
            "fgsm_train_diff": fmt_pct(pick("fgsm", "train", 0.5)["relative_difference"]),
            "pgd_train_diff": fmt_pct(pick("pgd", "train", 0.5)["relative_difference"]),
            "alpha_cos": f"{pick('pgd', 'eval', 0.25)['cosine']:.3f}",
            "alpha_diff_fgsm": fmt_pct(pick("fgsm", "eval", 0.25)["relative_difference"], 0),
            "alpha_diff": fmt_pct(pick("pgd", "eval", 0.25)["relative_difference"], 0),
            "n": fmt_int(gradients.metrics["n"])}


def cost_table(results: dict[str, Result], styled: bool = True):
    """FGSM against PGD, as defence (seconds per epoch of fine-tuning, accuracy) and as attack
    (milliseconds per attacked image at 8/255 on the standard model and on the PGD defence)."""
    rows = []
    s, p = results["cifar-attacks"].metrics, results["cifar-pgd-defence"].metrics
    for key, attack in (("cifar-fgsm-defence", "fgsm"), ("cifar-pgd-defence", "pgd")):
        m = results[key].metrics
        rows.append({"method": attack.upper(),
                     "defence: s per epoch": m["seconds_per_epoch"],
                     "defence: clean (%)": 100 * m["clean"],
                     "defence: worst case 8/255 (%)": 100 * autoattack_cell(m),
                     "attack: ms per image, standard model":
                         1000 * s["seconds"][f"{attack}@{EPS8}"] / s["n"],
                     "attack: ms per image, PGD defence":
                         1000 * p["seconds"][f"{attack}@{EPS8}"] / p["n"]})
    df = pd.DataFrame(rows)
    return _table(df, 1) if styled else df


def published_table(results: dict[str, Result], styled: bool = True):
    """Our PGD defence at 8/255 beside published adversarially trained CIFAR-10 models."""
    m = results["cifar-pgd-defence"].metrics
    rows = [{"model": f"{name} [@{key}]", "clean (%)": clean, "reported (%)": reported,
             "AutoAttack (%)": aa} for name, (key, clean, reported, aa) in PUBLISHED.items()]
    rows.append({"model": "ours: PGD defence, fine-tuned", "clean (%)": 100 * m["clean"],
                 "reported (%)": 100 * m["pgd"][number_key(EPS8)],
                 "AutoAttack (%)": 100 * autoattack_cell(m)})
    df = pd.DataFrame(rows)
    return _table(df, 1) if styled else df


def reference_reading() -> dict[str, str]:
    return {"std": f"{REFERENCE_STD:.4f}", "fgsm": eps_label(REFERENCE_FGSM_EPS),
            "pgd": eps_label(REFERENCE_PGD_EPS)}


# ------------------------------------------------------------------------ command line

def summary(results: Mapping[str, Result]) -> str:
    """Plain-text tables for `python -m trustml ext-cifar`, of the experiments in `results`."""
    by = dict(results)
    lines = []
    if "cifar-standard" in by:
        f = standard_facts(by["cifar-standard"])
        lines.append(f"standard model: test accuracy {f['accuracy']}, {f['epochs']} epochs in "
                     f"{f['minutes']} ({f['images_per_second']} images/s)")
    if "cifar-attacks" in by:
        lines += ["\n2.1(a) standard model under attack", eps_table(by["cifar-attacks"]).text()]
    if "cifar-noise" in by:
        lines += ["\n2.1(b) FGSM against random noise", noise_table(by["cifar-noise"]).text()]
    if "cifar-study" in by:
        lines += ["\n2.1(c) transfer", transfer_table(by["cifar-study"]).text(),
                  "\n2.1(d) augmentation", augmentation_table(by["cifar-study"]).text(),
                  augmentation_verdict(by["cifar-study"])]
    for key, title in (("cifar-fgsm-defence", "2.2 FGSM defence"),
                       ("cifar-pgd-defence", "2.3 PGD defence")):
        if key in by:
            lines += [f"\n{title}", eps_table(by[key]).text()]
    if "cifar-fgsm-defence" in by:
        lines.append(overfitting_sentence(by["cifar-fgsm-defence"]))
    if "cifar-gradients" in by:
        lines += ["\n2.3(b) adversarial loss against the appended batch",
                  gradients_table(by["cifar-gradients"]).text()]
    return "\n".join(lines)

