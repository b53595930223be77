"""The results cache: every experiment is a function of a frozen dataclass config.

An entry lives in `<cache root>/<budget>/<experiment>/<config hash>/` (see `trustml.core.cache_entry`
for its files, its atomic writes and its lock). An entry whose manifest is missing, malformed or
does not match its files or its experiment, or whose metrics lack a key its experiment declares,
is reported as corrupt (one line) and recomputed; a full disk keeps the old entry and returns
the result unstored. An entry records in its manifest (`upstream`) the config hash of every
experiment it loaded at its default config while it was computed (directly or through those): an
entry whose upstream config has changed since (a model retrained in another precision, say) is
stale, reported and recomputed, so an evaluation never outlives the model it evaluated. It also
records `nested_s`, the part of its `elapsed_s` spent computing those upstream entries on first
use; `own_seconds` is the rest (what a table of each experiment's time adds up). A cache that
cannot be written is reported before anything is computed (`CacheError`: set `TRUSTML_CACHE`).

The cache root is `$TRUSTML_CACHE`, else `<project root>/results`, the project root being found
from this package's own location (never from the current directory).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import pickle
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
from trustml.core.cache_entry import (
    MANIFEST,
    DiskFullError,
    Result,
    entry_lock,
    load_entry,
    read_manifest,
    save_entry,
)
from trustml.core.errors import CacheError, UnknownExperimentError, WorkerError, show_warning
from trustml.core.paths import project_root

ENV_CACHE = "TRUSTML_CACHE"
__all__ = ["MANIFEST", "Result", "load_entry", "read_manifest", "run_or_load", "save_entry"]


class CacheWarning(UserWarning):
    """A cache entry was unusable and is being recomputed."""


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: `run(config, budget) -> Result`, with a config per budget.

    `configs` maps every budget name to the experiment's config for that budget; `run` gets the
    budget too, only to load the experiments it depends on from the same budget. `metrics` names
    the top-level metrics its views read: an entry lacking one is corrupt (and recomputed).
    """

    name: str
    version: int
    run: Callable[[Any, Budget], Result]
    configs: Mapping[str, Any]
    description: str = ""
    metrics: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if sorted(self.configs) != sorted(BUDGET_NAMES):
            raise ValueError(f"experiment {self.name!r}: configs must be given for exactly the "
                             f"budgets {list(BUDGET_NAMES)}, got {sorted(self.configs)}")

    def config_for(self, budget: Budget | str) -> Any:
        """The experiment's config for `budget` (a `Budget` or its name)."""
        return self.configs[budget if isinstance(budget, str) else budget.name]


REGISTRY: dict[str, Experiment] = {}


def experiment(
    name: str, *, version: int, configs: Mapping[str, Any], metrics: tuple[str, ...] = ()
) -> Callable[[Callable[[Any, Budget], Result]], Experiment]:
    """Register `fn(config, budget) -> Result` under `name`, with its config per budget.

    Bump `version` whenever the computation changes, so old entries are not reused. `metrics`:
    the top-level metric keys every entry must hold (checked on load).
    """

    def register(fn: Callable[[Any, Budget], Result]) -> Experiment:
        if name in REGISTRY:
            raise ValueError(f"experiment {name!r} is registered twice")
        doc = (fn.__doc__ or "").strip().splitlines()
        exp = Experiment(name, version, fn, configs, doc[0] if doc else "", tuple(metrics))
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


_NAME_MAX = 255  # bytes in one file name, on the usual file systems
_PATH_MAX = 4096 - 200  # a whole path, less what an entry adds below the root


