"""perf support: detect which events work here, wrap a command, render the report.

On VMs hardware events are "not supported"; `cpu-clock` (software) and the
`sched:sched_switch` tracepoint usually work. We try each with a trivial command and use
what works; nothing here may crash a run: no perf means runs without perf, recorded.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATE_EVENTS = ["cpu-clock", "sched:sched_switch"]


def detect_events() -> tuple[list[str], dict[str, str]]:
    """(events that record, {event: why not} for the rest)."""
    perf = shutil.which("perf")
    if perf is None:
        return [], {
            e: "perf not installed (apt-get install -y linux-perf)" for e in CANDIDATE_EVENTS
        }
    working, failures = [], {}
    with tempfile.TemporaryDirectory(prefix="stwbench-perf-") as tmp:
        for event in CANDIDATE_EVENTS:
            out = Path(tmp) / "probe.data"
            try:
                result = subprocess.run(
                    [perf, "record", "-q", "-e", event, "-o", str(out), "--", "true"],
                    capture_output=True,
                    text=True,
                    timeout=30,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                failures[event] = str(exc)
                continue
            if result.returncode == 0 and out.exists():
                working.append(event)
            else:
                failures[event] = (result.stderr.strip().splitlines() or ["failed"])[-1][:200]
    return working, failures


def wrap(command: list[str], events: list[str], data_path: Path) -> list[str]:
    """`perf record` around `command`, call graphs on (cheap with cpu-clock)."""
    perf = shutil.which("perf") or "perf"
    event_args = [arg for event in events for arg in ("-e", event)]
    return [perf, "record", "-q", "-g", *event_args, "-o", str(data_path), "--", *command]


def report(data_path: Path, out_path: Path) -> str | None:
    """Write `perf report --stdio` (self time by symbol); return an error text or None."""
    perf = shutil.which("perf") or "perf"
    try:
        result = subprocess.run(
            [
                perf,
                "report",
                "--stdio",
                "--no-children",
                "--sort",
                "comm,dso,sym",
                "-g",
                "none",
                "-i",
                str(data_path),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    out_path.write_text(result.stdout)
    if result.returncode != 0:
        return (result.stderr.strip().splitlines() or ["perf report failed"])[-1][:300]
    return None
