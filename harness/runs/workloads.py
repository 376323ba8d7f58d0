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

import re
from pathlib import Path

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


_REGEX_CHARS = set(".*+?[](){}|^$\\")


def goroot_workload(selector: str) -> Workload:
    """`goroot:PKG[/NAME|/REGEX]`: a std package's benchmarks. The last element is a
    benchmark when it starts upper-case (`goroot:runtime/CreateGoroutines`, with or
    without the `Benchmark` prefix) or holds regex characters (`goroot:sync/Mutex.*`,
    matched against the full `BenchmarkX` name); else it is part of the package, and
    every benchmark of it runs (`goroot:sync`)."""
    path = selector.removeprefix("goroot:").strip("/")
    package, _, last = path.rpartition("/")
    if not path or not re.fullmatch(r"[A-Za-z0-9_./*+?\[\](){}|^$\\-]+", path):
        raise UsageError(f"{selector!r}: want goroot:PKG[/BENCHMARK|/REGEX], e.g. goroot:sync")
    if package and (last[:1].isupper() or _REGEX_CHARS & set(last)):
        if _REGEX_CHARS & set(last):
            _check_regex(last, f"{selector!r}: bad benchmark regex")
            return Workload(name=selector, kind="goroot", package=package, pattern=last)
        return Workload(
            name=selector, kind="goroot", package=package, benchmark=last.removeprefix("Benchmark")
        )
    return Workload(name=selector, kind="goroot", package=path, pattern=".")


def _check_regex(pattern: str, what: str) -> None:
    """-test.bench takes a Go regexp; Python's refuses the same broken ones we care about."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"{what} {pattern!r}: {exc}") from exc


def package_workload(spec: str) -> Workload:
    """`--bench-pkg DIR[:REGEX]`: the benchmarks of a user's package directory (all of
    them, or those REGEX matches)."""
    directory, _, pattern = spec.partition(":")
    path = Path(directory).expanduser().resolve()
    if not path.is_dir() or not any(path.glob("*_test.go")):
        raise UsageError(f"--bench-pkg {spec!r}: {path} is not a directory with *_test.go files")
    if not (path / "go.mod").exists() and not any(
        p.joinpath("go.mod").exists() for p in path.parents
    ):
        raise UsageError(f"--bench-pkg {spec!r}: {path} is not inside a Go module (no go.mod)")
    if pattern:
        _check_regex(pattern, f"--bench-pkg {spec!r}: bad regex")
    name = f"pkg:{path.name}" + (f"/{pattern}" if pattern else "")
    return Workload(name=name, kind="gopkg", package=str(path), pattern=pattern or ".")


def resolve_workloads(selector: str, bench_pkgs: list[str] = ()) -> list[Workload]:
    """`default`, `quick`, `goroot:runtime`, `goroot:PKG[/REGEX]`, or a comma list of names
    (suites may mix in); plus a workload per `--bench-pkg DIR[:REGEX]`."""
    chosen: list[Workload] = []
    known = {w.name: w for suite in SUITES.values() for w in suite}
    for part in (p.strip() for p in selector.split(",") if p.strip()):
        if part in SUITES:
            chosen.extend(SUITES[part])
        elif part in known:
            chosen.append(known[part])
        elif part.startswith("goroot:"):
            chosen.append(goroot_workload(part))
        else:
            raise UsageError(
                f"unknown workload {part!r}; suites: {', '.join(SUITES)}; "
                f"workloads: {', '.join(sorted(known))}"
            )
    chosen += [package_workload(spec) for spec in bench_pkgs]
    unique = list({w.name: w for w in chosen}.values())
    if not unique:
        raise UsageError("--workloads selected nothing")
    return unique
