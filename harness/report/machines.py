"""The report's per-machine sections of a run spread over Docker engines.

The combined verdicts (the main table) pool every block; here each engine gets its own
section: what its machine is, how many blocks it ran (and whether it was lost), and the
same comparisons on its blocks alone (harness/stats/machines.py). A row whose effect
differs between machines (the heterogeneity test) is flagged above the sections: its
combined verdict averages over machines that disagree, so read the per-machine rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from harness.metrics import is_headline
from harness.report.verdicts import ordered, pvalue, row_views
from harness.rundir import Manifest


@dataclass
class Machines:
    """What analysis found across machines: harness/stats by_machine + heterogeneity."""

    rows: pd.DataFrame  # comparisons with a leading `machine` column
    heterogeneity: pd.DataFrame  # HETEROGENEITY_COLUMNS
    blocks: dict[str, list[int]] = field(default_factory=dict)  # machine → its reps

    def to_json(self) -> dict:
        def records(frame: pd.DataFrame) -> list[dict]:
            return [
                {
                    k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                    for k, v in r.items()
                }
                for r in frame.to_dict(orient="records")
            ]

        return {
            "blocks": self.blocks,
            "comparisons": records(self.rows),
            "heterogeneity": records(self.heterogeneity),
        }


def machines_view(machines: Machines | None, manifest: Manifest) -> dict | None:
    if machines is None:
        return None
    differing = machines.heterogeneity[machines.heterogeneity["differs"]]
    sections = []
    for name, record in manifest.engines.items():
        rows = machines.rows[machines.rows["machine"] == name]
        # Headline rows and every decided change: the rest is in summary.json.
        keep = [
            bool(is_headline(str(m))) or v in ("worse", "better")
            for m, v in zip(rows["metric"], rows["verdict"], strict=True)
        ]
        shown = rows[keep]
        machine = record.machine
        sections.append(
            {
                "name": name,
                "url": record.url,
                "cpus": record.cpus or "all",
                "state": record.state,
                "lost_reason": record.lost_reason,
                "machine": (
                    f"{machine.hostname} · {machine.cpu_model} · {machine.cores} cores · "
                    f"{machine.kernel} · docker {machine.docker}"
                    if machine
                    else "not fingerprinted"
                ),
                "blocks": len(machines.blocks.get(name, [])),
                "rows": row_views(ordered(shown.drop(columns=["machine"]))) if len(shown) else [],
            }
        )
    return {
        "sections": sections,
        "tested": len(machines.heterogeneity),
        "differing": [
            {
                "benchmark": r.benchmark,
                "metric": r.metric + ("" if r.phase == "all" else f" [{r.phase}]"),
                "candidate": r.candidate,
                "ratios": r.ratios,
                "q": pvalue(r.q_value),
            }
            for r in differing.itertuples()
        ],
    }
