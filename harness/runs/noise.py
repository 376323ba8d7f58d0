"""How much else the machine did while one benchmark process ran (its interference).

One job: sample the machine's CPU accounting just before a process starts and just after
it was waited for, and turn the two samples into figures the runner can judge a process
by without looking at what the process measured:

- `cpu_user_s`, `cpu_sys_s`: the child's CPU time, the RUSAGE_CHILDREN delta around the
  wait (perf and taskset wrappers and the Go process are all waited for, so included);
- `interference_cores`: CPU the rest of the machine burned, in cores, averaged over the
  process's wall time: (busy jiffies of /proc/stat's aggregate `cpu` line / CLK_TCK −
  child CPU − this harness's own CPU) / wall. Busy = user + nice + system + irq + softirq
  (guest time is already inside user/nice); idle, iowait and steal are not busy;
- `steal_cores`: CPU the hypervisor gave to other guests while we wanted it, same units;
- `load1`: the 1-minute load average when the process started.

Jiffies tick at CLK_TCK (100 Hz here), so a figure over a 0.5 s process is good to about
±0.04 cores: thresholds must sit well above that.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

PROC_STAT = Path("/proc/stat")
# /proc/stat "cpu" line fields, in order (proc(5)); later kernels may append more.
FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
BUSY = ("user", "nice", "system", "irq", "softirq")


def _clk_tck() -> int:
    try:
        return int(os.sysconf("SC_CLK_TCK"))
    except (ValueError, OSError):
        return 100


CLK_TCK = _clk_tck()


def parse_proc_stat(text: str, cpus: list[int] | None = None) -> dict[str, int] | None:
    """/proc/stat as {field: jiffies} (missing fields: 0): the aggregate `cpu` line, or
    the sum of the `cpuN` lines of `cpus` (a container pinned to some CPUs of a machine
    whose other CPUs run another engine's benchmarks must not count those as its noise)."""
    wanted = {"cpu"} if cpus is None else {f"cpu{n}" for n in cpus}
    total: dict[str, int] | None = None
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0] not in wanted:
            continue
        try:
            values = [int(v) for v in parts[1:]]
        except ValueError:
            return None
        values += [0] * (len(FIELDS) - len(values))
        row = dict(zip(FIELDS, values, strict=False))
        total = row if total is None else {k: total[k] + row[k] for k in FIELDS}
    return total


def _read_proc_stat() -> dict[str, int] | None:
    try:
        return parse_proc_stat(PROC_STAT.read_text())
    except OSError:
        return None


@dataclass(frozen=True)
class Sample:
    """The machine's counters at one instant."""

    monotonic_s: float
    stat: dict[str, int] | None  # None: no /proc/stat (not Linux, or hidden)
    children_user_s: float
    children_sys_s: float
    self_cpu_s: float
    load1: float | None


def sample() -> Sample:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    try:
        load1: float | None = os.getloadavg()[0]
    except OSError:
        load1 = None
    return Sample(
        monotonic_s=time.monotonic(),
        stat=_read_proc_stat(),
        children_user_s=children.ru_utime,
        children_sys_s=children.ru_stime,
        self_cpu_s=own.ru_utime + own.ru_stime,
        load1=load1,
    )


@dataclass(frozen=True)
class Noise:
    wall_s: float
    cpu_user_s: float
    cpu_sys_s: float
    interference_cores: float | None  # None: /proc/stat unreadable
    steal_cores: float | None
    load1: float | None

    @property
    def cpu_s(self) -> float:
        return self.cpu_user_s + self.cpu_sys_s


def measure(before: Sample, after: Sample, clk_tck: int = CLK_TCK) -> Noise:
    """The figures of the interval between two samples (see the module docstring)."""
    return interval(
        before.stat,
        after.stat,
        wall_s=after.monotonic_s - before.monotonic_s,
        user_s=max(after.children_user_s - before.children_user_s, 0.0),
        sys_s=max(after.children_sys_s - before.children_sys_s, 0.0),
        own_s=max(after.self_cpu_s - before.self_cpu_s, 0.0),
        load1=before.load1,
        clk_tck=clk_tck,
    )


def interval(
    stat_before: dict[str, int] | None,
    stat_after: dict[str, int] | None,
    *,
    wall_s: float,
    user_s: float,
    sys_s: float,
    own_s: float = 0.0,
    load1: float | None = None,
    clk_tck: int = CLK_TCK,
) -> Noise:
    """The figures of one process from its machine's counters around it: this harness's
    (`measure`) or the ones a container's wrapper read (harness/runs/container.py)."""
    wall = max(wall_s, 1e-9)
    interference = steal = None
    if stat_before is not None and stat_after is not None:
        delta = {k: stat_after[k] - stat_before[k] for k in FIELDS}
        busy_s = sum(delta[k] for k in BUSY) / clk_tck
        interference = round((busy_s - user_s - sys_s - own_s) / wall, 4)
        steal = round(delta["steal"] / clk_tck / wall, 4)
    return Noise(
        wall_s=round(wall, 4),
        cpu_user_s=round(user_s, 6),
        cpu_sys_s=round(sys_s, 6),
        interference_cores=interference,
        steal_cores=steal,
        load1=load1,
    )
