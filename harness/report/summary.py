"""summary.md (paste into a PR) and summary.json (comparisons + manifest digest, the A/A
calibration, the checks, and the article's claims when the run asked for them).

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
from harness.rundir import layout

SUMMARY_MD = layout.SUMMARY_MD


def _patches(inputs: ReportInputs, variant: str) -> list[dict]:
    """The toolchain's recorded patches (with checksums), else the recipe's paths."""
    tc = inputs.manifest.toolchains.get(variant)
    if tc is not None and tc.patches:
        return [{"name": p.name, "path": p.path, "sha256": p.sha256} for p in tc.patches]
    return [{"path": p} for p in inputs.manifest.variant(variant).patches]


def manifest_digest(inputs: ReportInputs) -> dict:
    m = inputs.manifest
    machine = m.machine
    return {
        "run_id": inputs.run_id,
        "created_at": m.created_at,
        "baseline": m.baseline,
        "aa_arm": m.aa_arm,
        "variants": [
            {
                "name": v.name,
                "go": v.go or v.goroot,
                "mode": v.mode,
                "patches": _patches(inputs, v.name),
            }
            for v in m.variants
        ],
        "workloads": [w.name for w in m.workloads],
        "reps": m.options.reps,
        "gomaxprocs": m.options.gomaxprocs,
        "seed": m.options.seed,
        "machine": {
            k: getattr(machine, k) if machine is not None else None
            for k in ("cpu_model", "cores", "kernel")
        },
        "toolchains": {name: t.key for name, t in m.toolchains.items()},
        "n_processes": len(m.order or m.processes),
        "n_failed": sum(1 for p in m.processes.values() if p.status != "ok"),
    }


def summary_json(inputs: ReportInputs) -> str:
    """Every comparison row (the A/A arm's included: it is data), the manifest digest, the
    A/A calibration under "aa" (a run with an A/A arm), the checks, and under "claims"
    the article's claims (only when the run asked for them: `options.claims`)."""
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
    if inputs.aa_arm is not None:
        document["aa"] = {**(inputs.aa or {}), "candidate": inputs.aa_arm}
    if inputs.checks is not None:
        document["checks"] = inputs.checks
    if inputs.claims is not None:
        document["claims"] = inputs.claims.to_json()
    if inputs.machines is not None:
        document["machines"] = inputs.machines.to_json()
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
        f"Full report: `{layout.REPORT_HTML}`. Re-render: `stwbench report {inputs.run_dir}`",
        "",
    ]
    return "\n".join(lines)


def legend_lines() -> list[str]:
    """The legend of the verdicts table, as markdown (the page has its own markup)."""
    return [f"**{term}**: {text}" for term, text in LEGEND]


def write_summaries(inputs: ReportInputs) -> dict[str, Path]:
    md = inputs.layout.output(SUMMARY_MD)
    md.write_text(summary_markdown(inputs))
    js = inputs.layout.output(layout.SUMMARY_JSON)
    js.write_text(summary_json(inputs))
    return {md.name: md, js.name: js}


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
