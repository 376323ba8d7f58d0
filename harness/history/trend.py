"""The trend report: <out>/nightly/index.html and summary.md, from the history alone.

    paths = write_trend(history, Path("results/nightly"), tonight=result)

index.html is self-contained like the A/B report (inline CSS and SVG, a CSP that blocks
every load, jinja2 autoescaping on): the open alerts; one panel per series and machine
(each machine's nights are a history of their own), per headline metric
(ns/op, STW, start latency: the headline family of harness/metrics.py) the per-night median with
the interquartile band of the processes, toolchain changes (dotted) and alerts (red /
green) marked; the nights with links to each night's report; the resolved alerts.
summary.md has the alerts and the series, to paste into an issue or a chat.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from harness.history.alerts import describe
from harness.history.detect import as_date, night_medians
from harness.history.plots import trend_figure
from harness.history.store import History
from harness.metrics import is_headline
from harness.numbers import is_finite
from harness.report import change, format_value, interval, page_guard, pvalue

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness.history", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
# Headline metrics, one figure per family; any other key metric in a last figure.
FAMILIES = (
    ("throughput: ns/op and STW time per op", ("ns/op", "stw-ns/op")),
    (
        "STW pauses per process (gctrace)",
        ("stw-sweep-term-p99-ms", "stw-mark-term-p99-ms", "stw-pause-max-ms"),
    ),
    (
        "goroutine start latency (probe)",
        (
            "start-latency-p50-ns",
            "start-latency-p99-ns",
            "start-latency-p999-ns",
            "start-latency-max-ns",
        ),
    ),
)
RESOLVED_SHOWN = 30


def write_trend(
    history: History, out_dir: Path, *, tonight=None, last_nights: int = 90
) -> dict[str, Path]:
    """Render index.html and summary.md into out_dir from the newest `last_nights` nights
    of every series; `tonight` (record.NightResult) adds what this run changed."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with history.read() as conn:
        nights = history.nights(conn=conn)
        alerts = history.alerts(conn=conn)
        # Series in the order first recorded, each with its machines in that order.
        pairs = history.series_machines(conn=conn)
        first = {name: i for i, name in enumerate(dict.fromkeys(n for n, _ in pairs))}
        frames = {
            (name, machine): history.series_samples(
                name, machine=machine, last_nights=last_nights, conn=conn
            )
            for name, machine in sorted(pairs, key=lambda pair: first[pair[0]])
        }
    context = _context(history, out_dir, nights, alerts, frames, tonight)
    index = out_dir / "index.html"
    page = _ENV.get_template("trend.html.j2").render(**context, page_guard=page_guard())
    index.write_text(page, encoding="utf-8")
    summary = out_dir / "summary.md"
    summary.write_text(_markdown(context))
    return {"index.html": index, "summary.md": summary}


def _context(history, out_dir, nights, alerts, frames, tonight) -> dict:
    open_alerts = alerts[alerts["status"] == "open"] if not alerts.empty else alerts
    resolved = alerts[alerts["status"] == "resolved"] if not alerts.empty else alerts
    series = [
        _series_view(
            name,
            machine,
            nights[(nights["series"] == name) & (nights["machine"] == machine)],
            frame,
            alerts,
        )
        for (name, machine), frame in frames.items()
    ]
    latest = max((as_date(n) for n in nights["night"]), default=None) if len(nights) else None
    return {
        "title": "stwbench nightly",
        "db": history.display_url,
        "generated": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "latest_night": str(latest) if latest else "–",
        "n_nights": int(nights["night"].nunique()) if len(nights) else 0,
        "n_series": len({s["name"] for s in series}),
        "machines": list(dict.fromkeys(s["machine"] for s in series)),
        "open_alerts": [_alert_view(a) for _, a in _newest_first(open_alerts).iterrows()],
        "resolved_alerts": [
            _alert_view(a) for _, a in _newest_first(resolved).head(RESOLVED_SHOWN).iterrows()
        ],
        "tonight": _tonight_view(tonight),
        "series": series,
        "nights": _night_rows(nights, out_dir),
    }


def _newest_first(alerts: pd.DataFrame) -> pd.DataFrame:
    if alerts.empty:
        return alerts
    return alerts.sort_values(["raised_night", "id"], ascending=[False, True])


