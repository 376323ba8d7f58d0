"""The run-directory contract (harness/rundir): typed records, schema check, migrations.

tests/fixtures/rundir-schema1/ is a real `stwbench ab --aa` run captured with the main of
2026-12-01 (schema 1; HOW.md says how). It must load, migrate and re-render to the very
verdicts that run's own report gave (expected_verdicts.json, from its summary.json).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.rundir import SCHEMA, Manifest, RunDir, load_manifest, read_status
from harness.rundir.migrations import migrate
from tests.conftest import stwbench

SCHEMA1 = Path(__file__).parent / "fixtures" / "rundir-schema1"
KEY = ("candidate", "benchmark", "metric", "phase")


@pytest.fixture
def old_run(tmp_path: Path) -> Path:
    """A copy of the schema-1 run directory (a report writes into the run directory)."""
    copy = tmp_path / "run"
    shutil.copytree(SCHEMA1, copy, ignore=shutil.ignore_patterns("HOW.md", "expected_*"))
    return copy


def test_a_schema_1_run_loads_migrated_with_its_baseline_and_aa_arm_recorded():
    raw = json.loads((SCHEMA1 / "manifest.json").read_text())
    assert raw["schema"] == 1 and "baseline" not in raw and "aa_arm" not in raw
    manifest = load_manifest(SCHEMA1 / "manifest.json")
    assert manifest.schema_ == SCHEMA
    assert manifest.baseline == "baseline" and manifest.aa_arm == "baseline-aa"
    assert manifest.candidates == ["baseline-aa", "runqget-priority"]
    assert manifest.options.claims is True  # schema-1 reports always had the section
    assert len(manifest.order) == 36 and len(manifest.processes) == 36
    assert all(manifest.status_of(item) == "ok" for item in manifest.order)
    run = RunDir.open(SCHEMA1)
    done = list(run.finished_items())
    assert len(done) == 36 and all(d.status.status == "ok" for d in done)


def test_a_migrated_manifest_round_trips_through_its_json():
    manifest = load_manifest(SCHEMA1 / "manifest.json")
    again = Manifest.model_validate(json.loads(json.dumps(manifest.to_json())))
    assert again == manifest and again.to_json()["schema"] == SCHEMA


def test_the_schema_1_run_re_renders_to_the_same_verdicts(old_run: Path):
    from harness.analyze import analyze

    analyze(old_run)
    expected = json.loads((SCHEMA1 / "expected_verdicts.json").read_text())
    got = json.loads((old_run / "summary.json").read_text())["comparisons"]
    want = {tuple(r[k] for k in KEY): r["verdict"] for r in expected}
    have = {tuple(r[k] for k in KEY): r["verdict"] for r in got}
    assert len(want) == 292
    assert have == want
    # bench.txt's headers come from what `go test` printed, via the bench_config table
    # (the report never opens raw/).
    bench = (old_run / "bench.txt").read_text()
    assert "goos: linux" in bench and "pkg: stwbench/workloads" in bench


def test_report_recomputes_the_phases_with_another_after_stw_window(old_run: Path):
    """The run recorded the trace; the analysis derives the GC phases, so another X needs
    no trace and no re-run."""
    import pandas as pd

    def phase_counts() -> dict:
        frame = pd.read_parquet(old_run / "tables" / "trace_goroutines.parquet")
        return frame.groupby("phase").size().to_dict()

    assert stwbench("report", old_run).returncode == 0
    default = phase_counts()
    result = stwbench("report", old_run, "--trace-after-stw-us", "5000")
    assert result.returncode == 0, result.stderr[-2000:]
    wide = phase_counts()
    assert sum(wide.values()) == sum(default.values())  # the same goroutines
    assert wide.get("after-sweep-term", 0) > default.get("after-sweep-term", 0)
    assert wide.get("mark", 0) < default.get("mark", 0)


def _write(path: Path, data) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "manifest.json").write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _schema1() -> dict:
    return json.loads((SCHEMA1 / "manifest.json").read_text())


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.update(schema=99), "schema 99 is newer than this stwbench knows"),
        (lambda m: m.pop("schema"), "no integer `schema` key"),
        (lambda m: m.update(colour="blue"), "colour: Extra inputs are not permitted"),
        (lambda m: m["options"].update(reps="ten"), "options.reps:"),
        (lambda m: m["variants"][0].update(mode="fast"), "variants.0.mode:"),
        (lambda m: m["workloads"][0].update(kind="wasm"), "workloads.0.kind:"),
        (lambda m: next(iter(m["processes"].values())).update(status="great"), "status:"),
        (lambda m: m["order"][0].update(variant="ghost"), "names an unknown variant"),
        (lambda m: m.update(variants=[]), "variants: List should have at least 1 item"),
    ],
)
def test_a_bad_manifest_is_a_usage_error_naming_file_and_key(tmp_path: Path, change, message):
    data = _schema1()
    change(data)
    run = _write(tmp_path / "bad", data)
    with pytest.raises(UsageError) as caught:
        RunDir.open(run)
    assert str(run / "manifest.json") in str(caught.value)
    assert message in str(caught.value)


def test_stwbench_report_on_a_bad_run_directory_exits_2(tmp_path: Path):
    not_json = _write(tmp_path / "a", "{nope")
    result = stwbench("report", not_json)
    assert result.returncode == 2 and "cannot read it as JSON" in result.stderr
    result = stwbench("report", tmp_path / "missing")
    assert result.returncode == 2 and "not a run directory" in result.stderr
    newer = _write(tmp_path / "b", {**_schema1(), "schema": SCHEMA + 1})
    result = stwbench("report", newer)
    assert result.returncode == 2 and "upgrade stwbench" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrations_reach_the_current_schema_and_never_rewrite_the_input():
    data = _schema1()
    before = json.dumps(data, sort_keys=True)
    migrated = migrate(data)
    assert migrated["schema"] == SCHEMA and json.dumps(data, sort_keys=True) == before


def test_process_status_files_are_typed_records():
    item = load_manifest(SCHEMA1 / "manifest.json").order[0]
    status = read_status(SCHEMA1 / "raw" / item.slug)
    assert status.status == "ok" and status.exit_code == 0 and status.duration_s > 0
