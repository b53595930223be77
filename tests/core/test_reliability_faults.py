"""The last faults of the fault-injection probe (issue 23), one test (or more) per row: refused
weights, a full disk, hostile manifests and metrics, leftovers, bad arguments and cache roots, a
reader racing a `--force` writer, a killed worker, unreadable folders, FIFOs, attack inputs, a
killed smoke render, and one-line messages. Real where the machine allows it (a tmpfs, signals,
processes, dropped capabilities), simulated otherwise, as each test says."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from tests.dummy_experiment import dummy
from trustml import cli
from trustml.core import cache_entry
from trustml.core.budget import get_budget
from trustml.core.cache import (
    REGISTRY,
    CacheWarning,
    Experiment,
    Result,
    cache_root,
    entry_dir,
    run_or_load,
    run_or_load_parallel,
)
from trustml.core.errors import CacheError, WorkerError

ROOT = Path(__file__).resolve().parents[2]


def _folder(exp: Experiment) -> Path:
    return entry_dir(exp, exp.config_for("smoke"), get_budget("smoke"))


def _computations(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def _forge(folder: Path, name: str, data: bytes, manifest_change=None) -> None:
    """Replace `name` by `data` and update its digest in the manifest (a forgery the digests
    cannot tell: they check integrity, not authorship)."""
    (folder / name).unlink()
    (folder / name).write_bytes(data)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][name] = hashlib.sha256(data).hexdigest()
    if manifest_change:
        manifest.update(manifest_change)
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture
def log(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "log"
    monkeypatch.setenv("DUMMY_LOG", str(path))
    return path


@dataclass(frozen=True)
class WeightsConfig:
    size: int = 4


class _Weighted:
    """An experiment with weights; `sizes` gives the size of its tensor at each computation."""

    def __init__(self, *sizes: int) -> None:
        self.sizes = list(sizes)
        self.calls = 0

    def __call__(self, config: WeightsConfig, budget) -> Result:
        size = self.sizes[min(self.calls, len(self.sizes) - 1)]
        self.calls += 1
        return Result(metrics={"answer": 42, "size": size},
                      weights={"model": {"w": torch.arange(size, dtype=torch.float32)}})


def _weighted(*sizes: int) -> Experiment:
    config = WeightsConfig()
    return Experiment("weighted", 1, _Weighted(*sizes), {"full": config, "smoke": config})


def _warned(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, CacheWarning)]


# Row 1: weights the safe loader refuses -------------------------------------------------------

class _Evil:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ['EVIL_MARKER']}",))


class _Custom:
    pass


def _refused_weights(kind: str) -> bytes:
    buffer = io.BytesIO()
    if kind == "reduce":
        return pickle.dumps(_Evil())
    if kind == "plain-pickle":
        return pickle.dumps({"model": {"w": [1.0, 2.0]}, "x": _Custom()})
    if kind == "legacy-torch":
        torch.save({"model": {"w": _Evil()}}, buffer, _use_new_zipfile_serialization=False)
    else:  # a zip-format torch file holding an object that is not a tensor
        torch.save({"model": {"w": _Custom()}}, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["reduce", "plain-pickle", "legacy-torch", "torch-object"])
def test_weights_the_safe_loader_refuses_are_one_line_corrupt_and_recomputed(
        cache_dir, tmp_path, monkeypatch, kind):
    marker = tmp_path / "evil-ran"
    monkeypatch.setenv("EVIL_MARKER", str(marker))
    exp = _weighted(4)
    run_or_load(exp, budget="smoke")
    _forge(_folder(exp), "weights.pt", _refused_weights(kind))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        result = run_or_load(exp, budget="smoke")
    (message,) = _warned(record)
    assert "corrupt cache entry" in message and "weights.pt" in message
    assert "weights_only" not in message and "\n" not in message  # never advise turning it off
    assert result.meta["computed"] and exp.run.calls == 2
    assert torch.equal(result.weights["model"]["w"], torch.arange(4.0))
    assert not marker.exists()  # the pickle's code never ran


# Row 2: a full disk --------------------------------------------------------------------------

@pytest.fixture
def tiny_disk(tmp_path):
    """A real 200 KB tmpfs, mounted for the test (skipped where mounting is not allowed)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'}; needs "
                    "root or CAP_SYS_ADMIN): test_a_full_disk_simulated covers the behaviour")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _disk_full_warning(record) -> str:
    (message,) = _warned(record)
    assert "no space left on the device of the results cache" in message, message
    assert "needed for this entry" in message and "TRUSTML_CACHE" in message
    assert "\n" not in message
    return message


