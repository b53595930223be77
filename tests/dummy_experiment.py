"""A tiny experiment for the tests that run real processes against the cache.

`python -m tests.dummy_experiment SECONDS [--force] [--stall-on save|swap]` runs (or loads) it at
the smoke budget in `$TRUSTML_CACHE`, appending a line to `$DUMMY_LOG` per computation, and
prints `{"answer": ..., "computed": ...}`. `--stall-on` touches `$DUMMY_LOG.stalled` and sleeps
at that moment of the save (writing the arrays; renaming the new entry in) so that a test can
kill it there (`$DUMMY_STALL` seconds, default 60).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trustml.core import cache_entry
from trustml.core.cache import Experiment, Result, run_or_load
from trustml.core.validate import NON_NEGATIVE, check_config


@dataclass(frozen=True)
class DummyConfig:
    seconds: float = 0.0

    def __post_init__(self) -> None:
        check_config(self, seconds=NON_NEGATIVE)


def _run(config: DummyConfig, budget) -> Result:
    with open(os.environ["DUMMY_LOG"], "a") as log:
        log.write(f"computed {os.getpid()} {config.seconds}\n")
    time.sleep(config.seconds)
    return Result(metrics={"answer": 42}, arrays={"x": np.arange(5)})


def dummy(seconds: float = 0.0, name: str = "dummy", metrics: tuple[str, ...] = ()) -> Experiment:
    config = DummyConfig(seconds)
    return Experiment(name, 1, _run, {"full": config, "smoke": config}, "a dummy", metrics)


def _stall() -> None:
    Path(os.environ["DUMMY_LOG"] + ".stalled").touch()
    time.sleep(float(os.environ.get("DUMMY_STALL", "60")))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("seconds", type=float)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--stall-on", choices=["save", "swap"])
    args = parser.parse_args()
    if args.stall_on == "save":
        savez = np.savez_compressed
        cache_entry.np.savez_compressed = lambda *a, **k: (_stall(), savez(*a, **k))
    elif args.stall_on == "swap":
        replace = os.replace

        def stalling_replace(src, dst):
            if str(src).endswith(".part"):  # renaming the new entry in
                _stall()
            replace(src, dst)

        cache_entry.os.replace = stalling_replace
    result = run_or_load(dummy(args.seconds), budget="smoke", force=args.force)
    print(json.dumps({"answer": result.metrics["answer"], "computed": result.meta["computed"]}))


if __name__ == "__main__":
    main()
