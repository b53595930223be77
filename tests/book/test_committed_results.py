"""The committed full-budget results: every experiment an exercise shows is in the cache, and the
exercise's command-line summary prints from it (what `python -m trustml exN` shows a grader)."""

from __future__ import annotations

import importlib

import pytest

from trustml.cli import chapters
from trustml.core.budget import get_budget
from trustml.core.cache import _try_load, entry_dir, get_experiment

FULL = get_budget("full")


def committed(name: str):
    exp = get_experiment(name)
    config = exp.config_for(FULL)
    result = _try_load(entry_dir(exp, config, FULL), exp, config, warn=False)
    assert result is not None, (f"{name}: no committed full-budget entry; run it "
                                f"(`python -m trustml run {name}`) and commit results/full/")
    return result


@pytest.mark.parametrize("chapter", chapters(), ids=lambda c: c.command)
def test_exercise_summary_prints_from_the_committed_results(chapter, monkeypatch):
    monkeypatch.delenv("TRUSTML_CACHE", raising=False)
    view = importlib.import_module(chapter.view)
    text = view.summary({name: committed(name) for name in chapter.experiments})
    assert isinstance(text, str) and len(text.splitlines()) >= 3


def test_exercise_2_tolerance_sentences_read_as_prose():
    from trustml.views.robust_regression import (
        TOLERANCE,
        bundle_sentence,
        minmax_sentence,
        tolerance_sentence,
        weights_sentence,
        worst,
    )

    result = committed("ex2-robust-regression")
    status, bundle = tolerance_sentence(result), bundle_sentence(result)
    weights, minmax = weights_sentence(result), minmax_sentence(result)
    for text in (status, bundle, weights, minmax):
        assert text.endswith(".") and "Clarabel: w" not in text and "_rel" not in text
    assert "; " not in bundle  # no pasted row labels
    # the sentences say what the numbers say
    assert ("differ by more" in status or "miss it" in status) == (max(worst(result, k) for k in (
        "worst_case_rel", "ball_excess", "pga_excess_rel", "pga_gap_rel", "scs_value_rel",
        "statsmodels_value_rel", "scs_w_rel", "statsmodels_w_rel")) > TOLERANCE)
    assert ("Those differences" in weights) == (max(worst(result, "scs_w_rel"),
                                            worst(result, "statsmodels_w_rel")) > TOLERANCE)
    assert "a bug" not in minmax, "the bundle method's certified gap must cover its distance"
    # every instance at the iteration cap is counted, also one whose value already agrees
    cap = result.meta["config"]["minmax_iters"]
    from trustml.views.robust_regression.common import rows

    n_capped = int((rows(result)["minmax_iterations"] >= cap).sum())
    assert f"It stops at its cap of {cap} iterations, before its two bounds meet, on {n_capped} " \
        "instances" in minmax
    # chapter 2's summary says the same in one sentence, without the appendix's numbers
    summary = minmax_sentence(result, details=False)
    assert summary.startswith(minmax.split(" It stops")[0]) and "a bug" not in summary


def test_preface_lira_number_is_the_one_in_the_attacks_table():
    """The preface quotes LiRA's TPR at 1 % FPR; the table must show the same rounded number."""
    from trustml.views.format import fmt_pct
    from trustml.views.membership import attack, attacks_table

    logistic = committed("ex4-logistic")
    quoted = fmt_pct(attack(logistic, "l2", "lira_online")["tpr"]["0.01"][0])
    row = next(r for r in attacks_table(logistic).rows() if r[:2] == ["L2", "LiRA online"])
    assert row[-1].startswith(quoted), (quoted, row)
