"""The results cache: every experiment is a function of a frozen dataclass config.

An entry lives in `<cache root>/<budget>/<experiment>/<config hash>/` (see `trustml.core.cache_entry`
for its files, its atomic writes and its lock). An entry whose manifest is missing, malformed or
does not match its files or its experiment is reported as corrupt and recomputed. A cache that
cannot be written is reported before anything is computed (`CacheError`: set `TRUSTML_CACHE`).

The cache root is `$TRUSTML_CACHE`, else `<project root>/results`, the project root being found
from this package's own location (never from the current directory).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trustml import __version__
from trustml.core.budget import BUDGET_NAMES, Budget, get_budget
from trustml.core.cache_entry import MANIFEST, Result, entry_lock, load_entry, read_manifest, save_entry
from trustml.core.errors import CacheError, UnknownExperimentError
from trustml.core.paths import project_root

ENV_CACHE = "TRUSTML_CACHE"
__all__ = ["MANIFEST", "Result", "load_entry", "read_manifest", "run_or_load", "save_entry"]


class CacheWarning(UserWarning):
    """A cache entry was unusable and is being recomputed."""


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: `run(config, budget) -> Result`, with a config per budget.

    `configs` maps every budget name to the experiment's config for that budget; `run` gets the
    budget too, only to load the experiments it depends on from the same budget.
    """

    name: str
    version: int
    run: Callable[[Any, Budget], Result]
    configs: Mapping[str, Any]
    description: str = ""

    def __post_init__(self) -> None:
        if sorted(self.configs) != sorted(BUDGET_NAMES):
            raise ValueError(f"experiment {self.name!r}: configs must be given for exactly the "
                             f"budgets {list(BUDGET_NAMES)}, got {sorted(self.configs)}")

    def config_for(self, budget: Budget | str) -> Any:
        """The experiment's config for `budget` (a `Budget` or its name)."""
        return self.configs[budget if isinstance(budget, str) else budget.name]


REGISTRY: dict[str, Experiment] = {}


def experiment(
    name: str, *, version: int, configs: Mapping[str, Any]
) -> Callable[[Callable[[Any, Budget], Result]], Experiment]:
    """Register `fn(config, budget) -> Result` under `name`, with its config per budget.

    Bump `version` whenever the computation changes, so old entries are not reused.
    """

    def register(fn: Callable[[Any, Budget], Result]) -> Experiment:
        if name in REGISTRY:
            raise ValueError(f"experiment {name!r} is registered twice")
        doc = (fn.__doc__ or "").strip().splitlines()
        exp = Experiment(name, version, fn, configs, doc[0] if doc else "")
        REGISTRY[name] = exp
        return exp

    return register


