"""The CIFAR-10 chapter's tables."""

from __future__ import annotations

import pandas as pd

from trustml.core.cache import Result
from trustml.core.keys import number_key
from trustml.core.stats import paired_difference_interval
from trustml.experiments.cifar import (
    PIXEL,
    REFERENCE_PGD_EPS,
)
from trustml.views.cifar.common import (
    EPS8,
    MODEL_LABELS,
    NOISE_NAMES,
    PUBLISHED,
    STUDY_LABELS,
    _compare_rows,
    _table,
    autoattack_cell,
    eps_label,
    eps_name,
)
from trustml.views.format import fmt_sci, half_up
from trustml.views.table import as_table


def eps_table(result: Result, styled: bool = True):
    """FGSM and PGD accuracy of one model per radius (the first n test images)."""
    m = result.metrics
    rows = [{"ε (pixels)": eps_name(e), "FGSM": 100 * m["fgsm"][number_key(e)],
             "PGD-10": 100 * m["pgd"][number_key(e)]} for e in sorted(float(k) for k in m["fgsm"])]
    df = pd.DataFrame(rows)
    return _table(df, 1) if styled else df


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

