"""Worst case over an attack ensemble, the AutoAttack members, and McNemar's test."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.adversarial.test_attacks import batch, tiny_model
from trustml.adversarial.ensemble import autoattack, project, worst_case
from trustml.adversarial.specs import PGD
from trustml.core.stats import mcnemar


def no_attack(model, x, y):
    return x.clone()


def grey_attack(model, x, y):  # within eps = 1 of anything: the constant image 0.5
    return torch.full_like(x, 0.5)


def test_report_accounts_for_every_image():
    model = tiny_model(1)
    x, y = batch(1, 64)
    report = worst_case(model, x, y, [("none", no_attack), ("pgd", PGD(0.5, steps=10, loss="margin")),
                                      ("grey", grey_attack)], batch_size=7)
    added = report.added()
    assert added["none"] == 0
    assert sum(added.values()) + int(report.robust.sum()) == int(report.clean.sum())
    assert not (report.robust & ~report.clean).any()
    broken = [report.broken_by[n] for n in report.names]
    for i in range(len(broken)):
        for j in range(i + 1, len(broken)):
            assert not (broken[i] & broken[j]).any(), "an image is counted by one attack only"
    acc = report.accuracy()
    assert list(acc) == ["clean", "none", "pgd", "grey"]
    assert acc["clean"] >= acc["none"] >= acc["pgd"] >= acc["grey"]


def test_candidates_restrict_the_ensemble_to_images_left_robust():
    model = tiny_model(1)
    x, y = batch(1, 64)
    candidates = torch.arange(64) % 2 == 0
    report = worst_case(model, x, y, [("none", no_attack), ("grey", grey_attack)],
                        candidates=candidates)
    assert not (report.attacked & ~candidates).any()
    assert (report.attacked == (report.clean & candidates)).all()
    assert not (report.robust & ~candidates).any()
    assert report.accuracy()["none"] == float((report.clean & candidates).float().mean())
    with pytest.raises(ValueError, match="candidates must be a boolean tensor"):
        worst_case(model, x, y, [("none", no_attack)], candidates=candidates[:10])


def test_a_stronger_member_only_adds_what_the_weaker_missed():
    model = tiny_model(2)
    x, y = batch(2, 64)
    strong_first = worst_case(model, x, y, [("pgd", PGD(0.3, steps=20, loss="margin")),
                                            ("pgd-again", PGD(0.3, steps=20, loss="margin"))])
    assert strong_first.added()["pgd-again"] == 0  # the same deterministic attack finds nothing new


@pytest.mark.parametrize("attacks", [[], [("a", no_attack), ("a", no_attack)]])
def test_rejects_empty_or_ambiguous_ensembles(attacks):
    model = tiny_model()
    x, y = batch()
    with pytest.raises(ValueError, match="distinct names"):
        worst_case(model, x, y, attacks)


def test_rejects_images_outside_the_box():
    model = tiny_model()
    x, y = batch()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        worst_case(model, x * 3, y, [("none", no_attack)])


@settings(max_examples=30, deadline=None)
@given(eps=st.floats(0, 1), seed=st.integers(0, 100))
def test_projection_lands_in_ball_and_box(eps, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(4, 1, 3, 3, generator=g)
    far = torch.randn(4, 1, 3, 3, generator=g) * 3
    out = project(x, far, eps)
    assert (out - x).abs().max() <= eps + 1e-6 and out.min() >= 0 and out.max() <= 1


def test_autoattack_members_stay_in_ball_and_box_and_break_a_weak_model():
    torch.manual_seed(3)  # the DLR loss of APGD-T needs at least 4 classes: a 10-class model
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 12), torch.nn.Tanh(),
                                torch.nn.Linear(12, 10))
    x, _ = batch(3, 24)
    y = model(x).argmax(1)  # every image starts correctly classified
    eps = 0.3
    members = autoattack(eps, apgd_steps=5, fab_steps=5, square_queries=30)
    assert [name for name, _ in members] == ["APGD-CE", "APGD-T", "FAB-T", "Square"]
    for _, attack in members:
        x_adv = attack(model, x, y)
        assert x_adv.shape == x.shape
        assert (x_adv - x).abs().max() <= eps + 1e-6 and x_adv.min() >= 0 and x_adv.max() <= 1
    report = worst_case(model, x, y, members)
    assert report.robust.sum() < report.clean.sum()


@pytest.mark.parametrize("kwargs", [{"apgd_steps": 0}, {"square_queries": -1}, {"fab_steps": 1.5}])
def test_autoattack_rejects_bad_sizes(kwargs):
    with pytest.raises(ValueError):
        autoattack(0.1, **kwargs)


def test_mcnemar_known_values():
    a = torch.tensor([True] * 10 + [False] * 10)
    b = torch.tensor([True] * 20)
    r = mcnemar(a, b)
    assert (r["a_only"], r["b_only"]) == (0, 10)
    assert r["p_value"] == pytest.approx(2 * 0.5**10)
    assert r["difference"] == pytest.approx(0.5)
    assert mcnemar(a, a)["p_value"] == 1.0
    assert mcnemar(b, a)["p_value"] == pytest.approx(r["p_value"])


@pytest.mark.parametrize(("a", "b"), [
    (torch.tensor([1, 0]), torch.tensor([True, False])),
    (torch.tensor([True]), torch.tensor([True, False])),
    ([True], [True]),
])
def test_mcnemar_rejects_bad_inputs(a, b):
    with pytest.raises(ValueError):
        mcnemar(a, b)
