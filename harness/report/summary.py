"""summary.md (paste into a PR) and summary.json (comparisons + manifest digest).

summary.json is strict JSON (`allow_nan=False`): NaN and ±inf become null, numpy scalars
plain numbers, so any JSON parser (jq, JavaScript) reads it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from harness.report.aa import aa_view
from harness.report.inputs import COMPARISON_DTYPES, ReportInputs
from harness.report.mechanism import check_lines
from harness.report.verdicts import (
    LEGEND,
    family_counts,
    notable,
    ordered,
    pairs,
    row_views,
)


def manifest_digest(inputs: ReportInputs) -> dict:
    m = inputs.manifest
    toolchains = m.get("toolchains") or {}
    machine = m.get("machine") or {}
    options = m.get("options") or {}
    processes = m.get("processes") or {}
    return {
        "run_id": inputs.run_id,
        "created_at": m.get("created_at"),
        "variants": [
            {
                "name": v.get("name"),
                "go": v.get("go") or v.get("goroot"),
                "mode": v.get("mode"),
                "patches": [
                    {"name": p.get("name"), "path": p.get("path"), "sha256": p.get("sha256")}
                    for p in (toolchains.get(v.get("name")) or {}).get("patches")
                    or [{"path": p} for p in v.get("patches", [])]
                ],
            }
            for v in m.get("variants", [])
        ],
        "workloads": [w.get("name") for w in m.get("workloads", [])],
        "reps": options.get("reps"),
        "gomaxprocs": options.get("gomaxprocs"),
        "seed": options.get("seed"),
        "machine": {k: machine.get(k) for k in ("cpu_model", "cores", "kernel")},
        "toolchains": {name: (t or {}).get("key") for name, t in toolchains.items()},
        "n_processes": len(m.get("order") or processes),
        "n_failed": sum(1 for p in processes.values() if p.get("status") != "ok"),
    }


def summary_json(inputs: ReportInputs) -> str:
    """Every comparison row (the A/A arm's included: it is data), the manifest digest and
    the A/A calibration under "aa"."""
    rows = ordered(inputs.comparisons)
    records = [
        {column: _plain(row[column]) for column in COMPARISON_DTYPES} for _, row in rows.iterrows()
    ]
    for record in records:
        for column, dtype in COMPARISON_DTYPES.items():
            if dtype == "Int64" and isinstance(record[column], float):
                record[column] = int(record[column])
    document = {
        "run_id": inputs.run_id,
        "manifest": manifest_digest(inputs),
        "comparisons": records,
    }
    if inputs.aa is not None:
        document["aa"] = {**inputs.aa, "candidate": inputs.aa_arm}
    if inputs.checks is not None:
        document["checks"] = inputs.checks
    return json.dumps(_plain(document), indent=2, allow_nan=False) + "\n"


def _counts_lines(comparisons: pd.DataFrame) -> list[str]:
    """One line per candidate and family, all six verdicts (zeros included)."""
    groups = family_counts(comparisons)
    if not groups:
        return ["**Verdicts:** no rows", ""]
    lines = []
    for group in groups:
        who = f" ({group['candidate']} vs {group['baseline']})" if len(groups) > 1 else ""
        for family in group["families"]:
            cells = ", ".join(f"{n} {v}" for v, n in family["counts"].items())
            lines.append(
                f"**Verdicts, {family['family']}**{_md_text(who)}: {cells} "
                f"({family['total']} row{'' if family['total'] == 1 else 's'})  "
            )
    return [*lines, ""]


def summary_markdown(inputs: ReportInputs) -> str:
    comparisons = inputs.main_comparisons
    versus = "; ".join(f"{c} vs {b}" for b, c in pairs(comparisons)) if len(comparisons) else ""
    digest = manifest_digest(inputs)
    lines = [f"## stwbench {inputs.run_id}" + (f": {versus}" if versus else ""), ""]
    facts = [
        f"{digest['n_processes']} processes ({digest['n_failed']} failed)",
        f"reps {digest['reps']}" if digest["reps"] is not None else "",
        f"GOMAXPROCS {_md_list(digest['gomaxprocs'])}" if digest["gomaxprocs"] else "",
        _md_text(str(digest["machine"].get("cpu_model") or "")),
    ]
    lines += [" · ".join(f for f in facts if f), ""]
    lines += _counts_lines(comparisons)
    for check in check_lines(inputs.checks):
        what, text = _md_text(check["what"]), _md_text(check["text"])
        lines.append(f"**{what}: {check['status']}** — {text}  ")
    if inputs.checks:
        lines.append("")
    calibration = aa_view(inputs)
    if calibration is not None:
        lines += [
            f"**A/A calibration** (`{_md_code(calibration['arm'])}`): "
            + calibration["summary"],  # our own sentence: numbers, no data from processes
            "",
        ]
    rows = row_views(notable(comparisons))
    if rows:
        multi = len(pairs(comparisons)) > 1
        header = ["benchmark", "metric", "baseline", "candidate", "change", "95% CI", "test"]
        header += ["MDC", "p", "q", "n", "verdict"] + (["variant"] if multi else [])
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join("---" for _ in header) + "|")
        for r in rows:
            p_cell = r["p"] + (f" ({r['p_floor']})" if r["p_floor"] else "")
            cells = [
                f"`{_md_code(r['benchmark'])}`",
                f"`{_md_code(r['metric'])}`" + (" ★" if r["key"] else ""),
                r["baseline_median"],
                r["candidate_median"],
                f"**{r['change']}**" if r["verdict"] in ("better", "worse") else r["change"],
                r["ci"],
                _md_text(str(r["test"])),
                r["mdc"] or "–",
                _md_text(p_cell),
                r["q"],
                r["n"],
                _md_text(str(r["verdict"])),
            ]
            if multi:
                cells.append(_md_text(str(r["candidate"])))
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
        lines.append("")
        lines.append(
            "Rows: every headline metric (★: ns/op, STW, start latency; harness/metrics.py), "
            "plus other rows that are worse, better or unreliable."
        )
        lines += ["", *(f"- {text}" for text in legend_lines())]
    else:
        lines.append("No comparisons.")
    lines += [
        "",
        f"Full report: `report.html`. Re-render: `stwbench report {inputs.run_dir}`",
        "",
    ]
    return "\n".join(lines)


def legend_lines() -> list[str]:
    """The legend of the verdicts table, as markdown (the page has its own markup)."""
    return [f"**{term}**: {text}" for term, text in LEGEND]


def write_summaries(inputs: ReportInputs) -> dict[str, Path]:
    md = inputs.run_dir / "summary.md"
    md.write_text(summary_markdown(inputs))
    js = inputs.run_dir / "summary.json"
    js.write_text(summary_json(inputs))
    return {"summary.md": md, "summary.json": js}


def _md_text(text: str) -> str:
    """Plain text in a table cell: no column breaks, no raw HTML."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _md_code(text: str) -> str:
    # Inside backticks only the pipe (a GFM column break even there) and backticks matter.
    return text.replace("`", "'").replace("|", "\\|")


def _md_list(value) -> str:
    return ",".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)


def _plain(value):
    """JSON-safe: NaN/inf -> None, numpy/pandas scalars -> Python, containers recursively."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
