"""The report's answer to both halves of the question, per workload: what the patch did to
goroutine start latency in each probe scenario, and what it cost the collector.

Views only (display strings from the comparisons and tables); no statistics here:
- `check_lines`: the sanity gate and the starvation check (harness/checks.py), for the
  header;
- `scenario_rows`: per probe scenario × variant, the pooled start-latency quantiles and
  the candidate's verdicts on p99 (whole run and, traced, the mark phase);
- `cost_rows`: per workload and candidate, the GC-cost headline rows side by side;
- `stopping_rows`: per workload × variant, GC stop-the-world time split into stopping
  (time to reach safe points) and stopped (the work inside the pause);
- `gomaxprocs_frame` / `gomaxprocs_rows`: with several GOMAXPROCS, the ns/op, start-latency
  and mark-phase ratios against GOMAXPROCS (plotted by plots.gomaxprocs_ratios).
"""

from __future__ import annotations

import math
import re

import pandas as pd

from harness.numbers import finite_number
from harness.report import derive
from harness.report.units import format_value
from harness.report.verdicts import change, row_view

SCENARIOS = {
    "probe": "sleep: a timer-driven producer (time.Sleep between spawns)",
    "probe-handoff": "handoff: a blocking producer (waits until its goroutine ran, then works)",
    "probe-busy": "busy: a producer that never blocks and keeps its P",
    "probe-yield": "yield: a producer that yields (runtime.Gosched) between spawns",
    "probe-http": "http: a server (net/http's per-connection goroutine on request arrival)",
    "probe-gcoff": "sleep with GOGC=off: no GC at all (the article's mitigation)",
}
COST_METRICS = (
    ("ns/op", "ns/op"),
    ("gc-mark-cpu-%", "mark CPU"),
    ("gc-assist-cpu-%", "assist CPU"),
    ("gc-dedicated-cpu-%", "worker CPU"),
    ("mark-phase-p95-ms", "mark p95"),
    ("heap-overshoot-mean", "overshoot"),
    ("gc-cycles/s", "cycles/s"),
    ("sched-latency-p99-ns", "sched p99"),
)
_PROCS = re.compile(r"^(?P<name>.*)-(?P<procs>\d+)$")


def check_lines(checks: dict | None) -> list[dict[str, str]]:
    """[{"what", "status", "text"}] for the header: gate per variant, starvation per
    candidate."""
    if not checks:
        return []
    lines = [
        {"what": f"sanity gate · {g['variant']}", "status": g["status"], "text": g["detail"]}
        for g in checks.get("gate", [])
    ]
    bounds = checks.get("bounds") or {}
    for s in checks.get("starvation", []):
        if s["status"] in ("pass", "fail"):
            low, high = bounds.get("cycles_per_s_range", (math.nan, math.nan))
            text = (
                f"{bounds.get('workload')}: mark-phase p95 ×{_num(s['mark_p95_ratio'])} "
                f"(≤ ×{bounds.get('mark_p95_max_ratio')}), longest mark phase "
                f"{_num(s['longest_mark_ms'])} ms (baseline {_num(s['baseline_longest_mark_ms'])}"
                f" ms; ≤ {bounds.get('max_mark_phase_ms')} ms), GC cycles/s "
                f"×{_num(s['cycles_per_s_ratio'])} (×{low}–×{high}), mark-worker CPU "
                f"×{_num(s.get('worker_cpu_ratio'))} (≥ ×{bounds.get('min_worker_cpu_ratio')}), "
                f"fewest cycles in a process {s.get('fewest_cycles')} "
                f"(≥ {bounds.get('min_cycles')}); n {s['n_candidate']}/{s['n_baseline']}"
            )
            if s["reasons"]:
                text += " — " + "; ".join(s["reasons"])
        else:
            text = "; ".join(s["reasons"])
        lines.append(
            {"what": f"starvation check · {s['candidate']}", "status": s["status"], "text": text}
        )
    return lines


def _num(value) -> str:
    number = finite_number(value)
    return "–" if number is None else f"{number:.2f}"


def _row(comparisons: pd.DataFrame, benchmark: str, metric: str, cand: str, phase: str = "all"):
    rows = comparisons[
        (comparisons["benchmark"] == benchmark)
        & (comparisons["metric"] == metric)
        & (comparisons["candidate"] == cand)
        & (comparisons["phase"] == phase)
    ]
    return None if rows.empty else rows.iloc[0]


def _cell(row) -> dict[str, str]:
    if row is None:
        return {"text": "–", "verdict": ""}
    view = row_view(row)
    return {"text": f"{view['change']} {view['ci']}", "verdict": str(view["verdict"])}


def _probe_benchmarks(samples: pd.DataFrame) -> dict[str, list[str]]:
    """probe workload → its benchmark names (one per GOMAXPROCS), in run order."""
    rows = samples[samples["metric"] == "start-latency-p99-ns"]
    out: dict[str, list[str]] = {}
    for workload, group in rows.groupby("workload", sort=False):
        out[str(workload)] = [str(b) for b in pd.unique(group["benchmark"])]
    known = list(SCENARIOS)  # the scenarios in the order README explains them
    return dict(
        sorted(out.items(), key=lambda kv: (known.index(kv[0]) if kv[0] in known else 99, kv[0]))
    )


