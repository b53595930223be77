"""The exercise-3 chapter's computed sentences and facts (prose apart from tables and figures)."""

from __future__ import annotations

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
    PUBLISHED,
    PUBLISHED_PARAMS,
    aa_result,
    accuracies,
    collapse_summary,
    eval_result,
    full_autoattack_radii,
    grey_bound,
    largest_pgd_gap,
    masked,
    paired,
    radii,
    radius_sweep,
    worst_case_ci,
)
from trustml.views.adversarial.tables import (
    sanity_checks,
)
from trustml.views.format import fmt_count, fmt_int, fmt_list, fmt_pct, half_up


def autoattack_sentence(results: dict[str, Result], short: bool = False) -> str:
    """Which attacks of AutoAttack ran at which radii (read from the results: the two APGD
    attacks everywhere, FAB-T and Square where the configuration ran them), in words; `short`:
    the clause for the two defences, without the attacks' names where all four ran."""
    apgd, others = AUTOATTACK_NAMES[:2], AUTOATTACK_NAMES[2:]
    full = full_autoattack_radii(results)
    if len(full) == len(EVAL_EPS):
        return ("all four attacks of AutoAttack run against both at every radius" if short else
                f"all four of its attacks, {fmt_list(AUTOATTACK_NAMES)}, run at every radius.")
    if short:
        return (f"{fmt_list(apgd)} run against both at every radius, and "
                f"{fmt_list(others)} as well at {radii(full)}" if full else
                f"{fmt_list(apgd)} run against both")
    text = f"its two APGD attacks, {fmt_list(apgd)}, run at every radius"
    if full:
        text += f", and the other two, {fmt_list(others)}, only at ε = {radii(full)}"
    return text + "."


def autoattack_cost_sentence(results: dict[str, Result]) -> str:
    """Where FAB-T and Square ran, in words, after the attacks have been described: nothing to
    excuse where all four ran at every radius."""
    full = full_autoattack_radii(results)
    if len(full) == len(EVAL_EPS):
        return "All four run at every radius, in that order."
    others = fmt_list(AUTOATTACK_NAMES[2:])
    if not full:
        return (f"{others} cost by far the most and do not run here; the two APGD attacks run "
                "at every radius.")
    return (f"{others} cost by far the most, so they run only at ε = {radii(full)}, and the two "
            "APGD attacks at every radius.")


def added_sentence(results: dict[str, Result]) -> str:
    """What AutoAttack found beyond our PGD, in words."""
    total = dict.fromkeys(AUTOATTACK_NAMES, 0)
    square_most = (0, "", 0.0)  # the most images Square alone broke: count, model, radius
    for model in MODEL_NAMES:
        for eps in EVAL_EPS:
            for name, k in aa_result(results, model).metrics["added"][number_key(eps)].items():
                total[name] += k
                if name == "Square" and k > square_most[0]:
                    square_most = (k, model, eps)
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
        f"Square, which runs last, broke {square} that every gradient attack had missed, at "
        f"most {square_most[0]} on one model at one radius ({MODELS[square_most[1]]} at "
        f"{square_most[2]:g}): the gradient misleads on a few images, the signature of gradient "
        "masking on a small scale, which only a gradient-free attack catches.")
    return (f"Over the {len(MODEL_NAMES)} models and {len(EVAL_EPS)} radii, AutoAttack broke "
            f"{n_all} subset images that our PGD had left robust ({found}); the largest "
            f"difference between our PGD and the worst case over every attack is "
            f"{100 * gap:.1f} percentage points ({label}, ε = {eps:g}). {square_part}")


def failed_checks(results: dict[str, Result]) -> list[str]:
    """'model: check' for every sanity check that fails."""
    table = sanity_checks(results)
    return [f"{row['model']}: {col}" for _, row in table.iterrows()
            for col in table.select_dtypes(bool).columns if not row[col]]


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
            + f" (most on {worst[0]} at {worst[1]:g}: FGSM {fmt_pct(worst[2])}, our PGD "
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
            + fmt_list(found) + ".")


