"""The history database: an SQLAlchemy engine, a writer lock, and the reads the rest needs.

Any SQLAlchemy URL works; two are tested for real: SQLite (the default,
`sqlite:///results/history.sqlite`) and PostgreSQL (`postgresql://user:pw@host/db`,
psycopg2).

Writers are serialized by the database itself, never by a file lock next to it:

- SQLite: a write transaction starts with `BEGIN IMMEDIATE`, which takes the database's
  RESERVED lock up front; a second writer waits (busy timeout, 10 min) until the first
  commits or rolls back. Reads use a plain deferred `BEGIN`: a consistent snapshot.
- PostgreSQL: a write transaction first takes `pg_advisory_xact_lock` on one key for the
  whole history; it is released at commit or rollback, by the server even if the client
  dies.
- Other databases: the transaction plus the unique (series, machine, night) constraint;
  a second writer of the same night fails instead of waiting.

Each night is written in one such transaction (record.py), migrations too (schema.py):
two nightly runs at once never interleave a night, and a crash leaves no half night.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from harness.errors import EnvironmentProblem, UsageError
from harness.history import schema
from harness.history.schema import alerts, nights, samples

# An arbitrary constant: the one advisory lock all stwbench history writers share.
PG_LOCK_KEY = 0x5717_BE4C_4815_7021
SQLITE_BUSY_TIMEOUT_S = 600.0


def database_url(url: str) -> sa.engine.URL:
    """Parse a URL; a bare postgresql:// gets the PostgreSQL driver that is installed
    (SQLAlchemy 2.0 assumes psycopg2, 2.1 psycopg 3; stwbench depends on psycopg2)."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise UsageError(f"--db {url!r}: not a database URL ({exc})") from exc
    if parsed.drivername == "postgresql":
        for module, driver in (("psycopg2", "psycopg2"), ("psycopg", "psycopg")):
            if importlib.util.find_spec(module) is not None:
                return parsed.set(drivername=f"postgresql+{driver}")
    return parsed


def default_url(out: Path) -> str:
    """sqlite:///<out>/history.sqlite (with the default --out: results/history.sqlite)."""
    return f"sqlite:///{out / 'history.sqlite'}"


