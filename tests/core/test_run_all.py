"""`python -m trustml all`: every declared experiment in order, loading cached ones, with an
estimate of the time left, a table of times, and a resumable run (the cache keeps what finished)."""

from __future__ import annotations

import dataclasses

import pytest

import trustml.experiments  # noqa: F401  (registers and declares)
from tests.dummy_experiment import dummy
from trustml import cli
from trustml.core.cache import REGISTRY
from trustml.core.run_all import previous_seconds, run_all


@pytest.fixture
def two_dummies(cache_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("DUMMY_LOG", str(tmp_path / "log"))
    first, second = dummy(0.0), dataclasses.replace(dummy(0.01), name="dummy-2")
    monkeypatch.setitem(REGISTRY, "dummy", first)
    monkeypatch.setitem(REGISTRY, "dummy-2", second)
    return ["dummy", "dummy-2"], tmp_path / "log"


def test_a_run_counts_the_experiments_and_tables_their_times(two_dummies):
    names, log = two_dummies
    lines = []
    steps = run_all(names, "smoke", out=lines.append)
    assert [s.name for s in steps] == names and all(s.computed for s in steps)
    assert "2 to compute (2 never run before)" in lines[0]
    assert "[1/2] dummy" in lines and "[2/2] dummy-2" in lines
    assert lines[-1].splitlines()[0].startswith("experiment") and "total" in lines[-1]
    assert log.read_text().count("computed") == 2


def test_a_second_run_loads_everything_and_an_interrupted_one_resumes(two_dummies, monkeypatch):
    names, log = two_dummies
    run_all(names[:1], "smoke", out=lambda _: None)  # as if interrupted after the first
    lines = []
    steps = run_all(names, "smoke", out=lines.append)
    assert [s.computed for s in steps] == [False, True] and "1 cached, 1 to compute" in lines[0]
    assert log.read_text().count("computed") == 2  # the first was not computed again
    assert all(not s.computed for s in run_all(names, "smoke", out=lambda _: None))


def test_the_estimate_comes_from_an_earlier_manifest_of_any_config(two_dummies):
    names, _ = two_dummies
    from trustml.core.budget import get_budget

    assert previous_seconds("dummy-2", get_budget("smoke")) is None
    run_all(names, "smoke", out=lambda _: None)
    earlier = previous_seconds("dummy-2", get_budget("smoke"))
    assert earlier is not None and earlier >= 0.01
    lines = []
    run_all(names, "smoke", force=True, out=lines.append)
    assert "by earlier runs" in lines[0] and "never run" not in lines[0]


def test_the_command_runs_every_declared_experiment(monkeypatch, capsys):
    seen = []
    monkeypatch.setattr("trustml.core.run_all.run_all",
                        lambda names, **kw: seen.append(tuple(names)))
    assert cli.main(["all", "--budget", "smoke"]) == 0
    assert seen == [trustml.experiments.ALL]
    assert set(seen[0]) == {n for n in REGISTRY if not n.startswith("dummy")}