def test_a_full_disk_is_one_line_keeps_the_old_entry_and_returns_the_result(
        tiny_disk, monkeypatch):
    monkeypatch.setenv("TRUSTML_CACHE", str(tiny_disk / "cache"))
    exp = _weighted(1000, 200_000, 200_000)  # 4 kB fits; 800 kB does not
    first = run_or_load(exp, budget="smoke")
    assert first.meta["computed"] and first.metrics["size"] == 1000
    folder = _folder(exp)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        forced = run_or_load(exp, budget="smoke", force=True)  # `--force` over a full disk
    assert str(folder.parent) in _disk_full_warning(record)
    assert forced.meta["computed"] and forced.metrics == {"answer": 42, "size": 200_000}
    assert "not stored" in forced.meta["path"]
    kept = run_or_load(exp, budget="smoke")  # the old entry is kept, complete
    assert not kept.meta["computed"] and kept.metrics["size"] == 1000
    assert sorted(p.name for p in folder.parent.iterdir()) == [f".{folder.name}.lock", folder.name]
    shutil.rmtree(folder)  # now the first save of an entry on a full disk
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fresh = run_or_load(exp, budget="smoke")
    _disk_full_warning(record)
    assert fresh.metrics["size"] == 200_000 and not folder.exists()
    assert [p.name for p in folder.parent.iterdir()] == [f".{folder.name}.lock"]


def test_a_full_disk_simulated(cache_dir, monkeypatch):
    """ENOSPC from the write of `weights.pt` (simulated); torch itself never writes to the disk
    (its RuntimeError `unexpected pos` on a full disk cannot happen)."""
    exp = _weighted(4, 8)
    run_or_load(exp, budget="smoke")
    write_bytes, save = Path.write_bytes, torch.save

    def full(self, data):
        if self.name == "weights.pt":
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return write_bytes(self, data)

    def save_to_memory_only(obj, f, *args, **kwargs):
        if not isinstance(f, io.BytesIO):
            raise RuntimeError("[enforce fail at inline_container.cc:672] unexpected pos 64")
        return save(obj, f, *args, **kwargs)

    with monkeypatch.context() as patch, warnings.catch_warnings(record=True) as record:
        patch.setattr(Path, "write_bytes", full)
        patch.setattr(cache_entry.torch, "save", save_to_memory_only)
        warnings.simplefilter("always")
        forced = run_or_load(exp, budget="smoke", force=True)
    _disk_full_warning(record)
    assert forced.metrics["size"] == 8 and torch.equal(forced.weights["model"]["w"], torch.arange(8.0))
    assert run_or_load(exp, budget="smoke").metrics["size"] == 4  # the old entry is kept


# Rows 3, 4, 12, 15: hostile manifests and metrics ----------------------------------------------

def _corrupt_then_recomputed(exp: Experiment, log: Path, match: str, computed: int = 2) -> None:
    with pytest.warns(CacheWarning, match=match):
        result = run_or_load(exp, budget="smoke")
    assert result.meta["computed"] and result.metrics["answer"] == 42
    assert _computations(log) == computed


def test_a_deeply_nested_manifest_is_a_bad_entry_and_the_listing_goes_on(cache_dir, log, capsys):
    exp, other = dummy(), dummy(name="dummy-other")
    run_or_load(exp, budget="smoke")
    run_or_load(other, budget="smoke")
    (_folder(exp) / "manifest.json").write_text("[" * 100_000)
    assert cli.main(["cache"]) == 1
    out = capsys.readouterr().out
    assert "BAD" in out and "nested too deeply" in out and "dummy-other" in out
    _corrupt_then_recomputed(exp, log, "nested too deeply", computed=3)


@pytest.mark.parametrize("metrics", [{}, [1, 2, 3], 42, "text"])
def test_metrics_that_are_not_a_non_empty_object_are_corrupt(cache_dir, log, metrics):
    exp = dummy()
    run_or_load(exp, budget="smoke")
    _forge(_folder(exp), "metrics.json", json.dumps(metrics).encode())
    _corrupt_then_recomputed(exp, log, "metrics.json must be a non-empty JSON object")


def test_metrics_lacking_a_key_the_experiment_declares_are_corrupt(cache_dir, log):
    exp = dummy(metrics=("answer",))
    run_or_load(exp, budget="smoke")
    _forge(_folder(exp), "metrics.json", b'{"question": 6}')
    _corrupt_then_recomputed(exp, log, r"its metrics lack \['answer'\]")


