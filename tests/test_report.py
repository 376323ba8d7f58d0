"""The report stage: report.html, summary.md/json, bench.txt, pyperf files.

Most tests render a real run (a short `stwbench run` made once per module, or the run
directory in STWBENCH_TEST_RUN_DIR, copied so it is never modified). Escaping and "no
data" use small hand-made tables. The browser test loads the page in headless Chromium
with every network request routed to a dead proxy.

The comparisons of a real run come from harness/stats; hand-made data gets a placeholder
table with harness/stats' columns built here. Its numbers are not statistics; the report
must only format what it is given.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyperf
import pytest

from harness.metrics import is_headline
from harness.parse import SAMPLES_COLUMNS, parse_bench
from harness.parse.tables import benchmark_name
from harness.report import claims, headline, render_report
from harness.report.benchfmt import bench_name
from harness.report.inputs import load_inputs, normalize_comparisons
from harness.rundir import AA_SUFFIX, Manifest, layout, load_manifest
from harness.stats import COMPARISON_COLUMNS, VERDICTS, compare
from tests.conftest import GO, REPO, RUNQGET

OUTPUTS = {"report.html", "summary.md", "summary.json", "bench.txt", "pyperf.json"}
SCREENSHOT = Path(os.environ.get("STWBENCH_REPORT_SCREENSHOT", "/tmp/report-screenshot.png"))
XSS = "<script>alert(1)</script>"


# --- helpers ------------------------------------------------------------------------


def placeholder_comparisons(
    samples: pd.DataFrame, baseline: str = "baseline", aa_arm: str | None = None
) -> pd.DataFrame:
    """Medians and ratios by hand; p/q/CI/verdict are made up but well-formed."""
    rows = []
    for (benchmark, metric, unit), group in samples.groupby(["benchmark", "metric", "unit"]):
        base = group.loc[group["variant"] == baseline, "value"]
        for candidate in sorted(set(group["variant"]) - {baseline}):
            cand = group.loc[group["variant"] == candidate, "value"]
            b, c = base.median(), cand.median()
            ratio = c / b if b else math.nan
            moved = math.isfinite(ratio) and abs(ratio - 1) > 0.1
            rows.append(
                {
                    "benchmark": benchmark,
                    "metric": metric,
                    "unit": unit,
                    "direction": group["better"].iloc[0],
                    "baseline": baseline,
                    "candidate": candidate,
                    "baseline_median": b,
                    "candidate_median": c,
                    "n_baseline": len(base),
                    "n_candidate": len(cand),
                    "n_pairs": 0,
                    "ratio": ratio,
                    "ci_low": ratio * 0.97,
                    "ci_high": ratio * 1.03,
                    "p_value": 0.01 if moved else 0.5,
                    "p_min": 0.0,
                    "q_value": 0.02 if moved else 0.6,
                    "family": (
                        "aa"
                        if candidate == aa_arm
                        else ("headline" if is_headline(metric) else "secondary")
                    ),
                    "test": "unpaired rank-sum",
                    "mdc": 0.05,
                    "equivalence": 0.1,
                    "verdict": ("worse" if ratio > 1 else "better") if moved else "same",
                    "phase": "all",
                }
            )
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def comparisons_for(samples: pd.DataFrame) -> pd.DataFrame:
    return compare(samples, baseline="baseline")


def stats_row(**given) -> dict:
    """One comparison row with every column of harness/stats' table; `given` overrides."""
    row = {
        "benchmark": "B",
        "metric": "ns/op",
        "unit": "ns/op",
        "direction": "lower",
        "baseline": "baseline",
        "candidate": "cand",
        "baseline_median": 100.0,
        "candidate_median": 100.0,
        "n_baseline": 5,
        "n_candidate": 5,
        "n_pairs": 5,
        "ratio": 1.0,
        "ci_low": 0.99,
        "ci_high": 1.01,
        "p_value": 0.5,
        "p_min": 0.0,
        "q_value": 0.6,
        "family": "headline",
        "test": "paired t",
        "mdc": 0.031,
        "equivalence": 0.02,
        "verdict": "same",
        "phase": "all",
    }
    assert set(given) <= set(row), set(given) - set(row)
    return {**row, **given}


def rows_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def section(html: str, name: str) -> str:
    return html.split(f'id="{name}"', 1)[1].split("</section>", 1)[0]


def samples_frame(rows: list[dict]) -> pd.DataFrame:
    defaults = {"run_id": "r1", "rep": 1, "unit": "ns/op", "better": "lower"}
    full = [{**defaults, "metric": r.get("unit", "ns/op"), **r} for r in rows]
    return pd.DataFrame(full, columns=list(SAMPLES_COLUMNS)).astype(SAMPLES_COLUMNS)


def tiny_manifest_data(
    variants: list[str],
    patch: Path | None = None,
    *,
    baseline: str | None = None,
    aa_arm: str | None = None,
    claims: bool = False,
    run_id: str = "tiny",
) -> dict:
    """manifest.json of a small run (schema 2): every required field, one workload, toolchain
    records for every variant (the patch on all but the first), no order."""
    return {
        "schema": 2,
        "run_id": run_id,
        "created_at": "2026-12-01T00:00:00+00:00",
        "variants": [{"name": v, "go": GO, "mode": "source", "patches": []} for v in variants],
        "baseline": baseline or variants[0],
        "aa_arm": aa_arm,
        "workloads": [{"name": "w", "benchmark": "w", "kind": "bench"}],
        "options": {"claims": claims},
        "toolchains": {
            v: {
                "key": "k" * 64,
                "goroot": f"/toolchains/{i}",
                "go_version": GO,
                "mode": "source",
                "executor": {"kind": "none"},
                "gate": None,
                "patches": (
                    [{"name": patch.name, "path": str(patch), "sha256": "0" * 64}]
                    if patch and i
                    else []
                ),
            }
            for i, v in enumerate(variants)
        },
        "order": [],
        "processes": {},
    }


def tiny_manifest(variants: list[str], patch: Path | None = None, **given) -> Manifest:
    """The `Manifest` of tiny_manifest_data (the report takes nothing else)."""
    return Manifest.model_validate(tiny_manifest_data(variants, patch, **given))


def strict_json(text: str):
    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


