"""Exercise 4's computed sentences read right for the values they get."""

from __future__ import annotations

import pytest

from trustml.cache import Result
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
