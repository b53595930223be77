"""The CIFAR-10 chapter's computed sentences and facts (prose apart from tables and figures)."""

from __future__ import annotations

import numpy as np

from trustml.core.cache import Result, own_seconds
from trustml.core.keys import number_key
from trustml.core.stats import wilson_interval
from trustml.experiments.cifar import (
    PIXEL,
    REFERENCE_FGSM_EPS,
    REFERENCE_PGD_EPS,
    REFERENCE_STD,
)
from trustml.views.cifar.common import (
    ATTACK_LABELS,
    DEFENCE_EVALS,
    EPS8,
    MEMBER_LABELS,
    PARTS,
    PGD_EVALS,
    PROSE_LABELS,
    STANDARD_EVAL,
    TRAINING,
    _all_model_metrics,
    _compare_rows,
    after_members,
    at_radius,
    eps_label,
    overstatement_points,
    radii,
    weak_measures,
    worst,
)
from trustml.views.format import (
    fmt_count,
    fmt_int,
    fmt_list,
    fmt_pct,
    fmt_pp,
    fmt_pp_shown,
    fmt_sci,
    fmt_seconds,
    pp_shown,
)


def interval_text(correct: np.ndarray) -> str:
    """'91.2 % (95 % interval 90.6–91.7 %)' for per-image correctness."""
    k, n = int(np.sum(correct)), len(correct)
    lo, hi = wilson_interval(k, n)
    return f"{fmt_pct(k / n)} (95 % interval {100 * lo:.1f}–{fmt_pct(hi)})"


def standard_facts(standard: Result) -> dict[str, str]:
    """Inline values about the standard model."""
    m = standard.meta["config"]
    metr = standard.metrics
    weights = sum(v.numel() * 4 for v in standard.weights["model"].values())
    return {
        "accuracy": interval_text(standard.arrays["correct"]),
        "accuracy_short": fmt_pct(metr["test_accuracy"]),
        "train_accuracy": fmt_pct(metr["train_accuracy"]),
        "epochs": f"{m['recipe']['epochs']:g}",
        "minutes": fmt_seconds(metr["train_seconds"]),
        "images_per_second": fmt_int(metr["images_per_second"]),
        "parameters": fmt_int(metr["parameters"]),
        "weights_mb": f"{weights / 1e6:.1f} MB",
        "widths": "/".join(str(w) for w in m["widths"]),
        "batch": fmt_int(m["recipe"]["batch_size"]),
        "precision": metr["precision"],
    }


def resnet18_cost(results: dict[str, Result], epochs: int = 200) -> dict[str, str]:
    """Why not ResNet-18: its multiply-adds per image against ours, and its training time on
    this CPU extrapolated from the standard training step's throughput that the cost table
    (`cost_table`) shows for ours (same work per multiply-add)."""
    from trustml.core.torch_utils import count_parameters
    from trustml.models.cifar import CifarResNet, multiply_adds, resnet18

    standard = results["cifar-standard"]
    ours = multiply_adds(CifarResNet(tuple(standard.meta["config"]["widths"])))
    theirs_model = resnet18()
    theirs = multiply_adds(theirs_model)
    ratio = theirs / ours
    rate = results["cifar-step-costs"].metrics["images_per_second"]["clean"]
    epoch_s = standard.metrics["n_train"] / (rate / ratio)
    return {"ours": f"{ours / 1e6:.1f} M", "resnet18": f"{theirs / 1e6:.0f} M",
            "ratio": f"{ratio:.1f}",
            "resnet18_parameters": f"{count_parameters(theirs_model) / 1e6:.1f} million",
            "epoch": fmt_seconds(epoch_s), "schedule_epochs": fmt_int(epochs),
            "schedule": f"{epochs * epoch_s / 86400:.1f} days"}


def part_time(results: dict[str, Result], part: str) -> str:
    """The compute time of one part of the question (its experiments other than the standard
    model), from the cache manifests."""
    names = [n for n in PARTS[part] if n != "cifar-standard"]
    return fmt_seconds(sum(own_seconds(results[n].meta) for n in names))


def _members_where(ev: dict) -> tuple[bool, str]:
    """Whether an evaluation ran all four AutoAttack members at every radius, and where it ran
    them, in words."""
    everywhere = set(ev["full_eps"]) == set(ev["eps"])
    return everywhere, ("every radius" if everywhere
                        else fmt_list(eps_label(e) for e in ev["full_eps"]))


def coverage_sentence(standard: dict, defence: dict) -> str:
    """Which AutoAttack members met the standard model and the defences at which radii, from
    their evaluations' configs (the study's models are evaluated as the defences)."""
    std_all, std_where = _members_where(standard)
    def_all, def_where = _members_where(defence)
    if std_all and def_all:
        return "All four AutoAttack members run at every radius on every model."
    first = (f"On the standard model all four AutoAttack members run at {std_where}"
             + ("" if std_all else f", and {fmt_list(standard['off_members'])} at the others"))
    if def_all:
        return first + "; on the defences and the models of 2.1(c–d), at every radius too."
    others = [e for e in defence["eps"] if e not in defence["full_eps"]]
    which = "smaller" if max(others) < min(defence["full_eps"]) else "other"
    return (first + f"; on the defences and the models of 2.1(c–d) all four run at {def_where}, "
            f"and at the {which} radii, where many more images survive and the full ensemble "
            f"would cost several times as much, of the four only "
            f"{fmt_list(defence['off_members'])} run{'s' if len(defence['off_members']) == 1 else ''}.")


def evaluation_facts(attacks: Result, defence: Result) -> dict[str, str]:
    """How every robust accuracy of the chapter is measured, from the evaluations' configs:
    `attacks` the standard model's, `defence` a defence's."""
    ev = attacks.meta["config"]["eval"]
    return {"coverage": coverage_sentence(ev, defence.meta["config"]["eval"]),
            "n": fmt_int(ev["n"]), "pgd_steps": str(ev["pgd_steps"]),
            "ce_steps": str(ev["ce_steps"]), "pgd_targets": str(ev["pgd_targets"]),
            "targeted_steps": str(ev["targeted_steps"]), "apgd_steps": str(ev["apgd_steps"]),
            "fab_steps": str(ev["fab_steps"]), "targets": str(ev["targets"]),
            "square_queries": fmt_int(ev["square_queries"]),
            "radii": fmt_list(eps_label(e) for e in ev["eps"])}


