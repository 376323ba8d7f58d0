"""The Pareto front of (gain, cost) points, both "lower is better" ratios: gain = the
latency ratio (candidate / baseline, < 1 is a gain), cost = the ns/op ratio.

A point is on the front when no other point is at least as good on both axes and
strictly better on one. Equal points do not dominate each other: ties stay on the front
together. A point without a value on an axis (NaN: not measured) is neither on the front
nor allowed to dominate. The front is of point estimates; their CIs are drawn and
tabled beside it, so a reader sees which front members are separated by noise only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def pareto_front(points: Mapping[str, tuple[float, float]]) -> set[str]:
    """Names of the non-dominated points among {name: (gain, cost)}."""
    finite = {n: p for n, p in points.items() if all(math.isfinite(v) for v in p)}

    def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
        return a[0] <= b[0] and a[1] <= b[1] and (a[0] < b[0] or a[1] < b[1])

    return {
        name
        for name, p in finite.items()
        if not any(dominates(q, p) for other, q in finite.items() if other != name)
    }
