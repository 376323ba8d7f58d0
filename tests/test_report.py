"""The report stage: report.html, summary.md/json, bench.txt, pyperf files.

Most tests render a real run (a short `stwbench run` made once per module, or the run
directory in STWBENCH_TEST_RUN_DIR, copied so it is never modified). Escaping and "no
data" use small hand-made tables. The browser test loads the page in headless Chromium
with every network request routed to a dead proxy.

The comparisons come from harness/stats when it is importable; otherwise (and always for
hand-made data) a placeholder table with the documented columns is built here. Its
numbers are not statistics; the report must only format what it is given.
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

from harness.parse import SAMPLES_COLUMNS, parse_bench
from harness.parse.tables import benchmark_name
from harness.report import headline, render_report
from harness.report.benchfmt import bench_name
from harness.report.inputs import COMPARISON_COLUMNS
from tests.conftest import GO, REPO, RUNQGET

OUTPUTS = {"report.html", "summary.md", "summary.json", "bench.txt", "pyperf.json"}
SCREENSHOT = Path(os.environ.get("STWBENCH_REPORT_SCREENSHOT", "/tmp/report-screenshot.png"))
XSS = "<script>alert(1)</script>"


# --- helpers ------------------------------------------------------------------------


def placeholder_comparisons(samples: pd.DataFrame, baseline: str = "baseline") -> pd.DataFrame:
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
                    "ratio": ratio,
                    "ci_low": ratio * 0.97,
                    "ci_high": ratio * 1.03,
                    "p_value": 0.01 if moved else 0.5,
                    "q_value": 0.02 if moved else 0.6,
                    "verdict": ("worse" if ratio > 1 else "better") if moved else "same",
                    "phase": "all",
                }
            )
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def comparisons_for(samples: pd.DataFrame) -> pd.DataFrame:
    try:
        from harness.stats import compare
    except ImportError:
        return placeholder_comparisons(samples)
    return compare(samples, baseline="baseline")


def samples_frame(rows: list[dict]) -> pd.DataFrame:
    defaults = {"run_id": "r1", "rep": 1, "unit": "ns/op", "better": "lower"}
    full = [{**defaults, "metric": r.get("unit", "ns/op"), **r} for r in rows]
    return pd.DataFrame(full, columns=list(SAMPLES_COLUMNS)).astype(SAMPLES_COLUMNS)


def tiny_manifest(variants: list[str], patch: Path | None = None) -> dict:
    return {
        "run_id": "tiny",
        "variants": [{"name": v, "go": GO, "mode": "source", "patches": []} for v in variants],
        "toolchains": {
            v: {
                "key": "k" * 64,
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
        "workloads": [{"name": "w", "benchmark": "w", "kind": "bench"}],
        "order": [],
        "processes": {},
    }


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
            *("--probe-duration", "1", "--target-seconds", "0.3"),
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


def test_render_report_writes_every_output_into_the_run_dir(rendered):
    run_dir, paths, _ = rendered
    assert set(paths) >= OUTPUTS
    for name, path in paths.items():
        assert path.parent == run_dir and path.name == name and path.stat().st_size > 0
    html = paths["report.html"].read_text()
    assert html.index('id="verdict-table"') < html.index("<svg")  # the verdicts come first
    for section in ("nsop", "stw", "latency", "gc", "provenance", "run"):
        assert f'id="{section}"' in html
    assert "runqget-priority.patch" in html and "runnext" in html  # the diff itself
    assert "No data" not in html  # a real run has data for every section


def test_bench_txt_round_trips_through_parse_bench(rendered):
    run_dir, paths, _ = rendered
    samples = pd.read_parquet(run_dir / "tables" / "samples.parquet")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    parsed = parse_bench(paths["bench.txt"].read_text())
    assert parsed.skipped == 0
    got: dict[tuple[str, str, str], list[float]] = {}
    for result in parsed.results:
        name = "Benchmark" + benchmark_name(result.name, result.procs)
        workload = next(
            w["name"]
            for w in manifest["workloads"]
            if bench_name(w["benchmark"] or w["name"]) in name
        )
        assert result.iterations == manifest["benchtime"].get(workload, 1)
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


def test_summary_json_is_strict_json_with_the_documented_keys(rendered):
    run_dir, paths, comparisons = rendered
    summary = strict_json(paths["summary.json"].read_text())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert summary["run_id"] == manifest["run_id"] == summary["manifest"]["run_id"]
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
    assert digest["n_processes"] == len(manifest["order"]) and digest["n_failed"] == 0
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


def test_summary_md_and_headline(rendered):
    run_dir, paths, comparisons = rendered
    md = paths["summary.md"].read_text()
    assert md.startswith(f"## stwbench {run_dir.name}")
    assert f"stwbench report {run_dir}" in md
    assert "| benchmark | metric |" in md and "`ns/op`" in md
    counts = comparisons["verdict"].value_counts()
    line = headline(comparisons)
    assert 1 <= len(line.splitlines()) <= 2
    for verdict, n in counts.items():
        assert f"{n} {verdict}" in line and f"{n} {verdict}" in md


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
    assert first == "cand vs baseline: 2 worse, 1 better, 1 same (4 comparisons)"
    assert second.startswith("worse: A ns/op +50.0%") and "A B/op +200%" in second
    assert "better: P start-latency-p99-ns -50.0%" in second
    assert headline(pd.DataFrame()) == "no comparisons"


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
    paths = render_report(tmp_path, pd.DataFrame(), manifest={}, warnings=[])
    assert {"report.html", "summary.md", "summary.json", "bench.txt"} <= set(paths)
    html = paths["report.html"].read_text()
    assert "<svg" not in html
    for section in ("verdicts", "nsop", "stw", "latency", "gc"):
        body = html.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
        assert "No data" in body, section
    summary = strict_json(paths["summary.json"].read_text())
    assert summary["comparisons"] == [] and summary["run_id"] == tmp_path.name
    assert "no rows" in paths["summary.md"].read_text()


def test_a_variant_whose_every_process_failed_still_renders(real_run, tmp_path):
    run_dir = tmp_path / "failed-run"
    shutil.copytree(real_run, run_dir, ignore=shutil.ignore_patterns("bin", "*.html"))
    manifest = json.loads((run_dir / "manifest.json").read_text())
    for slug, process in manifest["processes"].items():
        if slug.startswith("runqget-priority/"):
            process.update(status="failed", exit_code=2, reason=f"fatal error: {XSS}")
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
        1 for slug in manifest["processes"] if slug.startswith("runqget-priority/")
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


def page_errors(dom: str) -> list[str]:
    match = re.search(r'<html[^>]*\sdata-errors="([^"]*)"', dom)
    assert match, "the page's error recorder did not run"
    return json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def test_report_loads_in_a_browser_without_errors_or_requests(rendered, tmp_path):
    _, paths, _ = rendered
    page = paths["report.html"]
    html = page.read_text()
    # Static check: nothing that would load a resource from anywhere. matplotlib's SVG
    # refers to its own clip paths and glyphs (`url(#p…)`, `href="#…"`): those stay.
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(?!#)[a-z/]""", html, re.IGNORECASE)
    assert not re.search(r"""url\(\s*["']?(?!#)|@import|<link\b|<img\b""", html, re.IGNORECASE)

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


