"""From the `samples` table to one value per process: the unit of replication.

A process is one (run_id, variant, workload, benchmark, rep) — `run_id` included when the
column is there, so that tables of several runs concatenated (history) do not merge rep 1
of one run with rep 1 of another. Everything downstream (n, medians, the rank test, the
bootstrap) counts processes, never rows.

Choices, and why:

- **Duplicate rows** for one process and metric (a Go benchmark run with `-count=N`
  prints N lines from the same process) are **aggregated by their median** into one
  value, not counted as N replicates: they share the process's heap, placement and
  scheduler state, so treating them as independent would shrink the CIs and p-values.
- **NaN and ±inf values are dropped** before aggregation; a process with no finite value
  for a metric does not count towards that metric's n.
- A missing or NaN `phase` means the whole process, `"all"`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = (
    "variant",
    "workload",
    "benchmark",
    "rep",
    "metric",
    "unit",
    "value",
    "better",
)
DIRECTIONS = ("lower", "higher")
WHOLE_PROCESS = "all"
# What identifies one comparison row's data, apart from the variant.
ROW_KEYS = ["workload", "benchmark", "metric", "phase"]


def per_process_values(samples: pd.DataFrame) -> pd.DataFrame:
    """One row per process and metric (and phase): ROW_KEYS, variant, process, unit, better, value.

    `process` is an opaque tuple identifying the process (run_id if present, rep).
    Raises ValueError on missing columns, an unknown `better`, or a metric recorded with
    two units or two directions (comparing those would be meaningless).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in samples.columns]
    if missing:
        raise ValueError(f"samples table lacks column(s): {', '.join(missing)}")
    df = samples.copy()
    if "phase" not in df.columns:
        df["phase"] = WHOLE_PROCESS
    df["phase"] = df["phase"].fillna(WHOLE_PROCESS).astype(str)
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)

    bad = sorted(set(df["better"].astype(str)) - set(DIRECTIONS))
    if bad:
        raise ValueError(f"`better` must be 'lower' or 'higher', got {bad}")
    labels = df.groupby(ROW_KEYS, sort=False)[["unit", "better"]].nunique()
    mixed = labels[(labels > 1).any(axis=1)]
    if not mixed.empty:
        where = ", ".join("/".join(map(str, k)) for k in mixed.index[:5])
        raise ValueError(f"metric recorded with more than one unit or direction: {where}")

    # Keep rows of NaN values for now: a metric present only as NaN still makes the
    # variant "present" for that row (n = 0 → unreliable) instead of silently vanishing.
    df.loc[~np.isfinite(df["value"]), "value"] = np.nan
    process_keys = (["run_id"] if "run_id" in df.columns else []) + ["rep"]
    keys = [*ROW_KEYS, "variant", *process_keys]
    per = df.groupby(keys, sort=False, dropna=False).agg(
        unit=("unit", "first"), better=("better", "first"), value=("value", "median")
    )
    per = per.reset_index()
    per["process"] = list(zip(*(per[k] for k in process_keys), strict=True))
    return per[[*ROW_KEYS, "variant", "process", "unit", "better", "value"]]
