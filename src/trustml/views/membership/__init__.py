"""Exercise 4's tables, figures and computed sentences.

The package splits the jobs: `common` (constants, helpers, `compute`), `tables`, `figures`
and `prose` (the sentences); everything is re-exported here, so a chapter calls `view.<name>`.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from trustml.core.cache import Result
from trustml.views.membership.common import (  # noqa: F401
    ATTACK_LABEL,
    MODEL_LABEL,
    _band,
    _interval,
    _roc_axes,
    _tidy,
    attack,
    best_under,
    compute,
    confidence,
    defences,
    dp_bound_at,
    dp_models,
    noise_collapse,
    noise_point,
    sweep,
)
from trustml.views.membership.figures import (  # noqa: F401
    confidence_figure,
    defences_figure,
    dp_roc_figure,
    gaussian_defence_figure,
    gaussian_figure,
    noise_attack_figure,
    noise_figure,
    roc_figure,
    sweep_figure,
)
from trustml.views.membership.prose import (  # noqa: F401
    dp_answer_phrase,
    dp_guarantee_sentence,
    l2_cost_phrase,
    leak_phrase,
    leak_verdict,
    lira_answer_phrase,
)
from trustml.views.membership.tables import attacks_table, convergence_table, dp_attack_table, dp_table  # noqa: F401


def summary(results: Mapping[str, Result]) -> str:
    """Plain-text tables for the command line (`python -m trustml ex4`)."""
    gaussian, logistic = results["ex4-gaussian-mean"], results["ex4-logistic"]
    a = gaussian.arrays
    g = pd.DataFrame({"d": a["dims"], "in-sample": a["in_sample"][0], "fresh": a["fresh"][0],
                      "theory": a["theory"]})
    return "\n\n".join([
        g.iloc[:: max(1, len(g) // 10)].to_string(index=False, float_format="%.3f"),
        convergence_table(logistic).text(),
        attacks_table(logistic).text(),
        dp_table(logistic).text(),
        dp_attack_table(logistic).text(),
    ])