def test_every_registered_experiment_declares_the_metrics_its_view_reads():
    import trustml.experiments  # noqa: F401

    assert all(exp.metrics for exp in REGISTRY.values()), [
        name for name, exp in REGISTRY.items() if not exp.metrics]


def test_a_fifo_in_place_of_a_file_is_never_opened(cache_dir, log):
    exp = dummy()
    run_or_load(exp, budget="smoke")
    (_folder(exp) / "metrics.json").unlink()
    os.mkfifo(_folder(exp) / "metrics.json")
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("a load blocked on the FIFO"))
    signal.alarm(20)
    try:
        _corrupt_then_recomputed(exp, log, "metrics.json is not a regular file")
    finally:
        signal.alarm(0)


@pytest.mark.parametrize("elapsed", [float("nan"), float("inf"), -1.0])
def test_an_elapsed_time_that_is_not_a_finite_duration_is_rejected(cache_dir, log, elapsed):
    exp = dummy()
    run_or_load(exp, budget="smoke")
    manifest = _folder(exp) / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "elapsed_s": elapsed}))
    _corrupt_then_recomputed(exp, log, "'elapsed_s' must be a finite number of seconds")


# Row 5: leftovers ------------------------------------------------------------------------------

def test_cache_reports_leftovers_of_killed_writers_and_clean_deletes_them(cache_dir, log, capsys):
    exp = dummy()
    run_or_load(exp, budget="smoke")
    folder = _folder(exp)
    part = folder.with_name(f".{folder.name}.abc123.part")
    old = folder.with_name(f".{folder.name}.def456.old")
    part.mkdir()
    shutil.copytree(folder, old)
    assert cli.main(["cache"]) == 0
    captured = capsys.readouterr()
    assert f"LEFT   {part}" in captured.out and f"LEFT   {old}" in captured.out
    assert "cache --clean" in captured.err and len(captured.err.splitlines()) == 1
    assert cli.main(["cache", "--clean"]) == 0
    assert "CLEANED" in capsys.readouterr().out
    assert sorted(p.name for p in folder.parent.iterdir()) == [f".{folder.name}.lock", folder.name]
    assert run_or_load(exp, budget="smoke").metrics == {"answer": 42} and _computations(log) == 1


@pytest.mark.parametrize("kind", ["file", "symlink-to-file", "broken-symlink"])
def test_a_file_or_symlink_where_an_entry_belongs_leaves_nothing_behind(
        cache_dir, log, tmp_path, kind):
    exp = dummy()
    folder = _folder(exp)
    folder.parent.mkdir(parents=True)
    target = tmp_path / "target"
    if kind == "file":
        folder.write_text("not an entry")
    else:
        if kind == "symlink-to-file":
            target.write_text("not an entry")
        folder.symlink_to(target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CacheWarning)
        result = run_or_load(exp, budget="smoke")
    assert result.meta["computed"] and folder.is_dir() and not folder.is_symlink()
    assert sorted(p.name for p in folder.parent.iterdir()) == [f".{folder.name}.lock", folder.name]
    assert target.exists() == (kind == "symlink-to-file")  # a symlink's target is not touched


# Rows 6, 7, 10, 16: arguments and the cache root, one line each --------------------------------

def _one_line(capsys, code: int, expected: int, match: str) -> None:
    err = capsys.readouterr().err
    assert code == expected and len(err.strip().splitlines()) == 1 and match in err, err


def test_a_negative_max_chars_is_rejected_in_one_line(cache_dir, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "data-overview", "--max-chars", "-5"])
    _one_line(capsys, exit_.value.code, 2, "--max-chars: must be an integer >= 0, got -5")


@pytest.mark.parametrize("argv", [["no-such-command"], ["run"], ["ex3", "--part", "z"],
                                  ["cache", "--bogus"]])
