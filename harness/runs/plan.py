"""The run order: randomized, interleaved blocks, reproducible from a seed.

Each rep is one block holding every (variant, workload, GOMAXPROCS) once, in a random
order drawn from the seed, with the variants of one (workload, GOMAXPROCS) run back to
back in random order (`shuffle_block`: the pairs the statistics compare share the
machine's bursts). Variants therefore alternate throughout the run, so slow drift of the
machine (thermal, noisy neighbours) hits all of them alike, and within a block no variant
always goes first. Adaptive reps (`stwbench ab --until-ci`) append
whole blocks later (`extend_order`), each shuffled by a generator of its own rep number.
"""

from __future__ import annotations

import random

from harness.rundir import RunItem, Variant, Workload

__all__ = ["RunItem", "extend_order", "run_order", "shuffle_block"]


def _block(
    variants: list[Variant], workloads: list[Workload], gomaxprocs: list[int]
) -> list[tuple[str, str, int]]:
    """One rep's (variant, workload, GOMAXPROCS) combinations, unshuffled."""
    return [
        (variant.name, workload.name, procs)
        for variant in variants
        for workload in workloads
        for procs in ([workload.gomaxprocs] if workload.gomaxprocs else gomaxprocs)
    ]


def shuffle_block(
    block: list[tuple[str, str, int]], rng: random.Random
) -> list[tuple[str, str, int]]:
    """Randomize a block with the arms of each (workload, GOMAXPROCS) next to each other.

    The comparison pairs processes of one (workload, GOMAXPROCS) across variants inside a
    block, and the machine's noise comes in bursts: two processes run back to back share
    more of a burst than two run minutes apart. Measured on this project's 2-core VM
    (ns/op, within-block log ratio to the baseline, robust SD): pairs at most 4 processes
    apart 0.057 vs farther 0.104 (4 variants × 3 workloads, 8 reps), and 0.020 vs 0.092
    (3 variants × 10 workloads, 3 reps). So the order of the (workload, GOMAXPROCS) groups
    is random and, inside each group, the order of the variants is random too: still a
    randomized block (every combination once, no variant systematically first), with the
    arms of a pair adjacent.
    """
    groups: dict[tuple[str, int], list[tuple[str, str, int]]] = {}
    for combination in block:
        groups.setdefault((combination[1], combination[2]), []).append(combination)
    keys = list(groups)
    rng.shuffle(keys)
    shuffled: list[tuple[str, str, int]] = []
    for key in keys:
        arms = groups[key]
        rng.shuffle(arms)
        shuffled.extend(arms)
    return shuffled


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
        block = _block(variants, workloads, gomaxprocs)
        block = shuffle_block(block, rng)
        for variant, workload, procs in block:
            items.append(
                RunItem(
                    index=len(items), variant=variant, workload=workload, gomaxprocs=procs, rep=rep
                )
            )
    return items


def extend_order(
    order: list[RunItem],
    variants: list[Variant],
    workloads: list[Workload],
    gomaxprocs: list[int],
    seed: int,
    blocks: int,
) -> list[RunItem]:
    """`order` followed by `blocks` more reps of the same shape (adaptive reps).

    Rep k > the initial reps is shuffled by its own generator, random.Random(f"{seed}:{k}"),
    so any extension is reproducible from the seed and the rep number alone, whichever
    steps added it; `order` itself is kept as it is.
    """
    items = list(order)
    last = max((item.rep for item in order), default=0)
    for rep in range(last + 1, last + 1 + blocks):
        block = _block(variants, workloads, gomaxprocs)
        block = shuffle_block(block, random.Random(f"{seed}:{rep}"))
        for variant, workload, procs in block:
            items.append(
                RunItem(
                    index=len(items), variant=variant, workload=workload, gomaxprocs=procs, rep=rep
                )
            )
    return items
