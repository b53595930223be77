"""The CIFAR-10 chapter's robust accuracies come from the committed per-image arrays, and obey
the worst case's rules: never above a weak attack, never rising with the radius."""

from __future__ import annotations

import numpy as np
import pytest

from trustml.core.keys import number_key
from trustml.views.format import half_up

EVALUATED = ("cifar-attacks", "cifar-attacks-autoattack", "cifar-eval-fgsm", "cifar-eval-fgsmrs",
             "cifar-eval-pgd", "cifar-eval-pgd-halves", "cifar-eval-pgd-halves-11")


@pytest.fixture(scope="module")
def results():
    import os

    os.environ.pop("TRUSTML_CACHE", None)
    previous = os.environ.get("TRUSTML_BUDGET")
    os.environ["TRUSTML_BUDGET"] = "full"
    try:
        from trustml.views import cifar as view

        yield view.compute()
    finally:
        if previous is None:
            os.environ.pop("TRUSTML_BUDGET", None)
        else:
            os.environ["TRUSTML_BUDGET"] = previous


def _evaluations(results):
    out = [(key, results[key].metrics, results[key].arrays, "") for key in EVALUATED]
    for name, m in results["cifar-study"].metrics["models"].items():
        out.append((f"study {name}", m, results["cifar-study"].arrays, f"{name}/"))
    return out


def test_every_robust_number_is_the_mean_of_its_per_image_array(results):
    from trustml.views import cifar as view

    for label, m, arrays, prefix in _evaluations(results):
        below = None
        for eps in view.radii(m):
            robust = {a: arrays[f"{prefix}robust/{a}/{eps}"].astype(bool)
                      for a in ("fgsm", "pgd10", "worst")}
            for attack, r in robust.items():
                assert len(r) == m["n"], label
                assert m[attack][number_key(eps)] == pytest.approx(r.mean()), (label, attack, eps)
            # the worst case never keeps an image a weak attack broke, nor one a smaller radius lost
            assert not (robust["worst"] & ~robust["fgsm"]).any(), (label, eps)
            assert not (robust["worst"] & ~robust["pgd10"]).any(), (label, eps)
            if below is not None:
                assert not (robust["worst"] & ~below).any(), (label, eps)
            below = robust["worst"]
            # the accuracy left after the last strong attack is the worst case
            left = view.after_members(m, eps)
            assert list(left.values())[-1] == pytest.approx(m["worst"][number_key(eps)]), label
            assert all(a >= b - 1e-12 for a, b in zip(left.values(), list(left.values())[1:],
                                                         strict=False)), label


def test_all_four_autoattack_members_ran_at_8_255_on_every_model(results):
    from trustml.views import cifar as view

    for label, m, _, _ in _evaluations(results):
        members = m["members"][number_key(view.EPS8)]
        assert {"APGD-CE", "APGD-T", "FAB-T", "Square"} <= set(members), label
        assert m["n"] >= 1000, label


def test_the_tables_show_the_worst_case_of_the_arrays(results):
    from trustml.views import cifar as view

    df = view.defence_table(results, styled=False)
    for (key, label), (_, row) in zip(view.MODEL_LABELS.items(), df.iterrows(), strict=True):
        assert row["model"] == label
        robust = results[key].arrays[f"robust/worst/{view.EPS8}"].astype(bool)
        assert row["worst 8/255"] == pytest.approx(100 * np.mean(robust))


def _evaluation(worst8: float, pgd8: float) -> dict:
    """A fake evaluation's metrics at two radii (1/255 and 8/255)."""
    from trustml.views import cifar as view

    one, eight = number_key(view.PIXEL), number_key(view.EPS8)
    return {"clean": 0.8, "n": 1000, "fgsm": {one: 0.7, eight: 0.6},
            "pgd10": {one: 0.6, eight: pgd8}, "worst": {one: 0.5, eight: worst8}}