# --- a real run ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_run(tmp_path_factory) -> Path:
    """A finished run directory of our own (a copy when STWBENCH_TEST_RUN_DIR is set)."""
    out = tmp_path_factory.mktemp("report-run")
    given = os.environ.get("STWBENCH_TEST_RUN_DIR")
    if given:
        source = Path(given).resolve()
        run_dir = out / source.name
        shutil.copytree(source, run_dir, ignore=shutil.ignore_patterns("bin"), symlinks=True)
        return run_dir
    result = subprocess.run(
        [
            *(sys.executable, "-m", "harness.cli", "run", "--go", GO, "--patch", str(RUNQGET)),
            *("--mode", "source", "--workloads", "quick", "--reps", "3", "--out", str(out)),
            *("--probe-duration", "1", "--target-seconds", "0.3", "--no-gate"),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def rendered(real_run) -> tuple[Path, dict[str, Path], pd.DataFrame]:
    samples = pd.read_parquet(real_run / "tables" / "samples.parquet")
    comparisons = comparisons_for(samples)
    paths = render_report(real_run, comparisons)
    return real_run, paths, comparisons


@pytest.mark.slow
def test_render_report_writes_every_output_into_the_run_dir(rendered):
    run_dir, paths, _ = rendered
    assert set(paths) >= OUTPUTS
    for name, path in paths.items():
        assert path.parent == run_dir and path.name == name and path.stat().st_size > 0
    html = paths["report.html"].read_text()
    assert html.index('id="verdict-table"') < html.index("<svg")  # the verdicts come first
    for section in ("nsop", "stw", "latency", "scenarios", "gc-cost", "gc", "provenance", "run"):
        assert f'id="{section}"' in html
    # Both halves of the question: the probe scenario's latency and the collector's costs,
    # with the STW split into time-to-stop and time stopped (Go 1.27: the metrics exist).
    assert 'id="scenario-table"' in html and 'id="cost-table"' in html
    assert 'id="stopping-table"' in html
    cost = html[
        html.index('id="cost-table"') : html.index("</table>", html.index('id="cost-table"'))
    ]
    assert "Scheduler-2" in cost and "probe-2" in cost and "badge v-" in cost
    assert "runqget-priority.patch" in html and "runnext" in html  # the diff itself
    assert "No data" not in html  # a real run has data for every section


@pytest.mark.slow
def test_bench_txt_round_trips_through_parse_bench(rendered):
    run_dir, paths, _ = rendered
    samples = pd.read_parquet(run_dir / "tables" / "samples.parquet")
    manifest = load_manifest(run_dir / layout.MANIFEST)
    parsed = parse_bench(paths["bench.txt"].read_text())
    assert parsed.skipped == 0
    got: dict[tuple[str, str, str], list[float]] = {}
    for result in parsed.results:
        name = "Benchmark" + benchmark_name(result.name, result.procs)
        workload = next(
            w.name for w in manifest.workloads if bench_name(w.benchmark or w.name) in name
        )
        assert result.iterations == manifest.benchtime.get(workload, 1)
        for metric, value in result.metrics.items():
            got.setdefault((result.config["toolchain"], name, metric), []).append(value)
    want: dict[tuple[str, str, str], list[float]] = {}
    for row in samples.itertuples():
        want.setdefault((row.variant, bench_name(row.benchmark), row.metric), []).append(row.value)
    assert {k: sorted(v) for k, v in got.items()} == {k: sorted(v) for k, v in want.items()}
    assert parsed.results[0].config.get("goos") and parsed.results[0].config.get("goarch")


def test_bench_txt_names_and_units_are_valid_go_benchmark_format(tmp_path):
    samples = samples_frame(
        [
            {"variant": "baseline", "workload": "w", "benchmark": "probe-2", "value": 5.0},
            {
                "variant": "baseline",
                "workload": "w",
                "benchmark": "probe-2",
                "value": 0.5,
                "metric": "odd metric",
                "unit": "odd unit",
            },
        ]
    )
    render_report(
        tmp_path,
        placeholder_comparisons(samples),
        frames={"samples": samples},
        manifest=tiny_manifest(["baseline"]),
        warnings=[],
    )
    lines = [
        line
        for line in (tmp_path / "bench.txt").read_text().splitlines()
        if line.startswith("Benchmark")
    ]
    assert lines == ["BenchmarkProbe-2 1 5.0 ns/op 0.5 odd_metric"]
    [result] = parse_bench((tmp_path / "bench.txt").read_text()).results
    assert result.config["toolchain"] == "baseline" and result.metrics["odd_metric"] == 0.5


@pytest.mark.slow
def test_pyperf_files_load_and_compare_to_runs(rendered):
    run_dir, paths, _ = rendered
    samples = pd.read_parquet(run_dir / "tables" / "samples.parquet")
    suites = {
        name: pyperf.BenchmarkSuite.load(str(path))
        for name, path in paths.items()
        if name.startswith("pyperf")
    }
    assert set(suites) == {"pyperf.json", "pyperf-baseline.json", "pyperf-runqget-priority.json"}
    base = suites["pyperf-baseline.json"]
    assert base.get_benchmark_names() == suites["pyperf.json"].get_benchmark_names()
    ns = samples[(samples.variant == "baseline") & (samples.metric == "ns/op")]
    for benchmark, group in ns.groupby("benchmark"):
        bench = base.get_benchmark(f"{benchmark} ns/op")
        assert bench.get_unit() == "second"
        assert sorted(bench.get_values()) == pytest.approx(sorted(group.value * 1e-9))
        assert bench.get_nrun() == len(group)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyperf",
            "compare_to",
            str(paths["pyperf.json"]),
            str(paths["pyperf-runqget-priority.json"]),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "ns/op" in result.stdout + result.stderr


def test_pyperf_leaves_out_metrics_it_cannot_store(tmp_path):
    rows = [
        {
            "variant": v,
            "workload": "w",
            "benchmark": "B",
            "rep": rep,
            "value": value,
            "metric": metric,
            "unit": metric,
        }
        for v in ("baseline", "cand")
        for rep in (1, 2)
        for metric, value in (("ns/op", 100.0 * rep), ("gc-cycles/op", 0.0 if rep == 1 else 1.0))
    ]
    samples = samples_frame(rows)
    paths = render_report(
        tmp_path,
        placeholder_comparisons(samples),
        frames={"samples": samples},
        manifest=tiny_manifest(["baseline", "cand"]),
        warnings=[],
    )
    suite = pyperf.BenchmarkSuite.load(str(paths["pyperf-cand.json"]))
    assert suite.get_benchmark_names() == ["B ns/op"]
    assert "B gc-cycles/op" in paths["report.html"].read_text()  # the page says so


@pytest.mark.slow
def test_summary_json_is_strict_json_with_the_documented_keys(rendered):
    run_dir, paths, comparisons = rendered
    summary = strict_json(paths["summary.json"].read_text())
    manifest = load_manifest(run_dir / layout.MANIFEST)
    assert summary["run_id"] == manifest.run_id == summary["manifest"]["run_id"]
    digest = summary["manifest"]
    for key in (
        "created_at",
        "variants",
        "workloads",
        "reps",
        "gomaxprocs",
        "seed",
        "machine",
        "toolchains",
        "n_processes",
        "n_failed",
    ):
        assert key in digest, key
    assert [v["name"] for v in digest["variants"]] == ["baseline", "runqget-priority"]
    assert digest["variants"][1]["patches"][0]["sha256"]
    assert set(digest["machine"]) == {"cpu_model", "cores", "kernel"}
    assert digest["baseline"] == manifest.baseline == "baseline"
    assert digest["n_processes"] == len(manifest.order) and digest["n_failed"] == 0
    assert len(summary["comparisons"]) == len(comparisons)
    for row in summary["comparisons"]:
        assert set(row) == set(COMPARISON_COLUMNS)


def test_summary_json_turns_nan_into_null(tmp_path):
    samples = samples_frame(
        [{"variant": v, "workload": "w", "benchmark": "B", "value": 1.0} for v in ("baseline", "c")]
    )
    comparisons = placeholder_comparisons(samples).assign(p_value=math.nan, ci_low=math.inf)
    render_report(
        tmp_path,
        comparisons,
        frames={"samples": samples},
        manifest=tiny_manifest(["baseline", "c"]),
        warnings=[],
    )
    [row] = strict_json((tmp_path / "summary.json").read_text())["comparisons"]
    assert row["p_value"] is None and row["ci_low"] is None and row["ratio"] == 1.0
    assert row["n_baseline"] == 1 and isinstance(row["n_baseline"], int)


@pytest.mark.slow
def test_summary_md_and_headline(rendered):
    run_dir, paths, comparisons = rendered
    md = paths["summary.md"].read_text()
    assert md.startswith(f"## stwbench {run_dir.name}")
    assert f"stwbench report {run_dir}" in md
    assert "| benchmark | metric |" in md and "`ns/op` ★" in md
    assert "| test | MDC | p | q | n | verdict |" in md
    line = headline(comparisons)
    assert 1 <= len(line.splitlines()) <= 2
    for family in ("headline", "secondary"):
        rows = comparisons[comparisons["family"] == family]
        counts = rows["verdict"].value_counts()
        # summary.md: all six verdicts of each family, zeros included.
        cells = ", ".join(f"{int(counts.get(v, 0))} {v}" for v in VERDICTS)
        assert f"**Verdicts, {family}**: {cells} ({len(rows)} rows)" in md
        # The console: the family's non-zero counts.
        nonzero = ", ".join(f"{int(counts[v])} {v}" for v in VERDICTS if counts.get(v, 0))
        assert f"{family} {nonzero} ({len(rows)})" in line
    for term in ("**inconclusive**", "**underpowered**", "**families**", "**MDC**"):
        assert term in md


def test_headline_puts_the_biggest_key_changes_first():
    samples = samples_frame(
        [
            {"variant": v, "workload": "w", "benchmark": b, "metric": m, "unit": m, "value": x}
            for b, m, base, cand in (
                ("A", "B/op", 100.0, 300.0),  # the biggest change, but not a key metric
                ("A", "ns/op", 100.0, 150.0),
                ("P", "start-latency-p99-ns", 100.0, 50.0),
                ("A", "allocs/op", 100.0, 101.0),
            )
            for v, x in (("baseline", base), ("cand", cand))
        ]
    )
    first, second = headline(placeholder_comparisons(samples)).splitlines()
    assert first == (
        "cand vs baseline: headline 1 worse, 1 better (2); secondary 1 worse, 1 same (2)"
    )
    assert second.startswith("worse: A ns/op +50.0%") and "A B/op +200%" in second
    assert "better: P start-latency-p99-ns -50.0%" in second
    assert headline(pd.DataFrame()) == "no comparisons"


# --- the comparisons frame ------------------------------------------------------------


@pytest.mark.slow
def test_comparisons_columns_are_harness_stats_own(rendered):
    """The report holds exactly harness/stats' columns, in its order, with its kinds."""
    _, _, comparisons = rendered
    normalized = normalize_comparisons(comparisons)
    assert list(normalized.columns) == COMPARISON_COLUMNS == list(comparisons.columns)
    for column in COMPARISON_COLUMNS:
        if column.startswith("n_"):  # counts stay integers (nullable for older frames)
            assert comparisons[column].dtype.kind == "i", column
            assert normalized[column].dtype == "Int64", column
        elif comparisons[column].dtype.kind == "f":
            assert normalized[column].dtype == "float64", column
        else:  # labels
            assert normalized[column].map(type).eq(str).all(), column
    pd.testing.assert_series_equal(
        normalized["n_pairs"].astype("int64"), comparisons["n_pairs"], check_names=False
    )


def test_an_older_comparisons_frame_still_normalizes():
    old = pd.DataFrame(
        [{k: v for k, v in stats_row(metric="B/op").items() if k in OLD_COLUMNS}]
    ).assign(n_baseline=5.0)  # counts used to be floats
    frame = normalize_comparisons(old)
    assert list(frame.columns) == COMPARISON_COLUMNS
    row = frame.iloc[0]
    assert row["n_baseline"] == 5 and pd.isna(row["n_pairs"]) and math.isnan(row["mdc"])
    assert row["test"] == "" and row["family"] == "secondary"  # from harness/metrics.py
    assert normalize_comparisons(old.assign(metric="ns/op")).iloc[0]["family"] == "headline"
    assert list(normalize_comparisons(None).columns) == COMPARISON_COLUMNS


OLD_COLUMNS = [  # the comparisons frame before paired tests, families and MDCs
    *("benchmark", "metric", "unit", "direction", "baseline", "candidate"),
    *("baseline_median", "candidate_median", "n_baseline", "n_candidate", "ratio"),
    *("ci_low", "ci_high", "p_value", "q_value", "verdict", "phase"),
]


def test_headline_rows_come_from_the_metric_registry():
    from harness.report import verdicts

    # One source of truth: no second heuristic in the report.
    assert not hasattr(verdicts, "is_key_metric")
    assert is_headline("ns/op") and not is_headline("stw-sweep-term-mean-ms")


def six_verdict_rows() -> pd.DataFrame:
    return rows_frame(
        [
            stats_row(benchmark="S", verdict="same"),
            stats_row(
                benchmark="U",
                verdict="unreliable",
                n_candidate=2,
                n_pairs=0,
                test="unpaired rank-sum",
            ),
            stats_row(
                benchmark="P",
                verdict="underpowered",
                n_pairs=5,
                test="paired signed-rank",
                p_value=0.0625,
                p_min=0.0625,
                q_value=math.nan,
                ci_low=0.9,
                ci_high=1.3,
            ),
            stats_row(benchmark="I", verdict="inconclusive", ci_low=0.9, ci_high=1.2),
            stats_row(
                benchmark="G", verdict="better", ratio=0.8, ci_low=0.7, ci_high=0.9, q_value=0.01
            ),
            stats_row(
                benchmark="W", verdict="worse", ratio=1.3, ci_low=1.2, ci_high=1.4, q_value=0.01
            ),
            stats_row(
                benchmark="M",
                metric="B/op",
                unit="B/op",
                family="secondary",
                verdict="worse",
                ratio=2.0,
                ci_low=1.9,
                ci_high=2.1,
                q_value=0.01,
                mdc=0.5,
            ),
        ]
    )


def test_verdicts_table_shows_the_test_mdc_pmin_and_six_verdicts_in_order(tmp_path):
    paths = render_report(
        tmp_path, six_verdict_rows(), manifest=tiny_manifest(["baseline", "cand"]), warnings=[]
    )
    html = paths["report.html"].read_text()
    table = html.split('id="verdict-table"', 1)[1].split("</table>", 1)[0]
    header = table.split("</thead>", 1)[0]
    for column in ("change", "95% CI", "test", "MDC", ">p<", ">q<", ">n<", "verdict"):
        assert column in header, column
    body = table.split("<tbody>", 1)[1]
    rows = re.findall(r'<tr class="row-(\w+)( key)?">\s*<td class="name">(\w+)</td>', body)
    # worse (headline first), better, inconclusive, underpowered, unreliable, same
    assert [(v, b) for v, _, b in rows] == [
        ("worse", "W"),
        ("worse", "M"),
        ("better", "G"),
        ("inconclusive", "I"),
        ("underpowered", "P"),
        ("unreliable", "U"),
        ("same", "S"),
    ]
    assert {b for _, key, b in rows if key} == {"W", "G", "I", "P", "U", "S"}  # not B/op
    assert "paired t" in body and "paired signed-rank" in body
    assert body.count("±3.1 %") == 6 and "±50" not in body  # MDC: headline rows only
    assert '<div class="floor">p ≥ 0.0625 at n=5</div>' in body
    assert body.count("p ≥") == 1  # only the underpowered row
    assert "5 pairs" in body and ">5/2<" in body  # n: pairs when paired, else processes
    assert 'title="the whole CI lies inside ±2 %"' in body
    legend = html.split('id="verdict-legend"', 1)[1].split("</dl>", 1)[0]
    for term in ("worse / better", "inconclusive", "underpowered", "unreliable", "same"):
        assert f"<dt>{term}</dt>" in legend
    assert "headline rows" in legend and "secondary rows are a family of their own" in legend
    assert "A/A arm is a third family" in legend
    assert "80 % power at its nominal α" in legend
    assert "throughput ±2 %" in section(html, "verdicts")  # margins from harness/metrics.py
    md = paths["summary.md"].read_text()
    assert "| 0.062 (p ≥ 0.0625 at n=5) | – | 5 pairs | underpowered |" in md
    assert "`B/op`" in md  # a flagged secondary row is listed; its MDC is not
    assert "`B/op` ★" not in md and "| ±50" not in md


def test_header_counts_all_six_verdicts_per_family_and_candidate(tmp_path):
    rows = six_verdict_rows()
    other = rows.assign(candidate="cand2")
    aa = rows.assign(candidate="baseline-aa", family="aa", verdict="worse")
    frame = pd.concat([rows, other, aa], ignore_index=True)
    paths = render_report(
        tmp_path,
        frame,
        manifest=tiny_manifest(["baseline", "cand", "cand2", "baseline-aa"], aa_arm="baseline-aa"),
        warnings=[],
        aa={**AA, "rows": len(aa), "flagged": len(aa)},
    )
    header = paths["report.html"].read_text().split("<header>", 1)[1].split("</header>", 1)[0]
    groups = header.split('<div class="who">')[1:]
    assert [g.split("</b>", 1)[0] for g in groups[:2]] == ["<b>cand", "<b>cand2"]
    headline_counts = re.findall(r'data-family="headline">(.*?)</div>', groups[0], flags=re.DOTALL)[
        0
    ]
    badges = re.findall(r'class="badge v-(\w+)( zero)?">(\d+) (\w+)<', headline_counts)
    assert [(v, int(n)) for v, _, n, _ in badges] == [
        ("worse", 1),
        ("better", 1),
        ("inconclusive", 1),
        ("underpowered", 1),
        ("unreliable", 1),
        ("same", 1),
    ]
    secondary = re.findall(r'data-family="secondary">(.*?)</div>', groups[0], flags=re.DOTALL)[0]
    assert ">1 worse<" in secondary and ">0 same<" in secondary and "1 row<" in secondary
    # The A/A arm's 7 worse rows are never counted with a candidate's.
    assert ">7 worse<" not in header and ">2 worse<" not in header
    line = headline(frame).splitlines()[0]
    assert "baseline-aa vs baseline (A/A): 7 worse" in line
    assert "cand vs baseline: headline 1 worse, 1 better, 1 inconclusive" in line
    assert "worse: cand: W ns/op" in headline(frame).splitlines()[1]
    assert "baseline-aa:" not in headline(frame).splitlines()[1]


# --- run precision and noise -----------------------------------------------------------


def test_run_precision_and_noise_from_the_manifest(tmp_path):
    manifest = tiny_manifest_data(["baseline", "cand"])
    slug = "baseline/w/gomaxprocs2-rep001"
    manifest["order"] = [
        {"index": 0, "variant": "baseline", "workload": "w", "gomaxprocs": 2, "rep": 1}
    ]
    manifest["processes"] = {
        slug: {
            "status": "ok",
            "duration_s": 0.5,
            "exit_code": 0,
            "interference_cores": 0.31,
            "steal_cores": 0.0,
            "noisy": True,
            "attempts": [
                {
                    "attempt": a,
                    "dir": f"raw/_rejected/{slug}.attempt{a}",
                    "status": "ok",
                    "duration_s": 0.5,
                    "interference_cores": cores,
                    "reason": "interference",
                }
                for a, cores in ((1, 1.01), (2, 0.97))
            ],
        }
    }
    manifest["noise"] = {
        "threshold_cores": 0.25,
        "steal_threshold_cores": 0.1,
        "retries_max": 2,
        "rerun": 1,
        "rerun_slugs": [slug],
        "rejected_attempts": 2,
        "kept_noisy": [slug],
    }
    manifest["isolation"] = {
        "cpus": [0, 1, 2, 3],
        "taskset": True,
        "taskset_detail": "ok",
        "cgroup_cpuset": False,
        "cgroup_cpuset_detail": "cpuset not among the cgroup v2 controllers",
        "applied": True,
        "harness_cpus": [0],
        "bench_cpus": "1,2,3",
        "reason": "harness on CPU 0, benchmark processes on 1,2,3",
    }
    manifest["adaptive"] = {  # harness/adaptive.py's record
        "until_ci": 2.0,  # percent
        "max_reps": 40,
        "budget_min": 30,
        "initial_reps": 10,
        "steps": [
            {
                "reps": 10,
                "worst": 0.081,
                "worst_row": "Scheduler-2 ns/op",
                "met": 3,
                "rows": 9,
                "analysis_s": 1.0,
                "added": 10,
            },
            {
                "reps": 20,
                "worst": 0.019,
                "worst_row": "probe-2 stw-pause-max-ms",
                "met": 9,
                "rows": 9,
                "analysis_s": 1.0,
                "added": 0,
            },
        ],
        "stopped": "precision reached",
    }
    html = render_report(
        tmp_path, six_verdict_rows(), manifest=Manifest.model_validate(manifest), warnings=[]
    )["report.html"].read_text()
    part = html.split('id="precision"', 1)[1].split("<h3>Failed processes</h3>", 1)[0]
    # The underpowered row's [0.9, 1.3]: exp((ln 1.3 − ln 0.9) / 2) − 1 = 20 %.
    assert "Widest headline CI in this report" in part and "<b>±20 %</b> (P ns/op)" in part
    adaptive = part.split('id="adaptive"', 1)[1].split("</table>", 1)[0]
    assert "every headline CI within ±2 %" in adaptive
    assert "from 10 reps, at most 40, budget 30 min" in adaptive
    assert "reached <b>20</b> reps; stopped: <b>precision reached</b>" in adaptive
    steps = re.findall(r'<tr><td class="num">(\d+)</td><td class="num">([^<]+)</td>', adaptive)
    assert steps == [("10", "±8.1 %"), ("20", "±1.9 %")]
    assert '<td class="num">3 of 9</td><td class="num">10</td>' in adaptive  # blocks added
    assert "9 of 9" in adaptive and "Scheduler-2 ns/op" in adaptive
    noise = part.split('id="noise"', 1)[1]
    assert "more than <b>0.25</b> cores" in noise and "at most 2 times" in noise
    assert "Re-run for interference: <b>1</b> process (2 attempts" in noise
    assert (
        f'<td class="name">{slug}</td><td class="num">2</td><td class="num">1.01, 0.97</td>'
        in noise
    )
    assert "kept noisy after the last retry: <b>1</b>" in noise
    isolation = part.split('id="isolation"', 1)[1]
    assert "harness on CPU 0, benchmark processes on 1,2,3" in isolation
    assert "<th>benchmark CPUs</th><td>1,2,3</td>" in isolation
    assert "not available (cpuset not among the cgroup v2 controllers)" in isolation
    assert "not recorded" not in part
    # The run order carries each process's interference and re-runs.
    order = html.split("<h3>Run order</h3>", 1)[1].split("</table>", 1)[0]
    assert '<td class="num bad">0.31</td><td class="num">2</td>' in order


def test_run_precision_and_noise_say_not_recorded_for_older_runs(tmp_path):
    html = render_report(
        tmp_path, pd.DataFrame(), manifest=tiny_manifest(["baseline"]), warnings=[]
    )["report.html"].read_text()
    part = html.split('id="precision"', 1)[1].split("<h3>Failed processes</h3>", 1)[0]
    assert "Adaptive reps: not recorded" in part
    assert "Noise guard: not recorded" in part and "Isolation: not recorded" in part
    assert "Widest headline CI" not in part  # no comparisons, nothing to say


# --- claims against the new verdicts -------------------------------------------------------


def claim_inputs(rows: list[dict]) -> claims.ClaimInputs:
    return claims.ClaimInputs(
        frames={},
        comparisons=normalize_comparisons(rows_frame(rows)),
        manifest=tiny_manifest(["baseline", "cand"], claims=True),
    )


def test_claims_read_inconclusive_and_underpowered_rows_by_their_ci():
    def scheduler(**given):
        row = stats_row(benchmark="Scheduler-4", **given)  # the article's GOMAXPROCS
        return claims.claim_scheduler_speedup(claim_inputs([row]))

    # Not significant, but the CI excludes the article's −25.5 %: refuted, whatever the verdict.
    for verdict in ("same", "inconclusive", "underpowered"):
        assert scheduler(verdict=verdict, ci_low=0.9, ci_high=1.1).verdict == claims.REFUTED
    wide = scheduler(verdict="underpowered", ci_low=0.6, ci_high=1.2, p_min=0.0625)
    assert wide.verdict == claims.NOT_MEASURED and "more reps" in wide.measured
    assert "n=5 pairs" in wide.measured
    # An A/A row is never the candidate's.
    aa_only = stats_row(benchmark="Scheduler-4", verdict="better", ratio=0.75, family="aa")
    assert claims.claim_scheduler_speedup(claim_inputs([aa_only])).verdict == claims.NOT_MEASURED

    def mark(**given):
        row = stats_row(
            benchmark="probe-2", metric="start-latency-p99-ns", unit="ns", phase="mark", **given
        )
        return claims.claim_patch_mark_latency(claim_inputs([row])).verdict

    assert mark(verdict="inconclusive", ratio=0.9, ci_low=0.7, ci_high=1.1) == claims.REFUTED
    assert mark(verdict="inconclusive", ratio=0.5, ci_low=0.1, ci_high=2.0) == claims.NOT_MEASURED
    assert mark(verdict="better", ratio=0.01, ci_low=0.005, ci_high=0.05) == claims.HOLDS


# --- the claims section is optional ----------------------------------------------------


def claims_report(run_dir: Path, enabled: bool) -> tuple[str, dict]:
    run_dir.mkdir()
    paths = render_report(
        run_dir,
        six_verdict_rows(),
        manifest=tiny_manifest(["baseline", "cand"], claims=enabled),
        warnings=[],
    )
    return paths["report.html"].read_text(), strict_json(paths["summary.json"].read_text())


def test_a_run_without_claims_has_no_claims_section_and_computes_none(tmp_path, monkeypatch):
    def refuse(_inputs):
        raise AssertionError("a claim was checked for a run that did not ask for them")

    monkeypatch.setattr(claims, "check_claims", refuse)
    html, summary = claims_report(tmp_path / "off", enabled=False)
    assert 'id="claims"' not in html and 'href="#claims"' not in html
    assert "The article's claims" not in html and "claims-table" not in html
    assert "claims" not in summary


def test_a_run_with_claims_has_the_section_in_the_page_and_in_summary_json(tmp_path):
    html, summary = claims_report(tmp_path / "on", enabled=True)
    block = section(html, "claims")
    assert 'href="#claims"' in html and "The article's claims, checked" in block
    assert "Judged: <b>cand</b> against the baseline <b>baseline</b>." in block
    document = summary["claims"]
    assert document["baseline"] == "baseline" and document["candidate"] == "cand"
    assert document["not_judged"] == []
    results = document["results"]
    assert len(results) == len(claims.CHECKS) == block.count("<tr><td>")
    for result in results:  # the page and the JSON say the same
        assert set(result) == {"source", "claim", "measured", "verdict", "rerun"}
        assert f">{result['verdict']}</span>" in block
        assert result["rerun"].startswith(f"stwbench ab --go {GO} --patch ")
    # The six rows are Benchmark "B…" rows, not the article's: nothing is decided on them.
    assert all(r["verdict"] == claims.NOT_MEASURED for r in results)


def test_a_schema1_run_dir_is_read_through_the_contract(tmp_path):
    """No manifest given: the report loads manifest.json with harness.rundir (migrated:
    schema 1 recorded neither baseline nor A/A arm and always had the claims)."""
    run_dir = tmp_path / "old"
    shutil.copytree(REPO / "tests" / "fixtures" / "rundir-schema1", run_dir)
    paths = render_report(run_dir, pd.DataFrame())
    html = paths["report.html"].read_text()
    assert "Judged: <b>runqget-priority</b> against the baseline <b>baseline</b>" in html
    assert "<h2>A/A calibration</h2>" in section(html, "aa")
    assert f"<code>baseline{AA_SUFFIX}</code>" in section(html, "aa")
    summary = strict_json(paths["summary.json"].read_text())
    assert summary["claims"]["candidate"] == "runqget-priority"
    assert summary["aa"] == {"candidate": f"baseline{AA_SUFFIX}"}
    assert summary["manifest"]["baseline"] == "baseline"


# --- baseline and A/A arm: the manifest's -------------------------------------------------


def recorded_roles_run(tmp_path: Path, aa_arm: str | None, aa: dict | None = None):
    """Variants whose names would mislead a guess: the baseline is not first, the A/A arm
    is not `<baseline>-aa`, and a candidate is. Rows are not tagged with the `aa` family."""
    variants = ["cand", "main", "twin", f"main{AA_SUFFIX}"]
    samples = samples_frame(
        [
            {"variant": v, "workload": "w", "benchmark": "A", "rep": rep, "value": x * rep}
            for v, x in zip(variants, (2.0, 1.0, 1.0, 3.0), strict=True)
            for rep in (1, 2, 3)
        ]
    )
    comparisons = placeholder_comparisons(samples, baseline="main")
    assert set(comparisons["family"]) == {"headline"}
    manifest = tiny_manifest(variants, baseline="main", aa_arm=aa_arm)
    run_dir = tmp_path / str(aa_arm)
    run_dir.mkdir(parents=True)
    given = {"frames": {"samples": samples}, "manifest": manifest, "warnings": [], "aa": aa}
    inputs = load_inputs(run_dir, comparisons, **given)
    return inputs, render_report(run_dir, comparisons, **given)


def test_the_baseline_and_the_aa_arm_are_the_recorded_ones(tmp_path):
    calibration = {k: v for k, v in AA.items() if k != "candidate"}  # it names no arm
    inputs, paths = recorded_roles_run(tmp_path, "twin", calibration)
    assert inputs.baseline == "main" and inputs.aa_arm == "twin"
    assert inputs.variants == ["cand", "main", "twin", f"main{AA_SUFFIX}"]
    assert set(inputs.aa_comparisons["candidate"]) == {"twin"}
    assert set(inputs.main_comparisons["candidate"]) == {"cand", f"main{AA_SUFFIX}"}
    html = paths["report.html"].read_text()
    block = section(html, "aa")
    assert "<h2>A/A calibration</h2>" in block and "<code>twin</code>" in block
    verdicts = section(html, "verdicts")
    assert "twin" not in verdicts and f"main{AA_SUFFIX}" in verdicts
    summary = strict_json(paths["summary.json"].read_text())
    assert summary["aa"]["candidate"] == "twin" and summary["manifest"]["aa_arm"] == "twin"


def test_a_variant_named_like_an_aa_arm_is_a_candidate_when_none_is_recorded(tmp_path):
    inputs, paths = recorded_roles_run(tmp_path, None)
    assert inputs.aa_arm is None and inputs.aa_comparisons.empty
    html = paths["report.html"].read_text()
    assert 'id="aa"' not in html and 'href="#aa"' not in html
    assert f"main{AA_SUFFIX}" in section(html, "verdicts") and "twin" in section(html, "verdicts")
    assert "aa" not in strict_json(paths["summary.json"].read_text())
    with pytest.raises(ValueError, match="records no A/A arm"):
        recorded_roles_run(tmp_path / "given", None, AA)


def test_the_report_takes_a_manifest_not_a_dict(tmp_path):
    with pytest.raises(TypeError, match=r"harness\.rundir\.Manifest"):
        render_report(tmp_path, pd.DataFrame(), manifest=tiny_manifest_data(["baseline"]))


# --- escaping -------------------------------------------------------------------------


def test_names_patch_text_and_warnings_are_escaped(tmp_path):
    patch = tmp_path / "evil.patch"
    patch.write_text(f"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+{XSS}\n")
    variants = ["baseline", "c<b>&"]
    samples = samples_frame(
        [
            {"variant": v, "workload": "w", "benchmark": XSS, "rep": rep, "value": 10.0 * rep}
            for v in variants
            for rep in (1, 2, 3)
        ]
    )
    warnings = [
        {
            "process": XSS,
            "parser": "bench",
            "skipped": 1,
            "examples": ['<img src=x onerror="alert(2)">'],
        }
    ]
    paths = render_report(
        tmp_path,
        placeholder_comparisons(samples),
        frames={"samples": samples},
        manifest=tiny_manifest(variants, patch),
        warnings=warnings,
    )
    html = paths["report.html"].read_text()
    assert XSS not in html and "<img" not in html and "<b>&" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown, as text
    assert "c&lt;b&gt;&amp;" in html
    assert html.count("<script") == 1  # only the page's own error recorder
    assert "<svg" in html  # the name also went through matplotlib, which escapes XML


# --- no data ------------------------------------------------------------------------


def test_an_empty_run_still_renders_every_file(tmp_path):
    paths = render_report(
        tmp_path, pd.DataFrame(), manifest=tiny_manifest(["baseline"]), warnings=[]
    )
    assert {"report.html", "summary.md", "summary.json", "bench.txt"} <= set(paths)
    html = paths["report.html"].read_text()
    assert "<svg" not in html
    for section in ("verdicts", "nsop", "stw", "latency", "gc"):
        body = html.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
        assert "No data" in body, section
    summary = strict_json(paths["summary.json"].read_text())
    assert summary["comparisons"] == [] and summary["run_id"] == "tiny"
    assert "no rows" in paths["summary.md"].read_text()


@pytest.mark.slow
def test_a_variant_whose_every_process_failed_still_renders(real_run, tmp_path):
    run_dir = tmp_path / "failed-run"
    shutil.copytree(real_run, run_dir, ignore=shutil.ignore_patterns("bin", "*.html"))
    manifest = load_manifest(run_dir / layout.MANIFEST)
    for slug, process in manifest.processes.items():
        if slug.startswith("runqget-priority/"):
            manifest.processes[slug] = process.model_copy(
                update={"status": "failed", "exit_code": 2, "reason": f"fatal error: {XSS}"}
            )
    frames = {
        name: frame[frame["variant"] != "runqget-priority"]
        for name, frame in (
            (p.stem, pd.read_parquet(p)) for p in (run_dir / "tables").glob("*.parquet")
        )
    }
    paths = render_report(
        run_dir, placeholder_comparisons(frames["samples"]), frames=frames, manifest=manifest
    )
    html = paths["report.html"].read_text()
    assert "No data: no comparisons" in html
    failures = html.split("<h3>Failed processes</h3>", 1)[1].split("<h3>", 1)[0]
    assert failures.count('class="bad">failed<') == sum(
        1 for slug in manifest.processes if slug.startswith("runqget-priority/")
    )
    assert "fatal error: &lt;script&gt;" in html
    digest = strict_json(paths["summary.json"].read_text())["manifest"]
    assert digest["n_failed"] == digest["n_processes"] // 2


# --- in a browser ---------------------------------------------------------------------


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("STWBENCH_TESTS_NO_BROWSER") == "1":
        pytest.skip("no Chromium and STWBENCH_TESTS_NO_BROWSER=1")
    pytest.fail(
        "no Chromium: apt-get install -y chromium (.ci/run does); "
        "set STWBENCH_TESTS_NO_BROWSER=1 to skip the browser test knowingly"
    )


def headless(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    """Chromium with networking off: any request goes to a proxy that is not there."""
    return subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={profile}",
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
            *extra,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )


def assert_fetches_nothing(html: str) -> None:
    """Static check: nothing that would load a resource from anywhere. matplotlib's SVG
    refers to its own clip paths and glyphs (`url(#p…)`, `href="#…"`): those stay."""
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(?!#)[a-z/]""", html, re.IGNORECASE)
    assert not re.search(r"""url\(\s*["']?(?!#)|@import|<link\b|<img\b""", html, re.IGNORECASE)


def page_errors(dom: str) -> list[str]:
    match = re.search(r'<html[^>]*\sdata-errors="([^"]*)"', dom)
    assert match, "the page's error recorder did not run"
    return json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))


@pytest.mark.slow
def test_report_loads_in_a_browser_without_errors_or_requests(rendered, tmp_path):
    _, paths, _ = rendered
    page = paths["report.html"]
    html = page.read_text()
    assert_fetches_nothing(html)

    result = headless(page, tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-3000:]
    dom = result.stdout
    assert 'id="verdict-table"' in dom
    assert dom.count("<svg") >= 3
    assert 'data-loaded="1"' in dom
    assert page_errors(dom) == []
    assert "Uncaught" not in result.stderr and "CONSOLE" not in result.stderr

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shot = headless(
        page, tmp_path / "profile2", f"--screenshot={SCREENSHOT}", "--window-size=1400,3000"
    )
    assert shot.returncode == 0 and SCREENSHOT.stat().st_size > 50_000, shot.stderr[-2000:]


@pytest.mark.slow
def test_the_browser_check_would_catch_an_external_request(rendered, tmp_path):
    """Control: the same page with one remote image reports it as blocked."""
    _, paths, _ = rendered
    page = tmp_path / "leaky.html"
    page.write_text(
        paths["report.html"]
        .read_text()
        .replace("</main>", '<img src="http://example.invalid/x.png"></main>')
    )
    result = headless(page, tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-3000:]
    errors = page_errors(result.stdout)
    assert any("example.invalid" in e for e in errors), errors


# --- A/A ----------------------------------------------------------------------------


def aa_run(tmp_path: Path, aa: dict) -> tuple[dict[str, Path], pd.DataFrame]:
    variants = ["baseline", "cand", "baseline-aa"]
    samples = samples_frame(
        [
            {"variant": v, "workload": "w", "benchmark": b, "rep": rep, "value": x * rep}
            for b, factors in (("A", (1.0, 2.0, 1.0)), ("B", (1.0, 1.0, 1.5)))
            for v, x in zip(variants, factors, strict=True)
            for rep in (1, 2, 3)
        ]
    )
    comparisons = placeholder_comparisons(samples, aa_arm="baseline-aa")
    paths = render_report(
        tmp_path,
        comparisons,
        frames={"samples": samples},
        manifest=tiny_manifest(variants, aa_arm="baseline-aa"),
        warnings=[],
        aa=aa,
    )
    return paths, comparisons


AA = {  # harness.stats.aa_calibration's shape
    "candidate": "baseline-aa",
    "rows": 2,
    "tested": 2,
    "flagged": 1,
    "rate": 0.5,
    "expected_flagged": 0,
    "p_any_flagged_max": 0.05,
    "raw_below_alpha": 1,
    "expected_raw": 0.1,
    "expected_range": [0, 1],
    "raw_ok": True,
    "alpha": 0.05,
}


def test_aa_calibration_block_and_the_arm_stays_out_of_the_verdicts(tmp_path):
    paths, _ = aa_run(tmp_path, AA)
    html = paths["report.html"].read_text()
    verdicts = section(html, "verdicts")
    block = section(html, "aa")
    assert "baseline-aa" not in verdicts and verdicts.count('class="row-') == 2
    assert "<h2>A/A calibration</h2>" in block and ">B<" in block
    assert "Flagged better/worse: 1 of 2 decided (not unreliable) rows" in block
    assert "the expected number is 0" in block and "P(any flagged) ≤ 5%" in block
    assert "Raw (unadjusted) p &lt; 0.05: 1 of 2 tested rows" in block
    assert "α·tested = 0.1, 95 % binomial range 0–1" in block and "Within the range" in block
    assert "never changes the candidate&#39;s rows" in block and "exit code" in block
    # The header counts the candidate's rows only; the A/A arm is pointed to, not counted.
    header = html.split("<header>", 1)[1].split("</header>", 1)[0]
    assert header.count('class="family"') == 2 and "counted on its own" in header
    summary = strict_json(paths["summary.json"].read_text())
    assert summary["aa"] == AA
    assert len(summary["comparisons"]) == 4  # every row stays in the machine-readable file
    md = paths["summary.md"].read_text()
    assert "**A/A calibration** (`baseline-aa`): 1 of 2 rows flagged (null: 0, P(any) ≤ 5%)" in md
    assert "raw p < 0.05 in 1 of 2 tested rows (null: 0.1, 95 % binomial range 0–1)" in md
    assert "never changes the candidate's rows or the exit code" in md
    # The candidate's A (×2) and B (same); the A/A arm's flagged B is not counted with them.
    assert (
        "**Verdicts, headline**: 1 worse, 0 better, 0 inconclusive, 0 underpowered, "
        "0 unreliable, 1 same (2 rows)"
    ) in md
    assert "**Verdicts, secondary**: 0 worse" in md and "(0 rows)" in md


def test_aa_raw_p_above_the_null_range_says_so(tmp_path):
    paths, _ = aa_run(tmp_path, {**AA, "raw_below_alpha": 2, "raw_ok": False})
    block = section(paths["report.html"].read_text(), "aa")
    assert '<li class="bad">' in block and "Above the range" in block
    assert "above it" in paths["summary.md"].read_text()


def test_an_older_aa_result_renders_with_what_it_has(tmp_path):
    old = {"rows": 2, "flagged": 1, "rate": 0.5}  # before aa_calibration
    paths, _ = aa_run(tmp_path, old)
    block = section(paths["report.html"].read_text(), "aa")
    assert "1 of 2 decided (not unreliable) rows" in block and "50.0%" in block
    assert "Raw p-values below α: not recorded" in block
    assert strict_json(paths["summary.json"].read_text())["aa"] == {
        **old,
        "candidate": "baseline-aa",
    }


# --- provenance -------------------------------------------------------------------------


def test_toolchain_gate_and_patch_provenance_are_shown(tmp_path):
    patch = tmp_path / "p.patch"
    patch.write_text("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n")
    manifest = tiny_manifest_data(["baseline", "cand", "gone"], patch)
    manifest["toolchains"]["baseline"]["gate"] = {
        "passed": True,
        "exit_code": 0,
        "tests_passed": ["T1", "T2"],
    }
    manifest["toolchains"]["cand"]["gate"] = {
        "passed": False,
        "exit_code": 1,
        "tests_failed": ["TestGCFairness"],
        "tests_missing": [],
    }
    manifest["toolchains"]["gone"]["patches"] = [
        {"name": "lost.patch", "path": str(tmp_path / "lost.patch"), "sha256": "1" * 64}
    ]
    html = render_report(
        tmp_path, pd.DataFrame(), manifest=Manifest.model_validate(manifest), warnings=[]
    )["report.html"].read_text()
    assert "pass (2 tests)" in html and "FAIL: TestGCFairness" in html and "not run" in html
    assert "the file has changed since the run" in html  # recorded sha256 is not the file's
    assert '<span class="add">+new</span>' in html
    assert f"patch file {tmp_path / 'lost.patch'} is not readable here" in html


@pytest.mark.slow
def test_rendering_twice_gives_the_same_files(rendered):
    """Plots are seeded and undated, so a re-render changes nothing (diffable reports)."""
    run_dir, paths, comparisons = rendered
    before = {name: path.read_bytes() for name, path in paths.items()}
    again = render_report(run_dir, comparisons)
    assert {name: path.read_bytes() for name, path in again.items()} == before
