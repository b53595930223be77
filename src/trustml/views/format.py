"""Number formatting for prose and tables (inline expressions use these).

The whole book rounds one way, `half_up`: half away from zero after removing float noise, so a
number reads the same in a sentence, in a table (`views.table.Table` rounds with it too) and in
the preface, wherever and in whichever precision it was computed.
"""

from __future__ import annotations

import math


def half_up(x: float, digits: int = 1) -> float:
    """`x` rounded half away from zero at `digits` decimals, after removing float noise (so a
    share of 127/2,000 is 6.4 % wherever it was computed, whether 0.0635 came out a hair above
    or below in 32-bit floats), without negative zeros."""
    scaled = abs(x) * 10**digits
    if not math.isfinite(scaled) or scaled >= 2**52:  # no decimals left to round
        return float(x)
    scaled = round(scaled, 3)  # float32 shares carry noise near 1e-5 of a point
    return math.copysign(math.floor(scaled + 0.5), x) / 10**digits + 0.0


def fmt_int(n: float) -> str:
    """12345 -> '12,345'."""
    return f"{int(round(n)):,}"


def fmt_pct(p: float, digits: int = 1) -> str:
    """0.9912 -> '99.1 %' (a fraction in, a percentage out, rounded by `half_up`)."""
    return f"{half_up(100 * p, digits):.{digits}f} %"


def fmt_pp(diff: float, digits: int = 1) -> str:
    """A difference of two fractions in percentage points: 0.122 -> '12.2 percentage points'."""
    return f"{half_up(100 * diff, digits):.{digits}f} percentage points"


def pp_shown(a: float, b: float, digits: int = 1) -> float:
    """The difference a - b of two fractions that the prose shows as percentages, in percentage
    points, taken between the shown (rounded) values so that the words add up on the page:
    (0.91115, 0.8115) -> 9.9 (91.1 % minus 81.2 %), not 10.0."""
    return half_up(half_up(100 * a, digits) - half_up(100 * b, digits), digits)


def fmt_pp_shown(a: float, b: float, digits: int = 1) -> str:
    """`pp_shown` in words: (0.91115, 0.8115) -> '9.9 percentage points'."""
    return f"{pp_shown(a, b, digits):.{digits}f} percentage points"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def fmt_sci(x: float, digits: int = 1) -> str:
    """Scientific notation for prose: 2.3e-07 -> '2.3 × 10⁻⁷' (0 -> '0')."""
    if x == 0:
        return "0"
    mantissa, exponent = f"{x:.{digits}e}".split("e")
    power = f"10{str(int(exponent)).translate(_SUPERSCRIPT)}"
    # plain spaces: an inline expression shows a no-break space as a literal "\xa0" (Quarto
    # prints the string's repr); assets/nobreak.lua keeps "×" on the line of its neighbours
    return power if mantissa == "1" else f"{mantissa} × {power}"


def fmt_float(x: float, digits: int = 3) -> str:
    """1.23456 -> '1.235' (rounded by `half_up`)."""
    return f"{half_up(x, digits):.{digits}f}"


def fmt_seconds(s: float) -> str:
    """Seconds as '42 s', '3.5 min' or '1.2 h'."""
    if s < 120:
        return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def fmt_list(items) -> str:
    """['a', 'b', 'c'] -> 'a, b and c' ('a' alone, 'a and b' for two)."""
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
                9: "nine"}


def fmt_count(n: int) -> str:
    """A small count in words as prose writes it (3 -> 'three'); digits from ten on."""
    return NUMBER_WORDS.get(n, str(n))
