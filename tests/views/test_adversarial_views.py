"""Exercise 3's sentences chosen for the values they get."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from trustml.views.adversarial import plain_fgsm_failure_sentence, radii


def history(pgd, clean=0.98, collapsed=None):
    n = len(pgd)
    return SimpleNamespace(metrics={"history": {
        "train_loss": [1.0] * n, "check_clean": [clean] * n, "check_pgd": pgd,
        "seconds": [1.0] * n, "collapsed": collapsed or [0.0] * n}})


def test_plain_fgsm_that_ends_near_zero_is_a_failure():
    text, failed = plain_fgsm_failure_sentence(history([0.02, 0.03, 0.165, 0.01, 0.0]))
    assert failed and "16.5 %" in text and "epoch 3" in text and "fell to 0.0 %" in text


def test_a_collapse_flagged_by_the_loop_is_a_failure():
    text, failed = plain_fgsm_failure_sentence(history([0.5, 0.9, 0.6, 0.3],
                                                 collapsed=[0.0, 0.0, 1.0, 1.0]))
    assert failed and "collapsed" in text and "from epoch 3 on" in text


def test_a_run_that_stays_robust_is_not_called_a_failure():
    text, failed = plain_fgsm_failure_sentence(history([0.5, 0.8, 0.85, 0.84]))
    assert not failed and "did not fail" in text and "85.0 %" in text


@pytest.mark.parametrize(("values", "words"), [
    ((0.3,), "0.3"), ((0.1, 0.2), "0.1 and 0.2"), ((0.1, 0.2, 0.5), "0.1, 0.2 and 0.5")])
def test_radii_read_as_a_list(values, words):
    assert radii(values) == words


def test_the_command_line_and_the_view_read_the_chapters_one_declaration():
    from trustml.cli import build_parser
    from trustml.experiments.adversarial import CHAPTER
    from trustml.views.adversarial import EXPERIMENTS, PARTS

    assert EXPERIMENTS == CHAPTER.experiments and tuple(PARTS) == CHAPTER.part_names()
    assert build_parser().parse_args(["ex3", "--part", "d"]).part == "d"


def sweep_results(weak, strong, train_eps=0.25, eps=(0.2, 0.225, 0.25, 0.275, 0.3)):
    from trustml.core.cache import Result
    from trustml.core.keys import number_key

    def per_eps(values):
        return {number_key(e): v for e, v in zip(eps, values, strict=True)}

    sweep = Result(metrics={"models": ["ex3-pgd-model", "ex3-strong-model"], "n": 1000,
                            "clean": {"ex3-pgd-model": 0.99, "ex3-strong-model": 0.985},
                            "pgd": {"ex3-pgd-model": per_eps(weak),
                                    "ex3-strong-model": per_eps(strong)},
                            "pgd_ce": {"ex3-pgd-model": per_eps(weak),
                                       "ex3-strong-model": per_eps(strong)},
                            "seconds": {}})
    return {"ex3-radius-sweep": sweep,
            "ex3-pgd-model": Result(meta={"config": {"eps": train_eps}}),
            "ex3-strong-model": Result(meta={"config": {"eps": 0.3}})}


def test_the_fall_is_located_just_beyond_the_training_radius():
    from trustml.views.adversarial import fall_sentence

    text = fall_sentence(sweep_results([0.945, 0.939, 0.927, 0.414, 0.023],
                                       [0.944, 0.937, 0.931, 0.921, 0.905]))
    assert "92.7 % against our PGD at 0.25 and 41.4 % at 0.275" in text
    assert "just beyond its training radius, 0.25" in text and "at 0.3 it keeps 2.3 %" in text
    assert "PGD-AT(0.3) goes from 93.1 % to 92.1 %" in text and "inside the ball" in text


def test_a_fall_before_the_training_radius_is_not_explained_by_it():
    from trustml.views.adversarial import fall_sentence

    text = fall_sentence(sweep_results([0.945, 0.3, 0.2, 0.1, 0.05], [0.9] * 5))
    assert "before its training radius" in text and "inside the ball" not in text
    assert "at 0.3 it keeps 5.0 %" in text


def test_the_sweep_table_has_one_row_per_defence_and_a_column_per_radius():
    from trustml.views.adversarial import radius_sweep_table

    table = radius_sweep_table(sweep_results([0.945, 0.939, 0.927, 0.414, 0.023],
                                             [0.944, 0.937, 0.931, 0.921, 0.905]))
    text = table.text()
    lines = text.splitlines()
    assert "ε = 0.275" in lines[0] and "clean" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == ["PGD-AT(0.25)", "PGD-AT(0.3)"]
    assert "41.4" in lines[1] and "92.1" in lines[2]


def test_the_sweep_agrees_with_the_test_set_evaluation_where_both_ran():
    """At 0.2 and 0.3 the sweep repeats the test-set evaluation's attack on its first images:
    the committed results agree to a few images (each batch's random starts differ)."""
    import numpy as np

    from trustml.core.cache import run_or_load
    from trustml.experiments.adversarial import eval_name

    sweep = run_or_load("ex3-radius-sweep", budget="full")
    n = sweep.metrics["n"]
    for model in sweep.metrics["models"]:
        ours = run_or_load(eval_name(model), budget="full")
        for eps in (0.2, 0.3):
            a = sweep.arrays[f"robust/{model}/{eps}"].astype(bool)
            b = ours.arrays[f"robust/pgd/{eps}"][:n].astype(bool)
            assert np.count_nonzero(a != b) <= 0.01 * n


def test_the_sweep_table_shows_appendix_ds_subset_values_at_0_2_and_0_3():
    """The sweep table's 0.2 and 0.3 cells are the test-set evaluation's on the same first
    images, so they print what the appendix's "subset: our PGD" column prints (committed
    results)."""
    from trustml.core.cache import run_or_load
    from trustml.experiments.adversarial import MODELS, autoattack_name, eval_name
    from trustml.views.adversarial import eps_table, radius_sweep_table

    defended = ("ex3-pgd-model", "ex3-strong-model")
    names = ["ex3-radius-sweep", *defended]
    for model in MODELS:  # the appendix's table has every model
        names += [eval_name(model), autoattack_name(model)]
    results = {name: run_or_load(name, budget="full") for name in dict.fromkeys(names)}
    sweep = radius_sweep_table(results).frame.set_index("model")
    for eps in (0.2, 0.3):
        appendix = eps_table(results, eps).frame.set_index("model")["subset: our PGD"]
        for model in defended:  # the same share of the same images, not just close
            assert sweep.loc[MODELS[model], f"ε = {eps:g}"] == pytest.approx(
                appendix[MODELS[model]], abs=1e-4)  # float32 means; one image is 0.1


def test_the_command_line_summary_prints_the_sweep():
    from trustml.views.adversarial import summary

    results = sweep_results([0.945, 0.939, 0.927, 0.414, 0.023], [0.944, 0.937, 0.931, 0.921, 0.905])
    text = summary({"ex3-radius-sweep": results["ex3-radius-sweep"]})
    assert "first 1,000 test images" in text and "41.4" in text and "PGD-AT(0.3)" in text
