"""A sweep's pages: sweep.json (the SweepResult, versioned), sweep.md (to paste into a
review) and sweep.html (self-contained: inline CSS and the Pareto plot as inline SVG).
The run's own report.html, beside them, holds every verdict row of every variant."""

from __future__ import annotations

import math
from pathlib import Path

import jinja2
import matplotlib
from markupsafe import Markup
from matplotlib.figure import Figure

from harness.files import atomic_write_json, atomic_write_text
from harness.report import page_guard, to_svg
from harness.rundir import layout
from harness.sweep.plan import BASELINE
from harness.sweep.summary import Candidate, Ratio, SweepResult


def _pct(r: Ratio) -> str:
    if r.ratio is None:
        return "n/a"
    ci = ""
    if r.ci_low is not None and r.ci_high is not None:
        ci = f" [{(r.ci_low - 1) * 100:+.1f}, {(r.ci_high - 1) * 100:+.1f}]"
    return f"{(r.ratio - 1) * 100:+.1f} %{ci}"


def _kept(c: Candidate) -> str:
    return "n/a" if c.kept is None else f"{c.kept * 100:.0f} %"


def pareto_svg(result: SweepResult) -> str | None:
    """Gain (mark-phase p99 ratio, log axis) against cost (ns/op ratio), 95 % CI bars;
    the front joined by a line; the knobs-off control as a grey square."""
    drawn = [c for c in result.points if c.gain.ratio and c.cost.ratio]
    if not drawn:
        return None
    with matplotlib.rc_context({"font.size": 9}):
        fig = Figure(figsize=(7.5, 4.8), layout="constrained")
        ax = fig.subplots()
    ax.axhline(1.0, color="#999", linewidth=0.8)
    ax.axvline(1.0, color="#999", linewidth=0.8)
    ax.plot([1.0], [1.0], marker="o", color="#1f77b4", linestyle="none")
    ax.annotate(BASELINE, (1.0, 1.0), textcoords="offset points", xytext=(5, 5))
    control = result.control
    if control.gain.ratio and control.cost.ratio:
        ax.plot(
            [control.gain.ratio], [control.cost.ratio], marker="s", color="#888", linestyle="none"
        )
        ax.annotate(
            control.name,
            (control.gain.ratio, control.cost.ratio),
            textcoords="offset points",
            xytext=(5, -12),
            color="#666",
        )
    for c in drawn:
        x, y = c.gain.ratio, c.cost.ratio
        assert x is not None and y is not None
        xerr = [[x - (c.gain.ci_low or x)], [(c.gain.ci_high or x) - x]]
        yerr = [[y - (c.cost.ci_low or y)], [(c.cost.ci_high or y) - y]]
        color = "#d62728" if c.on_front else "#ff7f0e"
        ax.errorbar([x], [y], xerr=xerr, yerr=yerr, fmt="o", color=color, capsize=3)
        ax.annotate(c.name, (x, y), textcoords="offset points", xytext=(5, 5))
    coords = {BASELINE: (1.0, 1.0), **{c.name: (c.gain.ratio, c.cost.ratio) for c in drawn}}
    front = sorted((coords[n] for n in result.front if n in coords), key=lambda p: p[0])
    if len(front) > 1:
        ax.plot(
            [p[0] for p in front],
            [p[1] for p in front],
            color="#d62728",
            linewidth=1,
            linestyle="--",
            label="Pareto front",
        )
        ax.legend(loc="best", frameon=False)
    ax.set_xscale("log")
    ax.set_xlabel("gain: mark-phase start latency p99, ratio to baseline (left is better)")
    ax.set_ylabel("cost: ns/op geomean ratio (down is better)")
    ax.grid(True, which="both", alpha=0.25)
    return to_svg(fig, f"pareto-{result.run_id}")


def _table_rows(result: SweepResult) -> list[list[str]]:
    rows = []
    for c in [result.control, *result.points]:
        rows.append(
            [
                c.name + (" ★" if c.on_front else ""),
                c.godebug or "(knobs off)",
                _pct(c.gain),
                _pct(c.after_sweep),
                _pct(c.cost),
                _pct(c.gc_cpu),
                _pct(c.mark_duration),
                ", ".join(f"{v} {k}" for k, v in sorted(c.ns_op_verdicts.items())) or "n/a",
                _kept(c) if c.name != result.control.name else "",
                ("yes" if c.meets else "no") if c.name != result.control.name else "",
            ]
        )
    return rows


HEADER = [
    "variant (★ on the front)",
    "GODEBUG",
    "gain: mark p99",
    "after-sweep-term p99",
    "cost: ns/op",
    "GC CPU",
    "mark duration",
    "ns/op verdicts",
    "gain kept",
    "meets",
]


def _scenario_rows(result: SweepResult) -> list[list[str]]:
    rows = []
    for c in result.points:
        for scenario, phases in c.scenarios.items():
            rows.append(
                [c.name, scenario]
                + [
                    f"{_pct(phases[p])} {phases[p].verdict}".strip()
                    for p in ("mark", "after-sweep-term")
                ]
            )
    return rows


def _markdown(result: SweepResult) -> str:
    lines = [f"# Sweep {result.run_id}", "", f"**Answer.** {result.answer}", ""]
    iso = result.isolation
    lines += [
        f"**Knob isolation** (knobs-off vs baseline, headline rows): {iso.same} of {iso.rows} "
        f"`same`" + (" — established." if iso.established else " — not established."),
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    lines += ["| " + " | ".join(r) + " |" for r in _table_rows(result)]
    lines += [
        "",
        f"Pareto front: {', '.join(result.front)}. Ratios are candidate / baseline "
        "(geometric means over scenarios or workloads, paired by block, 95 % CI). "
        "Gain kept = (1 − r) / (1 − r_reference), r the mark-phase p99 ratio; reference "
        f"{result.reference}.",
        "",
    ]
    if iso.not_same:
        lines += ["Knobs-off rows not shown `same`:", ""] + [f"- {t}" for t in iso.not_same]
    return "\n".join(lines) + "\n"


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness.sweep", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def _html(result: SweepResult, svg: str | None) -> str:
    return _ENV.get_template("sweep.html.j2").render(
        r=result,
        svg=Markup(svg) if svg else None,  # matplotlib's SVG (trusted, see harness.report)
        header=HEADER,
        rows=_table_rows(result),
        scenario_rows=_scenario_rows(result),
        page_guard=page_guard(),
    )


def write_sweep_report(run_dir: Path, result: SweepResult) -> dict[str, Path]:
    paths = {
        name: run_dir / name for name in (layout.SWEEP_JSON, layout.SWEEP_MD, layout.SWEEP_HTML)
    }
    atomic_write_json(paths[layout.SWEEP_JSON], _strict(result.to_json()))
    atomic_write_text(paths[layout.SWEEP_MD], _markdown(result))
    atomic_write_text(paths[layout.SWEEP_HTML], _html(result, pareto_svg(result)))
    return paths


def _strict(data):
    """JSON has no NaN: None instead."""
    if isinstance(data, dict):
        return {k: _strict(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_strict(v) for v in data]
    if isinstance(data, float) and not math.isfinite(data):
        return None
    return data
