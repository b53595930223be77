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