class History:
    """One history database. `write()` for the serialized writer transaction, `read()`
    for a consistent read; both yield an SQLAlchemy Connection."""

    def __init__(self, url: str) -> None:
        self.url = database_url(url)
        self.dialect = self.url.get_backend_name()
        kwargs: dict = {}
        if self.dialect == "sqlite":
            database = self.url.database or ""
            if database in ("", ":memory:") or database.startswith("file:"):
                raise UsageError(
                    "--db: an SQLite history must be a file (sqlite:///path/history.sqlite)"
                )
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
        try:
            self.engine: Engine = sa.create_engine(self.url, **kwargs)
        except ModuleNotFoundError as exc:
            raise EnvironmentProblem(
                f"--db {self.display_url}: the database driver is not installed ({exc.name}); "
                "PostgreSQL needs psycopg2 (pip install psycopg2-binary)"
            ) from exc
        if self.dialect == "sqlite":
            _sqlite_transactions(self.engine)

    @property
    def display_url(self) -> str:
        """The URL without its password: safe to print and to put in reports."""
        return self.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction no other stwbench writer runs beside (see the module doc)."""
        with self._connect() as conn:
            if self.dialect == "sqlite":
                conn.execution_options(stwbench_write=True)
            with conn.begin():
                if self.dialect == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _pg_key()})
                yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self._connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def _connect(self) -> Iterator[Connection]:
        try:
            conn = self.engine.connect()
        except sa.exc.OperationalError as exc:
            raise EnvironmentProblem(
                f"history database {self.display_url}: cannot connect ({_first_line(exc)})"
            ) from exc
        with conn:
            yield conn

    # --- schema ---------------------------------------------------------------------

    def migrate(self, target: int | None = None) -> list[int]:
        """Bring the schema to `target` (default latest); returns the versions applied."""
        try:
            with self.write() as conn:
                return schema.migrate(conn, target)
        except schema.SchemaTooNew as exc:
            raise EnvironmentProblem(f"{self.display_url}: {exc}") from exc

    def version(self) -> int:
        with self.read() as conn:
            return schema.current_version(conn)

    # --- reads ------------------------------------------------------------------------

    def nights(
        self,
        series: Sequence[str] | None = None,
        conn: Connection | None = None,
        *,
        machine: str | None = None,
    ):
        """The nights table (optionally for some series, one machine), oldest first."""
        stmt = sa.select(nights).order_by(nights.c.night, nights.c.series, nights.c.machine)
        if series is not None:
            stmt = stmt.where(nights.c.series.in_(list(series)))
        if machine is not None:
            stmt = stmt.where(nights.c.machine == machine)
        return _frame(stmt, conn, self)

    def existing(
        self,
        night: dt.date,
        series: Sequence[str],
        conn: Connection | None = None,
        *,
        machine: str,
    ):
        """Rows of `nights` already recorded for this night, these series and this machine
        (another machine's night of the same series is no conflict)."""
        stmt = sa.select(nights).where(
            nights.c.night == night,
            nights.c.series.in_(list(series)),
            nights.c.machine == machine,
        )
        return _frame(stmt, conn, self)

    def series_machines(self, conn: Connection | None = None) -> list[tuple[str, str]]:
        """Every (series, machine) with nights, in the order they were first recorded: one
        history each, for detection and the trend report."""
        stmt = (
            sa.select(nights.c.series, nights.c.machine)
            .group_by(nights.c.series, nights.c.machine)
            .order_by(sa.func.min(nights.c.night), sa.func.min(nights.c.id))
        )
        return [(str(s), str(m)) for s, m in _rows(stmt, conn, self)]

    def series_samples(
        self,
        series: str,
        *,
        machine: str | None = None,
        until: dt.date | None = None,
        last_nights: int | None = None,
        metrics: Sequence[str] | None = None,
        conn: Connection | None = None,
    ) -> pd.DataFrame:
        """One series' samples joined with their night: night, machine, rep, workload,
        benchmark, metric, unit, value, better, phase, toolchain_key; the newest `last_nights`
        nights up to `until` (inclusive). `machine`: that machine's nights only (what
        detection and the trend read: one history per series and machine); None: every
        machine's (then a night may appear once per machine)."""
        picked = sa.select(nights.c.id).where(nights.c.series == series)
        if machine is not None:
            picked = picked.where(nights.c.machine == machine)
        if until is not None:
            picked = picked.where(nights.c.night <= until)
        if last_nights is not None:
            picked = picked.order_by(nights.c.night.desc()).limit(last_nights)
        ids = [row[0] for row in _rows(picked, conn, self)]
        if not ids:
            return pd.DataFrame(columns=SAMPLE_FRAME_COLUMNS)
        stmt = (
            sa.select(
                nights.c.night,
                nights.c.machine,
                nights.c.toolchain_key,
                samples.c.workload,
                samples.c.benchmark,
                samples.c.rep,
                samples.c.metric,
                samples.c.unit,
                samples.c.value,
                samples.c.better,
                samples.c.phase,
            )
            .join(nights, samples.c.night_id == nights.c.id)
            .where(samples.c.night_id.in_(ids))
        )
        if metrics is not None:
            stmt = stmt.where(samples.c.metric.in_(list(metrics)))
        return _frame(stmt, conn, self)

    def alerts(
        self,
        series: Sequence[str] | None = None,
        *,
        machine: str | None = None,
        status: str | None = None,
        conn: Connection | None = None,
    ) -> pd.DataFrame:
        stmt = sa.select(alerts).order_by(alerts.c.first_bad_night, alerts.c.id)
        if series is not None:
            stmt = stmt.where(alerts.c.series.in_(list(series)))
        if machine is not None:
            stmt = stmt.where(alerts.c.machine == machine)
        if status is not None:
            stmt = stmt.where(alerts.c.status == status)
        return _frame(stmt, conn, self)

    def latest_benchtime(
        self, before: dt.date, target_seconds: float, *, machine: str | None = None
    ) -> dict[str, int]:
        """{workload: N} of the newest night before `before` (any series; of `machine`
        when given) that calibrated for the same target time: later nights reuse N, so
        that every night does the same work per process. Per machine, because N was
        calibrated to that machine's speed: another machine's N misses the target time."""
        stmt = (
            sa.select(nights.c.benchtime_json)
            .where(nights.c.night < before)
            .order_by(nights.c.night.desc(), nights.c.id.desc())
        )
        if machine is not None:
            stmt = stmt.where(nights.c.machine == machine)
        for (raw,) in _rows(stmt, None, self):
            recorded = json.loads(raw)
            if recorded.get("target_seconds") == target_seconds:
                return {str(k): int(v) for k, v in (recorded.get("n") or {}).items()}
        return {}


SAMPLE_FRAME_COLUMNS = [
    "night",
    "machine",
    "toolchain_key",
    "workload",
    "benchmark",
    "rep",
    "metric",
    "unit",
    "value",
    "better",
    "phase",
]


def _rows(stmt, conn: Connection | None, history: History) -> list:
    if conn is not None:
        return list(conn.execute(stmt).fetchall())
    with history.read() as own:
        return list(own.execute(stmt).fetchall())


def _frame(stmt, conn: Connection | None, history: History) -> pd.DataFrame:
    def run(c: Connection) -> pd.DataFrame:
        result = c.execute(stmt)
        columns = list(result.keys())
        return pd.DataFrame(result.fetchall(), columns=columns)

    if conn is not None:
        return run(conn)
    with history.read() as own:
        return run(own)


def _pg_key() -> int:
    return PG_LOCK_KEY - (1 << 64) if PG_LOCK_KEY >= 1 << 63 else PG_LOCK_KEY


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else repr(exc)


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, say BEGIN, so a writer can say IMMEDIATE.

    The sqlite3 module would otherwise open transactions lazily at the first write, after
    this transaction's reads: two writers could both read, then one fail at its write.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # autocommit at the driver: we say BEGIN

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("stwbench_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
