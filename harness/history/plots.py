"""Trend plots: per series and metric, the per-night median of the processes with the
interquartile band of the processes, toolchain changes and alerts marked.

Inline SVG through harness/report's `to_svg` (text as text, no metadata, salted ids), so
several figures share one page without id collisions and nothing is fetched.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import matplotlib
import matplotlib.dates as mdates
import pandas as pd
from matplotlib.figure import Figure

from harness.report import ns_per_unit, time_axis, to_svg

STYLE = {
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
LINE = "#1f77b4"
BAND = "#1f77b4"
REGRESSION = "#b3261e"
IMPROVEMENT = "#17723a"
TOOLCHAIN = "#8a8f98"
PANEL_W, PANEL_H = 3.4, 2.3


def _scale(unit: str, medians: pd.Series) -> tuple[float, str]:
    """Divide by factor, label the axis: time units in a readable unit, others as is."""
    per_ns = ns_per_unit(unit)
    if per_ns is None:
        return 1.0, unit
    typical = float(medians.abs().median()) * per_ns if len(medians) else math.nan
    factor, label = time_axis(typical)
    suffix = "/op" if unit.endswith("/op") else ""
    return factor / per_ns, f"{label}{suffix}"


def trend_figure(
    medians: pd.DataFrame,
    *,
    title: str,
    metrics: Sequence[str],
    alerts: pd.DataFrame,
    toolchain_nights: Sequence[dt.date],
    salt: str,
    ncols: int = 4,
) -> str | None:
    """One panel per metric × benchmark of `medians` (rows of detect.night_medians for one
    series): median line, q1–q3 band, dotted grey lines where the toolchain changed, red
    (regression) / green (improvement) lines and markers at alerts' first bad nights."""
    medians = medians[medians["metric"].isin(list(metrics))]
    if medians.empty:
        return None
    order = {m: i for i, m in enumerate(metrics)}
    panels = sorted(
        dict.fromkeys(
            zip(medians["metric"], medians["workload"], medians["benchmark"], strict=True)
        ),
        key=lambda p: order[p[0]],
    )
    # One x range for every panel: the nights shown, half a day of margin each side.
    shown = pd.to_datetime(pd.Series(sorted({str(n) for n in medians["night"]})))
    xlim = (shown.min() - pd.Timedelta(hours=12), shown.max() + pd.Timedelta(hours=12))
    days = max(1, math.ceil(((shown.max() - shown.min()).days + 1) / 5))
    ncols = max(1, min(ncols, len(panels)))
    nrows = math.ceil(len(panels) / ncols)
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(PANEL_W * ncols, PANEL_H * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        for ax, (metric, workload, benchmark) in zip(axes, panels, strict=False):
            rows = medians[
                (medians["metric"] == metric)
                & (medians["workload"] == workload)
                & (medians["benchmark"] == benchmark)
            ]
            rows = rows.sort_values("night")
            factor, label = _scale(str(rows["unit"].iloc[0]), rows["median"])
            x = pd.to_datetime(pd.Series([str(n) for n in rows["night"]]))
            ax.fill_between(
                x, rows["q1"] / factor, rows["q3"] / factor, color=BAND, alpha=0.18, linewidth=0
            )
            ax.plot(x, rows["median"] / factor, color=LINE, marker="o", markersize=3, linewidth=1.4)
            for night in toolchain_nights:
                ax.axvline(pd.Timestamp(str(night)), color=TOOLCHAIN, linestyle=":", linewidth=1)
            mine = alerts[
                (alerts["workload"] == workload)
                & (alerts["benchmark"] == benchmark)
                & (alerts["metric"] == metric)
            ]
            for _, alert in mine.iterrows():
                color = REGRESSION if alert["kind"] == "regression" else IMPROVEMENT
                style = "-" if alert["status"] == "open" else "--"
                when = pd.Timestamp(str(alert["first_bad_night"]))
                ax.axvline(when, color=color, linestyle=style, linewidth=1.6)
                at = rows[[str(n) == str(alert["first_bad_night"]) for n in rows["night"]]]
                if not at.empty:
                    ax.plot(
                        [when],
                        [float(at["median"].iloc[0]) / factor],
                        marker="v" if alert["kind"] == "improvement" else "^",
                        color=color,
                        markersize=8,
                        linestyle="none",
                    )
            ax.set_title(f"{benchmark}\n{metric}" if len(metrics) > 1 else benchmark)
            ax.set_ylabel(label)
            ax.set_ylim(bottom=0)
            ax.set_xlim(*xlim)
            locator = mdates.DayLocator(interval=days)  # whole nights, never hours
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
        fig.suptitle(title, fontsize=10, fontweight="bold")
    return to_svg(fig, salt)
