"""`stwbench nightly` end to end, for real: source-mode go1.27.3 toolchains, the Scheduler
workload, three backfilled nights of one series, the third carrying the test-only patch
that makes every `go f()` spin 20 µs: exit codes 0, 0, 1 with --fail-on-regression, an
alert naming the patch, the trend report showing the step. On SQLite and PostgreSQL.
The nights are recorded under the host name (no --machine); a second machine then
records the same night into the same history (--machine, nightly.toml's `machine`).
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.history.config import load_config, machine_name
from harness.history.store import History, database_url
from harness.metrics import is_headline
from harness.runs.workloads import SUITES
from tests.conftest import GO, REPO, scratch_postgres_db, stwbench

pytestmark = pytest.mark.slow  # real toolchains and processes: the fast lane skips it

SLOW = REPO / "tests" / "patches" / "test-only-slow-newproc.patch"
NIGHTS = ("2026-01-01", "2026-01-02", "2026-01-03")
HOST = platform.node()  # the machine the three nights are recorded under by default


def nightly(*args, cwd: Path = REPO) -> subprocess.CompletedProcess:
    # --no-gate: detection and history are under test here; the gate has tests/test_gate.py.
    return stwbench("nightly", *args, "--no-gate", cwd=cwd)


def write_config(path: Path, patches=(), extra: str = "") -> Path:
    lines = [
        "reps = 4",
        "gomaxprocs = 2",
        "target_seconds = 0.15",
        extra,
        "[[series]]",
        'name = "tip"',
        f'go = "{GO}"',
        'mode = "source"',
        'workloads = "Scheduler"',
        f"patches = {json.dumps([str(p) for p in patches])}",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Nights:
    out: Path
    db: str
    base: Path
    slow: Path
    runs: list[subprocess.CompletedProcess]

    @property
    def trend(self) -> Path:
        return self.out / "nightly"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def three_nights(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"nightly-{request.param}")
    base = write_config(root / "base.toml")
    slow = write_config(root / "slow.toml", [SLOW])

    def run(db: str) -> Nights:
        runs = [
            nightly(
                "--config",
                config,
                "--db",
                db,
                "--night",
                night,
                "--out",
                root / "results",
                "--seed",
                i + 1,
                "--fail-on-regression",
            )
            for i, (config, night) in enumerate(zip((base, base, slow), NIGHTS, strict=True))
        ]
        return Nights(root / "results", db, base, slow, runs)

    if request.param == "sqlite":
        yield run(f"sqlite:///{root / 'results' / 'history.sqlite'}")
    else:
        with scratch_postgres_db(request.getfixturevalue("postgres_server_url")) as db:
            yield run(db)


def test_three_nights_exit_0_0_1_and_the_third_raises_the_alert(three_nights):
    codes = [r.returncode for r in three_nights.runs]
    assert codes == [0, 0, 1], "\n".join(r.stderr[-2500:] for r in three_nights.runs)
    third = three_nights.runs[2].stderr
    line = next(
        ln for ln in third.splitlines() if "new alert REGRESSION tip Scheduler-2 ns/op" in ln
    )
    print(f"\n{line}")  # quoted in the README and the handover note
    assert "first bad night 2026-01-03, last good 2026-01-02" in line
    assert "+ patch test-only-slow-newproc.patch" in line
    assert f"ns/op on {HOST}:" in line  # the alert names its machine
    for night, run in zip(NIGHTS, three_nights.runs, strict=True):
        flat = " ".join(run.stderr.split())
        assert f"night {night} on machine {HOST}:" in flat, run.stderr[-2000:]
    for run in three_nights.runs:
        assert Path(run.stdout.strip()) == three_nights.trend / "index.html"


def test_the_history_holds_three_nights_and_one_open_scheduler_alert(three_nights):
    history = History(three_nights.db)
    nights = history.nights(["tip"])
    assert [str(n) for n in nights["night"]] == list(NIGHTS)
    assert nights["machine"].tolist() == [machine_name(None)] * 3 == [HOST] * 3
    assert len(set(nights["toolchain_key"])) == 2 and nights["processes_failed"].sum() == 0
    assert json.loads(nights["patches_json"].iloc[2])[0]["name"] == SLOW.name
    samples = history.series_samples("tip")
    per_night = samples[samples["metric"] == "ns/op"].groupby("night").size()
    assert per_night.tolist() == [4, 4, 4]
    alerts = history.alerts(["tip"])
    assert set(alerts["raised_night"].astype(str)) == {"2026-01-03"}  # nothing before
    (alert,) = alerts[(alerts["metric"] == "ns/op")].to_dict("records")
    assert alert["benchmark"] == "Scheduler-2" and alert["kind"] == "regression"
    assert alert["status"] == "open" and alert["ratio"] > 2 and alert["ci_low"] > 1.5
    assert alert["machine"] == HOST
    assert str(alert["first_bad_night"]) == "2026-01-03"
    assert str(alert["last_good_night"]) == "2026-01-02"
    change = json.loads(alert["toolchain_change_json"])
    assert change["changed"] and change["patches"]["after"][0]["name"] == SLOW.name
    history.dispose()


def test_every_night_keeps_its_report_and_the_same_benchmark_n(three_nights):
    benchtimes = []
    for night in NIGHTS:
        (run_dir,) = [p for p in (three_nights.trend / night).iterdir() if p.name != "latest"]
        for name in ("report.html", "summary.md", "findings.csv", "manifest.json"):
            assert (run_dir / name).stat().st_size > 0, (night, name)
        manifest = json.loads((run_dir / "manifest.json").read_text())
        assert manifest["nightly"]["night"] == night
        assert "***" in manifest["nightly"]["db"] or manifest["nightly"]["db"].startswith("sqlite")
        benchtimes.append(manifest["benchtime"])
    # Calibrated on the first night, reused after: the slow night does the same work.
    assert benchtimes[0] == benchtimes[1] == benchtimes[2] and benchtimes[0]["Scheduler"] > 1


def test_the_trend_report_shows_the_step_and_the_alert(three_nights):
    html = (three_nights.trend / "index.html").read_text()
    table = html.split('id="open-alerts"', 1)[1].split("</table>", 1)[0]
    row = next(r for r in table.split('<tr class="alert-row">')[1:] if ">ns/op<" in r)
    for text in ("regression", "Scheduler-2", "2026-01-03", "2026-01-02", SLOW.name):
        assert text in row, text
    assert html.count("<svg") >= 2  # throughput and STW figures of the series
    links = [part.split('"', 1)[0] for part in html.split('<a href="')[1:]]
    reports = [link for link in links if link.endswith("report.html")]
    assert len(reports) == 3
    assert all((three_nights.trend / link).is_file() for link in reports)
    summary = (three_nights.trend / "summary.md").read_text()
    assert "### Open alerts (" in summary
    row = next(ln for ln in summary.splitlines() if "`Scheduler-2` | `ns/op`" in ln)
    assert row.startswith("| **regression** | tip |") and "| 2026-01-03 | 2026-01-02 |" in row
    assert "test-only-slow-newproc.patch" in row


def test_the_trend_report_loads_in_a_browser_without_errors_or_requests(three_nights, tmp_path):
    from tests.test_report import headless, page_errors

    result = headless(three_nights.trend / "index.html", tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'data-loaded="1"' in result.stdout and page_errors(result.stdout) == []
    assert 'id="open-alerts"' in result.stdout


def test_report_only_rerenders_the_trend_from_the_database(three_nights, tmp_path):
    result = nightly("--report-only", "--db", three_nights.db, "--out", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    html = (tmp_path / "nightly" / "index.html").read_text()
    assert 'id="open-alerts"' in html and "Scheduler-2" in html


@pytest.fixture
def history_copy(three_nights, tmp_path):
    """A copy of the module's history, to change without touching it."""
    url = database_url(three_nights.db)
    if url.get_backend_name() == "sqlite":
        shutil.copy(url.database, tmp_path / "copy.sqlite")
        yield f"sqlite:///{tmp_path / 'copy.sqlite'}"
        return
    with scratch_postgres_db(three_nights.db, template=three_nights.db) as copy:
        yield copy


