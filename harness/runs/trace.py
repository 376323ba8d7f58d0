"""--trace: record a process's execution trace as raw/…/trace-summary.json.

The probe writes `trace.out` (runtime/trace) into its process directory. Right after the
process, before its status.json makes it final, the harness runs the SAME toolchain's
`go tool trace` in debug mode and streams its stdout through harness.parse.trace (the
text is never stored: one second of a busy probe prints ≈5 M lines), then writes the
record and deletes trace.out unless --keep-raw. The record is what was traced (probe
goroutines' creation and start, every stop-the-world window and what ran after it); the
GC phase of each goroutine is the analysis stage's reading of it (TraceSummary.classified
with `--trace-after-stw-us`), so `stwbench report --trace-after-stw-us 50` re-derives
the phases without the trace.

Which Go prints the parsed events as text:
- Go ≥ 1.24: `go tool trace -d=parsed trace.out`;
- Go 1.22, 1.23: `go tool trace -d=1 trace.out` (same events, resource-first format);
- Go 1.21: the old trace format and `-d` only dumps it in another layout: `unsupported`,
  recorded in the summary, and the run goes on.
Go ≥ 1.25 builds `cmd/trace` on first use (not shipped in pkg/tool), cached in our shared
Go build cache like everything else.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from harness.files import atomic_write_json
from harness.parse import parse_trace_stream
from harness.rundir import layout

TRACE_FILE = layout.TRACE_OUT
SUMMARY_FILE = layout.TRACE_SUMMARY
_VERSION_RE = re.compile(r"(?:go)?(\d+)\.(\d+)")


@dataclass(frozen=True)
class TraceSpec:
    """What execute.run needs to turn trace.out into a summary."""

    go: str  # the toolchain's go command
    go_version: str  # e.g. "1.27.3" or "go1.27.3"
    env: dict[str, str]
    timeout_s: float


def debug_flag(go_version: str) -> str | None:
    """The `go tool trace` flag that prints parsed events, or None (unsupported)."""
    found = _VERSION_RE.search(go_version or "")
    if found is None:
        return None
    minor = (int(found.group(1)), int(found.group(2)))
    if minor >= (1, 24):
        return "-d=parsed"
    if minor >= (1, 22):
        return "-d=1"
    return None


def summarize(spec: TraceSpec, item_dir: Path, *, keep_raw: bool) -> str | None:
    """Write SUMMARY_FILE for item_dir/trace.out; return an error text or None.

    The summary file is always written when trace.out exists (status "ok", "failed" or
    "unsupported"), so a report can say why a process has no trace rows."""
    trace = item_dir / TRACE_FILE
    out = item_dir / SUMMARY_FILE
    if not trace.exists():
        return None
    flag = debug_flag(spec.go_version)
    header = {
        "tool": None,
        "go_version": spec.go_version,
        "trace_bytes": trace.stat().st_size,
    }
    error: str | None = None
    if flag is None:
        document = {
            **header,
            "status": "unsupported",
            "reason": f"{spec.go_version}: `go tool trace` prints parsed events from Go 1.22",
        }
        error = document["reason"]
    else:
        command = [spec.go, "tool", "trace", flag, str(trace)]
        header["tool"] = " ".join(["go", "tool", "trace", flag, TRACE_FILE])
        started = time.monotonic()
        summary, code = None, None
        stderr_path = item_dir / layout.TRACE_TOOL_STDERR
        with stderr_path.open("wb") as stderr:
            try:
                process = subprocess.Popen(
                    command,
                    cwd=item_dir,
                    env=spec.env,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                )
            except OSError as exc:
                process = None
                error = f"could not start go tool trace: {exc}"
            if process is not None:
                summary, error, code = _stream(process, spec)
        wall = round(time.monotonic() - started, 3)
        tool_stderr = _tail(stderr_path)
        if error is None and code != 0:
            error = f"go tool trace exited {code}: {tool_stderr}"
        if summary is None:
            document = {**header, "status": "failed", "reason": error}
        else:
            # A failed tool may still have printed most of the trace: keep what parsed.
            status = "ok" if error is None else "failed"
            document = {
                **header,
                "status": status,
                "reason": error,
                "tool_exit_code": code,
                "tool_stderr": tool_stderr,
                "parse_wall_s": wall,
                **summary.to_json(),
            }
        if not tool_stderr:
            stderr_path.unlink()
    atomic_write_json(out, document, compact=True)
    if not keep_raw:
        with contextlib.suppress(OSError):
            trace.unlink()
    return error


def _stream(process: subprocess.Popen, spec: TraceSpec):
    """Parse the tool's stdout as it comes; kill the tool after spec.timeout_s."""
    assert process.stdout is not None
    watchdog = threading.Timer(spec.timeout_s, process.kill)
    watchdog.start()
    summary, error = None, None
    try:
        summary = parse_trace_stream(process.stdout)
    except Exception as exc:  # a parser bug must not cost the run; it is recorded
        error = f"parsing the trace dump failed: {exc!r}"
    finally:
        process.stdout.close()
        code = process.wait()
        watchdog.cancel()
    if error is None and code == -9:
        error = f"go tool trace killed after {spec.timeout_s:.0f} s"
    return summary, error, code


def _tail(path: Path, limit: int = 500) -> str:
    try:
        text = path.read_bytes()[-limit:].decode("utf-8", "replace")
    except OSError:
        return ""
    return " ".join(text.split())
