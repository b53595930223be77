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
    images, so they print what the appendix's "our PGD (subset)" column prints (committed
    results)."""
    from trustml.core.cache import run_or_load
    from trustml.experiments.adversarial import MODELS, autoattack_name, eval_name
    from trustml.views.adversarial import eps_table, radius_sweep_table
    from trustml.views.adversarial.tables import SUBSET_PGD

    defended = ("ex3-pgd-model", "ex3-strong-model")
    names = ["ex3-radius-sweep", *defended]
    for model in MODELS:  # the appendix's table has every model
        names += [eval_name(model), autoattack_name(model)]
    results = {name: run_or_load(name, budget="full") for name in dict.fromkeys(names)}
    sweep = radius_sweep_table(results).frame.set_index("model")
    for eps in (0.2, 0.3):
        appendix = eps_table(results, eps).frame.set_index("model")[SUBSET_PGD]
        for model in defended:  # the same share of the same images, not just close
            assert sweep.loc[MODELS[model], f"ε = {eps:g}"] == pytest.approx(
                appendix[MODELS[model]], abs=1e-4)  # float32 means; one image is 0.1


def test_the_command_line_summary_prints_the_sweep():
    from trustml.views.adversarial import summary

    results = sweep_results([0.945, 0.939, 0.927, 0.414, 0.023], [0.944, 0.937, 0.931, 0.921, 0.905])
    text = summary({"ex3-radius-sweep": results["ex3-radius-sweep"]})
    assert "first 1,000 test images" in text and "41.4" in text and "PGD-AT(0.3)" in text


# the worst case is the headline; our PGD on the whole test set only an upper bound beside it


def attack_results(members=None, n_test=40, n=20, seed=0):
    """Synthetic evaluations of every model at every eps: our PGD on `n_test` images, then
    AutoAttack on the first `n`, with the attacks `members[eps]` (default: all four) each
    breaking images our PGD left robust. The images beyond the subset are all robust to our
    PGD, so its share on the whole test set is at least its share on the subset (on real data
    the two are different samples, and only large ones keep that order)."""
    import numpy as np

    from trustml.core.cache import Result
    from trustml.core.keys import number_key
    from trustml.experiments.adversarial import (
        AUTOATTACK_NAMES,
        EVAL_EPS,
        MODELS,
        autoattack_name,
        eval_name,
    )

    members = members or {}
    rng = np.random.default_rng(seed)
    results = {}
    for model in MODELS:
        clean = rng.random(n_test) < 0.95
        clean[n:] = True
        ev = {"model": model, "n": n_test, "clean": float(clean.mean()), "saturated": 0.0,
              "fgsm": {}, "pgd": {}, "pgd_ce": {}}
        ev_arrays = {"clean": clean.astype(np.uint8)}
        aa = {"model": model, "n": n, "accuracy": {}, "added": {}, "seconds": {}}
        aa_arrays = {}
        for eps in EVAL_EPS:
            pgd = clean & (rng.random(n_test) < 0.8)
            pgd[n:] = True
            pgd_ce = pgd | (clean & (rng.random(n_test) < 0.5))
            fgsm = pgd_ce | (clean & (rng.random(n_test) < 0.5))
            ev["fgsm"][number_key(eps)] = float(fgsm.mean())
            ev["pgd_ce"][number_key(eps)] = float(pgd_ce.mean())
            ev["pgd"][number_key(eps)] = float(pgd.mean())
            ev_arrays[f"robust/pgd/{eps}"] = pgd.astype(np.uint8)
            ev_arrays[f"robust/fgsm/{eps}"] = fgsm.astype(np.uint8)
            ev_arrays[f"broken/pgd_ce/{eps}"] = (clean & ~pgd_ce).astype(np.uint8)
            robust = pgd[:n].copy()
            acc, added = {"pgd": float(robust.mean())}, {}
            for name in members.get(eps, AUTOATTACK_NAMES):
                hit = robust & (rng.random(n) < 0.15)
                robust &= ~hit
                acc[name], added[name] = float(robust.mean()), int(hit.sum())
            aa["accuracy"][number_key(eps)], aa["added"][number_key(eps)] = acc, added
            aa_arrays[f"robust/{eps}"] = robust.astype(np.uint8)
        results[eval_name(model)] = Result(metrics=ev, arrays=ev_arrays)
        results[autoattack_name(model)] = Result(metrics=aa, arrays=aa_arrays)
    return results


def committed_attack_results():
    from trustml.core.cache import run_or_load
    from trustml.experiments.adversarial import MODELS, autoattack_name, eval_name

    return {name: run_or_load(name, budget="full")
            for model in MODELS for name in (eval_name(model), autoattack_name(model))}


def check_worst_case_column(results):
    """Every number of eps_table's worst-case column is 100 x the share of the subset robust to
    every attack, and the upper-bound column (our PGD on the whole test set) is not below it."""
    import numpy as np

    from trustml.experiments.adversarial import EVAL_EPS, MODELS
    from trustml.views.adversarial import aa_result, eps_table
    from trustml.views.adversarial.tables import WORST, upper_bound_header

    n_test = next(r.metrics["n"] for name, r in results.items() if name.startswith("ex3-eval"))
    bound = upper_bound_header(n_test)
    for eps in EVAL_EPS:  # the appendix's tables: one per eps, a row per model
        table = eps_table(results, eps, styled=False).set_index("model")
        assert list(table.columns).index(WORST) < list(table.columns).index(bound)
        for model, label in MODELS.items():
            robust = aa_result(results, model).arrays[f"robust/{eps}"]
            assert table.loc[label, WORST] == pytest.approx(100 * np.mean(robust), abs=1e-9)
            assert table.loc[label, bound] >= table.loc[label, WORST]
    for model in MODELS:  # 3(b)'s table: one model, a row per eps
        table = eps_table(results, None, models=[model], styled=False).set_index("ε")
        for eps in EVAL_EPS:
            robust = aa_result(results, model).arrays[f"robust/{eps}"]
            assert table.loc[f"{eps:g}", WORST] == pytest.approx(100 * np.mean(robust), abs=1e-9)
            assert table.loc[f"{eps:g}", bound] >= table.loc[f"{eps:g}", WORST]


def test_the_worst_case_column_is_the_subset_robust_to_every_attack():
    check_worst_case_column(attack_results())


def test_the_worst_case_column_matches_the_committed_autoattack_images():
    check_worst_case_column(committed_attack_results())


def test_the_worst_case_column_differs_from_both_pgd_columns_where_autoattack_adds():
    """A table that showed our PGD (on the subset or the whole test set) under the worst case's
    header would pass the equality check only where AutoAttack added nothing: the synthetic
    attacks add images everywhere, so the columns must differ."""
    from trustml.views.adversarial import eps_table
    from trustml.views.adversarial.tables import SUBSET_PGD, WORST, upper_bound_header

    table = eps_table(attack_results(), 0.3, styled=False)
    assert (table[WORST] < table[SUBSET_PGD]).any()
    assert (table[WORST] < table[upper_bound_header(40)]).any()


def test_the_curve_draws_the_worst_case_solid_and_our_pgd_dashed():
    import numpy as np

    from trustml.experiments.adversarial import EVAL_EPS, MODELS
    from trustml.views.adversarial import accuracies, curve_figure

    results = attack_results()
    ax = curve_figure(results).axes[0]
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) == len(EVAL_EPS) + 1]
    solid = [line for line in lines if line.get_linestyle() == "-"]
    dashed = [line for line in lines if line.get_linestyle() == "--"]
    assert len(solid) == len(dashed) == len(MODELS)
    for model, line, upper in zip(MODELS, solid, dashed, strict=True):
        acc = [accuracies(results, model, e) for e in EVAL_EPS]
        assert line.get_label() == MODELS[model] and line.get_marker() == "o"
        assert line.get_color() == upper.get_color()
        np.testing.assert_allclose(line.get_ydata(),
                                   [100 * acc[0]["clean"]] + [100 * a["worst"] for a in acc])
        np.testing.assert_allclose(upper.get_ydata(),
                                   [100 * acc[0]["clean"]] + [100 * a["pgd"] for a in acc])
        assert upper.get_linewidth() < line.get_linewidth()


def test_the_3d_table_puts_the_worst_case_before_the_upper_bound():
    from trustml.experiments.adversarial import MODELS
    from trustml.views.adversarial import accuracies, grid_table

    results = attack_results()
    table = grid_table(results, 0.2).frame.set_index("accuracy (%)")
    rows = list(table.index)
    worst, upper = rows.index("worst case, ε = 0.2 (subset)"), rows.index(
        "our PGD, ε = 0.2, all 40 (upper bound)")
    assert worst < upper
    for model in ("mnist-standard-cnn", "ex3-fgsm-model", "ex3-pgd-model"):
        acc = accuracies(results, model, 0.2)
        assert table.loc[rows[worst], MODELS[model]] == pytest.approx(100 * acc["worst"])
        assert table.loc[rows[upper], MODELS[model]] == pytest.approx(100 * acc["pgd"])


def test_which_attacks_ran_is_read_from_the_results():
    from trustml.experiments.adversarial import AUTOATTACK_NAMES, EVAL_EPS
    from trustml.views.adversarial import autoattack_cost_sentence, autoattack_sentence

    everywhere = attack_results()
    assert autoattack_sentence(everywhere) == (
        "all four of its attacks, APGD-CE, APGD-T, FAB-T and Square, run at every radius.")
    assert autoattack_sentence(everywhere, short=True) == (
        "all four attacks of AutoAttack run against both at every radius")
    assert autoattack_cost_sentence(everywhere) == "All four run at every radius, in that order."
    only_03 = attack_results({e: AUTOATTACK_NAMES if e == 0.3 else AUTOATTACK_NAMES[:2]
                              for e in EVAL_EPS})
    assert autoattack_sentence(only_03).endswith("only at ε = 0.3.")
    assert "as well at 0.3" in autoattack_sentence(only_03, short=True)
    assert "run only at ε = 0.3" in autoattack_cost_sentence(only_03)


def test_the_verdict_reports_all_four_attacks_at_every_radius_once():
    from trustml.views.adversarial import verdict

    text = verdict(attack_results())
    assert text.count("Attacked harder") == 1 and "at every radius" in text
    assert " of 0 " not in text and "of the 0" not in text


@pytest.mark.parametrize(("values", "words"), [
    ({0.1: 0.928, 0.2: 0.962, 0.5: 0.571}, "92.8 %, 96.2 % and 57.1 %"),
    ({0.1: 0.824, 0.2: 0.0, 0.5: 0.0}, "82.4 % at 0.1 and none at 0.2 or 0.5"),
    ({0.1: 0.0, 0.2: 0.0, 0.5: 0.0}, "none at any of them"),
    ({0.1: 0.5, 0.2: 0.5}, "50.0 % at all of them")])
def test_shares_per_radius_say_an_equal_value_once(values, words):
    from trustml.views.adversarial.prose import _per_radius

    assert _per_radius(values) == words


def test_the_asked_radii_sentence_needs_a_radius():
    from trustml.views.adversarial import plain_fgsm_asked_sentence

    with pytest.raises(ValueError, match="at least one radius"):
        plain_fgsm_asked_sentence({}, ())
