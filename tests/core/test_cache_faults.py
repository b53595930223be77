"""The cache under faults and concurrency: real processes racing and killed, read-only and
malformed caches, the root independent of the current directory, permissions from the umask."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.dummy_experiment import dummy
from trustml.core.budget import get_budget
from trustml.core.cache import CacheWarning, cache_root, entry_dir, run_or_load
from trustml.core.errors import CacheError

ROOT = Path(__file__).resolve().parents[2]


def _child(cache_dir: Path, log: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "TRUSTML_CACHE": str(cache_dir), "DUMMY_LOG": str(log)}
    return subprocess.Popen([sys.executable, "-m", "tests.dummy_experiment", *args], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _computations(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def _folder(cache_dir: Path) -> Path:
    exp = dummy()
    return entry_dir(exp, exp.config_for("smoke"), get_budget("smoke"))


def _kill_when_stalled(proc: subprocess.Popen, log: Path) -> None:
    marker = Path(str(log) + ".stalled")
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the child never reached the save"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_two_processes_compute_an_entry_once(cache_dir, tmp_path):
    log = tmp_path / "log"
    procs = [_child(cache_dir, log, "1.5") for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    answers = sorted(json.loads(out)["computed"] for out, _ in outputs)
    assert answers == [False, True]  # the second waited for the first, then loaded
    assert _computations(log) == 1


def test_a_kill_during_a_save_leaves_nothing_behind(cache_dir, tmp_path, monkeypatch):
    log = tmp_path / "log"
    _kill_when_stalled(_child(cache_dir, log, "0", "--stall-on", "save"), log)
    folder = _folder(cache_dir)
    assert not folder.exists() and list(folder.parent.glob("*.part"))  # the killed writer's
    monkeypatch.setenv("DUMMY_LOG", str(log))
    result = run_or_load(dummy(), budget="smoke")
    assert result.meta["computed"] and result.metrics == {"answer": 42}
    assert sorted(p.name for p in folder.parent.iterdir()) == [f".{folder.name}.lock", folder.name]


def test_a_kill_while_forcing_keeps_an_entry(cache_dir, tmp_path, monkeypatch):
    log = tmp_path / "log"
    monkeypatch.setenv("DUMMY_LOG", str(log))
    run_or_load(dummy(), budget="smoke")
    _kill_when_stalled(_child(cache_dir, log, "0", "--force", "--stall-on", "swap"), log)
    assert _computations(log) == 2
    result = run_or_load(dummy(), budget="smoke")  # recovered, not recomputed
    assert not result.meta["computed"] and result.metrics == {"answer": 42}
    assert _computations(log) == 2
    folder = _folder(cache_dir)
    assert sorted(p.name for p in folder.parent.iterdir()) == [f".{folder.name}.lock", folder.name]


def test_the_new_entry_replaces_the_old_one(cache_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("DUMMY_LOG", str(tmp_path / "log"))
    first = run_or_load(dummy(), budget="smoke")
    second = run_or_load(dummy(), budget="smoke", force=True)
    assert second.meta["created"] >= first.meta["created"] and second.meta["computed"]
    assert len([p for p in _folder(cache_dir).parent.iterdir() if p.is_dir()]) == 1


def _unwritable_cache_is_reported_before_computing(monkeypatch, tmp_path):
    monkeypatch.setenv("DUMMY_LOG", str(tmp_path / "log"))
    with pytest.raises(CacheError, match="cannot write to the results cache.*TRUSTML_CACHE"):
        run_or_load(dummy(), budget="smoke")
    assert _computations(tmp_path / "log") == 0


def test_cache_under_a_file_is_reported_before_computing(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("TRUSTML_CACHE", str(tmp_path / "file" / "cache"))
    _unwritable_cache_is_reported_before_computing(monkeypatch, tmp_path)


def test_permission_denied_is_reported_before_computing(cache_dir, tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(cache_dir))

    monkeypatch.setattr("trustml.core.cache_entry.tempfile.mkstemp", denied)
    _unwritable_cache_is_reported_before_computing(monkeypatch, tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to read-only folders")
def test_read_only_cache_is_reported_before_computing(cache_dir, tmp_path, monkeypatch):
    cache_dir.mkdir()
    cache_dir.chmod(0o555)
    try:
        _unwritable_cache_is_reported_before_computing(monkeypatch, tmp_path)
    finally:
        cache_dir.chmod(0o755)


def test_cache_root_does_not_depend_on_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("TRUSTML_CACHE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert cache_root() == ROOT / "results"
    monkeypatch.setenv("TRUSTML_CACHE", str(tmp_path / "elsewhere"))
    assert cache_root() == tmp_path / "elsewhere"


@pytest.mark.parametrize("damage", [
    lambda m: {**m, "files": []},
    lambda m: {k: v for k, v in m.items() if k != "elapsed_s"},
    lambda m: {**m, "version": "1"},
    lambda m: {**m, "files": {}},
    lambda m: {**m, "files": {k: v for k, v in m["files"].items() if k != "arrays.npz"}},
    lambda m: {**m, "files": {**m["files"], "../evil": "0"}},
    lambda m: [m],
])
def test_malformed_manifest_is_corrupt(cache_dir, tmp_path, monkeypatch, damage):
    log = tmp_path / "log"
    monkeypatch.setenv("DUMMY_LOG", str(log))
    run_or_load(dummy(), budget="smoke")
    manifest = _folder(cache_dir) / "manifest.json"
    manifest.write_text(json.dumps(damage(json.loads(manifest.read_text()))))
    (_folder(cache_dir) / "metrics.json").write_text('{"answer": 41}')  # a forgery
    with pytest.warns(CacheWarning, match="corrupt cache entry"):
        result = run_or_load(dummy(), budget="smoke")
    assert result.metrics == {"answer": 42} and _computations(log) == 2


def test_entries_follow_the_umask(cache_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("DUMMY_LOG", str(tmp_path / "log"))
    old = os.umask(0o022)
    try:
        run_or_load(dummy(), budget="smoke")
    finally:
        os.umask(old)
    folder = _folder(cache_dir)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == {0o644}
