"""Numbers and names as a finance lead reads them: £, %, WTE, counts, and ICBs' short names.

Used by the app, the workbooks' words and the board pack, so each figure reads the same way
everywhere: £4.2m and £350k for amounts in a sentence, £50,920 with separators in a table, a
true minus sign (−£50,920, never £-50920), percentages as 20%, WTE to one decimal place.
"""

from __future__ import annotations

import math

MINUS = "\u2212"  # the minus sign: "−£50,920" (a hyphen reads as a dash)


def _sign(value: float, signed: bool) -> str:
    if value < 0:
        return MINUS
    return "+" if signed and value > 0 else ""


def money(value: float, signed: bool = False) -> str:
    """£ in the words a finance lead uses: £4.2m, £350k, £120 (−£4.2m; +£4.2m when signed)."""
    sign = _sign(value, signed)
    v = abs(value)
    if v >= 1e6:
        return f"{sign}£{v / 1e6:,.1f}m"
    if v >= 1e4:
        return f"{sign}£{v / 1e3:,.0f}k"
    return f"{sign}£{v:,.0f}"


def gbp(value: float, decimals: int = 0, signed: bool = False) -> str:
    """£ in full with separators, for a table: £50,920, −£50,920, £34.78 (+£1,204 signed)."""
    if not math.isfinite(value):
        return "n/a"
    if round(abs(value), decimals) == 0:
        value = 0.0  # no "−£0"
    return f"{_sign(value, signed)}£{abs(value):,.{decimals}f}"


def percent(share: float, decimals: int = 0, signed: bool = False) -> str:
    """A share as a percentage: 0.2 -> 20%, −3.5% (signed: +3.5%)."""
    if not math.isfinite(share):
        return "n/a"
    value = share * 100
    if round(abs(value), decimals) == 0:
        value = 0.0
    return f"{_sign(value, signed)}{abs(value):,.{decimals}f}%"


def wte(value: float, signed: bool = False) -> str:
    """Whole-time equivalents to one decimal place: 12.3 (−0.5; +0.5 signed)."""
    if not math.isfinite(value):
        return "n/a"
    if round(abs(value), 1) == 0:
        value = 0.0
    return f"{_sign(value, signed)}{abs(value):,.1f}"


def count(value: float, signed: bool = False) -> str:
    """A whole number with separators: 68,757 (−1,204; +1,204 signed)."""
    if not math.isfinite(value):
        return "n/a"
    if round(abs(value)) == 0:
        value = 0.0
    return f"{_sign(value, signed)}{abs(value):,.0f}"


def ratio(value: float, signed: bool = False) -> str:
    """A ratio to two decimal places: 1.16 (+0.04 signed)."""
    if not math.isfinite(value):
        return "n/a"
    if round(abs(value), 2) == 0:
        value = 0.0
    return f"{_sign(value, signed)}{abs(value):.2f}"


def short_icb(name: str) -> str:
    """An ICB's name as people say it: "NHS Lincolnshire Integrated Care Board" ->
    "Lincolnshire"."""
    return str(name).removeprefix("NHS ").removesuffix(" Integrated Care Board")
