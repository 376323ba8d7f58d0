"""What a report is made of: a run's manifest, its tables, parse warnings, comparisons.

Everything is read from the run directory unless the caller passes it in (the CLI has
the frames in memory right after parsing; tests pass hand-made frames). The manifest is
a `harness.rundir.Manifest` (loaded with `harness.rundir.load_manifest`, validated and
migrated); which variants ran, which is the baseline and which the A/A arm are what it
records, never guessed from names or data. Missing tables become empty frames with the
documented columns, so every later step can assume the columns exist and only has to
cope with "no rows".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from harness.metrics import AA_FAMILY, HEADLINE, SECONDARY, is_headline
from harness.report.claims import ClaimsSection, report_claims
from harness.report.machines import Machines
from harness.rundir import Manifest, RunLayout, load_manifest
from harness.stats import COMPARISON_COLUMNS as STATS_COLUMNS
from harness.tables import TABLE_COLUMNS, TABLES

# The comparisons table is harness/stats' (`COMPARISON_COLUMNS`, column for column, in its
# order): the report only decides how to hold each column. Counts are integers (nullable,
# so a hand-made or older frame without one shows "–"), labels are strings, the rest are
# numbers. A column the stats stage adds later is a number unless named here.
_TEXT_COLUMNS = frozenset(
    (
        "benchmark",
        "metric",
        "unit",
        "direction",
        "baseline",
        "candidate",
        "family",
        "test",
        "verdict",
        "phase",
    )
)


def _dtype(column: str) -> str:
    if column.startswith("n_"):
        return "Int64"
    return "str" if column in _TEXT_COLUMNS else "float64"


COMPARISON_DTYPES: dict[str, str] = {c: _dtype(c) for c in STATS_COLUMNS}


@dataclass
class ReportInputs:
    run_dir: Path
    manifest: Manifest
    frames: dict[str, pd.DataFrame]
    warnings: list[dict]
    comparisons: pd.DataFrame
    aa: dict | None = None  # harness.stats.aa_calibration of the run's A/A arm
    checks: dict | None = None  # harness/checks.py Checks.to_json(): gate, starvation
    machines: Machines | None = None  # a run over several engines (report/machines.py)

    @property
    def layout(self) -> RunLayout:
        return RunLayout(self.run_dir)

    @property
    def run_id(self) -> str:
        return self.manifest.run_id or self.run_dir.name

    @property
    def variants(self) -> list[str]:
        """The run's variants, in manifest order (the A/A arm included)."""
        return self.manifest.variant_names

    @property
    def baseline(self) -> str:
        """The variant the others are compared with, as the manifest records it."""
        return self.manifest.baseline

    @property
    def aa_arm(self) -> str | None:
        """The A/A arm's variant name, as the manifest records it (None: the run has none)."""
        return self.manifest.aa_arm

    @cached_property
    def claims(self) -> ClaimsSection | None:
        """The article's claims against this run's candidate; None (and nothing computed)
        unless the run asked for them (`options.claims`)."""
        return report_claims(self.frames, self.main_comparisons, self.manifest)

    def _aa_rows(self) -> pd.Series:
        frame = self.comparisons
        arm = self.aa_arm
        mask = frame["family"] == AA_FAMILY
        if arm is not None:
            mask = mask | (frame["candidate"] == arm)
        return mask

    @property
    def main_comparisons(self) -> pd.DataFrame:
        """The candidates' rows: never the A/A arm's (shown, and counted, on their own)."""
        if self.comparisons.empty:
            return self.comparisons
        return self.comparisons[~self._aa_rows()].reset_index(drop=True)

    @property
    def aa_comparisons(self) -> pd.DataFrame:
        if self.comparisons.empty:
            return self.comparisons.iloc[0:0]
        return self.comparisons[self._aa_rows()].reset_index(drop=True)

    @property
    def workloads(self) -> list[str]:
        return [w.name for w in self.manifest.workloads]


