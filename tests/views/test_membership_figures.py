"""Exercise 4's noise figures are in the form 4(b) asks for."""

from __future__ import annotations

import numpy as np

from trustml.core.cache import Result
from trustml.views.membership import noise_attack_figure, noise_figure


def _noise_result() -> Result:
    rng = np.random.default_rng(0)
    sigma2 = np.array([0.0, 1e-3, 1e-2, 1e-1, 1.0, 5.0])
    arrays = {"noise_sigma2": sigma2}
    for name in ("none", "l2"):
        for key, level in (("train", 0.9), ("test", 0.7), ("attack", 0.6)):
            arrays[f"noise_{name}_{key}"] = level + 0.01 * rng.normal(size=(len(sigma2), 4))
    return Result(metrics={"noise_C": 0.1}, arrays=arrays)


def test_the_attack_accuracy_of_both_models_is_one_plot():
    """'A plot with sigma^2 on the x-axis and the attack accuracy of both models': one axis, one
    line per model, against the noise variance."""
    result = _noise_result()
    fig = noise_attack_figure(result)
    (ax,) = fig.axes
    curves = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert [line.get_label() for line in curves] == ["no regularisation", "L2, C = 0.1"]
    for line, name in zip(curves, ("none", "l2"), strict=True):
        np.testing.assert_allclose(line.get_xdata(), result.arrays["noise_sigma2"])
        np.testing.assert_allclose(line.get_ydata(), result.arrays[f"noise_{name}_attack"].mean(1))
    assert "σ²" in ax.get_xlabel()


def test_the_accuracy_figure_has_one_graph_per_model_without_the_attack():
    fig = noise_figure(_noise_result())
    assert [ax.get_title() for ax in fig.axes] == ["no regularisation", "L2, C = 0.1"]
    for ax in fig.axes:
        labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
        assert labels == ["train accuracy", "test accuracy"]
