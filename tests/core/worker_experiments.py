"""Two tiny registered experiments for the test that computes them in worker processes (a spawned
worker must import this module itself to find them: see `trustml.core.cache._run_in_worker`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trustml.core.cache import Result, experiment


@dataclass(frozen=True)
class WorkerToyConfig:
    n: int = 3


CONFIGS = {"full": WorkerToyConfig(), "smoke": WorkerToyConfig()}


@experiment("worker-toy-a", version=1, configs=CONFIGS, metrics=("answer",))
def worker_toy_a(config: WorkerToyConfig, budget) -> Result:
    """A registered toy computed in a worker."""
    return Result(metrics={"answer": 42}, arrays={"x": np.arange(config.n)})


@experiment("worker-toy-b", version=1, configs=CONFIGS, metrics=("answer",))
def worker_toy_b(config: WorkerToyConfig, budget) -> Result:
    """Another registered toy computed in a worker."""
    return Result(metrics={"answer": 42}, arrays={"x": np.arange(config.n)})