def pgd_versus_fgsm(metrics: dict) -> str:
    """Whether PGD-10 is at least as strong as FGSM at every radius measured, in words."""
    weaker = [e for e in radii(metrics)
              if at_radius(metrics, "pgd10", e) > at_radius(metrics, "fgsm", e)]
    if not weaker:
        return ("PGD-10 is never weaker than FGSM, as expected of an attack that takes ten "
                "steps along the changing gradient where FGSM takes one.")
    return ("PGD-10 is weaker than FGSM at " + fmt_list(eps_label(e) for e in weaker)
            + ": ten steps of 2.5ε/10 do not always reach the corner FGSM jumps to.")


def overstatement(metrics: dict) -> dict[str, str]:
    """Where PGD-10 overstates the worst case most, and by how much (points)."""
    gaps = {e: overstatement_points(metrics, e) for e in radii(metrics)}
    top = max(gaps, key=gaps.get)
    return {"max": f"{gaps[top]:.1f} points", "at": eps_label(top),
            "pgd10": fmt_pct(at_radius(metrics, "pgd10", top)),
            "worst": fmt_pct(worst(metrics, top))}


def standard_attack_facts(attacks: Result) -> dict[str, str]:
    """Inline values of 2.1(a)."""
    m = attacks.metrics
    rs = radii(m)  # the radii from which on no image survives the worst case
    floor = [e for i, e in enumerate(rs) if all(worst(m, r) == 0 for r in rs[i:])]
    out = {"clean": fmt_pct(m["clean"]), "fgsm8": fmt_pct(at_radius(m, "fgsm", EPS8)),
           "pgd8": fmt_pct(at_radius(m, "pgd10", EPS8)), "worst8": fmt_pct(worst(m)),
           "ref_pgd10": fmt_pct(at_radius(m, "pgd10", REFERENCE_PGD_EPS)),
           "ref_worst": fmt_pct(worst(m, REFERENCE_PGD_EPS)),
           "ref_fgsm": fmt_pct(at_radius(m, "fgsm", REFERENCE_FGSM_EPS)),
           "one_worst": fmt_pct(worst(m, PIXEL)),
           "floor": eps_label(floor[0]) if floor else "",
           "versus": pgd_versus_fgsm(m)}
    out.update({f"over_{k}": v for k, v in overstatement(m).items()})
    out["floor_sentence"] = (
        f"From {out['floor']} on, no image of the {fmt_int(m['n'])} survives the worst case."
        if floor else
        f"Even at 8/255 {out['worst8']} of the images survive the worst case.")
    return out


def _signed(x: float, digits: int = 3) -> str:
    """`digits` decimals, with a true minus sign and no negative zero."""
    text = f"{x:.{digits}f}"
    return text.lstrip("-") if text.strip("-0.") == "" else text.replace("-", "−")


def _curvature_growth(run: dict, rs: list[float]) -> str:
    """How random signs' loss increase grows with the radius, against a purely quadratic term,
    in words: from the second-smallest radius (the smallest one's increase is at the level of
    its sampling noise) to the largest."""
    lo, hi = rs[1], rs[-1]
    growth = run[f"sign@{hi}"]["increase"] / run[f"sign@{lo}"]["increase"]
    quadratic = (hi / lo) ** 2
    compare = ("more than" if growth > 1.2 * quadratic else
               "less than" if growth < quadratic / 1.2 else "about")
    return (f"from {eps_label(lo)} to {eps_label(hi)}, {hi / lo:.0f} times the radius, it grows "
            f"{growth:.0f}-fold, {compare} the {quadratic:.0f}-fold of a purely quadratic term")


def noise_facts(noise: Result) -> dict[str, str]:
    """Inline values of 2.1(b): accuracy under each perturbation at a small and at the largest
    radius, and the first-order term against the actual loss increase."""
    m = noise.metrics
    run = m["runs"]
    rs = sorted({float(k.split("@")[1]) for k in run})
    small, large = rs[0], rs[-1]
    out = {"n": fmt_int(m["n"]), "clean": fmt_pct(m["clean"]), "dimension": fmt_int(m["dimension"]),
           "sqrt_d": f"{np.sqrt(m['dimension']):.0f}", "small": eps_label(small),
           "large": eps_label(large)}
    for where, eps in (("small", small), ("large", large)):
        for name in ("fgsm", "sign", "l2"):
            r = run[f"{name}@{eps}"]
            out[f"{name}_acc_{where}"] = fmt_pct(r["accuracy"])
            out[f"{name}_increase_{where}"] = _signed(r["increase"], 2)
            # FGSM's term is compared with the loss increase (2 decimals, as the table); the
            # noises' terms are near zero and need a third
            out[f"{name}_first_{where}"] = _signed(r["first_order"], 2 if name == "fgsm" else 3)
            out[f"{name}_sd_{where}"] = f"{r['first_order_sd']:.3f}"
    fs, fl = run[f"fgsm@{small}"], run[f"fgsm@{large}"]
    # the linear approximation: close where the predicted and actual increases agree within 30 %
    close = abs(fs["first_order"] - fs["increase"]) <= 0.3 * abs(fs["increase"])
    out["first_order_small_verdict"] = "close to" if close else "not close to"
    out["first_order_large_verdict"] = ("overshoots" if fl["first_order"] > 1.3 * fl["increase"]
                                        else "still matches")
    # what random noise leaves at the largest radius, said once when both print the same
    sign_l, l2_l = out["sign_acc_large"], out["l2_acc_large"]
    out["noise_left_large"] = (f"both leave {sign_l} correct" if sign_l == l2_l else
                               f"{sign_l} and {l2_l} left correct")
    # FGSM's sum against random signs' spread: ||g||_1 / ||g||_2 per image, at most sqrt(d)
    out["l1_over_l2_large"] = f"{fl['first_order'] / run[f'sign@{large}']['first_order_sd']:.0f}"
    out["curvature_growth"] = _curvature_growth(run, rs)
    sl = run[f"sign@{large}"]
    out["sign_hurts_large"] = ("does hurt" if m["clean"] - sl["accuracy"] > 0.05
                               else "barely hurts")
    return out


