import json
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch

from trustml.core.budget import get_budget
from trustml.core.cache import (
    HASH_WHEN_SET,
    REGISTRY,
    CacheWarning,
    Experiment,
    Result,
    config_hash,
    entry_dir,
    get_experiment,
    run_or_load,
)
from trustml.core.errors import UnknownExperimentError


@dataclass(frozen=True)
class ToyConfig:
    n: int
    seed: int = 0


@dataclass
class MutableConfig:
    n: int


class Counter:
    def __init__(self):
        self.calls = 0

    def __call__(self, config: ToyConfig, budget) -> Result:
        self.calls += 1
        rng = np.random.default_rng(config.seed)
        return Result(
            metrics={"n": config.n, "mean": np.float64(rng.normal())},
            arrays={"x": rng.normal(size=(config.n, 3))},
            weights={"lin": {"weight": torch.full((2, 2), float(config.n))}},
        )


def toy(version: int = 1) -> tuple[Experiment, Counter]:
    fn = Counter()
    return Experiment("toy", version, fn, {"full": ToyConfig(n=4), "smoke": ToyConfig(n=4)}), fn


def test_round_trip_and_reuse(cache_dir):
    exp, fn = toy()
    first = run_or_load(exp, budget="smoke")
    second = run_or_load(exp, budget="smoke")
    assert fn.calls == 1
    assert first.metrics == second.metrics and second.metrics["n"] == 4
    np.testing.assert_array_equal(first.arrays["x"], second.arrays["x"])
    assert torch.equal(second.weights["lin"]["weight"], torch.full((2, 2), 4.0))
    assert second.meta["budget"] == "smoke" and second.meta["config"] == {"n": 4, "seed": 0}
    folder = entry_dir(exp, ToyConfig(4), get_budget("smoke"))
    assert folder.parent.parent == cache_dir / "smoke"
    assert sorted(p.name for p in folder.iterdir()) == [
        "arrays.npz", "manifest.json", "metrics.json", "weights.pt"]


def test_key_depends_on_config_version_and_budget(cache_dir):
    exp, fn = toy()
    run_or_load(exp, ToyConfig(4), budget="smoke")
    run_or_load(exp, ToyConfig(5), budget="smoke")
    run_or_load(exp, ToyConfig(4), budget="full")
    assert fn.calls == 3
    exp2, _ = toy(version=2)
    assert config_hash(exp, ToyConfig(4)) != config_hash(exp2, ToyConfig(4))
    assert config_hash(exp, ToyConfig(4)) == config_hash(exp, ToyConfig(4))


@dataclass(frozen=True)
class GrownConfig:
    """ToyConfig with a field added later, hashed only when set."""

    n: int = 3
    seed: int = 0
    radius: float | None = field(default=None, metadata=HASH_WHEN_SET)


def test_a_field_hashed_when_set_keeps_the_hash_at_its_default():
    exp, _ = toy()
    before = config_hash(exp, ToyConfig(4))
    # the same class name and fields as ToyConfig: only the new field could change the hash
    GrownConfig.__qualname__ = ToyConfig.__qualname__
    assert config_hash(exp, GrownConfig(4)) == before
    assert config_hash(exp, GrownConfig(4, radius=0.1)) != before
    assert config_hash(exp, GrownConfig(4, radius=0.1)) != config_hash(exp, GrownConfig(4, radius=0.2))


def test_force_recomputes(cache_dir):
    exp, fn = toy()
    run_or_load(exp, budget="smoke")
    run_or_load(exp, budget="smoke", force=True)
    assert fn.calls == 2


@pytest.mark.parametrize("damage", ["truncate_npz", "bad_json", "no_manifest", "edit_metrics"])
def test_corrupt_entry_is_reported_and_recomputed(cache_dir, damage):
    exp, fn = toy()
    good = run_or_load(exp, budget="smoke")
    folder = entry_dir(exp, ToyConfig(4), get_budget("smoke"))
    if damage == "truncate_npz":
        data = (folder / "arrays.npz").read_bytes()
        (folder / "arrays.npz").write_bytes(data[: len(data) // 2])
    elif damage == "bad_json":
        (folder / "manifest.json").write_text("{not json")
    elif damage == "no_manifest":
        (folder / "manifest.json").unlink()
    else:
        (folder / "metrics.json").write_text(json.dumps({"n": 999}))
    with pytest.warns(CacheWarning, match="corrupt cache entry"):
        again = run_or_load(exp, budget="smoke")
    assert fn.calls == 2
    assert again.metrics == good.metrics
    np.testing.assert_array_equal(again.arrays["x"], good.arrays["x"])


def test_failed_experiment_leaves_no_entry(cache_dir):
    def boom(config, budget):
        raise RuntimeError("diverged")

    exp = Experiment("boom", 1, boom, {"full": ToyConfig(1), "smoke": ToyConfig(1)})
    with pytest.raises(RuntimeError, match="diverged"):
        run_or_load(exp, budget="smoke")
    assert [p.suffix for p in cache_dir.rglob("*") if p.is_file()] == [".lock"]


def test_unserialisable_metrics_leave_no_entry(cache_dir):
    exp = Experiment("bad", 1, lambda c, b: Result(metrics={"x": object()}),
                     {"full": ToyConfig(1), "smoke": ToyConfig(1)})
    with pytest.raises(TypeError, match="JSON"):
        run_or_load(exp, budget="smoke")
    assert [p.suffix for p in cache_dir.rglob("*") if p.is_file()] == [".lock"]


def test_config_must_be_frozen_dataclass(cache_dir):
    exp, _ = toy()
    with pytest.raises(TypeError, match="frozen dataclass"):
        run_or_load(exp, MutableConfig(3), budget="smoke")


def test_unknown_experiment_lists_known_ones():
    with pytest.raises(UnknownExperimentError) as info:
        get_experiment("no-such-thing")
    assert "data-overview" in str(info.value) and "python -m trustml list" in str(info.value)
    assert "data-overview" in REGISTRY


def test_parallel_loader_says_truthfully_what_it_loaded_and_computed(cache_dir, monkeypatch):
    from trustml.core.cache import run_or_load_parallel

    exp, fn = toy()
    other = Experiment("toy-other", 1, Counter(), {"full": ToyConfig(n=2), "smoke": ToyConfig(n=2)})
    monkeypatch.setitem(REGISTRY, "toy", exp)
    monkeypatch.setitem(REGISTRY, "toy-other", other)
    run_or_load(exp, budget="smoke")
    results = run_or_load_parallel(["toy", "toy-other"], budget="smoke")
    assert results["toy"].meta["computed"] is False and results["toy"].meta["seconds"] >= 0
    assert results["toy-other"].meta["computed"] is True
    from trustml.cli import provenance

    assert "loaded in" in provenance(results["toy"])
    assert "computed in" in provenance(results["toy-other"])


def test_registered_experiments_computed_in_worker_processes_are_found_there(cache_dir):
    """A spawned worker is a fresh interpreter whose registry is empty: it imports the module that
    registers the experiment (the core imports no experiment module itself)."""
    import importlib
    import sys

    from trustml.core.cache import run_or_load_parallel

    importlib.import_module("tests.core.worker_experiments")
    try:
        results = run_or_load_parallel(["worker-toy-a", "worker-toy-b"], budget="smoke")
    finally:
        for name in ("worker-toy-a", "worker-toy-b"):
            REGISTRY.pop(name, None)
        sys.modules.pop("tests.core.worker_experiments", None)
    assert {name: (r.metrics["answer"], r.meta["computed"]) for name, r in results.items()} == {
        "worker-toy-a": (42, True), "worker-toy-b": (42, True)}
