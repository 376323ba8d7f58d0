"""Workloads: what one process runs. Suites name lists of them.

Three kinds:
- `bench`: one benchmark of go_workloads/ (`go test -c` binary, `-test.bench=^BenchmarkX$`).
- `probe`: go_workloads/cmd/probe, the goroutine start-latency probe (writes probe.json).
- `goroot`: one benchmark from the toolchain's own src/runtime tests ("goroot:runtime"),
  the outside yardstick nobody here wrote.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from harness.errors import UsageError


@dataclass(frozen=True)
class Workload:
    name: str  # unique in a run; used in paths and tables
    kind: str  # "bench" | "probe" | "goroot"
    benchmark: str = ""  # Go benchmark name without the "Benchmark" prefix
    gomaxprocs: int | None = None  # pinned (the GOMAXPROCS=1 starvation check), else the list
    probe_duration_s: float = 2.0

    @property
    def calibrated(self) -> bool:
        """Benchmarks run a fixed -benchtime=Nx, N found once and shared by all variants."""
        return self.kind in ("bench", "goroot")

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Workload:
        return cls(**data)


def _bench(name: str, gomaxprocs: int | None = None) -> Workload:
    suffix = f"@gomaxprocs={gomaxprocs}" if gomaxprocs else ""
    return Workload(name=f"{name}{suffix}", kind="bench", benchmark=name, gomaxprocs=gomaxprocs)


PROBE = Workload(name="probe", kind="probe")

SUITES: dict[str, list[Workload]] = {
    "default": [
        _bench("AllocChurn"),
        _bench("BinaryTrees"),
        _bench("FanOutFanIn"),
        _bench("Scheduler"),
        _bench("BurstSpawn"),
        _bench("PingPongAlloc"),
        # The starvation check of BACKGROUND.md: with one P, a ping-pong chain handing
        # off through runnext must not keep the mark worker off the P forever.
        _bench("PingPongAlloc", gomaxprocs=1),
        _bench("Timers"),
        _bench("HTTPOpenLoop"),
        PROBE,
    ],
    "quick": [PROBE, _bench("Scheduler"), _bench("BurstSpawn")],
    "goroot:runtime": [
        Workload(name=f"goroot:runtime/{name}", kind="goroot", benchmark=name)
        for name in (
            "CreateGoroutines",
            "CreateGoroutinesParallel",
            "PingPongHog",
            "WakeupParallelSpinning",
            "ChanSync",
            "ChanProdCons10",
            "StackGrowth",
            "WriteBarrier",
            "BulkWriteBarrier",
            "ScanStackNoLocals",
        )
    ],
}


def resolve_workloads(selector: str) -> list[Workload]:
    """`default`, `quick`, `goroot:runtime`, or a comma list of names (suites may mix in)."""
    chosen: list[Workload] = []
    known = {w.name: w for suite in SUITES.values() for w in suite}
    for part in (p.strip() for p in selector.split(",") if p.strip()):
        if part in SUITES:
            chosen.extend(SUITES[part])
        elif part in known:
            chosen.append(known[part])
        elif part.startswith("goroot:runtime/"):
            chosen.append(Workload(name=part, kind="goroot", benchmark=part.split("/", 1)[1]))
        else:
            raise UsageError(
                f"unknown workload {part!r}; suites: {', '.join(SUITES)}; "
                f"workloads: {', '.join(sorted(known))}"
            )
    unique = list({w.name: w for w in chosen}.values())
    if not unique:
        raise UsageError("--workloads selected nothing")
    return unique
