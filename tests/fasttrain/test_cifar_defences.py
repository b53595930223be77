"""CIFAR-10 defences: bf16 training steps, the FGSM-RS objective, the catastrophic-overfitting
flag, the per-image worst-case evaluation and the configs' validation."""

from __future__ import annotations

import copy
import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given, settings
from hypothesis import strategies as st

import trustml.experiments.cifar as cifar
import trustml.fasttrain.training as training
from trustml.adversarial.specs import PGD, TopTargetsPGD, strong_pgd
from trustml.adversarial.training import adversarial_examples
from trustml.core import precision
from trustml.core.keys import number_key
from trustml.core.precision import bf16_supported, precision_name, training_autocast
from trustml.core.torch_utils import predict
from trustml.experiments.cifar import (
    ADVERSARIAL_OBJECTIVES,
    AUTOATTACK_MEMBERS,
    DEFENCES,
    EVAL_CONFIGS,
    PIXEL,
    DefenceConfig,
    DefenceEvalConfig,
    EvalConfig,
    StepCostsConfig,
    attack_at,
    evaluate,
    model_from,
)
from trustml.fasttrain.training import OBJECTIVES, Defence, Recipe, objective_loss, to_pixels, train
from trustml.models.cifar import CifarResNet


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """These networks are too small to gain from intra-op threads, and on a busy machine the
    threads contend (measured: 6 s on one thread, 80 s on two beside a busy job); the setting
    is restored for the rest of the session."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_resnet(seed: int = 0, widths: tuple[int, int, int] = (8, 16, 16)) -> CifarResNet:
    torch.manual_seed(seed)
    model = CifarResNet(widths).to(memory_format=torch.channels_last)
    x, _ = uint8_batch(64, seed=seed)
    model.init_whitening(to_pixels(x))
    return model


def uint8_batch(n: int, seed: int = 0, size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g)
    return x, torch.randint(0, 10, (n,), generator=g)


def pixel_batch(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = uint8_batch(n, seed)
    return to_pixels(x), y


def flat_grad(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])


# ---------------------------------------------------------------------------- mixed precision

def test_a_bf16_training_step_matches_float32():
    if not bf16_supported("cpu"):
        pytest.skip("this CPU has neither AVX-512 BF16 nor AMX")
    model = tiny_resnet()
    x, y = pixel_batch(32, seed=1)
    recipe = Recipe(epochs=1)
    results = {}
    for enabled in (False, True):
        m = copy.deepcopy(model).train()
        with training_autocast("cpu", enabled) as on:
            assert on is enabled
            logits = m(x)
            assert logits.dtype == (torch.bfloat16 if enabled else torch.float32)
            loss = objective_loss(m, x, y, "clean", None, recipe, torch.Generator())
        loss.backward()
        results[enabled] = (float(loss.detach()), flat_grad(m).float())
    (loss32, g32), (loss16, g16) = results[False], results[True]
    assert abs(loss16 - loss32) <= 0.02 * abs(loss32)
    assert g32.norm() > 0
    assert float(F.cosine_similarity(g16, g32, dim=0)) > 0.95
    assert not torch.equal(g16, g32)  # autocast really computed something in bf16


def test_autocast_off_is_a_no_op_and_precision_name_says_so(monkeypatch):
    x, _ = pixel_batch(4)
    model = tiny_resnet().eval()
    with training_autocast("cpu", False) as on:
        assert on is False
        assert not torch.is_autocast_enabled("cpu")
        assert model(x).dtype == torch.float32
    assert precision_name("cpu", False) == "float32"
    expected = "bf16" if bf16_supported("cpu") else "float32"
    assert precision_name("cpu", True) == expected
    # a device without native bf16: the config that asks for it trains in float32
    monkeypatch.setattr(precision, "_cpu_has_bf16", lambda: False)
    assert not bf16_supported("cpu")
    with training_autocast("cpu", True) as on:
        assert on is False
        assert not torch.is_autocast_enabled("cpu")
        assert model(x).dtype == torch.float32
    assert precision_name("cpu", True) == "float32"
    assert not bf16_supported("meta")
    monkeypatch.setattr(precision, "_cpu_has_bf16", lambda: True)
    assert precision_name("cpu", True) == "bf16"
    with training_autocast("cpu", True) as on:
        assert on is True and torch.is_autocast_enabled("cpu")
    assert not torch.is_autocast_enabled("cpu")  # and off again afterwards


# ----------------------------------------------------------------------- the FGSM-RS objective

@settings(max_examples=6, deadline=None)
@given(eps=st.floats(1 / 255, 0.3), ratio=st.floats(0.1, 3.0), seed=st.integers(0, 1000))
def test_fgsm_rs_examples_lie_in_the_ball_and_the_box(eps, ratio, seed):
    model = tiny_resnet().eval()
    x, y = pixel_batch(4, seed=seed % 7)
    x_adv = adversarial_examples(model, x, y, "fgsm_rs", eps, step=ratio * eps,
                                 generator=torch.Generator().manual_seed(seed))
    assert x_adv.shape == x.shape
    assert float((x_adv - x).abs().max()) <= eps + 1e-6
    assert float(x_adv.min()) >= 0 and float(x_adv.max()) <= 1
    assert not torch.equal(x_adv, x)
    again = adversarial_examples(model, x, y, "fgsm_rs", eps, step=ratio * eps,
                                 generator=torch.Generator().manual_seed(seed))
    assert torch.equal(x_adv, again)  # the random start comes from the generator


def test_fgsm_rs_starts_at_random():
    model = tiny_resnet().eval()
    x, y = pixel_batch(8)
    eps = 8 / 255
    a, b = (adversarial_examples(model, x, y, "fgsm_rs", eps, step=1.25 * eps,
                                 generator=torch.Generator().manual_seed(s)) for s in (0, 1))
    assert not torch.equal(a, b)
    # a small step from a random start is not plain FGSM's corner of the ball
    plain = adversarial_examples(model, x, y, "fgsm", eps)
    small = adversarial_examples(model, x, y, "fgsm_rs", eps, step=0.25 * eps,
                                 generator=torch.Generator().manual_seed(0))
    inside = (x > eps) & (x < 1 - eps)  # away from the box's walls

    def at_corner(x_adv):  # the fraction of pixels moved by exactly eps
        return float((((x_adv - x).abs()[inside] - eps).abs() < 1e-6).float().mean())

    assert at_corner(plain) > 0.99  # every pixel with a non-zero gradient
    assert at_corner(small) < 0.3  # about 1/8 from a uniform start and a step of eps / 4


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_each_objective_gives_a_finite_scalar_loss(objective):
    model = tiny_resnet().eval()
    x, y = pixel_batch(8)
    defence = None if objective == "clean" else Defence(eps=8 / 255, pgd_steps=2)
    loss = objective_loss(model, x, y, objective, defence, Recipe(epochs=1),
                          torch.Generator().manual_seed(0))
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert loss.requires_grad
    loss.backward()
    assert flat_grad(model).norm() > 0


@pytest.mark.parametrize("train_mode", [False, True])
def test_the_two_pass_pgd_loss_is_the_appended_mean_with_each_half_normalised_alone(train_mode):
    """`pgd_halves`: the mean loss over the 2N examples with the clean and adversarial halves
    in separate forward passes; with batch-norm in eval mode that is exactly the one-pass
    appended batch (the identity of 2.3(b)); in training mode the batch statistics differ."""
    model = tiny_resnet().train(train_mode)
    x, y = pixel_batch(16)
    recipe = Recipe(epochs=1, label_smoothing=0.1)
    defence = Defence(eps=8 / 255, pgd_steps=2)
    losses = {}
    for objective in ("pgd_halves", "pgd_append"):
        m = copy.deepcopy(model)
        losses[objective] = float(objective_loss(m, x, y, objective, defence, recipe,
                                                 torch.Generator().manual_seed(5)).detach())
    m = copy.deepcopy(model)
    x_adv = adversarial_examples(m, x, y, "pgd", 8 / 255, steps=2,
                                 generator=torch.Generator().manual_seed(5))
    halves = 0.5 * (F.cross_entropy(m(x), y, label_smoothing=0.1)
                    + F.cross_entropy(m(x_adv), y, label_smoothing=0.1))
    assert losses["pgd_halves"] == pytest.approx(float(halves.detach()), rel=1e-5)
    if train_mode:
        assert losses["pgd_halves"] != pytest.approx(losses["pgd_append"], rel=1e-4)
    else:
        assert losses["pgd_halves"] == pytest.approx(losses["pgd_append"], rel=1e-5)


@pytest.mark.parametrize("ratio", [0.5, 1.25, 2.0])
def test_fgsm_rs_loss_is_the_cross_entropy_of_the_examples_at_step_ratio_eps(ratio):
    model = tiny_resnet().eval()
    x, y = pixel_batch(16)
    recipe = Recipe(epochs=1, label_smoothing=0.1)
    defence = Defence(eps=8 / 255, step_ratio=ratio)
    loss = objective_loss(model, x, y, "fgsm_rs", defence, recipe, torch.Generator().manual_seed(3))
    x_adv = adversarial_examples(model, x, y, "fgsm_rs", 8 / 255, step=ratio * 8 / 255,
                                 generator=torch.Generator().manual_seed(3))
    expected = F.cross_entropy(model(x_adv), y, label_smoothing=0.1)
    loss, expected = float(loss.detach()), float(expected.detach())
    assert loss == pytest.approx(expected, rel=1e-5)
    clean = float(objective_loss(model, x, y, "clean", None, recipe, torch.Generator()).detach())
    assert loss != pytest.approx(clean, rel=1e-4)
    assert loss > clean  # the attack raises the loss


# --------------------------------------------------------- the catastrophic-overfitting flag

def scripted_check(monkeypatch, robust: list[float], calls: list | None = None) -> None:
    values = iter(robust)

    def fake(model, x, y, eps, steps, generator=None):
        assert not torch.is_autocast_enabled("cpu"), "the check runs in float32"
        if calls is not None:
            calls.append((eps, steps, len(x)))
        return 0.9, next(values)

    monkeypatch.setattr(training, "robustness_check", fake)


def train_with_checks(robust: list[float], drop: float, monkeypatch, calls=None, timer=None,
                      check_eps: float | None = None):
    scripted_check(monkeypatch, robust, calls)
    n = len(robust)
    x, y = uint8_batch(4 * n, size=16)  # small images: the network pools them globally
    check = (to_pixels(x[:4]), y[:4])
    model = CifarResNet((2, 4, 4))
    defence = Defence(eps=4 / 255, checks=n, check_steps=3, collapse_drop=drop,
                      check_eps=check_eps)
    return train(model, x, y, Recipe(epochs=1, batch_size=4, translate=0), seed=0,
                 objective="fgsm_rs", defence=defence, check=check, step_timer=timer)


@pytest.mark.parametrize(("robust", "flags"), [
    ([0.5, 0.6, 0.3], [False, False, True]),
    ([0.6, 0.5, 0.35], [False, False, True]),  # against the best check, not the last one
    ([0.3, 0.6, 0.45], [False, False, False]),  # a rise is never a collapse
    ([0.6, 0.1, 0.55], [False, True, False]),  # a recovery is not flagged
])
def test_a_drop_of_more_than_collapse_drop_below_the_best_check_is_flagged(monkeypatch, robust,
                                                                           flags):
    calls, timer = [], []
    h = train_with_checks(robust, 0.2, monkeypatch, calls, timer)
    assert h["check_collapsed"] == flags
    assert h["check_pgd"] == robust and h["check_clean"] == [0.9] * 3
    assert h["check_step"] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert calls == [(4 / 255, 3, 4)] * 3
    assert len(timer) == 3 and all(t > 0 for t in timer)


@settings(max_examples=8, deadline=None)
@given(robust=st.lists(st.integers(0, 8), min_size=1, max_size=4), drop=st.integers(0, 8))
@example(robust=[8, 6, 5], drop=2)  # 5 is more than 2 below the best (8), not below the last (6)
@example(robust=[6, 4], drop=2)  # exactly collapse_drop below the best: not flagged
def test_the_flag_compares_each_check_with_the_best_before_it(robust, drop):
    # dyadic values: the differences are exact, so a drop of exactly collapse_drop is a tie
    robust_acc, drop_frac = [r / 8 for r in robust], drop / 8
    with pytest.MonkeyPatch.context() as mp:
        h = train_with_checks(robust_acc, drop_frac, mp)
    expected = [i > 0 and max(robust_acc[:i]) - r > drop_frac for i, r in enumerate(robust_acc)]
    assert h["check_collapsed"] == expected
    assert len(h["check_collapsed"]) == len(h["check_pgd"]) == len(robust)


@pytest.mark.parametrize("epochs", [1, 2])
def test_step_timer_gets_one_entry_per_step_and_no_checks_without_check_images(monkeypatch, epochs):
    def never(*args, **kwargs):
        raise AssertionError("no check without check images")

    monkeypatch.setattr(training, "robustness_check", never)
    x, y = uint8_batch(10, size=16)
    timer: list[float] = []
    h = train(CifarResNet((2, 4, 4)), x, y, Recipe(epochs=epochs, batch_size=4, translate=0),
              seed=0, objective="fgsm_mix", defence=Defence(eps=4 / 255, checks=3), check=None,
              step_timer=timer)
    assert len(timer) == 3 * epochs and all(t > 0 for t in timer)
    assert len(h["train_loss"]) == epochs
    assert all(h[k] == [] for k in ("check_step", "check_clean", "check_pgd", "check_collapsed"))


# ------------------------------------------------------------------- the worst-case evaluation

EVAL_EPS = (0.25 * PIXEL, 2 * PIXEL, 8 * PIXEL)
# the smoke budget's attack sizes (EVAL_CONFIGS["smoke"]), spelled out so the test does not
# depend on that config's radii
TINY_EVAL = EvalConfig(eps=EVAL_EPS, test_limit=40, n=24, full_eps=(2 * PIXEL,),
                       off_members=("APGD-CE", "Square"), pgd_steps=3, ce_steps=3, pgd_targets=1,
                       targeted_steps=3, apgd_steps=3, fab_steps=3, targets=1, square_queries=10,
                       batch_size=10)


@pytest.fixture(scope="module")
def evaluated():
    model = tiny_resnet(seed=2).eval()
    x, _ = pixel_batch(TINY_EVAL.test_limit, seed=5)
    pred = predict(model, x).argmax(1)
    y = pred.clone()
    y[1::3] = (pred[1::3] + 1) % 10  # a third of the labels are wrong
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cifar, "test_images", lambda limit: (x[:limit], y[:limit]))
        metrics, arrays = evaluate(model, TINY_EVAL, "test")
    return metrics, arrays, pred == y


def robust_at(arrays: dict, attack: str, eps: float) -> np.ndarray:
    return arrays[f"robust/{attack}/{eps}"].astype(bool)


def test_the_worst_case_is_never_robust_where_a_weak_attack_or_the_clean_prediction_failed(evaluated):
    metrics, arrays, correct = evaluated
    n = TINY_EVAL.n
    clean = arrays["clean"].astype(bool)
    assert clean.shape == (TINY_EVAL.test_limit,)
    assert np.array_equal(clean, correct.numpy())
    assert metrics["clean_n"] == pytest.approx(clean[:n].mean())
    assert metrics["n"] == n and metrics["n_test"] == TINY_EVAL.test_limit
    for eps in EVAL_EPS:
        key = number_key(eps)
        worst = robust_at(arrays, "worst", eps)
        fgsm, pgd10 = robust_at(arrays, "fgsm", eps), robust_at(arrays, "pgd10", eps)
        assert worst.shape == fgsm.shape == pgd10.shape == (n,)
        assert not (worst & ~fgsm).any() and not (worst & ~pgd10).any()
        assert not (worst & ~clean[:n]).any()
        assert not (fgsm & ~clean[:n]).any() and not (pgd10 & ~clean[:n]).any()
        assert metrics["worst"][key] == pytest.approx(worst.mean())
        assert metrics["fgsm"][key] == pytest.approx(fgsm.mean())
        assert metrics["pgd10"][key] == pytest.approx(pgd10.mean())
        assert metrics["worst"][key] <= metrics["pgd10"][key]
        assert metrics["worst"][key] <= metrics["fgsm"][key]


def test_the_worst_case_is_monotone_over_radii_and_accounts_for_every_image(evaluated):
    metrics, arrays, _ = evaluated
    n = TINY_EVAL.n
    below = arrays["clean"].astype(bool)[:n]
    for eps in EVAL_EPS:
        key = number_key(eps)
        worst = robust_at(arrays, "worst", eps)
        assert not (worst & ~below).any(), "robust at a radius but broken at a smaller one"
        # the strong attacks ran on the images left robust below and by both weak attacks; each
        # of those is either still robust or broken by exactly one member
        candidates = below & robust_at(arrays, "fgsm", eps) & robust_at(arrays, "pgd10", eps)
        broken = [arrays[f"broken/{name}/{eps}"].astype(bool) for name in metrics["members"][key]]
        count = worst.astype(int) + sum(b.astype(int) for b in broken)
        assert np.array_equal(count, candidates.astype(int))
        assert metrics["added"][key] == {name: int(b.sum()) for name, b in
                                         zip(metrics["members"][key], broken, strict=True)}
        below = worst
    worst = [metrics["worst"][number_key(e)] for e in EVAL_EPS]
    assert worst == sorted(worst, reverse=True)
    # not vacuous: some images are robust at the smallest radius and fewer at the largest
    assert worst[0] > 0 and worst[-1] < worst[0]


class ScriptedEval(EvalConfig):
    """Strong attacks scripted per radius: at the smallest, one that breaks every image with an
    even label (by swapping in an image the model labels otherwise); above it, none."""

    def strong_attacks(self, eps):
        return [("even", self.break_even)] if eps == self.eps[0] else [("none", self.no_attack)]

    @staticmethod
    def no_attack(model, x, y):
        return x.clone()

    @staticmethod
    def break_even(model, x, y):
        out = x.clone()
        for i in (y % 2 == 0).nonzero()[:, 0]:
            out[i] = DECOYS[int(y[i])]
        return out


DECOYS: dict[int, torch.Tensor] = {}


def test_an_image_broken_at_a_radius_is_never_robust_at_a_larger_one(monkeypatch):
    model = tiny_resnet(seed=2).eval()
    x, _ = pixel_batch(32, seed=7)
    y = predict(model, x).argmax(1)  # every image correct
    DECOYS.clear()
    for c in range(10):  # for each class an image the model labels otherwise
        DECOYS[c] = x[int((y != c).nonzero()[0, 0])]
    monkeypatch.setattr(cifar, "test_images", lambda limit: (x[:limit], y[:limit]))
    config = ScriptedEval(eps=(1e-5, 2e-5, 3e-5), test_limit=32, n=32, full_eps=(3e-5,),
                          pgd_steps=1, batch_size=16)
    metrics, arrays = evaluate(model, config, "scripted")
    even = (y % 2 == 0).numpy()
    assert even.any() and not even.all()
    for eps in config.eps:
        assert robust_at(arrays, "pgd10", eps)[even].mean() > 0.5  # the weak attacks miss them
        assert not robust_at(arrays, "worst", eps)[even].any()  # broken at the first radius
    first = robust_at(arrays, "worst", 1e-5)
    assert np.array_equal(arrays["broken/even/1e-05"].astype(bool),
                          even & robust_at(arrays, "fgsm", 1e-5) & robust_at(arrays, "pgd10", 1e-5))
    assert np.array_equal(robust_at(arrays, "worst", 3e-5), first & robust_at(arrays, "fgsm", 3e-5)
                          & robust_at(arrays, "pgd10", 3e-5) & robust_at(arrays, "worst", 2e-5))
    assert metrics["members"][number_key(2e-5)] == ["none"]


class NoStrongAttack(ScriptedEval):
    def strong_attacks(self, eps):
        return [("none", self.no_attack)]


class LateEvenAttack(ScriptedEval):
    """NoStrongAttack's member, then one that breaks the even labels at the smallest radius."""

    def strong_attacks(self, eps):
        late = self.break_even if eps == self.eps[0] else self.no_attack
        return [("none", self.no_attack), ("late", late)]


