"""The appendix "Reproducing this report": what each experiment cost, from the cache manifests.

Every cache entry's `manifest.json` records `elapsed_s`, the seconds its computation took on the
machine that computed it. `compute_times()` reads the manifest of the entry that the current code
would load (the experiment's config for the budget, hence its current config hash) for every
registered experiment, without loading its arrays or weights.
"""

from __future__ import annotations

import platform
import re
from dataclasses import dataclass

import pandas as pd

from trustml.budget import Budget, get_budget
from trustml.cache import _note_used, entry_dir, get_experiment
from trustml.cache_entry import read_manifest
from trustml.errors import CacheError
from trustml.views.format import fmt_seconds
from trustml.views.table import Table, as_table

# Which part of the report an experiment belongs to, by the start of its name (first match wins).
PARTS = (
    ("data-", "Data (appendix)"),
    ("mnist-standard-cnn", "Exercises 1 and 3"),
    ("ex1", "Exercise 1"),
    ("ex2", "Exercise 2"),
    ("ex3", "Exercise 3"),
    ("ex4", "Exercise 4"),
    ("ext-vae", "HW3 1 (VAE in bits/dim)"),
    ("cifar", "HW3 2 (CIFAR-10)"),
)


# What each experiment computes, in a few words (others: the first clause of its docstring).
WHAT = {
    "data-overview": "dataset sizes, class counts, pixel statistics, sample images",
    "mnist-standard-cnn": "the standard MNIST CNN (feature space of 1, target of 3)",
    "ex1-vae": "the MLP VAE: training, loss curves, sample grids",
    "ex1-gan": "the MLP GAN: training, loss curves, sample grids",
    "ex1-convgan": "the convolutional GAN",
    "ex1-compare": "Fréchet distances, precision and recall, class shares",
    "ex3b-attacks-standard": "FGSM and PGD against the standard CNN",
    "ex3c-attacks-fgsm": "FGSM and PGD against the FGSM-trained CNN",
    "ex3d-attacks-pgd": "FGSM and PGD against the PGD-trained CNN",
    "ex2-robust-regression": "solvers, worst cases, gradient ascent, min–max solvers, paths",
    "ex4-gaussian-mean": "threshold attack on a Gaussian mean, noise defence",
    "ex4-logistic": "logistic regression: n sweep, weight noise, LiRA, defences, DP-GD",
}


def what(name: str, doc: str | None) -> str:
    """A few words on what an experiment computes."""
    if name in WHAT:
        return WHAT[name]
    text = " ".join((doc or "").split())
    text = re.sub(r"^\([a-z]\)\s*", "", text)  # a leading "(c) "
    clause = re.split(r"[.:;(]", text, maxsplit=1)[0].strip(" ,")
    if len(clause) > 1 and not clause[1].isupper():  # keep acronyms: "FGSM ..."
        clause = clause[0].lower() + clause[1:]
    return clause


def part_of(name: str) -> str:
    """The part of the report an experiment belongs to ('other' if none matches)."""
    return next((part for prefix, part in PARTS if name.startswith(prefix)), "other")


@dataclass(frozen=True)
class Timing:
    experiment: str
    part: str
    description: str
    elapsed_s: float | None  # None: the entry is not in the cache
    created: str | None
    torch: str | None


def compute_times(budget: Budget | str | None = None) -> list[Timing]:
    """One `Timing` per registered experiment, in the order of `PARTS`, then of registration.

    An experiment whose current entry is missing (or unreadable) gets `elapsed_s=None`; the
    others are recorded as used, so the chapter's provenance stamp names them."""
    from trustml.cache import REGISTRY

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
            _note_used(name, budget.name, folder)
        out.append(Timing(
            experiment=name, part=part_of(name), description=what(name, exp.run.__doc__),
            elapsed_s=float(manifest["elapsed_s"]) if manifest else None,
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
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    verb = "is" if len(names) == 1 else "are"
    pronoun = "it" if len(names) == 1 else "them"
    return f"{listed} {verb} not in the cache yet, so the total leaves {pronoun} out."


def _date(created: str | None) -> str:
    return created[:10] if created else "–"


def times_table(timings: list[Timing]) -> Table:
    """Experiment, part, what it computes, its run time and the day it was computed."""
    rows = [{
        "Experiment": t.experiment,
        "Part": t.part,
        "What it computes": t.description,
        "Run time": fmt_seconds(t.elapsed_s) if t.elapsed_s is not None else "not computed",
        "Computed": _date(t.created),
    } for t in timings]
    rows.append({"Experiment": "all", "Part": "", "What it computes": "",
                 "Run time": fmt_seconds(total_seconds(timings)), "Computed": ""})
    return as_table(pd.DataFrame(rows))


def torch_versions(timings: list[Timing]) -> list[str]:
    return sorted({t.torch for t in timings if t.torch})


def this_machine() -> str:
    """The machine rendering the book, in words (Python, platform)."""
    return f"Python {platform.python_version()} on {platform.system()} {platform.machine()}"
