"""The CIFAR-10 chapter's tables."""

from __future__ import annotations

import pandas as pd

from trustml.core.cache import Result
from trustml.core.keys import number_key
from trustml.core.stats import paired_difference_interval
from trustml.experiments.cifar import PIXEL, REFERENCE_FGSM_EPS, REFERENCE_PGD_EPS
from trustml.views.cifar.common import (
    DEFENCE_EVALS,
    EPS8,
    MEMBER_LABELS,
    MODEL_LABELS,
    NOISE_NAMES,
    PGD_EVALS,
    PUBLISHED,
    STANDARD_EVAL,
    STUDY_LABELS,
    TRAINING,
    _compare_rows,
    _table,
    after_members,
    at_radius,
    eps_label,
    eps_name,
    overstatement_points,
    radii,
    study_measures,
    weak_measures,
    worst,
)
from trustml.views.format import fmt_sci, half_up
from trustml.views.table import as_table


def eps_table(result: Result, styled: bool = True):
    """One model per radius: FGSM, PGD-10, the worst case over every attack, and how many
    points PGD-10 overstates it by (accuracy in %, the evaluation's first n test images)."""
    m = result.metrics
    rows = []
    for e in radii(m):
        rows.append({"ε (pixels)": eps_name(e), "FGSM": 100 * at_radius(m, "fgsm", e),
                     "PGD-10": 100 * at_radius(m, "pgd10", e), "worst case": 100 * worst(m, e),
                     "PGD-10 overstates by": overstatement_points(m, e)})
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
    clean accuracy, the worst case per radius, then FGSM and PGD-10 per radius (what the
    question asks with, beside what holds), the paired difference with its 95 % interval, and
    McNemar's exact p-value; then both models' training accuracy."""
    rows = _compare_rows(study, "A-noaug", "A", study_measures(study) + weak_measures(study))
    records = []
    for r in rows:
        diff, lo, hi = paired_difference_interval(r["a_only"], r["b_only"], r["images"])
        records.append({"measure": r["measure"], "images": r["images"],
                        "without (%)": 100 * r["acc_a"], "with (%)": 100 * r["acc_b"],
                        "with − without":
                            f"{half_up(100 * diff):.1f} [{half_up(100 * lo):.1f}, "
                            f"{half_up(100 * hi):.1f}]",
                        "p-value": r["p_value"]})
    models = study.metrics["models"]
    records.append({"measure": "training images (clean)", "images": models["A"]["n_train_accuracy"],
                    "without (%)": 100 * models["A-noaug"]["train_accuracy"],
                    "with (%)": 100 * models["A"]["train_accuracy"], "with − without": "",
                    "p-value": float("nan")})
    df = pd.DataFrame(records)
    if styled:
        df["p-value"] = df["p-value"].map(lambda p: "" if p != p else
                                          "< 0.0001" if p < 1e-4 else f"{p:.2g}")
        return _table(df, 1)
    return df


# the field's radii and the assignment's two (its PGD radius first, its FGSM radius before 8/255)
DEFENCE_RADII = (REFERENCE_PGD_EPS, PIXEL, 2 * PIXEL, 4 * PIXEL, REFERENCE_FGSM_EPS, EPS8)


def defence_table(results: dict[str, Result], styled: bool = True):
    """The standard model and the defences: clean accuracy (all test images), the worst
    case at the radii of `DEFENCE_RADII` and PGD-10 at 8/255 (first n test images), accuracy in %."""
    rows = []
    for key, label in MODEL_LABELS.items():
        m = results[key].metrics
        row = {"model": label, "clean": 100 * m["clean"]}
        for eps in DEFENCE_RADII:
            row[f"worst {eps_label(eps)}"] = 100 * worst(m, eps)
        row["PGD-10 8/255"] = 100 * at_radius(m, "pgd10", EPS8)
        rows.append(row)
    df = pd.DataFrame(rows)
    return _table(df, 1) if styled else df


def all_models_table(results: dict[str, Result], styled: bool = True):
    """Every model of the chapter at 8/255: clean accuracy (whole test set), FGSM and PGD-10,
    then the accuracy left after each strong attack in turn (first n test images); the last
    column is the worst case."""
    entries = [("standard", results[STANDARD_EVAL].metrics)]
    for name, m in results["cifar-study"].metrics["models"].items():
        entries.append((STUDY_LABELS[name], m))
    entries += [(MODEL_LABELS[k], results[k].metrics) for k in DEFENCE_EVALS]
    rows = []
    for name, m in entries:
        rows.append({"model": name, "clean": 100 * m["clean"],
                     "FGSM": 100 * at_radius(m, "fgsm", EPS8),
                     "PGD-10": 100 * at_radius(m, "pgd10", EPS8),
                     **{MEMBER_LABELS[k]: 100 * v for k, v in after_members(m, EPS8).items()}})
    df = pd.DataFrame(rows)
    return _table(df, 1) if styled else df


def added_table(results: dict[str, Result], key: str, styled: bool = True):
    """Per radius, the images of the first n each strong attack breaks beyond FGSM, PGD-10 and
    the attacks before it, for one evaluated model (`key`); blank where it did not run."""
    m = results[key].metrics
    rows = []
    for e in radii(m):
        added = m["added"][number_key(e)]
        row = {"ε (pixels)": eps_label(e)}
        row.update({MEMBER_LABELS[name]: added.get(name, "") for name in MEMBER_LABELS})
        rows.append(row)
    df = pd.DataFrame(rows).astype(str)
    return as_table(df) if styled else df


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


# each row of the cost table: the model trained (its objective, the step timed, is read from
# its training config)
_COST_ROWS = (("standard training", None), ("FGSM (adversarial loss)", "cifar-eval-fgsm"),
              ("FGSM-RS", "cifar-eval-fgsmrs"), ("PGD, one pass", "cifar-eval-pgd"),
              ("PGD, two passes", "cifar-eval-pgd-halves"),
              ("PGD, two passes, 11/255", "cifar-eval-pgd-halves-11"))


def cost_table(results: dict[str, Result], styled: bool = True):
    """Each objective's training throughput, timed side by side (images per second and cost
    relative to standard training), with the defence's epochs and its clean and worst-case
    accuracy at 8/255."""
    rate = results["cifar-step-costs"].metrics["images_per_second"]
    rows = []
    for label, key in _COST_ROWS:
        objective = ("clean" if key is None else
                     results[TRAINING[key]].meta["config"]["objective"])
        row = {"training": label, "images per second": rate[objective],
               "cost (× standard)": rate["clean"] / rate[objective]}
        if key is not None:
            m = results[key].metrics
            row.update({"epochs": results[TRAINING[key]].metrics["epochs"],
                        "clean (%)": 100 * m["clean"], "worst 8/255 (%)": 100 * worst(m)})
        else:
            s = results["cifar-standard"].metrics
            row.update({"epochs": results["cifar-standard"].meta["config"]["recipe"]["epochs"],
                        "clean (%)": 100 * s["test_accuracy"],
                        "worst 8/255 (%)": 100 * worst(results[STANDARD_EVAL].metrics)})
        rows.append(row)
    df = pd.DataFrame(rows)
    if styled:
        df["images per second"] = df["images per second"].map(lambda v: f"{v:,.0f}")
        df["cost (× standard)"] = df["cost (× standard)"].map(lambda v: f"{v:.1f}")
        df["epochs"] = df["epochs"].map(lambda v: f"{v:g}")
        return _table(df, 1)
    return df


def published_table(results: dict[str, Result], styled: bool = True):
    """Our FGSM-RS and two PGD defences at 8/255 beside published adversarially trained CIFAR-10
    models: clean, the robust accuracy reported (for ours PGD-10) and AutoAttack's (for ours
    the worst case, which includes the full AutoAttack at 8/255)."""
    rows = [{"model": f"{name} [@{key}]", "clean (%)": clean, "reported (%)": reported,
             "AutoAttack (%)": aa} for name, (key, clean, reported, aa) in PUBLISHED.items()]
    for key in ("cifar-eval-fgsmrs", *PGD_EVALS):
        m = results[key].metrics
        rows.append({"model": f"ours: {MODEL_LABELS[key]}", "clean (%)": 100 * m["clean"],
                     "reported (%)": 100 * at_radius(m, "pgd10", EPS8),
                     "AutoAttack (%)": 100 * worst(m)})
    df = pd.DataFrame(rows)
    return _table(df, 1) if styled else df
