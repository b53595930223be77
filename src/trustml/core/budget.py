"""Compute budgets: their names and which one is active.

`full` is what the report's numbers come from; `smoke` is tiny, so that every code path runs in
seconds (tests and CI). The active budget is `$TRUSTML_BUDGET`, else `smoke` when
`$QUARTO_PROFILE` names the `smoke` profile, else `full`.
The sizes live beside each experiment: its module maps every budget name to a config
(`{"full": Config(...), "smoke": Config(...)}`), so a budget is only a name here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV_BUDGET = "TRUSTML_BUDGET"
BUDGET_NAMES = ("full", "smoke")


@dataclass(frozen=True)
class Budget:
    """A compute budget, by name; experiments look their configs up by this name."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in BUDGET_NAMES:
            raise ValueError(f"unknown budget {self.name!r}; choose one of {list(BUDGET_NAMES)}")


BUDGETS: dict[str, Budget] = {name: Budget(name) for name in BUDGET_NAMES}


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
