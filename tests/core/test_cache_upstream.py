"""An entry records the upstream results it was computed from and is recomputed when one of
them changes (a model retrained under another config must not keep its old evaluation)."""

import dataclasses
import json

import pytest

from trustml.core.budget import get_budget
from trustml.core.cache import (
    REGISTRY,
    CacheWarning,
    Experiment,
    Result,
    config_hash,
    entry_dir,
    run_or_load,
)


@dataclasses.dataclass(frozen=True)
class Sized:
    n: int


def _register(monkeypatch, name: str, run, n: int = 1) -> Experiment:
    exp = Experiment(name, 1, run, {"full": Sized(n), "smoke": Sized(n)})
    monkeypatch.setitem(REGISTRY, name, exp)
    return exp


@pytest.fixture
def chain(cache_dir, monkeypatch):
    """model <- evaluation <- report, each loading the one before at its default config; the
    report also loads an explicit-config variant of the evaluation."""
    calls = {"model": 0, "evaluation": 0, "report": 0}

    def model(config, budget):
        calls["model"] += 1
        return Result(metrics={"weight": config.n})

    def evaluation(config, budget):
        calls["evaluation"] += 1
        return Result(metrics={"score": 10 * run_or_load("toy-model", budget=budget).metrics["weight"]})

    def report(config, budget):
        calls["report"] += 1
        return Result(metrics={"text": run_or_load("toy-eval", budget=budget).metrics["score"]})

    _register(monkeypatch, "toy-model", model, n=1)
    _register(monkeypatch, "toy-eval", evaluation)
    _register(monkeypatch, "toy-report", report)
    return calls


def _retrain(monkeypatch, n: int) -> None:
    """Change the model's default config, as a switch such as `bf16=True` would."""
    exp = REGISTRY["toy-model"]
    monkeypatch.setitem(REGISTRY, "toy-model", dataclasses.replace(
        exp, configs={"full": Sized(n), "smoke": Sized(n)}))


def test_the_manifest_names_every_upstream_entry_transitively(chain):
    report = run_or_load("toy-report", budget="smoke")
    smoke = get_budget("smoke")
    model, evaluation = REGISTRY["toy-model"], REGISTRY["toy-eval"]
    assert report.meta["upstream"] == {
        "toy-eval": config_hash(evaluation, evaluation.config_for(smoke)),
        "toy-model": config_hash(model, model.config_for(smoke))}
    manifest = json.loads((entry_dir(REGISTRY["toy-report"], Sized(1), smoke)
                           / "manifest.json").read_text())
    assert manifest["upstream"] == report.meta["upstream"]
    assert run_or_load("toy-model", budget="smoke").meta["upstream"] == {}


def test_a_changed_model_makes_its_evaluations_stale(chain, monkeypatch):
    assert run_or_load("toy-report", budget="smoke").metrics["text"] == 10
    assert chain == {"model": 1, "evaluation": 1, "report": 1}
    assert run_or_load("toy-report", budget="smoke").metrics["text"] == 10
    assert chain == {"model": 1, "evaluation": 1, "report": 1}  # all cached
    _retrain(monkeypatch, 2)
    with pytest.warns(CacheWarning, match="stale cache entry .*toy-model"):
        result = run_or_load("toy-report", budget="smoke")
    assert result.metrics["text"] == 20  # never the old evaluation of the old model
    assert chain == {"model": 2, "evaluation": 2, "report": 2}


def test_an_explicit_config_passes_on_its_upstream_but_is_not_itself_checked(
        cache_dir, monkeypatch):
    def model(config, budget):
        return Result(metrics={"weight": config.n})

    def sweep(config, budget):  # a model at a config derived from the caller's (in its hash)
        variant = run_or_load("toy-model", Sized(config.n + 5), budget)
        return Result(metrics={"w": variant.metrics["weight"]})

    _register(monkeypatch, "toy-model", model)
    _register(monkeypatch, "toy-sweep", sweep)
    assert run_or_load("toy-sweep", budget="full").meta["upstream"] == {}
    _retrain(monkeypatch, 3)  # the default model changed: the sweep did not use it
    assert run_or_load("toy-sweep", budget="full").meta["computed"] is False


