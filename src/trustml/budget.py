"""The one place that defines compute budgets.

`full` is what the report's numbers come from; `smoke` is tiny, so that every code
path runs in seconds (tests and CI). The active budget is `$TRUSTML_BUDGET`, else
`smoke` when `$QUARTO_PROFILE` names the `smoke` profile, else `full`.
Experiments read their sizes from the `Budget` they are given, never from globals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV_BUDGET = "TRUSTML_BUDGET"


@dataclass(frozen=True)
class Budget:
    """Sizes of every experiment, by budget.

    Fields are grouped by chapter; a chapter's experiment reads only its own fields.
    """

    name: str
    # data chapter
    data_sample_grid: int  # images per side of the sample grid
    data_stats_limit: int | None  # images used for pixel statistics (None: all)


BUDGETS: dict[str, Budget] = {
    "full": Budget(
        name="full",
        data_sample_grid=10,
        data_stats_limit=None,
    ),
    "smoke": Budget(
        name="smoke",
        data_sample_grid=4,
        data_stats_limit=2_000,
    ),
}


def budget_name() -> str:
    """Name of the active budget (see module docstring)."""
    explicit = os.environ.get(ENV_BUDGET, "").strip()
    if explicit:
        if explicit not in BUDGETS:
            raise ValueError(
                f"{ENV_BUDGET}={explicit!r} is not a budget; choose one of {sorted(BUDGETS)}"
            )
        return explicit
    profiles = [p.strip() for p in os.environ.get("QUARTO_PROFILE", "").split(",")]
    return "smoke" if "smoke" in profiles else "full"


def get_budget(name: str | None = None) -> Budget:
    """The budget called `name`, or the active one."""
    name = name or budget_name()
    try:
        return BUDGETS[name]
    except KeyError:
        raise ValueError(f"unknown budget {name!r}; choose one of {sorted(BUDGETS)}") from None
