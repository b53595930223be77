"""Each experiment owns its configs: they validate themselves, and the full budget's configs
are exactly those of the committed results (so `results/full` loads without recomputation)."""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import trustml.experiments  # noqa: F401  (registers every experiment)
from trustml.core.budget import BUDGET_NAMES
from trustml.core.cache import REGISTRY, _jsonable, config_hash, run_or_load
from trustml.core.validate import UNIT, Interval, check_config, integer, real
from trustml.experiments.adversarial import (
    AttackEvalConfig,
    AutoAttackConfig,
    RadiusSweepConfig,
    RobustTrainingConfig,
)
from trustml.experiments.classifier import ClassifierConfig
from trustml.experiments.membership import LogisticConfig

RESULTS = Path(__file__).resolve().parents[2] / "results" / "full"

# The hashes of the committed full-budget entries; a change here means a full recompute.
FULL_HASHES = {
    "cifar-attacks": "ebfd3efde48fa329",
    "cifar-attacks-autoattack": "e58f52e9f31d5ffe",
    "cifar-eval-fgsm": "3b2ad0818e71f292",
    "cifar-eval-fgsmrs": "f281faa0e0aec132",
    "cifar-eval-pgd": "c9d3568dd62a7acf",
    "cifar-eval-pgd-halves": "3dfd0a15f1724471",
    "cifar-eval-pgd-halves-11": "3372c68a08ae3815",
    "cifar-fgsm-defence": "0270e79d3a6be2c0",
    "cifar-fgsmrs-defence": "a17409ca387abaa7",
    "cifar-gradients": "ae2f27ff6f9048f8",
    "cifar-noise": "d9d91d63aa8bf318",
    "cifar-pgd-defence": "5dbe8e3c41031e7f",
    "cifar-pgd-halves-defence": "1fb4a7b1c66281eb",
    "cifar-pgd-halves-11-defence": "14435c328760d2ff",
    "cifar-standard": "992ce4d8eb8dd5ca",
    "cifar-step-costs": "9b846866950cc182",
    "cifar-study": "110c4a1eb8312086",
    "data-overview": "7c92a8e37e084bdf",
    "ex1-compare": "d8cc8fb71df205f3",
    "ex1-convgan": "9e773a4aa97e399f",
    "ex1-gan": "71b96bcaa64b21d2",
    "ex1-vae": "2c644aa373d9f696",
    "ex2-robust-regression": "41187bc031eac666",
    "ex3-autoattack-fgsm": "0aff98c81ed33d3e",
    "ex3-autoattack-fgsm-rs": "927bbf83a5b7a7b3",
    "ex3-autoattack-pgd": "b5ad88f688fee88b",
    "ex3-autoattack-pgd-0.3": "f35810ccae8dfb52",
    "ex3-autoattack-standard": "abe1eabb8d3f3f3a",
    "ex3-eval-fgsm": "876878e31f804603",
    "ex3-eval-fgsm-rs": "35b0a3b3f3f925cf",
    "ex3-eval-pgd": "cc6885c50b8d14c6",
    "ex3-eval-pgd-0.3": "2e27c170d389a0e6",
    "ex3-eval-standard": "e1ef61c2de4ff9ee",
    "ex3-fgsm-model": "53f2182a82e591f2",
    "ex3-fgsm-plain-model": "74c5eddd82ee3071",
    "ex3-pgd-model": "61e535a032201364",
    "ex3-radius-sweep": "b544636c4ad6f281",
    "ex3-strong-model": "f0a5cbca244bbc50",
    "ex4-gaussian-mean": "807b8af475470f73",
    "ex4-logistic": "20aa24e7ee0b5099",
    "ext-vae-beta": "12a83679fd4ccea8",
    "ext-vae-bpd": "61fa22a2e2df6c11",
    "ext-vae-latents": "c33716ce0a6e2748",
    "ext-vae-theory": "9c4fc9b8321a9030",
    "mnist-standard-cnn": "d246c6d446f2f16a",
}


@pytest.mark.parametrize("name", sorted(FULL_HASHES))
def test_full_configs_match_the_committed_results(name):
    exp = REGISTRY[name]
    config = exp.config_for("full")
    assert config_hash(exp, config) == FULL_HASHES[name]
    folder = RESULTS / name / FULL_HASHES[name]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["config"] == _jsonable(config) and manifest["version"] == exp.version


def test_every_experiment_is_pinned_and_has_every_budget():
    assert sorted(REGISTRY) == sorted(FULL_HASHES)
    assert sorted(p.name for p in RESULTS.iterdir()) == sorted(FULL_HASHES)
    for exp in REGISTRY.values():
        assert sorted(exp.configs) == sorted(BUDGET_NAMES)


@pytest.mark.parametrize("name", sorted(FULL_HASHES))
def test_smoke_is_no_bigger_than_full(name):
    """Every size of the smoke config is at most its full counterpart (None: everything)."""
    exp = REGISTRY[name]

    def sizes(value, path=""):
        if dataclasses.is_dataclass(value):
            for f in dataclasses.fields(value):
                yield from sizes(getattr(value, f.name), f"{path}.{f.name}")
        elif isinstance(value, int | None) and not isinstance(value, bool):
            yield path, value

    full, smoke = dict(sizes(exp.config_for("full"))), dict(sizes(exp.config_for("smoke")))
    for key, small in smoke.items():
        big = full.get(key, small)
        if key.endswith("seed") or big is None:
            continue
        assert small is not None and small <= big, key