def test_an_image_a_completing_member_breaks_leaves_every_larger_radius(monkeypatch):
    model = tiny_resnet(seed=2).eval()
    x, _ = pixel_batch(32, seed=7)
    y = predict(model, x).argmax(1)
    DECOYS.clear()
    for c in range(10):
        DECOYS[c] = x[int((y != c).nonzero()[0, 0])]
    monkeypatch.setattr(cifar, "test_images", lambda limit: (x[:limit], y[:limit]))
    sizes = {"eps": (1e-5, 2e-5, 3e-5), "test_limit": 32, "n": 32, "full_eps": (3e-5,),
             "pgd_steps": 1, "batch_size": 16}
    metrics, arrays = evaluate(model, NoStrongAttack(**sizes), "scripted")
    done, done_arrays = cifar.complete(model, cifar.Result(metrics=metrics, arrays=arrays),
                                       LateEvenAttack(**sizes), "scripted")
    even = (y % 2 == 0).numpy()
    first = robust_at(arrays, "worst", 1e-5)
    assert (first & even).any()  # the base left some even images robust
    assert np.array_equal(done_arrays["broken/late/1e-05"].astype(bool), first & even)
    for eps in sizes["eps"]:
        key = number_key(eps)
        assert not robust_at(done_arrays, "worst", eps)[even].any()
        assert done["members"][key] == ["none", "late"]
        assert done["added"][key]["none"] == int(done_arrays[f"broken/none/{eps}"].sum())
    assert done["added"][number_key(2e-5)]["late"] == 0
    assert done["worst"][number_key(3e-5)] < metrics["worst"][number_key(3e-5)]


