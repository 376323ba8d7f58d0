"""What a report is made of: a run's manifest, its tables, parse warnings, comparisons.

Everything is read from the run directory unless the caller passes it in (the CLI has
the frames in memory right after parsing; tests pass hand-made frames). Missing pieces
become empty frames with the documented columns, so every later step can assume the
columns exist and only has to cope with "no rows".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.tables import TABLE_COLUMNS, TABLES

AA_SUFFIX = "-aa"  # the A/A arm is the baseline run again under this suffix (stwbench ab --aa)

# The stats stage's comparisons table, column for column (harness/stats `compare`).
COMPARISON_COLUMNS: dict[str, str] = {
    "benchmark": "str",
    "metric": "str",
    "unit": "str",
    "direction": "str",
    "baseline": "str",
    "candidate": "str",
    "baseline_median": "float64",
    "candidate_median": "float64",
    "n_baseline": "float64",  # counts, but float so a missing one can be NaN
    "n_candidate": "float64",
    "ratio": "float64",
    "ci_low": "float64",
    "ci_high": "float64",
    "p_value": "float64",
    "q_value": "float64",
    "verdict": "str",
    "phase": "str",
}


@dataclass
class ReportInputs:
    run_dir: Path
    manifest: dict
    frames: dict[str, pd.DataFrame]
    warnings: list[dict]
    comparisons: pd.DataFrame
    aa: dict | None = None

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id") or self.run_dir.name)

    @property
    def variants(self) -> list[str]:
        """Variant names in manifest order, then any that only the data knows about."""
        names = [v["name"] for v in self.manifest.get("variants", []) if "name" in v]
        for frame in (self.frames["samples"], self.frames["gc_cycles"], self.frames["latency"]):
            if "variant" in frame:
                names += [str(v) for v in frame["variant"].dropna().unique()]
        if not self.comparisons.empty:
            names += [str(v) for v in self.comparisons["baseline"].dropna().unique()]
            names += [str(v) for v in self.comparisons["candidate"].dropna().unique()]
        return list(dict.fromkeys(n for n in names if n))

    @property
    def baseline(self) -> str | None:
        """The comparisons' baseline; else a variant called "baseline"; else the first."""
        if not self.comparisons.empty:
            named = self.comparisons["baseline"].dropna()
            if not named.empty:
                return str(named.iloc[0])
        variants = self.variants
        if "baseline" in variants:
            return "baseline"
        return variants[0] if variants else None

    @property
    def aa_arm(self) -> str | None:
        """The A/A arm's variant name when an A/A result was given.

        harness/stats' A/A dict ({"rows", "flagged", "rate"}) does not name its arm; the
        runs stage names it `<baseline>-aa`. An explicit "candidate" key wins."""
        if self.aa is None:
            return None
        named = self.aa.get("candidate") or self.aa.get("arm")
        if named:
            return str(named)
        guess = f"{self.baseline}{AA_SUFFIX}"
        return guess if guess in self.variants else None

    @property
    def main_comparisons(self) -> pd.DataFrame:
        """The comparisons without the A/A arm's rows (those are shown on their own)."""
        arm = self.aa_arm
        if arm is None or self.comparisons.empty:
            return self.comparisons
        return self.comparisons[self.comparisons["candidate"] != arm].reset_index(drop=True)

    @property
    def aa_comparisons(self) -> pd.DataFrame:
        arm = self.aa_arm
        if arm is None or self.comparisons.empty:
            return self.comparisons.iloc[0:0]
        return self.comparisons[self.comparisons["candidate"] == arm].reset_index(drop=True)

    @property
    def workloads(self) -> list[str]:
        names = [w["name"] for w in self.manifest.get("workloads", []) if "name" in w]
        for frame in (self.frames["samples"], self.frames["gc_cycles"], self.frames["latency"]):
            if "workload" in frame:
                names += [str(w) for w in frame["workload"].dropna().unique()]
        return list(dict.fromkeys(n for n in names if n))


def load_inputs(
    run_dir: Path,
    comparisons: pd.DataFrame | None,
    *,
    frames: dict[str, pd.DataFrame] | None = None,
    manifest: dict | None = None,
    warnings: list[dict] | None = None,
    aa: dict | None = None,
) -> ReportInputs:
    run_dir = Path(run_dir)
    if manifest is None:
        manifest = _read_json(run_dir / "manifest.json", default={})
    if warnings is None:
        warnings = _read_json(run_dir / "tables" / "parse_warnings.json", default=[])
    return ReportInputs(
        run_dir=run_dir,
        manifest=manifest if isinstance(manifest, dict) else {},
        frames=_frames(run_dir, frames),
        warnings=warnings if isinstance(warnings, list) else [],
        comparisons=normalize_comparisons(comparisons),
        aa=aa,
    )


def normalize_comparisons(comparisons: pd.DataFrame | None) -> pd.DataFrame:
    """A copy with every documented column present and numeric columns as floats."""
    frame = pd.DataFrame() if comparisons is None else comparisons.copy()
    for name, dtype in COMPARISON_COLUMNS.items():
        if name not in frame:
            frame[name] = math.nan if dtype == "float64" else ""
        if dtype == "float64":
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        else:
            frame[name] = frame[name].fillna("").astype(str)
    if (frame["phase"] == "").all():
        frame["phase"] = "all"
    return frame.reset_index(drop=True)


def _frames(run_dir: Path, given: dict[str, pd.DataFrame] | None) -> dict[str, pd.DataFrame]:
    frames: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        frame = None if given is None else given.get(name)
        if frame is None and given is None:
            frame = _read_parquet(run_dir / "tables" / f"{name}.parquet")
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
