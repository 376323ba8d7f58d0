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

from harness.rundir import layout

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


def fold(data_path: Path, out_dir: Path) -> str | None:
    """`perf script` → one folded-stacks file per event in out_dir (flame graphs:
    `flamegraph.pl perf-cpu-clock.folded > cpu.svg`); return an error text or None.

    The script output is streamed and folded as it comes (harness.parse.perf_script),
    never stored."""
    from harness.parse import fold_perf_script

    perf = shutil.which("perf") or "perf"
    command = [
        perf,
        "script",
        "--no-inline",
        "-F",
        "comm,tid,event,ip,sym",
        "-i",
        str(data_path),
    ]
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        return str(exc)
    assert process.stdout is not None and process.stderr is not None
    try:
        folded = fold_perf_script(process.stdout)
    finally:
        process.stdout.close()
        stderr = process.stderr.read()
        process.stderr.close()
        code = process.wait()
    for event in folded.stacks:
        (out_dir / layout.folded_name(event)).write_text(folded.folded_text(event))
    if code != 0:
        return (stderr.strip().splitlines() or ["perf script failed"])[-1][:300]
    return None
