"""Write one night into the history and judge it, in one transaction.

    result = record_night(history, night, [SeriesNight(...), ...], machine=machine_name(None))

A night is recorded under a machine (config.machine_name: --machine, else the host
name): each (series, machine) is a history of its own, so two machines may record the
same series on the same night, and one machine's nights are never another's baseline.

Inside one writer transaction (store.History.write: SQLite BEGIN IMMEDIATE, PostgreSQL
advisory lock): refuse (or, with replace=True, delete) what is already recorded for
this night, these series and this machine, insert each series' night row and every
sample, then for each series run change detection on its history on this machine up to
this night (detect.py), reconcile the findings with its open alerts on this machine
(alerts.py) and insert / resolve alerts. Either all of
it is committed or none of it: a second nightly run waits for the first, and never sees
or leaves half a night.

Re-running a night (replace=True) deletes that night's rows for the series on this
machine, the alerts raised on it, and reopens alerts it had resolved, then records it
anew. Alerts raised on
later nights are not recomputed (backfills of old nights are judged against the nights
before them only).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from harness import __version__
from harness.errors import UsageError
from harness.history.alerts import known_steps, reconcile, toolchain_change
from harness.history.detect import KEY, DetectParams, as_date, detect
from harness.history.schema import alerts, nights, samples
from harness.history.store import History
from harness.metrics import is_headline
from harness.timestamps import utc_now_iso

CHUNK = 5000  # samples per INSERT batch


class NightAlreadyRecorded(UsageError):
    """The night is in the history for one of the series on this machine; --replace
    records it again."""


@dataclass
class SeriesNight:
    """One series' part of a night: its samples (a run's `samples` table rows for its
    variant) and what produced them (keys of the `nights` table, see schema.py). The
    machine it is recorded under is record_night's (one machine per night run)."""

    series: str
    samples: pd.DataFrame
    run_id: str
    run_dir: str
    variant: str
    toolchain_key: str
    go_version: str
    mode: str
    executor: object = None
    patches: list = field(default_factory=list)
    env: dict = field(default_factory=dict)
    workloads: list = field(default_factory=list)
    reps: int = 0
    gomaxprocs: list = field(default_factory=list)
    benchtime: dict = field(default_factory=dict)
    machine_info: dict = field(default_factory=dict)  # host facts: nights.machine_json
    control: bool = False
    processes_ok: int = 0
    processes_failed: int = 0
    source: dict | None = None  # go-git: repository, ref, commit, tree, subject, date


@dataclass
class NightResult:
    night: dt.date
    machine: str
    night_ids: dict[str, int]
    findings: pd.DataFrame  # every series' findings (series, machine + FINDING_COLUMNS)
    new_alerts: pd.DataFrame  # rows of the alerts table raised tonight
    resolved: pd.DataFrame  # rows of the alerts table resolved tonight
    replaced: list[str]  # series whose night was recorded before and replaced

    @property
    def new_regressions(self) -> pd.DataFrame:
        if self.new_alerts.empty:
            return self.new_alerts
        return self.new_alerts[self.new_alerts["kind"] == "regression"]

    @property
    def failing_regressions(self) -> pd.DataFrame:
        """Tonight's regression alerts on headline metrics (harness/metrics.py): what
        --fail-on-regression fails the job on. The declared family, as in `ab`'s verdicts:
        every secondary metric (mean and p95 STW, the STW stopping split, assist and
        worker CPU shares, …) is watched and alerted too, but dozens of spiky secondary
        keys per workload would turn a short history's false alarms into failed nights."""
        regressions = self.new_regressions
        if regressions.empty:
            return regressions
        return regressions[regressions["metric"].map(is_headline).astype(bool)]


Progress = Callable[[str, int, int], None]


