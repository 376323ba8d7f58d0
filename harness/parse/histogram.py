"""Histogram buckets and quantiles shared by the probe and runtime/metrics tables.

A bucket is `(low, high, count)`: `count` observations fell in `[low, high)`; `None`
stands for an infinite bound (runtime/metrics' first bucket may start at -Inf, the last
ends at +Inf; the probe's overflow bucket has no upper bound).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

Bucket = tuple[float | None, float | None, int]


def histogram_quantile(buckets: Iterable[Bucket], q: float) -> float:
    """The q-quantile (0 ≤ q ≤ 1) of a bucketed distribution, interpolated linearly.

    Convention (the one Prometheus' histogram_quantile uses): the target rank is
    `q * total`; find the first non-empty bucket whose cumulative count reaches it and
    assume its observations are spread evenly over `[low, high]`, so the answer is
    `low + (high - low) * (rank - count_before) / count`. q=0 gives the lowest non-empty
    bucket's `low`, q=1 the highest one's `high`. A rank that lands in a bucket with an
    infinite upper bound returns that bucket's `low` (a lower bound on the truth: we do
    not invent a tail); one with an infinite lower bound returns its `high`. An empty
    histogram gives NaN. With power-of-two buckets the answer is off by at most the
    bucket's width, which is why tail comparisons should use the same buckets on both
    sides rather than treat these numbers as exact.
    """
    if not 0.0 <= q <= 1.0 or math.isnan(q):
        raise ValueError(f"quantile {q!r} is not in [0, 1]")
    # Buckets with the same bounds are merged, so the buckets of several processes can be
    # pooled by concatenation; distinct buckets are expected not to overlap.
    merged: dict[tuple[float | None, float | None], int] = {}
    for low, high, count in buckets:
        if count > 0:
            merged[(low, high)] = merged.get((low, high), 0) + count
    ordered = sorted(
        ((low, high, count) for (low, high), count in merged.items()),
        key=lambda b: -math.inf if b[0] is None else b[0],
    )
    total = sum(b[2] for b in ordered)
    if total == 0:
        return math.nan
    rank = q * total
    before = 0
    for low, high, count in ordered:
        if before + count >= rank:
            if high is None:
                return math.nan if low is None else float(low)
            if low is None:
                return float(high)
            return float(low) + (float(high) - float(low)) * (rank - before) / count
        before += count
    # Only floating-point rounding of q * total can get here; the top bucket holds q=1.
    low, high, _ = ordered[-1]
    return float(high if high is not None else low if low is not None else math.nan)
