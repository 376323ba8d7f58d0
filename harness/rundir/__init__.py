"""The run directory: the one contract between the stages (pyperf's and asv's model: a
versioned, validated file format behind a narrow API).

    from harness.rundir import RunDir
    run = RunDir.open(path)                # manifest.json validated, migrated to SCHEMA
    run.manifest.variants, run.manifest.options.reps, run.manifest.aa_arm
    for done in run.finished_items():      # the order's items that are on disk
        done.item, done.path, done.status  # RunItem, raw/<slug>/, ProcessStatus
    run.save()                             # the manifest, atomically, in SCHEMA

Models: harness/rundir/models.py; file names: layout.py; schema steps: migrations.py.
Stages read and write run directories only through this package.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from harness.errors import UsageError
from harness.files import atomic_write_json, atomic_write_text, read_json_object
from harness.rundir import layout
from harness.rundir.layout import RunLayout, finished, partial
from harness.rundir.migrations import SchemaError, migrate
from harness.rundir.models import (
    AA_SUFFIX,
    QUICK,
    SCHEMA,
    Adaptive,
    AdaptiveStep,
    Attempt,
    BuildRecord,
    EngineRecord,
    EngineSpec,
    GateRecord,
    GateRequest,
    Isolation,
    Machine,
    Manifest,
    Nightly,
    NightlySeries,
    NoiseRecord,
    PatchRecord,
    PerfRecord,
    ProcessRecord,
    ProcessStatus,
    RunItem,
    RunOptions,
    Session,
    ToolchainRecord,
    Variant,
    Workload,
    godebug_text,
    quick,
)

__all__ = [
    "AA_SUFFIX",
    "QUICK",
    "SCHEMA",
    "Adaptive",
    "AdaptiveStep",
    "Attempt",
    "BuildRecord",
    "EngineRecord",
    "EngineSpec",
    "FinishedItem",
    "GateRecord",
    "GateRequest",
    "Isolation",
    "Machine",
    "Manifest",
    "Nightly",
    "NightlySeries",
    "NoiseRecord",
    "PatchRecord",
    "PerfRecord",
    "ProcessRecord",
    "ProcessStatus",
    "RunDir",
    "RunItem",
    "RunLayout",
    "RunOptions",
    "Session",
    "ToolchainRecord",
    "Variant",
    "Workload",
    "finished",
    "godebug_text",
    "layout",
    "load_manifest",
    "partial",
    "quick",
    "read_status",
    "write_status",
]


def _problems(error: ValidationError, limit: int = 8) -> str:
    lines = []
    for problem in error.errors()[:limit]:
        where = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        lines.append(f"  {where}: {problem['msg']}")
    more = len(error.errors()) - limit
    if more > 0:
        lines.append(f"  … and {more} more")
    return "\n".join(lines)


def load_manifest(path: Path) -> Manifest:
    """manifest.json validated and migrated; a bad one is a UsageError naming the file
    and each key (exit 2), never a traceback."""
    data = read_json_object(path, missing=f"{path.parent}: not a run directory (no {path.name})")
    try:
        return Manifest.model_validate(migrate(data))
    except SchemaError as exc:
        raise UsageError(f"{path}: {exc}") from None
    except ValidationError as exc:
        raise UsageError(f"{path}: not a valid run manifest:\n{_problems(exc)}") from None


def read_status(item_dir: Path) -> ProcessStatus:
    """raw/<slug>/status.json (its presence marks the process final)."""
    path = item_dir / layout.STATUS
    try:
        return ProcessStatus.model_validate_json(path.read_text())
    except ValidationError as exc:
        raise UsageError(f"{path}: not a valid process status:\n{_problems(exc)}") from None


def write_status(directory: Path, status: ProcessStatus) -> None:
    atomic_write_text(
        directory / layout.STATUS, status.model_dump_json(indent=2) + "\n", fsync=True
    )


@dataclass(frozen=True)
class FinishedItem:
    item: RunItem
    path: Path  # raw/<slug>/
    status: ProcessStatus


@dataclass
class RunDir:
    """A run directory and its manifest, read and written only through here."""

    root: Path
    manifest: Manifest

    @classmethod
    def open(cls, root: Path) -> RunDir:
        root = Path(root).resolve()
        return cls(root, load_manifest(root / layout.MANIFEST))

    @classmethod
    def create(cls, root: Path, manifest: Manifest) -> RunDir:
        if root.exists():
            raise UsageError(f"{root} exists already")
        root.mkdir(parents=True)
        run = cls(root, manifest)
        run.save()
        return run

    @property
    def layout(self) -> RunLayout:
        return RunLayout(self.root)

    def save(self) -> None:
        atomic_write_json(self.layout.manifest, self.manifest.to_json())

    def item_dir(self, item: RunItem) -> Path:
        return self.layout.item(item.slug)

    def finished_items(self) -> Iterator[FinishedItem]:
        """The items of the order whose process is complete on disk, in run order."""
        for item in self.manifest.order:
            path = self.item_dir(item)
            if finished(path):
                yield FinishedItem(item, path, read_status(path))