def test_all_four_autoattack_members_run_only_at_the_full_radii(evaluated):
    metrics, arrays, _ = evaluated
    for eps in EVAL_EPS:
        names = metrics["members"][number_key(eps)]
        assert names[:2] == ["pgd_ce", "pgd_margin"]
        expected = AUTOATTACK_MEMBERS if eps in TINY_EVAL.full_eps else TINY_EVAL.off_members
        assert tuple(names[2:]) == expected
        assert {k for k in arrays if k.startswith("broken/") and k.endswith(f"/{eps}")} == {
            f"broken/{name}/{eps}" for name in names}
        assert set(metrics["seconds"]) >= {f"fgsm@{eps}", f"pgd10@{eps}", f"worst@{eps}"}


@pytest.fixture(scope="module")
def completed(evaluated):
    """The tiny evaluation completed to all four AutoAttack members at every radius."""
    metrics, arrays, _ = evaluated
    model = tiny_resnet(seed=2).eval()
    x, _ = pixel_batch(TINY_EVAL.test_limit, seed=5)
    pred = predict(model, x).argmax(1)
    y = pred.clone()
    y[1::3] = (pred[1::3] + 1) % 10
    config = dataclasses.replace(TINY_EVAL, full_eps=TINY_EVAL.eps)
    base = cifar.Result(metrics=copy.deepcopy(metrics), arrays=dict(arrays))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cifar, "test_images", lambda limit: (x[:limit], y[:limit]))
        done = cifar.complete(model, base, config, "test")
    assert base.metrics == metrics  # the base is left as it was
    return config, done


