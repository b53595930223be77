"""The exercise-4 chapter's computed sentences and facts (prose apart from tables and figures)."""

from __future__ import annotations

from trustml.core.cache import Result
from trustml.privacy.dp_bound import dp_tpr_bound
from trustml.views.format import fmt_list, fmt_pct
from trustml.views.membership.common import (
    attack,
    defences,
    dp_bound_at,
    dp_models,
    sweep,
)

VACUOUS = 0.99  # a guarantee that allows a TPR this high at the FPR asked says nothing


def l2_cost_phrase(result: Result, scarce: float = 0.02) -> str:
    """What the L2 penalty costs in test accuracy over the n sweep, in words that fit the values:
    a real cost where data are scarce is named with its numbers."""
    sw = sweep(result)
    none, l2 = (sw[sw.model == m].set_index("n") for m in ("none", "l2"))
    n_small = int(sw.n.min())
    if none.loc[n_small, "test_acc"] - l2.loc[n_small, "test_acc"] > scarce:
        return (f"it pays for its small gap in test accuracy where data are scarce "
                f"({fmt_pct(l2.loc[n_small, 'test_acc'])} against "
                f"{fmt_pct(none.loc[n_small, 'test_acc'])} without the penalty at n = {n_small})")
    return "it gives up little test accuracy for its small gap"


def dp_guarantee_sentence(result: Result, max_attack: float = 0.55, fpr: float = 0.01) -> str:
    """What the DP guarantee of the most accurate DP-GD model within `max_attack` says about
    attacks not measured here, in words chosen for how informative it is at that epsilon."""
    df = defences(result)
    ok = df[(df["defence"] == "dp") & (df["loss_attack"] <= max_attack)]
    if not len(ok):
        return "No DP-GD model keeps the loss attack that low."
    row = ok.loc[ok["test_acc"].idxmax()]
    bound = float(dp_tpr_bound(fpr, float(row["epsilon"]), result.metrics["dp_delta"]))
    head = (f"Only DP-GD's model carries a guarantee against attacks not measured here, "
            f"TPR ≤ exp(ε)·FPR + δ; at its ε = {row['epsilon']:.1f} ")
    if bound >= VACUOUS:
        return head + (f"that guarantee is vacuous: at {100 * fpr:g} % FPR it allows a TPR of "
                       f"{100 * bound:.0f} %, so its measured privacy is an empirical result, "
                       "like the others'.")
    return head + f"it caps every attack's TPR at {100 * fpr:g} % FPR at {100 * bound:.3g} %."


def lira_answer_phrase(result: Result, fpr: float = 0.01) -> str:
    """For the answer map, after `dp_answer_phrase` (which ends on the least private DP-GD
    model): what online LiRA, the appendix's attack, still finds at `fpr` against that model
    and against the L2 model, in words."""
    key = f"{fpr:g}"
    loose = max(dp_models(result), key=lambda k: result.metrics["attacks"][k]["epsilon"])
    dp_tpr = attack(result, loose, "lira_online")["tpr"][key][0]
    l2_tpr = attack(result, "l2", "lira_online")["tpr"][key][0]
    eps = result.metrics["attacks"][loose]["epsilon"]
    # `dp_answer_phrase` ends on this model only where its guarantee is vacuous
    whose = ("its members" if dp_bound_at(result, loose, fpr) >= VACUOUS
             else f"the members of DP-GD at ε = {eps:.1f}")
    return (f"in an appendix LiRA still finds {fmt_pct(dp_tpr)} of {whose} and "
            f"{fmt_pct(l2_tpr)} of the L2 model's at {100 * fpr:g} % FPR")


def dp_answer_phrase(result: Result, fpr: float = 0.01) -> str:
    """For the answer map: at which of DP-GD's epsilons its guarantee bounds every attack
    meaningfully (a TPR cap at `fpr` below 99 %) and what test accuracy those models keep, and
    where it is vacuous, in words chosen for the values."""
    df = defences(result)
    dp = df[df["defence"] == "dp"].sort_values("epsilon")
    bound = dp["epsilon"].map(lambda e: float(dp_tpr_bound(fpr, float(e),
                                                           result.metrics["dp_delta"])))
    useful, vacuous = dp[bound < VACUOUS], dp[bound >= VACUOUS]

    def span(values, fmt) -> str:
        """Two or three values in the order of their epsilons ('1.1 and 2.2'), a range beyond."""
        shown = [fmt(v) for v in values]
        if len(set(shown)) == 1:
            return shown[0]
        if len(shown) <= 3:
            return fmt_list(shown)
        return f"{fmt(min(values))} to {fmt(max(values))}"

    def eps_text(e: float) -> str:
        return f"{e:.1f}"

    if not len(useful):
        return (f"only DP-GD carries a guarantee against every attack, and at every ε it tried "
                f"(up to {eps_text(dp.epsilon.max())}) the guarantee is vacuous")
    text = (f"only DP-GD bounds every attack, and meaningfully only at ε = "
            f"{span(useful.epsilon, eps_text)} (a TPR of at most "
            f"{span(bound[bound < VACUOUS], lambda b: f'{100 * b:.1f} %')} at {100 * fpr:g} % FPR), "
            f"where test accuracy falls to {span(useful.test_acc, fmt_pct)}"
            + (" respectively" if 1 < len(useful) <= 3 else ""))
    if len(vacuous):
        top = vacuous.loc[vacuous.epsilon.idxmax()]
        text += (f"; at ε = {eps_text(top.epsilon)} (test accuracy {fmt_pct(top.test_acc)}) the "
                 "guarantee is vacuous")
    return text


LIRA_VARIANTS = {"lira_online_fixed": "fixed-variance", "lira_online": "online"}


def leak_verdict(result: Result, fpr: float, variant: str) -> str:
    """'more', 'less' or 'same': whether, to one LiRA variant at `fpr`, the L2 model leaks more or
    less than the unregularised one, said only where the bootstrap intervals do not overlap."""
    l2 = attack(result, "l2", variant)["tpr"][f"{fpr:g}"]
    none = attack(result, "none", variant)["tpr"][f"{fpr:g}"]
    return "more" if l2[1] > none[2] else "less" if l2[2] < none[1] else "same"


def leak_phrase(result: Result, fpr: float) -> str:
    """Whether the L2 model leaks more or less than the unregularised one at `fpr`, compared
    like for like (each LiRA variant against itself), said only as strongly as the bootstrap
    intervals allow."""
    words = {"more": "the L2 model leaks more than the unregularised one, and the intervals do "
                     "not overlap",
             "less": "the L2 model leaks less than the unregularised one, and the intervals do "
                     "not overlap",
             "same": "the two models cannot be told apart at this number of target models (the "
                     "intervals overlap)"}
    verdicts = {v: leak_verdict(result, fpr, v) for v in LIRA_VARIANTS}
    if len(set(verdicts.values())) == 1:
        return "with either variant, " + words[next(iter(verdicts.values()))]
    return "; ".join(f"with the {label} variant {words[verdicts[v]]}"
                     for v, label in LIRA_VARIANTS.items())

