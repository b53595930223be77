"""Benchmarks: `python -m trustml bench attacks` times our PGD against torchattacks' PGD."""

from __future__ import annotations

import time

import torch

from trustml.adversarial.attacks import pgd
from trustml.adversarial.models import StandardCNN


def _best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_attacks(batch: int = 256, eps: float = 0.1, steps: int = 10, repeats: int = 3,
                  seed: int = 0) -> dict[str, float]:
    """Images per second of PGD (no random start, same model, batch, eps, steps, step size)."""
    import torchattacks  # installed with --no-deps by the Makefile (it needs no torchvision)

    torch.manual_seed(seed)
    model = StandardCNN().eval()
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (batch,), generator=g)
    alpha = 2.5 * eps / steps
    ours = _best_of(lambda: pgd(model, x, y, eps, steps=steps, step_size=alpha,
                                random_start=False), repeats)
    reference = torchattacks.PGD(model, eps=eps, alpha=alpha, steps=steps, random_start=False)
    theirs = _best_of(lambda: reference(x, y), repeats)
    same = torch.allclose(pgd(model, x, y, eps, steps=steps, step_size=alpha, random_start=False),
                          reference(x, y), atol=1e-6)
    return {"batch": batch, "steps": steps, "eps": eps, "ours_img_per_s": batch / ours,
            "torchattacks_img_per_s": batch / theirs, "ratio": theirs / ours,
            "identical": float(same), "threads": torch.get_num_threads()}


def main_attacks() -> int:
    r = bench_attacks()
    print(f"PGD, StandardCNN, batch {r['batch']}, {r['steps']} steps, eps {r['eps']}, "
          f"{r['threads']} threads (best of 3):")
    print(f"  trustml      {r['ours_img_per_s']:9.1f} images/s")
    print(f"  torchattacks {r['torchattacks_img_per_s']:9.1f} images/s")
    print(f"  throughput ratio trustml / torchattacks = {r['ratio']:.2f} "
          f"(adversarial images identical: {bool(r['identical'])})")
    return 0
