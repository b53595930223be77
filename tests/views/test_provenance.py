"""The results stamp a chapter shows, and what the cache records as used."""

from __future__ import annotations

from tests.core.test_cache import toy
from trustml.core.budget import get_budget
from trustml.core.cache import entry_dir, run_or_load, used_results
from trustml.views.provenance import ResultsStamp, parse_stamps, results_used


def test_stamp_round_trips_and_is_an_html_comment():
    used = {("full", "ex1-vae"): "a56bde3a0f0e8a30", ("full", "data-overview"): "7c92a8e37e084bdf"}
    md = ResultsStamp(used)._repr_markdown_()
    assert md.startswith("<!-- trustml-results ") and md.rstrip().endswith("-->")
    assert parse_stamps("text before\n" + md + "text after") == used
    assert parse_stamps("no stamp here") == {}


def test_cache_records_what_a_process_used(cache_dir):
    exp, _ = toy()
    run_or_load(exp, budget="smoke")
    smoke = get_budget("smoke")
    folder = entry_dir(exp, exp.config_for(smoke), smoke)
    assert used_results()[("smoke", "toy")] == folder.name
    assert ("smoke", "toy") in results_used().used
