"""raw/ → tables → comparisons → report: everything after the processes ran.

A pure function of what the run recorded, so `stwbench report RUN_DIR` re-renders the
same tables and verdicts from raw/ at any time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.checks import Checks, run_checks
from harness.metrics import AA_FAMILY, AA_SUFFIX
from harness.report import headline, render_report
from harness.runs.plan import RunItem
from harness.runs.runner import gate_failures
from harness.stats import aa_calibration, compare
from harness.stats.precision import Precision, headline_precision
from harness.tables import Tables, build_tables, write_tables


@dataclass
class Analysis:
    tables: Tables
    comparisons: pd.DataFrame
    outputs: dict[str, Path]
    aa: dict | None
    headline: str
    checks: Checks = field(default_factory=lambda: Checks(gate=[], starvation=[]))

    @property
    def regressions(self) -> pd.DataFrame:
        """`worse` rows of real candidates: the A/A arm never counts as a regression."""
        rows = self.comparisons
        return rows[(rows.verdict == "worse") & (rows.family != AA_FAMILY)]


def failed_processes(manifest: dict) -> dict[tuple[str, str], int]:
    """(variant, workload) → processes that did not finish ok (their rows are unreliable)."""
    failed: dict[tuple[str, str], int] = {}
    processes = manifest.get("processes", {})
    for raw in manifest.get("order", []):
        item = RunItem(**raw)
        status = processes.get(item.slug, {}).get("status")
        if status is not None and status != "ok":
            key = (item.variant, item.workload)
            failed[key] = failed.get(key, 0) + 1
    return failed


def aa_arm_of(manifest: dict) -> str | None:
    """The A/A arm's name when the run has one (the baseline run again, `--aa`)."""
    variants = [v["name"] for v in manifest["variants"]]
    arm = f"{variants[0]}{AA_SUFFIX}"
    return arm if arm in variants else None


def comparisons_of(
    manifest: dict, samples: pd.DataFrame, *, equivalence: float | None = None
) -> pd.DataFrame:
    """The comparisons of a run: first variant is the baseline, the A/A arm its own family."""
    variants = [v["name"] for v in manifest["variants"]]
    aa_arm = aa_arm_of(manifest)
    if equivalence is None:
        equivalence = manifest.get("options", {}).get("equivalence")
    failed: dict = {**failed_processes(manifest)}
    for variant in gate_failures(manifest):  # every row of the variant is unreliable
        failed[variant] = failed.get(variant, 0) + 1  # counted as a failure of every workload
    return compare(
        samples,
        baseline=variants[0],
        candidates=variants[1:],
        failed=failed,
        aa_arms=[aa_arm] if aa_arm else [],
        equivalence=equivalence,
    )


def analyze(run_dir: Path, *, equivalence: float | None = None) -> Analysis:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    tables = write_tables(run_dir)
    comparisons = comparisons_of(manifest, tables.frames["samples"], equivalence=equivalence)
    aa_arm = aa_arm_of(manifest)
    aa = aa_calibration(comparisons, aa_arm) if aa_arm else None
    checks = run_checks(
        manifest,
        comparisons,
        tables.frames,
        failed_processes(manifest),
        exclude=(aa_arm,) if aa_arm else (),
    )
    outputs = render_report(
        run_dir,
        comparisons,
        frames=tables.frames,
        manifest=manifest,
        warnings=tables.warnings,
        aa=aa,
        checks=checks.to_json(),
    )
    return Analysis(tables, comparisons, outputs, aa, headline(comparisons), checks)


def precision(run_dir: Path, target: float) -> Precision:
    """How precisely the run knows its headline rows (the stopping rule of `ab --until-ci`):
    the comparisons analyze() would make, without writing tables or the report, judged by
    harness.stats.precision.headline_precision with the A/A arm left out. `target` is the
    relative CI half-width asked for (0.02 = ±2 %)."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    tables = build_tables(run_dir)
    comparisons = comparisons_of(manifest, tables.frames["samples"])
    aa_arm = aa_arm_of(manifest)
    return headline_precision(comparisons, target, exclude_candidates=(aa_arm,) if aa_arm else ())