def transfer_facts(study: Result) -> dict[str, str]:
    m = study.metrics
    t = m["transfer"]
    models = m["models"]
    k8 = number_key(EPS8)

    def acc(attack: str, src: str, tgt: str) -> float:
        return t[f"{attack}@{k8}/{src}->{tgt}"]["accuracy"]

    white = np.mean([acc("pgd10", "A", "A"), acc("pgd10", "B", "B")])
    black = np.mean([acc("pgd10", "A", "B"), acc("pgd10", "B", "A")])
    fg_white = np.mean([acc("fgsm", "A", "A"), acc("fgsm", "B", "B")])
    fg_black = np.mean([acc("fgsm", "A", "B"), acc("fgsm", "B", "A")])
    clean = np.mean([models["A"]["clean"], models["B"]["clean"]])
    return {
        "clean_a": fmt_pct(models["A"]["clean"]), "clean_b": fmt_pct(models["B"]["clean"]),
        "epochs": f"{study.meta['config']['model']['recipe']['epochs']:g}",
        "n_train": fmt_int(models["A"]["n_train"]),
        "n": fmt_int(study.meta["config"]["eval"]["n"]),
        "agreement": fmt_pct(m["agreement"]),
        "agreement_wrong": fmt_pct(m["agreement_when_both_wrong"]),
        "cosine": f"{m['gradient_cosine']:.2f}",
        "random_cosine": f"{1 / np.sqrt(3 * 32 * 32):.3f}",
        "sign_agreement": fmt_pct(m["sign_agreement"]),
        "pgd_white": fmt_pct(white), "pgd_black": fmt_pct(black),
        "fgsm_white": fmt_pct(fg_white), "fgsm_black": fmt_pct(fg_black),
        "clean_mean": fmt_pct(clean),
        "pgd_drop_black": fmt_pp_shown(clean, black), "fgsm_drop_black": fmt_pp_shown(clean, fg_black),
        "transfer_order": (
            f"FGSM transfers better than PGD-10 ({fmt_pct(fg_black)} left correct on the other "
            "model, against PGD-10's " + fmt_pct(black) + "), although PGD-10 is far stronger in "
            "white box: its ten steps fit the source model's own loss surface, including its "
            "idiosyncrasies, while FGSM's single step follows the broad direction of the "
            "gradient, which the two models share more." if fg_black < black else
            f"PGD-10 transfers better than FGSM ({fmt_pct(black)} left correct on the other "
            f"model, against FGSM's {fmt_pct(fg_black)}): the stronger white-box attack is also "
            "the stronger transfer attack here."),
    }


def augmentation_weak_sentence(study: Result, alpha: float = 0.05) -> str:
    """Where a weak attack alone credits augmentation with a significant gain that the worst
    case does not show (both models at the floor), or that the weak attacks agree with it."""
    weak = _compare_rows(study, "A-noaug", "A", weak_measures(study))
    strong = {r["eps"]: r for r in _compare_rows(study, "A-noaug", "A") if r["attack"] == "worst"}
    false = [r for r in weak if r["p_value"] < alpha and strong[r["eps"]]["p_value"] >= alpha]
    if not false:
        return ("FGSM and PGD-10 alone tell the same story: wherever they find a significant "
                "difference, so does the worst case.")
    r = false[0]
    name, radius = ATTACK_LABELS[r["attack"]], eps_label(r["eps"])
    s = strong[r["eps"]]
    return (f"A weak attack alone would tell another story: at {radius} {name} credits "
            f"augmentation with {fmt_pp_shown(r['acc_b'], r['acc_a'])} ({fmt_pct(r['acc_a'])} without, "
            f"{fmt_pct(r['acc_b'])} with, p = {r['p_value']:.2g}), where the worst case leaves "
            + (f"both at {fmt_pct(s['acc_a'])}" if fmt_pct(s["acc_a"]) == fmt_pct(s["acc_b"]) else
               f"{fmt_pct(s['acc_a'])} without augmentation, {fmt_pct(s['acc_b'])} with it")
            + ": the gain is in how hard the model is to attack with one step, not in how "
            "robust it is.")


def augmentation_verdict(study: Result, alpha: float = 0.05) -> str:
    """What augmentation did, measure by measure, from McNemar's test, and the train-test gap
    that explains it."""
    rows = _compare_rows(study, "A-noaug", "A")
    helped = [r for r in rows if r["p_value"] < alpha and r["b_only"] > r["a_only"]]
    hurt = [r for r in rows if r["p_value"] < alpha and r["b_only"] < r["a_only"]]
    tied = [r for r in rows if r["p_value"] >= alpha]

    def names(rs: list[dict]) -> str:
        return fmt_list(eps_label(r["eps"]) for r in rs)

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
    adv = [r for r in rows if r is not clean]
    above = [r for r in adv if max(r["acc_a"], r["acc_b"]) >= 0.01]
    floor = [r for r in adv if r not in above]
    adv_helped = [r for r in helped if r in above]
    adv_hurt = [r for r in hurt if r in above]
    adv_tied = [r for r in tied if r in above]
    if adv_helped:
        parts.append("Under the worst case it helped at " + fmt_list(
            f"{names([r])} ({fmt_pct(r['acc_a'])} without, {fmt_pct(r['acc_b'])} with)"
            for r in adv_helped) + ".")
    if adv_hurt:
        parts.append(f"It made the model measurably less robust at {names(adv_hurt)}.")
    if adv_tied:
        parts.append(f"At {names(adv_tied)} the two models cannot be told apart on these images.")
    if floor:
        top = max(max(r["acc_a"], r["acc_b"]) for r in floor)
        parts.append(f"At {names(floor)} both are "
                     + (f"at {fmt_pct(top)}" if top == 0 else f"at the floor (at most {fmt_pct(top)})")
                     + ", where no comparison can show anything.")
    models = study.metrics["models"]
    gap_plain = models["A-noaug"]["train_accuracy"] - models["A-noaug"]["clean"]
    gap_aug = models["A"]["train_accuracy"] - models["A"]["clean"]
    parts.append(f"The train–test gap says why: without augmentation the model classifies "
                 f"{fmt_pct(models['A-noaug']['train_accuracy'])} of its training images "
                 f"correctly and {fmt_pct(models['A-noaug']['clean'])} of the test images, a gap of "
                 f"{fmt_pp(gap_plain)}; with augmentation the gap is {fmt_pp(gap_aug)}"
                 + (" (" + fmt_pct(models["A"]["train_accuracy"]) + " against "
                    + fmt_pct(models["A"]["clean"]) + ")." if gap_aug < gap_plain else
                    ", no smaller."))
    return " ".join(parts)


