"""The CIFAR-10 chapter's computed sentences and facts (prose apart from tables and figures)."""

from __future__ import annotations

import numpy as np

from trustml.core.cache import Result
from trustml.core.keys import number_key
from trustml.core.stats import wilson_interval
from trustml.experiments.cifar import (
    PIXEL,
    REFERENCE_FGSM_EPS,
    REFERENCE_PGD_EPS,
    REFERENCE_STD,
)
from trustml.views.cifar.common import (
    EPS8,
    MODEL_LABELS,
    PARTS,
    _all_model_metrics,
    _compare_rows,
    autoattack_cell,
    eps_label,
)
from trustml.views.format import fmt_int, fmt_list, fmt_pct, fmt_pp, fmt_sci, fmt_seconds


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


def pgd_versus_fgsm(metrics: dict) -> str:
    """Whether PGD is at least as strong as FGSM at every radius measured, in words."""
    radii = sorted(float(k) for k in metrics["pgd"])
    weaker = [e for e in radii if metrics["pgd"][number_key(e)] > metrics["fgsm"][number_key(e)]]
    if not weaker:
        return ("PGD is never weaker than FGSM, as expected of an attack that takes ten steps "
                "along the changing gradient where FGSM takes one.")
    return ("PGD is weaker than FGSM at " + ", ".join(eps_label(e) for e in weaker)
            + ": ten steps of 2.5ε/10 do not always reach the corner FGSM jumps to.")


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
    # what random noise leaves at the largest radius, said once when both print the same
    sign_l, l2_l = out["sign_acc_large"], out["l2_acc_large"]
    out["noise_left_large"] = (f"both leave {sign_l} correct" if sign_l == l2_l else
                               f"{sign_l} and {l2_l} left correct")
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


def augmentation_verdict(study: Result, alpha: float = 0.05) -> str:
    """What augmentation did, measure by measure, from McNemar's test."""
    rows = _compare_rows(study, "A-noaug", "A")
    helped = [r for r in rows if r["p_value"] < alpha and r["b_only"] > r["a_only"]]
    hurt = [r for r in rows if r["p_value"] < alpha and r["b_only"] < r["a_only"]]
    tied = [r for r in rows if r["p_value"] >= alpha]

    def names(rs: list[dict]) -> str:
        return fmt_list(r["measure"] for r in rs)

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
        parts.append(f"A plausible reason, not one measured here, is that the augmented task is "
                     f"harder to fit in {epochs:g} epochs on half the training set.")
    return " ".join(parts)


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


def adversarial_loss_defence_sentence(results: dict[str, Result]) -> str:
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

