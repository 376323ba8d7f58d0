"""raw/ → tables → comparisons → report: everything after the processes ran.

A pure function of what the run recorded, so `stwbench report RUN_DIR` re-renders the
same tables and verdicts from raw/ at any time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.report import headline, render_report
from harness.runs.plan import RunItem
from harness.stats import aa_false_positive_rate, compare
from harness.tables import Tables, write_tables

AA_SUFFIX = "-aa"


@dataclass
class Analysis:
    tables: Tables
    comparisons: pd.DataFrame
    outputs: dict[str, Path]
    aa: dict | None
    headline: str

    @property
    def regressions(self) -> pd.DataFrame:
        return self.comparisons[self.comparisons.verdict == "worse"]


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


def analyze(run_dir: Path) -> Analysis:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    tables = write_tables(run_dir)
    variants = [v["name"] for v in manifest["variants"]]
    baseline = variants[0]
    comparisons = compare(
        tables.frames["samples"],
        baseline=baseline,
        candidates=variants[1:],
        failed=failed_processes(manifest),
    )
    aa_arm = f"{baseline}{AA_SUFFIX}"
    aa = aa_false_positive_rate(comparisons, aa_arm) if aa_arm in variants else None
    outputs = render_report(
        run_dir,
        comparisons,
        frames=tables.frames,
        manifest=manifest,
        warnings=tables.warnings,
        aa=aa,
    )
    return Analysis(tables, comparisons, outputs, aa, headline(comparisons))
