"""matplotlib figures as inline SVG strings (trusted markup: only matplotlib writes it).

Figures are `matplotlib.figure.Figure` objects, never pyplot: no global figure state, no
GUI backend, safe to call from any thread. Text stays text (`svg.fonttype: none`) so the
SVG is small and readable; each figure gets its own `svg.hashsalt`, so the ids of clip
paths and markers of several inline SVGs in one page never collide and the output is the
same on every render. The XML prolog, DOCTYPE and the RDF metadata block (creation date,
URLs of RDF vocabularies) are stripped: the page must not mention anything it would load.

Every function returns None when there is nothing to draw; the page says "no data".
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from harness.parse import Bucket
from harness.report.derive import cdf_points
from harness.report.units import time_axis
from harness.report.verdicts import change, interval

_PALETTE = (
    "#1f77b4",  # baseline: blue
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
)
_RC = {
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_PANEL_W, _PANEL_H = 3.3, 2.4


def _log_ticks(axis) -> None:
    """Plain numbers (0.002, 0.05, 10) at 1-2-5 steps, or decades on a wide axis.

    matplotlib's default labels a narrow log axis with overlapping minor labels like
    "3×10⁻³"; people reading pause times want "0.003"."""
    low, high = sorted(axis.get_view_interval())
    decades = math.log10(high / low) if low > 0 and high > 0 else 0.0
    axis.set_major_locator(LogLocator(base=10, subs=(1.0,) if decades > 2.5 else (1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    axis.set_minor_formatter(NullFormatter())


def variant_colors(variants: Sequence[str]) -> dict[str, str]:
    return {v: _PALETTE[i % len(_PALETTE)] for i, v in enumerate(variants)}


def to_svg(fig: Figure, salt: str) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return _METADATA.sub("", _PROLOG.sub("", buf.getvalue()))


def _figure(n_panels: int, ncols: int) -> tuple[Figure, list]:
    ncols = max(1, min(ncols, n_panels))
    nrows = math.ceil(n_panels / ncols)
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(_PANEL_W * ncols, _PANEL_H * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel().tolist()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def _legend(fig: Figure, variants: Sequence[str], colors: Mapping[str, str]) -> None:
    handles = [
        matplotlib.lines.Line2D([], [], color=colors[v], marker="o", linewidth=2, label=v)
        for v in variants
    ]
    fig.legend(handles=handles, loc="outside upper center", ncols=len(handles), frameon=False)


def ns_op_strips(
    samples: pd.DataFrame,
    variants: Sequence[str],
    colors: Mapping[str, str],
    comparisons: pd.DataFrame,
) -> str | None:
    """ns/op of every process, one panel per benchmark: box, points and the change."""
    rows = samples[samples["metric"] == "ns/op"]
    if rows.empty:
        return None
    benchmarks = list(dict.fromkeys(rows["benchmark"].astype(str)))
    with matplotlib.rc_context(_RC):
        fig, axes = _figure(len(benchmarks), 4)
        rng = np.random.default_rng(0)  # jitter only; fixed so re-renders are identical
        for ax, benchmark in zip(axes, benchmarks, strict=True):
            mine = rows[rows["benchmark"] == benchmark]
            present = [v for v in variants if (mine["variant"] == v).any()]
            factor, label = time_axis(float(mine["value"].median()))
            data = [mine.loc[mine["variant"] == v, "value"].to_numpy() / factor for v in present]
            ax.boxplot(
                data,
                positions=range(len(present)),
                widths=0.5,
                showfliers=False,
                medianprops={"color": "black"},
                boxprops={"color": "#888888"},
                whiskerprops={"color": "#888888"},
                capprops={"color": "#888888"},
            )
            for i, (variant, values) in enumerate(zip(present, data, strict=True)):
                x = i + rng.uniform(-0.12, 0.12, len(values))
                ax.scatter(x, values, s=14, color=colors[variant], alpha=0.8, zorder=3)
            ax.set_xticks(range(len(present)), present)
            ax.set_ylabel(f"{label}/op")
            ax.set_title(_panel_title(benchmark, "ns/op", comparisons))
        _legend(fig, [v for v in variants if (rows["variant"] == v).any()], colors)
    return to_svg(fig, "ns-op")


def _panel_title(benchmark: str, metric: str, comparisons: pd.DataFrame) -> str:
    rows = comparisons[(comparisons["benchmark"] == benchmark) & (comparisons["metric"] == metric)]
    parts = [
        f"{row['candidate']}: {change(row['ratio'])} {interval(row['ci_low'], row['ci_high'])}"
        for _, row in rows.iterrows()
    ]
    return "\n".join([benchmark, *parts])


def stw_cdfs(
    gc_cycles: pd.DataFrame,
    column: str,
    variants: Sequence[str],
    colors: Mapping[str, str],
) -> str | None:
    """CDF (log x) of one gctrace STW phase per variant: all workloads, then each one."""
    rows = gc_cycles[~gc_cycles["forced"].astype(bool)]
    rows = rows[rows[column] > 0]  # gctrace rounds tiny pauses to 0; log x cannot show 0
    if rows.empty:
        return None
    workloads = list(dict.fromkeys(rows["workload"].astype(str)))
    panels = [("all workloads", rows)] if len(workloads) > 1 else []
    panels += [(w, rows[rows["workload"] == w]) for w in workloads]
    with matplotlib.rc_context(_RC):
        fig, axes = _figure(len(panels), 4)
        for ax, (title, mine) in zip(axes, panels, strict=True):
            for variant in variants:
                values = np.sort(mine.loc[mine["variant"] == variant, column].to_numpy())
                if len(values):
                    y = np.arange(1, len(values) + 1) / len(values)
                    ax.step(values, y, where="post", color=colors[variant], label=variant)
            ax.set_xscale("log")
            _log_ticks(ax.xaxis)
            ax.set_ylim(0, 1.02)
            ax.set_xlabel("ms (wall clock)")
            ax.set_ylabel("fraction of GC cycles")
            ax.set_title(f"{title} (n={len(mine)})")
        _legend(fig, [v for v in variants if (rows["variant"] == v).any()], colors)
    return to_svg(fig, f"stw-{column}")


def histogram_cdfs(
    pooled: Mapping[str, list[Bucket]],
    variants: Sequence[str],
    colors: Mapping[str, str],
    what: str,
) -> str | None:
    """CDF (log x) and tail CCDF (log-log) of pooled histograms, one line per variant."""
    curves = {v: cdf_points(pooled[v]) for v in variants if v in pooled}
    curves = {v: (x, y) for v, (x, y) in curves.items() if len(x)}
    if not curves:
        return None
    low = min(float(x[x > 0].min()) for x, _ in curves.values() if (x > 0).any())
    high = max(float(x.max()) for x, _ in curves.values())
    factor, label = time_axis(math.sqrt(low * high))  # the unit of the middle decade
    with matplotlib.rc_context(_RC):
        fig, (cdf, tail) = _figure(2, 2)
        fig.set_size_inches(2 * _PANEL_W * 1.35, _PANEL_H * 1.25)
        for variant, (x, y) in curves.items():
            keep = x > 0  # a [0, 1) ns bucket's low edge has no place on a log axis
            cdf.plot(x[keep] / factor, y[keep], color=colors[variant], label=variant)
            # 1 - F on a log axis: p99 is where the line crosses 1e-2, p99.9 at 1e-3.
            ccdf = 1.0 - y
            keep = keep & (ccdf > 0)
            tail.plot(x[keep] / factor, ccdf[keep], color=colors[variant], label=variant)
        cdf.set_xscale("log")
        cdf.set_ylim(0, 1.02)
        cdf.set_xlabel(label)
        cdf.set_ylabel("fraction ≤ x")
        cdf.set_title(f"{what}: CDF")
        tail.set_xscale("log")
        tail.set_yscale("log")
        tail.set_xlabel(label)
        tail.set_ylabel("fraction > x")
        tail.set_title(f"{what}: tail (1 − CDF)")
        for level in (1e-2, 1e-3):
            tail.axhline(level, color="#999999", linewidth=0.7, linestyle=":")
        for axis in (cdf.xaxis, tail.xaxis, tail.yaxis):
            _log_ticks(axis)
        _legend(fig, list(curves), colors)
    return to_svg(fig, f"hist-{what}")


def gc_behaviour(
    per_process: pd.DataFrame,
    overshoot: pd.DataFrame,
    variants: Sequence[str],
    colors: Mapping[str, str],
) -> str | None:
    """Per workload, variants side by side: GC cycles/s, GC CPU %, heap end ÷ goal."""
    if per_process.empty and overshoot.empty:
        return None
    frames = (per_process, per_process, overshoot)
    workloads = list(
        dict.fromkeys(pd.concat([f["workload"] for f in frames if not f.empty]).astype(str))
    )
    present = [v for v in variants if any((f["variant"] == v).any() for f in frames if not f.empty)]
    specs = (
        (per_process, "per_s", "GC cycles / s (per process)", False),
        (per_process, "gc_cpu_pct", "GC CPU % (per process, cumulative)", False),
        (overshoot, "overshoot", "heap end ÷ heap goal (per cycle)", True),
    )
    with matplotlib.rc_context(_RC):
        fig, axes = _figure(3, 3)
        fig.set_size_inches(max(10.0, 1.2 * len(workloads) * len(present) + 3), _PANEL_H + 0.8)
        rng = np.random.default_rng(0)
        width = 0.8 / max(1, len(present))
        for ax, (frame, column, title, as_box) in zip(axes, specs, strict=True):
            for j, variant in enumerate(present):
                for i, workload in enumerate(workloads):
                    if frame.empty:
                        continue
                    mine = frame[(frame["variant"] == variant) & (frame["workload"] == workload)]
                    values = mine[column].dropna().to_numpy(dtype=float)
                    if not len(values):
                        continue
                    x = i - 0.4 + width * (j + 0.5)
                    if as_box:
                        ax.boxplot(
                            [values],
                            positions=[x],
                            widths=width * 0.8,
                            showfliers=True,
                            flierprops={"markersize": 2, "markeredgecolor": colors[variant]},
                            boxprops={"color": colors[variant]},
                            medianprops={"color": colors[variant]},
                            whiskerprops={"color": colors[variant]},
                            capprops={"color": colors[variant]},
                        )
                    else:
                        jitter = rng.uniform(-width / 4, width / 4, len(values))
                        ax.scatter(x + jitter, values, s=14, color=colors[variant], alpha=0.8)
            if column == "overshoot":
                ax.axhline(1.0, color="#999999", linewidth=0.8, linestyle="--")
            ax.set_xticks(range(len(workloads)), workloads, rotation=20, ha="right")
            ax.set_xlim(-0.6, len(workloads) - 0.4)
            ax.set_title(title)
        _legend(fig, present, colors)
    return to_svg(fig, "gc-behaviour")


def gomaxprocs_ratios(frame: pd.DataFrame) -> str | None:
    """One panel per metric: ratio (candidate ÷ baseline) against GOMAXPROCS, a line per
    benchmark and candidate, the CI as error bars (report/mechanism.gomaxprocs_frame)."""
    if frame.empty:
        return None
    metrics = list(pd.unique(frame["metric"]))
    fig, axes = _figure(len(metrics), min(3, len(metrics)))
    for ax, metric in zip(axes, metrics, strict=False):
        part = frame[frame["metric"] == metric]
        for (name, cand), line in part.groupby(["name", "candidate"], sort=False):
            line = line.sort_values("procs")
            ratio = line["ratio"].to_numpy(dtype=float)
            low = ratio - line["ci_low"].to_numpy(dtype=float)
            high = line["ci_high"].to_numpy(dtype=float) - ratio
            ax.errorbar(
                line["procs"],
                ratio,
                yerr=np.vstack([np.nan_to_num(low), np.nan_to_num(high)]),
                marker="o",
                capsize=2,
                label=f"{name} ({cand})",
            )
        ax.axhline(1.0, color="#888", linestyle="--", linewidth=0.8)
        ax.set_title(metric)
        ax.set_xlabel("GOMAXPROCS")
        ax.set_ylabel("candidate ÷ baseline")
        ax.set_xticks(sorted(pd.unique(part["procs"])))
        ax.legend(fontsize=6)
    return to_svg(fig, "gomaxprocs")