def get_experiment(name: str) -> Experiment:
    """A registered experiment (`import trustml.experiments` registers the book's; the views and
    the command line do)."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY)) or "none"
        raise UnknownExperimentError(
            f"unknown experiment {name!r}; known experiments: {known} "
            "(list them with `python -m trustml list`)"
        ) from None


def cache_root() -> Path:
    """`$TRUSTML_CACHE`, else `results/` in the project holding this package."""
    env = os.environ.get(ENV_CACHE, "").strip()
    if env:
        return Path(env).expanduser()
    root = project_root()
    if root is None:
        raise CacheError(f"trustml is not inside its project (no _quarto.yml above {__file__}): "
                         f"set {ENV_CACHE} to the folder of the results cache")
    return root / "results"


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def config_hash(exp: Experiment, config: Any) -> str:
    """Hash of the experiment's name, version, config class and config fields."""
    if not (dataclasses.is_dataclass(config) and config.__dataclass_params__.frozen):
        raise TypeError(f"{exp.name}: config must be a frozen dataclass, got {type(config)!r}")
    payload = {
        "experiment": exp.name,
        "version": exp.version,
        "config_class": type(config).__qualname__,
        "config": _jsonable(config),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def entry_dir(exp: Experiment, config: Any, budget: Budget) -> Path:
    return cache_root() / budget.name / exp.name / config_hash(exp, config)


def _try_load(folder: Path, exp: Experiment, config: Any, warn: bool = True) -> Result | None:
    """The entry in `folder` if it is there, complete and of `exp(config)`; else None (with a
    `CacheWarning` when it is there but unusable)."""
    if not folder.exists():
        return None
    try:
        result = load_entry(folder)
        meta = result.meta
        if (meta["experiment"], meta["version"], meta["config"]) != (
                exp.name, exp.version, _jsonable(config)):
            raise CacheError(f"corrupt cache entry {folder}: its manifest describes another "
                             "experiment, version or config")
        return result
    except CacheError as exc:
        if warn:
            warnings.warn(f"{exc}; recomputing it", CacheWarning, stacklevel=3)
        return None


def run_or_load(
    experiment: Experiment | str,
    config: Any = None,
    budget: Budget | str | None = None,
    *,
    force: bool = False,
) -> Result:
    """Load the cached result of `experiment(config)` or compute and store it.

    `config` defaults to the experiment's config for the budget; `budget` to the active one
    (see `trustml.core.budget`). `force=True` recomputes and replaces the entry. A process that finds
    another one computing the same entry waits for it and loads its result. `meta` says whether
    the result was `computed` now, and `seconds` it took now (loading or computing); `elapsed_s`
    is how long computing it took.
    """
    start = time.perf_counter()
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    budget = budget if isinstance(budget, Budget) else get_budget(budget)
    config = exp.config_for(budget) if config is None else config
    folder = entry_dir(exp, config, budget)
    result = None if force else _try_load(folder, exp, config)
    if result is None:
        with entry_lock(folder):  # checks that the cache can be written, before computing
            result = None if force else _try_load(folder, exp, config, warn=False)
            if result is None:
                result = _compute(exp, config, budget, folder)
    result.meta["seconds"] = time.perf_counter() - start
    result.meta.setdefault("computed", False)
    _note_used(exp.name, budget.name, folder)
    return result


# (budget, experiment) -> config hash of every result this process has used (see `used_results`)
_USED: dict[tuple[str, str], str] = {}


def _note_used(name: str, budget_name: str, folder: Path) -> None:
    _USED[(budget_name, name)] = folder.name


def used_results() -> dict[tuple[str, str], str]:
    """`{(budget, experiment): config hash}` of the results this process has loaded or computed.

    A chapter shows this at its end (`trustml.views.provenance`), so its frozen output records
    which cache entries it was rendered from, and a test can tell a stale `_freeze` entry."""
    return dict(_USED)


def _compute(exp: Experiment, config: Any, budget: Budget, folder: Path) -> Result:
    start = time.perf_counter()
    result = exp.run(config, budget)
    meta = {
        "experiment": exp.name,
        "version": exp.version,
        "budget": budget.name,
        "config": _jsonable(config),
        "elapsed_s": time.perf_counter() - start,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "trustml": __version__,
        "torch": torch.__version__,
    }
    save_entry(folder, result, meta, _jsonable)
    stored = load_entry(folder)
    stored.meta["computed"] = True
    return stored


def _run_in_worker(name: str, budget_name: str, threads: int) -> str:
    torch.set_num_threads(threads)
    return run_or_load(name, budget=budget_name).meta["path"]


def run_or_load_parallel(
    names: list[str], budget: Budget | str | None = None, *, n_jobs: int = 2
) -> dict[str, Result]:
    """`run_or_load` several independent experiments, computing the missing ones in parallel.

    Each worker process uses `torch` with `os.cpu_count() // n_jobs` threads, so two small
    models train side by side on two cores instead of one after the other. Cached entries are
    simply loaded.
    """
    budget = budget if isinstance(budget, Budget) else get_budget(budget)
    loaded: dict[str, Result] = {}
    for name in names:
        start = time.perf_counter()
        exp = get_experiment(name)
        config = exp.config_for(budget)
        result = _try_load(entry_dir(exp, config, budget), exp, config, warn=False)
        if result is not None:
            result.meta.update(seconds=time.perf_counter() - start, computed=False)
            _note_used(name, budget.name, entry_dir(exp, config, budget))
            loaded[name] = result
    missing = [name for name in names if name not in loaded]
    in_workers = len(missing) > 1 and n_jobs > 1
    if in_workers:
        from joblib import Parallel, delayed

        threads = max(1, (os.cpu_count() or 1) // n_jobs)
        Parallel(n_jobs=min(n_jobs, len(missing)))(
            delayed(_run_in_worker)(name, budget.name, threads) for name in missing)
    results = {name: loaded.get(name) or run_or_load(name, budget=budget) for name in names}
    if in_workers:  # computed now by a worker, then loaded here: say so, with the time it took
        for name in missing:
            results[name].meta.update(computed=True, seconds=results[name].meta["elapsed_s"])
    return results