def augmentation_facts(study: Result, alpha: float = 0.05) -> dict[str, str]:
    """The augmentation comparison in a few words (2.1(d)'s closing sentence and the answer
    map): the radii where augmentation measurably raised the worst case, the largest of them
    with both accuracies, and the radii where both models are at the floor."""
    rows = [r for r in _compare_rows(study, "A-noaug", "A") if r["attack"] == "worst"]
    helped = [r for r in rows if r["p_value"] < alpha and r["b_only"] > r["a_only"]
              and max(r["acc_a"], r["acc_b"]) >= 0.01]
    floor = [r for r in rows if max(r["acc_a"], r["acc_b"]) < 0.01]
    best = max(helped, key=lambda r: r["acc_b"] - r["acc_a"]) if helped else None
    def radii_of(rs: list[dict]) -> str:
        return fmt_list(eps_label(r["eps"]) for r in rs) if rs else ""

    return {"helped": radii_of(helped),
            "best": radii_of([best]) if best else "",
            "best_without": fmt_pct(best["acc_a"]) if best else "",
            "best_with": fmt_pct(best["acc_b"]) if best else "",
            "floor": radii_of(floor)}


def augmentation_closing(study: Result, dimension: int) -> str:
    """2.1(d)'s last sentences: why augmentation of this kind helps only where it does."""
    f = augmentation_facts(study)
    directions = (f"Flips and small translations teach invariance to flips and small "
                  f"translations, a few directions of the image space, while an "
                  f"ℓ∞ attacker has {fmt_int(dimension)} to choose from")
    if not f["helped"]:
        return directions + ": augmentation of this kind is not a defence."
    tail = (f", and at {f['floor']} it leaves both models broken: it is not a defence."
            if f["floor"] else ".")
    return (directions + f". What it buys at {f['helped']} it buys as a regulariser (the "
            "smaller train–test gap)" + tail)


def _flat_fgsm(m: dict, within: float = 0.01) -> str:
    """' Its FGSM accuracy barely changes from r0 to r1 ...' where it stays within `within`
    of its value at the smallest radius over several radii ('' otherwise)."""
    rs = radii(m)
    base = at_radius(m, "fgsm", rs[0])
    flat = [e for e in rs if abs(at_radius(m, "fgsm", e) - base) <= within]
    last = flat[-1] if len(flat) == len([e for e in rs if e <= flat[-1]]) else rs[0]
    if last / rs[0] < 4:
        return ""
    return (f" Its FGSM accuracy barely changes from {eps_label(rs[0])} to {eps_label(last)} "
            f"({fmt_pct(base)} and {fmt_pct(at_radius(m, 'fgsm', last))}), another sign of a "
            "masked gradient rather than of robustness.")


def epoch_gain(history: dict, epochs: float) -> float:
    """How much the held-out PGD-10 accuracy, averaged over each epoch's checks, rose in the
    last epoch (0 with fewer than two epochs of checks): single checks on 500 images vary by a
    few points, so a curve is flat when this is small."""
    steps, pgd = history["check_step"], history["check_pgd"]

    def mean_in(lo: float, hi: float) -> float | None:
        v = [p for s, p in zip(steps, pgd, strict=True) if lo + 1e-9 < s <= hi + 1e-9]
        return float(np.mean(v)) if v else None

    last, before = mean_in(epochs - 1, epochs), mean_in(epochs - 2, epochs - 1)
    return 0.0 if last is None or before is None else last - before


def checks_facts(results: dict[str, Result], key: str) -> dict[str, str]:
    """A defence's in-training checks (`key`: its evaluation experiment): how many, when the
    first and the best came, and whether any was flagged as catastrophic overfitting."""
    training = results[TRAINING[key]]
    h = training.metrics["history"]
    pgd, steps = h["check_pgd"], h["check_step"]
    best = int(np.argmax(pgd))
    epochs = training.metrics["epochs"]
    flagged = [i for i, f in enumerate(h["check_collapsed"]) if f]
    return {"checks": fmt_int(len(pgd)), "first": fmt_pct(pgd[0]), "first_at": f"{steps[0]:.2f}",
            "best": fmt_pct(pgd[best]), "best_at": f"{steps[best]:.2f}", "last": fmt_pct(pgd[-1]),
            "last_clean": fmt_pct(h["check_clean"][-1]),
            "flagged": fmt_int(len(flagged)),
            "first_flagged_at": f"{steps[flagged[0]]:.2f}" if flagged else "",
            "epochs": f"{epochs:g}",
            "n_check": fmt_int(training.meta["config"]["check_n"]),
            "radius": eps_label(training.meta["config"]["defence"]["eps"])}


def overfitting_sentence(results: dict[str, Result]) -> str:
    """2.2(a): what the held-out PGD-10 checks during FGSM fine-tuning show."""
    c = checks_facts(results, "cifar-eval-fgsm")
    h = results["cifar-fgsm-defence"].metrics["history"]
    m = results["cifar-eval-fgsm"].metrics
    fgsm8, pgd8 = at_radius(m, "fgsm", EPS8), at_radius(m, "pgd10", EPS8)
    if max(h["check_pgd"]) < 0.05:
        text = (f"PGD-10 accuracy on the held-out images was near zero at every check, from the "
                f"first one after {c['first_at']} epochs (at most {c['best']}), while the final "
                f"model resists FGSM on {fmt_pct(fgsm8)} of the images and PGD-10 on "
                f"{fmt_pct(pgd8)}. The network became resistant to FGSM without ever becoming robust to "
                "PGD-10, the end state of catastrophic overfitting; with no robust phase to fall "
                "from, no check could flag a drop. In that short fine-tuning it learnt "
                "to make the single FGSM step useless, by bending its loss surface so that the "
                "gradient sign no longer points uphill far enough.")
        return text + _flat_fgsm(m)
    if c["flagged"] != "0":
        return (f"PGD-10 accuracy on the held-out images peaked at {c['best']} after "
                f"{c['best_at']} epochs and then collapsed (the check after {c['first_flagged_at']} "
                f"epochs is more than 20 points below it; the last is {c['last']}), while FGSM "
                f"accuracy of the final model is {fmt_pct(fgsm8)}: catastrophic overfitting, the "
                "network has learnt to make the single FGSM step useless without becoming "
                "robust to a multi-step attack." + _flat_fgsm(m))
    return (f"PGD-10 accuracy on the held-out images never collapsed (its last check is "
            f"{c['last']}, its best {c['best']}); the final model resists FGSM on "
            f"{fmt_pct(fgsm8)} and PGD-10 on {fmt_pct(pgd8)} of the images.")