def cache_root() -> Path:
    """`$TRUSTML_CACHE`, else `results/` in the project holding this package."""
    env = os.environ.get(ENV_CACHE, "").strip()
    if env:
        root = Path(env).expanduser()
        if not root.is_absolute():  # it would follow the current directory
            raise CacheError(f"{ENV_CACHE}={env} is a relative path, so the cache would change "
                             f"with the current directory: set it to an absolute path (e.g. "
                             f"{ENV_CACHE}={Path.cwd() / root})")
        longest = max(root.parts, key=lambda part: len(os.fsencode(part)))
        if len(os.fsencode(longest)) > _NAME_MAX or len(os.fsencode(str(root))) > _PATH_MAX:
            raise CacheError(f"{ENV_CACHE} is too long for the file system (a folder name of "
                             f"{len(os.fsencode(longest))} bytes, at most {_NAME_MAX}; a path of "
                             f"{len(os.fsencode(str(root)))}, at most {_PATH_MAX}): set it to a "
                             "shorter path")
        return root
    root = project_root()
    if root is None:
        raise CacheError(f"trustml is not inside its project (no _quarto.yml above {__file__}): "
                         f"set {ENV_CACHE} to the folder of the results cache")
    return root / "results"


HASH_WHEN_SET = {"hash": "when_set"}


def _left_out(field: dataclasses.Field, value: Any) -> bool:
    """A field declared with `metadata=HASH_WHEN_SET` is left out of a config's JSON (so out
    of its cache hash) while it holds its default: a field added later does not change the
    hashes of the configs made before it, which all hold the default."""
    return field.metadata.get("hash") == "when_set" and value == field.default


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not _left_out(f, getattr(value, f.name))}
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


def _identity(folder: Path) -> int | None:
    """The inode of `folder` (None when it is not there), to tell an entry that was replaced."""
    try:
        return os.stat(folder).st_ino
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return -1  # there but unreadable: `load_entry` says why


def _try_load(folder: Path, exp: Experiment, config: Any, warn: bool = True) -> Result | None:
    """The entry in `folder` if it is there, complete and of `exp(config)`; else None (with a
    `CacheWarning` when it is there but unusable). An entry replaced by a writer (`--force`)
    while it was read is read again, so a reader never reports a half-deleted entry."""
    for _ in range(3):
        identity = _identity(folder)
        if identity is None:
            return None
        try:
            result = load_entry(folder)
            meta = result.meta
            if (meta["experiment"], meta["version"], meta["config"]) != (
                    exp.name, exp.version, _jsonable(config)):
                raise CacheError(f"corrupt cache entry {folder}: its manifest describes another "
                                 "experiment, version or config")
            missing = [key for key in exp.metrics if key not in result.metrics]
            if missing:
                raise CacheError(f"corrupt cache entry {folder}: its metrics lack {missing}, "
                                 f"which {exp.name} stores")
            stale = stale_upstream(meta)
            if stale is not None:
                if warn:
                    warnings.warn(f"stale cache entry {folder}: it was computed from another "
                                  f"{stale} (its config has changed since); recomputing it",
                                  CacheWarning, stacklevel=3)
                return None
            return result
        except CacheError as exc:
            if _identity(folder) != identity:
                continue  # replaced while it was read: read the new entry
            if warn:
                warnings.warn(f"{exc}; recomputing it", CacheWarning, stacklevel=3)
            return None
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
    _note_used(exp, config, budget, folder, result)
    return result


# (budget, experiment) -> config hash of every result this process has used (see `used_results`)
_USED: dict[tuple[str, str], str] = {}


@dataclass
class _Frame:
    """An experiment being computed: the upstream results it has loaded so far,
    `{experiment: config hash}`, and the seconds it spent computing them (first use)."""

    upstream: dict[str, str] = dataclasses.field(default_factory=dict)
    nested_s: float = 0.0


# one frame per experiment being computed in this process, innermost last
_COMPUTING: list[_Frame] = []


def own_seconds(meta: Mapping[str, Any]) -> float:
    """The seconds an entry's computation took, less those it spent computing its upstream
    entries (which have their own entries and times)."""
    elapsed = float(meta.get("elapsed_s", 0.0))
    nested = meta.get("nested_s", 0.0)
    nested = float(nested) if isinstance(nested, (int, float)) and not isinstance(nested, bool) else 0.0
    return max(0.0, elapsed - nested)


def note_provenance(name: str, budget_name: str, folder: Path) -> None:
    """Record that this process used the entry in `folder` (see `used_results`)."""
    _USED[(budget_name, name)] = folder.name


