"""Go benchmarks: a benchmark of go_workloads/ (`bench`) or of the toolchain's own
src/runtime tests (`goroot`, "goroot:runtime/<Name>": the outside yardstick nobody here
wrote). One `go test -c` binary per package serves all its benchmarks; each process runs
one benchmark once at the calibrated -benchtime=Nx and prints Go's benchmark format."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.kinds.base import (
    BuildPlan,
    CommandContext,
    ParseContext,
    WorkloadKind,
    derived_metrics,
    read_text,
    tag_flags,
)
from harness.parse import parse_bench, samples_frame
from harness.rundir import Workload, layout
from harness.toolchains import tree_sha256


def bench_args(workload: Workload, benchtime: int, gomaxprocs: int) -> list[str]:
    selected = workload.pattern or f"^Benchmark{workload.benchmark}$"
    return [
        "-test.run=^$",
        f"-test.bench={selected}",
        f"-test.benchtime={benchtime}x",
        "-test.count=1",
        "-test.benchmem",
        f"-test.cpu={gomaxprocs}",
        *workload.args,
    ]


class _Benchmarks(WorkloadKind):
    calibrated = True

    def command(self, workload: Workload, binary: str, ctx: CommandContext) -> list[str]:
        return [binary, *bench_args(workload, ctx.benchtime, ctx.item.gomaxprocs)]

    def parse(self, workload: Workload, ctx: ParseContext) -> None:
        bench = parse_bench(read_text(ctx.item_dir / layout.STDOUT))
        ctx.warn("bench", bench)
        frame = samples_frame(bench, run_id=ctx.run_id, **ctx.ids)
        ctx.add_rows("samples", frame)
        ctx.add_rows(
            "bench_config",
            pd.DataFrame([{**ctx.ids, "key": k, "value": v} for k, v in bench.config.items()]),
        )
        medians = {str(k): float(v) for k, v in frame.groupby("metric")["value"].median().items()}
        summary = derived_metrics(medians)
        if ctx.cpu_s is not None and ctx.benchtime:
            # The process's user+sys CPU over its N: start-up, Go's 1-op warm-up run and
            # a --perf wrapper included (absent in status files from before CPU time).
            summary[("cpu-ns/op", "ns")] = ctx.cpu_s * 1e9 / ctx.benchtime
        ctx.add_summary(summary, "all")


class BenchKind(_Benchmarks):
    name = "bench"

    def build(self, workload: Workload, workloads_dir: Path, goroot: Path) -> BuildPlan:
        tags, suffix = tag_flags(workload)
        return BuildPlan(
            key=(self.name, workload.build_tags),
            args=["test", *tags, "-c", "."],
            cwd=workloads_dir,
            out_name=f"workloads{suffix}.test",
        )


class GorootKind(_Benchmarks):
    """A std package's own benchmarks: `goroot:runtime/CreateGoroutines`, `goroot:sync`,
    `goroot:net/http/BenchmarkServer.*` (harness/runs/workloads.py parses the selector)."""

    name = "goroot"

    def build(self, workload: Workload, workloads_dir: Path, goroot: Path) -> BuildPlan:
        package = workload.package or "runtime"
        return BuildPlan(
            key=(self.name, package),
            args=["test", "-c", package],
            cwd=goroot / "src" / package,
            out_name=f"{package.replace('/', '_')}.test",
        )


class PackageKind(_Benchmarks):
    """A user's own benchmark package (`--bench-pkg DIR[:REGEX]`): `go test -c` in that
    directory (a module with std-only or vendored dependencies: no module proxy here),
    the binary keyed by the package tree's content, run in that directory."""

    name = "gopkg"

    def build(self, workload: Workload, workloads_dir: Path, goroot: Path) -> BuildPlan:
        directory = Path(workload.package)
        vendored = ["-mod=vendor"] if (directory / "vendor").is_dir() else []
        content = tree_sha256(directory)[:16]
        return BuildPlan(
            key=(self.name, workload.package, content),
            args=["test", *vendored, "-c", "."],
            cwd=directory,
            out_name=f"pkg-{directory.name}-{content}.test",
        )