def record_night(
    history: History,
    night,
    entries: list[SeriesNight],
    *,
    machine: str,
    replace: bool = False,
    params: DetectParams | None = None,
    progress: Progress | None = None,
) -> NightResult:
    night = as_date(night)
    params = params or DetectParams()
    names = [e.series for e in entries]
    with history.write() as conn:
        existing = history.existing(night, names, conn=conn, machine=machine)
        if not existing.empty and not replace:
            raise already_recorded(night, existing)
        for _, row in existing.iterrows():
            _delete_night(conn, row)
        night_ids = {e.series: _insert_night(conn, night, machine, e, progress) for e in entries}
        found, new, resolved = [], [], []
        for entry in entries:
            f, n, r = _judge(history, conn, night, entry.series, machine, params)
            found.append(f)
            new.extend(n)
            resolved.extend(r)
        alert_ids = [a["id"] for a in new] + resolved
        rows = _alert_rows(conn, alert_ids)
    return NightResult(
        night=night,
        machine=machine,
        night_ids=night_ids,
        findings=pd.concat(found, ignore_index=True) if found else pd.DataFrame(),
        new_alerts=rows[rows["id"].isin([a["id"] for a in new])].reset_index(drop=True),
        resolved=rows[rows["id"].isin(resolved)].reset_index(drop=True),
        replaced=sorted(existing["series"].tolist()) if not existing.empty else [],
    )


def already_recorded(night: dt.date, existing: pd.DataFrame) -> NightAlreadyRecorded:
    """`existing`: History.existing's rows (one machine's)."""
    which = ", ".join(f"{r.series} (run {r.run_id})" for r in existing.itertuples())
    machines = ", ".join(sorted(set(existing["machine"])))
    return NightAlreadyRecorded(
        f"night {night} is already in the history for {which} on machine {machines}; "
        "--replace records it again (its alerts are recomputed), or pick another --night"
    )


def _now() -> str:
    return utc_now_iso()


def _delete_night(conn: Connection, row: pd.Series) -> None:
    night = as_date(row["night"])
    mine = (alerts.c.series == row["series"]) & (alerts.c.machine == row["machine"])
    conn.execute(sa.delete(samples).where(samples.c.night_id == int(row["id"])))
    conn.execute(sa.delete(alerts).where(mine, alerts.c.raised_night == night))
    conn.execute(
        sa.update(alerts)
        .where(mine, alerts.c.resolved_night == night)
        .values(status="open", resolved_night=None)
    )
    conn.execute(sa.delete(nights).where(nights.c.id == int(row["id"])))


def _insert_night(
    conn: Connection, night: dt.date, machine: str, entry: SeriesNight, progress: Progress | None
) -> int:
    result = conn.execute(
        nights.insert().values(
            series=entry.series,
            machine=machine,
            night=night,
            run_id=entry.run_id,
            run_dir=entry.run_dir,
            variant=entry.variant,
            toolchain_key=entry.toolchain_key,
            go_version=entry.go_version,
            mode=entry.mode,
            executor=json.dumps(entry.executor, sort_keys=True),
            patches_json=json.dumps(entry.patches),
            env_json=json.dumps(entry.env, sort_keys=True),
            workloads_json=json.dumps(entry.workloads),
            reps=int(entry.reps),
            gomaxprocs_json=json.dumps(entry.gomaxprocs),
            benchtime_json=json.dumps(entry.benchtime, sort_keys=True),
            machine_json=json.dumps(entry.machine_info, sort_keys=True, default=str),
            control=bool(entry.control),
            processes_ok=int(entry.processes_ok),
            processes_failed=int(entry.processes_failed),
            stwbench_version=__version__,
            created_at=_now(),
            source_json=json.dumps(entry.source, sort_keys=True) if entry.source else None,
        )
    )
    night_id = int(result.inserted_primary_key[0])
    rows = _sample_rows(night_id, entry.samples)
    for start in range(0, len(rows), CHUNK):
        conn.execute(samples.insert(), rows[start : start + CHUNK])
        if progress is not None:
            progress(entry.series, min(start + CHUNK, len(rows)), len(rows))
    return night_id


def _sample_rows(night_id: int, frame: pd.DataFrame) -> list[dict]:
    if frame.empty:
        return []
    values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float)
    keep = np.isfinite(values)  # NaN/inf are not measurements (and not portable SQL)
    phase = frame["phase"].fillna("all") if "phase" in frame else pd.Series("all", frame.index)
    columns = {
        "workload": frame["workload"].astype(str).to_numpy(),
        "benchmark": frame["benchmark"].astype(str).to_numpy(),
        "rep": frame["rep"].astype(int).to_numpy(),
        "metric": frame["metric"].astype(str).to_numpy(),
        "unit": frame["unit"].astype(str).to_numpy(),
        "better": frame["better"].astype(str).to_numpy(),
        "phase": phase.astype(str).to_numpy(),
    }
    return [
        {
            "night_id": night_id,
            **{name: str(col[i]) for name, col in columns.items()},
            "rep": int(columns["rep"][i]),
            "value": float(values[i]),
        }
        for i in np.flatnonzero(keep)
    ]


