"""The exercise-3 view's shared pieces: constants, formatting helpers, what it computes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trustml.core.cache import Result, run_or_load
from trustml.core.keys import number_key
from trustml.core.stats import mcnemar, wilson_interval
from trustml.experiments.adversarial import (
    AUTOATTACK_NAMES,
    CHAPTER,
    DEFENDED_MODELS,
    EVAL_EPS,
    MODELS,
    autoattack_name,
    eval_name,
)
from trustml.views.format import fmt_list
from trustml.views.history import epoch_frame
from trustml.views.table import Table, as_table

MODEL_NAMES = list(MODELS)


# which experiments each part of the exercise runs (the command line's --part)
PARTS = dict(CHAPTER.parts)  # the chapter's parts, as its experiments module declares them


EXPERIMENTS = CHAPTER.experiments


DEFENDED = DEFENDED_MODELS  # part (e) compares these two


# published MNIST results at eps 0.3 (clean, reported robust, AutoAttack), from the AutoAttack
# repository's table (Croce & Hein 2020)
PUBLISHED_PARAMS = {"madry": 3_274_634}  # Madry et al.'s MNIST network (two conv + fc 1024)


PUBLISHED = {
    "PGD training": ("madry2018towards", 98.53, 89.62, 88.43),
    "FGSM-RS training": ("wong2020fast", 98.50, 88.77, 82.88),
    "TRADES": ("zhang2019theoretically", 99.48, 95.60, 92.76),
}


def compute() -> dict[str, Result]:
    """Every experiment of the chapter, one after the other. (Convolutions use both cores well:
    two single-threaded processes side by side measured no faster than one with two threads.)"""
    return {name: run_or_load(name) for name in EXPERIMENTS}


def _styled(df: pd.DataFrame, digits: int = 2) -> Table:
    return as_table(df, digits)


def _short_args(text: str) -> str:
    """A layer's repr as a reader would write it: 'Conv2d(1, 16, kernel_size=(4, 4), stride=(2,
    2), padding=(1, 1))' -> 'convolution 4 × 4, 1 → 16 channels, stride 2, padding 1';
    'Linear(in_features=1568, out_features=100)' -> 'linear, 1,568 → 100'; 'Flatten()' ->
    'flatten'; anything else: its class name."""
    import re

    name, _, inside = text.partition("(")
    numbers = [int(v) for v in re.findall(r"\d+", inside)]
    if name == "Conv2d" and len(numbers) >= 6:
        c_in, c_out, k, _, stride, _, *rest = numbers + [0] * 2
        pad = rest[0] if rest else 0
        return (f"convolution {k} × {k}, {c_in} → {c_out} channels, stride {stride}"
                + (f", padding {pad}" if pad else ""))
    if name == "Linear" and len(numbers) >= 2:
        return f"linear, {numbers[0]:,} → {numbers[1]:,}"
    return name.lower() if name in ("Flatten",) else name


def accuracy_ci(cnn: Result) -> tuple[float, float, float]:
    lo, hi = cnn.metrics["test_acc_ci"]
    return cnn.metrics["test_acc"], lo, hi


def eval_result(results: dict[str, Result], model: str) -> Result:
    return results[eval_name(model)]


def aa_result(results: dict[str, Result], model: str) -> Result:
    return results[autoattack_name(model)]


def accuracies(results: dict[str, Result], model: str, eps: float) -> dict[str, float]:
    """Clean, FGSM, textbook PGD and our PGD on the test set; clean, our PGD and the worst case
    with AutoAttack on the subset; the number of subset images AutoAttack adds.

    `worst` is THE robust accuracy (the worst case over every attack, on the subset); `pgd`
    (our PGD on the whole test set) is an upper bound, shown beside it, never instead of it."""
    e = eval_result(results, model)
    m = e.metrics
    a = aa_result(results, model)
    acc = a.metrics["accuracy"][number_key(eps)]
    n_subset = a.metrics["n"]
    return {"clean": m["clean"], "fgsm": m["fgsm"][number_key(eps)], "pgd_ce": m["pgd_ce"][number_key(eps)],
            "pgd": m["pgd"][number_key(eps)], "subset_pgd": acc["pgd"],
            "subset_clean": float(e.arrays["clean"][:n_subset].astype(bool).mean()),
            "worst": list(acc.values())[-1],  # after the last attack run at this eps
            "added": sum(a.metrics["added"][number_key(eps)].values()), "n": m["n"],
            "n_subset": n_subset}


def autoattack_members(results: dict[str, Result]) -> dict[float, tuple[str, ...]]:
    """Per eps, the attacks of AutoAttack that ran against every model, in their order (read
    from the results: an attack's count of added images is stored only where it ran)."""
    out = {}
    for eps in EVAL_EPS:
        ran = [set(aa_result(results, model).metrics["added"][number_key(eps)])
               for model in MODEL_NAMES]
        out[eps] = tuple(name for name in AUTOATTACK_NAMES if all(name in r for r in ran))
    return out


def full_autoattack_radii(results: dict[str, Result]) -> list[float]:
    """The radii, ascending, at which all four attacks of AutoAttack ran against every model."""
    return [e for e, names in autoattack_members(results).items()
            if len(names) == len(AUTOATTACK_NAMES)]


def radius_sweep(results: dict[str, Result]) -> pd.DataFrame:
    """The PGD defences from the assignment's radius 0.2 to 0.3: one row per model and eps,
    with the share of the first test images still correct after our PGD (`pgd`) and after the
    textbook attack alone (`pgd_ce`), and the model's training radius.

    At a radius the test-set evaluation also ran (0.2 and 0.3), the shares are that
    evaluation's, restricted to the same first images (`source` "evaluation"), so they are the
    very numbers of the AutoAttack subset's "our PGD" column; our PGD draws its random starts
    per batch, so the sweep's own run of the same attack (`source` "sweep", used at the radii
    in between) differs from it by a few images."""
    r = results["ex3-radius-sweep"]
    m = r.metrics
    n = m["n"]
    rows = []
    for model in m["models"]:
        train_eps = results[model].meta["config"]["eps"]
        ours = results.get(eval_name(model))
        for key in m["pgd"][model]:
            eps = float(key)
            row = {"model": model, "label": MODELS[model], "train_eps": train_eps,
                   "eps": eps, "pgd": m["pgd"][model][key],
                   "pgd_ce": m["pgd_ce"][model][key], "clean": m["clean"][model],
                   "source": "sweep"}
            if ours is not None and f"robust/pgd/{eps}" in ours.arrays:
                clean = ours.arrays["clean"][:n].astype(bool)
                row["pgd"] = float(ours.arrays[f"robust/pgd/{eps}"][:n].astype(bool).mean())
                row["pgd_ce"] = float(
                    (clean & ~ours.arrays[f"broken/pgd_ce/{eps}"][:n].astype(bool)).mean())
                row["source"] = "evaluation"
            rows.append(row)
    return pd.DataFrame(rows).sort_values(["model", "eps"], kind="stable").reset_index(drop=True)


def worst_case_ci(results: dict[str, Result], model: str, eps: float
                  ) -> tuple[float, float, float]:
    """Worst case over every attack on the subset, with a 95 % Wilson interval."""
    robust = aa_result(results, model).arrays[f"robust/{eps}"]
    lo, hi = wilson_interval(int(robust.sum()), len(robust))
    return float(robust.mean()), lo, hi


def largest_pgd_gap(results: dict[str, Result]) -> tuple[float, str, float]:
    """The largest difference (on the subset) between our PGD and the worst case over every
    attack: (gap, model label, eps)."""
    gaps = []
    for m in MODEL_NAMES:
        for e in EVAL_EPS:
            a = accuracies(results, m, e)
            gaps.append((a["subset_pgd"] - a["worst"], MODELS[m], e))
    return max(gaps)


def saturated_share(results: dict[str, Result]) -> float:
    """Share of the test images on which the standard model's softmax probability of the true
    class is exactly 1 in float32 (the cross-entropy's gradient loses its true-class term)."""
    return eval_result(results, "mnist-standard-cnn").metrics["saturated"]


def grey_bound() -> float:
    """Largest share of one class in the test set: every test image lies within 0.5 of the
    all-grey image, so at eps 0.5 no classifier can be right on more images than that."""
    from trustml.data import load_mnist

    _, y = load_mnist("test")
    return float(np.bincount(y.numpy()).max() / len(y))


def masked(results: dict[str, Result], min_gap: float = 0.2) -> list[tuple[str, float, float, float]]:
    """(model, eps, FGSM accuracy, PGD accuracy) wherever the single step leaves at least
    `min_gap` more images correct than PGD while the grey bound (at 0.5) or PGD shows the
    images are not robust: the signature of gradient masking."""
    out = []
    for model in MODEL_NAMES[1:]:
        m = eval_result(results, model).metrics
        for e in EVAL_EPS:
            f, p = m["fgsm"][number_key(e)], m["pgd"][number_key(e)]
            if f - p >= min_gap:
                out.append((MODELS[model], e, f, p))
    return out


def training_history(result: Result) -> pd.DataFrame:
    return epoch_frame(result)


def collapse_summary(result: Result) -> dict[str, float]:
    """Best and last held-out PGD accuracy, and the epochs flagged as collapsed."""
    h = training_history(result)
    return {"best": float(h.check_pgd.max()), "best_epoch": int(h.epoch[h.check_pgd.idxmax()]),
            "epochs": len(h), "last": float(h.check_pgd.iloc[-1]),
            "last_clean": float(h.check_clean.iloc[-1]),
            "collapsed_epochs": int(h.collapsed.sum()),
            "first_collapse": int(h.epoch[h.collapsed.astype(bool)].min())
            if h.collapsed.any() else 0}


PAIRED_ON = {"subset, all attacks": lambda eps: f"robust/{eps}",
             "test set, our PGD": lambda eps: f"robust/pgd/{eps}"}


def paired(results: dict[str, Result], eps: float, images: str) -> tuple[float, float, dict]:
    """The two PGD defences (part d, part e) at `eps` on `images` (a key of PAIRED_ON): their
    robust accuracies and McNemar's test on the same images."""
    source = aa_result if images == "subset, all attacks" else eval_result
    a, b = (torch_bool(source(results, model).arrays[PAIRED_ON[images](eps)])
            for model in DEFENDED)
    return float(a.float().mean()), float(b.float().mean()), mcnemar(a, b)


def radii(values) -> str:
    """(0.1, 0.2, 0.3) -> '0.1, 0.2 and 0.3'."""
    return fmt_list(f"{e:g}" for e in values)


def torch_bool(values: np.ndarray):
    import torch

    return torch.from_numpy(np.asarray(values).astype(bool))

