"""Exercise 4's computed sentences read right for the values they get."""

from __future__ import annotations

import pytest

from trustml.core.cache import Result
from trustml.views.membership import dp_guarantee_sentence, l2_cost_phrase


def _dp_result(epsilon: float, loss_attack: float = 0.52) -> Result:
    rows = [{"defence": "dp", "knob": 4.0, "epsilon": epsilon, "test_acc": 0.7,
             "loss_attack": loss_attack, "loss_tpr_1pct": 0.01},
            {"defence": "l2", "knob": 0.01, "epsilon": float("nan"), "test_acc": 0.8,
             "loss_attack": 0.51, "loss_tpr_1pct": 0.01}]
    return Result(metrics={"defences": rows, "dp_delta": 1e-5})


def test_dp_guarantee_is_called_vacuous_at_a_large_epsilon():
    text = dp_guarantee_sentence(_dp_result(10.0))
    assert "ε = 10.0" in text and "vacuous" in text and "TPR of 100 %" in text


def test_dp_guarantee_states_its_cap_at_a_small_epsilon():
    text = dp_guarantee_sentence(_dp_result(1.0))
    assert "vacuous" not in text and "caps every attack's TPR at 1 % FPR at 2.72 %" in text


def test_dp_guarantee_when_no_model_qualifies():
    assert dp_guarantee_sentence(_dp_result(1.0, loss_attack=0.9)).startswith("No DP-GD model")


def _sweep_result(l2_small: float) -> Result:
    rows = [{"model": m, "n": n, "test_acc": acc} for m, n, acc in (
        ("none", 100, 0.66), ("l2", 100, l2_small), ("none", 5000, 0.78), ("l2", 5000, 0.80))]
    return Result(metrics={"sweep": rows})


@pytest.mark.parametrize(("l2_small", "phrase"), [
    (0.59, "pays for its small gap in test accuracy where data are scarce (59.0 % against 66.0 %"),
    (0.655, "gives up little test accuracy"),
])
def test_l2_cost_is_named_only_when_real(l2_small, phrase):
    assert phrase in l2_cost_phrase(_sweep_result(l2_small))


def _lira_result(none: list[float], l2: list[float]) -> Result:
    def attacks(tpr):
        return {a: {"tpr": {"0.001": tpr}} for a in ("lira_online", "lira_online_fixed")}
    return Result(metrics={"attacks": {"none": attacks(none), "l2": attacks(l2)}})


@pytest.mark.parametrize(("none", "l2", "phrase"), [
    ([0.03, 0.02, 0.05], [0.11, 0.08, 0.13], "leaks more"),
    ([0.11, 0.08, 0.13], [0.03, 0.02, 0.05], "leaks less"),
    ([0.05, 0.02, 0.09], [0.07, 0.04, 0.10], "cannot be told apart"),
])
def test_leak_comparison_is_only_as_strong_as_the_intervals(none, l2, phrase):
    from trustml.views.membership import leak_phrase

    assert phrase in leak_phrase(_lira_result(none, l2), 0.001)


def test_exact_gaussian_prediction_is_below_the_equal_variance_formula():
    """The chapter says so: the members' larger score variance widens the overlap."""
    from trustml.privacy.gaussian_mean import predicted_accuracy, simple_prediction

    for d in (10, 100, 500):
        assert predicted_accuracy(d, 50) <= simple_prediction(d, 50) + 1e-4


def test_percentage_points_for_differences():
    from trustml.views.format import fmt_pct, fmt_pp

    assert fmt_pp(0.6 - 0.478) == "12.2 percentage points"
    assert fmt_pct(0.122) == "12.2 %"


def test_scientific_notation_for_prose():
    from trustml.views.format import fmt_sci

    assert fmt_sci(2.3e-07) == "2.3 × 10⁻⁷"
    assert fmt_sci(4.9e-16, 0) == "5 × 10⁻¹⁶"
    assert fmt_sci(0.0) == "0" and fmt_sci(1e-5, 0) == "10⁻⁵"


def test_leak_comparison_is_like_for_like():
    """The read's case: fixed-variance LiRA separates the models, online LiRA does not (its
    intervals [0.3, 8.8] and [8.2, 13.3] overlap); a variant is never compared with another."""
    from trustml.views.membership import leak_phrase

    def tpr(online, fixed):
        return {"lira_online": {"tpr": {"0.001": online}}, "lira_online_fixed": {"tpr": {"0.001": fixed}}}
    result = Result(metrics={"attacks": {
        "none": tpr([0.006, 0.003, 0.088], [0.035, 0.028, 0.058]),
        "l2": tpr([0.113, 0.082, 0.133], [0.079, 0.066, 0.101])}})
    phrase = leak_phrase(result, 0.001)
    assert "with the fixed-variance variant the L2 model leaks more" in phrase
    assert "with the online variant the two models cannot be told apart" in phrase


@pytest.mark.parametrize(("percent", "text"), [
    (100.0, "100"), (99.0, "99.0"), (10.3, "10.3"), (9.19, "9.19"), (0.92, "0.920"),
    (0.2966, "0.297")])
def test_a_bound_shows_three_significant_figures_trailing_zeros_kept(percent, text):
    from trustml.views.membership.tables import _three_figures

    assert _three_figures(percent) == text
