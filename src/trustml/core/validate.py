"""Validation of configs and arguments: one clear `ValueError` naming the offending field.

`check_config(config, **ranges)` checks every field of a frozen config dataclass from its type
annotation: an `int` is an integer >= 1 (a `seed` >= 0), an `int | None` is `None` or >= 1 (a
limit), a `float` is a finite real, a `tuple[...]` is non-empty with valid elements, a `str` is
non-empty, a nested config is an instance of its class. `ranges` adds an `Interval` per field
(applied to each element of a tuple). `real` and `integer` check one argument of a function.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True)
class Interval:
    """A range of numbers; `lo_open`/`hi_open` exclude the end."""

    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False
    hi_open: bool = False

    def __contains__(self, value: float) -> bool:
        above = value > self.lo if self.lo_open else value >= self.lo
        below = value < self.hi if self.hi_open else value <= self.hi
        return above and below

    def __str__(self) -> str:
        return (f"{'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}"
                f"{')' if self.hi_open else ']'}")


UNIT = Interval(0.0, 1.0)  # pixels, eps, probabilities that may be 0 or 1
PROBABILITY = Interval(0.0, 1.0, lo_open=True, hi_open=True)
POSITIVE = Interval(0.0, lo_open=True)
NON_NEGATIVE = Interval(0.0)
COUNT_OR_ZERO = Interval(0)  # an int field that may be 0 (e.g. an epoch index)


def _fail(owner: str, name: str, what: str, value: Any) -> typing.NoReturn:
    raise ValueError(f"{owner}{name} must be {what}, got {value!r}")


def real(value: Any, name: str, within: Interval | None = None, owner: str = "") -> float:
    """`value` as a finite float (numpy scalars and 0-d tensors accepted, bools rejected)."""
    if hasattr(value, "ndim") and getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        value = value.item()  # numpy scalar, 0-d array or 0-d tensor
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        _fail(owner, name, "a real number", value)
    value = float(value)
    if not math.isfinite(value):
        _fail(owner, name, "finite", value)
    if within is not None and value not in within:
        _fail(owner, name, f"in {within}", value)
    return value


def integer(value: Any, name: str, within: Interval = Interval(1), owner: str = "") -> int:
    """`value` as an int in `within` (default: >= 1); numpy integers accepted, bools rejected."""
    if hasattr(value, "ndim") and getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(owner, name, "an integer", value)
    if int(value) not in within:
        _fail(owner, name, "an integer >= 1" if within == Interval(1) else f"an integer in {within}",
              value)
    return int(value)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _check_value(value: Any, hint: Any, name: str, within: Interval | None, owner: str) -> None:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return
        (hint,) = [a for a in args if a is not type(None)]
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        if not isinstance(value, tuple) or not value:
            _fail(owner, name, "a non-empty tuple", value)
        element = args[0]
        for i, item in enumerate(value):
            _check_value(item, element, f"{name}[{i}]", within, owner)
    elif hint is bool:
        if not isinstance(value, bool):
            _fail(owner, name, "True or False", value)
    elif hint is int:
        default = Interval(0) if name == "seed" else Interval(1)
        integer(value, name, within or default, owner)
    elif hint is float:
        real(value, name, within, owner)
    elif hint is str:
        if not isinstance(value, str) or not value:
            _fail(owner, name, "a non-empty string", value)
    elif isinstance(hint, type) and not isinstance(value, hint):
        _fail(owner, name, f"a {hint.__name__}", value)


def check_config(config: Any, **ranges: Interval) -> None:
    """Check every field of `config` (see the module docstring); `ValueError` naming the field."""
    owner = f"{type(config).__name__}."
    hints = _hints(type(config))
    unknown = set(ranges) - set(hints)
    if unknown:
        raise TypeError(f"{owner}: no fields {sorted(unknown)}")
    for f in dataclasses.fields(config):
        _check_value(getattr(config, f.name), hints[f.name], f.name, ranges.get(f.name), owner)
