"""The exercise-3 chapter's tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trustml.core.cache import Result
from trustml.core.keys import number_key
from trustml.experiments.adversarial import (
    AUTOATTACK_NAMES,
    EVAL_EPS,
    MODELS,
)
from trustml.views.adversarial.common import (
    DEFENDED,
    MODEL_NAMES,
    PAIRED_ON,
    PARTS,
    PUBLISHED,
    _short_args,
    _styled,
    aa_result,
    accuracies,
    eval_result,
    grey_bound,
    paired,
    radius_sweep,
)
from trustml.views.format import fmt_pct, fmt_seconds


def architecture_table(cnn: Result, styled: bool = True):
    rows = [{"layer": _short_args(r["layer"]),
             "output shape": " × ".join(f"{v:,}" for v in r["output"]),
             "parameters": f"{r['parameters']:,}"} for r in cnn.metrics["layers"]]
    rows.append({"layer": "total", "output shape": "",
                 "parameters": f"{cnn.metrics['parameters']:,}"})
    df = pd.DataFrame(rows)
    return _styled(df) if styled else df


SUBSET_PGD = "our PGD (subset)"
WORST = "worst case (subset)"


def upper_bound_header(n: int) -> str:
    """The header of our PGD on the whole test set of `n` images: an upper bound, beside the
    worst case, never the headline."""
    return f"our PGD, all {n:,} (upper bound)"


def eps_table(results: dict[str, Result], eps: float | None = None,
              models: list[str] | None = None, styled: bool = True):
    """Accuracy (%): clean, FGSM and the textbook PGD on the test set; our PGD and the worst
    case over every attack (the robust accuracy) on the AutoAttack subset; then our PGD on the
    whole test set, an upper bound. One row per model at `eps`, or (`eps=None`) one row per eps
    for the given models."""
    models = models or MODEL_NAMES
    eps_values = EVAL_EPS if eps is None else (eps,)
    rows = []
    for model in models:
        for e in eps_values:
            a = accuracies(results, model, e)
            row = {"model": MODELS[model]} if len(models) > 1 else {}
            if len(eps_values) > 1:
                row["ε"] = f"{e:g}"
            row.update({"clean": 100 * a["clean"], "FGSM": 100 * a["fgsm"],
                        "textbook PGD": 100 * a["pgd_ce"], SUBSET_PGD: 100 * a["subset_pgd"],
                        WORST: 100 * a["worst"], upper_bound_header(a["n"]): 100 * a["pgd"]})
            rows.append(row)
    df = pd.DataFrame(rows)
    return _styled(df) if styled else df


def added_table(results: dict[str, Result], styled: bool = True):
    """Per model and eps: subset images our PGD leaves robust, how many each attack of AutoAttack
    breaks beyond it (in order), and the images left."""
    rows = []
    for model in MODEL_NAMES:
        a = aa_result(results, model)
        for eps in EVAL_EPS:
            acc = a.metrics["accuracy"][number_key(eps)]
            row = {"model": MODELS[model], "ε": f"{eps:g}",
                   "robust to our PGD": round(acc["pgd"] * a.metrics["n"])}
            added = a.metrics["added"][number_key(eps)]
            row.update({name: added.get(name, "–") for name in AUTOATTACK_NAMES})
            row["robust to all"] = round(list(acc.values())[-1] * a.metrics["n"])
            rows.append(row)
    df = pd.DataFrame(rows)
    return _styled(df, 0) if styled else df


def sanity_checks(results: dict[str, Result], styled: bool = False):
    """Checks that flag a weak attack (they bind the best attack, so a heuristic attack that
    fails one is too weak somewhere), on our PGD: its robust accuracy falls with eps, it leaves
    no more images correct than FGSM, and at eps 0.5 no more than the grey-image bound."""
    rows, bound = [], grey_bound()
    for model in MODEL_NAMES:
        m = eval_result(results, model).metrics
        fg = [m["fgsm"][number_key(e)] for e in EVAL_EPS]
        pg = [m["pgd"][number_key(e)] for e in EVAL_EPS]
        rows.append({
            "model": MODELS[model],
            "falls as ε grows": bool(np.all(np.diff(pg) <= 0) and pg[0] <= m["clean"]),
            "our PGD ≤ FGSM": all(p <= f for p, f in zip(pg, fg, strict=True)),
            f"our PGD ≤ {fmt_pct(bound, 2)} at 0.5": pg[-1] <= bound,
            "our PGD at 0.5": fmt_pct(pg[-1], 2),
            "FGSM at 0.5": fmt_pct(fg[-1], 2),
        })
    df = pd.DataFrame(rows)
    if styled:
        return _styled(df.replace({True: "yes", False: "no"}))
    return df


def paired_tests(results: dict[str, Result], styled: bool = True):
    """PGD training at 0.3 against PGD training (d), per eps: McNemar on the subset (worst case
    over every attack) and on the test set (our PGD)."""
    d_model, e_model = DEFENDED
    rows = []
    for eps in EVAL_EPS:
        for where in PAIRED_ON:
            pa, pb, test = paired(results, eps, where)
            rows.append({"ε": f"{eps:g}", "images": where, MODELS[d_model]: 100 * pa,
                         MODELS[e_model]: 100 * pb,
                         f"only {MODELS[d_model]}": test["a_only"],
                         f"only {MODELS[e_model]}": test["b_only"], "p-value": test["p_value"]})
    df = pd.DataFrame(rows)
    if styled:
        df["p-value"] = df["p-value"].map(lambda p: "< 0.0001" if p < 1e-4 else f"{p:.2g}")
        return _styled(df)
    return df


def published_table(results: dict[str, Result], styled: bool = True):
    """Our models at eps 0.3 beside published MNIST results at the same radius."""
    rows = [{"model": f"{name} [@{key}]", "clean": clean, "reported": reported,
             "AutoAttack": aa} for name, (key, clean, reported, aa) in PUBLISHED.items()]
    for model in ("ex3-fgsm-model", "ex3-pgd-model", "ex3-strong-model"):
        a = accuracies(results, model, 0.3)
        rows.append({"model": f"ours: {MODELS[model]}", "clean": 100 * a["clean"],
                     "reported": 100 * a["pgd"], "AutoAttack": 100 * a["worst"]})
    df = pd.DataFrame(rows)
    return _styled(df) if styled else df


def radius_sweep_table(results: dict[str, Result]):
    """Our PGD against the two PGD defences at the radii between 0.2 and 0.3: accuracy (%) on
    the first test images, one row per model."""
    df = radius_sweep(results)
    table = df.pivot(index="label", columns="eps", values="pgd") * 100
    table.columns = [f"ε = {e:g}" for e in table.columns]
    clean = df.groupby("label")["clean"].first() * 100
    table.insert(0, "clean", clean)
    table = table.loc[[MODELS[m] for m in DEFENDED if MODELS[m] in table.index]]
    table.index.name = "model"
    return _styled(table.reset_index(), 1)


def timing_table(results: dict[str, Result]) -> pd.DataFrame:
    rows = []
    for part, names in PARTS.items():
        for name in names:
            rows.append({"part": part, "experiment": name,
                         "seconds": results[name].meta["elapsed_s"]})
    table = pd.DataFrame(rows)
    table["time"] = table.seconds.map(fmt_seconds)
    return table



# 3(d)'s table: standard / FGSM-RS-AT / PGD-AT(0.25) x clean / FGSM / our PGD, one per eps
GRID_MODELS = ("mnist-standard-cnn", "ex3-fgsm-model", "ex3-pgd-model")


def grid_table(results: dict[str, Result], eps: float):
    """The assignment's 3 x 3 table at one eps: accuracy (%) of the standard, the FGSM-trained
    (with random start) and the PGD-trained model, clean and under FGSM on the test set, the
    worst case over every attack on the subset (the robust accuracy), and our PGD on the whole
    test set beside it (an upper bound)."""
    from trustml.views.table import as_table

    acc = {m: accuracies(results, m, eps) for m in GRID_MODELS}
    n = acc[GRID_MODELS[0]]["n"]
    rows = {"clean": "clean", "fgsm": f"FGSM, ε = {eps:g}",
            "worst": f"worst case, ε = {eps:g} (subset)",
            "pgd": f"our PGD, ε = {eps:g}, all {n:,} (upper bound)"}
    df = pd.DataFrame({MODELS[m]: [100 * acc[m][k] for k in rows] for m in GRID_MODELS},
                      index=list(rows.values()))
    df.index.name = "accuracy (%)"
    return as_table(df.reset_index(), 1)
