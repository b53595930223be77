"""The base's statistics (`core.stats`), metrics keys (`core.keys`) and torch tools
(`core.torch_utils`)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from trustml.core.keys import number_key
from trustml.core.stats import mcnemar, paired_difference_interval, wilson_interval
from trustml.core.torch_utils import in_mode, load_model


@given(st.integers(1, 10_000), st.data())
def test_the_wilson_interval_holds_the_share_and_stays_in_the_unit_interval(n, data):
    k = data.draw(st.integers(0, n))
    lo, hi = wilson_interval(k, n)
    assert -1e-12 <= lo <= k / n + 1e-12 and k / n - 1e-12 <= hi <= 1.0 + 1e-12  # float noise


@pytest.mark.parametrize(("k", "n"), [(-1, 10), (11, 10), (0, 0), (3, -2)])
def test_the_wilson_interval_refuses_impossible_counts(k, n):
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(k, n)


@given(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500))
def test_the_paired_interval_holds_the_difference(a_only, b_only, both):
    n = a_only + b_only + both
    if n == 0:
        with pytest.raises(ValueError):
            paired_difference_interval(a_only, b_only, n)
        return
    diff, lo, hi = paired_difference_interval(a_only, b_only, n)
    assert lo <= diff <= hi and diff == pytest.approx((b_only - a_only) / n)


def test_mcnemar_takes_numpy_or_torch_and_refuses_other_inputs():
    a, b = np.array([True, False, True, True]), np.array([False, False, True, False])
    assert mcnemar(a, b) == mcnemar(torch.from_numpy(a), torch.from_numpy(b))
    for bad in ([True, False, True, True], a.astype(int), a[:, None]):
        with pytest.raises(ValueError, match="1-d boolean"):
            mcnemar(bad, b)
    with pytest.raises(ValueError, match="same images"):
        mcnemar(a, b[:3])


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_key_is_what_json_keeps_of_the_float(x):
    assert number_key(x) == json.dumps(x) and float(number_key(x)) == x
    assert number_key(np.float32(0.25)) == "0.25" and number_key(np.int64(2)) == "2"


@pytest.mark.parametrize("bad", [True, "0.1", None, [0.1]])
def test_a_key_is_made_from_a_number_only(bad):
    with pytest.raises(TypeError, match="from a number"):
        number_key(bad)


def test_in_mode_restores_the_modes_and_flags_even_after_an_error():
    a, b = nn.Linear(2, 2).train(), nn.Linear(2, 2).eval()
    b.weight.requires_grad_(False)
    with pytest.raises(RuntimeError), in_mode(a, b, training=True, frozen=True):
        assert a.training and b.training and not a.weight.requires_grad
        raise RuntimeError
    assert a.training and not b.training
    assert a.weight.requires_grad and not b.weight.requires_grad and b.bias.requires_grad


class _Result:
    def __init__(self, config, weights):
        self.meta, self.weights = {"experiment": "x", "config": config}, weights


def test_load_model_builds_from_the_config_and_refuses_what_it_cannot_load():
    state = nn.Linear(3, 2).state_dict()
    model = load_model(_Result({"n_in": 3, "n_out": 2}, {"model": state}), nn.Linear,
                       in_features="n_in", out_features="n_out")
    assert not model.training and torch.equal(model.weight, state["weight"])
    with pytest.raises(ValueError, match="kept no weights 'vae'"):
        load_model(_Result({}, {"model": state}), nn.Linear, weights="vae")
    with pytest.raises(TypeError, match="nn.Module class"):
        load_model(_Result({}, {"model": state}), lambda: None)