def test_completing_runs_every_member_everywhere_and_only_lowers_the_worst_case(evaluated,
                                                                                 completed):
    base_metrics, base_arrays, _ = evaluated
    config, (metrics, arrays) = completed
    n = config.n
    below = arrays["clean"].astype(bool)[:n]
    for eps in EVAL_EPS:
        key = number_key(eps)
        names = metrics["members"][key]
        # the base's members in its order, then the ones it left out
        assert sorted(names) == sorted(("pgd_ce", "pgd_margin", *AUTOATTACK_MEMBERS))
        assert names[: len(base_metrics["members"][key])] == base_metrics["members"][key]
        worst = robust_at(arrays, "worst", eps)
        assert not (worst & ~robust_at(base_arrays, "worst", eps)).any()
        assert metrics["worst"][key] == pytest.approx(worst.mean())
        assert metrics["worst"][key] <= base_metrics["worst"][key]
        # every image attacked here is robust or broken by exactly one member, as in `evaluate`
        candidates = below & robust_at(arrays, "fgsm", eps) & robust_at(arrays, "pgd10", eps)
        broken = [arrays[f"broken/{name}/{eps}"].astype(bool) for name in names]
        assert np.array_equal(worst.astype(int) + sum(b.astype(int) for b in broken),
                              candidates.astype(int))
        assert metrics["added"][key] == {m: int(b.sum()) for m, b in zip(names, broken, strict=True)}
        ran_before = eps in TINY_EVAL.full_eps
        assert (f"completed@{eps}" in metrics["seconds"]) == (not ran_before)
        below = worst


