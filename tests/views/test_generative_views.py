"""Exercise 1's comparison figures: one colour per source in every figure."""

from __future__ import annotations

import pytest
from matplotlib.colors import to_hex


@pytest.fixture(scope="module")
def results():
    from trustml.views import generative as view

    return view.compute()


def test_each_source_keeps_its_colour_from_figure_to_figure(results):
    from trustml.views.generative import MODELS, class_histogram_figure, metrics_figure

    fid_axes = metrics_figure(results).axes[0]
    by_line = {c.get_label(): to_hex(c.lines[0].get_color()) for c in fid_axes.containers}
    bars = class_histogram_figure(results).axes[0].containers
    by_bar = {b.get_label(): to_hex(b.patches[0].get_facecolor()) for b in bars}
    assert set(MODELS) <= set(by_line) and set(MODELS) <= set(by_bar)
    for name in MODELS:
        assert by_line[name] == by_bar[name], name
    real = {by_line["train images (floor)"], by_bar["test images"]}
    assert len(real) == 1 and real.isdisjoint(by_line[m] for m in MODELS)
