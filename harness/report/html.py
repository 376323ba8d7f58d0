"""report.html: one self-contained page (inline CSS and SVG, no network) from jinja2.

Autoescaping is on for the whole template: benchmark and variant names, patch text and
log lines are data from processes and files and are always escaped. The only markup
passed through is the SVG the plots module made with matplotlib, wrapped in `Markup`
here, in one place.
"""

from __future__ import annotations

import math

import jinja2
import pandas as pd
from markupsafe import Markup

from harness.metrics import METRICS
from harness.numbers import is_finite
from harness.report import derive, mechanism, plots, provenance, stw_plots, stw_views
from harness.report.aa import aa_view
from harness.report.inputs import ReportInputs
from harness.report.machines import machines_view
from harness.report.run_quality import precision_view
from harness.report.units import format_value
from harness.report.verdicts import LEGEND, family_counts, margin_text, ordered, pairs, row_views
from harness.rundir import Machine, Manifest

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness.report", "templates"),
    autoescape=True,  # the template is HTML whatever its file name ends with
    undefined=jinja2.StrictUndefined,  # a typo in the template fails the render, loudly
    trim_blocks=True,
    lstrip_blocks=True,
)


def page_guard() -> Markup:
    """The <head> lines every stwbench page starts with: the policy that blocks any load
    and the script that records errors for the browser tests (one copy, shared by the
    trend and sweep pages)."""
    assert _ENV.loader is not None
    source, _, _ = _ENV.loader.get_source(_ENV, "_page_guard.html.j2")
    return Markup(source)


def render_html(inputs: ReportInputs, *, pyperf_omitted: list[str] | None = None) -> str:
    return _ENV.get_template("report.html.j2").render(
        **context(inputs), pyperf_omitted=pyperf_omitted or []
    )


def context(inputs: ReportInputs) -> dict:
    frames = inputs.frames
    variants = inputs.variants
    colors = plots.variant_colors(variants)
    comparisons = inputs.main_comparisons
    gc = frames["gc_cycles"]
    latency = frames["latency"]
    stw_hist, stw_sources = derive.stw_pooled(latency)
    # The CDF shows one scenario (the sleep probe when it ran): pooling scenarios whose
    # creators behave differently would mix distributions; the scenarios table has each.
    probe_workload = _first_probe(latency)
    probe = derive.pooled(latency[latency["workload"] == probe_workload], derive.PROBE_SOURCE)
    per_process = derive.gc_per_process(gc, inputs.manifest)
    overshoot = derive.heap_overshoot(gc)
    manifest = inputs.manifest
    return {
        "run_id": inputs.run_id,
        "manifest": manifest,
        "pairs": pairs(comparisons) if not comparisons.empty else [],
        "baseline": inputs.baseline,
        "variants": [{"name": v, "color": colors[v]} for v in variants],
        "facts": _facts(inputs),
        "family_counts": family_counts(comparisons),
        "rows": row_views(ordered(comparisons)),
        "legend": LEGEND,
        "equivalence_note": equivalence_note(manifest),
        "multi_candidate": len(pairs(comparisons)) > 1 if not comparisons.empty else False,
        "ns_op_svg": _safe(plots.ns_op_strips(frames["samples"], variants, colors, comparisons)),
        "stw_sweep_svg": _safe(plots.stw_cdfs(gc, "stw_sweep_term_ms", variants, colors)),
        "stw_mark_svg": _safe(plots.stw_cdfs(gc, "stw_mark_term_ms", variants, colors)),
        "forced_cycles": int(gc["forced"].astype(bool).sum()) if not gc.empty else 0,
        "stw_hist_svg": _safe(plots.histogram_cdfs(stw_hist, variants, colors, "GC STW pauses")),
        "stw_hist_table": _quantile_rows(stw_hist, variants, stw_sources),
        "probe_svg": _safe(plots.histogram_cdfs(probe, variants, colors, "goroutine start")),
        "probe_table": _quantile_rows(probe, variants, {}),
        "probe_workload": probe_workload,
        "gc_svg": _safe(plots.gc_behaviour(per_process, overshoot, variants, colors)),
        "gc_table": _gc_rows(derive.gc_summary(per_process, overshoot, variants)),
        "perf_tables": _perf_tables(frames["perf_symbols"], variants),
        **_stw_context(inputs, colors),
        "toolchains": provenance.toolchain_rows(manifest),
        "patches": provenance.patch_views(manifest, inputs.run_dir),
        "machine": provenance.machine_rows(manifest),
        "run_facts": provenance.run_rows(manifest),
        "order": provenance.order_rows(manifest),
        "failures": provenance.failure_rows(manifest),
        "warnings": provenance.warning_rows(inputs.warnings),
        "aa": aa_view(inputs),
        "precision": precision_view(manifest, comparisons),
        "machines": machines_view(inputs.machines, manifest),
        **_mechanism_context(inputs),
    }


