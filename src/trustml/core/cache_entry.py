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

import errno
import fcntl
import hashlib
import io
import json
import math
import os
import shutil
import stat
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


def _read_regular(path: Path, bad: str) -> bytes:
    """The bytes of `path` if it is a regular file (a FIFO or device is never opened for
    reading: it could block forever); `CacheError` starting with `bad` otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise CacheError(f"{bad}: {type(exc).__name__}: {exc}") from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CacheError(f"{bad}: {path.name} is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    except OSError as exc:
        raise CacheError(f"{bad}: {type(exc).__name__}: {exc}") from exc
    finally:
        os.close(fd)


def _json(data: bytes, name: str, bad: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: e.g. 100,000 nested `[`
        what = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise CacheError(f"{bad}: {name} is not valid JSON ({what})") from None


def _remove(path: Path) -> None:
    """Delete `path` whatever it is (a folder, a file, a symlink); nothing if it is gone."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _leftovers(folder: Path) -> list[Path]:
    """Temporary (`.part`) and set-aside (`.old`) folders of this entry, newest first."""
    found = [*folder.parent.glob(f".{folder.name}.*.part"), *folder.parent.glob(f".{folder.name}.*.old")]
    return sorted(found, key=lambda p: p.lstat().st_mtime, reverse=True)


class DiskFullError(CacheError):
    """The results cache's device is full: the entry was not stored (an old one is kept)."""


def _mb(n: float) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e4 else f"{n / 1e3:.1f} kB"


def _disk_full(folder: Path, needed: int | None) -> DiskFullError:
    try:
        free = f", {_mb(shutil.disk_usage(folder.parent).free)} free"
    except OSError:
        free = ""
    need = f"{_mb(needed)} needed for this entry" if needed is not None else "the entry's size unknown"
    return DiskFullError(f"no space left on the device of the results cache at {folder.parent} "
                         f"({need}{free}): free some space there or set TRUSTML_CACHE to a folder "
                         "on another disk")


def save_entry(folder: Path, result: Result, meta: dict[str, Any], to_json) -> None:
    """Write `result` to `folder` atomically; `to_json` turns metrics into JSON values.

    Every file is serialised in memory first, so a full disk is a `DiskFullError` saying how
    much the entry needs (the old entry, if any, is kept)."""
    blobs: dict[str, bytes] | None = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".part"))
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _disk_full(folder, None) from None
        raise
    aside = None
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0700
        blobs = {"metrics.json": json.dumps(to_json(result.metrics), indent=1).encode()}
        if result.arrays:
            buffer = io.BytesIO()
            np.savez_compressed(buffer, **result.arrays)
            blobs["arrays.npz"] = buffer.getvalue()
        if result.weights:
            cpu = {k: {n: t.detach().cpu() for n, t in sd.items()} for k, sd in result.weights.items()}
            buffer = io.BytesIO()
            torch.save(cpu, buffer)
            blobs["weights.pt"] = buffer.getvalue()
        files = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(blobs.items())}
        blobs[MANIFEST] = json.dumps({**meta, "files": files}, indent=1).encode()  # written last
        for name, data in blobs.items():
            (tmp / name).write_bytes(data)
        if os.path.lexists(folder):
            aside = folder.with_name(tmp.name[: -len(".part")] + ".old")
            os.replace(folder, aside)
        os.replace(tmp, folder)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if aside is not None and not os.path.lexists(folder):
            os.replace(aside, folder)  # put the old entry back
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _disk_full(folder, sum(map(len, blobs.values())) if blobs else None) from None
        raise
    if aside is not None:
        _remove(aside)  # a folder, or a file or symlink that stood where the entry belongs


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of the entry in `folder`, checked against the schema and the folder's files
    (not their digests); `CacheError` naming the folder otherwise."""
    bad = f"corrupt cache entry {folder}"
    manifest = _json(_read_regular(folder / MANIFEST, bad), MANIFEST, bad)
    if not isinstance(manifest, dict):
        raise CacheError(f"{bad}: the manifest is not a JSON object")
    for key, types in MANIFEST_SCHEMA.items():
        value = manifest.get(key)
        if not isinstance(value, types) or isinstance(value, bool):
            kind = " or ".join(t.__name__ for t in types)
            raise CacheError(f"{bad}: manifest field {key!r} must be {kind}, got {value!r}")
    if not (math.isfinite(manifest["elapsed_s"]) and manifest["elapsed_s"] >= 0):
        raise CacheError(f"{bad}: manifest field 'elapsed_s' must be a finite number of seconds "
                         f">= 0, got {manifest['elapsed_s']!r}")
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
    """Read an entry written by `save_entry`; `CacheError` if it is incomplete or corrupt.

    Each file is read once (regular files only), its digest checked on the very bytes that are
    then parsed; metrics must be a non-empty JSON object, weights what torch's safe loader
    (`weights_only=True`) accepts: anything else is a corrupt entry, never loaded unsafely."""
    bad = f"corrupt cache entry {folder}"
    manifest = read_manifest(folder)
    files: dict[str, str] = manifest["files"]
    data: dict[str, bytes] = {}
    for name, digest in files.items():
        data[name] = _read_regular(folder / name, bad)
        if hashlib.sha256(data[name]).hexdigest() != digest:
            raise CacheError(f"{bad}: {name} does not match its manifest")
    metrics = _json(data["metrics.json"], "metrics.json", bad)
    if not isinstance(metrics, dict) or not metrics:
        raise CacheError(f"{bad}: metrics.json must be a non-empty JSON object, got "
                         f"{type(metrics).__name__} {json.dumps(metrics)[:40]}")
    arrays: dict[str, np.ndarray] = {}
    weights: dict[str, dict[str, torch.Tensor]] = {}
    try:
        if "arrays.npz" in files:
            with np.load(io.BytesIO(data["arrays.npz"]), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile, RuntimeError,
            io.UnsupportedOperation, EOFError) as exc:
        raise CacheError(f"{bad}: arrays.npz: {type(exc).__name__}: {exc}") from exc
    if "weights.pt" in files:
        try:
            weights = torch.load(io.BytesIO(data["weights.pt"]), map_location="cpu",
                                 weights_only=True)
        except Exception as exc:  # noqa: BLE001  pickle.UnpicklingError, RuntimeError, EOFError...
            # torch's message advises `weights_only=False`: never repeat that advice
            raise CacheError(f"{bad}: weights.pt is not a file of tensors that the safe loader "
                             f"accepts ({type(exc).__name__})") from None
        if not (isinstance(weights, dict) and all(isinstance(sd, dict) for sd in weights.values())):
            raise CacheError(f"{bad}: weights.pt must hold a dict of state dicts")
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
            if not os.path.lexists(folder):
                try:
                    load_entry(leftover)
                    os.replace(leftover, folder)  # a complete entry a killed writer left
                    continue
                except CacheError:
                    pass
            _remove(leftover)
        yield
    finally:
        os.close(lock)  # releases the flock
