"""A run spread over several machines: verdicts within each, and whether they agree.

Each block ran whole on one machine (harness/runs/shard.py), so the within-block log ratio
is a within-machine comparison, whichever machine it came from. Hence:

- **combined** rows are the ordinary comparisons over every block (`compare.py`): the
  paired test with the block as its stratum, blocks nested in machines. A machine's main
  effect (a slower CPU makes both arms slower) cancels inside each block; no block
  compares one machine with another.
- **per-machine** rows (`by_machine`) are the same comparisons on one machine's blocks:
  what a user of that machine would see.
- **heterogeneity** (`heterogeneity`): does the candidate's effect differ between
  machines? For each combined row with at least MIN_BLOCKS blocks on each of ≥ 2
  machines, the Kruskal–Wallis test of the block log ratios grouped by machine
  (scipy.stats.kruskal; rank-based like the rest of the verdicts, no normality assumed).
  The declared family: one per (candidate, family) as in `compare.py`, Benjamini–Hochberg
  within it; a row is flagged when q < ALPHA. It answers "different", never "the same":
  a machine with few blocks can hide a difference, which the per-machine CIs then show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from harness.metrics import metric_info
from harness.stats.compare import compare
from harness.stats.multiple import benjamini_hochberg
from harness.stats.samples import ROW_KEYS, per_process_values

ALPHA = 0.05
MIN_BLOCKS = 3  # per machine: fewer and a machine's ranks say nothing
HETEROGENEITY_COLUMNS = [
    "benchmark",
    "metric",
    "phase",
    "candidate",
    "machines",
    "ratios",  # machine → exp(median block log ratio), as "a 1.052; b 0.998"
    "p_value",
    "q_value",
    "differs",
]


def by_machine(
    samples: pd.DataFrame, rep_machines: Mapping[int, str], **compare_args
) -> pd.DataFrame:
    """compare() on each machine's blocks; the frame gains a leading `machine` column."""
    frames = []
    for machine in sorted(set(rep_machines.values())):
        reps = [rep for rep, m in rep_machines.items() if m == machine]
        frame = compare(samples[samples["rep"].isin(reps)], **compare_args)
        frame.insert(0, "machine", machine)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def heterogeneity(
    samples: pd.DataFrame,
    rep_machines: Mapping[int, str],
    baseline: str,
    candidates: list[str],
) -> pd.DataFrame:
    """One row per (row, candidate) measured on ≥ 2 machines with ≥ MIN_BLOCKS blocks each."""
    per = per_process_values(samples.dropna(subset=["value"]))
    per = per[per["value"] > 0]
    per["rep"] = [process[-1] for process in per["process"]]
    per["machine"] = per["rep"].map(rep_machines)
    per = per.dropna(subset=["machine"])
    rows: list[dict] = []
    for key, group in per.groupby(ROW_KEYS, sort=False):
        _, benchmark, metric, phase = key
        wide = group.pivot_table(index=["machine", "rep"], columns="variant", values="value")
        if baseline not in wide:
            continue
        for candidate in candidates:
            if candidate not in wide:
                continue
            ratios = np.log(wide[candidate]) - np.log(wide[baseline])
            ratios = ratios.dropna()
            groups = {
                m: g.to_numpy() for m, g in ratios.groupby(level="machine") if len(g) >= MIN_BLOCKS
            }
            if len(groups) < 2:
                continue
            arrays = list(groups.values())
            pooled = np.concatenate(arrays)
            p = 1.0 if np.all(pooled == pooled[0]) else float(stats.kruskal(*arrays).pvalue)
            rows.append(
                {
                    "benchmark": benchmark,
                    "metric": metric,
                    "phase": phase,
                    "candidate": candidate,
                    "machines": len(groups),
                    "ratios": "; ".join(
                        f"{m} {math.exp(float(np.median(a))):.3f}" for m, a in groups.items()
                    ),
                    "p_value": p,
                    "family": metric_info(metric).family,
                }
            )
    frame = pd.DataFrame(rows, columns=[*HETEROGENEITY_COLUMNS[:-2], "family"])
    frame["q_value"] = math.nan
    for _, index in frame.groupby(["candidate", "family"]).groups.items():
        frame.loc[index, "q_value"] = benjamini_hochberg(frame.loc[index, "p_value"].tolist())
    frame["differs"] = frame["q_value"] < ALPHA
    return frame[HETEROGENEITY_COLUMNS].reset_index(drop=True)
