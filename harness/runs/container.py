"""Run one benchmark process in a container on a Docker engine (run executor `docker`).

The same contract as execute.run (a `.partial` directory renamed into place once
status.json is written), the same command, environment and timeout; what differs is
where it runs and who measures it:

- the files go in through the API (`put_archive`): the test binary and its working
  directory's `testdata/` at their host paths, and an empty output directory at the
  item's `.partial` path, so the command the kinds build needs no rewriting and works on
  a remote engine as on a local one;
- `network_mode=none` (loopback still works: the HTTP workload serves on 127.0.0.1),
  `cpuset_cpus` = the engine's CPU set, GOMAXPROCS from the plan;
- a POSIX-sh wrapper is PID 1: it writes stdout/stderr byte for byte into the output
  directory, reads /proc/stat (the machine's, not virtualized) and /proc/uptime around
  the process and the children's CPU time (`times`) after it: the noise guard's figures,
  measured on the engine's machine and restricted to its CPUs. It forwards SIGQUIT (the
  Go runtime's stack dump) to the process, since PID 1 ignores signals it has no handler
  for;
- a timeout is SIGQUIT through the engine, then SIGKILL QUIT_GRACE_S later;
- duration, start time and exit status come from the container's own state;
- everything the process wrote is copied back (`get_archive`) into the item directory.

A daemon that stops answering raises EngineLost (harness/runs/engines.py); the shard
stage gives the block to another engine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import shutil
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import docker.errors
import requests.exceptions

from harness.rundir import layout
from harness.runs import noise, trace
from harness.runs.engines import CONNECTION_ERRORS, Engine, EngineLost, cpu_ids
from harness.runs.execute import (
    QUIT_GRACE_S,
    ProcessResult,
    ProcessSpec,
    add_noise,
    failure_summary,
    now_iso,
    record,
)

# $1 output dir, $2 working dir, $3 stdout name, $4 stderr name, then the command.
WRAPPER = r"""
out=$1; cwd=$2; so=$3; se=$4; shift 4
cd "$cwd" || exit 125
cat /proc/uptime > "$out/.stwbench-uptime-0"; cat /proc/stat > "$out/.stwbench-stat-0"
# An asynchronous command of a shell without job control starts with SIGINT and SIGQUIT
# ignored (POSIX), and dash's `trap -` cannot undo that: env (coreutils) restores them,
# or the timeout's SIGQUIT would not reach a process without a handler of its own (the
# Go runtime installs one for SIGQUIT whatever it inherits).
env --default-signal=INT,QUIT "$@" > "$out/$so" 2> "$out/$se" &
pid=$!
trap 'kill -QUIT $pid 2>/dev/null' QUIT
trap 'kill -KILL $pid 2>/dev/null' TERM
while :; do
  wait $pid; code=$?
  kill -0 $pid 2>/dev/null || break
