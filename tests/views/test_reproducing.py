"""The appendix "Reproducing this report": per-experiment compute times from the cache manifests."""

from __future__ import annotations

import pytest

from trustml.core.budget import get_budget
from trustml.core.cache import entry_dir, get_experiment, run_or_load
from trustml.views import reproducing as view


def test_every_experiment_has_a_part():
    timings = view.compute_times("full")
    names = [t.experiment for t in timings]
    assert len(names) == len(set(names)) and "ex2-robust-regression" in names
    for t in timings:
        assert t.part != "other", t.experiment


def test_times_are_read_from_the_manifests(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTML_CACHE", str(tmp_path))
    timings = view.compute_times("smoke")
    assert all(t.elapsed_s is None for t in timings)  # an empty cache
    assert view.total_seconds(timings) == 0.0
    assert "not in the cache yet" in view.missing_sentence(view.missing(timings))

    result = run_or_load("ex4-gaussian-mean", budget="smoke")
    timings = view.compute_times("smoke")
    (t,) = [t for t in timings if t.experiment == "ex4-gaussian-mean"]
    assert t.elapsed_s == pytest.approx(result.meta["elapsed_s"])
    assert t.part == "Exercise 4" and t.created and t.torch
    assert view.total_seconds(timings) == pytest.approx(result.meta["elapsed_s"])
    assert view.part_seconds(timings) == {"Exercise 4": pytest.approx(result.meta["elapsed_s"])}
    table = view.times_table(timings)
    assert table.rows()[-1][0] == "all"
    assert "not computed" in table._repr_markdown_()


def test_a_corrupt_manifest_counts_as_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUSTML_CACHE", str(tmp_path))
    exp = get_experiment("data-overview")
    folder = entry_dir(exp, exp.config_for("smoke"), get_budget("smoke"))
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text("{not json")
    (t,) = [t for t in view.compute_times("smoke") if t.experiment == "data-overview"]
    assert t.elapsed_s is None


def test_committed_full_budget_times_are_all_there():
    timings = view.compute_times("full")
    assert view.missing(timings) == []
    assert view.total_seconds(timings) > 60


@pytest.mark.parametrize(("name", "part"), [
    ("data-overview", "Data (appendix)"), ("mnist-standard-cnn", "Exercises 1 and 3"),
    ("ex1-vae", "Exercise 1"), ("ex3b-attacks-standard", "Exercise 3"),
    ("ext-vae-bpd", "HW3 question 1"), ("something-else", "other")])
def test_part_of(name, part):
    assert view.part_of(name) == part
