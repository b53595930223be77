"""Exercise 3's tables and figures."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from trustml.core.cache import Result, run_or_load
from trustml.core.keys import number_key
from trustml.core.stats import mcnemar, wilson_interval
from trustml.experiments.adversarial import (
    AUTOATTACK_NAMES,
    CHAPTER,
    EVAL_EPS,
    MODELS,
    autoattack_name,
    eval_name,
)
from trustml.views.format import fmt_int, fmt_pct, fmt_seconds
from trustml.views.history import epoch_frame
from trustml.views.table import Table, as_table

MODEL_NAMES = list(MODELS)
# which experiments each part of the exercise runs (the command line's --part)
PARTS = dict(CHAPTER.parts)  # the chapter's parts, as its experiments module declares them
EXPERIMENTS = CHAPTER.experiments
DEFENDED = ("ex3-pgd-model", "ex3-strong-model")  # part (e) compares these two
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


# ----------------------------------------------------------------------------- evaluations

def eval_result(results: dict[str, Result], model: str) -> Result:
    return results[eval_name(model)]


def aa_result(results: dict[str, Result], model: str) -> Result:
    return results[autoattack_name(model)]


def accuracies(results: dict[str, Result], model: str, eps: float) -> dict[str, float]:
    """Clean, FGSM, textbook PGD and our PGD on the test set; our PGD and the worst case with
    AutoAttack on the subset; the number of subset images AutoAttack adds."""
    m = eval_result(results, model).metrics
    a = aa_result(results, model)
    acc = a.metrics["accuracy"][number_key(eps)]
    return {"clean": m["clean"], "fgsm": m["fgsm"][number_key(eps)], "pgd_ce": m["pgd_ce"][number_key(eps)],
            "pgd": m["pgd"][number_key(eps)], "subset_pgd": acc["pgd"],
            "worst": list(acc.values())[-1],  # after the last attack run at this eps
            "added": sum(a.metrics["added"][number_key(eps)].values()), "n": m["n"],
            "n_subset": a.metrics["n"]}


def worst_case_ci(results: dict[str, Result], model: str, eps: float
                  ) -> tuple[float, float, float]:
    """Worst case over every attack on the subset, with a 95 % Wilson interval."""
    robust = aa_result(results, model).arrays[f"robust/{eps}"]
    lo, hi = wilson_interval(int(robust.sum()), len(robust))
    return float(robust.mean()), lo, hi


def eps_table(results: dict[str, Result], eps: float | None = None,
              models: list[str] | None = None, styled: bool = True):
    """Accuracy (%) on the test set and on the AutoAttack subset: one row per model at `eps`, or
    (`eps=None`) one row per eps for the given models."""
    models = models or MODEL_NAMES
    eps_values = EVAL_EPS if eps is None else (eps,)
    rows = []
    for model in models:
        for e in eps_values:
            a = accuracies(results, model, e)
            row = {"model": MODELS[model]} if len(models) > 1 else {}
            if len(eps_values) > 1:
                row["eps"] = f"{e:g}"
            row.update({"clean": 100 * a["clean"], "FGSM": 100 * a["fgsm"],
                        "PGD, cross-entropy": 100 * a["pgd_ce"], "our PGD": 100 * a["pgd"],
                        "subset: our PGD": 100 * a["subset_pgd"],
                        "subset: all attacks": 100 * a["worst"]})
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
            row = {"model": MODELS[model], "eps": f"{eps:g}",
                   "robust to our PGD": round(acc["pgd"] * a.metrics["n"])}
            added = a.metrics["added"][number_key(eps)]
            row.update({name: added.get(name, "–") for name in AUTOATTACK_NAMES})
            row["robust to all"] = round(list(acc.values())[-1] * a.metrics["n"])
            rows.append(row)
    df = pd.DataFrame(rows)
    return _styled(df, 0) if styled else df


def added_sentence(results: dict[str, Result]) -> str:
    """What AutoAttack found beyond our PGD, in words."""
    total = dict.fromkeys(AUTOATTACK_NAMES, 0)
    for model in MODEL_NAMES:
        for eps in EVAL_EPS:
            for name, k in aa_result(results, model).metrics["added"][number_key(eps)].items():
                total[name] += k
    n_all = sum(total.values())
    gap, label, eps = largest_pgd_gap(results)
    if n_all == 0:
        return ("AutoAttack broke no image that our PGD had left robust, on any model at any "
                "radius.")
    found = ", ".join(f"{name} {k}" for name, k in total.items() if k)
    square = total["Square"]
    square_part = (
        "Square, which runs last, broke none that every gradient attack had missed: no sign of "
        "gradient masking in the models we evaluate at the radii where they are robust."
        if square == 0 else
        f"Square, which runs last, broke {square} that every gradient attack had missed, the "
        "signature of gradient masking where it happens.")
    return (f"Over the {len(MODEL_NAMES)} models and {len(EVAL_EPS)} radii, AutoAttack broke "
            f"{n_all} subset images that our PGD had left robust ({found}); the largest "
            f"difference between our PGD and the worst case over every attack is "
            f"{100 * gap:.1f} percentage points ({label}, ε = {eps:g}). {square_part}")


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


def curve_figure(results: dict[str, Result]) -> Figure:
    """Robust accuracy against eps, one line per model (our PGD on the test set); crosses: the
    worst case over every attack on the subset."""
    fig = Figure(figsize=(6.2, 3.4), layout="constrained")
    ax = fig.subplots()
    for i, model in enumerate(MODEL_NAMES):
        acc = [accuracies(results, model, e) for e in EVAL_EPS]
        xs = [0.0, *EVAL_EPS]
        ax.plot(xs, [100 * acc[0]["clean"]] + [100 * a["pgd"] for a in acc], marker="o", ms=4,
                color=f"C{i}", label=MODELS[model])
        ax.plot(EVAL_EPS, [100 * a["worst"] for a in acc], ls="none", marker="x", ms=7,
                color=f"C{i}")
    ax.axhline(100 * grey_bound(), color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("eps (ℓ∞ radius, pixels in [0, 1])")
    ax.set_ylabel("robust accuracy (%)")
    ax.set_xticks([0.0, *EVAL_EPS])
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=9)
    return fig


def images_figure(results: dict[str, Result], sample: int = 0) -> Figure:
    """One test image attacked (our PGD) at every eps, against every model; the prediction in
    red where it is wrong."""
    models = MODEL_NAMES
    fig = Figure(figsize=(1.2 * (len(EVAL_EPS) + 1), 1.25 * len(models)), layout="constrained")
    axes = fig.subplots(len(models), len(EVAL_EPS) + 1, squeeze=False)
    for r, model in enumerate(models):
        a = eval_result(results, model).arrays
        label = int(a["samples/label"][sample])
        panels = [(a["samples/clean"][sample, 0], int(a["samples/clean_pred"][sample]), "clean")]
        panels += [(a[f"samples/pgd/{e}"][sample, 0], int(a[f"samples/pgd/{e}/pred"][sample]),
                    f"eps {e:g}") for e in EVAL_EPS]
        for c, (img, pred, title) in enumerate(panels):
            ax = axes[r, c]
            ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{title}: {pred}", fontsize=8,
                         color="C3" if pred != label else "black")
            if c == 0:
                ax.set_ylabel(MODELS[model], fontsize=8)
    return fig


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
            "falls with eps": bool(np.all(np.diff(pg) <= 0) and pg[0] <= m["clean"]),
            "PGD ≤ FGSM": all(p <= f for p, f in zip(pg, fg, strict=True)),
            f"PGD ≤ {fmt_pct(bound, 2)} at 0.5": pg[-1] <= bound,
            "PGD at 0.5": fmt_pct(pg[-1], 2),
            "FGSM at 0.5": fmt_pct(fg[-1], 2),
        })
    df = pd.DataFrame(rows)
    if styled:
        return _styled(df.replace({True: "yes", False: "no"}))
    return df


def grey_bound() -> float:
    """Largest share of one class in the test set: every test image lies within 0.5 of the
    all-grey image, so at eps 0.5 no classifier can be right on more images than that."""
    from trustml.data import load_mnist

    _, y = load_mnist("test")
    return float(np.bincount(y.numpy()).max() / len(y))


def failed_checks(results: dict[str, Result]) -> list[str]:
    """'model: check' for every sanity check that fails."""
    table = sanity_checks(results)
    return [f"{row['model']}: {col}" for _, row in table.iterrows()
            for col in table.select_dtypes(bool).columns if not row[col]]


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


def masked_sentence(results: dict[str, Result], min_gap: float = 0.2) -> str:
    """Where FGSM leaves at least `min_gap` more images correct than our PGD, per model, in
    words."""
    found = masked(results, min_gap)
    if not found:
        return (f"No model shows it: FGSM never leaves {100 * min_gap:.0f} percentage points more "
                "images correct than our PGD.")
    by_model: dict[str, list[float]] = {}
    for model, eps, _, _ in found:
        by_model.setdefault(model, []).append(eps)
    worst = max(found, key=lambda item: item[2] - item[3])
    return (f"FGSM leaves at least {100 * min_gap:.0f} percentage points more images correct "
            "than our PGD on " + "; ".join(f"{model} at {radii(e)}" for model, e in
                                            by_model.items())
            + f" (most on {worst[0]} at {worst[1]:g}: FGSM {fmt_pct(worst[2])}, PGD "
            f"{fmt_pct(worst[3])}).")


def rising_fgsm_sentence(results: dict[str, Result]) -> str:
    """Models on which FGSM leaves more images correct at a larger radius (impossible for the
    best attack, whose balls are nested), in words; empty when there is none."""
    found = []
    for model in MODEL_NAMES:
        m = eval_result(results, model).metrics
        for a, b in zip(EVAL_EPS[:-1], EVAL_EPS[1:], strict=True):
            if m["fgsm"][number_key(b)] > m["fgsm"][number_key(a)]:
                found.append(f"{MODELS[model]} ({fmt_pct(m['fgsm'][number_key(a)])} at {a:g}, "
                             f"{fmt_pct(m['fgsm'][number_key(b)])} at {b:g})")
    if not found:
        return ""
    return ("A second symptom: FGSM leaves more images correct at a larger radius than at a "
            "smaller one, impossible for the best attack since the balls are nested, on "
            + "; ".join(found) + ".")


def samples_figure(result: Result, attack: str = "fgsm") -> Figure:
    """Per eps: the clean image, the adversarial image and the perturbation (grey = 0)."""
    a = result.arrays
    n = len(a["samples/label"])
    eps_values = [e for e in EVAL_EPS if f"samples/{attack}/{e}" in a]
    fig = Figure(figsize=(1.25 * n, 0.8 * 3 * len(eps_values)), layout="constrained")
    axes = fig.subplots(3 * len(eps_values), n, squeeze=False)
    for r, eps in enumerate(eps_values):
        adv = a[f"samples/{attack}/{eps}"]
        pred = a[f"samples/{attack}/{eps}/pred"]
        for i in range(n):
            clean, x_adv = a["samples/clean"][i, 0], adv[i, 0]
            panels = [(clean, f"y={a['samples/label'][i]}, pred {a['samples/clean_pred'][i]}"),
                      (x_adv, f"eps {eps:g}: pred {pred[i]}"),
                      ((x_adv - clean) / (2 * eps) + 0.5, "perturbation")]
            for k, (img, title) in enumerate(panels):
                ax = axes[3 * r + k, i]
                ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
                ax.set_title(title, fontsize=8, color="C3" if k == 1
                             and pred[i] != a["samples/label"][i] else "black")
                ax.set_axis_off()
    return fig


# --------------------------------------------------------------------- training curves (c-e)

def training_history(result: Result) -> pd.DataFrame:
    return epoch_frame(result)


def training_figure(results: dict[str, Result]) -> Figure:
    fig = Figure(figsize=(6.2, 3.2), layout="constrained")
    ax = fig.subplots()
    for i, model in enumerate(MODEL_NAMES[1:], start=1):
        h = training_history(results[model])
        cfg = results[model].meta["config"]
        ax.plot(h.epoch, 100 * h.check_pgd, marker="o", ms=3, color=f"C{i}",
                label=f"{MODELS[model]} (trained at {cfg['eps']:g})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("PGD-10 accuracy (%)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=9)
    return fig


def collapse_summary(result: Result) -> dict[str, float]:
    """Best and last held-out PGD accuracy, and the epochs flagged as collapsed."""
    h = training_history(result)
    return {"best": float(h.check_pgd.max()), "best_epoch": int(h.epoch[h.check_pgd.idxmax()]),
            "epochs": len(h), "last": float(h.check_pgd.iloc[-1]),
            "last_clean": float(h.check_clean.iloc[-1]),
            "collapsed_epochs": int(h.collapsed.sum()),
            "first_collapse": int(h.epoch[h.collapsed.astype(bool)].min())
            if h.collapsed.any() else 0}


def plain_fgsm_failure_sentence(result: Result, floor: float = 0.05) -> tuple[str, bool]:
    """How plain FGSM training went, in words, and whether it failed: held-out PGD accuracy
    ending below `floor`, or an epoch flagged as a collapse (more than 20 points below the
    best), or neither."""
    c = collapse_summary(result)
    clean = fmt_pct(c["last_clean"])
    if c["last"] < floor:
        return (f"held-out PGD accuracy rose to at most {fmt_pct(c['best'])} (epoch "
                f"{c['best_epoch']}) and then fell to {fmt_pct(c['last'])} by the last epoch, "
                f"while clean accuracy on the same images ended at {clean}.", True)
    if c["collapsed_epochs"]:
        return (f"held-out PGD accuracy peaked at {fmt_pct(c['best'])} in epoch "
                f"{c['best_epoch']} and then collapsed: from epoch {c['first_collapse']} on it "
                f"fell more than 20 percentage points below that peak, and the last epoch ends "
                f"at {fmt_pct(c['last'])}, while clean accuracy on the same images is {clean}.",
                True)
    return (f"held-out PGD accuracy peaked at {fmt_pct(c['best'])} in epoch {c['best_epoch']} and "
            f"ended at {fmt_pct(c['last'])}: this run did not fail.", False)


# ---------------------------------------------------------------------------- part (e)

PAIRED_ON = {"subset, all attacks": lambda eps: f"robust/{eps}",
             "test set, our PGD": lambda eps: f"robust/pgd/{eps}"}


def paired(results: dict[str, Result], eps: float, images: str) -> tuple[float, float, dict]:
    """The two PGD defences (part d, part e) at `eps` on `images` (a key of PAIRED_ON): their
    robust accuracies and McNemar's test on the same images."""
    source = aa_result if images == "subset, all attacks" else eval_result
    a, b = (torch_bool(source(results, model).arrays[PAIRED_ON[images](eps)])
            for model in DEFENDED)
    return float(a.float().mean()), float(b.float().mean()), mcnemar(a, b)