def test_completing_rejects_a_base_on_other_radii_or_with_other_members(evaluated):
    metrics, arrays, _ = evaluated
    model = tiny_resnet(seed=2).eval()
    base = cifar.Result(metrics=metrics, arrays=arrays)
    fewer = dataclasses.replace(TINY_EVAL, eps=TINY_EVAL.eps[1:], full_eps=TINY_EVAL.eps[1:])
    with pytest.raises(ValueError, match="radii"):
        cifar.complete(model, base, fewer, "test")
    with pytest.raises(ValueError, match="images"):
        cifar.complete(model, base, dataclasses.replace(TINY_EVAL, n=TINY_EVAL.n - 1), "test")
    without_square = dataclasses.replace(TINY_EVAL, full_eps=(TINY_EVAL.eps[-1],),
                                         off_members=("APGD-CE",))
    with pytest.raises(ValueError, match="do not include"):
        cifar.complete(model, base, without_square, "test")


def test_eval_config_members_and_strong_attacks():
    config = TINY_EVAL
    assert config.members(2 * PIXEL) == AUTOATTACK_MEMBERS
    assert config.members(8 * PIXEL) == ("APGD-CE", "Square")
    names = [name for name, _ in config.strong_attacks(8 * PIXEL)]
    assert names == ["pgd_ce", "pgd_margin", "APGD-CE", "Square"]
    _, ce = config.strong_attacks(2 * PIXEL)[0]
    assert isinstance(ce, PGD) and ce.steps == config.ce_steps and ce.eps == 2 * PIXEL
    pgd10 = attack_at("pgd10", config, 2 * PIXEL)
    assert isinstance(pgd10, PGD) and pgd10.steps == config.pgd_steps and pgd10.early_stop
    assert pgd10.loss == "ce" and pgd10.seed == config.seed
    assert attack_at("fgsm", config, 2 * PIXEL).eps == 2 * PIXEL


