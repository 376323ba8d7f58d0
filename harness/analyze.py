"""raw/ → tables → comparisons → report: everything after the processes ran.

A pure function of what the run recorded, so `stwbench report RUN_DIR` re-renders the
same tables and verdicts from raw/ at any time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harness.checks import Checks, run_checks
from harness.metrics import AA_FAMILY
from harness.report import Machines, headline, render_report
from harness.rundir import Manifest, RunDir
from harness.stats import (
    Precision,
    aa_calibration,
    by_machine,
    compare,
    headline_precision,
    heterogeneity,
)
from harness.tables import Tables, build_tables, write_tables


@dataclass
class Analysis:
    tables: Tables
    comparisons: pd.DataFrame
    outputs: dict[str, Path]
    aa: dict | None
    headline: str
    checks: Checks = field(default_factory=lambda: Checks(gate=[], starvation=[]))
    machines: Machines | None = None  # a run over several engines

    @property
    def regressions(self) -> pd.DataFrame:
        """`worse` rows of real candidates: the A/A arm never counts as a regression."""
        rows = self.comparisons
        return rows[(rows.verdict == "worse") & (rows.family != AA_FAMILY)]


def comparisons_of(
    manifest: Manifest, samples: pd.DataFrame, *, equivalence: float | None = None
) -> pd.DataFrame:
    """The comparisons of a run: each candidate against the recorded baseline, the A/A
    arm its own family; a failed gate makes every row of its variant unreliable."""
    if equivalence is None:
        equivalence = manifest.options.equivalence
    failed: dict = {**manifest.failed_processes()}
    for variant in manifest.gate_failures():  # every row of the variant is unreliable
        failed[variant] = failed.get(variant, 0) + 1  # counted as a failure of every workload
    return compare(
        samples,
        baseline=manifest.baseline,
        candidates=manifest.candidates,
        failed=failed,
        aa_arms=[manifest.aa_arm] if manifest.aa_arm else [],
        equivalence=equivalence,
    )


def machines_of(
    manifest: Manifest, samples: pd.DataFrame, *, equivalence: float | None = None
) -> Machines | None:
    """Per-machine rows and the heterogeneity test of a run whose blocks ran on engines
    (harness/stats/machines.py); None for a run on this machine alone. A failed process
    anywhere makes the row unreliable on every machine, as in the combined rows."""
    rep_machines = manifest.rep_machines()
    if not rep_machines:
        return None
    if equivalence is None:
        equivalence = manifest.options.equivalence
    rows = by_machine(
        samples,
        rep_machines,
        baseline=manifest.baseline,
        candidates=manifest.candidates,
        failed=manifest.failed_processes(),
        aa_arms=[manifest.aa_arm] if manifest.aa_arm else [],
        equivalence=equivalence,
    )
    tested = [c for c in manifest.candidates if c != manifest.aa_arm]
    machines = sorted(set(rep_machines.values()))
    return Machines(
        rows=rows,
        heterogeneity=heterogeneity(samples, rep_machines, manifest.baseline, tested),
        blocks={m: sorted(r for r, e in rep_machines.items() if e == m) for m in machines},
    )


def analyze(
    run_dir: Path, *, equivalence: float | None = None, after_stw_us: float | None = None
) -> Analysis:
    """Tables, comparisons, checks and the report of a run, from its raw/ alone.
    `equivalence`, `after_stw_us`: override the run's recorded options."""
    manifest = RunDir.open(run_dir).manifest
    overrides = {"equivalence": equivalence, "trace_after_stw_us": after_stw_us}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if overrides:  # what this analysis used, as the report states it (not saved)
        manifest = manifest.model_copy(
            update={"options": manifest.options.model_copy(update=overrides)}
        )
    tables = write_tables(run_dir, after_stw_us=manifest.options.trace_after_stw_us)
    comparisons = comparisons_of(manifest, tables.frames["samples"], equivalence=equivalence)
    aa_arm = manifest.aa_arm
    aa = aa_calibration(comparisons, aa_arm) if aa_arm else None
    # The checks leave the recorded A/A arm out themselves (it is the baseline again).
    checks = run_checks(manifest, comparisons, tables.frames, manifest.failed_processes())
    machines = machines_of(manifest, tables.frames["samples"], equivalence=equivalence)
    outputs = render_report(
        run_dir,
        comparisons,
        frames=tables.frames,
        manifest=manifest,
        warnings=tables.warnings,
        aa=aa,
        checks=checks.to_json(),
        machines=machines,
    )
    return Analysis(tables, comparisons, outputs, aa, headline(comparisons), checks, machines)


def precision(run_dir: Path, target: float) -> Precision:
    """How precisely the run knows its headline rows (the stopping rule of `ab --until-ci`):
    the comparisons analyze() would make, without writing tables or the report, judged by
    harness.stats.precision.headline_precision with the A/A arm left out. `target` is the
    relative CI half-width asked for (0.02 = ±2 %)."""
    manifest = RunDir.open(run_dir).manifest
    tables = build_tables(run_dir)
    comparisons = comparisons_of(manifest, tables.frames["samples"])
    aa_arm = manifest.aa_arm
    return headline_precision(comparisons, target, exclude_candidates=(aa_arm,) if aa_arm else ())
