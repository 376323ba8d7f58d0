"""Run one process and keep every byte it printed.

The process writes straight into files in a `.partial` directory; status.json is written
last and the directory renamed into place, so a finished process is either complete on
disk or not there at all (a resume redoes it). A process that outlives its timeout gets
SIGQUIT first (the Go runtime then prints every goroutine's stack to stderr: the hang
report) and SIGKILL a few seconds later.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.runs import noise, perf, trace
from harness.timestamps import utc_now_iso

STATUS = "status.json"
QUIT_GRACE_S = 5.0


@dataclass
class ProcessResult:
    status: str  # ok | failed | timeout | build-failed | error
    exit_code: int | None
    duration_s: float
    reason: str | None = None
    started_at: str = ""
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # only what we set, not the host's
    perf_events: list[str] = field(default_factory=list)
    perf_error: str | None = None
    trace_error: str | None = None  # --trace: see trace-summary.json
    # What else ran while it ran (harness/runs/noise.py); None in older status files.
    cpu_user_s: float | None = None  # the process's own CPU (children rusage delta)
    cpu_sys_s: float | None = None
    interference_cores: float | None = None  # the rest of the machine's CPU, in cores
    steal_cores: float | None = None
    load1: float | None = None  # load average at its start

    def to_json(self) -> dict:
        return asdict(self)


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


def finished(item_dir: Path) -> bool:
    return (item_dir / STATUS).exists()


def read_status(item_dir: Path) -> ProcessResult:
    return ProcessResult(**json.loads((item_dir / STATUS).read_text()))


def record(item_dir: Path, result: ProcessResult) -> None:
    """Write status.json into a .partial dir and move the dir into place."""
    partial = item_dir.with_name(item_dir.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    with (partial / STATUS).open("w") as handle:
        json.dump(result.to_json(), handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(partial, item_dir)


def run(spec: ProcessSpec, item_dir: Path) -> ProcessResult:
    partial = item_dir.with_name(item_dir.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)  # a process killed with the harness: redo it
    partial.mkdir(parents=True)
    command = list(spec.command)
    data_path = partial / "perf.data"
    if spec.perf_events:
        command = perf.wrap(command, spec.perf_events, data_path)
    started_at, started = now_iso(), time.monotonic()
    status, reason, code = "ok", None, None
    measured: noise.Noise | None = None
    with (partial / "stdout.txt").open("wb") as out, (partial / "stderr.txt").open("wb") as err:
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
    if measured is not None:
        result.cpu_user_s = measured.cpu_user_s
        result.cpu_sys_s = measured.cpu_sys_s
        result.interference_cores = measured.interference_cores
        result.steal_cores = measured.steal_cores
        result.load1 = measured.load1
    if spec.perf_events and data_path.exists():
        result.perf_error = perf.report(data_path, partial / "perf-report.txt")
        folded_error = perf.fold(data_path, partial)
        if folded_error and not result.perf_error:
            result.perf_error = f"perf script: {folded_error}"
        if not spec.keep_raw:
            data_path.unlink()
    if spec.trace is not None:
        result.trace_error = trace.summarize(spec.trace, partial, keep_raw=spec.keep_raw)
    if status != "ok" and reason:
        result.reason = f"{reason}; {_failure_summary(partial / 'stderr.txt')}"
    record(item_dir, result)
    return result


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


def _failure_summary(path: Path, limit: int = 400) -> str:
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