# ------------------------------------------------------------------------------- validation

SMOKE = dataclasses.replace(TINY_EVAL, eps=(2 * PIXEL, 8 * PIXEL), full_eps=(8 * PIXEL,),
                            test_limit=500, n=60)


def test_the_smoke_eval_config_is_valid():
    smoke = EVAL_CONFIGS["smoke"]
    assert dataclasses.replace(smoke) == smoke  # its validation passes
    assert smoke.test_limit is None or smoke.n <= smoke.test_limit


@pytest.mark.parametrize(("changes", "field"), [
    ({"eps": (8 * PIXEL, 2 * PIXEL), "full_eps": (8 * PIXEL,)}, "eps"),
    ({"eps": (2 * PIXEL, 2 * PIXEL), "full_eps": (2 * PIXEL,)}, "eps"),
    ({"full_eps": (3 * PIXEL,)}, "full_eps"),
    ({"off_members": ("APGD-CE", "PGD")}, "off_members"),
    ({"n": 501, "test_limit": 500}, "n"),
    ({"eps": (-0.1, 8 * PIXEL)}, "eps"),
])
def test_eval_config_rejects_nonsense(changes, field):
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(SMOKE, **changes)


def test_eval_config_accepts_the_edge_cases():
    assert dataclasses.replace(SMOKE, n=500, test_limit=500).n == 500
    assert dataclasses.replace(SMOKE, n=5000, test_limit=None).n == 5000
    one = EvalConfig(eps=(8 * PIXEL,), test_limit=None, n=10, full_eps=(8 * PIXEL,),
                     off_members=AUTOATTACK_MEMBERS)
    assert one.members(8 * PIXEL) == AUTOATTACK_MEMBERS


