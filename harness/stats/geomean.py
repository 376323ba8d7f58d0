"""The geometric mean ratio over several rows, block by block: a sweep's "cost" (ns/op
over every throughput workload) and "gain" (a latency tail over every probe scenario).

Per block (one process = one (run_id, rep) value per row, see `samples`), the mean over
the rows of ln(candidate / baseline) is one observation; the paired test of those block
means (`paired.paired_log_test`: signed-rank with a Hodges–Lehmann CI from 12 blocks, a
paired t below) gives the ratio and its CI. Averaging inside the block first keeps the
pairing (a burst that slows both arms of a block cancels in each row's log ratio) and
counts blocks, not rows × blocks: the rows of one block share its noise, so treating
them as independent would make the CI too narrow.

Only blocks where every row has both values count (a failed process drops its block),
and only rows with positive values in both arms (a log needs them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.stats.paired import PairedResult, paired_log_test


def geomean_ratio(
    values: pd.DataFrame, baseline: str, candidate: str, rows: list[tuple]
) -> PairedResult | None:
    """`values`: per-process values (`samples.per_process_values`) with a `row` column of
    tuples naming the row; `rows`: the rows to average. None with fewer than 2 blocks."""
    picked = values[values["row"].isin(rows) & values["variant"].isin([baseline, candidate])]
    if picked.empty:
        return None
    wide = picked.pivot_table(
        index="process", columns=["variant", "row"], values="value", aggfunc="median"
    )
    if baseline not in wide.columns.get_level_values(0) or candidate not in (
        wide.columns.get_level_values(0)
    ):
        return None
    base, cand = wide[baseline], wide[candidate]
    common = [r for r in base.columns if r in cand.columns]
    positive = [r for r in common if (base[r] > 0).all() and (cand[r] > 0).all()]
    if not positive:
        return None
    logs = np.log(cand[positive]) - np.log(base[positive])
    per_block = logs.dropna(axis=0, how="any").mean(axis=1).to_numpy()
    if per_block.size < 2:
        return None
    return paired_log_test(per_block)
