"""What every workload kind knows about itself (sweet's model: a harness per benchmark).

A kind answers, for its workloads: which binary to build and how (`build`), whether the
run calibrates a -benchtime N for it (`calibrated`), the command of one process
(`command`), which raw files a process writes (`raw_files`), and how those files become
table rows (`parse`). The run stage (harness/runs/) and the analysis stage
(harness/tables.py) call these and never branch on `workload.kind` themselves; a new kind
is a new module here, registered in harness/kinds/__init__.py, plus its literal in
`harness.rundir.models.WorkloadKindName`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.rundir import RunItem, RunOptions, Workload


@dataclass(frozen=True)
class BuildPlan:
    """`go <args[0]> -o <out> <args[1:]>` in `cwd`; workloads with equal `key` share it."""

    key: tuple
    args: list[str]
    cwd: Path
    out_name: str


@dataclass(frozen=True)
class CommandContext:
    """What one process's command depends on besides the workload."""

    item: RunItem
    options: RunOptions
    output_dir: Path  # where the process writes its files (the item's .partial dir)
    benchtime: int  # the calibrated -benchtime N (benchmarks)
    traced: bool  # the run traces this process (--trace, within --trace-reps)


@dataclass
class ParseContext:
    """One finished, ok process, as the analysis stage hands it to its kind's parser."""

    item: RunItem
    item_dir: Path
    run_id: str
    benchmark: str  # the per-process summary rows' benchmark name (`probe-2`)
    benchtime: int | None
    cpu_s: float | None  # the process's user+sys CPU time (status.json), None if unknown
    gc_cycles: list  # the gctrace cycles (already parsed by the analysis stage)
    after_stw_ns: int  # X of the after-STW phases (harness/parse/trace.py classify)
    warn: Callable[[str, object], None]  # (parser name, parsed result with .skipped)
    add_warning: Callable[[dict], None]
    add_rows: Callable[[str, pd.DataFrame], None]  # (table name, frame)
    add_summary: Callable[[dict[tuple[str, str], float], str], None]  # (values, phase)
    add_histogram: Callable[[pd.DataFrame], None]  # latency rows of a pause histogram

    @property
    def ids(self) -> dict:
        return {"variant": self.item.variant, "workload": self.item.workload, "rep": self.item.rep}


class WorkloadKind(ABC):
    name: str
    calibrated: bool = False  # benchmarks run a fixed -benchtime=Nx shared by all variants
    raw_files: tuple[str, ...] = ()  # beside stdout.txt, stderr.txt and status.json
    traceable: bool = False  # --trace runs it under the execution tracer

    @abstractmethod
    def build(self, workload: Workload, workloads_dir: Path, goroot: Path) -> BuildPlan: ...

    @abstractmethod
    def command(self, workload: Workload, binary: str, ctx: CommandContext) -> list[str]: ...

    @abstractmethod
    def parse(self, workload: Workload, ctx: ParseContext) -> None:
        """Add the process's rows (ctx.add_rows, ctx.add_summary, ctx.add_histogram)."""


def derived_metrics(values: dict[str, float]) -> dict[tuple[str, str], float]:
    """Rows derived from a process's own metrics (benchmark or probe):
    - `gc-mark-cpu-%` = gc-assist-cpu-% + gc-dedicated-cpu-%: the mark work the program
      pays for, wherever the scheduler put it (harness/metrics.py);
    - `stw-stopped-ns/op` = stw-ns/op − stw-stopping-ns/op (Go ≥ 1.22): the part of GC
      stop-the-world time with the world stopped, beside the time it took to stop it."""
    out: dict[tuple[str, str], float] = {}
    if "gc-assist-cpu-%" in values and "gc-dedicated-cpu-%" in values:
        mark = values["gc-assist-cpu-%"] + values["gc-dedicated-cpu-%"]
        out[("gc-mark-cpu-%", "gc-mark-cpu-%")] = mark
    if "stw-stopping-ns/op" in values and "stw-ns/op" in values:
        stopped = max(0.0, values["stw-ns/op"] - values["stw-stopping-ns/op"])
        out[("stw-stopped-ns/op", "stw-stopped-ns/op")] = stopped
    return out


def tag_flags(workload: Workload) -> tuple[list[str], str]:
    """`go build -tags` flags of a workload and the binary-name suffix they earn (a tagged
    build is a binary of its own: the http probe)."""
    if not workload.build_tags:
        return [], ""
    return ["-tags", ",".join(workload.build_tags)], "".join(f"-{t}" for t in workload.build_tags)


def read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