def _note_used(exp: Experiment, config: Any, budget: Budget, folder: Path,
               result: Result) -> None:
    """Record a loaded or computed result: for the provenance of a chapter, and as an upstream
    of the experiment being computed (when there is one): itself when loaded at its default
    config (a config derived from the caller's is already in the caller's hash), and its own
    upstream results either way."""
    note_provenance(exp.name, budget.name, folder)
    if not _COMPUTING:
        return
    frame = _COMPUTING[-1]
    upstream = result.meta.get("upstream")
    if isinstance(upstream, dict):
        frame.upstream.update({str(k): str(v) for k, v in upstream.items()})
    if REGISTRY.get(exp.name) is exp and config == exp.config_for(budget):
        frame.upstream[exp.name] = folder.name


def stale_upstream(meta: Mapping[str, Any]) -> str | None:
    """The first upstream experiment of an entry whose default config has changed since the
    entry was computed (or that is no longer registered), or None."""
    upstream = meta.get("upstream") or {}
    if not isinstance(upstream, dict):
        return "upstream"
    budget = meta.get("budget")
    for name, recorded in sorted(upstream.items()):
        exp = REGISTRY.get(name)
        if exp is None or budget not in exp.configs:
            return name
        if config_hash(exp, exp.config_for(budget)) != recorded:
            return name
    return None


def used_results() -> dict[tuple[str, str], str]:
    """`{(budget, experiment): config hash}` of the results this process has loaded or computed.

    A chapter shows this at its end (`trustml.views.provenance`), so its frozen output records
    which cache entries it was rendered from, and a test can tell a stale `_freeze` entry."""
    return dict(_USED)


def _compute(exp: Experiment, config: Any, budget: Budget, folder: Path) -> Result:
    start = time.perf_counter()
    _COMPUTING.append(_Frame())
    try:
        result = exp.run(config, budget)
    finally:
        frame = _COMPUTING.pop()
    elapsed = time.perf_counter() - start
    if _COMPUTING:  # computed on first use inside another experiment: its time is nested there
        _COMPUTING[-1].nested_s += elapsed
    frame.upstream.pop(exp.name, None)
    meta = {
        "experiment": exp.name,
        "version": exp.version,
        "budget": budget.name,
        "config": _jsonable(config),
        "elapsed_s": elapsed,
        "nested_s": frame.nested_s,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "trustml": __version__,
        "torch": torch.__version__,
        "upstream": dict(sorted(frame.upstream.items())),
    }
    try:
        save_entry(folder, result, meta, _jsonable)
    except DiskFullError as exc:  # the old entry (if any) is kept; the result is still returned
        warnings.warn(f"{exc}; the result was computed but is not stored", CacheWarning,
                      stacklevel=4)
        result.metrics = json.loads(json.dumps(_jsonable(result.metrics)))  # as if loaded
        result.weights = {k: {n: t.detach().cpu() for n, t in sd.items()}
                          for k, sd in result.weights.items()}
        result.meta = {**meta, "path": f"{folder} (not stored: the disk is full)", "computed": True}
        return result
    stored = load_entry(folder)
    stored.meta["computed"] = True
    return stored


def _run_in_worker(exp: Experiment | tuple[str, str], budget_name: str, threads: int,
                   conn: Any) -> None:
    """A worker process: compute (and cache) one experiment, send back None or its exception.
    A registered experiment comes as (name, module): the fresh interpreter imports the module
    that registers it (the core imports no experiment module itself)."""
    warnings.showwarning = show_warning  # one line, as in the command line
    error: BaseException | None = None
    try:
        torch.set_num_threads(threads)
        if isinstance(exp, tuple):
            name, module = exp
            importlib.import_module(module)
            exp = get_experiment(name)
        run_or_load(exp, budget=budget_name)
    except BaseException as exc:  # noqa: BLE001  sent to the parent, which raises it
        error = exc
    try:
        conn.send(error)
    except Exception:  # noqa: BLE001  an exception that does not pickle
        conn.send(RuntimeError(f"{type(error).__name__}: {error}"))