def defence_config(objective: str) -> DefenceConfig:
    return DefenceConfig(objective, Recipe(epochs=1), Defence(eps=8 * PIXEL))


def test_the_checks_run_at_check_eps_when_it_is_set(monkeypatch):
    """A defence trained at one radius is checked at another (the 11/255 PGD defence at 8/255);
    without `check_eps` the checks run at the training radius."""
    calls = []
    train_with_checks([0.5, 0.5], 0.2, monkeypatch, calls, check_eps=2 / 255)
    assert calls == [(2 / 255, 3, 4)] * 2
    assert Defence(eps=4 / 255).check_radius == 4 / 255
    assert Defence(eps=4 / 255, check_eps=2 / 255).check_radius == 2 / 255


def test_check_eps_leaves_the_committed_defences_hashes_alone():
    """`check_eps` is left out of a config's hash while it holds its default (None), so the
    defences trained before it existed keep their cache entries; set, it changes the hash."""
    from trustml.core.cache import REGISTRY, config_hash

    exp = REGISTRY["cifar-pgd-halves-defence"]
    config = exp.configs["full"]
    assert config_hash(exp, config) == "1fb4a7b1c66281eb"  # the committed entry's folder
    moved = dataclasses.replace(config, defence=dataclasses.replace(config.defence,
                                                                    check_eps=4 / 255))
    assert config_hash(exp, moved) != config_hash(exp, config)
    eleven = REGISTRY["cifar-pgd-halves-11-defence"].configs["full"].defence
    assert eleven.eps == 11 * PIXEL and eleven.check_radius == 8 * PIXEL


