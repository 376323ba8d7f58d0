"""The history database for real, on SQLite and on PostgreSQL (`history_url` runs each test
on both): migrations, a night's round trip, alerts, replace, concurrent writers in
separate processes that must neither interleave nor corrupt a night, and one history
from many machines (each machine's nights their own history)."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import time

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from harness.errors import EnvironmentProblem
from harness.history import schema
from harness.history.alerts import describe
from harness.history.detect import as_date
from harness.history.record import NightAlreadyRecorded, SeriesNight, record_night
from harness.history.store import History
from harness.history.trend import write_trend

NIGHT = dt.date(2026, 1, 1)
HOST = "bench-1"  # the machine every single-machine test records under
KEY_A, KEY_B = "a" * 64, "b" * 64
SLOW = {"name": "test-only-slow-newproc.patch", "path": "/x/slow.patch", "sha256": "5" * 64}


def samples(night_index: int, *, factor: float = 1.0, reps: int = 5, extra: int = 0, tag=0.0):
    """A run's samples rows for one series and night: Scheduler ns/op and a tail metric,
    plus `extra` filler metrics (to make a night big enough to take a while)."""
    rng = np.random.default_rng(night_index)
    rows = []
    for rep in range(1, reps + 1):
        for metric, unit, level in (
            ("ns/op", "ns/op", 20_000.0 * factor),
            ("stw-pause-max-ms", "ms", 0.8),
        ):
            rows.append(
                {
                    "run_id": f"run-{night_index}",
                    "variant": "tip",
                    "workload": "Scheduler",
                    "benchmark": "Scheduler-2",
                    "rep": rep,
                    "metric": metric,
                    "unit": unit,
                    "value": level * float(np.exp(rng.normal(0, 0.02))),
                    "better": "lower",
                }
            )
        for i in range(extra):
            rows.append({**rows[0], "rep": rep, "metric": f"filler-{i}", "unit": "x", "value": tag})
    return pd.DataFrame(rows)


def entry(series: str, night_index: int, **kwargs) -> SeriesNight:
    """`slow`: the slow patch (a 3× step and a new toolchain); `factor`: the level alone
    (a slower machine, same toolchain)."""
    slow = kwargs.pop("slow", False)
    factor = kwargs.pop("factor", 3.0 if slow else 1.0)
    return SeriesNight(
        series=series,
        samples=samples(night_index, factor=factor, **kwargs),
        run_id=f"run-{night_index}",
        run_dir=f"/nowhere/{night_index}",
        variant=series,
        toolchain_key=KEY_B if slow else KEY_A,
        go_version="1.27.3",
        mode="source",
        executor={"kind": "none"},
        patches=[SLOW] if slow else [],
        reps=kwargs.get("reps", 5),
        gomaxprocs=[2],
        benchtime={"target_seconds": 0.15, "n": {"Scheduler": 1000 + night_index}},
        processes_ok=kwargs.get("reps", 5),
    )


def day(i: int) -> dt.date:
    return NIGHT + dt.timedelta(days=i)


# --- migrations ---------------------------------------------------------------------


def test_a_fresh_database_gets_the_latest_schema_and_migrating_again_is_a_no_op(history_url):
    history = History(history_url)
    assert history.version() == 0
    assert history.migrate() == [1, 2, 3, 4]
    assert history.version() == schema.LATEST == 4
    assert history.migrate() == []
    inspector = sa.inspect(history.engine)
    for table in (schema.nights, schema.samples, schema.alerts, schema.schema_version):
        reflected = {c["name"] for c in inspector.get_columns(table.name)}
        assert reflected == {c.name for c in table.columns}, table.name
    with history.read() as conn:
        versions = conn.execute(sa.select(schema.schema_version.c.version)).scalars().all()
    assert sorted(versions) == [1, 2, 3, 4]
    history.dispose()


def test_an_older_database_is_upgraded_and_keeps_its_nights(history_url):
    history = History(history_url)
    assert history.migrate(target=1) == [1]
    assert not sa.inspect(history.engine).has_table("alerts")
    # A version-1 database with a night in it, written with version 1's tables.
    v1 = sa.MetaData()
    nights_v1, samples_v1 = schema._nights_v1(v1), schema._samples_v1(v1)
    with history.write() as conn:
        night_id = conn.execute(
            nights_v1.insert().values(
                series="tip",
                night=NIGHT,
                run_id="r",
                run_dir="/r",
                variant="tip",
                toolchain_key=KEY_A,
                go_version="1.27.3",
                mode="source",
                executor="{}",
                patches_json="[]",
                env_json="{}",
                workloads_json="[]",
                reps=1,
                gomaxprocs_json="[2]",
                benchtime_json="{}",
                machine_json="{}",
                control=False,
                processes_ok=1,
                processes_failed=0,
                stwbench_version="0",
                created_at="2026-01-01T00:00:00+00:00",
            )
        ).inserted_primary_key[0]
        conn.execute(
            samples_v1.insert(),
            [
                {
                    "night_id": night_id,
                    "workload": "Scheduler",
                    "benchmark": "Scheduler-2",
                    "rep": 1,
                    "metric": "ns/op",
                    "unit": "ns/op",
                    "value": 1.0,
                    "better": "lower",
                    "phase": "all",
                }
            ],
        )
    history.dispose()

    upgraded = History(history_url)
    assert upgraded.version() == 1
    assert upgraded.migrate() == [2, 3, 4]
    assert upgraded.version() == 4
    assert len(upgraded.nights()) == 1 and len(upgraded.series_samples("tip")) == 1
    assert upgraded.alerts().empty  # the new table, there and empty
    assert upgraded.nights()["source_json"].isna().all()  # v3's column, null for old nights
    assert upgraded.nights()["machine"].tolist() == ["default"]  # v4's: machine_json has no host
    record_night(upgraded, day(1), [entry("tip", 1)], machine=HOST)  # and usable
    assert len(upgraded.nights()) == 2
    upgraded.dispose()


def _v3_night(conn, table, series: str, i: int, machine_json: str) -> int:
    night_id = conn.execute(
        table.insert().values(
            series=series,
            night=day(i),
            run_id=f"r{i}",
            run_dir=f"/r{i}",
            variant=series,
            toolchain_key=KEY_A,
            go_version="1.27.3",
            mode="source",
            executor="{}",
            patches_json="[]",
            env_json="{}",
            workloads_json="[]",
            reps=5,
            gomaxprocs_json="[2]",
            benchtime_json="{}",
            machine_json=machine_json,
            control=False,
            processes_ok=5,
            processes_failed=0,
            stwbench_version="0",
            created_at="2026-01-01T00:00:00+00:00",
            source_json=None,
        )
    ).inserted_primary_key[0]
    return int(night_id)


def test_a_v3_database_with_rows_migrates_to_v4_with_machines_filled(history_url):
    history = History(history_url)
    assert history.migrate(target=3) == [1, 2, 3]
    # A version-3 history, written with version 3's tables: two nights of `tip` on a host
    # that machine_json names, one night of `ctl` whose machine_json names none, their
    # samples, and an alert raised on tip's second night.
    v3 = sa.MetaData()
    nights_v3, samples_v3, alerts_v3 = (
        schema._nights_v3(v3),
        schema._samples_v1(v3),
        schema._alerts_v2(v3),
    )
    with history.write() as conn:
        ids = {
            ("tip", 0): _v3_night(conn, nights_v3, "tip", 0, '{"hostname": "old-host"}'),
            ("tip", 1): _v3_night(conn, nights_v3, "tip", 1, '{"hostname": "old-host"}'),
            ("ctl", 1): _v3_night(conn, nights_v3, "ctl", 1, "{}"),
        }
        for (_series, i), night_id in ids.items():
            rows = samples(i).drop(columns=["run_id", "variant"]).assign(night_id=night_id)
            conn.execute(samples_v3.insert(), rows.assign(phase="all").to_dict("records"))
        alert_id = conn.execute(
            alerts_v3.insert().values(
                **{k: "x" for k in ("workload", "benchmark", "metric", "phase", "unit")},
                series="tip",
                better="lower",
                kind="regression",
                raised_night=day(1),
                first_bad_night=day(1),
                last_good_night=day(0),
                ratio=2.0,
                threshold=0.5,
                threshold_source="short-history",
                confidence="low",
                before_median=1.0,
                after_median=2.0,
                n_before=5,
                n_after=5,
                toolchain_change="none",
                toolchain_change_json="{}",
                status="open",
                created_at="2026-01-02T00:00:00+00:00",
            )
        ).inserted_primary_key[0]
    history.dispose()

    upgraded = History(history_url)
    assert upgraded.migrate() == [4] and upgraded.version() == 4
    nights = upgraded.nights()
    # Every row kept with its id; the machine from machine_json's hostname, or "default".
    by_key = {(r.series, as_index(r.night)): r for r in nights.itertuples()}
    assert {k: int(r.id) for k, r in by_key.items()} == ids
    assert {k: r.machine for k, r in by_key.items()} == {
        ("tip", 0): "old-host",
        ("tip", 1): "old-host",
        ("ctl", 1): "default",
    }
    assert len(upgraded.series_samples("tip", machine="old-host")) == 2 * 5 * 2
    assert len(upgraded.series_samples("ctl", machine="default")) == 5 * 2
    (alert,) = upgraded.alerts().to_dict("records")
    assert alert["id"] == alert_id and alert["machine"] == "old-host"  # its night's machine

    inspector = sa.inspect(upgraded.engine)
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("nights")}
    assert ("series", "machine", "night") in uniques and ("series", "night") not in uniques
    alert_uniques = [u["column_names"] for u in inspector.get_unique_constraints("alerts")]
    assert any("machine" in columns for columns in alert_uniques), alert_uniques
    assert "ix_alerts_series_status" in {i["name"] for i in inspector.get_indexes("alerts")}
    for table in (schema.nights, schema.alerts):
        (machine,) = [c for c in inspector.get_columns(table.name) if c["name"] == "machine"]
        assert machine["nullable"] is False, table.name

    # The upgraded history goes on: old-host's third night is judged against its two
    # nights before; another machine may record tip on a night old-host has.
    third = record_night(upgraded, day(2), [entry("tip", 2)], machine="old-host")
    assert "insufficient-history" not in set(third.findings["status"])
    with pytest.raises(NightAlreadyRecorded, match="on machine old-host"):
        record_night(upgraded, day(1), [entry("tip", 1)], machine="old-host")
    record_night(upgraded, day(1), [entry("tip", 1)], machine="new-host")
    assert len(upgraded.nights(["tip"])) == 4
    upgraded.dispose()


def as_index(night) -> int:
    return (as_date(night) - NIGHT).days


def test_a_newer_database_is_refused(history_url):
    history = History(history_url)
    history.migrate()
    with history.write() as conn:
        conn.execute(
            schema.schema_version.insert().values(version=99, description="future", applied_at="x")
        )
    with pytest.raises(EnvironmentProblem, match="schema version 99"):
        history.migrate()
    history.dispose()


def test_unreachable_and_malformed_urls_are_clear_errors(tmp_path):
    from harness.errors import UsageError

    with pytest.raises(UsageError, match="not a database URL"):
        History("not a url")
    with pytest.raises(UsageError, match="must be a file"):
        History("sqlite://")
    history = History("postgresql://nobody:secret@127.0.0.1:1/none")
    with pytest.raises(EnvironmentProblem, match="cannot connect") as error:
        history.migrate()
    assert "secret" not in str(error.value) and "***" in str(error.value)


# --- a night's round trip -------------------------------------------------------------


def test_nights_round_trip_and_a_slow_third_night_raises_one_alert(history_url):
    history = History(history_url)
    history.migrate()
    first = record_night(history, day(0), [entry("tip", 0)], machine=HOST)
    second = record_night(history, day(1), [entry("tip", 1)], machine=HOST)
    assert first.new_alerts.empty and second.new_alerts.empty
    assert set(second.findings["status"]) == {"insufficient-history"}
    third = record_night(history, day(2), [entry("tip", 2, slow=True)], machine=HOST)
    assert len(third.new_regressions) == 1
    alert = third.new_regressions.iloc[0]
    assert (alert["benchmark"], alert["metric"], alert["kind"]) == (
        "Scheduler-2",
        "ns/op",
        "regression",
    )
    assert alert["first_bad_night"] == day(2) and alert["last_good_night"] == day(1)
    assert "+ patch test-only-slow-newproc.patch (555555555555)" in alert["toolchain_change"]
    assert f"key {KEY_A[:12]} → {KEY_B[:12]}" in alert["toolchain_change"]
    assert 2.5 < alert["ratio"] < 3.5 and alert["ci_low"] > 2

    nights = history.nights(["tip"])
    assert [n for n in nights["night"]] == [day(0), day(1), day(2)]
    frame = history.series_samples("tip")
    assert len(frame) == 3 * 5 * 2
    assert set(frame["toolchain_key"]) == {KEY_A, KEY_B}
    assert history.latest_benchtime(before=day(3), target_seconds=0.15) == {"Scheduler": 1002}
    assert history.latest_benchtime(before=day(3), target_seconds=1.0) == {}
    assert len(history.alerts(status="open")) == 1

    # The same night again is refused, and nothing changed; --replace recomputes it.
    with pytest.raises(NightAlreadyRecorded, match="already in the history for tip"):
        record_night(history, day(2), [entry("tip", 2)], machine=HOST)
    assert len(history.series_samples("tip")) == 30
    replaced = record_night(history, day(2), [entry("tip", 2)], machine=HOST, replace=True)
    assert replaced.replaced == ["tip"] and replaced.new_alerts.empty
    assert history.alerts().empty  # the alert raised on the replaced night is gone
    assert len(history.series_samples("tip")) == 30 and len(history.nights()) == 3
    history.dispose()


def test_a_revert_resolves_the_open_alert(history_url, tmp_path):
    history = History(history_url)
    history.migrate()
    for i in range(2):
        record_night(history, day(i), [entry("tip", i)], machine=HOST)
    raised = record_night(history, day(2), [entry("tip", 2, slow=True)], machine=HOST)
    (alert_id,) = raised.new_regressions["id"]
    for i in (3, 4):  # the slow level persists: the alert stays open, nothing new
        quiet = record_night(history, day(i), [entry("tip", i, slow=True)], machine=HOST)
        assert quiet.new_alerts.empty and quiet.resolved.empty
    reverted = record_night(history, day(5), [entry("tip", 5)], machine=HOST)
    assert reverted.new_alerts.empty
    assert reverted.resolved["id"].tolist() == [alert_id]
    (row,) = history.alerts().to_dict("records")
    assert row["status"] == "resolved" and row["resolved_night"] == day(5)

    # The trend report shows it among the resolved alerts, none open.
    paths = write_trend(history, tmp_path / "trend")
    html = paths["index.html"].read_text()
    assert 'id="open-count">0<' in html and "No open alerts." in html
    resolved = html.split('id="resolved-alerts"', 1)[1].split("</table>", 1)[0]
    assert "Scheduler-2" in resolved and "2026-01-03" in resolved and "2026-01-06" in resolved
    assert "### Open alerts (0)" in paths["summary.md"].read_text()
    history.dispose()


def test_an_empty_history_renders_an_empty_trend_report(history_url, tmp_path):
    history = History(history_url)
    history.migrate()
    paths = write_trend(history, tmp_path)
    assert "No nights recorded yet." in paths["index.html"].read_text()
    assert "### Open alerts (0)" in paths["summary.md"].read_text()
    history.dispose()


# --- concurrency: two processes at once ------------------------------------------------


def _writer(url, series, night_index, replace, tag, machine, barrier, queue):
    """One nightly writer in its own process; reports what it saw and when."""
    history = History(url)
    history.migrate()
    big = entry(series, night_index, extra=1200, tag=tag)  # ≈ 12k samples: 3 chunks
    inside = []

    def progress(_series, _done, _total):
        inside.append(time.monotonic())
        time.sleep(0.3)  # hold the transaction open: the other writer must wait

    barrier.wait()
    try:
        record_night(
            history,
            day(night_index),
            [big],
            machine=machine,
            replace=replace,
            progress=progress,
        )
        queue.put((tag, "ok", inside[0], time.monotonic()))
    except NightAlreadyRecorded as exc:
        queue.put((tag, f"refused: {exc}", None, time.monotonic()))
    except Exception as exc:  # reported, so the test shows it
        queue.put((tag, f"error: {type(exc).__name__}: {exc}", None, time.monotonic()))
    finally:
        history.dispose()


def _race(url, jobs):
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(len(jobs)), ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(url, *job, barrier, queue), daemon=True) for job in jobs
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return {r[0]: r[1:] for r in results}


def _contiguous_ids(history, night_id) -> bool:
    with history.read() as conn:
        ids = (
            conn.execute(
                sa.select(schema.samples.c.id).where(schema.samples.c.night_id == night_id)
            )
            .scalars()
            .all()
        )
    return max(ids) - min(ids) + 1 == len(ids)


def test_two_writers_of_different_nights_are_serialized_not_interleaved(history_url):
    History(history_url).migrate()
    results = _race(history_url, [("tip", 0, False, 1.0, HOST), ("tip", 1, False, 2.0, HOST)])
    assert {r[0] for r in results.values()} == {"ok"}
    (a_start, a_end), (b_start, b_end) = (results[1.0][1:], results[2.0][1:])
    assert a_end <= b_start or b_end <= a_start, "the two transactions overlapped"
    history = History(history_url)
    nights = history.nights(["tip"])
    assert len(nights) == 2
    for night_id in nights["id"]:
        assert _contiguous_ids(history, int(night_id))
    counts = history.series_samples("tip").groupby("night").size()
    assert counts.tolist() == [5 * 1202, 5 * 1202]
    history.dispose()


def test_two_writers_of_the_same_night_one_wins_the_other_is_refused(history_url):
    History(history_url).migrate()
    results = _race(history_url, [("tip", 0, False, 1.0, HOST), ("tip", 0, False, 2.0, HOST)])
    outcomes = sorted(r[0].split(":")[0] for r in results.values())
    assert outcomes == ["ok", "refused"], results
    history = History(history_url)
    (winner,) = [tag for tag, r in results.items() if r[0] == "ok"]
    frame = history.series_samples("tip")
    assert len(history.nights()) == 1 and len(frame) == 5 * 1202
    assert set(frame.loc[frame["metric"].str.startswith("filler"), "value"]) == {winner}
    history.dispose()


def test_two_writers_replacing_the_same_night_leave_exactly_one_of_them(history_url):
    History(history_url).migrate()
    results = _race(history_url, [("tip", 0, True, 1.0, HOST), ("tip", 0, True, 2.0, HOST)])
    assert {r[0] for r in results.values()} == {"ok"}, results
    (a_start, a_end), (b_start, b_end) = (results[1.0][1:], results[2.0][1:])
    assert a_end <= b_start or b_end <= a_start, "the two transactions overlapped"
    last = 1.0 if a_start > b_start else 2.0  # the later transaction replaced the earlier
    history = History(history_url)
    frame = history.series_samples("tip")
    assert len(history.nights()) == 1 and len(frame) == 5 * 1202
    assert set(frame.loc[frame["metric"].str.startswith("filler"), "value"]) == {last}
    history.dispose()


# --- one history from many machines ---------------------------------------------------

A, B = "bench-a", "bench-b"


def test_two_machines_record_the_same_series_on_the_same_night(history_url):
    history = History(history_url)
    history.migrate()
    a = record_night(history, day(0), [entry("tip", 0)], machine=A)
    b = record_night(history, day(0), [entry("tip", 0, factor=2.0)], machine=B)
    nights = history.nights(["tip"])
    assert len(nights) == 2 and set(nights["night"]) == {day(0)}
    assert sorted(nights["machine"]) == [A, B] and a.night_ids["tip"] != b.night_ids["tip"]
    assert (a.machine, b.machine) == (A, B)
    b_before = history.series_samples("tip", machine=B)
    assert len(b_before) == len(history.series_samples("tip", machine=A)) == 5 * 2
    assert len(history.series_samples("tip")) == 2 * 5 * 2  # every machine's

    # Re-recording one machine's night is refused as before, naming the machine, and
    # nothing changed; --replace replaces that machine's night only.
    with pytest.raises(NightAlreadyRecorded, match=f"already in the history for tip .*{A}"):
        record_night(history, day(0), [entry("tip", 0)], machine=A)
    assert len(history.series_samples("tip")) == 2 * 5 * 2
    replaced = record_night(history, day(0), [entry("tip", 7)], machine=A, replace=True)
    assert replaced.replaced == ["tip"]
    after = history.nights(["tip"])
    assert len(after) == 2
    assert after.set_index("machine").loc[A, "run_id"] == "run-7"
    assert after.set_index("machine").loc[B, "run_id"] == "run-0"
    b_after = history.series_samples("tip", machine=B)
    assert sorted(b_after["value"]) == sorted(b_before["value"])  # B's night untouched

    # The database's own key is (series, machine, night), whoever writes.
    (row,) = history.nights(["tip"], machine=B).drop(columns=["id"]).to_dict("records")
    with pytest.raises(sa.exc.IntegrityError), history.write() as conn:
        conn.execute(schema.nights.insert().values(**row))
    history.dispose()


def test_two_machines_writing_the_same_night_at_once_both_keep_their_night(history_url):
    History(history_url).migrate()
    results = _race(history_url, [("tip", 0, False, 1.0, A), ("tip", 0, False, 2.0, B)])
    assert {r[0] for r in results.values()} == {"ok"}, results
    history = History(history_url)
    assert sorted(history.nights(["tip"])["machine"]) == [A, B]
    for machine, tag in ((A, 1.0), (B, 2.0)):
        frame = history.series_samples("tip", machine=machine)
        assert len(frame) == 5 * 1202
        assert set(frame.loc[frame["metric"].str.startswith("filler"), "value"]) == {tag}
    history.dispose()


def record_two_machines(history: History) -> dict:
    """Three nights of `tip` on two machines: B is a slower machine (2× the level from its
    first night, same toolchain), A regresses 3× on the third night, no toolchain change.
    Night by night, B after A. `ctl` runs on A only. Returns {(machine, night): result}."""
    results = {}
    for i in range(3):
        results[(A, i)] = record_night(
            history,
            day(i),
            [entry("tip", i, factor=3.0 if i == 2 else 1.0), entry("ctl", i)],
            machine=A,
        )
        results[(B, i)] = record_night(history, day(i), [entry("tip", i, factor=2.0)], machine=B)
    return results


def test_detection_runs_per_machine(history_url):
    history = History(history_url)
    history.migrate()
    results = record_two_machines(history)

    # A's step alerts for A, and the alert says so.
    (alert,) = results[(A, 2)].new_regressions.to_dict("records")
    assert (alert["series"], alert["machine"], alert["metric"]) == ("tip", A, "ns/op")
    assert alert["first_bad_night"] == day(2) and alert["last_good_night"] == day(1)
    assert alert["toolchain_change"].startswith("no toolchain change")
    assert f"REGRESSION tip Scheduler-2 ns/op on {A}:" in describe(alert)
    # B raised nothing: neither its own 2× level (A's nights are not its baseline) nor A's
    # step (B's third night is judged against B's nights only).
    for i in range(3):
        assert results[(B, i)].new_alerts.empty, i
    assert history.alerts(machine=B).empty
    assert set(history.alerts()["machine"]) == {A}
    ns = {
        key: r.findings[(r.findings["series"] == "tip") & (r.findings["metric"] == "ns/op")]
        for key, r in results.items()
    }
    assert ns[(B, 1)]["status"].tolist() == ["insufficient-history"]  # one night before it
    (b_third,) = ns[(B, 2)].to_dict("records")
    assert b_third["status"] == "no-change" and b_third["machine"] == B
    assert b_third["n_before"] == 2 * 5  # B's two nights, not A's too
    assert 1.8 < b_third["before_median"] / 20_000 < 2.2  # B's level
    history.dispose()


def panels(html: str) -> dict[tuple[str, str], str]:
    """{(series, machine): the panel's HTML} of a trend page."""
    out = {}
    for part in html.split('class="series-panel"')[1:]:
        series = part.split('data-series="', 1)[1].split('"', 1)[0]
        machine = part.split('data-machine="', 1)[1].split('"', 1)[0]
        out[(series, machine)] = part.split("</section>", 1)[0]
    return out


def test_the_trend_report_has_a_panel_per_machine(history_url, tmp_path):
    history = History(history_url)
    history.migrate()
    record_two_machines(history)
    paths = write_trend(history, tmp_path / "trend")
    html = paths["index.html"].read_text()
    shown = panels(html)
    assert list(shown) == [("tip", A), ("tip", B), ("ctl", A)]  # series first, then machines
    for (series, machine), panel in shown.items():
        assert f'<span class="machine">on {machine}</span>' in panel
        assert "<svg" in panel and "3</b> nights" in panel, (series, machine)
    assert "<b>1</b> open alerts" in shown[("tip", A)]
    assert "<b>0</b> open alerts" in shown[("tip", B)]
    assert html.count('class="series-panel"') == 3
    table = html.split('id="open-alerts"', 1)[1].split("</table>", 1)[0]
    (row,) = [r for r in table.split('<tr class="alert-row">')[1:] if ">ns/op<" in r]
    assert f'<td class="name">{A}</td>' in row and B not in row
    summary = paths["summary.md"].read_text()
    assert f"| tip | {A} | 3 |" in summary and f"| tip | {B} | 3 |" in summary
    assert f"| **regression** | tip | {A} |" in summary
    history.dispose()


@pytest.mark.slow
def test_the_multi_machine_trend_page_loads_in_a_browser(tmp_path):
    from tests.test_report import assert_fetches_nothing, headless, page_errors

    history = History(f"sqlite:///{tmp_path / 'history.sqlite'}")
    history.migrate()
    record_two_machines(history)
    page = write_trend(history, tmp_path / "trend")["index.html"]
    assert_fetches_nothing(page.read_text())
    result = headless(page, tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-3000:]
    dom = result.stdout
    assert 'data-loaded="1"' in dom and page_errors(dom) == []
    assert list(panels(dom)) == [("tip", A), ("tip", B), ("ctl", A)]
    history.dispose()
