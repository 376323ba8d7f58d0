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

from harness.report.inputs import COMPARISON_COLUMNS, ReportInputs
from harness.report.verdicts import counts_text, notable, ordered, pairs, row_views


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
    rows = ordered(inputs.comparisons)
    records = [
        {column: _plain(row[column]) for column in COMPARISON_COLUMNS} for _, row in rows.iterrows()
    ]
    for record in records:
        for column in ("n_baseline", "n_candidate"):
            if isinstance(record[column], float):
                record[column] = int(record[column])
    document = {
        "run_id": inputs.run_id,
        "manifest": manifest_digest(inputs),
        "comparisons": records,
    }
    if inputs.aa is not None:
        document["aa"] = {**inputs.aa, "candidate": inputs.aa_arm}
    return json.dumps(_plain(document), indent=2, allow_nan=False) + "\n"


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
    lines += [f"**Verdicts:** {counts_text(comparisons)}", ""]
    if inputs.aa is not None:
        aa = inputs.aa
        rate = aa.get("rate")
        rate_text = f"{rate:.1%}" if isinstance(rate, int | float) and math.isfinite(rate) else "–"
        lines += [
            f"**A/A** (`{inputs.aa_arm}`): {aa.get('flagged')} of {aa.get('rows')} rows "
            f"flagged, false-positive rate {rate_text}",
            "",
        ]
    rows = row_views(notable(comparisons))
    if rows:
        multi = len(pairs(comparisons)) > 1
        header = ["benchmark", "metric", "baseline", "candidate", "change", "95% CI", "p", "q"]
        header += ["n", "verdict"] + (["variant"] if multi else [])
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join("---" for _ in header) + "|")
        for r in rows:
            cells = [
                f"`{_md_code(r['benchmark'])}`",
                f"`{_md_code(r['metric'])}`",
                r["baseline_median"],
                r["candidate_median"],
                f"**{r['change']}**" if r["verdict"] in ("better", "worse") else r["change"],
                r["ci"],
                r["p"],
                r["q"],
                r["n"],
                _md_text(str(r["verdict"])),
            ]
            if multi:
                cells.append(_md_text(str(r["candidate"])))
            lines.append("| " + " | ".join(str(c) for c in cells) + " |")
        lines.append("")
        lines.append(
            "Rows: every change that is not `same`, plus ns/op, STW and start-latency metrics."
        )
    else:
        lines.append("No comparisons.")
    lines += [
        "",
        f"Full report: `report.html`. Re-render: `stwbench report {inputs.run_dir}`",
        "",
    ]
    return "\n".join(lines)


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