def test_aa_arm_gets_its_own_block_and_stays_out_of_the_verdicts(tmp_path):
    variants = ["baseline", "cand", "baseline-aa"]
    samples = samples_frame(
        [
            {"variant": v, "workload": "w", "benchmark": b, "rep": rep, "value": x * rep}
            for b, factors in (("A", (1.0, 2.0, 1.0)), ("B", (1.0, 1.0, 1.5)))
            for v, x in zip(variants, factors, strict=True)
            for rep in (1, 2, 3)
        ]
    )
    comparisons = placeholder_comparisons(samples)
    aa = {"rows": 2, "flagged": 1, "rate": 0.5}  # harness/stats' aa_false_positive_rate shape
    paths = render_report(
        tmp_path,
        comparisons,
        frames={"samples": samples},
        manifest=tiny_manifest(variants),
        warnings=[],
        aa=aa,
    )
    html = paths["report.html"].read_text()
    verdicts = html.split('id="verdicts"', 1)[1].split("</section>", 1)[0]
    block = html.split('id="aa"', 1)[1].split("</section>", 1)[0]
    assert "baseline-aa" not in verdicts and verdicts.count('class="row-') == 2
    assert "<b>1</b> of 2" in block and "50.0%" in block and ">B<" in block
    summary = strict_json(paths["summary.json"].read_text())
    assert summary["aa"] == {**aa, "candidate": "baseline-aa"}
    assert len(summary["comparisons"]) == 4  # every row stays in the machine-readable file
    assert "**A/A** (`baseline-aa`): 1 of 2 rows flagged" in paths["summary.md"].read_text()


# --- provenance -------------------------------------------------------------------------


def test_toolchain_gate_and_patch_provenance_are_shown(tmp_path):
    patch = tmp_path / "p.patch"
    patch.write_text("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n")
    manifest = tiny_manifest(["baseline", "cand", "gone"], patch)
    manifest["toolchains"]["baseline"]["gate"] = {"passed": True, "tests_passed": ["T1", "T2"]}
    manifest["toolchains"]["cand"]["gate"] = {
        "passed": False,
        "tests_failed": ["TestGCFairness"],
        "tests_missing": [],
    }
    manifest["toolchains"]["gone"]["patches"] = [
        {"name": "lost.patch", "path": str(tmp_path / "lost.patch"), "sha256": "1" * 64}
    ]
    html = render_report(tmp_path, pd.DataFrame(), manifest=manifest, warnings=[])[
        "report.html"
    ].read_text()
    assert "pass (2 tests)" in html and "FAIL: TestGCFairness" in html and "not run" in html
    assert "the file has changed since the run" in html  # recorded sha256 is not the file's
    assert '<span class="add">+new</span>' in html
    assert f"patch file {tmp_path / 'lost.patch'} is not readable here" in html


def test_rendering_twice_gives_the_same_files(rendered):
    """Plots are seeded and undated, so a re-render changes nothing (diffable reports)."""
    run_dir, paths, comparisons = rendered
    before = {name: path.read_bytes() for name, path in paths.items()}
    again = render_report(run_dir, comparisons)
    assert {name: path.read_bytes() for name, path in again.items()} == before