def paired_tests(results: dict[str, Result], styled: bool = True):
    """PGD training at 0.3 against PGD training (d), per eps: McNemar on the subset (worst case
    over every attack) and on the test set (our PGD)."""
    d_model, e_model = DEFENDED
    rows = []
    for eps in EVAL_EPS:
        for where in PAIRED_ON:
            pa, pb, test = paired(results, eps, where)
            rows.append({"eps": f"{eps:g}", "images": where, MODELS[d_model]: 100 * pa,
                         MODELS[e_model]: 100 * pb,
                         f"only {MODELS[d_model]}": test["a_only"],
                         f"only {MODELS[e_model]}": test["b_only"], "p-value": test["p_value"]})
    df = pd.DataFrame(rows)
    if styled:
        df["p-value"] = df["p-value"].map(lambda p: "< 0.0001" if p < 1e-4 else f"{p:.2g}")
        return _styled(df)
    return df


def verdict(results: dict[str, Result], alpha: float = 0.05) -> str:
    """The part (e) verdict from McNemar's test on the subset (worst case over every attack)."""
    d_model, e_model = DEFENDED
    better, worse, tied = [], [], []
    for eps in EVAL_EPS:
        pa, pb, test = paired(results, eps, "subset, all attacks")
        entry = (eps, test, pa, pb)
        if test["p_value"] < alpha and test["b_only"] > test["a_only"]:
            better.append(entry)
        elif test["p_value"] < alpha:
            worse.append(entry)
        else:
            tied.append(entry)

    def radii_of(entries) -> str:
        return radii([e for e, *_ in entries])

    def pvalue(p: float) -> str:
        return "p < 0.0001" if p < 1e-4 else f"p = {p:.2g}"

    parts = []
    if better:
        detail = "; ".join(f"at {e:g}: {fmt_pct(pb)} against {fmt_pct(pa)} for "
                           f"{MODELS[d_model]}, {pvalue(t['p_value'])}" for e, t, pa, pb in better)
        parts.append(f"PGD training at 0.3 is the stronger defence at {radii_of(better)} under the "
                     f"worst case over every attack ({detail}).")
    if worse:
        detail = "; ".join(f"at {e:g} {fmt_pct(pb)} against {fmt_pct(pa)}, {pvalue(t['p_value'])}"
                           for e, t, pa, pb in worse)
        parts.append(f"It is weaker at {radii_of(worse)} ({detail}): robustness at a larger radius "
                     "was bought with some at the smaller one.")
    if tied:
        parts.append(f"At {radii_of(tied)} the two cannot be told apart on "
                     f"{fmt_int(aa_result(results, d_model).metrics['n'])} images.")
        for eps, *_ in tied:  # the whole test set, our PGD only: more images, weaker attack
            pa, pb, test = paired(results, eps, "test set, our PGD")
            if test["p_value"] < alpha:
                winner = e_model if test["b_only"] > test["a_only"] else d_model
                parts.append(
                    f"On the whole test set under our PGD alone, {MODELS[winner]} keeps more at "
                    f"{eps:g} ({fmt_pct(pa)} for {MODELS[d_model]}, {fmt_pct(pb)} for "
                    f"{MODELS[e_model]}, {pvalue(test['p_value'])}), a difference of "
                    f"{100 * abs(pa - pb):.1f} percentage points.")
    if not better:
        parts.append("It is not the stronger defence at any radius we test.")
    a = aa_result(results, e_model)
    for eps in a.meta["config"]["full_eps"]:
        acc = a.metrics["accuracy"][number_key(eps)]
        n = a.metrics["n"]
        left, added = round(acc["pgd"] * n), sum(a.metrics["added"][number_key(eps)].values())
        held = ("held" if added <= 0.01 * max(left, 1) else "did not fully hold")
        parts.append(f"Attacked harder at {eps:g}, with all four attacks of AutoAttack after our "
                     f"PGD, its robustness {held}: they broke {added} of the {left} subset images "
                     f"our PGD had left robust.")
    return " ".join(parts)


