"""Workloads: what one process runs. Suites name lists of them.

Three kinds:
- `bench`: one benchmark of go_workloads/ (`go test -c` binary, `-test.bench=^BenchmarkX$`).
- `probe`: go_workloads/cmd/probe, the goroutine start-latency probe (writes probe.json),
  one workload per creator scenario: how the goroutine that runs `go f()` behaves decides
  what a scheduler patch does to the new goroutine's start (go_workloads/README.md):
  `probe` (sleep: a timer-driven producer), `probe-handoff` (a blocking producer: spawn,
  wait until the goroutine ran, then compute), `probe-busy` (a producer that never blocks
  and keeps its P), `probe-yield` (a producer that yields), `probe-http` (a server: the
  per-connection goroutine net/http starts when a request arrives), and `probe-gcoff`
  (the sleep probe with GOGC=off: the article's mitigation, claim 6).
- `goroot`: one benchmark from the toolchain's own src/runtime tests ("goroot:runtime"),
  the outside yardstick nobody here wrote.
"""

from __future__ import annotations

from harness.errors import UsageError
from harness.rundir import Workload


def _bench(name: str, gomaxprocs: int | None = None) -> Workload:
    suffix = f"@gomaxprocs={gomaxprocs}" if gomaxprocs else ""
    return Workload(name=f"{name}{suffix}", kind="bench", benchmark=name, gomaxprocs=gomaxprocs)


def _probe(name: str, creator: str, *args: str, tags: tuple[str, ...] = (), **env: str) -> Workload:
    return Workload(
        name=name,
        kind="probe",
        args=("-creator", creator, *args),
        env=tuple(sorted(env.items())),
        build_tags=tags,
    )


PROBE = _probe("probe", "sleep")  # the first probe's name, kept for the nightly history
PROBE_HANDOFF = _probe("probe-handoff", "handoff")
PROBE_BUSY = _probe("probe-busy", "busy")
PROBE_SCENARIOS = [
    PROBE,
    PROBE_HANDOFF,
    PROBE_BUSY,
    _probe("probe-yield", "yield"),
    # Loopback on 2 busy cores sustains ≈ 1 000–1 800 new connections/s beside the
    # allocator; at the probes' 20 µs most arrivals would be dropped (go_workloads/README).
    # Its own binary: linking net/http changes what the other creators measure (the
    # sleep creator's baseline p99 ≈ 700 µs without it, ≈ 30 µs with it:
    # go_workloads/cmd/probe/http_off.go).
    _probe("probe-http", "http", "-interval", "2ms", tags=("stwbench_http",)),
    _probe("probe-gcoff", "sleep", GOGC="off"),
]

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
        PROBE_HANDOFF,
        PROBE_BUSY,
    ],
    "quick": [PROBE, _bench("Scheduler"), _bench("BurstSpawn")],
    "probes": PROBE_SCENARIOS,
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


def quick_workloads(selector: str) -> str:
    """`--quick`'s workloads: the `quick` suite, unless the user chose some."""
    return "quick" if selector == "default" else selector


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
