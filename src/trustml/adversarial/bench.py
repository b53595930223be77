"""Benchmarks: `python -m trustml bench attacks` times our PGD against torchattacks' PGD."""

from __future__ import annotations

import time

import torch

from trustml.adversarial.attacks import pgd
from trustml.core.budget import get_budget
from trustml.models.mnist import FastCNN, StandardCNN


def _best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


MODELS = {"FastCNN": FastCNN, "StandardCNN": StandardCNN}


def bench_attacks(batch: int = 256, eps: float = 0.1, steps: int = 10, repeats: int = 7,
                  seed: int = 0, model_name: str = "FastCNN", shards: int = 2) -> dict[str, float]:
    """Images per second of PGD (no random start, same model, batch, eps, steps, step size).

    Ours runs as the evaluations run it, the batch in `shards` parts side by side. The two
    implementations are timed alternately, `repeats` times each, and the best time of each is
    kept, so a burst of load on the machine does not favour one of them.
    """
    from trustml.adversarial.ensemble import import_torchattacks

    torchattacks = import_torchattacks()

    torch.manual_seed(seed)
    model = MODELS[model_name]().eval()
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (batch,), generator=g)
    alpha = 2.5 * eps / steps
    reference = torchattacks.PGD(model, eps=eps, alpha=alpha, steps=steps, random_start=False)
    ours_times, theirs_times = [], []
    for _ in range(repeats):
        ours_times.append(_best_of(lambda: pgd(model, x, y, eps, steps=steps, step_size=alpha,
                                               random_start=False, shards=shards), 1))
        theirs_times.append(_best_of(lambda: reference(x, y), 1))
    ours, theirs = min(ours_times), min(theirs_times)
    same = torch.allclose(pgd(model, x, y, eps, steps=steps, step_size=alpha, random_start=False,
                              shards=shards), reference(x, y), atol=1e-6)
    return {"batch": batch, "steps": steps, "eps": eps, "ours_img_per_s": batch / ours,
            "torchattacks_img_per_s": batch / theirs, "ratio": theirs / ours,
            "identical": float(same), "threads": torch.get_num_threads(), "shards": shards}


# sizes of the benchmark, by budget (smoke: seconds, to check that it runs)
SIZES = {"full": {"batch": 256, "steps": 10, "repeats": 7},
         "smoke": {"batch": 16, "steps": 2, "repeats": 1}}


def main_attacks(budget: str | None = None) -> int:
    """Exercise 3's model (FastCNN) and the classic LeNet-style CNN, at the budget's sizes."""
    sizes = SIZES[get_budget(budget).name]
    for name in MODELS:
        r = bench_attacks(model_name=name, **sizes)
        print(f"PGD, {name}, batch {r['batch']}, {r['steps']} steps, eps {r['eps']}, "
              f"{r['threads']} threads, ours in {r['shards']} parts side by side "
              f"(best of {sizes['repeats']}, alternating):")
        print(f"  trustml      {r['ours_img_per_s']:9.1f} images/s")
        print(f"  torchattacks {r['torchattacks_img_per_s']:9.1f} images/s")
        print(f"  throughput ratio trustml / torchattacks = {r['ratio']:.2f} "
              f"(adversarial images identical: {bool(r['identical'])})")
    return 0