def radii(values) -> str:
    """(0.1, 0.2, 0.3) -> '0.1, 0.2 and 0.3'."""
    text = [f"{e:g}" for e in values]
    return text[0] if len(text) == 1 else ", ".join(text[:-1]) + " and " + text[-1]


def trend_sentences(results: dict[str, Result]) -> str:
    """The trends of the tables, in words chosen for the values."""
    clean = {m: accuracies(results, m, 0.1)["clean"] for m in MODEL_NAMES}
    at3 = {m: accuracies(results, m, 0.3)["worst"] for m in MODEL_NAMES}
    at5 = {m: accuracies(results, m, 0.5)["pgd"] for m in MODEL_NAMES}
    bound = grey_bound()
    cost = clean["mnist-standard-cnn"] - min(clean[m] for m in DEFENDED)
    first = (f"Robustness costs clean accuracy, but little on MNIST: "
             f"{', '.join(f'{fmt_pct(clean[m], 2)} {MODELS[m]}' for m in MODEL_NAMES)} "
             f"(at most {100 * cost:.1f} percentage points for the PGD-trained models).")
    second = (f"At 0.3, the worst case over every attack leaves "
              f"{', '.join(f'{fmt_pct(at3[m])} for {MODELS[m]}' for m in MODEL_NAMES)}.")
    over = [MODELS[m] for m in MODEL_NAMES if at5[m] > bound]
    third = ("At 0.5 our PGD brings every model to or below the grey-image bound, as it must."
             if not over else f"At 0.5 our PGD leaves {', '.join(over)} above the grey-image "
             "bound: the attack is too weak there.")
    return " ".join((first, second, third))


