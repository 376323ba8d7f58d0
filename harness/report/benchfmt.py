"""bench.txt: the samples table in Go benchmark format, for benchstat.

One block per variant, opened by `toolchain: <variant>` (plus `goos:`, `goarch:`, `cpu:`
and per workload `pkg:` when known), then one result line per process and benchmark
carrying every metric that process reported:

    toolchain: runqget-priority
    pkg: stwbench/workloads
    BenchmarkScheduler-2 10170 31880.0 ns/op 3893.0 B/op 1.0 stw-sweep-term-p99-ms …

so `benchstat -col toolchain bench.txt` compares the variants process by process.
The unit token of a value is the table's `metric` (Go names a metric by its unit; the
per-process summary rows are named like `stw-sweep-term-p99-ms`). The iteration count is
the run's fixed benchtime (`-test.benchtime=Nx`) for go test workloads, else 1.

Go's format wants `Benchmark` followed by an upper-case letter, so a benchmark whose name
starts in lower case (the probe's `probe-2`) is written capitalized (`BenchmarkProbe-2`);
`bench_name` is that mapping. Values are Python's shortest round-trip repr, so parsing
the file back gives the stored floats exactly.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from harness.rundir import Manifest

_SPACE = re.compile(r"\s+")
_CONFIG_KEYS = ("goos", "goarch", "cpu")


def bench_name(benchmark: str) -> str:
    """ "Scheduler-2" -> "BenchmarkScheduler-2"; "probe-2" -> "BenchmarkProbe-2"."""
    name = _SPACE.sub("_", benchmark.strip()) or "_"
    if name[0].islower():
        name = name[0].upper() + name[1:]
    return "Benchmark" + name


def unit_token(metric: str, unit: str) -> str:
    return _SPACE.sub("_", (metric or unit).strip()) or "value"


def format_bench(
    samples: pd.DataFrame,
    manifest: Manifest,
    variants: list[str],
    config: pd.DataFrame | None = None,
) -> str:
    """`config`: the bench_config table (what `go test` printed, per process)."""
    lines = [
        f"# stwbench run {manifest.run_id or '?'}: one line per process and benchmark",
        "# compare with: benchstat -col toolchain bench.txt",
        "",
    ]
    if samples.empty:
        return "\n".join(lines)
    benchtime = manifest.benchtime
    workloads = [w.name for w in manifest.workloads]
    workloads += [w for w in samples["workload"].astype(str).unique() if w not in workloads]
    present = [v for v in variants if (samples["variant"] == v).any()]
    present += [v for v in samples["variant"].astype(str).unique() if v not in present]
    for variant in present:
        mine = samples[samples["variant"] == variant]
        found = _go_config(manifest, config, variant, mine["workload"].astype(str).unique())
        lines.append(f"toolchain: {variant}")
        lines += [f"{key}: {found.get(key, '')}".rstrip() for key in _CONFIG_KEYS]
        for workload in workloads:
            rows = mine[mine["workload"] == workload]
            if rows.empty:
                continue
            pkg = _go_config(manifest, config, variant, [workload]).get("pkg", "")
            lines.append(f"pkg: {pkg}".rstrip())
            iterations = int(benchtime.get(workload) or 1)
            for (_, benchmark), process in rows.groupby(["rep", "benchmark"], sort=True):
                values = [
                    f"{float(v)!r} {unit_token(str(m), str(u))}"
                    for m, u, v in zip(
                        process["metric"], process["unit"], process["value"], strict=True
                    )
                    if math.isfinite(float(v))
                ]
                if values:
                    lines.append(f"{bench_name(str(benchmark))} {iterations} {' '.join(values)}")
        lines.append("")
    return "\n".join(lines)


def write_bench(
    path: Path,
    samples: pd.DataFrame,
    manifest: Manifest,
    variants: list[str],
    config: pd.DataFrame | None = None,
) -> Path:
    path.write_text(format_bench(samples, manifest, variants, config))
    return path


def _go_config(
    manifest: Manifest, table: pd.DataFrame | None, variant: str, workloads
) -> dict[str, str]:
    """goos/goarch/cpu/pkg as `go test` printed them (the first process of the variant and
    workload that printed any), else from the binary's build info."""
    config: dict[str, str] = {}
    for workload in workloads:
        if table is not None and not table.empty:
            mine = table[(table["variant"] == variant) & (table["workload"] == workload)]
            for _, process in mine.groupby("rep", sort=True):
                found = dict(zip(process["key"], process["value"], strict=True))
                return {k: found[k] for k in (*_CONFIG_KEYS, "pkg") if k in found}
        build = manifest.builds.get(variant, {}).get(workload)
        config.update(_build_info(build.version_m if build is not None else ""))
    if "cpu" not in config and manifest.machine is not None and manifest.machine.cpu_model:
        config["cpu"] = manifest.machine.cpu_model
    return config


def _build_info(version_m: str) -> dict[str, str]:
    """`go version -m` output -> goos, goarch and the main package path."""
    config = {}
    for line in version_m.splitlines():
        fields = line.strip().split("\t")
        if fields[0] == "path" and len(fields) > 1:
            config["pkg"] = fields[1].removesuffix(".test")
        elif fields[0] == "build" and len(fields) > 1 and "=" in fields[1]:
            key, _, value = fields[1].partition("=")
            if key in ("GOOS", "GOARCH"):
                config[key.lower()] = value
    return config