def _alert_view(alert: pd.Series) -> dict:
    threshold = alert.get("threshold")
    return {
        "id": int(alert["id"]),
        "kind": str(alert["kind"]),
        "series": str(alert["series"]),
        "machine": str(alert["machine"]),
        "workload": str(alert["workload"]),
        "benchmark": str(alert["benchmark"]),
        "metric": str(alert["metric"]),
        "change": change(alert["ratio"]),
        "ci": interval(_num(alert.get("ci_low")), _num(alert.get("ci_high"))),
        "p": pvalue(_num(alert.get("p_value"))),
        "confidence": str(alert["confidence"]),
        "threshold": f"±{threshold * 100:.3g}% ({alert['threshold_source']})"
        if is_finite(threshold)
        else "–",
        "before": format_value(alert["before_median"], str(alert["unit"])),
        "after": format_value(alert["after_median"], str(alert["unit"])),
        "n": f"{int(alert['n_before'])}/{int(alert['n_after'])}",
        "first_bad_night": str(alert["first_bad_night"]),
        "last_good_night": str(alert["last_good_night"]),
        "raised_night": str(alert["raised_night"]),
        "resolved_night": _date_text(alert.get("resolved_night")),
        "toolchain_change": str(alert["toolchain_change"]),
        "status": str(alert["status"]),
        "text": describe(alert),
    }


def _tonight_view(tonight) -> dict | None:
    if tonight is None:
        return None
    findings = tonight.findings
    counts = {}
    if len(findings):
        for (series, status), n in findings.groupby(["series", "status"]).size().items():
            counts.setdefault(series, {})[status] = int(n)
    return {
        "night": str(tonight.night),
        "machine": str(tonight.machine),
        "new": [_alert_view(a) for _, a in tonight.new_alerts.iterrows()],
        "resolved": [_alert_view(a) for _, a in tonight.resolved.iterrows()],
        "counts": [
            {"series": s, "text": ", ".join(f"{n} {k}" for k, n in sorted(c.items()))}
            for s, c in counts.items()
        ],
        "replaced": list(tonight.replaced),
    }


def _patch_text(raw: str) -> str:
    patches = json.loads(raw or "[]")
    if not patches:
        return "(none)"
    return ", ".join(
        f"{p.get('name') or p.get('path')} ({str(p.get('sha256'))[:12]})" for p in patches
    )


def _series_view(name: str, machine: str, nights, frame, alerts) -> dict:
    """One panel: a series on one machine (its nights, its alerts, its plots)."""
    nights = nights.sort_values("night")
    latest = nights.iloc[-1]
    keys = nights["toolchain_key"].tolist()
    changes = [
        as_date(n)
        for n, before, after in zip(nights["night"].iloc[1:], keys[:-1], keys[1:], strict=True)
        if before != after
    ]
    mine = (
        alerts[(alerts["series"] == name) & (alerts["machine"] == machine)]
        if not alerts.empty
        else alerts
    )
    figures = []
    if not frame.empty:
        key = frame[frame["metric"].map(is_headline)]
        medians = night_medians(key) if not key.empty else key
        present = list(dict.fromkeys(medians["metric"])) if len(medians) else []
        listed = {m for _, metrics in FAMILIES for m in metrics}
        families = [*FAMILIES, ("other headline metrics", [m for m in present if m not in listed])]
        for i, (title, metrics) in enumerate(families):
            svg = trend_figure(
                medians,
                title=title,
                metrics=metrics,
                alerts=mine if not mine.empty else _no_alerts(),
                toolchain_nights=changes,
                salt=f"trend-{name}-{machine}-{i}",
            )
            if svg:
                figures.append({"title": title, "svg": Markup(svg)})
    return {
        "name": name,
        "machine": machine,
        "anchor": "series-" + _slug(name) + "--" + _slug(machine),
        "control": bool(latest["control"]),
        "n_nights": len(nights),
        "first": str(nights["night"].iloc[0]),
        "last": str(latest["night"]),
        "go": str(latest["go_version"]),
        "mode": str(latest["mode"]),
        "patches": _patch_text(latest["patches_json"]),
        "key": str(latest["toolchain_key"])[:12],
        "toolchain_changes": [str(n) for n in changes],
        "open": int((mine["status"] == "open").sum()) if not mine.empty else 0,
        "figures": figures,
    }


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text)


