"""One results-cache entry on disk: write it atomically, read and verify it, lock it.

An entry is a folder holding `metrics.json`, optionally `arrays.npz` and `weights.pt`, and,
written last, `manifest.json` (the config, the experiment version, timings and the SHA-256 of
every other file). It is built in `.<name>.<random>.part/` beside its final place and renamed in;
an existing entry is first renamed aside (`.<name>.<random>.old/`), then deleted, so a crash at
any moment leaves either the old or the new entry complete. A writer holds `.<name>.lock`
(an `flock`), so a second process computing the same entry waits and then loads it; under the
lock, leftovers of dead writers are recovered (a complete new entry) or deleted.
Files and folders get the permissions the umask gives.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trustml.core.errors import CacheError

MANIFEST = "manifest.json"
DATA_FILES = ("metrics.json", "arrays.npz", "weights.pt")
# manifest key -> accepted types (bool is excluded from the numbers below)
MANIFEST_SCHEMA: dict[str, tuple[type, ...]] = {
    "experiment": (str,), "version": (int,), "budget": (str,), "config": (dict,),
    "elapsed_s": (int, float), "created": (str,), "trustml": (str,), "torch": (str,),
    "files": (dict,),
}


@dataclass
class Result:
    """What an experiment returns: JSON metrics, numpy arrays, model state dicts."""

    metrics: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    weights: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # filled by the cache


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _leftovers(folder: Path) -> list[Path]:
    """Temporary (`.part`) and set-aside (`.old`) folders of this entry, newest first."""
    found = [*folder.parent.glob(f".{folder.name}.*.part"), *folder.parent.glob(f".{folder.name}.*.old")]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def save_entry(folder: Path, result: Result, meta: dict[str, Any], to_json) -> None:
    """Write `result` to `folder` atomically; `to_json` turns metrics into JSON values."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".part"))
    aside = None
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0700
        (tmp / "metrics.json").write_text(json.dumps(to_json(result.metrics), indent=1))
        if result.arrays:
            np.savez_compressed(tmp / "arrays.npz", **result.arrays)
        if result.weights:
            cpu = {k: {n: t.detach().cpu() for n, t in sd.items()} for k, sd in result.weights.items()}
            torch.save(cpu, tmp / "weights.pt")
        files = {p.name: _file_digest(p) for p in sorted(tmp.iterdir())}
        (tmp / MANIFEST).write_text(json.dumps({**meta, "files": files}, indent=1))
        if folder.exists():
            aside = folder.with_name(tmp.name[: -len(".part")] + ".old")
            os.replace(folder, aside)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if aside is not None and not folder.exists():
            os.replace(aside, folder)  # put the old entry back
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of the entry in `folder`, checked against the schema and the folder's files
    (not their digests); `CacheError` naming the folder otherwise."""
    bad = f"corrupt cache entry {folder}"
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise CacheError(f"{bad}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(manifest, dict):
        raise CacheError(f"{bad}: the manifest is not a JSON object")
    for key, types in MANIFEST_SCHEMA.items():
        value = manifest.get(key)
        if not isinstance(value, types) or isinstance(value, bool):
            kind = " or ".join(t.__name__ for t in types)
            raise CacheError(f"{bad}: manifest field {key!r} must be {kind}, got {value!r}")
    files = manifest["files"]
    if "metrics.json" not in files or not set(files) <= set(DATA_FILES) or not all(
            isinstance(v, str) for v in files.values()):
        raise CacheError(f"{bad}: manifest 'files' must map metrics.json (and optionally "
                         f"{', '.join(DATA_FILES[1:])}) to digests, got {files!r}")
    try:
        present = {p.name for p in folder.iterdir()} - {MANIFEST}
    except OSError as exc:
        raise CacheError(f"{bad}: {type(exc).__name__}: {exc}") from exc
    if present != set(files):
        raise CacheError(f"{bad}: it holds {sorted(present)} but its manifest lists {sorted(files)}")
    return manifest


def load_entry(folder: Path) -> Result:
    """Read an entry written by `save_entry`; `CacheError` if it is incomplete or corrupt."""
    bad = f"corrupt cache entry {folder}"
    manifest = read_manifest(folder)
    files: dict[str, str] = manifest["files"]
    try:
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


def _unwritable(folder: Path, exc: OSError) -> CacheError:
    return CacheError(f"cannot write to the results cache at {folder} ({type(exc).__name__}: "
                      f"{exc.strerror or exc}); nothing was computed: set TRUSTML_CACHE to a "
                      "writable folder")


@contextmanager
def entry_lock(folder: Path) -> Iterator[None]:
    """Hold the entry's lock (waiting for another writer), after checking that its folder can be
    written, and recover or delete the leftovers of dead writers; `CacheError` if unwritable."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".probe")
        os.close(fd)
        os.unlink(probe)
        lock = os.open(folder.parent / f".{folder.name}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise _unwritable(folder.parent, exc) from exc
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for leftover in _leftovers(folder):
            if not folder.exists():
                try:
                    load_entry(leftover)
                    os.replace(leftover, folder)  # a complete entry a killed writer left
                    continue
                except CacheError:
                    pass
            shutil.rmtree(leftover, ignore_errors=True)
        yield
    finally:
        os.close(lock)  # releases the flock
