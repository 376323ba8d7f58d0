"""Numbers read from manifests, summaries and tables, which may be missing, NaN, text or
JSON booleans: one lenient helper for every stage (the probe's JSON parser keeps its own,
stricter rule: there a string is a malformed value, not a number)."""

from __future__ import annotations

import math


def finite_number(value) -> float | None:
    """A value as a finite float; None for missing, NaN, ±inf, text that is not a number,
    or booleans (JSON true is not a count)."""
    if isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return x if math.isfinite(x) else None


def is_finite(value) -> bool:
    return finite_number(value) is not None