def defence_sentence(results: dict[str, Result], key: str) -> str:
    """A defence's clean accuracy and its accuracies at 8/255: FGSM, PGD-10 and the worst case."""
    m = results[key].metrics
    return (f"It keeps {fmt_pct(m['clean'])} of the test images clean; at 8/255 FGSM leaves "
            f"{fmt_pct(at_radius(m, 'fgsm', EPS8))}, PGD-10 {fmt_pct(at_radius(m, 'pgd10', EPS8))} "
            f"and the worst case {fmt_pct(worst(m))}.")


def adversarial_loss_defence_sentence(results: dict[str, Result]) -> str:
    """2.2(a): what the FGSM fine-tuning did to clean and robust accuracy at 8/255."""
    s, m = results[STANDARD_EVAL].metrics, results["cifar-eval-fgsm"].metrics
    clean = (f"Clean accuracy falls from {fmt_pct(s['clean'])} to {fmt_pct(m['clean'])}"
             if m["clean"] < s["clean"] - 0.005 else
             f"Clean accuracy stays at {fmt_pct(m['clean'])} (standard model: {fmt_pct(s['clean'])})")
    return (f"{clean}. At 8/255 the fine-tuned model resists FGSM on "
            f"{fmt_pct(at_radius(m, 'fgsm', EPS8))} of the images (the standard model: "
            f"{fmt_pct(at_radius(s, 'fgsm', EPS8))}), PGD-10 on "
            f"{fmt_pct(at_radius(m, 'pgd10', EPS8))} and the worst case on {fmt_pct(worst(m))}.")


def cure_sentence(results: dict[str, Result]) -> str:
    """2.2: what FGSM from a random start changes: its checks and its robustness table."""
    c = checks_facts(results, "cifar-eval-fgsmrs")
    m = results["cifar-eval-fgsmrs"].metrics
    checks = (f"None of its {c['checks']} held-out checks collapsed" if c["flagged"] == "0" else
              f"{c['flagged']} of its {c['checks']} held-out checks were flagged as a collapse, the "
              f"first after {c['first_flagged_at']} epochs")
    return (f"{checks}: PGD-10 accuracy on the held-out images rose from {c['first']} at the "
            f"first check to {c['last']} at the last. {defence_sentence(results, 'cifar-eval-fgsmrs')}"
            f" Below the training radius it holds more: {fmt_pct(worst(m, 2 * PIXEL))} at 2/255 "
            f"and {fmt_pct(worst(m, 4 * PIXEL))} at 4/255.")


MASKED_GAP = 10.0  # points: PGD-10 above the worst case by this much at 8/255 = a masked gradient
SURVIVES = 0.2  # a defence survives if the worst case at 8/255 leaves it at least this


def _clean_before(results: dict[str, Result], key: str) -> bool:
    """Whether a surviving defence before `key` (in the chapter's order) already showed FAB-T and
    Square adding nothing with an unmasked gradient, so that `members_sentence` need not say
    what that means again."""
    real = survivors(results)
    for before in DEFENCE_EVALS[:DEFENCE_EVALS.index(key)]:
        if before not in real:
            continue
        m = results[before].metrics
        added = m["added"][number_key(EPS8)]
        if (added.get("Square", 0) + added.get("FAB-T", 0) == 0
                and overstatement_points(m, EPS8) < MASKED_GAP):
            return True
    return False


def members_sentence(results: dict[str, Result], key: str, again: bool = False) -> str:
    """Which strong attacks broke images of a defence at 8/255 beyond the weak ones and the
    smaller radii, and whether the last two AutoAttack members found anything; `again`: the
    short form, for a defence after the first the chapter describes so."""
    m = results[key].metrics
    added = m["added"][number_key(EPS8)]
    n = m["n"]
    total = sum(added.values())
    parts = [f"{fmt_int(v)} by {MEMBER_LABELS[k]}" for k, v in added.items() if v]
    black_box = added.get("Square", 0) + added.get("FAB-T", 0)
    which = fmt_list(parts) if parts else "none"
    masked = overstatement_points(m, EPS8) >= MASKED_GAP
    # FAB-T and Square found nothing here, as on an earlier defence whose gradient is not masked
    as_before = black_box == 0 and not masked and _clean_before(results, key)
    if again and as_before:
        # said in full for an earlier defence: the count here, the attacks in the appendix
        return (f"The strong attacks break {fmt_int(total)} more at 8/255, FAB-T and Square "
                "again none.")
    text = (f"Here the strong attacks break {fmt_int(total)} more at 8/255 ({which})" if again else
            f"Beyond what FGSM, PGD-10 and the attacks at the smaller radii broke, the strong "
            f"attacks break {fmt_int(total)} more of the {fmt_int(n)} images at 8/255 ({which})")
    if as_before:
        text += "; again FAB-T and Square find nothing beyond the gradient attacks"
    elif black_box == 0:
        text += "; FAB-T and the gradient-free Square attack find nothing the gradient attacks missed"
        if not masked:
            text += ", a sign that the gradients are not masked"
    elif masked and added.get("Square", 0):
        text += ("; a gradient-free attack, Square, that succeeds where every gradient attack "
                 "failed is the mark of a masked gradient")
    elif masked:
        text += ("; FAB-T, which walks to the nearest decision boundary instead of climbing the "
                 "loss, succeeding where the loss-climbing attacks failed points to a masked "
                 "gradient")
    else:
        text += ("; what FAB-T and the gradient-free Square attack add is a small share, but a "
                 "reminder that gradient attacks alone are not the worst case")
    return text + "."


def survivors(results: dict[str, Result]) -> list[str]:
    """The defences (evaluation keys) that keep at least `SURVIVES` under the worst case at
    8/255."""
    return [k for k in DEFENCE_EVALS if worst(results[k].metrics) >= SURVIVES]


def _span(values: list[float], fmt) -> str:
    """'33.2 to 36.0 %' for several values (one when they show alike), in `fmt`."""
    lo, hi = fmt(min(values)), fmt(max(values))
    return lo if lo == hi else f"{lo.removesuffix(' %')} to {hi}"


def _count(items) -> str:
    return fmt_count(len(items))


def tradeoff_sentence(results: dict[str, Result]) -> str:
    """2.2(b): what the defences paid in clean accuracy and what they bought under the worst
    case, those that survive it together, the others one by one."""
    s = results[STANDARD_EVAL].metrics
    text = (f"Measured against the standard model ({fmt_pct(s['clean'])} clean; "
            f"{fmt_pct(worst(s))} at 8/255 and {fmt_pct(worst(s, PIXEL))} at 1/255), ")
    real = survivors(results)
    text += _paid(results, PIXEL) + "."
    if real:
        beaten = [e for e in radii(s) if all(worst(results[k].metrics, e) > worst(s, e)
                                             for k in real)]
        if beaten == radii(s):
            subject = "It beats" if len(real) == 1 else (
                "Both beat" if len(real) == 2 else f"All {_count(real)} beat")
            text += (f" {subject} the standard model at every radius measured, from "
                     f"{eps_label(beaten[0])} on: the clean accuracy given up buys robustness "
                     "at every radius above zero.")
    return text


