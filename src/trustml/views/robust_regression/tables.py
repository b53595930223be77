"""The exercise-2 chapter's tables."""

from __future__ import annotations

import pandas as pd

from trustml.core.cache import Result
from trustml.views.format import fmt_sci
from trustml.views.robust_regression.common import (
    IDENTITY_CHECKS,
    rows,
)
from trustml.views.table import Table, as_table


def instances_table(result: Result) -> Table:
    df = rows(result)
    table = pd.DataFrame({
        "Instance": df["instance"].str.replace(r"correlated, rho = .*", "correlated", regex=True)
                                  .str.replace(">>", "≫"),
        "n": df["n"], "d": df["d"],
        "λ / λmax": df["lambda_fraction"].map("{:.2f}".format),
        "λ": df["lambda"].map("{:.3f}".format),
        "Optimal value": df["value"].map("{:.6f}".format),
        "Non-zeros": df["nonzeros"],
        "Robust vs √Lasso": df["minmax_value_rel"].map(fmt_sci),
        "Gap": df["minmax_certified_gap_rel"].map(fmt_sci),
        "Iterations": df["minmax_iterations"],
    })
    return as_table(table)


def differences_table(result: Result, checks: list[tuple[str, str, str]] = IDENTITY_CHECKS) -> Table:
    """The largest discrepancy of each check over all instances (no pass/fail column: the prose
    says which miss the tolerance and why)."""
    df = rows(result)
    out = [{"Check": label, "Largest over instances": fmt_sci(float(df[key].max())),
            "Measured as": what} for label, key, what in checks]
    return as_table(pd.DataFrame(out))


def pivotal_table(result: Result) -> Table:
    out = []
    for row in result.metrics["pivotal"]:
        out.append({
            "Noise σ": f"{row['sigma']:g}",
            "√Lasso: true found": f"{row['sqrt_tp']:.1f} / {row['k']}",
            "√Lasso: false found": f"{row['sqrt_fp']:.1f}",
            "Lasso: true found": f"{row['lasso_tp']:.1f} / {row['k']}",
            "Lasso: false found": f"{row['lasso_fp']:.1f}",
        })
    return as_table(pd.DataFrame(out))

