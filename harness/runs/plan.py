"""The run order: randomized, interleaved blocks, reproducible from a seed.

Each rep is one block holding every (variant, workload, GOMAXPROCS) once, in a random
order drawn from the seed. Variants therefore alternate throughout the run, so slow
drift of the machine (thermal, noisy neighbours) hits all of them alike, and within a
block no variant always goes first.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from harness.runs.variants import Variant
from harness.runs.workloads import Workload


@dataclass(frozen=True)
class RunItem:
    """One process to run."""

    index: int  # position in the run order
    variant: str
    workload: str
    gomaxprocs: int
    rep: int

    @property
    def slug(self) -> str:
        """Where its raw output lives under raw/ (stable across resumes)."""
        return (
            f"{self.variant}/{_safe(self.workload)}/gomaxprocs{self.gomaxprocs}-rep{self.rep:03d}"
        )

    def to_json(self) -> dict:
        return asdict(self)


def _safe(name: str) -> str:
    return name.replace("/", "_").replace(":", "_").replace("@", "_").replace("=", "")


def run_order(
    variants: list[Variant],
    workloads: list[Workload],
    reps: int,
    gomaxprocs: list[int],
    seed: int,
) -> list[RunItem]:
    rng = random.Random(seed)
    items: list[RunItem] = []
    for rep in range(1, reps + 1):
        block = [
            (variant.name, workload.name, procs)
            for variant in variants
            for workload in workloads
            for procs in ([workload.gomaxprocs] if workload.gomaxprocs else gomaxprocs)
        ]
        rng.shuffle(block)
        for variant, workload, procs in block:
            items.append(RunItem(len(items), variant, workload, procs, rep))
    return items
