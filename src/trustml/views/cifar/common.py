"""The CIFAR-10 view's shared pieces: constants, formatting helpers, what it computes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from trustml.core.cache import Result, run_or_load
from trustml.core.keys import number_key
from trustml.core.stats import mcnemar
from trustml.experiments.cifar import (
    CHAPTER,
    PIXEL,
    REFERENCE_FGSM_EPS,
    REFERENCE_PGD_EPS,
)
from trustml.views.format import half_up
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

# the evaluated models: evaluation experiment -> label, and the defences' training experiments
# the models as a table's rows and a legend name them (short: the tables' captions say they are
# defences, and a long name wrapped to four lines in a narrow column)
# the standard model's evaluation: all four AutoAttack members at every radius
STANDARD_EVAL = "cifar-attacks-autoattack"
MODEL_LABELS = {STANDARD_EVAL: "standard", "cifar-eval-fgsm": "FGSM",
                "cifar-eval-fgsmrs": "FGSM-RS", "cifar-eval-pgd": "PGD, one pass",
                "cifar-eval-pgd-halves": "PGD, two passes",
                "cifar-eval-pgd-halves-11": "PGD, two passes, 11/255"}
# the same models as a sentence names them
PROSE_LABELS = {**MODEL_LABELS, "cifar-eval-fgsm": "FGSM defence",
                "cifar-eval-fgsmrs": "FGSM-RS defence", "cifar-eval-pgd": "one-pass PGD defence",
                "cifar-eval-pgd-halves": "two-pass PGD defence",
                "cifar-eval-pgd-halves-11": "two-pass PGD defence trained at 11/255"}
DEFENCE_EVALS = ("cifar-eval-fgsm", "cifar-eval-fgsmrs", "cifar-eval-pgd", "cifar-eval-pgd-halves",
                 "cifar-eval-pgd-halves-11")
# the PGD defences (2.3), and the training objective each was trained with
PGD_EVALS = {"cifar-eval-pgd": "pgd_append", "cifar-eval-pgd-halves": "pgd_halves",
             "cifar-eval-pgd-halves-11": "pgd_halves"}
TRAINING = {"cifar-eval-fgsm": "cifar-fgsm-defence", "cifar-eval-fgsmrs": "cifar-fgsmrs-defence",
            "cifar-eval-pgd": "cifar-pgd-defence",
            "cifar-eval-pgd-halves": "cifar-pgd-halves-defence",
            "cifar-eval-pgd-halves-11": "cifar-pgd-halves-11-defence"}
STUDY_LABELS = {"A": "model A", "B": "model B", "A-noaug": "A, no aug."}
# the strong attacks' names as the tables print them
MEMBER_LABELS = {"pgd_ce": "our PGD (CE)", "pgd_margin": "our PGD (margin)", "APGD-CE": "APGD-CE",
                 "APGD-T": "APGD-T", "FAB-T": "FAB-T", "Square": "Square"}
ATTACK_LABELS = {"fgsm": "FGSM", "pgd10": "PGD-10", "worst": "worst case"}


def compute() -> dict[str, Result]:
    """Every experiment of the chapter, one after the other."""
    return {name: run_or_load(name) for name in EXPERIMENTS}


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
    """The radius with the assignment's setting it stands for, where it is one."""
    if abs(eps - REFERENCE_FGSM_EPS) < 1e-9:
        return f"{eps_label(eps)} (assignment FGSM)"
    if abs(eps - REFERENCE_PGD_EPS) < 1e-9:
        return f"{eps_label(eps)} (assignment PGD)"
    return eps_label(eps)


def _bool(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(a).astype(bool))


def radii(metrics: dict) -> list[float]:
    """The radii an evaluation measured, ascending."""
    return sorted(float(k) for k in metrics["worst"])


def at_radius(metrics: dict, attack: str, eps: float) -> float:
    """An evaluation's accuracy under `attack` ("fgsm", "pgd10" or "worst") at radius `eps`."""
    return metrics[attack][number_key(eps)]


def worst(metrics: dict, eps: float = EPS8) -> float:
    """The worst case over every attack at `eps` (8/255 by default)."""
    return at_radius(metrics, "worst", eps)


def overstatement_points(metrics: dict, eps: float) -> float:
    """How many points PGD-10 overstates the worst case by at `eps`, from the two accuracies
    as the tables show them (to one decimal), so that table and prose agree."""
    return half_up(100 * at_radius(metrics, "pgd10", eps)) - half_up(100 * worst(metrics, eps))


def after_members(metrics: dict, eps: float) -> dict[str, float]:
    """The accuracy left after each strong attack in turn at `eps` (the last is the worst
    case), from the images each broke beyond the attacks before it."""
    added = metrics["added"][number_key(eps)]
    left = worst(metrics, eps) * metrics["n"] + sum(added.values())
    out = {}
    for name in metrics["members"][number_key(eps)]:
        left -= added[name]
        out[name] = left / metrics["n"]
    return out


NOISE_NAMES = {"fgsm": "FGSM", "sign": "random signs", "l2": "random ℓ2"}


Measure = tuple[str, str, float | None]  # (label, attack: "clean" or a robust/ array's, radius)


def study_measures(study: Result) -> list[Measure]:
    """The study's compared measures, clean then the worst case per radius."""
    m = study.metrics["models"]["A"]
    return [("clean", "clean", None)] + [(f"worst case {eps_label(e)}", "worst", e)
                                         for e in radii(m)]


def weak_measures(study: Result) -> list[Measure]:
    """FGSM then PGD-10 per radius, the attacks 2.1(d) was asked with."""
    rs = radii(study.metrics["models"]["A"])
    return [(f"{ATTACK_LABELS[attack]} {eps_label(e)}", attack, e)
            for attack in ("fgsm", "pgd10") for e in rs]


def _compare_rows(study: Result, a: str, b: str,
                  measures: list[Measure] | None = None) -> list[dict]:
    """Models `a` and `b` of the study on each measure (default: `study_measures`), paired
    per image: both accuracies and McNemar's test, with the measure's attack and radius."""
    arrays = study.arrays
    rows = []
    for label, attack, eps in study_measures(study) if measures is None else measures:
        key = "clean" if attack == "clean" else f"robust/{attack}/{eps}"
        ca, cb = _bool(arrays[f"{a}/{key}"]), _bool(arrays[f"{b}/{key}"])
        test = mcnemar(ca, cb)
        rows.append({"measure": label, "attack": attack, "eps": eps, "images": len(ca),
                     "acc_a": float(ca.float().mean()), "acc_b": float(cb.float().mean()),
                     **test})
    return rows


def _all_model_metrics(results: dict[str, Result]) -> dict[str, dict]:
    """Every evaluated model of the chapter, by label: the standard model, the study's three
    and the three defences."""
    out = {"standard": results[STANDARD_EVAL].metrics}
    out.update({STUDY_LABELS[k]: m for k, m in results["cifar-study"].metrics["models"].items()})
    out.update({MODEL_LABELS[k]: results[k].metrics for k in DEFENCE_EVALS})
    return out
