"""Command-line interface: `python -m trustml <command>` (or the `trustml` script).

  ex1 [--model vae|gan|convgan] [--budget B] [--force]  exercise 1 (VAE, GAN, conv GAN)
  ex2 [--budget B] [--force]  exercise 2 (robust regression): run it and print its tables
  ex3 [--part a|b|c|d|e] [--budget B] [--force]  exercise 3 (attacks, adversarial training)
  ex4 [--budget B] [--force]  exercise 4 (membership inference): run it and print its tables
  ext-vae [--budget B] [--force]  extension: categorical VAE in bits per dimension
  ext-cifar [--part 2.1a|2.1b|2.1c|2.1d|2.2|2.3] [--budget B] [--force]  extension: CIFAR-10
  bench attacks [--budget B]  time our PGD against torchattacks' PGD
  list                      the registered experiments
  run NAME [--budget B]     run (or load from the cache) one experiment, print its metrics
  data                      check every dataset file (download it when missing and online)
  cache                     list the cache entries (a bad one is reported; exit code 1)

Exit codes: 0 done, 1 a bad cache entry was listed, 2 a usage or setup error (one line on
stderr saying what to do), 130 interrupted (Ctrl-C). A closed output pipe ends silently.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable

from trustml.core.errors import TrustmlError


def _cmd_list(args: argparse.Namespace) -> int:
    import trustml.experiments  # noqa: F401  (registers them)
    from trustml.core.cache import REGISTRY

    for name, exp in sorted(REGISTRY.items()):
        print(f"{name:28s} v{exp.version}  {exp.description}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from trustml.core.cache import run_or_load

    if args.budget:
        os.environ["TRUSTML_BUDGET"] = args.budget
    result = run_or_load(args.name, force=args.force)
    print(json.dumps(result.metrics, indent=1)[: args.max_chars])
    print(f"\n{args.name}: {provenance(result)}")
    return 0


def provenance(result) -> str:
    """Where a result lies and whether it was computed now or loaded from the cache."""
    meta = result.meta
    if meta.get("computed"):
        return f"{meta['path']} (computed in {meta['elapsed_s']:.1f} s)"
    return (f"{meta['path']} (loaded in {meta['seconds']:.1f} s; "
            f"computing it took {meta['elapsed_s']:.1f} s)")


# exercise alias -> (its experiments, view module with `summary(*results) -> str`)
EXERCISES: dict[str, tuple[tuple[str, ...], str]] = {
    "ex1": (("ex1-vae", "ex1-gan", "ex1-convgan", "mnist-standard-cnn", "ex1-compare"),
            "trustml.views.generative"),
    "ex2": (("ex2-robust-regression",), "trustml.views.robust_regression"),
    "ex3": (("mnist-standard-cnn", "ex3-fgsm-plain-model", "ex3-fgsm-model", "ex3-pgd-model",
             "ex3-strong-model", *(f"ex3-{kind}-{model}" for kind in ("eval", "autoattack")
                                   for model in ("standard", "fgsm", "fgsm-rs", "pgd",
                                                 "pgd-0.3"))), "trustml.views.adversarial"),
    "ex4": (("ex4-gaussian-mean", "ex4-logistic"), "trustml.views.membership"),
    "ext-vae": (("ext-vae-bpd", "ext-vae-latents", "ext-vae-beta", "ext-vae-theory"),
                "trustml.views.vae_bpd"),
    "ext-cifar": (("cifar-standard", "cifar-attacks", "cifar-noise", "cifar-study",
                   "cifar-fgsm-defence", "cifar-pgd-defence", "cifar-gradients"),
                  "trustml.views.cifar"),
}


def _cmd_exercise(args: argparse.Namespace) -> int:
    import importlib

    from trustml.core.cache import run_or_load

    if args.budget:
        os.environ["TRUSTML_BUDGET"] = args.budget
    names, view_module = EXERCISES[args.command]
    view = importlib.import_module(view_module)
    model = getattr(args, "model", None)
    part = getattr(args, "part", None)
    if part:  # exercise 3: one part only
        parts = view.compute_part(part, force=args.force)
        names, results = tuple(parts), list(parts.values())
        print(view.summary(*results))
    elif model:  # exercise 1: one model only
        names = (f"ex1-{model}",)
        results = [run_or_load(names[0], force=args.force)]
        print(getattr(view, f"summary_{model}")(results[0]))
    else:
        if args.command in ("ex1", "ex3") and not args.force:  # models train side by side
            computed = view.compute()
            results = list(computed.values())
            names = tuple(r.meta["experiment"] for r in results)
        else:
            results = [run_or_load(name, force=args.force) for name in names]
        print(view.summary(*results))
    for name, result in zip(names, results, strict=True):
        print(f"\n{name}: {provenance(result)}")
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    from trustml.data import data_root, load_cifar10, load_fashion_mnist, load_mnist

    print(f"data root: {data_root().resolve()}")
    for name, loader in (("MNIST", load_mnist), ("Fashion-MNIST", load_fashion_mnist),
                         ("CIFAR-10", load_cifar10)):
        for split in ("train", "test"):
            images, labels = loader(split)
            print(f"  {name:14s} {split:5s} {tuple(images.shape)!s:20s} checksums ok")
    return 0


def _cmd_cache(args: argparse.Namespace) -> int:
    from trustml.core.cache import cache_root, read_manifest

    root = cache_root()
    print(f"cache root: {root.resolve()}")
    bad = 0
    for folder in sorted(p for p in root.glob("*/*/*") if not p.name.startswith(".")):
        try:
            meta = read_manifest(folder)
            size = sum(p.stat().st_size for p in folder.iterdir())
        except (TrustmlError, OSError) as exc:
            bad += 1
            print(f"  BAD    {exc}")
            continue
        print(f"  {meta['budget']:6s} {meta['experiment']:28s} v{meta['version']} "
              f"{folder.name} {size / 1e6:7.2f} MB  {meta['elapsed_s']:8.1f} s")
    if bad:
        print(f"{bad} bad entries: they are recomputed when next needed", file=sys.stderr)
    return 1 if bad else 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from trustml.adversarial.bench import main_attacks

    return main_attacks(args.budget)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trustml", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, Callable[[argparse.Namespace], int]] = {}

    for alias, (names, _) in EXERCISES.items():
        p = sub.add_parser(alias, help=f"run or load {', '.join(names)} and print a summary")
        p.add_argument("--budget", choices=["full", "smoke"], default=None)
        p.add_argument("--force", action="store_true", help="recompute even if cached")
        if alias == "ex1":
            p.add_argument("--model", choices=["vae", "gan", "convgan"], default=None,
                           help="train (or load) only this model")
        if alias == "ex3":
            p.add_argument("--part", choices=["a", "b", "c", "d", "e"], default=None,
                           help="run (or load) only this part of the exercise")
        if alias == "ext-cifar":
            p.add_argument("--part", choices=["2.1a", "2.1b", "2.1c", "2.1d", "2.2", "2.3"],
                           default=None, help="run (or load) only this part of the question")
        commands[alias] = _cmd_exercise
    p = sub.add_parser("list", help="list the experiments")
    commands["list"] = _cmd_list
    p = sub.add_parser("run", help="run or load one experiment")
    p.add_argument("name")
    p.add_argument("--budget", choices=["full", "smoke"], default=None)
    p.add_argument("--force", action="store_true", help="recompute even if cached")
    p.add_argument("--max-chars", type=int, default=4000, help="truncate the printed metrics")
    commands["run"] = _cmd_run
    p = sub.add_parser("bench", help="benchmarks")
    p.add_argument("what", choices=["attacks"])
    p.add_argument("--budget", choices=["full", "smoke"], default=None)
    commands["bench"] = _cmd_bench
    sub.add_parser("data", help="check the datasets")
    commands["data"] = _cmd_data
    sub.add_parser("cache", help="list cache entries")
    commands["cache"] = _cmd_cache
    parser.set_defaults(_commands=commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; every error a user can meet is one line on stderr (see the exit codes
    above), never a traceback."""
    try:
        args = build_parser().parse_args(argv)  # a usage error exits with 2 itself
        code = args._commands[args.command](args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `python -m trustml list | head -1`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so flushing stdout at exit does not fail again
        return 141
    except (TrustmlError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except PermissionError as exc:
        print(f"error: permission denied: {exc.filename or exc}", file=sys.stderr)
        return 2