def test_a_recorded_night_is_refused_and_replace_records_it_again(
    three_nights, history_copy, tmp_path
):
    db = history_copy
    again = nightly(
        "--config", three_nights.base, "--db", db, "--night", NIGHTS[2], "--out", tmp_path
    )
    assert again.returncode == 2 and "already in the history for tip" in again.stderr
    assert not (tmp_path / "nightly" / NIGHTS[2]).exists()  # refused before running anything
    replaced = nightly(
        "--config",
        three_nights.base,
        "--db",
        db,
        "--night",
        NIGHTS[2],
        "--out",
        tmp_path,
        "--replace",
        "--fail-on-regression",
    )
    assert replaced.returncode == 0, replaced.stderr[-3000:]
    assert "replaced night 2026-01-03 of tip" in replaced.stderr
    history = History(db)
    assert len(history.nights()) == 3
    # The slow night's regression alert is gone: replacing a night recomputes its alerts.
    # The new night has no patch, so no alert may name one and none may be a regression
    # (exit 0 above with --fail-on-regression). Between nights hours apart, the medians of
    # 4 processes can still move past the short-history floor by chance: an improvement
    # alert then is detection's business (tests/test_history_detect.py), not replace's.
    alerts = history.alerts()
    headline = alerts[alerts["metric"].map(is_headline).astype(bool)]
    assert not (headline["kind"] == "regression").any(), alerts.to_string()
    assert not alerts["toolchain_change"].str.contains(SLOW.name).any(), alerts.to_string()
    assert len(set(history.nights()["toolchain_key"])) == 1
    history.dispose()