def _shown_scenario(workloads) -> str:
    """The one probe scenario a plot shows (plotting several creators together would mix
    their distributions): the sleep probe when it ran, else the first."""
    names = [str(w) for w in pd.unique(pd.Series(workloads, dtype=object))]
    return "probe" if "probe" in names else (names[0] if names else "")


def _one_scenario(goroutines: pd.DataFrame) -> pd.DataFrame:
    """The traced goroutines of the shown scenario."""
    if "workload" not in goroutines or goroutines["workload"].nunique() <= 1:
        return goroutines
    return goroutines[goroutines["workload"] == _shown_scenario(goroutines["workload"])]


def _first_probe(latency: pd.DataFrame) -> str:
    return _shown_scenario(latency.loc[latency["source"] == derive.PROBE_SOURCE, "workload"])


def _mechanism_context(inputs: ReportInputs) -> dict:
    """Checks, probe scenarios, GC costs, STW stopping/stopped, the GOMAXPROCS sweep."""
    comparisons = inputs.main_comparisons
    by_procs = mechanism.gomaxprocs_frame(comparisons, list(inputs.manifest.options.gomaxprocs))
    return {
        "checks": mechanism.check_lines(inputs.checks),
        "scenarios": mechanism.scenario_rows(inputs.frames, comparisons, inputs.variants),
        "cost_metrics": [label for _, label in mechanism.COST_METRICS],
        "cost_rows": mechanism.cost_rows(comparisons),
        "stopping_rows": mechanism.stopping_rows(
            inputs.frames["samples"], comparisons, inputs.variants
        ),
        "gomaxprocs_rows": mechanism.gomaxprocs_rows(by_procs),
        "gomaxprocs_svg": _safe(plots.gomaxprocs_ratios(by_procs)),
    }


def equivalence_note(manifest: Manifest) -> str:
    """Where the `same` margins come from: --equivalence, or each kind's default."""
    given = manifest.options.equivalence
    if given is not None and math.isfinite(given):
        return f"this run: --equivalence {margin_text(given)} for every row"
    kinds: dict[str, list[float]] = {}
    for metric in METRICS:
        kinds.setdefault(metric.kind, [])
        if metric.equivalence not in kinds[metric.kind]:
            kinds[metric.kind].append(metric.equivalence)
    parts = []
    for kind, margins in kinds.items():
        low, high = min(margins), max(margins)
        text = margin_text(low) if low == high else f"±{low * 100:g}–{high * 100:g} %"
        parts.append(f"{kind} {text}")
    return "defaults per kind of metric (harness/metrics.py): " + ", ".join(parts)


def _stw_context(inputs: ReportInputs, colors: dict[str, str]) -> dict:
    """The "Latency around STW", schedtrace, perf-diff and claims blocks (the claims only
    when the run asked for them: `options.claims`; None leaves the section out)."""
    frames, variants, baseline = inputs.frames, inputs.variants, inputs.baseline
    options = inputs.manifest.options
    after_us = options.trace_after_stw_us
    phases = stw_views.phase_table(frames["latency"], variants)
    shares = stw_views.phase_share(phases)
    sched_svg, sched_shown = stw_plots.schedtrace_series(
        frames["sched"], frames["gc_cycles"], variants, colors
    )
    return {
        "trace_requested": options.trace,
        "trace_after_us": f"{after_us:g}",
        "trace_notes": [
            w for w in inputs.warnings if w.get("parser") == "trace" and w.get("examples")
        ],
        "phase_rows": [
            {
                "workload": r["workload"],
                "variant": r["variant"],
                "phase": r["phase"],
                "n": f"{int(r['n'])}",
                "share": _pct(shares.get((r["workload"], r["variant"], r["phase"]))),
                **{name: format_value(r[name], "ns") for name, _ in derive.QUANTILES},
            }
            for r in phases
        ],
        "phase_verdicts": row_views(stw_views.phase_comparisons(inputs.main_comparisons)),
        "since_stw_svg": _safe(
            stw_plots.latency_since_stw(
                _one_scenario(frames["trace_goroutines"]), variants, colors, after_us
            )
        ),
        "after_stw_rows": [
            {
                "variant": r["variant"],
                "kind": r["kind"],
                "n": str(r["n"]),
                "windows": str(r["stw_windows"]),
                "shares": ", ".join(f"{k} {_pct(v)}" for k, v in r["shares"].items()),
                "modes": ", ".join(f"{k} {v}" for k, v in r["worker_modes"].items()) or "–",
                "delay_p50": format_value(r["delay_p50_us"] * 1e3, "ns"),
                "delay_p99": format_value(r["delay_p99_us"] * 1e3, "ns"),
            }
            for r in stw_views.after_stw_table(frames["trace_stw"], variants)
        ],
        "sched_svg": _safe(sched_svg),
        "sched_shown": sched_shown,
        "perf_diff": _perf_diff_views(
            stw_views.perf_diff(frames["perf_stacks"], variants, baseline)
        ),
        "switch_rates": [
            {
                **r,
                "rate_median": f"{r['rate_median']:,.0f}",
                "rate_range": f"{r['rate_min']:,.0f}–{r['rate_max']:,.0f}",
            }
            for r in stw_views.switch_rates(frames["perf_stacks"], variants)
        ],
        "claims": inputs.claims,
    }


