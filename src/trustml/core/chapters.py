"""Which experiments each chapter of the book shows, declared once, by the chapter's experiments
module (`declare_chapter(...)` beside its `@experiment`s).

The command line builds its commands (`ex3`, `ext-cifar`, ...) and their `--part`/`--model`
choices from these declarations, the views compute what they declare, and a test checks that
every experiment a chapter renders is declared for it and the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Chapter:
    """A chapter (`file`, relative to the book's root): the `experiments` it shows, in the order
    they are computed (those in `parallel` first, side by side); its command-line `command`
    (None for an appendix) and `title`; the `view` module whose `summary(results)` prints it;
    its `parts` (name -> the experiments that part shows), chosen with `--<part_option>`."""

    file: str
    experiments: tuple[str, ...]
    view: str
    command: str | None = None
    title: str = ""
    parts: tuple[tuple[str, tuple[str, ...]], ...] = ()
    part_option: str = "part"
    parallel: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.experiments or len(set(self.experiments)) != len(self.experiments):
            raise ValueError(f"{self.file}: experiments must be distinct and at least one, got "
                             f"{list(self.experiments)}")
        stray = {n for _, names in self.parts for n in names} | set(self.parallel)
        if not stray <= set(self.experiments):
            raise ValueError(f"{self.file}: parts name experiments the chapter does not declare: "
                             f"{sorted(stray - set(self.experiments))}")

    def part_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.parts)

    def part(self, name: str) -> tuple[str, ...]:
        """The experiments of one part."""
        for part, names in self.parts:
            if part == name:
                return names
        raise ValueError(f"unknown part {name!r} of {self.command or self.file}; choose one of "
                         f"{', '.join(self.part_names())}")


CHAPTERS: dict[str, Chapter] = {}


def declare_chapter(file: str, experiments: tuple[str, ...], view: str, *,
                    command: str | None = None, title: str = "",
                    parts: Mapping[str, tuple[str, ...]] | None = None, part_option: str = "part",
                    parallel: tuple[str, ...] = ()) -> Chapter:
    """Declare (register) a chapter; see `Chapter`. A file is declared once."""
    chapter = Chapter(file, tuple(experiments), view, command, title,
                      tuple((k, tuple(v)) for k, v in (parts or {}).items()), part_option,
                      tuple(parallel))
    if file in CHAPTERS and CHAPTERS[file] != chapter:
        raise ValueError(f"chapter {file} is declared twice")
    CHAPTERS[file] = chapter
    return chapter


def chapter_for(command: str) -> Chapter:
    """The chapter of a command-line command."""
    for chapter in CHAPTERS.values():
        if chapter.command == command:
            return chapter
    commands = sorted(c.command for c in CHAPTERS.values() if c.command)
    raise ValueError(f"unknown chapter command {command!r}; choose one of {', '.join(commands)}")
