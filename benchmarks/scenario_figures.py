"""The figures of one A/B run that answer both halves of the question, as text: per probe
scenario and GC phase the pooled start-latency quantiles per variant, the mark-phase and
whole-run p99 verdicts, the GC-cost headline rows, the STW split and the checks.

    python benchmarks/scenario_figures.py results/latest

Reads only what the report wrote (tables/*.parquet, summary.json): run `stwbench report
RUN` first if the run predates the current report code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from harness.report import derive, stw_views
from harness.report.units import format_value

COSTS = (
    "ns/op",
    "gc-mark-cpu-%",
    "gc-assist-cpu-%",
    "gc-dedicated-cpu-%",
    "mark-phase-p95-ms",
    "heap-overshoot-mean",
    "gc-cycles/s",
    "sched-latency-p99-ns",
    "stw-sweep-term-p99-ms",
    "stw-stopping-ns/op",
    "stw-stopped-ns/op",
)


def _ratio(row: dict) -> str:
    def f(x):
        return "–" if x is None else f"{x:.3g}"

    return f"×{f(row['ratio'])} [{f(row['ci_low'])}, {f(row['ci_high'])}] {row['verdict']}"


def main(run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    rows = summary["comparisons"]
    variants = [v["name"] for v in summary["manifest"]["variants"]]
    latency = pd.read_parquet(run_dir / "tables" / "latency.parquet")
    print(f"run {run_dir.name}: {' vs '.join(variants)}, reps {summary['manifest']['reps']}")
    for check in summary.get("checks", {}).get("gate", []):
        print(f"gate {check['variant']}: {check['status']} ({check['detail']})")
    for check in summary.get("checks", {}).get("starvation", []):
        figures = {k: check[k] for k in ("mark_p95_ratio", "longest_mark_ms",
                                         "baseline_longest_mark_ms", "cycles_per_s_ratio",
                                         "worker_cpu_ratio", "fewest_cycles")}  # fmt: skip
        print(f"starvation {check['candidate']}: {check['status']} {figures} {check['reasons']}")
    print("\nper scenario and GC phase (traced blocks; pooled per variant): n p50 p99 p99.9")
    for r in stw_views.phase_table(latency, variants):
        q = [format_value(r[k], "ns") for k in ("p50", "p99", "p99.9")]
        print(f"  {r['workload']:14} {r['variant']:18} {r['phase']:17} n={int(r['n']):7} {q}")
    probe = latency[latency["source"] == derive.PROBE_SOURCE]
    print("\nper scenario, whole run (every block): n p50 p99 p99.9")
    for workload in pd.unique(probe["workload"]):
        for variant in variants:
            mine = probe[(probe["workload"] == workload) & (probe["variant"] == variant)]
            if mine.empty:
                continue
            q = derive.quantiles(derive.buckets(mine))
            shown = [format_value(q[k], "ns") for k in ("p50", "p99", "p99.9")]
            print(f"  {workload:14} {variant:18} n={int(q['n']):7} {shown}")
    print("\nstart-latency p99 verdicts (candidate ÷ baseline, paired by block)")
    for row in rows:
        if row["metric"] == "start-latency-p99-ns" and row["phase"] in ("all", "mark"):
            print(f"  {row['candidate']:18} {row['benchmark']:16} [{row['phase']}] {_ratio(row)}")
    print("\nGC costs and STW (candidate ÷ baseline)")
    for row in rows:
        if row["metric"] in COSTS and row["phase"] == "all" and row["family"] != "aa":
            print(f"  {row['candidate']:18} {row['benchmark']:16} {row['metric']:22} {_ratio(row)}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "results/latest"))
