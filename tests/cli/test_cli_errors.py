"""Every error a user can meet at the command line is one line, with the right exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.dummy_experiment import dummy
from trustml import cli
from trustml.core.cache import REGISTRY
from trustml.core.device import get_device
from trustml.core.errors import DeviceError

ROOT = Path(__file__).resolve().parents[2]


def _one_line_error(capsys, code: int, expected_code: int, match: str) -> None:
    err = capsys.readouterr().err
    assert code == expected_code, err
    assert len(err.strip().splitlines()) == 1 and match in err, err


@pytest.mark.parametrize("value", ["banana", "cuda:99"])
def test_bad_device_is_one_line(monkeypatch, capsys, value):
    monkeypatch.setenv("TRUSTML_DEVICE", value)
    with pytest.raises(DeviceError, match="TRUSTML_DEVICE"):
        get_device()
    monkeypatch.setattr(cli, "_cmd_list", lambda args: (get_device(), 0)[1])
    _one_line_error(capsys, cli.main(["list"]), 2, "TRUSTML_DEVICE")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_cuda_without_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TRUSTML_DEVICE", "cuda")
    with pytest.raises(DeviceError, match="not available on this machine"):
        get_device()


def test_unreadable_data_file_is_one_line(monkeypatch, capsys):
    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    _one_line_error(capsys, cli.main(["data"]), 2, "cannot read the dataset file")


def test_unknown_experiment_is_one_line(capsys):
    _one_line_error(capsys, cli.main(["run", "no-such-experiment"]), 2, "unknown experiment")


def test_ctrl_c_says_interrupted(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_cmd_list", interrupted)
    _one_line_error(capsys, cli.main(["list"]), 130, "interrupted")


def test_usage_error_exits_with_2(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run"])
    assert exit_.value.code == 2


def test_closed_pipe_is_silent(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "trustml", "list"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `| head -0`: nobody reads
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert err == "" and proc.returncode != 0


def test_loaded_and_computed_are_told_apart(cache_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DUMMY_LOG", str(tmp_path / "log"))
    monkeypatch.setitem(REGISTRY, "dummy", dummy())
    import trustml.experiments  # noqa: F401  (registered before the dummy is looked up)

    assert cli.main(["run", "dummy", "--budget", "smoke"]) == 0
    assert "(computed in" in capsys.readouterr().out
    assert cli.main(["run", "dummy", "--budget", "smoke"]) == 0
    out = capsys.readouterr().out
    assert "(loaded in" in out and "(computed in" not in out


def test_bench_honours_the_budget(monkeypatch, capsys):
    import trustml.adversarial.bench as bench

    seen = []

    def fake(**kwargs):
        seen.append(kwargs)
        return {"batch": kwargs["batch"], "steps": kwargs["steps"], "eps": 0.1, "threads": 1,
                "ours_img_per_s": 1.0, "torchattacks_img_per_s": 1.0, "ratio": 1.0,
                "ratio_q1": 1.0, "ratio_q3": 1.0, "ratio_min": 1.0, "ratio_max": 1.0,
                "rounds": kwargs["rounds"], "identical": 1.0, "shards": 2}

    monkeypatch.setattr(bench, "bench_attacks", fake)
    assert cli.main(["bench", "attacks", "--budget", "smoke"]) == 0
    assert {k["batch"] for k in seen} == {bench.SIZES["smoke"]["batch"]}
    assert "1 alternating round (medians)" in capsys.readouterr().out


def test_cache_listing_reports_a_bad_entry_and_goes_on(cache_dir, tmp_path, monkeypatch, capsys):
    from trustml.core.cache import run_or_load

    monkeypatch.setenv("DUMMY_LOG", str(tmp_path / "log"))
    good = run_or_load(dummy(), budget="smoke")
    bad = Path(good.meta["path"]).parent / "0000000000000000"
    bad.mkdir()
    (bad / "manifest.json").write_text('{"files": []}')
    assert cli.main(["cache"]) == 1
    out = capsys.readouterr().out
    assert f"BAD    corrupt cache entry {bad}" in out and "dummy" in out


def test_cache_command_from_another_folder_shows_the_project_cache(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TRUSTML_CACHE"}
    out = subprocess.run([sys.executable, "-m", "trustml", "cache"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120).stdout
    assert out.splitlines()[0] == f"cache root: {ROOT / 'results'}"
