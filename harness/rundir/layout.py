"""Where a run keeps what: every file and directory name of a run directory, in one place.

    <run-dir>/
        manifest.json                      the Manifest (harness/rundir/models.py)
        raw/<slug>/                        one process, complete once status.json exists
            status.json stdout.txt stderr.txt [probe.json] [trace-summary.json]
            [trace.out] [trace-tool-stderr.txt] [perf-report.txt] [perf.data]
            [perf-<event>.folded]
        raw/<slug>.partial/                a process being written (a resume redoes it)
        raw/_rejected/<slug>.attempt<a>/   an attempt the noise guard re-ran
        tables/<table>.parquet tables/parse_warnings.json     analysis outputs
        report.html summary.json summary.md bench.txt …     report outputs

Raw files are written by the run stage only and never change afterwards; everything
else is derived from them and may be rewritten at any time (`stwbench report`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"
RAW = "raw"
TABLES = "tables"
REJECTED = "_rejected"  # raw/_rejected/: attempts the noise guard re-ran
PARTIAL_SUFFIX = ".partial"
ATTEMPT_INFIX = ".attempt"

# Raw files of one process (raw/<slug>/).
STATUS = "status.json"
STDOUT = "stdout.txt"
STDERR = "stderr.txt"
PROBE_JSON = "probe.json"
TRACE_OUT = "trace.out"
TRACE_SUMMARY = "trace-summary.json"
TRACE_TOOL_STDERR = "trace-tool-stderr.txt"
# In a rejected attempt's directory: why it was set aside when that was not the noise
# guard (its block moved to another engine), one line.
MOVED_NOTE = "moved.txt"
PERF_REPORT = "perf-report.txt"
PERF_DATA = "perf.data"
FOLDED_PREFIX = "perf-"
FOLDED_SUFFIX = ".folded"

# Derived outputs.
PARSE_WARNINGS = "parse_warnings.json"
SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
REPORT_HTML = "report.html"
BENCH_TXT = "bench.txt"  # benchstat input
PYPERF_JSON = "pyperf.json"  # pyperf suites: pyperf.json, pyperf-<variant>.json
# `stwbench sweep`: its plan (written before the run), its answer, the pages
SWEEP_PLAN = "sweep-plan.json"
SWEEP_JSON = "sweep.json"
SWEEP_MD = "sweep.md"
SWEEP_HTML = "sweep.html"


def folded_name(event: str) -> str:
    """The raw/ file of one event's folded stacks: perf-cpu-clock.folded,
    perf-sched:sched_switch.folded (event names are perf's, `[A-Za-z0-9_:.-]`)."""
    safe = "".join(c if c.isalnum() or c in "-_.:" else "_" for c in event)
    return f"{FOLDED_PREFIX}{safe}{FOLDED_SUFFIX}"


def folded_event(path: Path) -> str:
    return path.name.removeprefix(FOLDED_PREFIX).removesuffix(FOLDED_SUFFIX)


@dataclass(frozen=True)
class RunLayout:
    """The paths of one run directory."""

    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / MANIFEST

    @property
    def raw(self) -> Path:
        return self.root / RAW

    @property
    def tables(self) -> Path:
        return self.root / TABLES

    def table(self, name: str) -> Path:
        return self.tables / f"{name}.parquet"

    @property
    def parse_warnings(self) -> Path:
        return self.tables / PARSE_WARNINGS

    def output(self, name: str) -> Path:
        """A derived file at the top of the run directory (report.html, summary.json…)."""
        return self.root / name

    def item(self, slug: str) -> Path:
        return self.raw / slug

    def rejected(self, slug: str, attempt: int) -> Path:
        return self.raw / REJECTED / f"{slug}{ATTEMPT_INFIX}{attempt}"

    def rejected_attempts(self, slug: str) -> list[tuple[int, Path]]:
        """The finished rejected attempts of an item on disk, by number."""
        base = self.raw / REJECTED / slug
        found = []
        for path in base.parent.glob(f"{base.name}{ATTEMPT_INFIX}*"):
            number = path.name.rsplit(ATTEMPT_INFIX, 1)[1]
            if number.isdigit() and finished(path):
                found.append((int(number), path))
        return sorted(found)


def partial(item_dir: Path) -> Path:
    """Where a process's files are written until its status.json makes it final."""
    return item_dir.with_name(item_dir.name + PARTIAL_SUFFIX)


def finished(item_dir: Path) -> bool:
    return (item_dir / STATUS).exists()