def _in_workers(exps: list[Experiment], budget: Budget, n_jobs: int) -> None:
    """Compute `exps` in at most `n_jobs` worker processes, each caching its result as it
    finishes. A worker that dies (e.g. killed by the out-of-memory killer) or fails does not stop
    the others: they finish and are cached, then a `WorkerError` (or the worker's exception) is
    raised."""
    import multiprocessing
    import multiprocessing.connection
    import signal

    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no forked torch threads
    threads = max(1, (os.cpu_count() or 1) // n_jobs)
    pending = list(exps)
    running: dict[str, tuple[Any, Any]] = {}
    failed: dict[str, BaseException | int] = {}
    try:
        while pending or running:
            while pending and len(running) < n_jobs:
                exp = pending.pop(0)
                receive, send = ctx.Pipe(duplex=False)
                target = ((exp.name, exp.run.__module__) if REGISTRY.get(exp.name) is exp
                          else exp)
                proc = ctx.Process(target=_run_in_worker, args=(target, budget.name, threads, send),
                                   daemon=True)
                proc.start()
                send.close()
                running[exp.name] = (proc, receive)
            multiprocessing.connection.wait([proc.sentinel for proc, _ in running.values()])
            for name, (proc, receive) in list(running.items()):
                if proc.is_alive():
                    continue
                proc.join()
                try:
                    error = receive.recv() if receive.poll() else None
                except (EOFError, OSError, pickle.UnpicklingError):  # died while sending
                    error = None
                receive.close()
                del running[name]
                if error is not None or proc.exitcode != 0:
                    failed[name] = error if error is not None else proc.exitcode
    finally:
        for proc, _ in running.values():  # interrupted (Ctrl-C): stop the others
            proc.terminate()
            proc.join()
    for error in failed.values():
        if isinstance(error, BaseException):
            raise error
    if failed:
        done = [exp.name for exp in exps if exp.name not in failed]
        how = ", ".join(
            f"{name} ({signal.Signals(-code).name})" if code < 0 else f"{name} (exit code {code})"
            for name, code in failed.items())
        raise WorkerError(
            f"the worker process computing {how} died, most likely killed for lack of memory; "
            + (f"{', '.join(done)} finished and are cached; " if done else "")
            + "run the command again to compute the rest (free memory first)")


def run_or_load_parallel(
    names: list[str] | list[Experiment], budget: Budget | str | None = None, *, n_jobs: int = 2
) -> dict[str, Result]:
    """`run_or_load` several independent experiments, computing the missing ones in parallel.

    Each worker process uses `torch` with `os.cpu_count() // n_jobs` threads, so two small
    models train side by side on two cores instead of one after the other. Cached entries are
    simply loaded; each computed one is cached as soon as it is done (see `_in_workers`).
    """
    budget = budget if isinstance(budget, Budget) else get_budget(budget)
    exps = [name if isinstance(name, Experiment) else get_experiment(name) for name in names]
    loaded: dict[str, Result] = {}
    for exp in exps:
        start = time.perf_counter()
        config = exp.config_for(budget)
        result = _try_load(entry_dir(exp, config, budget), exp, config, warn=False)
        if result is not None:
            result.meta.update(seconds=time.perf_counter() - start, computed=False)
            _note_used(exp, config, budget, entry_dir(exp, config, budget), result)
            loaded[exp.name] = result
    missing = [exp for exp in exps if exp.name not in loaded]
    in_workers = len(missing) > 1 and n_jobs > 1
    if in_workers:
        start = time.perf_counter()
        _in_workers(missing, budget, min(n_jobs, len(missing)))
        if _COMPUTING:  # the workers' wall-clock time is nested in the experiment computing
            _COMPUTING[-1].nested_s += time.perf_counter() - start
    results = {exp.name: loaded.get(exp.name) or run_or_load(exp, budget=budget) for exp in exps}
    if in_workers:  # computed now by a worker, then loaded here: say so, with the time it took
        for exp in missing:
            results[exp.name].meta.update(computed=True, seconds=results[exp.name].meta["elapsed_s"])
    return results
