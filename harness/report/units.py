"""Human-readable values for the units the tables use.

Go benchmark units name the metric (`ns/op`, `stw-ns/op`, `p99-ns`); the per-process
summary rows use plain units (`ms`, `ns`, `cycles`). Times are shown in the largest unit
that keeps the number above 1 (812 ns, 31.88 µs, 1.234 ms), bytes in binary multiples.
"""

from __future__ import annotations

import math

from harness.numbers import finite_number

__all__ = ["finite_number", "format_value", "is_bytes", "ns_per_unit", "time_axis"]

_TIME_STEPS = ((1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1.0, "ns"))
_BYTE_STEPS = ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB"), (1, "B"))


def ns_per_unit(unit: str) -> float | None:
    """How many ns one unit is, for time units (`ns/op`, `p99-ns`, `ms`); else None."""
    base = unit.removesuffix("/op")
    if base == "ns" or base.endswith("-ns"):
        return 1.0
    if base == "ms" or base.endswith("-ms"):
        return 1e6
    if base in ("s", "sec") or base.endswith("-s"):
        return 1e9
    return None


def is_bytes(unit: str) -> bool:
    return unit.removesuffix("/op") in ("B", "bytes") or unit.endswith("-bytes")


def format_value(value: float, unit: str) -> str:
    """31880, "ns/op" -> "31.88 µs/op"; 3893, "B/op" -> "3.802 KiB/op"; NaN -> "–"."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(value):
        return "–"
    per_op = "/op" if unit.endswith("/op") else ""
    scale = ns_per_unit(unit)
    if scale is not None:
        return _scaled(value * scale, _TIME_STEPS) + per_op
    if is_bytes(unit):
        return _scaled(value, _BYTE_STEPS) + per_op
    if unit == "%" or unit.endswith("-%"):  # gc-assist-cpu-%: a share, shown as one
        return f"{value:.3g} %"
    if unit.endswith("/s") and "-" in unit:  # gc-cycles/s → "11.85 cycles/s"
        return f"{value:.4g} {unit.rsplit('-', 1)[-1]}"
    if unit == "ratio":
        return f"{value:.3f}"
    return f"{value:.4g} {unit}".rstrip()


def time_axis(max_ns: float) -> tuple[float, str]:
    """(divisor, label) to plot ns values in a readable unit."""
    for factor, label in _TIME_STEPS:
        if math.isfinite(max_ns) and abs(max_ns) >= factor:
            return factor, label
    return 1.0, "ns"


def _scaled(value: float, steps: tuple[tuple[float, str], ...]) -> str:
    for factor, label in steps:
        if abs(value) >= factor:
            return f"{value / factor:.4g} {label}"
    return f"{value:.4g} {steps[-1][1]}"
