"""Command-line interface: `python -m trustml <command>` (or the `trustml` script).

  ex1, ex2, ex3, ex4, ext-vae, ext-cifar [--part P | --model M] [--budget B] [--force]
                            one chapter: run (or load) its experiments and print its tables
                            (the commands and parts are the chapters' declarations,
                            `trustml.core.chapters`; see `python -m trustml ex3 --help`)
  all [--budget B] [--force]  every chapter's experiments in order, with an estimate of the time
                            left and a table of times (resumable: finished ones stay cached)
  bench attacks [--budget B]  time our PGD against torchattacks' PGD
  bench attack-precision      our strong PGD with float32 against bf16 steps (CIFAR-10)
  list                      the registered experiments
  run NAME [--budget B]     run (or load from the cache) one experiment, print its metrics
  data                      check every dataset file (download it when missing and online)
  cache [--clean]           list the cache entries (a bad one is reported; exit code 1) and
                            the leftovers of killed writers (--clean deletes them)

Exit codes: 0 done, 1 a bad cache entry was listed, 2 a usage or setup error (one line on
stderr saying what to do), 130 interrupted (Ctrl-C). A closed output pipe ends silently.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import typing
import warnings
from collections.abc import Callable
from pathlib import Path

from trustml.core.errors import TrustmlError, show_warning


def _cmd_list(args: argparse.Namespace) -> int:
    import trustml.experiments  # noqa: F401  (registers them)
    from trustml.core.cache import REGISTRY

    for name, exp in sorted(REGISTRY.items()):
        print(f"{name:28s} v{exp.version}  {exp.description}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    import trustml.experiments  # noqa: F401  (registers them)
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


def chapters() -> list:
    """The chapters with a command, as their experiments modules declare them, by command."""
    import trustml.experiments  # noqa: F401  (declares the chapters)
    from trustml.core.chapters import CHAPTERS

    return sorted((c for c in CHAPTERS.values() if c.command), key=lambda c: c.command)


def _cmd_exercise(args: argparse.Namespace) -> int:
    import importlib

    from trustml.core.cache import run_or_load, run_or_load_parallel
    from trustml.core.chapters import chapter_for

    if args.budget:
        os.environ["TRUSTML_BUDGET"] = args.budget
    chapter = chapter_for(args.command)
    part = getattr(args, chapter.part_option, None) if chapter.parts else None
    names = chapter.part(part) if part else chapter.experiments
    if not part and chapter.parallel and not args.force:  # these train side by side
        run_or_load_parallel(list(chapter.parallel))
    results = {name: run_or_load(name, force=args.force) for name in names}
    print(importlib.import_module(chapter.view).summary(results))
    for name, result in results.items():
        print(f"\n{name}: {provenance(result)}")
    return 0


def _cmd_all(args: argparse.Namespace) -> int:
    import trustml.experiments  # noqa: F401  (declares the chapters)
    from trustml.core.run_all import run_all

    if args.budget:
        os.environ["TRUSTML_BUDGET"] = args.budget
    run_all(trustml.experiments.ALL, force=args.force)
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


def _subfolders(folder: Path, problems: list[str]) -> list[Path]:
    """What `folder` holds, sorted; an unreadable folder is added to `problems`."""
    try:
        return sorted(folder.iterdir())
    except OSError as exc:
        problems.append(f"cannot read {folder} ({exc.strerror or exc}): fix its permissions")
        return []


def _cmd_cache(args: argparse.Namespace) -> int:
    import trustml.experiments  # noqa: F401  (registers them: an entry's upstream is checked)
    from trustml.core.cache import cache_root, read_manifest, stale_upstream
    from trustml.core.cache_entry import entry_lock

    root = cache_root()
    print(f"cache root: {root.resolve()}")
    problems: list[str] = []
    entries: list[Path] = []
    leftovers: dict[Path, list[Path]] = {}  # entry folder -> its `.part`/`.old` leftovers
    budgets = _subfolders(root, problems) if root.is_dir() else []
    for budget in budgets:
        if not budget.is_dir() or budget.name.startswith("."):
            continue
        for experiment in _subfolders(budget, problems):
            if not experiment.is_dir() or experiment.name.startswith("."):
                continue
            for path in _subfolders(experiment, problems):
                parts = path.name[1:].split(".")
                if not path.name.startswith("."):
                    entries.append(path)
                elif len(parts) == 3 and parts[2] in ("part", "old"):
                    leftovers.setdefault(path.with_name(parts[0]), []).append(path)
    bad = len(problems)
    for problem in problems:
        print(f"  BAD    {problem}")
    for folder in entries:
        try:
            meta = read_manifest(folder)
            size = sum(p.stat().st_size for p in folder.iterdir())
        except (TrustmlError, OSError) as exc:
            bad += 1
            print(f"  BAD    {exc}")
            continue
        stale = stale_upstream(meta)
        print(f"  {meta['budget']:6s} {meta['experiment']:28s} v{meta['version']} "
              f"{folder.name} {size / 1e6:7.2f} MB  {meta['elapsed_s']:8.1f} s"
              + (f"  stale: computed from another {stale} (recomputed when next needed)"
                 if stale else ""))
    for folder, paths in sorted(leftovers.items()):
        if args.clean:
            with entry_lock(folder):  # recovers a complete new entry, deletes the rest
                pass
        for path in paths:
            print(f"  {'CLEANED' if args.clean else 'LEFT':6s} {path} (left by a killed writer)")
    if leftovers and not args.clean:
        print(f"{sum(map(len, leftovers.values()))} leftovers of killed writers: "
              "`python -m trustml cache --clean` deletes them", file=sys.stderr)
    if bad:
        print(f"{bad} bad entries: they are recomputed when next needed", file=sys.stderr)
    return 1 if bad else 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from trustml.adversarial.bench import main_attacks
    from trustml.experiments.cifar import main_attack_precision

    return (main_attacks if args.what == "attacks" else main_attack_precision)(args.budget)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (its subcommands' too)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m trustml", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, Callable[[argparse.Namespace], int]] = {}

    for chapter in chapters():
        p = sub.add_parser(chapter.command, help=f"{chapter.title}: run or load "
                           f"{', '.join(chapter.experiments)} and print a summary")
        p.add_argument("--budget", choices=["full", "smoke"], default=None)
        p.add_argument("--force", action="store_true", help="recompute even if cached")
        if chapter.parts:
            p.add_argument(f"--{chapter.part_option}", choices=chapter.part_names(), default=None,
                           help=f"run (or load) only this {chapter.part_option} of the chapter")
        commands[chapter.command] = _cmd_exercise
    p = sub.add_parser("all", help="run (or load) every chapter's experiments, prerequisites first")
    p.add_argument("--budget", choices=["full", "smoke"], default=None)
    p.add_argument("--force", action="store_true", help="recompute even if cached")
    commands["all"] = _cmd_all
    p = sub.add_parser("list", help="list the experiments")
    commands["list"] = _cmd_list
    p = sub.add_parser("run", help="run or load one experiment")
    p.add_argument("name")
    p.add_argument("--budget", choices=["full", "smoke"], default=None)
    p.add_argument("--force", action="store_true", help="recompute even if cached")
    p.add_argument("--max-chars", type=_non_negative, default=4000,
                   help="truncate the printed metrics (>= 0)")
    commands["run"] = _cmd_run
    p = sub.add_parser("bench", help="benchmarks")
    p.add_argument("what", choices=["attacks", "attack-precision"])
    p.add_argument("--budget", choices=["full", "smoke"], default=None)
    commands["bench"] = _cmd_bench
    sub.add_parser("data", help="check the datasets")
    commands["data"] = _cmd_data
    p = sub.add_parser("cache", help="list cache entries")
    p.add_argument("--clean", action="store_true",
                   help="delete the leftovers of killed writers (recovering a complete entry)")
    commands["cache"] = _cmd_cache
    parser.set_defaults(_commands=commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; every error a user can meet is one line on stderr (see the exit codes
    above), never a traceback."""
    shown, warnings.showwarning = warnings.showwarning, show_warning  # a warning is one line
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
    finally:
        warnings.showwarning = shown
