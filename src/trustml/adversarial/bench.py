"""Benchmarks: `python -m trustml bench attacks` times our PGD against torchattacks' PGD."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import torch

from trustml.adversarial.attacks import pgd
from trustml.core.budget import get_budget
from trustml.models.mnist import FastCNN, StandardCNN

MODELS = {"FastCNN": FastCNN, "StandardCNN": StandardCNN}


def _seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def alternating_rounds(ours: Callable[[], object], theirs: Callable[[], object],
                       rounds: int) -> tuple[list[float], list[float]]:
    """The seconds of `ours` and of `theirs` in each of `rounds` rounds. Each round times both,
    one right after the other, the order swapped every round (ours first in even rounds), so a
    burst of load or a slow drift of the machine falls on both sides of a round alike."""
    ours_s: list[float] = []
    theirs_s: list[float] = []
    for i in range(rounds):
        pair = [(ours_s, ours), (theirs_s, theirs)]
        for times, fn in pair if i % 2 == 0 else pair[::-1]:
            times.append(_seconds(fn))
    return ours_s, theirs_s


def summarise(ours_s: Sequence[float], theirs_s: Sequence[float]) -> dict[str, float]:
    """The throughput ratio of each round (their time over ours: > 1 means ours is faster), its
    median, quartiles and range, and each side's median time. The median of the per-round ratios
    is the figure to quote: one slow round on either side moves it little."""
    if not ours_s or len(ours_s) != len(theirs_s):
        raise ValueError("need the same number (>= 1) of rounds on both sides")
    ratios = sorted(t / o for o, t in zip(ours_s, theirs_s, strict=True))
    q1, _, q3 = (statistics.quantiles(ratios, n=4, method="inclusive") if len(ratios) > 1
                 else ratios * 3)
    return {"ratio": statistics.median(ratios), "ratio_q1": q1, "ratio_q3": q3,
            "ratio_min": ratios[0], "ratio_max": ratios[-1], "rounds": len(ratios),
            "ours_s": statistics.median(ours_s), "theirs_s": statistics.median(theirs_s)}


def bench_attacks(batch: int = 256, eps: float = 0.1, steps: int = 10, rounds: int = 9,
                  seed: int = 0, model_name: str = "FastCNN", shards: int = 2) -> dict[str, float]:
    """Images per second of PGD (no random start, same model, batch, eps, steps, step size).

    Ours runs as the evaluations run it, the batch in `shards` parts side by side. Both are run
    once untimed (their images compared), then timed in `rounds` alternating rounds (see
    `alternating_rounds`); the ratio reported is the median of the rounds' ratios.
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

    def ours() -> torch.Tensor:
        return pgd(model, x, y, eps, steps=steps, step_size=alpha, random_start=False,
                   shards=shards)

    def theirs() -> torch.Tensor:
        return reference(x, y)

    ours_images, their_images = ours(), theirs()  # also the warm-up of both
    same = torch.allclose(ours_images, their_images, atol=1e-6)
    r = summarise(*alternating_rounds(ours, theirs, rounds))
    return {"batch": batch, "steps": steps, "eps": eps, "ours_img_per_s": batch / r["ours_s"],
            "torchattacks_img_per_s": batch / r["theirs_s"],
            **{k: v for k, v in r.items() if k.startswith("ratio") or k == "rounds"},
            "identical": float(same), "threads": torch.get_num_threads(), "shards": shards}


# sizes of the benchmark, by budget (smoke: seconds, to check that it runs)
SIZES = {"full": {"batch": 256, "steps": 10, "rounds": 9},
         "smoke": {"batch": 16, "steps": 2, "rounds": 1}}


def main_attacks(budget: str | None = None) -> int:
    """Exercise 3's model (FastCNN) and the classic LeNet-style CNN, at the budget's sizes."""
    sizes = SIZES[get_budget(budget).name]
    for name in MODELS:
        r = bench_attacks(model_name=name, **sizes)
        rounds = int(r["rounds"])
        print(f"PGD, {name}, batch {r['batch']}, {r['steps']} steps, eps {r['eps']}, "
              f"{r['threads']} threads, ours in {r['shards']} parts side by side, "
              f"{rounds} alternating round{'s' if rounds != 1 else ''} (medians):")
        print(f"  trustml      {r['ours_img_per_s']:9.1f} images/s")
        print(f"  torchattacks {r['torchattacks_img_per_s']:9.1f} images/s")
        print(f"  throughput ratio trustml / torchattacks = {r['ratio']:.2f} "
              f"(quartiles {r['ratio_q1']:.2f}-{r['ratio_q3']:.2f}, "
              f"range {r['ratio_min']:.2f}-{r['ratio_max']:.2f}; "
              f"adversarial images identical: {bool(r['identical'])})")
    return 0


class Autocast(torch.nn.Module):
    """`model` whose forward (and so its backward) runs under bf16 autocast on the input's
    device; float32 logits out."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(x.device.type, dtype=torch.bfloat16):
            return self.model(x).float()


def attack_precision(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float,
                     batch: int = 250, **strong) -> dict[str, dict[str, float]]:
    """Our strong PGD (`specs.strong_pgd(eps, **strong)`) with its steps in float32 and under bf16
    autocast: per precision, the share still robust after each member and the seconds; every
    adversarial image is classified by `model` in float32. Images the bf16 attack fails to
    break but the float32 one breaks are what bf16 steps would cost the evaluations."""
    from trustml.adversarial.specs import strong_pgd

    model = model.eval()
    with torch.no_grad():
        clean = torch.cat([model(xb).argmax(1) == yb
                           for xb, yb in zip(x.split(batch), y.split(batch), strict=True)])
    out: dict[str, dict[str, float]] = {}
    robust_by = {}
    for precision, attacked in (("float32", model), ("bf16", Autocast(model))):
        robust, start, row = clean.clone(), time.perf_counter(), {}
        for name, attack in strong_pgd(eps, **strong):
            for part in robust.nonzero()[:, 0].split(batch):
                adv = attack(attacked, x[part], y[part])
                with torch.no_grad():
                    robust[part[model(adv).argmax(1) != y[part]]] = False
            row[name] = float(robust.float().mean())
        row["seconds"] = time.perf_counter() - start
        out[precision], robust_by[precision] = row, robust
    out["compare"] = {"clean": float(clean.float().mean()),
                      "broken_only_in_float32": int((robust_by["bf16"] & ~robust_by["float32"]).sum()),
                      "broken_only_in_bf16": int((robust_by["float32"] & ~robust_by["bf16"]).sum())}
    return out
