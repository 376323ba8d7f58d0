"""The one timestamp format every record uses: UTC, ISO 8601, whole seconds."""

from __future__ import annotations

import datetime as dt


def utc_now_iso() -> str:
    """ "2026-12-01T12:00:00+00:00"."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
