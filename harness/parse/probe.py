"""The start-latency probe's JSON report.

Schema 1 (what go_workloads' probe prints, one object):

    {"schema": 1, "go_version": "go1.27.3", "gomaxprocs": 2, "duration_s": 2.0,
     "interval_ns": 20000, "spawned": N, "measured": N, "gc_cycles": K,
     "start_latency_ns": {"buckets": [{"low": 0, "high": 128, "count": 5}, …]},
     "percentiles_ns": {"p50": …, "p99": …, "p999": …, "max": …},
     "runtime_metrics": {"/sched/latencies:seconds": {"buckets": [{"low": 1e-9,
                         "high": 2e-9, "count": 3}, …]}, …}}

`null` (or a JSON ±Infinity) is an infinite bucket bound. Runtime-metrics buckets stay in
seconds here, as the runtime reports them; tables.latency_frame converts them to ns.

A process that died mid-write leaves truncated JSON: that is `data=None`, `error` set,
`skipped=1`, never an exception. If the JSON is preceded by other output, the first line
that starts a decodable object is used. Inside a valid report, a malformed bucket is
skipped and counted; a metric that is not a histogram (a scalar) is left in `data` only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from harness.parse.histogram import Bucket
from harness.parse.skips import SkipLog, require_text


@dataclass
class ProbeParse:
    data: dict | None = None  # the whole decoded object
    histogram: list[Bucket] = field(default_factory=list)  # start latency, ns
    runtime_metrics: dict[str, list[Bucket]] = field(default_factory=dict)  # seconds
    gc_cycles: int | None = None
    measured: int | None = None  # goroutines whose start latency is in `histogram`
    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)
    error: str | None = None  # why `data` is None


def parse_probe(text: str) -> ProbeParse:
    """Decode the probe report; never raises on bad JSON (only on non-str input)."""
    require_text(text, "parse_probe")
    skips = SkipLog()
    data, error = _decode(text)
    if data is None:
        skips.add(text.strip() or "<empty>")
        return ProbeParse(error=error, skipped=skips.count, skipped_examples=skips.examples)
    histogram = _buckets(_get(data, "start_latency_ns", "buckets"), skips)
    runtime_metrics: dict[str, list[Bucket]] = {}
    metrics = data.get("runtime_metrics")
    if isinstance(metrics, dict):
        for name, value in metrics.items():
            if isinstance(value, dict) and "buckets" in value:
                runtime_metrics[str(name)] = _buckets(value["buckets"], skips)
    return ProbeParse(
        data=data,
        histogram=histogram,
        runtime_metrics=runtime_metrics,
        gc_cycles=_int(data.get("gc_cycles")),
        measured=_int(data.get("measured")),
        skipped=skips.count,
        skipped_examples=skips.examples,
    )


def _decode(text: str) -> tuple[dict | None, str | None]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        first_error = f"invalid JSON: {exc}"
    else:
        if isinstance(data, dict):
            return data, None
        return None, f"expected a JSON object, got {type(data).__name__}"
    # Other output before the report (a warning, a panic trace): try each line that
    # starts an object. raw_decode ignores whatever follows the object.
    decoder = json.JSONDecoder()
    offset = 0
    for line in text.split("\n"):
        if line.startswith("{") and offset > 0:
            try:
                data, _ = decoder.raw_decode(text, offset)
            except ValueError:
                pass
            else:
                if isinstance(data, dict):
                    return data, None
        offset += len(line) + 1
    return None, first_error


def _get(data: dict, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _buckets(raw: Any, skips: SkipLog) -> list[Bucket]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        skips.add(_show(raw))
        return []
    out: list[Bucket] = []
    for item in raw:
        bucket = _bucket(item)
        if bucket is None:
            skips.add(_show(item))
        else:
            out.append(bucket)
    return out


def _bucket(item: Any) -> Bucket | None:
    if not isinstance(item, dict):
        return None
    try:
        low, high = _bound(item.get("low")), _bound(item.get("high"))
    except (ValueError, OverflowError):  # OverflowError: an integer too big for a float
        return None
    count = _int(item.get("count"))
    if count is None or count < 0:
        return None
    if low is not None and high is not None and high < low:
        return None
    return low, high, count


def _bound(value: Any) -> float | None:
    """A finite bound, or None for an infinite one; ValueError for anything else."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower().lstrip("+-") in {"inf", "infinity"}:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"not a bucket bound: {value!r}")
    return None if math.isinf(value) else float(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _show(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