def _perf_diff_views(tables: list[dict]) -> list[dict]:
    views = []
    for t in tables:
        rows = []
        for r in t["rows"]:
            rows.append(
                {
                    "symbol": r["symbol"],
                    "values": [
                        f"{_num(r['values'][v][0], '.2f')} / {_num(r['values'][v][1], '.2f')}"
                        for v in t["variants"]
                    ],
                    "diffs": [_signed(r["diffs"].get(c)) for c in t["candidates"]],
                }
            )
        views.append({**t, "rows": rows, "samples": [t["samples"][v] for v in t["variants"]]})
    return views


def _pct(value) -> str:
    return f"{value:.0%}" if is_finite(value) else "–"


def _signed(value) -> str:
    return f"{value:+.2f}" if is_finite(value) else "–"


def _safe(svg: str | None) -> Markup | None:
    # matplotlib wrote it from numbers and our own labels; names in it are XML-escaped
    # by matplotlib's SVG writer, so it is trusted markup, not data.
    return None if svg is None else Markup(svg)


def _facts(inputs: ReportInputs) -> list[tuple[str, str]]:
    m = inputs.manifest
    failed = sum(1 for p in m.processes.values() if p.status != "ok")
    versions = sorted({t.go_version for t in m.toolchains.values()})
    modes = sorted({v.mode for v in m.variants})
    facts = [
        ("created", m.created_at or "–"),
        ("go", ", ".join(versions) or "–"),
        ("mode", ", ".join(modes) or "–"),
        ("reps", str(m.options.reps)),
        ("GOMAXPROCS", ", ".join(str(p) for p in m.options.gomaxprocs) or "–"),
        ("processes", f"{len(m.order or m.processes)} ({failed} not ok)"),
        ("machine", _machine_line(m.machine)),
    ]
    return facts


def _machine_line(machine: Machine | None) -> str:
    if machine is None:
        return "–"
    cores = machine.cores if machine.cores is not None else "?"
    parts = [machine.cpu_model or "", f"{cores} cores"]
    if machine.kernel:
        parts.append(f"Linux {machine.kernel}")
    return ", ".join(p for p in parts if p)


def _quantile_rows(
    pooled: dict[str, list], variants: list[str], sources: dict[str, str]
) -> list[dict]:
    rows = []
    for variant in variants:
        if variant not in pooled:
            continue
        q = derive.quantiles(pooled[variant])
        rows.append(
            {
                "variant": variant,
                "source": sources.get(variant, ""),
                "n": f"{int(q['n'])}",
                **{name: format_value(q[name], "ns") for name, _ in derive.QUANTILES},
            }
        )
    return rows


def _gc_rows(rows: list[dict]) -> list[dict]:
    return [
        {
            "workload": r["workload"],
            "variant": r["variant"],
            "processes": str(r["processes"]),
            "per_s": _num(r["per_s"], ".1f"),
            "gc_cpu_pct": _num(r["gc_cpu_pct"], ".0f") + " %",
            "overshoot_p50": _num(r["overshoot_p50"], ".2f"),
            "overshoot_max": _num(r["overshoot_max"], ".2f"),
        }
        for r in rows
    ]


def _perf_tables(perf: pd.DataFrame, variants: list[str], top: int = 12) -> list[dict]:
    """Per (workload, event): the symbols with the most self time, mean % per variant."""
    if perf.empty:
        return []
    tables = []
    perf = perf.assign(event=perf["event"].fillna("").astype(str))
    for (workload, event), rows in perf.groupby(["workload", "event"], sort=False):
        # Mean over processes, counting a process where the symbol did not show up as 0 %.
        processes = rows.groupby("variant")[["rep", "gomaxprocs"]].apply(
            lambda g: len(g.drop_duplicates())
        )
        sums = rows.groupby(["symbol", "variant"])["overhead_pct"].sum().unstack(fill_value=0.0)
        present = [v for v in variants if v in sums.columns]
        means = sums[present].div([processes[v] for v in present], axis="columns")
        means = means.loc[means.max(axis="columns").sort_values(ascending=False).index[:top]]
        if len(means) < 2:
            continue  # e.g. sched:sched_switch self time is all __schedule: says nothing
        tables.append(
            {
                "title": f"{workload} · {event or 'event?'}",
                "variants": present,
                "rows": [
                    {
                        "symbol": str(symbol),
                        "values": [f"{means.at[symbol, v]:.2f}" for v in present],
                    }
                    for symbol in means.index
                ],
            }
        )
    return tables


def _num(value: float, spec: str) -> str:
    return format(value, spec) if isinstance(value, float | int) and math.isfinite(value) else "–"
