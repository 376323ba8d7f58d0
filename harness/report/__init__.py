"""harness/report: a run's tables and comparisons as files people and tools read.

    paths = render_report(run_dir, comparisons)   # tables and manifest read from run_dir
    print(headline(comparisons))                  # one or two lines for the console

writes into run_dir:

- report.html     self-contained page (inline CSS and SVG, nothing fetched): verdict
                  counts per candidate and family, the verdicts table with its legend,
                  ns/op per process, STW pause and goroutine start latency CDFs, GC
                  behaviour, toolchain provenance with patch diffs, machine, run precision
                  and noise (adaptive reps, noise guard, isolation), run order, failures,
                  parse warnings, the A/A calibration when the run has an A/A arm,
                  and the article's claims when the run asked for them (options.claims);
- summary.md      verdict counts per family, the A/A calibration, the headline rows and
                  the other flagged ones, the legend: to paste into a PR;
- summary.json    the comparisons and a digest of the manifest (strict JSON, NaN -> null),
                  "aa", "checks", and "claims" (only with options.claims, as the page);
- bench.txt       Go benchmark format keyed by `toolchain:`, for `benchstat -col toolchain`;
- pyperf.json     the baseline's pyperf suite; pyperf-<variant>.json for every variant,
                  for `python -m pyperf compare_to pyperf.json pyperf-<candidate>.json`.

The comparisons table comes from harness/stats; this package never computes statistics,
it only orders, formats and draws.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.metrics import AA_FAMILY, is_headline
from harness.report.benchfmt import write_bench
from harness.report.html import page_guard, render_html
from harness.report.inputs import load_inputs, normalize_comparisons
from harness.report.machines import Machines
from harness.report.plots import to_svg
from harness.report.pyperf_json import write_pyperf
from harness.report.summary import write_summaries
from harness.report.units import format_value, ns_per_unit, time_axis
from harness.report.verdicts import (
    change,
    counts_text,
    family_counts_text,
    family_of,
    interval,
    one_line,
    ordered,
    pairs,
    pvalue,
)
from harness.rundir import Manifest, layout

# The report stage's API; the formatting helpers are shared with the trend report.
__all__ = [
    "Machines",
    "change",
    "format_value",
    "headline",
    "interval",
    "ns_per_unit",
    "page_guard",
    "pvalue",
    "render_report",
    "time_axis",
    "to_svg",
]

_HEADLINE_ROWS = 2  # per verdict: the console line stays readable
BENCH_TXT = layout.BENCH_TXT


def render_report(
    run_dir: Path,
    comparisons: pd.DataFrame,
    *,
    frames: dict[str, pd.DataFrame] | None = None,
    manifest: Manifest | None = None,
    warnings: list[dict] | None = None,
    aa: dict | None = None,
    checks: dict | None = None,
    machines: Machines | None = None,
) -> dict[str, Path]:
    """Write every report file into run_dir; returns {file name: path}. The manifest is
    read from run_dir (harness.rundir.load_manifest) unless given as a `Manifest`."""
    inputs = load_inputs(
        Path(run_dir),
        comparisons,
        frames=frames,
        manifest=manifest,
        warnings=warnings,
        aa=aa,
        checks=checks,
        machines=machines,
    )
    paths: dict[str, Path] = {}
    samples = flat_phases(inputs.frames["samples"])
    pyperf_paths, omitted = write_pyperf(inputs.run_dir, samples, inputs.variants, inputs.baseline)
    paths[BENCH_TXT] = write_bench(
        inputs.layout.output(BENCH_TXT),
        samples,
        inputs.manifest,
        inputs.variants,
        inputs.frames["bench_config"],
    )
    paths.update(write_summaries(inputs))
    paths.update(pyperf_paths)
    # The page last: it mentions what the other files left out.
    report = inputs.layout.output(layout.REPORT_HTML)
    report.write_text(render_html(inputs, pyperf_omitted=omitted), encoding="utf-8")
    return {report.name: report, **paths}


def flat_phases(samples: pd.DataFrame) -> pd.DataFrame:
    """GC-phase rows (--trace) with the phase folded into the metric name
    (`mark-start-latency-p99-ns`), for formats that know no phase: bench.txt, pyperf."""
    if samples.empty or "phase" not in samples:
        return samples
    phase = samples["phase"].fillna("all").astype(str)
    split = ~phase.isin(["all", ""])
    if not split.any():
        return samples
    samples = samples.copy()
    samples.loc[split, "metric"] = phase[split] + "-" + samples.loc[split, "metric"].astype(str)
    return samples


def headline(comparisons: pd.DataFrame) -> str:
    """Verdict counts per candidate, headline and secondary families apart (an A/A arm's
    rows counted on their own, never with a candidate's); then the biggest worse and
    better rows of the candidates, headline metrics (harness/metrics.py) first."""
    frame = normalize_comparisons(comparisons)
    if frame.empty:
        return "no comparisons"
    aa = family_of(frame) == AA_FAMILY
    main, aa_rows = frame[~aa], frame[aa]
    multi = len(pairs(main)) > 1
    counted = [
        f"{c} vs {b}: " + family_counts_text(main[(main.baseline == b) & (main.candidate == c)])
        for b, c in pairs(main)
    ]
    counted += [
        f"{c} vs {b} (A/A): "
        + counts_text(aa_rows[(aa_rows.baseline == b) & (aa_rows.candidate == c)])
        for b, c in pairs(aa_rows)
    ]
    lines = [" · ".join(counted)]
    parts = []
    for verdict in ("worse", "better"):
        rows = ordered(main[main["verdict"] == verdict])
        if rows.empty:
            continue
        key = rows["metric"].map(is_headline)
        rows = pd.concat([rows[key], rows[~key]])
        shown = rows.head(_HEADLINE_ROWS)
        more = f" (+{len(rows) - len(shown)} more)" if len(rows) > len(shown) else ""
        texts = [
            # "cand: …", not "[cand] …": rich, which prints this, reads [word] as markup.
            (f"{row['candidate']}: " if multi else "") + one_line(row)
            for _, row in shown.iterrows()
        ]
        parts.append(f"{verdict}: " + ", ".join(texts) + more)
    if parts:
        lines.append(" · ".join(parts))
    return "\n".join(lines)
