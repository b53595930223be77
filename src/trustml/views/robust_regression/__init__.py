"""Exercise 2's tables, figures and computed sentences.

The package splits the jobs: `common` (constants, helpers, `compute`), `tables`, `figures`
and `prose` (the sentences); everything is re-exported here, so a chapter calls `view.<name>`.
"""

from __future__ import annotations

from collections.abc import Mapping

from trustml.core.cache import Result
from trustml.views.robust_regression.common import (  # noqa: F401
    CHECKS,
    IDENTITY_CHECKS,
    MINMAX_CHECKS,
    TOLERANCE,
    _mean_count,
    _tol,
    compute,
    failing_checks,
    pivotal_row,
    rows,
    worst,
)
from trustml.views.robust_regression.figures import objective_grid_figure, paths_figure  # noqa: F401
from trustml.views.robust_regression.prose import (  # noqa: F401
    bundle_sentence,
    entry_points,
    minmax_sentence,
    paths_sentence,
    support_recovery_sentence,
    tolerance_sentence,
    weights_sentence,
)
from trustml.views.robust_regression.tables import differences_table, instances_table, pivotal_table  # noqa: F401


def summary(results: Mapping[str, Result]) -> str:
    """Plain-text tables for the command line (`python -m trustml ex2`)."""
    result = results["ex2-robust-regression"]
    return "\n\n".join([
        instances_table(result).text(),
        differences_table(result, CHECKS).text(),
        pivotal_table(result).text(),
    ])