def scenario_rows(
    frames: dict[str, pd.DataFrame], comparisons: pd.DataFrame, variants: list[str]
) -> list[dict]:
    latency = frames["latency"]
    probe = latency[latency["source"] == derive.PROBE_SOURCE]
    candidates = [c for c in pd.unique(comparisons["candidate"])] if len(comparisons) else []
    out = []
    for workload, benchmarks in _probe_benchmarks(frames["samples"]).items():
        mine = probe[probe["workload"] == workload]
        for variant in variants:
            rows = mine[mine["variant"] == variant]
            if rows.empty:
                continue
            q = derive.quantiles(derive.buckets(rows))
            view = {
                "workload": workload,
                "scenario": SCENARIOS.get(workload, ""),
                "variant": variant,
                "n": f"{int(q['n'])}",
                **{name: format_value(q[name], "ns") for name, _ in derive.QUANTILES},
                "p99_all": {"text": "", "verdict": ""},
                "p99_mark": {"text": "", "verdict": ""},
            }
            if variant in candidates:
                view["p99_all"] = _cell(
                    _first(comparisons, benchmarks, "start-latency-p99-ns", variant, "all")
                )
                view["p99_mark"] = _cell(
                    _first(comparisons, benchmarks, "start-latency-p99-ns", variant, "mark")
                )
            out.append(view)
    return out


def _first(comparisons, benchmarks, metric, cand, phase):
    for benchmark in benchmarks:
        row = _row(comparisons, benchmark, metric, cand, phase)
        if row is not None:
            return row
    return None


def cost_rows(comparisons: pd.DataFrame) -> list[dict]:
    """Per (benchmark, candidate) with any GC-cost row: one cell per COST_METRICS."""
    if comparisons.empty:
        return []
    names = [m for m, _ in COST_METRICS]
    have = comparisons[comparisons["metric"].isin(names) & (comparisons["phase"] == "all")]
    out = []
    for (benchmark, cand), _ in have.groupby(["benchmark", "candidate"], sort=False):
        cells = [_cell(_row(comparisons, benchmark, m, cand)) for m in names]
        out.append({"benchmark": benchmark, "candidate": cand, "cells": cells})
    return out


def stopping_rows(samples: pd.DataFrame, comparisons: pd.DataFrame, variants: list[str]) -> list:
    """Per benchmark × variant: medians of stw-ns/op, its stopping and stopped parts."""
    wanted = ["stw-ns/op", "stw-stopping-ns/op", "stw-stopped-ns/op"]
    rows = samples[samples["metric"].isin(wanted) & (samples["phase"] == "all")]
    if rows.empty or not (rows["metric"] == "stw-stopping-ns/op").any():
        return []
    medians = rows.groupby(["benchmark", "variant", "metric"], sort=False)["value"].median()
    out = []
    for benchmark in pd.unique(rows["benchmark"]):
        for variant in variants:
            try:
                total = float(medians[(benchmark, variant, "stw-ns/op")])
                stopping = float(medians[(benchmark, variant, "stw-stopping-ns/op")])
            except KeyError:
                continue
            share = stopping / total if total > 0 else math.nan
            verdicts = {}
            for metric in ("stw-stopping-ns/op", "stw-stopped-ns/op"):
                row = _row(comparisons, str(benchmark), metric, variant)
                verdicts[metric] = _cell(row)
            out.append(
                {
                    "benchmark": str(benchmark),
                    "variant": variant,
                    "total": format_value(total, "ns"),
                    "stopping": format_value(stopping, "ns"),
                    "stopped": format_value(total - stopping, "ns"),
                    "share": f"{share:.0%}" if math.isfinite(share) else "–",
                    "stopping_change": verdicts["stw-stopping-ns/op"],
                    "stopped_change": verdicts["stw-stopped-ns/op"],
                }
            )
    return out


GOMAXPROCS_METRICS = ("ns/op", "start-latency-p99-ns", "mark-phase-p95-ms")


def _split(benchmark: str, one: set[str]) -> tuple[str, int] | None:
    m = _PROCS.match(benchmark)
    if m:
        return m.group("name"), int(m.group("procs"))
    return (benchmark, 1) if benchmark in one else None


def gomaxprocs_frame(comparisons: pd.DataFrame, gomaxprocs: list[int]) -> pd.DataFrame:
    """name, procs, metric, candidate, ratio, ci_low, ci_high, verdict — only with ≥ 2
    GOMAXPROCS values in the run. A benchmark without a -N suffix ran at GOMAXPROCS=1."""
    if len(set(gomaxprocs)) < 2 or comparisons.empty:
        return pd.DataFrame()
    rows = comparisons[
        comparisons["metric"].isin(GOMAXPROCS_METRICS) & (comparisons["phase"] == "all")
    ]
    one = set(rows["benchmark"]) if 1 in gomaxprocs else set()
    records = []
    for _, row in rows.iterrows():
        split = _split(str(row["benchmark"]), one)
        if split is None:
            continue
        records.append(
            {
                "name": split[0],
                "procs": split[1],
                "metric": row["metric"],
                "candidate": row["candidate"],
                "ratio": row["ratio"],
                "ci_low": row["ci_low"],
                "ci_high": row["ci_high"],
                "verdict": row["verdict"],
            }
        )
    frame = pd.DataFrame(records)
    if frame.empty:
        return frame
    # Only names measured at ≥ 2 GOMAXPROCS say anything about the trend.
    spread = frame.groupby(["name", "metric"])["procs"].transform("nunique")
    return frame[spread >= 2].sort_values(["metric", "name", "candidate", "procs"])


def gomaxprocs_rows(frame: pd.DataFrame) -> list[dict]:
    return [
        {
            "name": r["name"],
            "metric": r["metric"],
            "candidate": r["candidate"],
            "procs": str(r["procs"]),
            "change": change(r["ratio"]),
            "verdict": str(r["verdict"]),
        }
        for _, r in frame.iterrows()
    ]
