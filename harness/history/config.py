"""nightly.toml: the series a nightly job tracks, and how it runs them.

    reps = 10                     # processes per series × workload each night
    gomaxprocs = [2]              # or an int; default: all cores
    workloads = "default"         # for series that name none: suite or comma list
    target_seconds = 1.0          # calibration target (N is then kept across nights)
    probe_duration = 2.0
    timeout = 300

    [[series]]
    name = "go1.27"               # the history's key: keep it while the toolchain moves
    go = "1.27.3"                 # or goroot = "/path"
    mode = "make"                 # make | source
    patches = []                  # paths relative to this file
    env = { GOGC = "100" }
    workloads = "quick"           # optional
    control = false               # true: an A/A control (see below)

    [detection]                   # optional: harness/history/detect.py DetectParams
    alpha = 0.01

A series keeps its name while its toolchain changes (a new Go release, a new revision
of a patch): its history is what change detection reads, and the toolchain change
between the last good and the first bad night is what an alert points at.

`control = true` marks an A/A control: a series whose toolchain never changes (a pinned
go release, no patches). Its night-to-night changes are this machine's noise alone, and
calibrate the thresholds of every series for the same benchmark and metric.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from harness.config_files import NightlyFile, load_toml
from harness.errors import UsageError
from harness.history.detect import DetectParams
from harness.rundir import RunOptions, Variant, Workload, quick
from harness.runs import quick_workloads, resolve_workloads


@dataclass(frozen=True)
class Series:
    recipe: Variant  # the run's variant for this series: same name, same toolchain recipe
    workloads: str
    control: bool = False

    @property
    def name(self) -> str:
        return self.recipe.name

    @property
    def patches(self) -> tuple[str, ...]:
        return self.recipe.patches

    @property
    def env(self) -> dict[str, str]:
        return self.recipe.env

    def variant(self) -> Variant:
        return self.recipe

    def selected(self) -> list[Workload]:
        return resolve_workloads(self.workloads)


@dataclass
class NightlyConfig:
    """The loaded file (its defaults live in harness/config_files.py NightlyFile)."""

    path: Path
    series: list[Series]
    options: RunOptions  # the file's reps, gomaxprocs, target_seconds, … (defaults: RunOptions)
    detection: DetectParams

    @property
    def target_seconds(self) -> float:
        return self.options.target_s

    def workloads(self) -> list[Workload]:
        """The union of every series' workloads, in first-seen order: one run runs them
        all for every series; each series' history keeps only its own selection."""
        union: dict[str, Workload] = {}
        for series in self.series:
            for workload in series.selected():
                union.setdefault(workload.name, workload)
        return list(union.values())

    def quick(self) -> None:
        """`--quick` (harness.rundir.quick), `quick` for series that chose no workloads."""
        self.options = quick(self.options)
        self.series = [
            dataclasses.replace(s, workloads=quick_workloads(s.workloads)) for s in self.series
        ]


def load_config(path: Path) -> NightlyConfig:
    """nightly.toml, validated by harness/config_files.py (the same recipe model as a
    [[variant]] table; defaults there): a bad value is a UsageError naming file and key."""
    parsed = load_toml(path, NightlyFile)
    try:
        detection = DetectParams.from_mapping(parsed.detection)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--config {path}: [detection]: {exc}") from exc
    series = [
        Series(
            recipe=s.variant(path.parent),
            workloads=s.workloads or parsed.workloads,
            control=s.control,
        )
        for s in parsed.series
    ]
    for s in series:
        s.selected()  # an unknown workload name is a usage error now, not after a build
    return NightlyConfig(
        path=path,
        series=series,
        options=parsed.options(),
        detection=detection,
    )
