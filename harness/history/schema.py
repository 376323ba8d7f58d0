"""The history database's tables and their migrations (explicit, in order, recorded).

`schema_version` holds one row per migration applied (version, description, applied_at);
the database's version is the highest. `MIGRATIONS` below is the whole history of the
schema: each step is a function of a connection that creates or alters what it needs,
with its own table definitions written out as they were at that version, so a later
change to the current tables (`metadata`) never changes what an old step does. A step
runs inside the writer's transaction and lock (see store.py), so two processes opening
a fresh database at once apply it once; running the migrations again is a no-op.

To change the schema: append a Migration (never edit an applied one), update the tables
below to match, and add the step to the upgrade test (tests/test_history_db.py).

Current tables (version 4):

- nights: one row per (series, machine, night), unique: the toolchain and run that
  produced it. series, machine (v4: the name the night is recorded under, by default the
  host name; nights from before got their machine_json hostname, or "default"), night
  (date), run_id, run_dir, variant, toolchain_key, go_version, mode,
  executor, patches_json ([{name, path, sha256}] in order), env_json, workloads_json,
  reps, gomaxprocs_json, benchtime_json ({workload: N}), machine_json, control (the
  series is an A/A control: a pinned toolchain whose changes are noise), processes_ok,
  processes_failed, stwbench_version, created_at, source_json (v3; null before: a
  go-git series' commit: {repository, ref, commit, tree, subject, date}).
- samples: one row per metric value per process, as in a run's `samples` table.
  night_id → nights.id, workload, benchmark, rep, metric, unit, value, better, phase.
- alerts: one row per detected change (see detect.py and alerts.py), of one series on
  one machine (v4: machine; unique per series, machine, key, first bad night and kind).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from harness.timestamps import utc_now_iso

NAME = 200  # names: series, workloads, benchmarks, metrics (MySQL wants lengths on keys)

# BIGINT primary keys that still autoincrement on SQLite (only INTEGER PRIMARY KEY does).
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _schema_version(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "schema_version",
        metadata,
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("description", sa.String(400), nullable=False),
        sa.Column("applied_at", sa.String(40), nullable=False),
    )


def _nights_v1(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "nights",
        metadata,
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("series", sa.String(NAME), nullable=False),
        sa.Column("night", sa.Date, nullable=False),
        sa.Column("run_id", sa.String(NAME), nullable=False),
        sa.Column("run_dir", sa.Text, nullable=False),
        sa.Column("variant", sa.String(NAME), nullable=False),
        sa.Column("toolchain_key", sa.String(80), nullable=False),
        sa.Column("go_version", sa.String(NAME), nullable=False),
        sa.Column("mode", sa.String(40), nullable=False),
        sa.Column("executor", sa.Text, nullable=False),
        sa.Column("patches_json", sa.Text, nullable=False),
        sa.Column("env_json", sa.Text, nullable=False),
        sa.Column("workloads_json", sa.Text, nullable=False),
        sa.Column("reps", sa.Integer, nullable=False),
        sa.Column("gomaxprocs_json", sa.Text, nullable=False),
        sa.Column("benchtime_json", sa.Text, nullable=False),
        sa.Column("machine_json", sa.Text, nullable=False),
        sa.Column("control", sa.Boolean, nullable=False),
        sa.Column("processes_ok", sa.Integer, nullable=False),
        sa.Column("processes_failed", sa.Integer, nullable=False),
        sa.Column("stwbench_version", sa.String(40), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("series", "night", name="uq_nights_series_night"),
    )


def _samples_v1(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "samples",
        metadata,
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("night_id", sa.BigInteger, sa.ForeignKey("nights.id"), nullable=False),
        sa.Column("workload", sa.String(NAME), nullable=False),
        sa.Column("benchmark", sa.String(NAME), nullable=False),
        sa.Column("rep", sa.Integer, nullable=False),
        sa.Column("metric", sa.String(NAME), nullable=False),
        sa.Column("unit", sa.String(NAME), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("better", sa.String(8), nullable=False),
        sa.Column("phase", sa.String(NAME), nullable=False),
        sa.Index("ix_samples_night", "night_id"),
    )


def _alerts_v2(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "alerts",
        metadata,
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("series", sa.String(NAME), nullable=False),
        sa.Column("workload", sa.String(NAME), nullable=False),
        sa.Column("benchmark", sa.String(NAME), nullable=False),
        sa.Column("metric", sa.String(NAME), nullable=False),
        sa.Column("phase", sa.String(NAME), nullable=False),
        sa.Column("unit", sa.String(NAME), nullable=False),
        sa.Column("better", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),  # regression | improvement
        sa.Column("raised_night", sa.Date, nullable=False),
        sa.Column("first_bad_night", sa.Date, nullable=False),
        sa.Column("last_good_night", sa.Date, nullable=False),
        sa.Column("ratio", sa.Float, nullable=False),
        sa.Column("ci_low", sa.Float),
        sa.Column("ci_high", sa.Float),
        sa.Column("p_value", sa.Float),
        sa.Column("threshold", sa.Float, nullable=False),  # relative change, e.g. 0.1
        sa.Column("threshold_source", sa.String(40), nullable=False),
        sa.Column("confidence", sa.String(16), nullable=False),
        sa.Column("before_median", sa.Float, nullable=False),
        sa.Column("after_median", sa.Float, nullable=False),
        sa.Column("n_before", sa.Integer, nullable=False),
        sa.Column("n_after", sa.Integer, nullable=False),
        sa.Column("toolchain_change", sa.Text, nullable=False),  # one line for people
        sa.Column("toolchain_change_json", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),  # open | resolved
        sa.Column("resolved_night", sa.Date),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.UniqueConstraint(
            "series",
            "workload",
            "benchmark",
            "metric",
            "phase",
            "first_bad_night",
            "kind",
            name="uq_alerts_step",
        ),
        sa.Index("ix_alerts_series_status", "series", "status"),
    )


def _v1(conn: Connection) -> None:
    metadata = sa.MetaData()
    _nights_v1(metadata)
    _samples_v1(metadata)
    metadata.create_all(conn)


def _v2(conn: Connection) -> None:
    metadata = sa.MetaData()
    _alerts_v2(metadata)
    metadata.create_all(conn)
    # Detection reads one series' samples by night and metric.
    samples = _samples_v1(sa.MetaData())
    sa.Index("ix_samples_night_metric", samples.c.night_id, samples.c.metric).create(conn)


def _v3(conn: Connection) -> None:
    # Plain DDL: SQLite and PostgreSQL both add a nullable column in place.
    conn.execute(sa.text("ALTER TABLE nights ADD COLUMN source_json TEXT"))


def _nights_v3(metadata: sa.MetaData) -> sa.Table:
    table = _nights_v1(metadata)
    table.append_column(sa.Column("source_json", sa.Text, nullable=True))
    return table


# --- v4: a night is one series on one machine --------------------------------------

DEFAULT_MACHINE = "default"  # nights from before v4 whose machine_json names no host
CHUNK = 500  # rows per statement while migrating (bounded IN lists and batches)


def _nights_v4(metadata: sa.MetaData, name: str = "nights") -> sa.Table:
    """v3's nights plus `machine`, unique per (series, machine, night). `name`: the
    SQLite migration builds it beside the old table first."""
    return sa.Table(
        name,
        metadata,
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("series", sa.String(NAME), nullable=False),
        sa.Column("machine", sa.String(NAME), nullable=False),
        sa.Column("night", sa.Date, nullable=False),
        sa.Column("run_id", sa.String(NAME), nullable=False),
        sa.Column("run_dir", sa.Text, nullable=False),
        sa.Column("variant", sa.String(NAME), nullable=False),
        sa.Column("toolchain_key", sa.String(80), nullable=False),
        sa.Column("go_version", sa.String(NAME), nullable=False),
        sa.Column("mode", sa.String(40), nullable=False),
        sa.Column("executor", sa.Text, nullable=False),
        sa.Column("patches_json", sa.Text, nullable=False),
        sa.Column("env_json", sa.Text, nullable=False),
        sa.Column("workloads_json", sa.Text, nullable=False),
        sa.Column("reps", sa.Integer, nullable=False),
        sa.Column("gomaxprocs_json", sa.Text, nullable=False),
        sa.Column("benchtime_json", sa.Text, nullable=False),
        sa.Column("machine_json", sa.Text, nullable=False),
        sa.Column("control", sa.Boolean, nullable=False),
        sa.Column("processes_ok", sa.Integer, nullable=False),
        sa.Column("processes_failed", sa.Integer, nullable=False),
        sa.Column("stwbench_version", sa.String(40), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("source_json", sa.Text, nullable=True),
        sa.UniqueConstraint("series", "machine", "night", name="uq_nights_series_machine_night"),
    )


def _alerts_v4(metadata: sa.MetaData, name: str = "alerts", indexes: bool = True) -> sa.Table:
    """v2's alerts plus `machine`, in the step's unique key: detection runs per (series,
    machine), so two machines may raise the same step. `indexes=False` for SQLite's copy
    built beside the old table (index names are global there)."""
    table = sa.Table(
        name,
        metadata,
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("series", sa.String(NAME), nullable=False),
        sa.Column("machine", sa.String(NAME), nullable=False),
        sa.Column("workload", sa.String(NAME), nullable=False),
        sa.Column("benchmark", sa.String(NAME), nullable=False),
        sa.Column("metric", sa.String(NAME), nullable=False),
        sa.Column("phase", sa.String(NAME), nullable=False),
        sa.Column("unit", sa.String(NAME), nullable=False),
        sa.Column("better", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),  # regression | improvement
        sa.Column("raised_night", sa.Date, nullable=False),
        sa.Column("first_bad_night", sa.Date, nullable=False),
        sa.Column("last_good_night", sa.Date, nullable=False),
        sa.Column("ratio", sa.Float, nullable=False),
        sa.Column("ci_low", sa.Float),
        sa.Column("ci_high", sa.Float),
        sa.Column("p_value", sa.Float),
        sa.Column("threshold", sa.Float, nullable=False),  # relative change, e.g. 0.1
        sa.Column("threshold_source", sa.String(40), nullable=False),
        sa.Column("confidence", sa.String(16), nullable=False),
        sa.Column("before_median", sa.Float, nullable=False),
        sa.Column("after_median", sa.Float, nullable=False),
        sa.Column("n_before", sa.Integer, nullable=False),
        sa.Column("n_after", sa.Integer, nullable=False),
        sa.Column("toolchain_change", sa.Text, nullable=False),  # one line for people
        sa.Column("toolchain_change_json", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),  # open | resolved
        sa.Column("resolved_night", sa.Date),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.UniqueConstraint(
            "series",
            "machine",
            "workload",
            "benchmark",
            "metric",
            "phase",
            "first_bad_night",
            "kind",
            name="uq_alerts_machine_step",
        ),
    )
    if indexes:
        sa.Index("ix_alerts_series_status", table.c.series, table.c.status)
    return table


def machine_from_json(raw: str | None) -> str:
    """A pre-v4 night's machine: the hostname its machine_json recorded (what
    `stwbench nightly` defaults --machine to, so an upgraded history continues under the
    same name), else "default"."""
    try:
        info = json.loads(raw) if raw else {}
    except ValueError:
        info = {}
    host = info.get("hostname") if isinstance(info, dict) else None
    host = str(host).strip()[:NAME] if host else ""
    return host or DEFAULT_MACHINE


def _v4_machines(conn: Connection) -> tuple[dict[int, str], dict[int, str]]:
    """({night id: machine}, {alert id: machine}) for the rows already there. An alert
    takes the machine of the night that raised it (before v4 a series had one night per
    date), else the series' newest night's, else "default"."""
    v3_nights, v2_alerts = _nights_v3(sa.MetaData()), _alerts_v2(sa.MetaData())
    night_machine: dict[int, str] = {}
    by_series_night: dict[tuple[str, object], str] = {}
    newest: dict[str, str] = {}
    rows = conn.execute(
        sa.select(
            v3_nights.c.id, v3_nights.c.series, v3_nights.c.night, v3_nights.c.machine_json
        ).order_by(v3_nights.c.night, v3_nights.c.id)
    )
    for night_id, series, night, raw in rows:
        machine = machine_from_json(raw)
        night_machine[int(night_id)] = machine
        by_series_night[(series, night)] = machine
        newest[series] = machine
    alert_machine = {
        int(alert_id): by_series_night.get((series, night), newest.get(series, DEFAULT_MACHINE))
        for alert_id, series, night in conn.execute(
            sa.select(v2_alerts.c.id, v2_alerts.c.series, v2_alerts.c.raised_night)
        )
    }
    return night_machine, alert_machine


def _v4(conn: Connection) -> None:
    night_machine, alert_machine = _v4_machines(conn)
    if conn.dialect.name == "sqlite":
        _v4_sqlite(conn, night_machine, alert_machine)
    else:
        _v4_alter(conn, night_machine, alert_machine)


def _fill(conn: Connection, table: sa.Table, machines: dict[int, str]) -> None:
    for machine in sorted(set(machines.values())):
        ids = [i for i, m in machines.items() if m == machine]
        for start in range(0, len(ids), CHUNK):  # bounded IN lists
            conn.execute(
                sa.update(table)
                .where(table.c.id.in_(ids[start : start + CHUNK]))
                .values(machine=machine)
            )


def _v4_alter(conn: Connection, night_machine: dict, alert_machine: dict) -> None:
    """PostgreSQL (and databases that alter constraints in place): add the column
    nullable, fill it, make it NOT NULL, swap the unique constraints."""
    for table, machines, old in (
        (_nights_v4(sa.MetaData()), night_machine, "uq_nights_series_night"),
        (_alerts_v4(sa.MetaData()), alert_machine, "uq_alerts_step"),
    ):
        conn.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN machine VARCHAR({NAME})"))
        _fill(conn, table, machines)
        conn.execute(sa.text(f"ALTER TABLE {table.name} ALTER COLUMN machine SET NOT NULL"))
        conn.execute(sa.text(f"ALTER TABLE {table.name} DROP CONSTRAINT {old}"))
        (unique,) = [c for c in table.constraints if isinstance(c, sa.UniqueConstraint)]
        conn.execute(sa.schema.AddConstraint(unique))


def _v4_sqlite(conn: Connection, night_machine: dict, alert_machine: dict) -> None:
    """SQLite cannot drop a constraint: build each table anew beside the old one, copy
    the rows with their ids (samples.night_id still points at its night), drop the old
    one, rename the new one (SQLite's documented procedure; these connections do not
    enforce foreign keys, and samples refers to nights by name, which the rename gives
    back)."""
    for old, new, machines in (
        (_nights_v3(sa.MetaData()), _nights_v4(sa.MetaData(), "nights_v4"), night_machine),
        (
            _alerts_v2(sa.MetaData()),
            _alerts_v4(sa.MetaData(), "alerts_v4", indexes=False),
            alert_machine,
        ),
    ):
        new.create(conn)
        rows = [dict(row._mapping) for row in conn.execute(sa.select(old))]
        for row in rows:
            row["machine"] = machines.get(int(row["id"]), DEFAULT_MACHINE)
        for start in range(0, len(rows), CHUNK):
            conn.execute(new.insert(), rows[start : start + CHUNK])
        conn.execute(sa.text(f"DROP TABLE {old.name}"))
        conn.execute(sa.text(f"ALTER TABLE {new.name} RENAME TO {old.name}"))
    # The alerts index went with the old table: the renamed one gets it back.
    for index in _alerts_v4(sa.MetaData()).indexes:
        index.create(conn)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "nights and samples", _v1),
    Migration(2, "alerts; samples index by night and metric", _v2),
    Migration(3, "nights.source_json: the commit a go-git series built", _v3),
    Migration(4, "nights.machine and alerts.machine: one history from many machines", _v4),
)
LATEST = MIGRATIONS[-1].version


class SchemaTooNew(Exception):
    """The database was migrated by a newer stwbench than this one."""


def current_version(conn: Connection) -> int:
    """0 for an empty database (no schema_version table)."""
    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    table = _schema_version(sa.MetaData())
    return int(conn.execute(sa.select(sa.func.max(table.c.version))).scalar() or 0)


def migrate(conn: Connection, target: int | None = None) -> list[int]:
    """Apply every missing migration up to `target` (default: the latest), in order.

    Call inside a write transaction (store.History.write): returns the versions applied,
    [] when the database was already there. A database newer than this code is refused.
    """
    target = LATEST if target is None else target
    if not 0 <= target <= LATEST:
        raise ValueError(f"no schema version {target} (latest is {LATEST})")
    version_table = _schema_version(sa.MetaData())
    version_table.create(conn, checkfirst=True)
    current = current_version(conn)
    if current > LATEST:
        raise SchemaTooNew(
            f"the history database has schema version {current}; this stwbench knows up to "
            f"{LATEST}: upgrade stwbench"
        )
    applied = []
    for step in MIGRATIONS:
        if current < step.version <= target:
            step.apply(conn)
            conn.execute(
                version_table.insert().values(
                    version=step.version,
                    description=step.description,
                    applied_at=utc_now_iso(),
                )
            )
            applied.append(step.version)
    return applied


# The tables at the latest version, for queries.
metadata = sa.MetaData()
schema_version = _schema_version(metadata)
nights = _nights_v4(metadata)
samples = _samples_v1(metadata)
alerts = _alerts_v4(metadata)
