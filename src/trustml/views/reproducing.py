"""The appendix "Reproducing this report": what each experiment cost, from the cache manifests.

Every cache entry's `manifest.json` records `elapsed_s`, the seconds its computation took on the
machine that computed it, and `nested_s`, the part of them spent computing the entries it used on
first use; an experiment's time here is the difference (`own_seconds`), so a model trained inside
its evaluation is counted once. `compute_times()` reads the manifest of the entry that the current code
would load (the experiment's config for the budget, hence its current config hash) for every
registered experiment, without loading its arrays or weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from trustml.core.budget import Budget, get_budget
from trustml.core.cache import entry_dir, get_experiment, note_provenance, own_seconds
from trustml.core.cache_entry import read_manifest
from trustml.core.errors import CacheError
from trustml.views.format import fmt_list, fmt_seconds
from trustml.views.table import Table, as_table

# Which part of the report an experiment belongs to, by the start of its name (first match wins).
PARTS = (
    ("data-", "Data (appendix)"),
    ("mnist-standard-cnn", "Exercises 1 and 3"),
    ("ex1", "Exercise 1"),
    ("ex2", "Exercise 2"),
    ("ex3", "Exercise 3"),
    ("ex4", "Exercise 4"),
    ("ext-vae", "HW3 question 1"),
    ("cifar", "HW3 question 2"),
)


def part_of(name: str) -> str:
    """The part of the report an experiment belongs to ('other' if none matches)."""
    return next((part for prefix, part in PARTS if name.startswith(prefix)), "other")


@dataclass(frozen=True)
class Timing:
    experiment: str
    part: str
    elapsed_s: float | None  # None: the entry is not in the cache
    created: str | None
    torch: str | None


def compute_times(budget: Budget | str | None = None) -> list[Timing]:
    """One `Timing` per registered experiment, in the order of `PARTS`, then of registration.

    An experiment whose current entry is missing (or unreadable) gets `elapsed_s=None`; the
    others are recorded as used, so the chapter's provenance stamp names them."""
    from trustml.core.cache import REGISTRY

    get_experiment("data-overview")  # imports trustml.experiments: registers them all
    budget = budget if isinstance(budget, Budget) else get_budget(budget)
    order = {part: i for i, (_, part) in enumerate(PARTS)}
    out = []
    names = list(REGISTRY)  # registration order within a part: models before their evaluations
    for name in sorted(names, key=lambda n: (order.get(part_of(n), len(order)), names.index(n))):
        exp = REGISTRY[name]
        folder = entry_dir(exp, exp.config_for(budget), budget)
        try:
            manifest = read_manifest(folder)
        except CacheError:
            manifest = None
        if manifest is not None:
            note_provenance(name, budget.name, folder)
        out.append(Timing(
            experiment=name, part=part_of(name),
            elapsed_s=own_seconds(manifest) if manifest else None,
            created=manifest.get("created") if manifest else None,
            torch=manifest.get("torch") if manifest else None))
    return out


def frame(timings: list[Timing]) -> pd.DataFrame:
    return pd.DataFrame([t.__dict__ for t in timings])


def total_seconds(timings: list[Timing]) -> float:
    """Seconds of computation summed over the experiments in the cache."""
    return float(sum(t.elapsed_s for t in timings if t.elapsed_s is not None))


def part_seconds(timings: list[Timing]) -> dict[str, float]:
    """Seconds summed per part of the report, in the order of the table."""
    out: dict[str, float] = {}
    for t in timings:
        if t.elapsed_s is not None:
            out[t.part] = out.get(t.part, 0.0) + t.elapsed_s
    return out


def missing(timings: list[Timing]) -> list[str]:
    return [t.experiment for t in timings if t.elapsed_s is None]


def missing_sentence(names: list[str]) -> str:
    """Says which experiments are not in the cache (empty when all are)."""
    if not names:
        return ""
    listed = fmt_list(names)
    verb = "is" if len(names) == 1 else "are"
    pronoun = "it" if len(names) == 1 else "them"
    return f"{listed} {verb} not in the cache yet, so the total leaves {pronoun} out."


def _date(created: str | None) -> str:
    return created[:10] if created else "–"


def times_table(timings: list[Timing]) -> Table:
    """Experiment, part, its run time and the day it was computed (one line per experiment: the
    table must fit on one page of the PDF)."""
    rows = [{
        "Experiment": f"`{t.experiment}`",  # code: a name to copy into `trustml run`
        "Part": t.part,
        "Run time": fmt_seconds(t.elapsed_s) if t.elapsed_s is not None else "not computed",
        "Computed": _date(t.created),
    } for t in timings]
    rows.append({"Experiment": "all", "Part": "",
                 "Run time": fmt_seconds(total_seconds(timings)), "Computed": ""})
    return as_table(pd.DataFrame(rows))


def torch_versions(timings: list[Timing]) -> list[str]:
    return sorted({t.torch for t in timings if t.torch})
