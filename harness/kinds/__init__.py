"""Workload kinds: each knows how its workloads are built, run and parsed
(harness/kinds/base.py). `kind_of(workload)` is the only dispatch on `workload.kind`."""

from __future__ import annotations

from harness.kinds.base import BuildPlan, CommandContext, ParseContext, WorkloadKind
from harness.kinds.bench import BenchKind, GorootKind, PackageKind, bench_args
from harness.kinds.probe import ProbeKind
from harness.rundir import Workload

KINDS: dict[str, WorkloadKind] = {
    k.name: k for k in (BenchKind(), ProbeKind(), GorootKind(), PackageKind())
}


def kind_of(workload: Workload) -> WorkloadKind:
    return KINDS[workload.kind]


__all__ = [
    "KINDS",
    "BuildPlan",
    "CommandContext",
    "ParseContext",
    "WorkloadKind",
    "bench_args",
    "kind_of",
]
