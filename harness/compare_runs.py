"""`stwbench compare RUN_A RUN_B`: the variants of two finished runs, compared.

Two runs share no block, so nothing is paired: every row is the unpaired exact rank-sum
with its bootstrap CI (harness/stats: incomplete blocks), and the runs' blocks are kept
apart by offsetting the second run's reps. Variants keep their names, prefixed by the
run id when both runs have one of that name (`20261201-125426:baseline`).

Comparing runs from different machines compares the machines too: unless
--allow-different-machines, a difference in CPU model, core count, kernel or governor
(Manifest.machine) is a UsageError naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.errors import UsageError
from harness.rundir import Manifest, RunDir
from harness.stats import compare
from harness.tables import build_tables

MACHINE_KEYS = ("cpu_model", "cores", "kernel", "governor", "machine")
REP_OFFSET = 100_000  # the second run's reps: never the same block as the first's


@dataclass
class Compared:
    comparisons: pd.DataFrame
    baseline: str
    candidates: list[str]
    runs: list[Manifest]


def machine_differences(a: Manifest, b: Manifest) -> list[str]:
    ma = a.machine.model_dump() if a.machine else {}
    mb = b.machine.model_dump() if b.machine else {}
    return [
        f"{key}: {ma.get(key)!r} vs {mb.get(key)!r}"
        for key in MACHINE_KEYS
        if ma.get(key) != mb.get(key)
    ]


def compare_runs(
    run_a: Path,
    run_b: Path,
    *,
    baseline: str | None = None,
    allow_different_machines: bool = False,
    equivalence: float | None = None,
) -> Compared:
    a, b = RunDir.open(run_a).manifest, RunDir.open(run_b).manifest
    differences = machine_differences(a, b)
    if differences and not allow_different_machines:
        raise UsageError(
            f"{run_a.name} and {run_b.name} ran on different machines ("
            + "; ".join(differences)
            + "): their difference would include the machines'. "
            "--allow-different-machines compares them anyway"
        )
    shared = set(a.variant_names) & set(b.variant_names)

    def named(manifest: Manifest, variant: str) -> str:
        return f"{manifest.run_id}:{variant}" if variant in shared else variant

    frames = []
    names: list[str] = []
    for offset, (path, manifest) in enumerate(((run_a, a), (run_b, b))):
        samples = build_tables(path).frames["samples"].copy()
        samples["variant"] = samples["variant"].map(lambda v, m=manifest: named(m, v))
        samples["rep"] = samples["rep"] + offset * REP_OFFSET
        frames.append(samples)
        names += [named(manifest, v) for v in manifest.variant_names]
    chosen = baseline or named(a, a.baseline)
    if chosen not in names:
        raise UsageError(f"--baseline {chosen!r}: not a variant of either run ({names})")
    candidates = [n for n in names if n != chosen]
    failed: dict = {}
    for manifest in (a, b):
        for (variant, workload), count in manifest.failed_processes().items():
            failed[(named(manifest, variant), workload)] = count
    rows = compare(
        pd.concat(frames, ignore_index=True),
        baseline=chosen,
        candidates=candidates,
        failed=failed,
        equivalence=equivalence,
    )
    return Compared(rows, chosen, candidates, [a, b])
