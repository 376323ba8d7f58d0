"""nightly.toml: the series a nightly job tracks, and how it runs them.

    machine = "bench-1"           # optional: the machine the nights are recorded under
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

`machine`: a history holds the nights of many machines, one history per (series,
machine): detection never compares one machine's nights with another's. The name is
`--machine`, else this file's `machine`, else the host name (`machine_name`).
"""

from __future__ import annotations

import dataclasses
import platform
from dataclasses import dataclass
from pathlib import Path

from harness.config_files import NightlyFile, load_toml
from harness.errors import UsageError
from harness.history.detect import DetectParams
from harness.history.schema import DEFAULT_MACHINE, NAME
from harness.rundir import RunOptions, Variant, Workload, quick
from harness.runs import quick_workloads, resolve_workloads


def machine_name(explicit: str | None = None) -> str:
    """The machine a night is recorded under: `explicit` (--machine, the config file's
    `machine`, or a caller's own, e.g. a Docker engine's name) when given, else the host
    name (platform.node(): what nights recorded before schema v4 were given, so an
    upgraded history goes on under the same name), else "default"."""
    if explicit is not None:
        name = explicit.strip()
        if not name or len(name) > NAME or not name.isprintable():
            raise UsageError(f"machine name {name[:60]!r}: wants 1 to {NAME} printable characters")
        return name
    return platform.node().strip()[:NAME] or DEFAULT_MACHINE


class _NightlyToml(NightlyFile):
    """nightly.toml's keys (harness/config_files.py) plus the history's own: `machine`."""

    machine: str | None = None


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
    machine: str | None = None  # the file's `machine`; --machine wins (machine_name)

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
    parsed = load_toml(path, _NightlyToml)
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
        machine=_file_machine(path, parsed.machine),
    )


def _file_machine(path: Path, name: str | None) -> str | None:
    try:
        return None if name is None else machine_name(name)
    except UsageError as exc:
        raise UsageError(f"--config {path}: key machine: {exc}") from exc
