"""harness/history: the nightly stage — SQL history, change detection, trend report.

    history = History("sqlite:///results/history.sqlite")   # store.py: any SQLAlchemy URL
    history.migrate()                                       # schema.py: explicit versions
    machine = machine_name(None)                            # config.py: --machine or host
    result = record_night(history, night, entries, machine=machine)  # record.py: one txn
    write_trend(history, Path("results/nightly"))           # trend.py: index.html, summary.md

Modules, one job each: `config` (nightly.toml), `schema` (tables + migrations), `store`
(engine, writer lock, reads), `detect` (change detection, pure functions on DataFrames),
`alerts` (findings → new / resolved alerts, toolchain change), `record` (a night into
the history in one transaction), `plots` and `trend` (the trend report).
"""

from harness.history.alerts import describe
from harness.history.config import NightlyConfig, Series, load_config, machine_name
from harness.history.record import NightResult, SeriesNight, already_recorded, record_night
from harness.history.store import History, default_url
from harness.history.trend import write_trend

__all__ = [
    "History",
    "NightResult",
    "NightlyConfig",
    "Series",
    "SeriesNight",
    "already_recorded",
    "default_url",
    "describe",
    "load_config",
    "machine_name",
    "record_night",
    "write_trend",
]
