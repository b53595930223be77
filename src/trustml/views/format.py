"""Number formatting for prose and tables (inline expressions use these)."""

from __future__ import annotations


def fmt_int(n: float) -> str:
    """12345 -> '12,345'."""
    return f"{int(round(n)):,}"


def fmt_pct(p: float, digits: int = 1) -> str:
    """0.9912 -> '99.1 %' (a fraction in, a percentage out)."""
    return f"{100 * p:.{digits}f} %"


def fmt_pp(diff: float, digits: int = 1) -> str:
    """A difference of two fractions in percentage points: 0.122 -> '12.2 percentage points'."""
    return f"{100 * diff:.{digits}f} percentage points"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def fmt_sci(x: float, digits: int = 1) -> str:
    """Scientific notation for prose: 2.3e-07 -> '2.3 × 10⁻⁷' (0 -> '0')."""
    if x == 0:
        return "0"
    mantissa, exponent = f"{x:.{digits}e}".split("e")
    power = f"10{str(int(exponent)).translate(_SUPERSCRIPT)}"
    return power if mantissa == "1" else f"{mantissa} × {power}"


def fmt_float(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}"


def fmt_seconds(s: float) -> str:
    """Seconds as '42 s', '3.5 min' or '1.2 h'."""
    if s < 120:
        return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"