@pytest.mark.parametrize("fgsmrs, pgd, halves, expected", [
    (0.36, 0.02, 0.05, ["cifar-eval-fgsmrs"]),
    (0.36, 0.40, 0.05, ["cifar-eval-fgsmrs", "cifar-eval-pgd"]),
    (0.36, 0.02, 0.38, ["cifar-eval-fgsmrs", "cifar-eval-pgd-halves"]),
    (0.05, 0.02, 0.05, []),
])
def test_only_defences_whose_worst_case_holds_are_called_defences(fgsmrs, pgd, halves, expected):
    """A defence is claimed (`survivors`, the curve's and the verdict's wording) only if the
    worst case at 8/255 leaves it above the bar, whatever PGD-10 says."""
    from trustml.core.cache import Result
    from trustml.views import cifar as view

    results = {"cifar-attacks-autoattack": Result(metrics=_evaluation(0.0, 0.02)),
               "cifar-eval-fgsm": Result(metrics=_evaluation(0.0, 0.01)),
               "cifar-eval-fgsmrs": Result(metrics=_evaluation(fgsmrs, 0.41)),
               "cifar-eval-pgd": Result(metrics=_evaluation(pgd, 0.42)),
               "cifar-eval-pgd-halves": Result(metrics=_evaluation(halves, 0.43)),
               "cifar-eval-pgd-halves-11": Result(metrics=_evaluation(0.05, 0.44)),
               "cifar-study": Result(metrics={"models": {}})}
    assert view.survivors(results) == expected
    curve = view.curve_sentence(results)
    verdict = view.defences_verdict(results)
    for key in view.DEFENCE_EVALS:
        named = key in expected
        assert (view.PROSE_LABELS[key] in curve) == named, curve
    assert ("none survives" in verdict) == (not expected), verdict
    # the trade-off: the survivors as a span, every other defence by name
    tradeoff = view.tradeoff_sentence(results)
    for key in view.DEFENCE_EVALS:
        assert (f"the {view.PROSE_LABELS[key]} gives up" in tradeoff) == (key not in expected), \
            tradeoff
    if len(expected) == 2:
        low, high = sorted(100 * results[k].metrics["worst"][number_key(view.EPS8)]
                           for k in expected)
        assert f"the two defences that survive the worst case give up 0.0 percentage points" \
            f" of clean accuracy and keep {low:.1f} to {high:.1f} % at 8/255" in tradeoff, tradeoff
    # PGD-10 far above the worst case is a masked gradient, not a "not masked" sign
    assert view.overstatement_points(results["cifar-eval-pgd"].metrics, view.EPS8) == \
        pytest.approx(42.0 - 100 * pgd)


@pytest.mark.parametrize("fgsmrs, halves, halves11, cheaper_wins, best", [
    (0.36, 0.33, 0.30, True, "cifar-eval-pgd-halves"),
    (0.30, 0.38, 0.30, False, "cifar-eval-pgd-halves"),
    (0.34, 0.33, 0.36, False, "cifar-eval-pgd-halves-11"),
    (0.36, 0.33, 0.3604, True, "cifar-eval-pgd-halves-11"),
])
def test_the_advice_follows_the_measured_robustness(fgsmrs, halves, halves11, cheaper_wins,
                                                     best):
    """2.3(c)'s advice names the one-step defence the better buy only when it is at least as
    robust as the best PGD defence, which it names; the cost ratio is the measured one."""
    from trustml.core.cache import Result
    from trustml.views import cifar as view

    results = {"cifar-eval-fgsmrs": Result(metrics=_evaluation(fgsmrs, 0.41)),
               "cifar-eval-pgd": Result(metrics=_evaluation(0.05, 0.42)),
               "cifar-eval-pgd-halves": Result(metrics=_evaluation(halves, 0.43)),
               "cifar-eval-pgd-halves-11": Result(metrics=_evaluation(halves11, 0.44)),
               "cifar-step-costs": Result(metrics={"images_per_second": {
                   "fgsm_rs": 500.0, "pgd_append": 100.0, "pgd_halves": 125.0}})}
    text = view.advice_sentence(results)
    assert ("better buy" in text) == cheaper_wins, text
    label = view.PROSE_LABELS[best]
    assert "4.0 times" in text, text
    assert f"the {label}, the best of the three PGD defences" in text, text
    tie = f"{100 * fgsmrs:.1f}" == f"{100 * max(halves, halves11):.1f}"
    assert ("as many images" in text and "each" in text) == tie, text
    assert ("more than the" in text) == (cheaper_wins and not tie), text


def _training(radius: float, pgd: list[float], clean: list[float] | None = None) -> object:
    """A fake defence training result: its radius and its held-out checks, two per epoch."""
    from trustml.core.cache import Result

    steps = [0.5 * (i + 1) for i in range(len(pgd))]
    return Result(metrics={"epochs": steps[-1], "history": {
        "check_pgd": pgd, "check_clean": clean or [0.8] * len(pgd), "check_step": steps,
        "check_collapsed": [False] * len(pgd)}},
        meta={"config": {"check_n": 500, "defence": {"eps": radius}}})