def published_sentence(results: dict[str, Result]) -> str:
    """Our PGD-trained models at 0.3 against Madry et al.'s under AutoAttack, in words."""
    madry = PUBLISHED["PGD training"][3] / 100
    ours = {m: accuracies(results, m, 0.3)["worst"] for m in DEFENDED}
    best = max(ours, key=ours.get)
    robust = aa_result(results, best).arrays["robust/0.3"]
    _, lo, hi = worst_case_ci(results, best, 0.3)
    diff = ours[best] - madry
    relation = ("above" if diff > 0.005 else "below" if diff < -0.005 else "level with")
    drops = [reported - aa for _, _, reported, aa in PUBLISHED.values()][:2]
    return (f"AutoAttack took {drops[0]:.1f} and {drops[1]:.1f} percentage points off their "
            f"reported figures. Our best, {MODELS[best]}, keeps {fmt_pct(ours[best])} under the "
            "worst case over "
            f"every attack, {relation} the {fmt_pct(madry, 2)} of Madry et al.'s model under "
            f"AutoAttack, with a network "
            f"{PUBLISHED_PARAMS['madry'] / results[best].metrics['parameters']:.0f} times smaller "
            f"and trained for {results[best].meta['config']['epochs']} epochs on a 2-core CPU. "
            f"On a subset of {fmt_int(len(robust))} images the 95 % interval of that figure "
            f"runs from {fmt_pct(lo)} to {fmt_pct(hi)}.")


def torch_bool(values: np.ndarray):
    import torch

    return torch.from_numpy(np.asarray(values).astype(bool))


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


def summary(results: Mapping[str, Result]) -> str:
    """Plain-text tables for the command line (`python -m trustml ex3`), of the experiments in
    `results` (name -> result)."""
    by_name = dict(results)
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
    for model in MODEL_NAMES:
        if eval_name(model) in by_name:
            m = by_name[eval_name(model)].metrics
            table = pd.DataFrame({"FGSM": m["fgsm"], "PGD, cross-entropy": m["pgd_ce"],
                                  "our PGD": m["pgd"]}).T * 100
            lines += [f"\n{MODELS[model]}: accuracy (%) on {m['n']:,} test images, "
                      f"clean {fmt_pct(m['clean'], 2)}", table.round(2).to_string()]
        if autoattack_name(model) in by_name:
            a = by_name[autoattack_name(model)].metrics
            table = pd.DataFrame(a["accuracy"]) * 100
            lines += [f"{MODELS[model]}: on the first {a['n']:,} test images, accuracy (%) after "
                      "our PGD and then each attack of AutoAttack", table.round(2).to_string()]
    return "\n".join(lines)