def test_usage_errors_are_one_line(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    _one_line(capsys, exit_.value.code, 2, "--help")


def test_a_relative_cache_root_is_rejected_in_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TRUSTML_CACHE", "relcache")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CacheError, match="relative path"):
        cache_root()
    _one_line(capsys, cli.main(["cache"]), 2, "TRUSTML_CACHE=relcache is a relative path")
    assert not (tmp_path / "relcache").exists()


def test_a_too_long_cache_root_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TRUSTML_CACHE", str(tmp_path / ("x" * 300) / "cache"))
    _one_line(capsys, cli.main(["cache"]), 2, "TRUSTML_CACHE is too long")
    monkeypatch.setattr(cli, "_cmd_list", lambda args: run_or_load(dummy(), budget="smoke"))
    _one_line(capsys, cli.main(["list"]), 2, "a folder name of 300 bytes, at most 255")


def test_a_cache_warning_is_one_line_at_the_command_line(cache_dir, log, monkeypatch, capsys):
    exp = dummy()
    monkeypatch.setitem(REGISTRY, "dummy", exp)
    run_or_load(exp, budget="smoke")
    (_folder(exp) / "metrics.json").write_text('{"answer": 41}')
    assert cli.main(["run", "dummy", "--budget", "smoke"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: corrupt cache entry") and err.count("\n") == 1, err


# Row 8: a reader racing a --force writer (two real processes) ----------------------------------

def test_a_reader_does_not_report_an_entry_a_force_writer_replaced_while_it_read(
        cache_dir, log, monkeypatch):
    """The reader reads the manifest; then a writer process (`--force`) renames the old entry
    aside and stalls 1.5 s before renaming the new one in: the reader finds no files."""
    run_or_load(dummy(), budget="smoke")
    read_manifest = cache_entry.read_manifest
    env = {**os.environ, "TRUSTML_CACHE": str(cache_dir), "DUMMY_LOG": str(log),
           "DUMMY_STALL": "1.5"}
    writers: list[subprocess.Popen] = []

    def read_then_let_a_writer_replace_it(folder):
        manifest = read_manifest(folder)
        if not writers:  # between the manifest and the files
            writers.append(subprocess.Popen(
                [sys.executable, "-m", "tests.dummy_experiment", "0", "--force", "--stall-on",
                 "swap"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
            deadline = time.monotonic() + 60
            while not Path(f"{log}.stalled").exists():
                assert writers[0].poll() is None and time.monotonic() < deadline
                time.sleep(0.02)
        return manifest

    monkeypatch.setattr(cache_entry, "read_manifest", read_then_let_a_writer_replace_it)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        result = run_or_load(dummy(), budget="smoke")
    assert writers[0].wait(timeout=60) == 0, writers[0].communicate()
    assert not result.meta["computed"] and result.metrics == {"answer": 42}
    assert _computations(log) == 2  # the first save and the writer's; the reader computed nothing


# Row 9: a worker killed with a real SIGKILL ---------------------------------------------------

def test_a_killed_worker_is_one_line_and_its_siblings_finished_work_is_cached(cache_dir, log):
    quick, doomed = dummy(3.0, name="dummy-quick"), dummy(120.0, name="dummy-doomed")

    def kill_the_doomed_worker() -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            lines = log.read_text().splitlines() if log.exists() else []
            if len(lines) == 2:  # both workers computing
                (pid,) = [int(line.split()[1]) for line in lines if line.endswith(" 120.0")]
                os.kill(pid, signal.SIGKILL)  # as the out-of-memory killer would
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_doomed_worker)
    killer.start()
    with pytest.raises(WorkerError) as info:
        run_or_load_parallel([quick, doomed], budget="smoke")
    killer.join()
    message = str(info.value)
    assert "dummy-doomed (SIGKILL)" in message and "memory" in message and "\n" not in message
    assert "dummy-quick finished and are cached" in message
    assert not run_or_load(quick, budget="smoke").meta["computed"]  # the sibling's work is kept
    assert not _folder(doomed).exists()


# Row 11: an unreadable experiment folder ------------------------------------------------------

def _unreadable_cache(cache_dir: Path) -> Path:
    exp = dummy()
    run_or_load(exp, budget="smoke")
    return _folder(exp).parent


def test_an_unreadable_experiment_folder_is_reported_simulated(cache_dir, log, monkeypatch, capsys):
    """`iterdir` raising PermissionError on the folder (simulated: root reads a `chmod 000`)."""
    unreadable = _unreadable_cache(cache_dir)
    iterdir = Path.iterdir

    def denied(self):
        if self == unreadable:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return iterdir(self)

    monkeypatch.setattr(Path, "iterdir", denied)
    assert cli.main(["cache"]) == 1
    captured = capsys.readouterr()
    assert f"BAD    cannot read {unreadable} (Permission denied)" in captured.out
    assert "1 bad entries" in captured.err


def test_an_unreadable_experiment_folder_is_reported_for_real(cache_dir, log, tmp_path):
    """A real `chmod 000`, read by a process that cannot bypass permissions: a non-root user, or
    root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (dropped with `setpriv`)."""
    unreadable = _unreadable_cache(cache_dir)
    command = [sys.executable, "-m", "trustml", "cache"]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("root, and no setpriv to drop the capability to bypass permissions")
        caps = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", *command]
    unreadable.chmod(0o000)
    try:
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "TRUSTML_CACHE": str(cache_dir)})
    finally:
        unreadable.chmod(0o755)
    if "setpriv" in command[0] and "setpriv:" in done.stderr:
        pytest.skip(f"setpriv cannot drop capabilities here: {done.stderr.strip()}")
    assert done.returncode == 1, done.stderr
    assert f"BAD    cannot read {unreadable} (Permission denied)" in done.stdout


# Row 13: attack inputs ------------------------------------------------------------------------

def test_attacks_reject_float64_images_in_one_line_and_accept_images_that_require_grad():
    from trustml.adversarial.attacks import fgsm, pgd

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    y = torch.tensor([0, 1, 2, 0])
    with pytest.raises(ValueError, match=r"x must have the model's dtype torch.float32, got "
                                         r"torch.float64 \(convert the images with"):
        fgsm(model, torch.rand(4, 1, 4, 4, dtype=torch.float64), y, 0.1)
    x = torch.rand(4, 1, 4, 4, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x_adv in (fgsm(model, x, y, 0.1), pgd(model, x, y, 0.1, steps=2)):
            assert (x_adv - x.detach()).abs().max() <= 0.1 + 1e-6 and not x_adv.requires_grad


# Row 14: SIGTERM to make report-smoke ----------------------------------------------------------

@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_sigterm_to_make_report_smoke_leaves_no_temporary_folder(tmp_path):
    """A real SIGTERM to `make report-smoke`, whose Quarto is a stand-in that goes on writing
    into its folder for 3 s (a Quarto left running would recreate the removed copy)."""
    if not (ROOT / ".venv" / ".trustml-installed").exists():
        pytest.skip("needs the .venv that `make venv` builds")
    bin_dir, tmp = tmp_path / "bin", tmp_path / "tmp"
    bin_dir.mkdir()
    tmp.mkdir()
    (bin_dir / "quarto").write_text('#!/bin/sh\nsleep 3\nmkdir -p "$PWD/_book-smoke"\n')
    (bin_dir / "quarto").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "TMPDIR": str(tmp)}
    proc = subprocess.Popen(["make", "-s", "report-smoke"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp.glob("trustml-smoke.*/render.log")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the render never started"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        time.sleep(4)  # past the stand-in's write, had it been left running
        assert list(tmp.iterdir()) == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_the_unsaved_result_of_a_full_disk_holds_plain_json_metrics(cache_dir, monkeypatch):
    """The result shown after a full disk looks as if it were loaded: JSON values, CPU tensors."""
    config = WeightsConfig()
    exp = Experiment("numpy-metrics", 1,
                     lambda c, b: Result(metrics={"answer": np.float32(0.5), "pair": (1, 2)},
                                         weights={"m": {"w": torch.ones(2)}}),
                     {"full": config, "smoke": config})

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", full)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CacheWarning)
        result = run_or_load(exp, budget="smoke")
    assert result.metrics == {"answer": 0.5, "pair": [1, 2]}
    assert type(result.metrics["answer"]) is float


def test_the_committed_full_entries_hold_the_metrics_their_experiments_declare(monkeypatch):
    import trustml.experiments  # noqa: F401

    monkeypatch.delenv("TRUSTML_CACHE", raising=False)
    full = get_budget("full")
    for exp in REGISTRY.values():
        folder = entry_dir(exp, exp.config_for(full), full)
        stored = json.loads((folder / "metrics.json").read_text())
        assert set(exp.metrics) <= set(stored), (exp.name, set(exp.metrics) - set(stored))


def test_no_committed_full_entry_is_stale(monkeypatch):
    """Every upstream result a committed entry records is the one the current configs name
    (and committed): an evaluation never reports on a model that has since changed."""
    import trustml.experiments  # noqa: F401
    from trustml.core.cache import stale_upstream

    monkeypatch.delenv("TRUSTML_CACHE", raising=False)
    full = get_budget("full")
    for exp in REGISTRY.values():
        folder = entry_dir(exp, exp.config_for(full), full)
        manifest = json.loads((folder / "manifest.json").read_text())
        assert stale_upstream(manifest) is None, exp.name
        for name, recorded in (manifest.get("upstream") or {}).items():
            assert (folder.parent.parent / name / recorded / "manifest.json").is_file(), (
                exp.name, name)