def load_inputs(
    run_dir: Path,
    comparisons: pd.DataFrame | None,
    *,
    frames: dict[str, pd.DataFrame] | None = None,
    manifest: Manifest | None = None,
    warnings: list[dict] | None = None,
    aa: dict | None = None,
    checks: dict | None = None,
    machines: Machines | None = None,
) -> ReportInputs:
    """The report's inputs; the manifest is loaded from run_dir (harness.rundir) unless
    given, and must then be a `Manifest`: a dict is refused, not guessed at."""
    run_dir = Path(run_dir)
    paths = RunLayout(run_dir)
    if manifest is None:
        manifest = load_manifest(paths.manifest)
    elif not isinstance(manifest, Manifest):
        raise TypeError(
            f"the report wants a harness.rundir.Manifest, got {type(manifest).__name__}: "
            "load it with harness.rundir.load_manifest (or RunDir.open)"
        )
    if aa is not None and manifest.aa_arm is None:
        raise ValueError(
            f"an A/A calibration was given for run {manifest.run_id!r}, "
            "whose manifest records no A/A arm"
        )
    if warnings is None:
        warnings = _read_json(paths.parse_warnings, default=[])
    return ReportInputs(
        run_dir=run_dir,
        manifest=manifest,
        frames=_frames(paths, frames),
        warnings=warnings if isinstance(warnings, list) else [],
        comparisons=normalize_comparisons(comparisons),
        aa=aa,
        checks=checks,
        machines=machines,
    )


def normalize_comparisons(comparisons: pd.DataFrame | None) -> pd.DataFrame:
    """A copy with every column of harness/stats' table present, in its order, typed.

    Frames from before a column existed (older summary.json files, hand-made test
    frames) still normalize: a missing count is <NA>, a missing number NaN, a missing
    label "". A missing `phase` is "all" (whole-process rows); a missing `family` is the
    metric's own (harness/metrics.py; the A/A arm's rows are recognised by their
    candidate in `ReportInputs`). Columns the stats stage does not know are kept, after.
    """
    frame = pd.DataFrame() if comparisons is None else comparisons.copy()
    for name, dtype in COMPARISON_DTYPES.items():
        if name not in frame:
            frame[name] = pd.NA if dtype == "Int64" else (math.nan if dtype == "float64" else "")
        if dtype == "Int64":
            frame[name] = pd.to_numeric(frame[name], errors="coerce").round().astype("Int64")
        elif dtype == "float64":
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        else:
            frame[name] = frame[name].fillna("").astype(str)
    if (frame["phase"] == "").all():
        frame["phase"] = "all"
    missing = frame["family"] == ""
    if missing.any():
        frame.loc[missing, "family"] = [
            HEADLINE if is_headline(m) else SECONDARY for m in frame.loc[missing, "metric"]
        ]
    extra = [c for c in frame.columns if c not in COMPARISON_DTYPES]
    return frame[[*COMPARISON_DTYPES, *extra]].reset_index(drop=True)


def _frames(paths: RunLayout, given: dict[str, pd.DataFrame] | None) -> dict[str, pd.DataFrame]:
    frames: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        frame = None if given is None else given.get(name)
        if frame is None and given is None:
            frame = _read_parquet(paths.table(name))
        if frame is None:
            frame = _empty(name)
        # Hand-made or older tables may lack a column; add it empty rather than branch later.
        for column in TABLE_COLUMNS[name]:
            if column not in frame:
                frame = frame.assign(**{column: pd.Series(dtype="object")})
        if name == "samples":  # tables from before the GC-phase rows: all whole-process
            frame = frame.assign(phase=frame["phase"].fillna("all").astype(str))
        frames[name] = frame.reset_index(drop=True)
    return frames


def _empty(name: str) -> pd.DataFrame:
    columns = TABLE_COLUMNS[name]
    return pd.DataFrame(columns=list(columns)).astype(columns)


def _read_parquet(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError):
        return None


def _read_json(path: Path, *, default):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return default
