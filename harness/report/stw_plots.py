"""Figures of the "Latency around STW" and schedtrace blocks (inline SVG, see plots.py).

The scatter of goroutines is rasterized inside the SVG (an inline `data:` PNG, which the
page's policy allows): thousands of points as vector paths would make the page heavy.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd

from harness.report.plots import _RC, _figure, _legend, _log_ticks, to_svg
from harness.report.stw_views import sched_process

MAX_POINTS = 3000  # per variant and panel; the slowest 1 % are always kept


def latency_since_stw(
    trace_goroutines: pd.DataFrame,
    variants: Sequence[str],
    colors: Mapping[str, str],
    after_stw_us: float,
) -> str | None:
    """Start latency (log y) against time since the last GC STW restart (log x), one
    panel per STW kind, with the binned p99 per variant as a line."""
    rows = trace_goroutines[
        trace_goroutines["latency_ns"].notna() & trace_goroutines["since_stw_us"].notna()
    ]
    if rows.empty:
        return None
    panels = [
        ("sweep-term", "after sweep termination (mark phase)"),
        ("mark-term", "after mark termination"),
    ]
    panels = [(k, t) for k, t in panels if (rows["stw_kind"] == k).any()]
    rng = np.random.default_rng(0)
    with matplotlib.rc_context(_RC):
        fig, axes = _figure(len(panels), 2)
        fig.set_size_inches(2 * 3.3 * 1.35, 2.4 * 1.3)
        for ax, (kind, title) in zip(axes, panels, strict=True):
            mine = rows[rows["stw_kind"] == kind]
            x_all = np.clip(mine["since_stw_us"].to_numpy(dtype=float), 0.1, None)
            lo, hi = float(x_all.min()), float(x_all.max()) * 1.5
            edges = np.logspace(math.log10(lo), math.log10(max(hi, lo * 10)), 25)
            for variant in variants:
                v = mine[mine["variant"] == variant]
                if v.empty:
                    continue
                x = np.clip(v["since_stw_us"].to_numpy(dtype=float), 0.1, None)
                y = v["latency_ns"].to_numpy(dtype=float) / 1e3
                keep = _subsample(y, rng)
                ax.scatter(
                    x[keep],
                    np.clip(y[keep], 0.01, None),
                    s=4,
                    alpha=0.35,
                    color=colors[variant],
                    linewidths=0,
                    rasterized=True,
                )
                centers, p99 = _binned_p99(x, y, edges)
                ax.plot(centers, p99, color=colors[variant], linewidth=1.6, marker=".")
            ax.axvline(after_stw_us, color="#999999", linewidth=0.8, linestyle="--")
            ax.set_xscale("log")
            ax.set_yscale("log")
            _log_ticks(ax.xaxis)
            _log_ticks(ax.yaxis)
            ax.set_xlabel("µs since the STW ended (creation time)")
            ax.set_ylabel("start latency, µs")
            ax.set_title(f"{title} (n={len(mine)})")
        _legend(fig, [v for v in variants if (rows["variant"] == v).any()], colors)
    return to_svg(fig, "latency-since-stw")


def _subsample(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if len(y) <= MAX_POINTS:
        return np.arange(len(y))
    # The slowest 1 % always, but never more than half the points: with many processes
    # (several probe scenarios) 1 % alone can exceed MAX_POINTS.
    top = np.argsort(y)[-min(max(1, len(y) // 100), MAX_POINTS // 2) :]
    rest = np.setdiff1d(np.arange(len(y)), top)
    chosen = rng.choice(rest, size=MAX_POINTS - len(top), replace=False)
    return np.sort(np.concatenate([top, chosen]))


def _binned_p99(x: np.ndarray, y: np.ndarray, edges: np.ndarray):
    """p99 per log bin with ≥ 5 goroutines; NaN where a bin has fewer, so the line
    breaks at gaps instead of drawing a slope nothing was measured on."""
    centers, values = [], []
    for lo, hi in itertools.pairwise(edges):
        inside = y[(x >= lo) & (x < hi)]
        centers.append(math.sqrt(lo * hi))
        values.append(float(np.percentile(inside, 99)) if len(inside) >= 5 else math.nan)
    return centers, values


def schedtrace_series(
    sched: pd.DataFrame,
    gc_cycles: pd.DataFrame,
    variants: Sequence[str],
    colors: Mapping[str, str],
) -> tuple[str | None, list[str]]:
    """One panel per variant: idle Ps, global runqueue and each P's local run queue over
    time (one process each), GC cycles shaded. Returns (svg, the processes shown)."""
    chosen = [(v, sched_process(sched, gc_cycles, v)) for v in variants]
    chosen = [(v, c) for v, c in chosen if c is not None]
    if not chosen:
        return None, []
    shown = []
    with matplotlib.rc_context(_RC):
        fig, axes = _figure(len(chosen), 2)
        fig.set_size_inches(2 * 3.3 * 1.35, 2.6 * math.ceil(len(chosen) / 2))
        for ax, (variant, (workload, rep, rows, gc)) in zip(axes, chosen, strict=True):
            shown.append(f"{variant}: {workload} rep {rep}")
            for _, cycle in gc.iterrows():
                start = float(cycle["at_s"]) * 1e3
                length = float(
                    cycle["stw_sweep_term_ms"]
                    + cycle["concurrent_mark_ms"]
                    + cycle["stw_mark_term_ms"]
                )
                ax.axvspan(start, start + max(length, 0.2), color="#f4a261", alpha=0.25, lw=0)
            summary = rows[rows["p"].isna()].sort_values("t_ms")
            ax.step(
                summary["t_ms"],
                summary["idleprocs"],
                where="post",
                color="#444444",
                label="idle Ps",
            )
            ax.step(
                summary["t_ms"],
                summary["runqueue"],
                where="post",
                color=colors[variant],
                linewidth=1.6,
                label="global runq",
            )
            per_p = rows[rows["p"].notna()]
            for p, mine in per_p.groupby("p"):
                mine = mine.sort_values("t_ms")
                ax.step(
                    mine["t_ms"],
                    mine["p_runqsize"].astype(float),
                    where="post",
                    linestyle=":",
                    linewidth=1.0,
                    label=f"P{int(p)} runq",
                )
            ax.set_xlabel("ms since process start")
            ax.set_ylabel("goroutines / Ps")
            ax.set_title(f"{variant} · {workload} rep {rep} · {len(gc)} GC cycles (shaded)")
            ax.legend(loc="upper right", frameon=False, fontsize=7)
    return to_svg(fig, "schedtrace"), shown