def _paid(results: dict[str, Result], also: float | None = None, others: bool = True) -> str:
    """What the defences gave up in clean accuracy against the standard model and kept under the
    worst case at 8/255 (and at `also`): those that survive together, the others one by one
    (unless `others` is false and some survive)."""
    s = results[STANDARD_EVAL].metrics
    real = survivors(results)
    failed = [k for k in DEFENCE_EVALS if k not in real]

    def paid(key: str) -> str:
        m = results[key].metrics
        return (f"the {PROSE_LABELS[key]} gives up {fmt_pp_shown(s['clean'], m['clean'])} for "
                f"{fmt_pct(worst(m))} at 8/255")

    if not real:
        return fmt_list(paid(k) for k in failed)
    ms = [results[k].metrics for k in real]
    drops = [pp_shown(s["clean"], m["clean"]) for m in ms]
    lo, hi = min(drops), max(drops)
    cost = f"{lo:.1f} percentage points" if lo == hi else f"{lo:.1f} to {hi:.1f} percentage points"
    who = ("the defence that survives the worst case gives" if len(real) == 1 else
           f"the {_count(real)} defences that survive the worst case give")
    text = (f"{who} up {cost} of clean accuracy and keep "
            f"{_span([worst(m) for m in ms], fmt_pct)} at 8/255")
    if also is not None:
        text += f" and {_span([worst(m, also) for m in ms], fmt_pct)} at {eps_label(also)}"
    return text + ("; " + fmt_list(paid(k) for k in failed) if failed and others else "")


def _tradeoff_summary(results: dict[str, Result]) -> str:
    """The answer map's 2.2(b): the trade-off in one line (the defences that survive)."""
    text = _paid(results, others=False)
    if survivors(results):
        return "Robustness costs clean accuracy: " + text
    return text[0].upper() + text[1:]


def curve_sentence(results: dict[str, Result]) -> str:
    """2.2(b): what the curve figure shows of the trade-off, for the defences that survive."""
    real = survivors(results)
    if not real:
        return ("no defence's worst case stays well above the standard model's beyond the "
                "smallest radii.")
    names = fmt_list(f"the {PROSE_LABELS[k]}" for k in real)
    verb = ("starts", "falls") if len(real) == 1 else ("start", "fall")
    return (f"{names} {verb[0]} lower at ε = 0 and {verb[1]} far more slowly than the "
            "standard model.")


def _held_out_curve(results: dict[str, Result], key: str, brief: bool = False) -> str:
    """A defence's held-out PGD-10 curve (flattened or still rising) and its worst case;
    `brief`: the short form, for a defence after the first the chapter describes so."""
    c = checks_facts(results, key)
    training = results[TRAINING[key]].metrics
    gain = epoch_gain(training["history"], training["epochs"])
    flat = abs(gain) < 0.02
    pgd = training["history"]["check_pgd"]
    verb = "rose" if pgd[-1] > pgd[0] else "fell" if pgd[-1] < pgd[0] else "ended where it began,"
    if brief:
        change = (f"added {fmt_pp(gain)}" if gain >= 0 else f"lost {fmt_pp(-gain)}")
        shape = ("flattened" if flat else "was still rising" if gain > 0 else
                 "was still falling")
        return (f"Its held-out PGD-10 accuracy {verb} from {c['first']} to {c['last']} and "
                f"{shape} (the last epoch {change}). {defence_sentence(results, key)}")
    return (f"Its held-out PGD-10 accuracy {verb} from {c['first']} at the first check to "
            f"{c['last']} at the last; averaged over each epoch's checks, the last epoch "
            + (f"added {fmt_pp(gain)}" if gain >= 0 else f"lowered it by {fmt_pp(-gain)}")
            + ((", within the noise of checks on "
                f"{fmt_int(results[TRAINING[key]].meta['config']['check_n'])} images, so the "
                "curve has flattened") if flat and abs(gain) >= 0.005 else
               ", so the curve has flattened" if flat else
               ", so it was still rising" if gain > 0 else ", so it was still falling")
            + f". {defence_sentence(results, key)}")


def pgd_defence_sentence(results: dict[str, Result]) -> str:
    """2.3(a): the one-pass PGD defence's checks and robustness, and whether its checks were
    fooled."""
    text = _held_out_curve(results, "cifar-eval-pgd")
    m = results["cifar-eval-pgd"].metrics
    h = results["cifar-pgd-defence"].metrics["history"]
    if "cifar-eval-pgd" in survivors(results):
        return text
    text += (f" The curve measured PGD-10's weakness, not robustness: PGD-10 overstates the "
             f"worst case at 8/255 by {overstatement_points(m, EPS8):.1f} points, and the "
             f"clean accuracy on the held-out images rose during training with it, from "
             f"{fmt_pct(h['check_clean'][0])} to {fmt_pct(h['check_clean'][-1])}, where a defence "
             "that becomes robust pays for it in clean accuracy.")
    rs = radii(m)
    pairs = [(at_radius(m, "pgd10", b) - at_radius(m, "pgd10", a), a, b)
             for i, a in enumerate(rs) for b in rs[i + 1:]]
    rise, small, large = max(pairs)
    if rise > 0.01:
        text += (f" PGD-10 even leaves more images correct at {eps_label(large)} "
                 f"({fmt_pct(at_radius(m, 'pgd10', large))}) than at {eps_label(small)} "
                 f"({fmt_pct(at_radius(m, 'pgd10', small))}), although the larger ball contains "
                 "the smaller.")
    s_m = results[STANDARD_EVAL].metrics
    if worst(m, rs[0]) < worst(s_m, rs[0]):
        text += (f" At {eps_label(rs[0])} the worst case leaves it less robust than the standard "
                 f"model ({fmt_pct(worst(m, rs[0]))} against {fmt_pct(worst(s_m, rs[0]))}).")
    steps = results["cifar-pgd-defence"].meta["config"]["defence"]["pgd_steps"]
    return text + (f" Trained against {steps}-step PGD, the network learnt to defeat that "
                   "attack, as the FGSM defence learnt to defeat FGSM, without becoming robust: "
                   "a masked gradient, the failure an evaluation by the training attack alone "
                   "cannot see.")