@pytest.mark.parametrize(("make", "field"), [
    (lambda: AttackEvalConfig("mnist-standard-cnn", (0.1,), -5, 5, 1, 3, 5), "test_limit"),
    (lambda: AttackEvalConfig("mnist-standard-cnn", (0.1,), 0, 5, 1, 3, 5), "test_limit"),
    (lambda: AttackEvalConfig("mnist-standard-cnn", (1.5,), None, 5, 1, 3, 5), r"eps\[0\]"),
    (lambda: AttackEvalConfig("nope", (0.1,), None, 5, 1, 3, 5), "unknown models"),
    (lambda: AttackEvalConfig("mnist-standard-cnn", (), None, 5, 1, 3, 5), "eps"),
    (lambda: AutoAttackConfig("mnist-standard-cnn", (0.1,), (0.3,), 100, 5, 5, 10), "full_eps"),
    (lambda: AutoAttackConfig("mnist-standard-cnn", (0.1,), (0.1,), 0, 5, 5, 10), r"\bn\b"),
    (lambda: RadiusSweepConfig(("ex3-pgd-model",), (0.3, 0.2), 100, 5, 1, 2, 5), "increasing"),
    (lambda: RadiusSweepConfig(("nope",), (0.2,), 100, 5, 1, 2, 5), "unknown models"),
    (lambda: RadiusSweepConfig(("ex3-pgd-model",), (0.2,), 0, 5, 1, 2, 5), "test_limit"),
    (lambda: RadiusSweepConfig(("ex3-pgd-model",), (0.2, 1.2), 100, 5, 1, 2, 5), r"eps\[1\]"),
    (lambda: ClassifierConfig(epochs=1, train_limit=-10), "train_limit"),
    (lambda: ClassifierConfig(epochs=0, train_limit=None), "epochs"),
    (lambda: ClassifierConfig(epochs=True, train_limit=None), "epochs"),
    (lambda: ClassifierConfig(epochs=1, train_limit=None, lr=float("nan")), "lr"),
    (lambda: ClassifierConfig(epochs=1, train_limit=None, lr=-1.0), "lr"),
    (lambda: ClassifierConfig(epochs=1, train_limit=None, seed=-1), "seed"),
    (lambda: RobustTrainingConfig("bogus", 0.1, 1, None), "method"),
    (lambda: dataclasses.replace(REGISTRY["ex4-logistic"].config_for("smoke"), population=7),
     "population"),
    (lambda: dataclasses.replace(REGISTRY["ex4-logistic"].config_for("smoke"), targets=99),
     "targets"),
    (lambda: dataclasses.replace(REGISTRY["ex1-compare"].config_for("smoke"), sizes=(10**6,)),
     "sizes"),
    (lambda: dataclasses.replace(REGISTRY["ex4-logistic"].config_for("smoke"), dp_delta=1.0),
     "dp_delta"),
])
def test_nonsensical_configs_name_the_field(make, field):
    with pytest.raises(ValueError, match=field):
        make()


@given(st.one_of(st.integers(-10**6, 10**6), st.none(), st.floats(allow_nan=True),
                 st.booleans(), st.text(max_size=3)))
def test_limits_are_none_or_positive_integers(limit):
    valid = limit is None or (type(limit) is int and limit >= 1)
    if valid:
        assert ClassifierConfig(epochs=1, train_limit=limit).train_limit == limit
    else:
        with pytest.raises(ValueError, match="ClassifierConfig.train_limit"):
            ClassifierConfig(epochs=1, train_limit=limit)


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3),
                 st.booleans(), st.none()))
def test_eps_must_be_a_finite_number_in_the_unit_interval(eps):
    valid = (not isinstance(eps, bool) and isinstance(eps, int | float)
             and math.isfinite(eps) and 0 <= eps <= 1)
    if valid:
        RobustTrainingConfig("pgd", eps, 1, None)
    else:
        with pytest.raises(ValueError, match="RobustTrainingConfig.eps"):
            RobustTrainingConfig("pgd", eps, 1, None)


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(-2, 2), st.floats(-2, 2),
       st.booleans(), st.booleans())
def test_interval_membership(value, lo, hi, lo_open, hi_open):
    interval = Interval(lo, hi, lo_open, hi_open)
    expected = (lo < value if lo_open else lo <= value) and (value < hi if hi_open else value <= hi)
    assert (value in interval) == expected


def test_scalars_of_numpy_and_torch_are_accepted():
    import numpy as np
    import torch

    assert real(np.float32(0.5), "eps", UNIT) == 0.5
    assert real(torch.tensor(0.25), "eps", UNIT) == 0.25
    assert integer(np.int64(3), "steps") == 3
    for bad in (True, torch.tensor([0.1, 0.2]), "0.1", None):
        with pytest.raises(ValueError, match="eps must be a real number"):
            real(bad, "eps", UNIT)


def test_unknown_range_field_is_a_programming_error():
    with pytest.raises(TypeError, match="no fields"):
        check_config(ClassifierConfig(1, None), eps=UNIT)


def test_logistic_smoke_config_is_valid_and_frozen():
    config = REGISTRY["ex4-logistic"].config_for("smoke")
    assert isinstance(config, LogisticConfig)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.population = 4  # type: ignore[misc]


@pytest.mark.parametrize("name", sorted(FULL_HASHES))
def test_full_results_load_without_recomputation_from_any_folder(name, tmp_path, monkeypatch):
    def recompute(config, budget):
        raise AssertionError(f"{name} would be recomputed")

    monkeypatch.delenv("TRUSTML_CACHE", raising=False)
    monkeypatch.chdir(tmp_path)
    exp = dataclasses.replace(REGISTRY[name], run=recompute)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a corrupt entry warns
        result = run_or_load(exp, budget="full")
    assert not result.meta["computed"] and result.meta["path"] == str(RESULTS / name / FULL_HASHES[name])
