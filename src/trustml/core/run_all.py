"""Compute (or load) a list of experiments in order, with progress, an overall estimate of the
time left from earlier manifests, and a final table of each experiment's time.

`python -m trustml all` runs every experiment the chapters declare, prerequisites first. It is
resumable: an interrupted run leaves every finished experiment in the cache, so the next run
loads those and computes the rest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from trustml.core.budget import Budget, get_budget
from trustml.core.cache import (
    cache_root,
    entry_dir,
    get_experiment,
    own_seconds,
    run_or_load,
    stale_upstream,
)
from trustml.core.cache_entry import MANIFEST, read_manifest
from trustml.core.errors import CacheError
from trustml.core.paths import project_root


@dataclass(frozen=True)
class Step:
    """One experiment of a run: `computed` now or loaded, `seconds` it took now, and
    `compute_s`, how long computing it took (from its manifest)."""

    name: str
    computed: bool
    seconds: float
    compute_s: float


def previous_seconds(name: str, budget: Budget) -> float | None:
    """How long the latest earlier computation of `name` at `budget` took, by any manifest of it
    in the cache or in the project's committed results (any config); None when there is none."""
    roots = [cache_root()] + ([project_root() / "results"] if project_root() else [])
    found = []
    for root in roots:
        for manifest in Path(root, budget.name, name).glob(f"*/{MANIFEST}"):
            try:
                meta = json.loads(manifest.read_text())
                float(meta["elapsed_s"])  # a manifest without its time says nothing
                found.append((manifest.stat().st_mtime, own_seconds(meta)))
            except (OSError, ValueError, KeyError, TypeError):
                continue
    return max(found)[1] if found else None


def is_cached(name: str, budget: Budget) -> bool:
    """Whether `name`'s entry is there and not stale (from its manifest alone)."""
    exp = get_experiment(name)
    try:
        manifest = read_manifest(entry_dir(exp, exp.config_for(budget), budget))
    except CacheError:
        return False
    return stale_upstream(manifest) is None


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _left(pending: Sequence[str], earlier: dict[str, float | None]) -> str:
    """What is left to compute: its time by earlier runs, and how many were never run."""
    known = [earlier[n] for n in pending if earlier[n] is not None]
    unknown = len(pending) - len(known)
    parts = ([f"about {_duration(sum(known))} by earlier runs"] if known else []) + (
        [f"{unknown} never run before"] if unknown else [])
    return ", ".join(parts)


def run_all(names: Sequence[str], budget: Budget | str | None = None, *, force: bool = False,
            out: Callable[[str], None] = print) -> list[Step]:
    """`run_or_load` each of `names` in order, printing `[k/N] name` and how it went, with the
    time left estimated from earlier manifests; returns the steps and prints their table."""
    budget = budget if isinstance(budget, Budget) else get_budget(budget)
    pending = [name for name in names if force or not is_cached(name, budget)]
    earlier = {name: previous_seconds(name, budget) for name in pending}
    out(f"{len(names)} experiments at the {budget.name} budget: {len(names) - len(pending)} cached, "
        f"{len(pending)} to compute" + (f" ({_left(pending, earlier)})" if pending else ""))
    steps: list[Step] = []
    for k, name in enumerate(names, 1):
        out(f"[{k}/{len(names)}] {name}")
        start = time.perf_counter()
        result = run_or_load(name, budget=budget, force=force)
        computed = bool(result.meta.get("computed"))
        steps.append(Step(name, computed, time.perf_counter() - start, own_seconds(result.meta)))
        if name in pending:
            pending.remove(name)
        out(f"      {'computed' if computed else 'loaded'} in {_duration(steps[-1].seconds)}"
            + (f"; left: {_left(pending, earlier)}" if pending else ""))
    out(table(steps))
    return steps


def table(steps: Sequence[Step]) -> str:
    """Each experiment's time: now (computing or loading) and computing it (its manifest)."""
    width = max((len(s.name) for s in steps), default=10)
    lines = [f"{'experiment':{width}s}  {'now':>8s}  {'seconds':>9s}  {'compute (s)':>11s}"]
    lines += [f"{s.name:{width}s}  {'computed' if s.computed else 'loaded':>8s}  {s.seconds:9.1f}  "
              f"{s.compute_s:11.1f}" for s in steps]
    lines.append(f"{'total':{width}s}  {'':8s}  {sum(s.seconds for s in steps):9.1f}  "
                 f"{sum(s.compute_s for s in steps):11.1f}")
    return "\n".join(lines)