@pytest.mark.parametrize("objective", ["clean", "nonsense", "FGSM_RS"])
def test_defence_config_rejects_a_non_adversarial_objective(objective):
    with pytest.raises(ValueError, match="objective"):
        defence_config(objective)


def test_defence_configs_accept_every_adversarial_objective_and_defence():
    assert set(ADVERSARIAL_OBJECTIVES) == set(OBJECTIVES) - {"clean"}
    for objective in ADVERSARIAL_OBJECTIVES:
        assert defence_config(objective).objective == objective
    for name in DEFENCES:
        assert DefenceEvalConfig(name, SMOKE).defence == name
    with pytest.raises(ValueError, match="defence"):
        DefenceEvalConfig("trades", SMOKE)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"step_ratio": 0.0}, "step_ratio"), ({"step_ratio": -1.25}, "step_ratio"),
    ({"collapse_drop": 1.5}, "collapse_drop"), ({"collapse_drop": -0.1}, "collapse_drop"),
    ({"eps": 0.0}, "eps"), ({"alpha": 2.0}, "alpha"),
    ({"check_eps": 0.0}, "check_eps"), ({"check_eps": 1.5}, "check_eps"),
    ({"check_eps": float("nan")}, "check_eps"), ({"check_eps": "8/255"}, "check_eps"),
])
def test_defence_rejects_nonsense(kwargs, field):
    with pytest.raises(ValueError, match=field):
        Defence(**{"eps": 8 * PIXEL, **kwargs})


def test_step_costs_config_rejects_nonsense():
    assert StepCostsConfig(steps=1).warmup == 2
    with pytest.raises(ValueError, match="steps"):
        StepCostsConfig(steps=0)
    with pytest.raises(ValueError, match="attack_n"):
        StepCostsConfig(steps=1, attack_n=0)


def test_attack_at_rejects_an_unknown_attack():
    with pytest.raises(ValueError, match="name"):
        attack_at("pgd40", SMOKE, 8 * PIXEL)


def test_train_rejects_an_unknown_objective():
    x, y = uint8_batch(4)
    with pytest.raises(ValueError, match="objective"):
        train(CifarResNet((4, 8, 8)), x, y, Recipe(epochs=1), seed=0, objective="fgsm_rs_plus",
              defence=Defence(eps=8 * PIXEL))


def test_model_from_reads_the_widths_off_the_weights():
    model = tiny_resnet(widths=(4, 8, 12)).eval()
    result = SimpleNamespace(weights={"model": model.state_dict()}, meta={"experiment": "x"})
    loaded = model_from(result)
    assert loaded.widths == (4, 8, 12) and not loaded.training
    x, _ = pixel_batch(4)
    assert torch.allclose(predict(loaded, x), predict(model, x))


@pytest.mark.parametrize("weights", [{}, None])
def test_model_from_says_how_to_recompute_a_result_without_weights(weights):
    result = SimpleNamespace(weights=weights, meta={"experiment": "x"})
    with pytest.raises(ValueError, match=r"python -m trustml run x --force"):
        model_from(result)


# --------------------------------------------------------------------------------- strong PGD

def test_strong_pgd_is_the_two_named_members_with_the_given_settings():
    members = strong_pgd(0.1, ce_steps=7, ce_restarts=2, targets=4, targeted_steps=9, shards=2,
                         seed=3)
    assert [name for name, _ in members] == ["pgd_ce", "pgd_margin"]
    (_, ce), (_, margin) = members
    assert ce == PGD(0.1, steps=7, restarts=2, loss="ce", early_stop=True, schedule="constant",
                     shards=2, seed=3)
    assert margin == TopTargetsPGD(0.1, targets=4, steps=9, loss="margin", schedule="cosine",
                                   shards=2, seed=3)
    (_, ce), (_, margin) = strong_pgd(0.2)
    assert (ce.steps, ce.restarts, ce.seed) == (40, 1, 0)
    assert (margin.targets, margin.steps, margin.seed) == (3, 50, 0)
    with pytest.raises(ValueError, match="eps"):
        strong_pgd(1.5)
