"""The sanity gate: does the (patched) runtime still schedule and collect correctly?

`go test -short` on a named subset of the toolchain's own runtime and sync tests, the
ones that exercise exactly what a scheduler/GC patch can break. Every name exists in
Go 1.21.13 … 1.27.3 and runs under -short there (TestGcSys, skipped as known-flaky,
and TestStopTheWorldDeadlock, skipped under -short, were left out for that reason); the
gate fails if one of them failed, was skipped, or did not run at all.

A knob-gated patch (GODEBUG settings, default off) is gated once per knob setting a run
uses: `run_gate(toolchain, godebug="gcrunnextfirst=1")` runs the same tests with that
GODEBUG, recorded beside the knobs-off result (provenance `gates_godebug`).
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import asdict, dataclass

from harness.console import console
from harness.timestamps import utc_now_iso
from harness.toolchains import cache, provenance
from harness.toolchains.builder import Toolchain
from harness.toolchains.goenv import go_env

# package -> {test: why it is in the gate}
GATE_TESTS: dict[str, dict[str, str]] = {
    "runtime": {
        "TestSchedLocalQueue": "local run queue ring + runnext put/get invariants",
        "TestSchedLocalQueueSteal": "stealing from a P's queue while it is being filled",
        "TestSchedLocalQueueEmpty": "a queue is never seen empty while it holds work",
        "TestGoroutineParallelism": "hand-offs between goroutines on every P, with GC",
        "TestGoroutineParallelism2": "the same with network-poller wake-ups and GC",
        "TestBlockLocked": "LockOSThread hand-offs through the scheduler",
        "TestTimerFairness": "timers fire beside goroutines that never block",
        "TestTimerFairness2": "the same with more timers and spinners",
        "TestPreemption": "asynchronous preemption of a goroutine in a tight loop",
        "TestPreemptionGC": "GC stop-the-world while goroutines spin: STW must complete",
        "TestGCFairness": "a GC-heavy process keeps running goroutines (runs testprog)",
        "TestGCFairness2": "dedicated mark workers do not starve user goroutines (testprog)",
        "TestYieldProgress": "Gosched hand-offs keep making progress",
        "TestNumGoroutine": "goroutine accounting through create/exit",
        "TestGcDeepNesting": "marking deep pointer chains",
        "TestPeriodicGC": "sysmon's forced periodic GC still runs",
        "TestUserForcedGC": "runtime.GC() completes a full cycle",
    },
    "sync": {
        "TestWaitGroup": "park/ready through sema",
        "TestMutexFairness": "starvation mode hand-off (direct runnext hand-off)",
        "TestCondSignalStealing": "wake-ups are not lost when signals race",
        "TestPoolGC": "pools are cleared by GC cycles",
        "TestPoolStress": "concurrent pool traffic across GC",
    },
}
GATE_TIMEOUT_S = 600
_PASS = re.compile(r"^\s*--- PASS: (\S+)")
_FAIL = re.compile(r"^\s*--- FAIL: (\S+)")
_SKIP = re.compile(r"^\s*--- SKIP: (\S+)")


@dataclass
class GateResult:
    passed: bool
    exit_code: int | None
    tests_passed: list[str]
    tests_failed: list[str]
    tests_missing: list[str]  # did not run: skipped (listed again below) or absent
    tests_skipped: list[str]
    wall_s: float
    log: str
    command: list[str]
    ran_at: str
    godebug: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def gate_command(toolchain: Toolchain, tests: dict[str, dict[str, str]]) -> list[str]:
    names = sorted({name for package_tests in tests.values() for name in package_tests})
    return [
        str(toolchain.go),
        "test",
        "-short",
        "-count=1",
        "-v",
        "-timeout=9m",
        "-run",
        f"^({'|'.join(names)})$",
        *tests,
    ]


def recorded_gate(provenance_record: dict, godebug: str = "") -> dict | None:
    """The gate result a toolchain's provenance holds for these knobs ("" = none)."""
    if not godebug:
        return provenance_record.get("gate")
    return (provenance_record.get("gates_godebug") or {}).get(godebug)


def gate_is_current(toolchain: Toolchain, godebug: str = "") -> bool:
    """The toolchain's provenance holds a gate result for today's GATE_TESTS (with
    these GODEBUG knobs)."""
    recorded = recorded_gate(toolchain.provenance, godebug)
    return bool(recorded) and recorded.get("command") == gate_command(toolchain, GATE_TESTS)


def run_gate(
    toolchain: Toolchain, tests: dict[str, dict[str, str]] | None = None, godebug: str = ""
) -> GateResult:
    """Run the gate, save its log next to the toolchain, record the result in provenance.

    `tests` narrows the gate (package -> test names); the default is GATE_TESTS.
    `godebug`: knobs to run it with (a knob-gated patch's settings), recorded per value.
    """
    tests = tests or GATE_TESTS
    wanted = {name for package_tests in tests.values() for name in package_tests}
    command = gate_command(toolchain, tests)
    suffix = "-" + re.sub(r"[^A-Za-z0-9]+", "_", godebug) if godebug else ""
    log_path = toolchain.entry / f"gate{suffix}.log"
    started = time.monotonic()
    extra = {"GODEBUG": godebug} if godebug else {}
    env = go_env(toolchain.goroot, GOCACHE=str(cache.subdir("gocache")), GOFLAGS="", **extra)
    with_knobs = f", GODEBUG={godebug}" if godebug else ""
    console.print(
        f"gate: go test -short, {len(wanted)} tests of {', '.join(tests)}, "
        f"toolchain {toolchain.key[:12]}{with_knobs} (a few minutes)"
    )
    exit_code: int | None
    with log_path.open("w") as log, console.status("running the sanity gate") as status:
        process = subprocess.Popen(
            command,
            cwd=toolchain.goroot / "src",
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        assert process.stdout is not None
        passed, failed, skipped = [], [], []
        for line in process.stdout:
            log.write(line)
            if m := _PASS.match(line):
                passed.append(m.group(1))
                status.update(f"gate: {m.group(1)} passed")
            elif m := _SKIP.match(line):
                skipped.append(m.group(1))
            elif m := _FAIL.match(line):
                failed.append(m.group(1))
                console.print(f"[red]gate: {m.group(1)} FAILED[/]")
        try:
            exit_code = process.wait(timeout=GATE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            exit_code = None
    missing = sorted(wanted - set(passed) - set(failed))
    result = GateResult(
        passed=exit_code == 0 and not failed and not missing,
        exit_code=exit_code,
        tests_passed=sorted(set(passed) & wanted),
        tests_failed=sorted(set(failed)),
        tests_missing=missing,
        tests_skipped=sorted(set(skipped) & wanted),
        wall_s=round(time.monotonic() - started, 1),
        log=str(log_path),
        command=command,
        ran_at=utc_now_iso(),
        godebug=godebug,
    )
    # On disk (the toolchain's cache entry) and in the caller's copy, which every
    # variant of this toolchain shares: one place that knows where a gate result goes.
    on_disk = provenance.read(toolchain.entry)
    for record in (on_disk, toolchain.provenance):
        if godebug:
            record.setdefault("gates_godebug", {})[godebug] = result.to_json()
        else:
            record["gate"] = result.to_json()
    provenance.write(toolchain.entry, on_disk)
    return result