def _no_alerts() -> pd.DataFrame:
    return pd.DataFrame(
        columns=["workload", "benchmark", "metric", "kind", "status", "first_bad_night"]
    )


def _night_rows(nights: pd.DataFrame, out_dir: Path) -> list[dict]:
    rows = []
    if nights.empty:
        return rows
    ordered = nights.sort_values(["night", "series", "machine"], ascending=[False, True, True])
    for _, night in ordered.iterrows():
        report = Path(str(night["run_dir"])) / "report.html"
        rel = os.path.relpath(report, out_dir.resolve()) if report.is_absolute() else None
        rows.append(
            {
                "night": str(night["night"]),
                "series": str(night["series"]),
                "machine": str(night["machine"]),
                "go": str(night["go_version"]),
                "mode": str(night["mode"]),
                "patches": _patch_text(night["patches_json"]),
                "key": str(night["toolchain_key"])[:12],
                "ok": int(night["processes_ok"]),
                "failed": int(night["processes_failed"]),
                "run_id": str(night["run_id"]),
                # Relative links only, and only to reports under the trend report's folder.
                "link": rel if rel and not rel.startswith("..") and report.exists() else None,
                "path": str(report),
            }
        )
    return rows


def _markdown(context: dict) -> str:
    lines = [
        f"## stwbench nightly: {context['latest_night']}",
        "",
        f"History `{_md(context['db'])}` · {context['n_nights']} nights · "
        + ", ".join(dict.fromkeys(f"`{_md(s['name'])}`" for s in context["series"]))
        + " · machines "
        + ", ".join(f"`{_md(m)}`" for m in context["machines"]),
        "",
    ]
    tonight = context["tonight"]
    if tonight:
        lines.append(
            f"**Night {tonight['night']}** (machine `{_md(tonight['machine'])}`): "
            f"{len(tonight['new'])} new alert(s), "
            f"{len(tonight['resolved'])} resolved"
            + "".join(f" · {_md(c['series'])}: {_md(c['text'])}" for c in tonight["counts"])
        )
        lines.append("")
        for alert in tonight["new"]:
            lines.append(f"- new: {_md(alert['text'])}")
        for alert in tonight["resolved"]:
            lines.append(f"- resolved: {_md(alert['text'])}")
        if tonight["new"] or tonight["resolved"]:
            lines.append("")
    lines += [f"### Open alerts ({len(context['open_alerts'])})", ""]
    if context["open_alerts"]:
        header = [
            "kind",
            "series",
            "machine",
            "benchmark",
            "metric",
            "change",
            "95% CI",
            "p",
            "confidence",
            "first bad night",
            "last good night",
            "toolchain change",
        ]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join("---" for _ in header) + "|")
        for a in context["open_alerts"]:
            cells = [
                f"**{a['kind']}**",
                _md(a["series"]),
                _md(a["machine"]),
                f"`{_md(a['benchmark'])}`",
                f"`{_md(a['metric'])}`",
                a["change"],
                a["ci"],
                a["p"],
                a["confidence"],
                a["first_bad_night"],
                a["last_good_night"],
                _md(a["toolchain_change"]),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    else:
        lines.append("None.")
    lines += [
        "",
        "### Series",
        "",
        "| series | machine | nights | latest | go | patches | key |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in context["series"]:
        name = _md(s["name"]) + (" (A/A control)" if s["control"] else "")
        lines.append(
            f"| {name} | {_md(s['machine'])} | {s['n_nights']} | {s['last']} | {_md(s['go'])} | "
            f"{_md(s['patches'])} | `{s['key']}` |"
        )
    lines += ["", "Trend plots and every night's report: `index.html`.", ""]
    return "\n".join(lines)


def _md(text: str) -> str:
    return (
        str(text)
        .replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("`", "'")
    )


def _date_text(value) -> str:
    """A date column's value for display; None / NaN / NaT (not resolved yet) → ""."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    return str(as_date(value))


def _num(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
