"""The start-latency probe's JSON report.

Schema 2 (what go_workloads' probe prints, one object; go_workloads/README.md has the
reference):

    {"schema": 2, "go_version": "go1.27.3", "gomaxprocs": 2, "creator": "sleep",
     "duration_s": 2.0, "interval_ns": 20000,
     "attempted": A, "dropped": D, "spawned": N, "measured": M, "failed": F,
     "gc_cycles": K,
     "start_latency_ns": {"buckets": [{"low": 0, "high": 128, "count": 5}, …]},
     "percentiles_ns": {"p50": …, "p99": …, "p999": …, "max": …},
     "gc_cost": {"gc-assist-cpu-%": 3.1, "gc-cycles/s": 309.0, "stw-total-ns": 7.6e6, …},
     "runtime_metrics": {"/sched/latencies:seconds": {"buckets": [{"low": 1e-9,
                         "high": 2e-9, "count": 3}, …]}, …}}

`creator` is the probe's `-creator` (sleep, handoff, busy, yield, http). For the
spawning creators attempted == spawned == measured and dropped == failed == 0; for
http, attempted = request arrivals, dropped = arrivals refused at the in-flight cap,
spawned = attempted - dropped requests sent, measured = those whose handler ran,
failed = spawned - measured. `gc_cost` maps go_workloads/internal/gccost's metric
names to numbers over the spawn window; a key is absent when the toolchain lacks its
runtime metric or the value is undefined (no GC finished in the window: no CPU shares).

Schema 1 (the probe before `-creator`) is the same without `creator`, `attempted`,
`dropped`, `failed` and `gc_cost`; it parses with `creator=None` (the document does not
say which `-wait` ran; the harness always used the default, sleep) and `gc_cost={}`.

`null` (or a JSON ±Infinity) is an infinite bucket bound. Runtime-metrics buckets stay in
seconds here, as the runtime reports them; tables.latency_frame converts them to ns.

A process that died mid-write leaves truncated JSON: that is `data=None`, `error` set,
`skipped=1`, never an exception. If the JSON is preceded by other output, the first line
that starts a decodable object is used. Inside a valid report, a malformed bucket is
skipped and counted; a metric that is not a histogram (a scalar) is left in `data` only.
Likewise a `gc_cost` value that is not a finite number (a string, a bool, null, NaN,
±Infinity), a `gc_cost` that is not an object, and a `creator` that is not a string are
skipped and counted (`creator` then None).
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
    creator: str | None = None  # -creator; None for schema 1 (see the module doc)
    gc_cost: dict[str, float] = field(default_factory=dict)  # gccost name -> finite value
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
    creator = data.get("creator")
    if creator is not None and not isinstance(creator, str):
        skips.add(_show(creator))
        creator = None
    return ProbeParse(
        data=data,
        histogram=histogram,
        runtime_metrics=runtime_metrics,
        gc_cycles=_int(data.get("gc_cycles")),
        measured=_int(data.get("measured")),
        creator=creator,
        gc_cost=_numbers(data.get("gc_cost"), skips),
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


def _numbers(raw: Any, skips: SkipLog) -> dict[str, float]:
    """A name -> finite number object; anything else is skipped and counted."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        skips.add(_show(raw))
        return {}
    out: dict[str, float] = {}
    for name, value in raw.items():
        number = _finite(value)
        if number is None:
            skips.add(_show({name: value}))
        else:
            out[str(name)] = number
    return out


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too big for a float
        return None
    return number if math.isfinite(number) else None


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