done
cat /proc/stat > "$out/.stwbench-stat-1"; cat /proc/uptime > "$out/.stwbench-uptime-1"
times > "$out/.stwbench-times"
exit $code
"""
WRAPPER_FILES = ("uptime-0", "stat-0", "stat-1", "uptime-1", "times")
# What the container may see of the host's environment: the run's own variables
# (shown_env, GO* of go_env) pass; host paths (PATH, HOME, TMPDIR…) would name
# directories the image does not have.
CONTAINER_PATH = "/usr/local/bin:/usr/bin:/bin"


class Uploads:
    """The tar of each (binary, working directory), built once per run and engine set:
    every process of a workload sends the same bytes."""

    def __init__(self) -> None:
        self._tars: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def files(self, binary: str, cwd: str) -> bytes:
        key = (binary, cwd)
        with self._lock:
            if key not in self._tars:
                self._tars[key] = _files_tar(Path(binary), Path(cwd))
            return self._tars[key]


def _files_tar(binary: Path, cwd: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(cwd, arcname=str(cwd).lstrip("/"), recursive=False)
        testdata = cwd / "testdata"  # Go tests read their package's testdata/ (go help test)
        if testdata.is_dir():
            tar.add(testdata, arcname=str(testdata).lstrip("/"))
        tar.add(binary, arcname=str(binary).lstrip("/"))
    return buffer.getvalue()


def _directory_tar(path: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(str(path).lstrip("/"))
        info.type, info.mode = tarfile.DIRTYPE, 0o777
        tar.addfile(info)
    return buffer.getvalue()


def _wrapper(partial: Path, cwd: str) -> list[str]:
    return ["sh", "-c", WRAPPER, "stwbench-run", str(partial), cwd, layout.STDOUT, layout.STDERR]


def container_env(spec: ProcessSpec) -> dict[str, str]:
    env = {k: v for k, v in spec.env.items() if k.startswith("GO") or k == "CGO_ENABLED"}
    env.pop("GOROOT", None)  # a host path; a test binary does not need it
    return {**env, **spec.shown_env, "PATH": CONTAINER_PATH, "HOME": "/root"}


RUN_LABEL = "org.stwbench.run"  # every container of a run carries its run id
PROCESS_LABEL = "org.stwbench.process"


def remove_leftovers(engine: Engine, run_id: str) -> int:
    """Remove containers of `run_id` an earlier session left on the engine (the harness
    was killed, or the engine lost mid-process and back now); returns how many."""
    leftovers = engine.client.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run_id}"})
    for leftover in leftovers:
        with contextlib.suppress(docker.errors.DockerException):
            leftover.remove(force=True)
    return len(leftovers)


def run(
    engine: Engine,
    spec: ProcessSpec,
    item_dir: Path,
    uploads: Uploads,
    *,
    run_id: str,
    label: str = "",
) -> ProcessResult:
    """Run `spec` on `engine`; raises EngineLost (nothing recorded) if the engine goes."""
    partial = layout.partial(item_dir)
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    try:
        return _run(
            engine, spec, item_dir, partial, uploads, {RUN_LABEL: run_id, PROCESS_LABEL: label}
        )
    except CONNECTION_ERRORS as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise EngineLost(f"engine {engine.name}: {str(exc).splitlines()[0][:200]}") from exc
    except docker.errors.APIError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if exc.status_code is None or exc.status_code >= 500:
            raise EngineLost(f"engine {engine.name}: {exc}"[:300]) from exc
        raise


def _run(
    engine: Engine,
    spec: ProcessSpec,
    item_dir: Path,
    partial: Path,
    uploads: Uploads,
    labels: dict[str, str],
) -> ProcessResult:
    binary, cwd = spec.command[0], str(spec.cwd)
    container = engine.client.containers.create(
        engine.image,
        [*_wrapper(partial, cwd), *spec.command],
        environment=container_env(spec),
        network_mode="none",
        cpuset_cpus=engine.spec.cpus,
        labels=labels,
        detach=True,
    )
    status, reason = "ok", None
    try:
        container.put_archive("/", uploads.files(binary, cwd))
        container.put_archive("/", _directory_tar(partial))
        container.start()
        state = _wait(engine, container, spec.timeout_s)
        if state is None:
            status, reason = "timeout", f"no exit after {spec.timeout_s:.0f} s"
            state = _quit_then_kill(engine, container)
        _copy_back(container, partial)
        container.reload()
    finally:
        with contextlib.suppress(docker.errors.DockerException, *CONNECTION_ERRORS):
            container.remove(force=True)
    observed = container.attrs["State"]
    code = state.get("StatusCode", observed.get("ExitCode"))
    if status == "ok" and observed.get("OOMKilled"):
        status, reason = "failed", "killed by the kernel's OOM killer"
    elif status == "ok" and code != 0:
        status, reason = "failed", f"exit code {code}"
    measured = _noise(partial, engine)
    started = _parse_time(observed.get("StartedAt"))
    finished = _parse_time(observed.get("FinishedAt"))
    duration = (finished - started).total_seconds() if started and finished else 0.0
    result = ProcessResult(
        status=status,
        exit_code=code,
        duration_s=round(max(duration, 0.0), 3),
        reason=reason,
        started_at=started.isoformat(timespec="seconds") if started else now_iso(),
        command=list(spec.command),
        env=spec.shown_env,
        perf_events=[],
        engine=engine.name,
    )
    add_noise(result, measured)
    if spec.trace is not None:
        result.trace_error = trace.summarize(spec.trace, partial, keep_raw=spec.keep_raw)
    if status != "ok" and reason:
        result.reason = f"{reason}; {failure_summary(partial / layout.STDERR)}"
    record(item_dir, result)
    return result


def _wait(engine: Engine, container, timeout_s: float) -> dict | None:
    """The container's exit state, or None after `timeout_s`. The SDK reports a wait that
    timed out as a ConnectionError on some transports (a chunked read cut short), like a
    vanished engine: a ping tells the two apart."""
    started = time.monotonic()
    try:
        return container.wait(timeout=timeout_s)
    except (requests.exceptions.ReadTimeout, *CONNECTION_ERRORS):
        if time.monotonic() - started < timeout_s * 0.99:
            raise  # it broke before the timeout: the engine went away
        engine.client.ping()  # raises if the engine is gone
        return None


def _quit_then_kill(engine: Engine, container) -> dict:
    container.kill(signal="SIGQUIT")  # the wrapper passes it on: Go prints every stack
    state = _wait(engine, container, QUIT_GRACE_S)
    if state is None:
        with contextlib.suppress(docker.errors.APIError):  # exited meanwhile
            container.kill()
        state = container.wait(timeout=60)
    return state


def _copy_back(container, partial: Path) -> None:
    """The container's output directory into `partial` (the tar holds it as its top)."""
    stream, _ = container.get_archive(str(partial))
    with tempfile.TemporaryDirectory(dir=partial.parent, prefix=".copy.") as scratch:
        raw = Path(scratch) / "out.tar"
        with raw.open("wb") as out:
            for chunk in stream:
                out.write(chunk)
        with tarfile.open(raw) as tar:
            tar.extractall(scratch, filter="data")
        copied = Path(scratch) / partial.name
        for path in copied.iterdir():
            shutil.move(str(path), partial / path.name)


