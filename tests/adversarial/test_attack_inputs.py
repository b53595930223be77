"""Attacks validate their inputs: arbitrary (mostly invalid) inputs either raise one clear
`ValueError` or give images that keep the attacks' guarantee (in the eps ball, in [0, 1])."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from tests.square_attack import square_attack
from trustml.adversarial.attacks import fgsm, pgd


def tiny_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 3))


def images(n: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, 4, 4, generator=g), torch.randint(0, 3, (n,), generator=g)


def test_images_outside_the_unit_box_are_rejected():
    model, (x, y) = tiny_model(), images()
    for bad in (4 * x - 2, x + float("nan"), x * float("inf")):
        for attack in (lambda b: fgsm(model, b, y, 0.1), lambda b: pgd(model, b, y, 0.1),
                       lambda b: square_attack(model, b, y, 0.1, queries=2)):
            with pytest.raises(ValueError, match=r"x must hold finite pixels in \[0, 1\]"):
                attack(bad)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"step_size": float("nan")}, "step_size must be finite"),
    ({"step_size": -0.01}, "step_size must be in"),
    ({"step_size": 0.0}, "step_size must be in"),
    ({"loss": "bogus"}, "loss must be one of"),
    ({"steps": 0}, "steps must be an integer >= 1"),
    ({"restarts": -1}, "restarts must be an integer >= 1"),
    ({"steps": 2.5}, "steps must be an integer"),
])
def test_pgd_rejects_bad_arguments(kwargs, match):
    model, (x, y) = tiny_model(), images()
    with pytest.raises(ValueError, match=match):
        pgd(model, x, y, 0.1, **kwargs)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"queries": -5}, "queries must be an integer >= 1"),
    ({"queries": 0}, "queries must be an integer >= 1"),
    ({"p_init": 0.0}, r"p_init must be in \(0, 1\]"),
    ({"p_init": 1.5}, r"p_init must be in \(0, 1\]"),
])
def test_square_rejects_bad_arguments(kwargs, match):
    model, (x, y) = tiny_model(), images()
    with pytest.raises(ValueError, match=match):
        square_attack(model, x, y, 0.1, **kwargs)


@pytest.mark.parametrize("y", [torch.tensor([0, 1, 2]), torch.tensor([0, 1, 2, 3]),
                               torch.tensor([0, 1, -1, 2]), torch.tensor([0.0, 1.0, 2.0, 1.0]),
                               torch.zeros(4, 1, dtype=torch.long)])
def test_labels_must_match_the_images_and_the_classes(y):
    model, (x, _) = tiny_model(), images()
    for attack in (fgsm, pgd, lambda m, a, b, e: square_attack(m, a, b, e, queries=2)):
        with pytest.raises(ValueError, match="y must"):
            attack(model, x, y, 0.1)


def test_numpy_and_tensor_scalars_are_accepted_and_bools_rejected():
    model, (x, y) = tiny_model(), images()
    for eps in (np.float32(0.1), np.float64(0.1), torch.tensor(0.1)):
        assert float((fgsm(model, x, y, eps) - x).abs().max()) <= 0.1 + 1e-6
    assert pgd(model, x, y, 0.1, steps=np.int64(2), step_size=np.float32(0.05)).shape == x.shape
    for bad in (True, "0.1", torch.tensor([0.1, 0.1])):
        with pytest.raises(ValueError, match="eps must be a real number"):
            fgsm(model, x, y, bad)


finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=32)


def _valid_images(x: torch.Tensor, label: int, eps) -> bool:
    return (all(math.isfinite(p) and 0 <= p <= 1 for p in x.flatten().tolist())
            and 0 <= label < 3 and not isinstance(eps, bool) and math.isfinite(eps)
            and 0 <= eps <= 1)


def _raises_or_keeps_the_guarantee(attack, valid: bool, x: torch.Tensor, eps) -> None:
    if not valid:
        with pytest.raises(ValueError):
            attack()
        return
    x_adv = attack()
    assert float((x_adv - x).abs().max()) <= float(eps) + 1e-6
    assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0


@settings(max_examples=60, deadline=None)
@given(pixels=st.lists(finite_or_not, min_size=16, max_size=16),
       label=st.integers(-2, 4), eps=st.one_of(finite_or_not, st.integers(-2, 2), st.booleans()),
       step_size=st.one_of(st.none(), finite_or_not),
       steps=st.integers(-2, 3), loss=st.sampled_from(["ce", "margin", "bogus", ""]))
def test_arbitrary_inputs_raise_or_keep_the_guarantee(pixels, label, eps, step_size, steps, loss):
    model = tiny_model()
    x = torch.tensor(pixels, dtype=torch.float32).view(1, 1, 4, 4)
    y = torch.tensor([label])
    valid = _valid_images(x, label, eps)
    _raises_or_keeps_the_guarantee(lambda: fgsm(model, x, y, eps), valid, x, eps)
    valid_pgd = (valid and steps >= 1 and loss in ("ce", "margin")
                 and (step_size is None or (math.isfinite(step_size) and step_size > 0)))
    _raises_or_keeps_the_guarantee(
        lambda: pgd(model, x, y, eps, steps=steps, step_size=step_size, loss=loss),
        valid_pgd, x, eps)
    _raises_or_keeps_the_guarantee(
        lambda: square_attack(model, x, y, eps, queries=max(steps, 0)), valid and steps >= 1,
        x, eps)


@given(st.floats(-3.0, -0.01))
def test_normalised_images_are_told_to_move_the_normalisation_into_the_model(low):
    model, (x, y) = tiny_model(), images()
    x = x.clone()
    x[0, 0, 0, 0] = low
    with pytest.raises(ValueError, match="put the normalisation inside the model"):
        pgd(model, x, y, 0.1, steps=1)


def test_uint8_range_pixels_are_told_to_scale_to_the_unit_interval():
    model, (x, y) = tiny_model(), images()
    with pytest.raises(ValueError, match=r"scale them to \[0, 1\]"):
        fgsm(model, x * 255, y, 0.1)


def test_a_single_image_is_told_to_add_a_batch_dimension():
    model = nn.Sequential(nn.Flatten(0), nn.Linear(48, 3))
    image, label = torch.rand(3, 4, 4), torch.tensor(1)  # one colour image, one label
    for y in (label, label.reshape(1)):
        with pytest.raises(ValueError, match="without its batch dimension: pass x"):
            fgsm(model, image, y, 0.1)


def test_a_function_as_the_model_is_told_to_pass_an_nn_module():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        pgd(lambda a: a.flatten(1), *images(), 0.1)


def test_autoattack_on_a_model_with_other_classes_says_to_pass_n_classes():
    from trustml.adversarial.ensemble import autoattack

    x = torch.rand(4, 1, 4, 4)
    five = nn.Sequential(nn.Flatten(), nn.Linear(16, 5))
    name, attack = autoattack(0.1, apgd_steps=1)[0]
    with pytest.raises(ValueError, match="pass n_classes=5"):
        attack(five, x, torch.tensor([0, 1, 2, 3]))


def test_a_batch_of_one_channel_less_image_is_still_a_batch():
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    x, y = torch.rand(1, 4, 4), torch.tensor([1])
    assert fgsm(model, x, y, 0.1).shape == x.shape
