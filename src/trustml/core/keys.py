"""The one function that turns a number (a radius, a beta, a latent size) into the key it has in
a result's metrics, so that experiments write and views read the same string."""

from __future__ import annotations

import numbers


def number_key(value: float) -> str:
    """The metrics key of a number: `str(int)` for an integer, else the shortest repr of the
    float (`8 / 255` -> '0.03137254901960784'), as `json` keeps it. The committed results were
    written with these keys, so they must never change."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"a metrics key is made from a number, got {type(value).__name__}")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    return repr(float(value))