def _controls(conn: Connection, series: str, machine: str) -> list[str]:
    """Series marked as A/A controls on their latest night on `machine` (other than
    `series`): a control's changes are its machine's noise, no other machine's."""
    latest = (
        sa.select(nights.c.series, sa.func.max(nights.c.night).label("night"))
        .where(nights.c.machine == machine)
        .group_by(nights.c.series)
        .subquery()
    )
    stmt = (
        sa.select(nights.c.series)
        .join(latest, (nights.c.series == latest.c.series) & (nights.c.night == latest.c.night))
        .where(nights.c.control.is_(True), nights.c.series != series, nights.c.machine == machine)
        .order_by(nights.c.series)
    )
    return [row[0] for row in conn.execute(stmt)]


def _judge(
    history: History,
    conn: Connection,
    night: dt.date,
    series: str,
    machine: str,
    params: DetectParams,
) -> tuple[pd.DataFrame, list[dict], list[int]]:
    # Everything below is this machine's: its nights, its control, its alerts.
    window = {"machine": machine, "until": night, "last_nights": params.window, "conn": conn}
    frame = history.series_samples(series, **window)
    controls = _controls(conn, series, machine)
    control = history.series_samples(controls[0], **window) if controls else None
    everything = history.alerts([series], machine=machine, conn=conn)
    open_alerts = everything[everything["status"] == "open"]
    findings = detect(
        frame, night, control=control, known_steps=known_steps(everything), params=params
    )
    findings.insert(0, "series", series)
    findings.insert(1, "machine", machine)
    reconciled = reconcile(findings, open_alerts)
    for alert_id, _ in reconciled.resolved:
        conn.execute(
            sa.update(alerts)
            .where(alerts.c.id == alert_id)
            .values(status="resolved", resolved_night=night)
        )
    existing_steps = {
        (*(row[k] for k in KEY), as_date(row["first_bad_night"]), row["kind"])
        for _, row in everything.iterrows()
    }
    night_rows = {
        as_date(r["night"]): r
        for r in history.nights([series], conn=conn, machine=machine).to_dict("records")
    }
    new = []
    for _, finding in reconciled.new.iterrows():
        first_bad = as_date(finding["first_bad_night"])
        last_good = as_date(finding["last_good_night"])
        step = (*(finding[k] for k in KEY), first_bad, finding["status"])
        if step in existing_steps:
            continue
        text, detail = toolchain_change(
            night_rows.get(last_good),
            night_rows.get(first_bad),
            workload=str(finding["workload"]),
            metric=str(finding["metric"]),
        )
        values = {
            "series": series,
            "machine": machine,
            **{k: str(finding[k]) for k in KEY},
            "unit": str(finding["unit"]),
            "better": str(finding["better"]),
            "kind": str(finding["status"]),
            "raised_night": night,
            "first_bad_night": first_bad,
            "last_good_night": last_good,
            "ratio": float(finding["ratio"]),
            "ci_low": _opt(finding["ci_low"]),
            "ci_high": _opt(finding["ci_high"]),
            "p_value": _opt(finding["p_value"]),
            "threshold": float(finding["threshold"]),
            "threshold_source": str(finding["threshold_source"]),
            "confidence": str(finding["confidence"]),
            "before_median": float(finding["before_median"]),
            "after_median": float(finding["after_median"]),
            "n_before": int(finding["n_before"]),
            "n_after": int(finding["n_after"]),
            "toolchain_change": text,
            "toolchain_change_json": json.dumps(detail, sort_keys=True, default=str),
            "status": "open",
            "resolved_night": None,
            "created_at": _now(),
        }
        alert_id = int(conn.execute(alerts.insert().values(**values)).inserted_primary_key[0])
        new.append({"id": alert_id, **values})
    return findings, new, [alert_id for alert_id, _ in reconciled.resolved]


def _alert_rows(conn: Connection, ids: list[int]) -> pd.DataFrame:
    result = conn.execute(sa.select(alerts).where(alerts.c.id.in_(ids or [-1])))
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _opt(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