def plain_fgsm_failure_sentence(result: Result, floor: float = 0.05) -> tuple[str, bool]:
    """How plain FGSM training went, in words, and whether it failed: held-out PGD accuracy
    ending below `floor`, or an epoch flagged as a collapse (more than 20 points below the
    best), or neither."""
    c = collapse_summary(result)
    clean = fmt_pct(c["last_clean"])
    if c["last"] < floor:
        return (f"held-out PGD-10 accuracy peaked at {fmt_pct(c['best'])} in epoch "
                f"{c['best_epoch']} and then fell to {fmt_pct(c['last'])} by the last epoch, "
                f"while clean accuracy on the same images ended at {clean}.", True)
    if c["collapsed_epochs"]:
        return (f"held-out PGD-10 accuracy peaked at {fmt_pct(c['best'])} in epoch "
                f"{c['best_epoch']} and then collapsed: from epoch {c['first_collapse']} on it "
                f"fell more than 20 percentage points below that peak, and the last epoch ends "
                f"at {fmt_pct(c['last'])}, while clean accuracy on the same images is {clean}.",
                True)
    return (f"held-out PGD-10 accuracy peaked at {fmt_pct(c['best'])} in epoch {c['best_epoch']} and "
            f"ended at {fmt_pct(c['last'])}: this run did not fail.", False)


def _per_radius(values: dict[float, float]) -> str:
    """Shares at radii in words, equal ones said once: '92.8 %, 96.2 % and 57.1 %' (all
    different, in the radii's order), '82.4 % at 0.1 and none at 0.2 or 0.5', '0.0 % at all of
    them' is 'none at any of them'."""
    groups: dict[str, list[float]] = {}
    for eps, value in values.items():
        groups.setdefault("none" if value == 0 else fmt_pct(value), []).append(eps)
    if len(groups) == 1:
        text = next(iter(groups))
        return "none at any of them" if text == "none" else f"{text} at all of them"
    if len(groups) == len(values):
        return fmt_list(groups)
    return fmt_list(f"{text} at {' or '.join(f'{e:g}' for e in where)}"
                    for text, where in groups.items())


def plain_fgsm_asked_sentence(results: dict[str, Result], asked: tuple[float, ...]) -> str:
    """What the plain-FGSM model keeps at the radii the exercise asks for, against FGSM and
    under the worst case over every attack, in one sentence."""
    if not asked:
        raise ValueError("asked: give at least one radius")
    acc = {e: accuracies(results, "ex3-fgsm-plain-model", e) for e in asked}
    where = (f"At the {fmt_count(len(asked))} radii asked, {fmt_list(f'{e:g}' for e in asked)}, "
             if len(asked) > 1 else f"At the radius asked, {asked[0]:g}, ")
    return (where + f"it keeps {_per_radius({e: a['fgsm'] for e, a in acc.items()})} of the test "
            f"images against FGSM, but {_per_radius({e: a['worst'] for e, a in acc.items()})} "
            "under the worst case over every attack.")


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
                    f"{eps:g} ({fmt_pct(pa, 2)} for {MODELS[d_model]}, {fmt_pct(pb, 2)} for "
                    f"{MODELS[e_model]}, {pvalue(test['p_value'])}), a difference of "
                    f"{abs(half_up(100 * pa, 2) - half_up(100 * pb, 2)):.2f} percentage points.")
    if not better:
        parts.append("It is not the stronger defence at any radius we test.")
    parts.append(_attacked_harder(results, e_model))
    return " ".join(p for p in parts if p)


