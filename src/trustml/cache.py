"""The results cache: every experiment is a function of a frozen dataclass config.

An entry lives in `<cache root>/<budget>/<experiment>/<config hash>/` and holds
`metrics.json` (JSON), `arrays.npz` (numpy arrays), `weights.pt` (state dicts) and,
written last, `manifest.json` with the config, the experiment version, timings and the
SHA-256 of every other file. Entries are built in a temporary folder and renamed into
place, so a crash never leaves a half-written entry; an entry whose manifest is missing
or whose files do not match it is reported as corrupt and recomputed.

The cache root is `$TRUSTML_CACHE`, else `<project root>/results`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import shutil
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trustml import __version__
from trustml.budget import BUDGET_NAMES, Budget, get_budget
from trustml.errors import CacheError, UnknownExperimentError
from trustml.paths import project_root

ENV_CACHE = "TRUSTML_CACHE"
MANIFEST = "manifest.json"


class CacheWarning(UserWarning):
    """A cache entry was unusable and is being recomputed."""


@dataclass
class Result:
    """What an experiment returns: JSON metrics, numpy arrays, model state dicts."""

    metrics: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    weights: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # filled by the cache


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
    import trustml.experiments  # noqa: F401  (registers every experiment)

    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY)) or "none"
        raise UnknownExperimentError(
            f"unknown experiment {name!r}; known experiments: {known} "
            "(list them with `python -m trustml list`)"
        ) from None


def cache_root() -> Path:
    env = os.environ.get(ENV_CACHE)
    return Path(env) if env else project_root() / "results"


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


def run_or_load(
    experiment: Experiment | str,
    config: Any = None,
    budget: Budget | str | None = None,
    *,
    force: bool = False,
) -> Result:
    """Load the cached result of `experiment(config)` or compute and store it.

    `config` defaults to the experiment's config for the budget; `budget` to the
    active one (see `trustml.budget`). `force=True` recomputes and overwrites.
    """
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    budget = budget if isinstance(budget, Budget) else get_budget(budget)
    config = exp.config_for(budget) if config is None else config
    folder = entry_dir(exp, config, budget)
    if folder.exists() and not force:
        try:
            return load_entry(folder)
        except CacheError as exc:
            warnings.warn(f"{exc}; recomputing it", CacheWarning, stacklevel=2)
    start = time.perf_counter()
    result = exp.run(config, budget)
    elapsed = time.perf_counter() - start
    meta = {
        "experiment": exp.name,
        "version": exp.version,
        "budget": budget.name,
        "config": _jsonable(config),
        "elapsed_s": elapsed,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "trustml": __version__,
        "torch": torch.__version__,
    }
    save_entry(folder, result, meta)
    return load_entry(folder)


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
        exp = get_experiment(name)
        try:
            loaded[name] = load_entry(entry_dir(exp, exp.config_for(budget), budget))
        except CacheError:
            pass
    missing = [name for name in names if name not in loaded]
    if len(missing) > 1 and n_jobs > 1:
        from joblib import Parallel, delayed

        threads = max(1, (os.cpu_count() or 1) // n_jobs)
        Parallel(n_jobs=min(n_jobs, len(missing)))(
            delayed(_run_in_worker)(name, budget.name, threads) for name in missing)
    return {name: loaded.get(name) or run_or_load(name, budget=budget) for name in names}


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_entry(folder: Path, result: Result, meta: dict[str, Any]) -> None:
    """Write `result` to `folder` atomically (temporary folder, then rename)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".part"))
    try:
        (tmp / "metrics.json").write_text(json.dumps(_jsonable(result.metrics), indent=1))
        if result.arrays:
            np.savez_compressed(tmp / "arrays.npz", **result.arrays)
        if result.weights:
            cpu = {k: {n: t.detach().cpu() for n, t in sd.items()} for k, sd in result.weights.items()}
            torch.save(cpu, tmp / "weights.pt")
        files = {p.name: _file_digest(p) for p in sorted(tmp.iterdir())}
        manifest = {**meta, "files": files}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_entry(folder: Path) -> Result:
    """Read an entry written by `save_entry`; `CacheError` if it is incomplete or corrupt."""
    bad = f"corrupt cache entry {folder}"
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        files: dict[str, str] = manifest["files"]
        for name, digest in files.items():
            if _file_digest(folder / name) != digest:
                raise CacheError(f"{bad}: {name} does not match its manifest")
        metrics = json.loads((folder / "metrics.json").read_text())
        arrays: dict[str, np.ndarray] = {}
        if "arrays.npz" in files:
            with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        weights: dict[str, dict[str, torch.Tensor]] = {}
        if "weights.pt" in files:
            weights = torch.load(folder / "weights.pt", map_location="cpu", weights_only=True)
    except CacheError:
        raise
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile, RuntimeError,
            io.UnsupportedOperation) as exc:
        raise CacheError(f"{bad}: {type(exc).__name__}: {exc}") from exc
    meta = {k: v for k, v in manifest.items() if k != "files"}
    meta["path"] = str(folder)
    return Result(metrics=metrics, arrays=arrays, weights=weights, meta=meta)