@pytest.mark.parametrize("small, large, clean_large, bought", [
    (0.332, 0.36, 0.78, "buys 2.8 points of robustness at 8/255 for 3.0 points of clean accuracy"),
    (0.332, 0.34, 0.82, "at no cost in clean accuracy"),
    (0.332, 0.33, 0.78, "does not buy robustness"),
])
def test_the_larger_training_radius_sentence_follows_the_numbers(small, large, clean_large,
                                                                 bought):
    """2.3(a)'s larger-radius sentence: what the radius bought and cost, both ways, from the
    accuracies as the tables show them."""
    from trustml.core.cache import Result
    from trustml.views import cifar as view

    def evaluation(worst8: float, clean: float) -> Result:
        return Result(metrics={**_evaluation(worst8, 0.40), "clean": clean})

    results = {"cifar-eval-pgd-halves": evaluation(small, 0.81),
               "cifar-eval-pgd-halves-11": evaluation(large, clean_large),
               "cifar-pgd-halves-11-defence": _training(11 / 255, [0.1, 0.3, 0.35, 0.36])}
    text = view.radius_sentence(results)
    assert bought in text, text
    assert f"PGD-10 overstates its worst case by {40 - half_up(100 * large):.1f} points" in text
    assert view.checks_facts(results, "cifar-eval-pgd-halves-11")["radius"] == "11/255"


@pytest.mark.parametrize("clean, broke", [([0.2, 0.15, 0.6, 0.73], True),
                                          ([0.7, 0.72, 0.73, 0.73], False)])
def test_the_larger_radius_sentence_tells_when_training_first_broke_the_network(clean, broke):
    from trustml.core.cache import Result
    from trustml.views import cifar as view

    results = {"cifar-eval-pgd-halves": Result(metrics={**_evaluation(0.33, 0.40), "clean": 0.81}),
               "cifar-eval-pgd-halves-11": Result(metrics={**_evaluation(0.36, 0.40),
                                                           "clean": 0.74}),
               "cifar-pgd-halves-11-defence": _training(11 / 255, [0.004, 0.002, 0.3, 0.4], clean)}
    text = view.radius_sentence(results)
    assert ("first broke the network: after 1 epoch it classified only 15.0 %" in text) == broke
    if broke:
        assert "until the check after 1.5 epochs to hold a fifth" in text, text


def test_the_larger_radius_sentence_never_claims_a_recovery_that_did_not_come():
    from trustml.core.cache import Result
    from trustml.views import cifar as view

    results = {"cifar-eval-pgd-halves": Result(metrics={**_evaluation(0.33, 0.40), "clean": 0.81}),
               "cifar-eval-pgd-halves-11": Result(metrics={**_evaluation(0.05, 0.10),
                                                           "clean": 0.60}),
               "cifar-pgd-halves-11-defence": _training(11 / 255, [0.004, 0.002, 0.1, 0.15],
                                                        [0.2, 0.15, 0.5, 0.6])}
    text = view.radius_sentence(results)
    assert "no later check held a fifth of them under PGD-10" in text, text
    assert "it took until" not in text, text


@pytest.mark.parametrize(("std_full", "def_full", "expected"), [
    ((1, 2, 8), (8,), ["standard model all four AutoAttack members run at every radius",
                       "all four run at 8/255, and at the smaller radii", "of the four only APGD-CE runs."]),
    ((8,), (8,), ["run at 8/255, and APGD-CE and APGD-T at the others",
                  "at the smaller radii"]),
    ((1, 2, 8), (1, 2, 8), ["All four AutoAttack members run at every radius on every model."]),
    ((1, 2, 8), (1,), ["all four run at 1/255, and at the other radii"]),
])
def test_the_coverage_sentence_says_which_members_ran_where(std_full, def_full, expected):
    from trustml.experiments.cifar import PIXEL
    from trustml.views.cifar.prose import coverage_sentence

    eps = [1 * PIXEL, 2 * PIXEL, 8 * PIXEL]
    standard = {"eps": eps, "full_eps": [k * PIXEL for k in std_full],
                "off_members": ["APGD-CE", "APGD-T"]}
    defence = {"eps": eps, "full_eps": [k * PIXEL for k in def_full], "off_members": ["APGD-CE"]}
    text = coverage_sentence(standard, defence)
    for part in expected:
        assert part in text, text
    assert text.endswith(".") and "  " not in text
