"""What this machine allows for isolating benchmark processes, and the choice made.

Detected, recorded in Manifest.isolation, never fatal:
- `cpus`: the CPUs this process may use (its affinity mask);
- `taskset`: whether `taskset --cpu-list` works here;
- `cgroup_cpuset`: whether a cgroup v2 cpuset could be made (cgroup.controllers lists
  `cpuset` and /sys/fs/cgroup is writable). Detected only: nothing uses it yet.

The choice (`plan`): with `--cpus` the user's list pins every benchmark process and the
harness stays where it is. Without it and with ≥ 3 CPUs, the harness (this Python process,
its threads, perf report, trace summaries) keeps CPU `cpus[0]` and benchmark processes get
the rest through taskset. With 2 CPUs or fewer there is no CPU to spare: a GOMAXPROCS=2
benchmark needs both, so harness and benchmark share them and only the noise guards
(harness/runs/noise.py) tell how much else ran.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def affinity() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def _taskset_works(cpu: int) -> tuple[bool, str]:
    if shutil.which("taskset") is None:
        return False, "taskset not installed"
    try:
        done = subprocess.run(
            ["taskset", "--cpu-list", str(cpu), "true"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"taskset failed: {exc}"
    if done.returncode != 0:
        return False, f"taskset exit {done.returncode}: {done.stderr.strip()[:200]}"
    return True, "ok"


def _cgroup_cpuset(root: Path = CGROUP_ROOT) -> tuple[bool, str]:
    controllers = root / "cgroup.controllers"
    try:
        listed = controllers.read_text().split()
    except OSError:
        return False, f"no {controllers} (not cgroup v2)"
    if "cpuset" not in listed:
        return False, f"cpuset not among the cgroup v2 controllers ({' '.join(listed)})"
    if not os.access(root, os.W_OK):
        return False, f"{root} is not writable"
    return True, "ok"


def cpu_list(cpus: list[int]) -> str:
    return ",".join(str(c) for c in cpus)


def plan(cpus: list[int], taskset_ok: bool, user_cpus: str | None, max_gomaxprocs: int) -> dict:
    """Which CPUs the harness and the benchmarks get (pure: facts in, decision out)."""
    if user_cpus:
        return {
            "applied": True,
            "harness_cpus": None,
            "bench_cpus": user_cpus,
            "reason": "--cpus given: every benchmark process pinned to it, harness unpinned",
        }
    if len(cpus) < 3:
        return {
            "applied": False,
            "harness_cpus": None,
            "bench_cpus": None,
            "reason": f"{len(cpus)} CPUs: none to spare for the harness (a benchmark at "
            "GOMAXPROCS=2 needs two), so harness and benchmarks share them; the noise "
            "guards measure what else ran",
        }
    if not taskset_ok:
        return {
            "applied": False,
            "harness_cpus": None,
            "bench_cpus": None,
            "reason": "taskset does not work here: benchmarks cannot be pinned",
        }
    bench = cpus[1:]
    reason = f"harness on CPU {cpus[0]}, benchmark processes on {cpu_list(bench)}"
    if max_gomaxprocs > len(bench):
        reason += f" (GOMAXPROCS {max_gomaxprocs} > {len(bench)} pinned CPUs: oversubscribed)"
    return {
        "applied": True,
        "harness_cpus": [cpus[0]],
        "bench_cpus": cpu_list(bench),
        "reason": reason,
    }


def detect(user_cpus: str | None, max_gomaxprocs: int) -> dict:
    """The facts and the plan, as recorded in Manifest.isolation."""
    cpus = affinity()
    taskset_ok, taskset_why = _taskset_works(cpus[0])
    cgroup_ok, cgroup_why = _cgroup_cpuset()
    return {
        "cpus": cpus,
        "taskset": taskset_ok,
        "taskset_detail": taskset_why,
        "cgroup_cpuset": cgroup_ok,
        "cgroup_cpuset_detail": cgroup_why,
        **plan(cpus, taskset_ok, user_cpus, max_gomaxprocs),
    }


def _set_all_threads(cpus: set[int]) -> None:
    """sched_setaffinity is per thread: move every thread of this process."""
    try:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        tids = [0]
    for tid in tids:
        with contextlib.suppress(OSError, AttributeError):
            os.sched_setaffinity(tid, cpus)


@contextlib.contextmanager
def harness_on(cpus: list[int] | None) -> Iterator[None]:
    """Keep this process (all its threads) on `cpus` inside the block, then restore."""
    if not cpus:
        yield
        return
    before = set(affinity())
    _set_all_threads(set(cpus))
    try:
        yield
    finally:
        _set_all_threads(before)