def _attacked_harder(results: dict[str, Result], model: str) -> str:
    """What all four attacks of AutoAttack, after our PGD, took off `model` at the radii where
    all four ran (read from the results), in words; empty where they ran nowhere."""
    a = aa_result(results, model)
    n = a.metrics["n"]
    full = full_autoattack_radii(results)
    if not full:
        return ""
    held, broke, empty = [], [], []
    for eps in full:
        left = round(a.metrics["accuracy"][number_key(eps)]["pgd"] * n)
        added = sum(a.metrics["added"][number_key(eps)].values())
        if left == 0:
            empty.append(eps)
        else:
            (held if added <= 0.01 * left else broke).append((eps, left, added))
    if len(held + broke) == 1:  # one radius to speak of
        eps, left, added = (held + broke)[0]
        text = (f"Attacked harder at {eps:g}, with all four attacks of AutoAttack after our PGD, "
                f"its robustness {'held' if held else 'did not fully hold'}: they broke {added} "
                f"of the {left} subset images our PGD had left robust.")
        if empty:
            text += f" At {radii(empty)} our PGD had already broken every subset image."
        return text
    where = "at every radius" if len(full) == len(EVAL_EPS) else f"at ε = {radii(full)}"
    text = f"Attacked harder, with all four attacks of AutoAttack after our PGD {where}"
    if held or broke:
        verbs = [f"barely moved at {radii(e for e, *_ in held)}"] if held else []
        verbs += [f"did not fully hold at {radii(e for e, *_ in broke)}"] if broke else []
        counts = fmt_list(f"{added} of {left} at {eps:g}"
                          for eps, left, added in sorted(held + broke))
        text += (f", its robustness {' and '.join(verbs)}: of the subset images our PGD had "
                 f"left robust they broke {counts}.")
    else:
        text += ", there was nothing left to attack."
    if empty and (held or broke):
        text += f" At {radii(empty)} our PGD had already broken every subset image."
    return text


def trend_sentences(results: dict[str, Result]) -> str:
    """The trends of the tables, in words chosen for the values."""
    clean = {m: accuracies(results, m, 0.1)["clean"] for m in MODEL_NAMES}
    at3 = {m: accuracies(results, m, 0.3)["worst"] for m in MODEL_NAMES}
    at5 = {m: accuracies(results, m, 0.5)["pgd"] for m in MODEL_NAMES}
    bound = grey_bound()
    cost = clean["mnist-standard-cnn"] - min(clean[m] for m in DEFENDED)
    costliest = min(MODEL_NAMES, key=clean.get)
    first = ("Robustness costs clean accuracy, but little on MNIST: the PGD-trained models lose "
             f"at most {100 * cost:.1f} percentage points against the standard model's "
             f"{fmt_pct(clean['mnist-standard-cnn'], 2)}"
             + (f", and {MODELS[costliest]} loses the most, "
                f"{100 * (clean['mnist-standard-cnn'] - clean[costliest]):.1f} points."
                if costliest not in DEFENDED else "."))
    kept = [m for m in MODEL_NAMES if at3[m] >= 0.1]
    second = (
        "At 0.3 the worst case over every attack leaves less than 10 % of the digits to every "
        "model." if not kept else
        f"At 0.3 only {' and '.join(MODELS[m] for m in kept)} "
        + ("keeps" if len(kept) == 1 else "keep")
        + f" a real share of the digits ({', '.join(fmt_pct(at3[m]) for m in kept)} under the "
        "worst case over every attack); every other model is left with "
        + ("almost none." if max(at3[m] for m in MODEL_NAMES if m not in kept) < 0.02 else
           f"at most {fmt_pct(max(at3[m] for m in MODEL_NAMES if m not in kept))}."))
    over = [MODELS[m] for m in MODEL_NAMES if at5[m] > bound]
    third = ("At 0.5 our PGD brings every model to or below the grey-image bound, as it must."
             if not over else f"At 0.5 our PGD leaves {', '.join(over)} above the grey-image "
             "bound: the attack is too weak there.")
    return " ".join((first, second, third))


