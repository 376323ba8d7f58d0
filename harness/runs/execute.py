"""Run one process and keep every byte it printed.

The process writes straight into files in a `.partial` directory; status.json is written
last and the directory renamed into place, so a finished process is either complete on
disk or not there at all (a resume redoes it). A process that outlives its timeout gets
SIGQUIT first (the Go runtime then prints every goroutine's stack to stderr: the hang
report) and SIGKILL a few seconds later.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from harness.rundir import ProcessStatus, layout, read_status, write_status
from harness.runs import noise, perf, trace
from harness.timestamps import utc_now_iso

QUIT_GRACE_S = 5.0

# A process's outcome is the contract's status.json record.
ProcessResult = ProcessStatus


@dataclass(frozen=True)
class ProcessSpec:
    command: list[str]
    cwd: Path
    env: dict[str, str]  # full environment
    shown_env: dict[str, str]  # the part worth recording
    timeout_s: float
    perf_events: list[str]
    keep_raw: bool
    trace: trace.TraceSpec | None = None  # --trace: summarize trace.out after the process


now_iso = utc_now_iso  # the runs stage's name for it


finished = layout.finished
__all__ = ["ProcessResult", "ProcessSpec", "finished", "read_status", "record", "run"]


def record(item_dir: Path, result: ProcessResult) -> None:
    """Write status.json into the .partial dir and move the dir into place."""
    partial = layout.partial(item_dir)
    partial.mkdir(parents=True, exist_ok=True)
    write_status(partial, result)
    os.rename(partial, item_dir)


def run(spec: ProcessSpec, item_dir: Path) -> ProcessResult:
    partial = layout.partial(item_dir)
    if partial.exists():
        shutil.rmtree(partial)  # a process killed with the harness: redo it
    partial.mkdir(parents=True)
    command = list(spec.command)
    data_path = partial / layout.PERF_DATA
    if spec.perf_events:
        command = perf.wrap(command, spec.perf_events, data_path)
    started_at, started = now_iso(), time.monotonic()
    status, reason, code = "ok", None, None
    measured: noise.Noise | None = None
    stdout, stderr = partial / layout.STDOUT, partial / layout.STDERR
    with stdout.open("wb") as out, stderr.open("wb") as err:
        before = noise.sample()
        try:
            process = subprocess.Popen(
                command,
                cwd=spec.cwd,
                env=spec.env,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        except OSError as exc:
            status, reason = "error", f"could not start: {exc}"
        else:
            try:
                code = process.wait(timeout=spec.timeout_s)
            except subprocess.TimeoutExpired:
                status, reason = "timeout", f"no exit after {spec.timeout_s:.0f} s"
                code = _quit_then_kill(process)
            except BaseException:
                _kill_group(process, signal.SIGKILL)
                process.wait()
                raise
            measured = noise.measure(before, noise.sample())
            if status == "ok" and code != 0:
                status, reason = "failed", f"exit code {code}"
    result = ProcessResult(
        status=status,
        exit_code=code,
        duration_s=round(time.monotonic() - started, 3),
        reason=reason,
        started_at=started_at,
        command=command,
        env=spec.shown_env,
        perf_events=list(spec.perf_events),
    )
    add_noise(result, measured)
    if spec.perf_events and data_path.exists():
        result.perf_error = perf.report(data_path, partial / layout.PERF_REPORT)
        folded_error = perf.fold(data_path, partial)
        if folded_error and not result.perf_error:
            result.perf_error = f"perf script: {folded_error}"
        if not spec.keep_raw:
            data_path.unlink()
    if spec.trace is not None:
        result.trace_error = trace.summarize(spec.trace, partial, keep_raw=spec.keep_raw)
    if status != "ok" and reason:
        result.reason = f"{reason}; {failure_summary(stderr)}"
    record(item_dir, result)
    return result


def add_noise(result: ProcessResult, measured: noise.Noise | None) -> None:
    """The noise guard's figures into the process's record (None: not measured)."""
    if measured is None:
        return
    result.cpu_user_s = measured.cpu_user_s
    result.cpu_sys_s = measured.cpu_sys_s
    result.interference_cores = measured.interference_cores
    result.steal_cores = measured.steal_cores
    result.load1 = measured.load1


def _kill_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def _quit_then_kill(process: subprocess.Popen) -> int | None:
    _kill_group(process, signal.SIGQUIT)  # Go prints all goroutine stacks, then exits
    try:
        return process.wait(timeout=QUIT_GRACE_S)
    except subprocess.TimeoutExpired:
        _kill_group(process, signal.SIGKILL)
        return process.wait()


_GO_FAILURE = re.compile(r"^(fatal error: .*|panic: .*|SIGQUIT: quit.*|--- FAIL: .*)$", re.M)


def failure_summary(path: Path, limit: int = 400) -> str:
    """The Go runtime's own verdict (fatal error / panic / SIGQUIT) if it printed one,
    else the last bytes of stderr: what a reader of the manifest needs first."""
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return "no stderr"
    found = _GO_FAILURE.search(text)
    if found:
        return f"stderr: {found.group(1)[:limit]}"
    return "stderr tail: " + " ".join(text[-limit:].split())