def _noise(partial: Path, engine: Engine) -> noise.Noise | None:
    """The wrapper's readings → the noise guard's figures (None if it did not get that far)."""
    texts = {}
    for name in WRAPPER_FILES:
        path = partial / f".stwbench-{name}"
        try:
            texts[name] = path.read_text()
        except OSError:
            return None
        finally:
            path.unlink(missing_ok=True)
    cpus = cpu_ids(engine.spec.cpus) if engine.spec.cpus else None
    try:
        wall = float(texts["uptime-1"].split()[0]) - float(texts["uptime-0"].split()[0])
        user, sys = _children_times(texts["times"])
    except (ValueError, IndexError):
        return None
    return noise.interval(
        noise.parse_proc_stat(texts["stat-0"], cpus),
        noise.parse_proc_stat(texts["stat-1"], cpus),
        wall_s=wall,
        user_s=user,
        sys_s=sys,
    )


def _children_times(text: str) -> tuple[float, float]:
    """sh's `times`: line 2 is the children's user and system time, as 1m2.345s."""
    user, sys = text.splitlines()[1].split()[:2]
    return _minutes_seconds(user), _minutes_seconds(sys)


def _minutes_seconds(value: str) -> float:
    minutes, _, seconds = value.rstrip("s").partition("m")
    return float(minutes) * 60 + float(seconds)


def _parse_time(text: str | None) -> dt.datetime | None:
    """Docker's RFC 3339 with nanoseconds ('2026-12-01T21:05:07.576571226Z')."""
    if not text or text.startswith("0001-"):
        return None
    head, _, frac = text.rstrip("Z").partition(".")
    micro = (frac + "000000")[:6] if frac else "000000"
    return dt.datetime.fromisoformat(f"{head}.{micro}+00:00")