def halves_sentence(results: dict[str, Result]) -> str:
    """2.3(a) mended: the two-pass PGD defence's checks and robustness, against the one-pass
    defence it differs from only in its batch statistics."""
    key = "cifar-eval-pgd-halves"
    one, two = results["cifar-eval-pgd"].metrics, results[key].metrics
    text = _held_out_curve(results, key, brief=True)
    gap_one, gap_two = overstatement_points(one, EPS8), overstatement_points(two, EPS8)
    text += (f" Against the one-pass defence, the worst case at 8/255 goes from "
             f"{fmt_pct(worst(one))} to {fmt_pct(worst(two))}, and PGD-10's overstatement of it "
             f"from {gap_one:.1f} to {gap_two:.1f} points")
    if key in survivors(results) and gap_two < MASKED_GAP:
        return text + (": with its own batch statistics for each half, the same examples and "
                       "the same loss train a robust network, and PGD-10 on the held-out images "
                       "now tracks robustness instead of its own weakness.")
    if key in survivors(results):
        return text + (": it survives the worst case, but PGD-10 still overstates it by more "
                       f"than {MASKED_GAP:.0f} points, a sign that part of its gradient is "
                       "masked.")
    return text + ": separate batch statistics are not enough for a defence here."


def _epochs(x: float) -> str:
    """'1 epoch', '1.5 epochs'."""
    return f"{x:g} epoch" + ("" if x == 1 else "s")


def _recovered_at(history: dict, share: float = 0.2) -> float | None:
    """The first check (in epochs) whose held-out PGD-10 accuracy reaches `share` (None if
    none does)."""
    return next((step for step, p in zip(history["check_step"], history["check_pgd"],
                                         strict=True) if p >= share), None)


def radius_sentence(results: dict[str, Result]) -> str:
    """2.3(a) at a larger radius: the two-pass PGD defence trained at its own radius (larger
    than 8/255) against the one trained at 8/255, both checked and evaluated at 8/255."""
    key, base = "cifar-eval-pgd-halves-11", "cifar-eval-pgd-halves"
    small, large = results[base].metrics, results[key].metrics
    gain = pp_shown(worst(large), worst(small))
    cost = pp_shown(small["clean"], large["clean"])
    h = results[TRAINING[key]].metrics["history"]
    low = int(np.argmin(h["check_clean"]))
    text = ""
    if h["check_clean"][low] < 0.5 * h["check_clean"][-1]:
        recovered = _recovered_at(h)
        text = (f"The larger ball first broke the network: after {_epochs(h['check_step'][low])}"
                f" it classified only {fmt_pct(h['check_clean'][low])} of the held-out "
                f"images correctly (PGD-10: {fmt_pct(h['check_pgd'][low])}), and "
                + (f"it took until the check after {_epochs(recovered)} to hold a fifth of them "
                   "under PGD-10. " if recovered is not None else
                   "no later check held a fifth of them under PGD-10. "))
    text += _held_out_curve(results, key, brief=True)
    text += (f" Against the same defence trained at 8/255 ({fmt_pct(worst(small))} under the "
             f"worst case, {fmt_pct(small['clean'])} clean), ")
    if gain > 0 and cost > 0:
        text += (f"the larger radius buys {gain:.1f} points of robustness at 8/255 for "
                 f"{cost:.1f} points of clean accuracy: the trade-off of (b), set by the training "
                 "radius.")
    elif gain > 0:
        text += (f"the larger radius buys {gain:.1f} points of robustness at 8/255 at no cost in "
                 "clean accuracy.")
    else:
        text += "the larger radius does not buy robustness at 8/255 here."
    return text + (f" PGD-10 overstates its worst case by "
                   f"{overstatement_points(large, EPS8):.1f} points.")


def cost_facts(results: dict[str, Result]) -> dict[str, str]:
    """2.3(c): the step costs and the attack costs, measured side by side."""
    sc = results["cifar-step-costs"].metrics
    rate = sc["images_per_second"]
    a = sc["attack_seconds_per_image"]
    return {"fgsm_mix": fmt_int(rate["fgsm_mix"]), "fgsm_rs": fmt_int(rate["fgsm_rs"]),
            "pgd": fmt_int(rate["pgd_append"]), "pgd_halves": fmt_int(rate["pgd_halves"]),
            "clean": fmt_int(rate["clean"]),
            "pgd_vs_fgsmrs": f"{rate['fgsm_rs'] / rate['pgd_halves']:.1f}",
            "pgd_vs_mix": f"{rate['fgsm_mix'] / rate['pgd_append']:.1f}",
            "mix_vs_rs": f"{rate['fgsm_rs'] / rate['fgsm_mix']:.1f}",
            "attack_fgsm_ms": f"{1000 * a['fgsm']:.2f}",
            "attack_early_ms": f"{1000 * a['early_stop']:.2f}",
            "attack_full_ms": f"{1000 * a['full']:.2f}",
            "attack_early_ratio": f"{a['early_stop'] / a['fgsm']:.1f}",
            "attack_full_ratio": f"{a['full'] / a['fgsm']:.1f}",
            "precision": sc["precision"],
            "pgd_steps": str(results["cifar-pgd-defence"].meta["config"]["defence"]["pgd_steps"])}


def defences_verdict(results: dict[str, Result]) -> str:
    """2.3(c): which attack was stronger everywhere, and which defence survives at 8/255."""
    models = _all_model_metrics(results)
    weaker = [name for name, m in models.items()
              if any(at_radius(m, "pgd10", e) > at_radius(m, "fgsm", e) for e in radii(m))]
    first = ("PGD-10 was the stronger white-box attack on every model and at every radius of "
             "this chapter, and only a multi-step attack exposed the FGSM defence." if not weaker
             else f"PGD-10 was the weaker white-box attack somewhere on {fmt_list(weaker)}.")
    held = {PROSE_LABELS[k]: worst(results[k].metrics) for k in DEFENCE_EVALS}
    real = [PROSE_LABELS[k] for k in survivors(results)]
    failed = [name for name in held if name not in real]
    kept = _span([held[name] for name in real], fmt_pct) if real else ""
    others = fmt_list(f"the {name} {fmt_pct(held[name])}" if i else
                      f"the {name} keeps {fmt_pct(held[name])}" for i, name in enumerate(failed))
    if not real:
        second = f"Under the worst case at 8/255 none survives: {others}."
    elif not failed:
        second = f"Under the worst case at 8/255 all {_count(held)} defences survive ({kept})."
    else:
        second = (f"Under the worst case at 8/255 only {fmt_list(f'the {name}' for name in real)} "
                  f"survive{'s' if len(real) == 1 else ''} ({kept}); {others}.")
    return f"{first} {second}"