def fall_sentence(results: dict[str, Result]) -> str:
    """Where between 0.2 and 0.3 the defence trained at the smaller radius falls against our
    PGD, against its training radius and beside the defence trained at 0.3, in words."""
    df = radius_sweep(results)
    weak_name, strong_name = DEFENDED
    weak, strong = (df[df.model == m].reset_index(drop=True) for m in DEFENDED)
    n = results["ex3-radius-sweep"].metrics["n"]
    drops = weak.pgd.diff().iloc[1:]
    k = int(drops.idxmin())  # the largest fall lies between radii k - 1 and k
    lo, hi = weak.eps[k - 1], weak.eps[k]
    train = weak.train_eps[0]
    label, other = MODELS[weak_name], MODELS[strong_name]
    where = ("just beyond its training radius" if lo >= train - 1e-9 else
             "before its training radius" if hi <= train + 1e-9 else "across its training radius")
    text = (f"On the first {n:,} test images {label} keeps {fmt_pct(weak.pgd[k - 1])} against our "
            f"PGD at {lo:g} and {fmt_pct(weak.pgd[k])} at {hi:g}: the largest fall between "
            f"neighbouring radii comes {where}, {train:g}")
    last = weak.iloc[-1]
    text += (f", and at {last.eps:g} it keeps {fmt_pct(last.pgd)}." if k < len(weak) - 1 else ".")
    s_lo, s_hi = strong.set_index("eps").pgd[lo], strong.set_index("eps").pgd[hi]
    text += f" Over the same step {other} goes from {fmt_pct(s_lo)} to {fmt_pct(s_hi)}."
    if where == "just beyond its training radius":
        text += (" PGD training buys robustness inside the ball it was trained on and little "
                 "beyond it: the model learns to ignore pixel changes up to about its training "
                 "radius, and an attacker allowed a little more gets through.")
    return text


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
            f"and trained for {results[best].meta['config']['epochs']} epochs. "
            f"On a subset of {fmt_int(len(robust))} images the 95 % interval of that figure "
            f"runs from {fmt_pct(lo)} to {fmt_pct(hi)}.")



def masking_sentence(results: dict[str, Result]) -> str:
    """What shows gradient masking and what does not, in words chosen for the values: the
    undefended model's FGSM-PGD gap at 0.1 (a gap alone is no evidence), then the models that
    FGSM leaves above the grey-image bound at 0.5 (which proves FGSM misses examples that
    exist)."""
    std = accuracies(results, "mnist-standard-cnn", 0.1)
    gap = std["fgsm"] - std["pgd"]
    bound = grey_bound()
    above = [(MODELS[m], accuracies(results, m, 0.5)["fgsm"]) for m in MODEL_NAMES
             if accuracies(results, m, 0.5)["fgsm"] > bound]
    first = ("A single step that does worse than many is no evidence of masking by itself: on "
             "the undefended standard model FGSM already leaves "
             f"{100 * gap:.0f} percentage points more images correct than our PGD at ε = 0.1, "
             "because one linear step is a poor attack on a curved loss."
             if gap > 0.05 else
             "On the undefended standard model FGSM and our PGD nearly agree at ε = 0.1.")
    if not above:
        return first + (" Nor does FGSM leave any model above the grey-image bound at ε = 0.5, "
                        "the test that would prove it.")
    worst = max(above, key=lambda a: a[1])
    return (first + " The evidence that FGSM fails is the grey-image bound of part (b): at ε = 0.5 "
            f"no model can keep more than {fmt_pct(bound, 2)} of the test images, yet FGSM "
            + ("leaves " + (f"{worst[0]} at {fmt_pct(worst[1])}" if len(above) == 1 else
                            f"{len(above)} models above it, {worst[0]} at {fmt_pct(worst[1])}"))
            + ". Adversarial examples exist for those images, and the gradient at the image does "
              "not point to them: the loss surface has become so curved near the data that one "
              "step from the image misses them.")