def test_an_upstream_experiment_no_longer_registered_makes_the_entry_stale(chain, monkeypatch):
    run_or_load("toy-eval", budget="smoke")
    monkeypatch.delitem(REGISTRY, "toy-model")
    folder = entry_dir(REGISTRY["toy-eval"], Sized(1), get_budget("smoke"))
    from trustml.core.cache import _try_load

    with pytest.warns(CacheWarning, match="toy-model"):
        assert _try_load(folder, REGISTRY["toy-eval"], Sized(1)) is None


def test_an_entry_without_the_record_still_loads(chain):
    """Entries written before the record existed hold no `upstream`: they load as before."""
    run_or_load("toy-eval", budget="smoke")
    folder = entry_dir(REGISTRY["toy-eval"], Sized(1), get_budget("smoke"))
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["upstream"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    result = run_or_load("toy-eval", budget="smoke")
    assert result.meta["computed"] is False and chain["evaluation"] == 1


def test_a_failed_computation_leaves_no_frame_behind(chain, monkeypatch):
    from trustml.core import cache

    def broken(config, budget):
        run_or_load("toy-model", budget=budget)
        raise RuntimeError("boom")

    _register(monkeypatch, "toy-broken", broken)
    with pytest.raises(RuntimeError, match="boom"):
        run_or_load("toy-broken", budget="smoke")
    assert cache._COMPUTING == []
    assert run_or_load("toy-eval", budget="smoke").meta["upstream"] == {
        "toy-model": config_hash(REGISTRY["toy-model"], Sized(1))}


def test_time_spent_computing_an_upstream_entry_is_nested_not_own(cache_dir, monkeypatch):
    """An evaluation that trains its model on first use: the model's time is counted once, in
    the model's entry (`own_seconds` of the evaluation leaves it out)."""
    import time

    from trustml.core.cache import own_seconds

    def model(config, budget):
        time.sleep(0.3)
        return Result(metrics={"weight": 1})

    def evaluation(config, budget):
        run_or_load("toy-model", budget=budget)
        time.sleep(0.1)
        return Result(metrics={"score": 1})

    _register(monkeypatch, "toy-model", model)
    _register(monkeypatch, "toy-eval", evaluation)
    meta = run_or_load("toy-eval", budget="smoke").meta
    trained = run_or_load("toy-model", budget="smoke").meta["elapsed_s"]
    assert meta["nested_s"] == pytest.approx(trained, abs=0.05)
    assert meta["elapsed_s"] >= 0.4 and 0.1 <= own_seconds(meta) < 0.3
    assert own_seconds({"elapsed_s": 2.0}) == 2.0  # entries from before the record
    assert own_seconds({"elapsed_s": 2.0, "nested_s": "x"}) == 2.0
    assert own_seconds({"elapsed_s": 1.0, "nested_s": 3.0}) == 0.0


def test_the_whole_book_command_counts_a_stale_entry_as_to_compute(chain, monkeypatch):
    from trustml.core.run_all import run_all

    run_all(["toy-model", "toy-eval"], "smoke", out=lambda _: None)
    _retrain(monkeypatch, 2)
    lines: list[str] = []
    with pytest.warns(CacheWarning, match="stale"):
        steps = run_all(["toy-model", "toy-eval"], "smoke", out=lines.append)
    assert "0 cached, 2 to compute" in lines[0]
    assert [s.computed for s in steps] == [True, True]
    assert run_or_load("toy-eval", budget="smoke").metrics["score"] == 20


def test_the_cache_listing_marks_a_stale_entry(chain, monkeypatch, capsys):
    from trustml import cli

    run_or_load("toy-eval", budget="smoke")
    _retrain(monkeypatch, 2)
    assert cli.main(["cache"]) == 0  # stale is not bad: it is recomputed when next needed
    lines = capsys.readouterr().out.splitlines()
    (eval_line,) = [line for line in lines if line.split()[1:2] == ["toy-eval"]]
    (model_line,) = [line for line in lines if line.split()[1:2] == ["toy-model"]]
    assert "stale: computed from another toy-model" in eval_line and "stale" not in model_line