def fgsm_rs_against_pgd(results: dict[str, Result]) -> tuple[str, str]:
    """The most robust PGD defence (its evaluation key) and how FGSM-RS compares with it under
    the worst case at 8/255, as the prose shows them: "tie" (the same shown percentage),
    "fgsm_rs" (FGSM-RS more robust) or "pgd"."""
    pgd_key = max(PGD_EVALS, key=lambda k: worst(results[k].metrics))
    rs, pg = worst(results["cifar-eval-fgsmrs"].metrics), worst(results[pgd_key].metrics)
    return pgd_key, "tie" if fmt_pct(rs) == fmt_pct(pg) else "fgsm_rs" if rs > pg else "pgd"


def advice_sentence(results: dict[str, Result]) -> str:
    """2.3(c): which attack and which defence to use, from the robustness and the step costs
    measured (FGSM-RS against the best PGD defence, each with its clean accuracy)."""
    rate = results["cifar-step-costs"].metrics["images_per_second"]
    fgsm_rs = results["cifar-eval-fgsmrs"].metrics
    pgd_key, order = fgsm_rs_against_pgd(results)
    pgd = results[pgd_key].metrics
    ratio = rate["fgsm_rs"] / rate[PGD_EVALS[pgd_key]]
    best = f"the {PROSE_LABELS[pgd_key]}, the best of the {_count(PGD_EVALS)} PGD defences"
    clean = (f"{fmt_pct(fgsm_rs['clean'])} clean against {fmt_pct(pgd['clean'])}")
    cost = f"an epoch of PGD training costs {ratio:.1f} times one of FGSM-RS"
    text = ("So, as attacks, FGSM is for a quick look and PGD, with the strong attacks beside it, "
            "for the number one reports. As defences, ")
    rs, pg = worst(fgsm_rs), worst(pgd)
    if order == "tie":
        kept = (f"FGSM from a random start kept as many images under the worst case at 8/255 as "
                f"{best} ({fmt_pct(rs)} each), at {clean}, and {cost}")
    elif order == "fgsm_rs":
        kept = (f"FGSM from a random start kept {fmt_pct(rs)} under the worst case at 8/255, "
                f"{fmt_pp_shown(rs, pg)} more than {best} ({fmt_pct(pg)}), at {clean}, and {cost}")
    else:
        return text + (f"{best} kept {fmt_pct(pg)} under the worst case at 8/255 against "
                       f"{fmt_pct(rs)} for FGSM from a random start: {fmt_pp_shown(pg, rs)} more, "
                       f"for {ratio:.1f} times the cost per epoch; FGSM-RS is the cheap "
                       "baseline, PGD training the one to pay for when the points matter.")
    return text + (kept + ": at this compute the one-step defence is the better buy, provided it "
                   "starts at random and held-out checks watch for a collapse.")


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


def reference_reading() -> dict[str, str]:
    return {"std": f"{REFERENCE_STD:.4f}", "fgsm": eps_label(REFERENCE_FGSM_EPS),
            "pgd": eps_label(REFERENCE_PGD_EPS)}


def after_members_text(metrics: dict, eps: float = EPS8) -> str:
    """'41.0 % after our PGD (CE), ... , 36.0 % after Square' (the prefix accuracies)."""
    return fmt_list(f"{fmt_pct(v)} after {MEMBER_LABELS[k]}"
                    for k, v in after_members(metrics, eps).items())


# each defence's prefix in the answer map's values
_ANSWER_KEYS = {"cifar-eval-fgsm": "fgsm", "cifar-eval-fgsmrs": "fgsmrs", "cifar-eval-pgd": "pgd",
                "cifar-eval-pgd-halves": "halves", "cifar-eval-pgd-halves-11": "halves11"}


def answer_facts(results: dict[str, Result]) -> dict[str, str]:
    """The answer map's values (index): the headline number of each item."""
    s = results[STANDARD_EVAL].metrics
    out = {"standard_clean": fmt_pct(s["clean"]), "standard_one": fmt_pct(worst(s, PIXEL)),
           "standard_pgd10_one": fmt_pct(at_radius(s, "pgd10", PIXEL)),
           "standard_worst8": fmt_pct(worst(s))}
    for key, short in _ANSWER_KEYS.items():
        m = results[key].metrics
        out[f"{short}_clean"] = fmt_pct(m["clean"])
        out[f"{short}_clean_drop"] = fmt_pp_shown(s["clean"], m["clean"])
        out[f"{short}_fgsm8"] = fmt_pct(at_radius(m, "fgsm", EPS8))
        out[f"{short}_pgd8"] = fmt_pct(at_radius(m, "pgd10", EPS8))
        out[f"{short}_worst8"] = fmt_pct(worst(m))
    out["tradeoff"] = _tradeoff_summary(results)
    pgd_key, order = fgsm_rs_against_pgd(results)
    more = fmt_pp_shown(worst(results[pgd_key].metrics), worst(results["cifar-eval-fgsmrs"].metrics))
    out["buy"] = {
        "tie": "as a defence FGSM-RS is the better buy, as robust as the best PGD defence",
        "fgsm_rs": "as a defence FGSM-RS is the better buy, more robust than any PGD defence",
        "pgd": f"PGD training buys {more} more robustness than FGSM-RS",
    }[order]
    out["pgd_verdict"] = ("" if "cifar-eval-pgd" in survivors(results) else
                          ": a masked gradient")
    out["halves_verdict"] = (
        "A forward pass per half (each its own batch-norm statistics) defends:"
        if "cifar-eval-pgd-halves" in survivors(results) else
        "A forward pass per half (each its own batch-norm statistics) still fails:")
    aug = augmentation_facts(results["cifar-study"])
    out["augmentation"] = (
        f"Augmentation raises the worst case only at small radii (at {aug['best']}: "
        f"{aug['best_without']} without, {aug['best_with']} with)"
        + (f"; at {aug['floor']} both models are broken" if aug["floor"] else "")
        if aug["helped"] else "Flip and translate augmentation does not measurably change the "
        "worst case at any radius")
    out["pgd_vs_fgsmrs"] = cost_facts(results)["pgd_vs_fgsmrs"]
    return out