def test_a_second_machine_records_the_same_night_in_the_same_history(
    three_nights, history_copy, tmp_path
):
    """The host has all three nights; `other` (nightly.toml's `machine`) records the slow
    third night too, then `cli` (--machine wins over the file) the same night again:
    neither is refused, neither is judged against the host's nights (no alert: a first
    night), and the trend report has a panel per machine."""
    db = history_copy
    config = write_config(tmp_path / "other.toml", [SLOW], extra='machine = "other"')
    runs = {
        "other": nightly("--config", config, "--db", db, "--night", NIGHTS[2], "--out", tmp_path,
                         "--fail-on-regression"),
        "cli": nightly("--config", config, "--db", db, "--night", NIGHTS[2], "--out", tmp_path,
                       "--fail-on-regression", "--machine", "cli"),
    }  # fmt: skip
    for machine, run in runs.items():
        assert run.returncode == 0, run.stderr[-3000:]
        assert f"night {NIGHTS[2]} on machine {machine}:" in " ".join(run.stderr.split())
    history = History(db)
    nights = history.nights(["tip"])
    assert sorted(nights["machine"]) == sorted([HOST] * 3 + ["other", "cli"])
    assert set(nights.loc[nights["machine"] != HOST, "night"].astype(str)) == {NIGHTS[2]}
    alerts = history.alerts()
    assert set(alerts["machine"]) == {HOST}  # the new machines: a first night each
    history.dispose()
    html = (tmp_path / "nightly" / "index.html").read_text()
    panels = [part.split('data-machine="', 1)[1].split('"', 1)[0]
              for part in html.split('class="series-panel" data-series="tip"')[1:]]  # fmt: skip
    assert panels == [HOST, "other", "cli"]
    # Recording one of them again is refused as before, naming the machine.
    again = nightly("--config", config, "--db", db, "--night", NIGHTS[2], "--out", tmp_path)
    assert again.returncode == 2 and "on machine other" in " ".join(again.stderr.split())


# --- usage errors (exit 2, nothing run) -------------------------------------------------


def test_usage_and_environment_errors_exit_2(tmp_path):
    config = write_config(tmp_path / "ok.toml")
    db = f"sqlite:///{tmp_path / 'h.sqlite'}"
    cases = [
        (("--db", db), "give --config"),
        (("--config", config, "--db", db, "--night", "2026-13-01"), "--night wants YYYY-MM-DD"),
        (("--config", tmp_path / "missing.toml", "--db", db), "missing.toml"),
        (
            ("--config", write_config(tmp_path / "bad.toml", extra="colour = 1"), "--db", db),
            "key colour: unknown key",
        ),
        (
            ("--config", config, "--db", "postgresql://nobody:secret@127.0.0.1:1/x"),
            "cannot connect",
        ),
        (("--config", config, "--db", db, "--machine", " "), "machine name ''"),
        (
            ("--config", write_config(tmp_path / "m.toml", extra='machine = ""'), "--db", db),
            "key machine: machine name ''",
        ),
    ]
    for args, message in cases:
        result = nightly(*args, "--out", tmp_path)
        assert result.returncode == 2, (args, result.stderr[-1500:])
        assert message in " ".join(result.stderr.split()), (args, result.stderr[-1500:])
        assert "secret" not in result.stderr
    assert not (tmp_path / "nightly").exists()


def test_config_series_union_of_workloads_and_quick(tmp_path):
    config = load_config(REPO / "nightly.toml")
    assert [s.name for s in config.series] == ["go1.27", "runqget-priority"]
    assert config.series[1].patches == (str(REPO / "patches" / "runqget-priority.patch"),)
    assert len(config.workloads()) == len(SUITES["default"]) == 12 and config.options.reps == 10
    config.quick()
    assert [w.name for w in config.workloads()] == ["probe", "Scheduler", "BurstSpawn"]
    assert config.options.reps == 5 and config.target_seconds == 0.3

    mixed = tmp_path / "mixed.toml"
    mixed.write_text(
        'workloads = "Scheduler"\n'
        '[[series]]\nname = "a"\ngo = "1.27.3"\n'
        '[[series]]\nname = "b"\ngo = "1.27.3"\nworkloads = "BurstSpawn,Scheduler"\n'
        "control = true\n"
        "[detection]\nalpha = 0.05\n"
    )
    config = load_config(mixed)
    assert [w.name for w in config.workloads()] == ["Scheduler", "BurstSpawn"]
    assert config.series[1].control and config.detection.alpha == 0.05
    assert config.machine is None  # no `machine`: the host name (machine_name)
    mixed.write_text('machine = " bench-7 "\n' + mixed.read_text())
    assert load_config(mixed).machine == "bench-7"
    assert machine_name(None) == HOST and machine_name("x") == "x"
