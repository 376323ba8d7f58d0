"""pyperf suites: one file per variant, so `pyperf compare_to` can compare them.

pyperf compares *files* (`python -m pyperf compare_to ref.json changed.json`), each a
BenchmarkSuite whose benchmark names must be unique, so a single file cannot hold two
variants of one benchmark. Layout:

- `pyperf-<variant>.json` for every variant (name made file-safe);
- `pyperf.json`, the baseline's suite again, as the conventional reference:
  `python -m pyperf compare_to pyperf.json pyperf-<candidate>.json`.

A variant without samples gets no file (pyperf cannot store an empty suite); so a run
whose baseline processes all failed has no pyperf.json.

Each pyperf Benchmark is one (benchmark, metric) of the samples table, named
`"<benchmark> <metric>"`; each process is one Run holding its single value. Units map to
pyperf's three: times become `second` (ns and ms converted), bytes `byte`, everything
else `integer` (pyperf only uses it to format numbers; fractions print as they are).

pyperf refuses values ≤ 0 (a process with no GC cycles has `gc-cycles/op` 0), so a
(benchmark, metric) with any value ≤ 0 in any variant is left out of every file: dropping
only the zeros would bias the comparison. `write_pyperf` returns the names it left out.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pyperf

from harness.report.units import is_bytes, ns_per_unit
from harness.rundir import layout

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(variant: str) -> str:
    return f"pyperf-{_UNSAFE.sub('_', variant) or '_'}.json"


def pyperf_unit(unit: str) -> tuple[str, float]:
    """(pyperf unit, factor to multiply stored values by)."""
    ns = ns_per_unit(unit)
    if ns is not None:
        return "second", ns * 1e-9
    if is_bytes(unit):
        return "byte", 1.0
    return "integer", 1.0


def benchmark_id(benchmark: str, metric: str) -> str:
    return f"{benchmark} {metric}"


def suite(samples: pd.DataFrame, variant: str, skip: set[str]) -> pyperf.BenchmarkSuite | None:
    rows = samples[samples["variant"] == variant]
    benchmarks = []
    for (benchmark, metric, unit), group in rows.groupby(
        ["benchmark", "metric", "unit"], sort=False
    ):
        name = benchmark_id(str(benchmark), str(metric))
        if name in skip:
            continue
        pyperf_u, factor = pyperf_unit(str(unit))
        runs = [
            pyperf.Run(
                values=[float(value) * factor],
                metadata={
                    "name": name,
                    "unit": pyperf_u,
                    "description": f"{metric} ({unit}) of one {variant} process",
                    "stwbench_variant": variant,
                    "stwbench_workload": str(workload),
                    "stwbench_rep": int(rep),
                },
                collect_metadata=False,
            )
            for value, workload, rep in zip(
                group["value"], group["workload"], group["rep"], strict=True
            )
            if math.isfinite(float(value))
        ]
        if runs:
            benchmarks.append(pyperf.Benchmark(runs))
    return pyperf.BenchmarkSuite(benchmarks) if benchmarks else None


def unrepresentable(samples: pd.DataFrame) -> set[str]:
    """(benchmark, metric) names with a value pyperf cannot store (≤ 0), in any variant."""
    bad = samples[~(samples["value"] > 0) & samples["value"].map(math.isfinite)]
    return {
        benchmark_id(str(b), str(m)) for b, m in zip(bad["benchmark"], bad["metric"], strict=True)
    }


def write_pyperf(
    out_dir: Path, samples: pd.DataFrame, variants: list[str], baseline: str | None
) -> tuple[dict[str, Path], list[str]]:
    """Write the suites; returns ({file name: path}, benchmark names left out)."""
    skip = unrepresentable(samples)
    # A re-render must not leave suites of variants (or a baseline) that are gone now.
    for stale in [out_dir / layout.PYPERF_JSON, *out_dir.glob("pyperf-*.json")]:
        stale.unlink(missing_ok=True)
    paths: dict[str, Path] = {}
    for variant in variants:
        written = suite(samples, variant, skip)
        if written is None:
            continue
        path = out_dir / file_name(variant)
        written.dump(str(path), replace=True)
        paths[path.name] = path
        if variant == baseline:
            written.dump(str(out_dir / layout.PYPERF_JSON), replace=True)
            paths[layout.PYPERF_JSON] = out_dir / layout.PYPERF_JSON
    return paths, sorted(skip)
