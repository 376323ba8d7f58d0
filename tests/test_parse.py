"""harness/parse: real Go output (tests/fixtures) and the edge cases real output has."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from harness.parse import (
    BenchParse,
    GcCycle,
    SchedSample,
    gc_cycles_frame,
    histogram_quantile,
    latency_frame,
    parse_bench,
    parse_gctrace,
    parse_perf_report,
    parse_probe,
    parse_schedtrace,
    samples_frame,
    sched_frame,
)

FIXTURES = Path(__file__).parent / "fixtures"
VERSIONS = ["1.27.3", "1.21.13"]
CREATORS = ["sleep", "handoff", "busy", "yield", "http"]
# go_workloads/internal/gccost's names: the CPU shares, reported as they are...
GC_CPU_UNITS = ["gc-assist-cpu-%", "gc-dedicated-cpu-%", "gc-idle-cpu-%", "gc-pause-cpu-%"]
GCCOST_UNITS = [*GC_CPU_UNITS, "gc-cycles/s", "sched-latency-p50-ns", "sched-latency-p99-ns"]
# ...and the stop-the-world sums, Go >= 1.22 only (the probe's gc_cost has both sums; the
# benchmarks report the stopping one per op).
GCCOST_STW = ["stw-stopping-ns", "stw-total-ns"]

GC_LINE = (
    "gc 12 @0.345s 4%: 0.12+0.91+0.078 ms clock, 0.25+0.091/0.29/0+0.15 ms cpu, "
    "17->17->9 MB, 17 MB goal, 0 MB stacks, 0 MB globals, 2 P"
)


def fixture(name: str) -> str:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"fixture {name} not captured yet (see tests/fixtures/README)")
    return path.read_text()


# Independent, deliberately simple recognisers for the fixture tests: if the parser and
# these disagree, one of them misreads real output.
def grep_gctrace(text: str) -> list[str]:
    return [
        line
        for line in text.split("\n")
        if re.search(r"gc \d+ @\S+s \d+%.*: .* ms clock, .* ms cpu, .* MB goal, .*\d+ P", line)
    ]


# ---------------------------------------------------------------------------- bench


@pytest.mark.parametrize("version", VERSIONS)
def test_bench_fixture(version):
    text = fixture(f"bench-{version}.txt")
    parsed = parse_bench(text)
    result_lines = [
        line for line in text.split("\n") if line.startswith("Benchmark") and len(line.split()) >= 4
    ]
    assert parsed.skipped == 0, parsed.skipped_examples
    assert len(parsed.results) == len(result_lines) > 0
    assert parsed.config["goos"] == "linux"
    assert "pkg" in parsed.config
    for result, line in zip(parsed.results, result_lines, strict=True):
        assert not result.name.startswith("Benchmark")
        assert line.split()[0] == "Benchmark" + (
            result.name if result.procs == 1 else f"{result.name}-{result.procs}"
        )
        assert result.iterations > 0
        assert result.metrics["ns/op"] > 0
        assert result.config["goos"] == "linux"
    units = {unit for r in parsed.results for unit in r.metrics}
    assert {"ns/op", "B/op", "allocs/op"} <= units


@pytest.mark.parametrize("version", VERSIONS)
def test_bench_gccost_fixture(version):
    """The gccost units (`%`, `/s` and all) parse as units, with finite values."""
    text = fixture(f"bench-gccost-{version}.txt")
    parsed = parse_bench(text)
    assert parsed.skipped == 0, parsed.skipped_examples
    assert [(r.name, r.procs) for r in parsed.results] == [("Scheduler", 1), ("Scheduler", 2)]
    for result in parsed.results:
        # Every unit of the line is a key: nothing was split or merged.
        line = next(x for x in text.split("\n") if x.split()[:1] == [_full_name(result)])
        assert list(result.metrics) == line.split()[3::2]
        for unit in [*GCCOST_UNITS, "gc-cycles/op", "stw-ns/op"]:
            value = result.metrics[unit]
            assert math.isfinite(value) and value >= 0, unit
        for unit in GC_CPU_UNITS:
            assert 0 <= result.metrics[unit] <= 100
        assert sum(result.metrics[u] for u in GC_CPU_UNITS) <= 100
        assert result.metrics["gc-cycles/s"] > 0
        assert 0 < result.metrics["sched-latency-p50-ns"] <= result.metrics["sched-latency-p99-ns"]
        if version == "1.21.13":  # no /sched/pauses/stopping/gc:seconds before Go 1.22
            assert "stw-stopping-ns/op" not in result.metrics
        else:
            assert 0 <= result.metrics["stw-stopping-ns/op"] <= result.metrics["stw-ns/op"]


def _full_name(result) -> str:
    return "Benchmark" + (result.name if result.procs == 1 else f"{result.name}-{result.procs}")


def test_bench_names_procs_units_and_config():
    text = "\n".join(
        [
            "goos: linux",
            "goarch: amd64",
            "pkg: stwbench/go_workloads",
            "cpu: AMD EPYC 7B13",
            "BenchmarkScheduler-4   \t 1000000\t   1284 ns/op\t   10 B/op\t   1 allocs/op",
            "BenchmarkPingPongAlloc/pairs=4-2  500  2.5e+03 ns/op  0.01 gc-cycles/op  5e4 p99-ns",
            "BenchmarkSingle 10 3 ns/op",
            "Benchmark/sub-8 10 3 ns/op",
            "toolchain: patched",
            "BenchmarkScheduler-4 1000000 957 ns/op 42.5 MB/s",
            "PASS",
            "ok  \tstwbench/go_workloads\t12.345s",
        ]
    )
    parsed = parse_bench(text)
    assert parsed.skipped == 0
    names = [(r.name, r.procs) for r in parsed.results]
    assert names == [
        ("Scheduler", 4),
        ("PingPongAlloc/pairs=4", 2),
        ("Single", 1),
        ("/sub", 8),
        ("Scheduler", 4),
    ]
    first, second = parsed.results[0], parsed.results[1]
    assert first.iterations == 1_000_000
    assert first.metrics == {"ns/op": 1284.0, "B/op": 10.0, "allocs/op": 1.0}
    assert second.metrics == {"ns/op": 2500.0, "gc-cycles/op": 0.01, "p99-ns": 5e4}
    assert first.config == {
        "goos": "linux",
        "goarch": "amd64",
        "pkg": "stwbench/go_workloads",
        "cpu": "AMD EPYC 7B13",
    }
    # Configuration in effect at each line; a later key applies from there on.
    assert "toolchain" not in first.config
    assert parsed.results[-1].config["toolchain"] == "patched"
    assert parsed.config["toolchain"] == "patched"


def test_bench_config_override_and_non_config_lines():
    text = (
        "goos: linux\nnote:\nURL: http://x\nhttp://example.com\ngoos: darwin\nBenchmarkA 1 2 ns/op"
    )
    parsed = parse_bench(text)
    assert parsed.results[0].config == {"goos": "darwin", "note": ""}
    # The per-result config is a copy: later lines do not rewrite earlier results.
    parsed.config["goos"] = "plan9"
    assert parsed.results[0].config["goos"] == "darwin"


@pytest.mark.parametrize(
    "line",
    [
        "BenchmarkFoo-4",  # name printed, then the benchmark crashed
        "BenchmarkFoo-4 \t",
        "BenchmarkFoo-4 1000",
        "BenchmarkFoo-4 1000 12",  # truncated mid-pair
        "BenchmarkFoo-4 1000 12 ns/op 5",
        "BenchmarkFoo-4 many 12 ns/op",
        "BenchmarkFoo-4 1000 twelve ns/op",
        "BenchmarkFoo-4 1000 1_2 ns/op",  # Python's float() would accept this
        "BenchmarkFoo-4 -5 12 ns/op",
    ],
)
def test_bench_broken_result_lines_are_skipped(line):
    parsed = parse_bench(f"goos: linux\n{line}\nBenchmarkOk 1 2 ns/op\nPASS\n")
    assert parsed.skipped == 1
    assert parsed.skipped_examples == [line]
    assert [r.name for r in parsed.results] == ["Ok"]


def test_bench_ignores_words_that_merely_start_with_benchmark():
    parsed = parse_bench("Benchmarking the scheduler...\n--- BENCH: BenchmarkFoo\nPASS\n")
    assert parsed.results == [] and parsed.skipped == 0


# -------------------------------------------------------------------------- gctrace


@pytest.mark.parametrize("version", VERSIONS)
def test_gctrace_fixture(version):
    text = fixture(f"gctrace-{version}.txt")
    parsed = parse_gctrace(text)
    expected = grep_gctrace(text)
    assert len(parsed.cycles) == len(expected) > 0
    assert parsed.skipped == 0, parsed.skipped_examples
    assert [c.forced for c in parsed.cycles] == ["(forced)" in line for line in expected]
    cycles = [c.cycle for c in parsed.cycles]
    assert cycles == sorted(cycles)
    for c in parsed.cycles:
        assert c.procs >= 1
        assert c.heap_goal_mb >= 0 and c.heap_live_mb <= c.heap_end_mb + 1
        assert min(c.stw_sweep_term_ms, c.concurrent_mark_ms, c.stw_mark_term_ms) >= 0
    ats = [c.at_s for c in parsed.cycles]
    assert ats == sorted(ats)


@pytest.mark.parametrize("version", VERSIONS)
def test_gctrace_fixture_interleaved_with_program_output(version):
    lines = fixture(f"gctrace-{version}.txt").split("\n")
    clean = parse_gctrace("\n".join(lines)).cycles
    # Program output without a trailing newline in front of every other line, and one
    # record torn in two by a write that landed in the middle of it.
    noisy = [("tick " + line if i % 2 else line) for i, line in enumerate(lines)]
    torn = next(i for i, line in enumerate(noisy) if " MB goal" in line)
    cut = noisy[torn].index(" ms cpu")
    noisy[torn : torn + 1] = [noisy[torn][:cut] + "panic: boom", noisy[torn][cut:]]
    parsed = parse_gctrace("\n".join(noisy))
    assert parsed.cycles == clean[1:]  # the first record was the torn one
    assert parsed.skipped == 1


def test_gctrace_line_fields():
    (cycle,) = parse_gctrace(GC_LINE + "\n").cycles
    assert cycle == GcCycle(
        cycle=12,
        at_s=0.345,
        stw_sweep_term_ms=0.12,
        concurrent_mark_ms=0.91,
        stw_mark_term_ms=0.078,
        heap_start_mb=17.0,
        heap_end_mb=17.0,
        heap_live_mb=9.0,
        heap_goal_mb=17.0,
        gc_cpu_pct=4.0,
        procs=2,
        forced=False,
    )


def test_gctrace_trailers_forced_and_goroutine_leaks():
    leak = GC_LINE.replace("4%:", "4% (checking for goroutine leaks):")  # where 1.27 puts it
    text = "\n".join(
        [
            GC_LINE + " (forced)",
            leak,
            leak + " (forced)",
            GC_LINE + " (checking for goroutine leaks)",  # anywhere a note may appear
            GC_LINE + " (some future note) (forced)",
        ]
    )
    parsed = parse_gctrace(text)
    assert parsed.skipped == 0
    assert [c.forced for c in parsed.cycles] == [True, False, True, False, True]


def test_gctrace_old_format_without_stacks_and_globals():
    line = (
        "gc 1 @0.017s 0%: 0.004+0.32+0.003 ms clock, 0.016+0.11/0.27/0.10+0.014 ms cpu, "
        "4->4->0 MB, 5 MB goal, 4 P"
    )
    (cycle,) = parse_gctrace(line).cycles
    assert (cycle.cycle, cycle.heap_goal_mb, cycle.procs) == (1, 5.0, 4)


def test_gctrace_whole_milliseconds_and_other_stderr():
    # fmtNSAsMS prints ≥10 ms as whole milliseconds.
    big = GC_LINE.replace("0.12+0.91+0.078", "12+1034+0.5")
    text = "\n".join(
        [
            "pacer: assist ratio=+1.0e+000 (scan 0 MB in 3->4 MB) workers=0++0.000000e+000",
            "scvg: 0 MB released",
            "SCHED 1004ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 "
            "needspinning=0 idlethreads=2 runqueue=0 [0 1]",
            "hello from the program",
            big,
            "",
        ]
    )
    parsed = parse_gctrace(text)
    assert parsed.skipped == 0
    assert [(c.stw_sweep_term_ms, c.concurrent_mark_ms) for c in parsed.cycles] == [(12, 1034)]


def test_gctrace_record_after_other_output_on_the_same_line():
    # The program wrote "tick " without a newline, then the runtime printed its record.
    text = (
        "tick "
        + GC_LINE
        + "\n"
        + "partial outputgc 13 @0.4s 5%: "
        + GC_LINE.split(": ", 1)[1]
        + " (forced)"
    )
    parsed = parse_gctrace(text)
    assert [c.cycle for c in parsed.cycles] == [12, 13]
    assert [c.forced for c in parsed.cycles] == [False, True]
    assert parsed.skipped == 0


def test_gctrace_record_broken_by_other_output_is_skipped_not_guessed():
    broken = GC_LINE[:40] + "hello" + GC_LINE[40:]
    parsed = parse_gctrace(broken + "\n" + GC_LINE)
    assert len(parsed.cycles) == 1
    assert parsed.skipped == 1 and parsed.skipped_examples == [broken]


@pytest.mark.parametrize("cut", [5, 20, 60, 100, len(GC_LINE) - 1])
def test_gctrace_truncated_line_is_skipped(cut):
    parsed = parse_gctrace(GC_LINE[:cut] + "\n" + GC_LINE + " (forced)\n")
    assert len(parsed.cycles) == 1 and parsed.cycles[0].forced
    assert parsed.skipped == 1


def test_gctrace_garbage_and_lookalikes():
    text = "gc 5 garbage\ngc\ngcfoo 1 @\ngarbage collection took 5 ms\n\x00\xff" + "\n" * 3
    parsed = parse_gctrace(text)
    assert parsed.cycles == []
    assert parsed.skipped == 1  # only "gc 5 garbage" claims to be a record
    long = "gc 1 " + "x" * 500
    parsed = parse_gctrace(long)
    assert parsed.skipped_examples == [long[:200]]


def test_gctrace_two_records_on_one_line():
    # A lost newline (or a torn write) can put two intact records on one line.
    parsed = parse_gctrace(GC_LINE + " " + GC_LINE.replace("gc 12", "gc 13"))
    assert [c.cycle for c in parsed.cycles] == [12, 13]


# ----------------------------------------------------------------------- schedtrace


def expected_sched_rows(text: str) -> int:
    rows = 0
    for line in text.split("\n"):
        if "SCHED " in line:
            rows += 1
            bracket = re.search(r"runqueue=\d+ \[([\d ]*)\]", line)
            if bracket:
                rows += len(bracket.group(1).split())
        elif re.match(r"^\s+P\d+: ", line):
            rows += 1
    return rows


@pytest.mark.parametrize(
    "name",
    [
        "schedtrace-1.27.3.txt",
        "schedtrace-1.21.13.txt",
        "schedtrace-detail-1.27.3.txt",
        "schedtrace-detail-1.21.13.txt",
    ],
)
def test_schedtrace_fixture(name):
    text = fixture(name)
    parsed = parse_schedtrace(text)
    sched_lines = [line for line in text.split("\n") if "SCHED " in line]
    assert parsed.skipped == 0, parsed.skipped_examples
    assert len(parsed.samples) == expected_sched_rows(text)
    summaries = [s for s in parsed.samples if s.p is None]
    assert len(summaries) == len(sched_lines) > 0
    # Each summary row is followed by exactly one row per P, in P order, that repeats it.
    i = 0
    while i < len(parsed.samples):
        summary = parsed.samples[i]
        assert summary.p is None
        per_p = parsed.samples[i + 1 : i + 1 + summary.gomaxprocs]
        assert [s.p for s in per_p] == list(range(summary.gomaxprocs))
        for s in per_p:
            assert (s.t_ms, s.gomaxprocs, s.runqueue) == (
                summary.t_ms,
                summary.gomaxprocs,
                summary.runqueue,
            )
            assert s.p_runqsize is not None and s.p_runqsize >= 0
        i += 1 + summary.gomaxprocs
    t_ms = [s.t_ms for s in summaries]
    assert t_ms == sorted(t_ms)


PLAIN_121 = (
    "SCHED 1004ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 needspinning=0 "
    "idlethreads=2 runqueue=3 [4 1]"
)
PLAIN_127 = (
    "SCHED 2008ms: gomaxprocs=2 idleprocs=1 threads=6 spinningthreads=1 needspinning=0 "
    "idlethreads=3 runqueue=0 [ 0 7 ] schedticks=[ 10 20 ]"
)
DETAIL = (
    "SCHED 3012ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 needspinning=0 "
    "idlethreads=2 runqueue=1 gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false"
)
P0 = "  P0: status=1 schedtick=10 syscalltick=2 m=3 runqsize=5 gfreecnt=0 timerslen=0"
P1 = "  P1: status=0 schedtick=4 syscalltick=0 m=nil runqsize=0 gfreecnt=2 timerslen=1"


def test_schedtrace_plain_lines_121_and_127():
    parsed = parse_schedtrace(PLAIN_121 + "\n" + PLAIN_127 + "\n")
    assert parsed.skipped == 0
    summary = SchedSample(
        t_ms=1004,
        gomaxprocs=2,
        idleprocs=0,
        threads=5,
        spinningthreads=0,
        idlethreads=2,
        runqueue=3,
    )
    assert parsed.samples[:3] == [
        summary,
        SchedSample(**{**summary.__dict__, "p": 0, "p_runqsize": 4}),
        SchedSample(**{**summary.__dict__, "p": 1, "p_runqsize": 1}),
    ]
    assert [(s.t_ms, s.p, s.p_runqsize) for s in parsed.samples[3:]] == [
        (2008, None, None),
        (2008, 0, 0),
        (2008, 1, 7),
    ]
    assert parsed.samples[4].spinningthreads == 1 and parsed.samples[4].idlethreads == 3


def test_schedtrace_without_needspinning():
    parsed = parse_schedtrace(PLAIN_121.replace(" needspinning=0", ""))
    assert len(parsed.samples) == 3 and parsed.skipped == 0


def test_schedtrace_detail_p_rows_copy_their_sched_line():
    m_and_g = [
        "  M2: p=0 curg=1 mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=false "
        "blocked=false lockedg=nil",
        "  G1: status=4(chan receive) m=nil lockedm=nil",
        "  G2: status=4(force gc (idle)) m=nil lockedm=nil",
    ]
    parsed = parse_schedtrace("\n".join([DETAIL, P0, P1, *m_and_g, "program output"]))
    assert parsed.skipped == 0
    assert [(s.t_ms, s.runqueue, s.p, s.p_runqsize) for s in parsed.samples] == [
        (3012, 1, None, None),
        (3012, 1, 0, 5),
        (3012, 1, 1, 0),
    ]


def test_schedtrace_orphan_truncated_and_duplicate_p_lines_are_skipped():
    text = "\n".join(
        [
            P0,  # no SCHED line yet
            PLAIN_121,
            P1,  # after a plain line: not a detail P
            DETAIL,
            P0[:30],  # truncated
            P0,
            P0,  # duplicate within one SCHED block
            PLAIN_127[:-3],  # cut inside schedticks
            PLAIN_127[: PLAIN_127.index(" schedticks")],  # cut just before it: fine
            PLAIN_121[:50],
        ]
    )
    parsed = parse_schedtrace(text)
    assert parsed.skipped == 6
    assert parsed.skipped_examples == [P0, P1, P0[:30], P0, PLAIN_127[:-3]]
    assert [(s.t_ms, s.p) for s in parsed.samples] == [
        (1004, None),
        (1004, 0),
        (1004, 1),
        (3012, None),
        (3012, 0),
        (2008, None),
        (2008, 0),
        (2008, 1),
    ]


def test_schedtrace_record_after_other_output_on_the_same_line():
    parsed = parse_schedtrace("some output without newline" + PLAIN_127)
    assert [(s.t_ms, s.p) for s in parsed.samples] == [(2008, None), (2008, 0), (2008, 1)]


# ---------------------------------------------------------------------------- probe


@pytest.mark.parametrize("version", VERSIONS)
def test_probe_fixture(version):
    text = fixture(f"probe-{version}.json")
    parsed = parse_probe(text)
    assert parsed.error is None and parsed.skipped == 0
    assert parsed.data is not None and parsed.data["schema"] == 1
    assert parsed.data["go_version"] == f"go{version}"
    assert parsed.measured is not None and parsed.measured > 0
    assert sum(count for _, _, count in parsed.histogram) == parsed.measured
    assert parsed.gc_cycles is not None and parsed.gc_cycles > 0
    for low, high, count in parsed.histogram:
        assert low is not None and high is not None and low < high and count > 0
    assert "/sched/latencies:seconds" in parsed.runtime_metrics
    for buckets in parsed.runtime_metrics.values():
        for low, high, _ in buckets:
            assert low is None or high is None or low < high
    # The probe's own exact percentiles and ours from its buckets agree to a bucket.
    p99 = histogram_quantile(parsed.histogram, 0.99)
    exact = parsed.data["percentiles_ns"]["p99"]
    assert exact * 0.75 <= p99 <= exact * 1.25 + 1


@pytest.mark.parametrize("creator", CREATORS)
def test_probe_creator_fixture(creator):
    text = fixture(f"probe-{creator}-1.27.3.json")
    parsed = parse_probe(text)
    assert parsed.error is None and parsed.skipped == 0
    data = parsed.data
    assert data is not None and data["schema"] == 2 and data["go_version"] == "go1.27.3"
    assert parsed.creator == creator == data["creator"]
    assert parsed.measured is not None and parsed.measured > 0
    assert sum(count for _, _, count in parsed.histogram) == parsed.measured
    # The counts add up: measured + dropped + failed == attempted, spawned = attempted -
    # dropped; only http drops (the in-flight cap) or fails.
    assert parsed.measured + data["dropped"] + data["failed"] == data["attempted"]
    assert data["spawned"] == data["attempted"] - data["dropped"]
    assert data["failed"] == 0
    if creator != "http":
        assert parsed.measured == data["spawned"] == data["attempted"] and data["dropped"] == 0
    # gc_cost: every gccost name (1.27.3 has all the metrics; GCs finished in the window),
    # finite, the CPU shares in [0, 100] and summing to at most 100.
    assert set(parsed.gc_cost) == {*GCCOST_UNITS, *GCCOST_STW}
    assert all(math.isfinite(v) and v >= 0 for v in parsed.gc_cost.values())
    assert sum(parsed.gc_cost[u] for u in GC_CPU_UNITS) <= 100
    assert parsed.gc_cost["gc-cycles/s"] > 0
    assert parsed.gc_cost["stw-stopping-ns"] <= parsed.gc_cost["stw-total-ns"]
    assert set(parsed.runtime_metrics) >= {"/sched/latencies:seconds", "/gc/pauses:seconds"}


@pytest.mark.parametrize("version", VERSIONS)
def test_probe_schema_1_fixture_has_no_creator_or_gc_cost(version):
    parsed = parse_probe(fixture(f"probe-{version}.json"))
    assert parsed.data is not None and parsed.data["schema"] == 1
    assert parsed.creator is None and parsed.gc_cost == {} and parsed.skipped == 0


def test_probe_schema_2_gc_cost_and_creator_edge_cases():
    doc = probe_doc(
        schema=2,
        creator="http",
        gc_cost={
            "gc-cycles/s": 12,  # an int is a number
            "gc-assist-cpu-%": 1.5,
            "gc-idle-cpu-%": "1.5",
            "gc-pause-cpu-%": None,
            "gc-dedicated-cpu-%": True,
            "stw-total-ns": 10**400,  # too big for a float
        },
    )
    parsed = parse_probe(json.dumps(doc))
    assert parsed.creator == "http"
    assert parsed.gc_cost == {"gc-cycles/s": 12.0, "gc-assist-cpu-%": 1.5}
    assert parsed.skipped == 4 and len(parsed.skipped_examples) == 4
    # Python's json reads the non-standard NaN / -Infinity tokens: not finite, skipped.
    for token in ("NaN", "-Infinity"):
        text = json.dumps(probe_doc(gc_cost={"a": 2})).replace('"a": 2', f'"a": {token}')
        odd = parse_probe(text)
        assert odd.gc_cost == {} and odd.skipped == 1
    wrong = parse_probe(json.dumps(probe_doc(gc_cost=[1, 2], creator=7)))
    assert wrong.gc_cost == {} and wrong.creator is None and wrong.skipped == 2


def probe_doc(**overrides) -> dict:
    doc = {
        "schema": 1,
        "go_version": "go1.27.3",
        "gomaxprocs": 2,
        "duration_s": 2.0,
        "interval_ns": 20000,
        "spawned": 10,
        "measured": 10,
        "gc_cycles": 3,
        "start_latency_ns": {
            "buckets": [{"low": 0, "high": 128, "count": 5}, {"low": 128, "high": 256, "count": 5}]
        },
        "percentiles_ns": {"p50": 100, "p99": 200, "p999": 200, "max": 250},
        "runtime_metrics": {
            "/sched/latencies:seconds": {
                "buckets": [
                    {"low": None, "high": 0.0, "count": 1},
                    {"low": 1.28e-7, "high": 2.56e-7, "count": 3},
                    {"low": 1.0, "high": None, "count": 1},
                ]
            },
            "/sched/pauses/total/gc:seconds": {"buckets": []},
            "/gc/heap/allocs-by-size:bytes": {"buckets": [{"low": 8, "high": 16, "count": 2}]},
        },
    }
    doc.update(overrides)
    return doc


def test_probe_schema():
    parsed = parse_probe(json.dumps(probe_doc()))
    assert parsed.error is None and parsed.skipped == 0
    assert parsed.histogram == [(0.0, 128.0, 5), (128.0, 256.0, 5)]
    assert parsed.runtime_metrics["/sched/latencies:seconds"] == [
        (None, 0.0, 1),
        (1.28e-7, 2.56e-7, 3),
        (1.0, None, 1),
    ]
    assert parsed.runtime_metrics["/sched/pauses/total/gc:seconds"] == []
    assert (parsed.gc_cycles, parsed.measured) == (3, 10)


@pytest.mark.parametrize(
    "text",
    ["", "   ", '{"schema": 1, "start_latency_ns": {"buckets": [{"low": 0', "[1, 2]", "null", "x"],
)
def test_probe_invalid_or_truncated_json(text):
    parsed = parse_probe(text)
    assert parsed.data is None and parsed.error and parsed.skipped == 1
    assert parsed.histogram == [] and parsed.runtime_metrics == {}
    assert parsed.gc_cycles is None and parsed.measured is None
    assert len(parsed.skipped_examples) == 1 and len(parsed.skipped_examples[0]) <= 200


def test_probe_after_other_output_and_bad_buckets():
    doc = probe_doc(
        start_latency_ns={
            "buckets": [
                {"low": 0, "high": 128, "count": 5},
                {"low": 0, "high": 128},
                {"low": "x", "high": 1, "count": 1},
                {"low": 9, "high": 1, "count": 1},
                {"low": 0, "high": 1, "count": -1},
                7,
            ]
        },
        gc_cycles="many",
    )
    parsed = parse_probe("probe: warming up\n" + json.dumps(doc) + "\ntrailing\n")
    assert parsed.error is None
    assert parsed.histogram == [(0.0, 128.0, 5)]
    assert parsed.skipped == 5 and len(parsed.skipped_examples) == 5
    assert parsed.gc_cycles is None


def test_histogram_quantile_convention():
    buckets = [(0.0, 10.0, 10), (10.0, 20.0, 10), (20.0, None, 0)]
    assert histogram_quantile(buckets, 0.0) == 0.0
    assert histogram_quantile(buckets, 0.25) == 5.0
    assert histogram_quantile(buckets, 0.5) == 10.0
    assert histogram_quantile(buckets, 0.75) == 15.0
    assert histogram_quantile(buckets, 1.0) == 20.0
    # Order does not matter; an open top bucket answers with its finite lower bound.
    assert histogram_quantile([(100.0, None, 1), (0.0, 1.0, 99)], 0.999) == 100.0
    assert histogram_quantile([(None, 0.0, 5), (0.0, 1.0, 5)], 0.1) == 0.0
    assert math.isnan(histogram_quantile([], 0.5))
    assert math.isnan(histogram_quantile([(0.0, 1.0, 0)], 0.5))
    with pytest.raises(ValueError):
        histogram_quantile(buckets, 1.5)


# ----------------------------------------------------------------------------- perf


def test_perf_fixture():
    text = fixture("perf-report-1.27.3.txt")
    parsed = parse_perf_report(text)
    assert parsed.skipped == 0, parsed.skipped_examples
    assert parsed.symbols and all(s.symbol for s in parsed.symbols)
    assert parsed.event is not None and parsed.samples is not None and parsed.samples > 0
    for event in {s.event for s in parsed.symbols}:
        total = sum(s.overhead_pct for s in parsed.symbols if s.event == event)
        assert 0 < total <= 100.5
    rows = [line for line in text.split("\n") if re.match(r"^\s+\d+\.\d+%\s\s", line)]
    assert len(parsed.symbols) == len(rows)
    assert any(s.symbol.startswith("runtime.") for s in parsed.symbols)


PERF_HEADER = """\
# To display the perf.data header info, please use --header/--header-only options.
#
#
# Total Lost Samples: 0
#
# Samples: 12K of event 'cpu-clock'
# Event count (approx.): 3058000000
#
"""


def test_perf_default_sort_with_call_graph():
    text = PERF_HEADER + (
        "# Overhead  Command  Shared Object      Symbol\n"
        "# ........  .......  .................  ...............................\n"
        "#\n"
        "    27.34%  probe    probe              [.] runtime.findRunnable\n"
        "            |\n"
        "            ---runtime.findRunnable\n"
        "               |          \n"
        "               |--2.88%--runtime.schedule\n"
        "                --2.39%--runtime.park_m\n"
        "                          runtime.mcall\n"
        "\n"
        "     5.01%  probe    [kernel.kallsyms]  [k] __softirqentry_text_start\n"
        "27.34% runtime.findRunnable;runtime.schedule\n"
        "     0.50%  gc worker 1  probe          [.] runtime.gcDrain\n"
        "\n"
        "#\n"
        "# (Cannot load tips.txt file, please install perf!)\n"
        "#\n"
    )
    parsed = parse_perf_report(text)
    assert (parsed.event, parsed.samples, parsed.skipped) == ("cpu-clock", 12000, 0)
    assert [
        (s.overhead_pct, s.command, s.shared_object, s.symbol, s.kernel) for s in parsed.symbols
    ] == [
        (27.34, "probe", "probe", "runtime.findRunnable", False),
        (5.01, "probe", "[kernel.kallsyms]", "__softirqentry_text_start", True),
        (0.5, "gc worker 1", "probe", "runtime.gcDrain", False),
    ]


def test_perf_children_self_sort_symbol_and_dso_sym():
    children = PERF_HEADER + (
        "# Children      Self  Shared Object  Symbol\n"
        "# ........  ........  .............  ..........................\n"
        "#\n"
        "    40.00%     1.00%  probe          [.] runtime.schedule\n"
        "    10.00%    10.00%  probe          [.] runtime.gcDrain\n"
    )
    parsed = parse_perf_report(children)
    assert [
        (s.overhead_pct, s.children_pct, s.command, s.shared_object) for s in parsed.symbols
    ] == [
        (1.0, 40.0, None, "probe"),
        (10.0, 10.0, None, "probe"),
    ]
    by_symbol = PERF_HEADER + (
        "# Overhead  Symbol                            IPC   [IPC Coverage]\n"
        "# ........  ................................  ....................\n"
        "#\n"
        "    12.34%  [.] runtime.findRunnable          -      -            \n"
        "     1.00%  [k] finish_task_switch.isra.0     -      -            \n"
    )
    parsed = parse_perf_report(by_symbol)
    assert [(s.overhead_pct, s.symbol, s.command, s.shared_object) for s in parsed.symbols] == [
        (12.34, "runtime.findRunnable", None, None),
        (1.0, "finish_task_switch.isra.0", None, None),
    ]


def test_perf_rows_without_a_header_and_with_sample_counts():
    parsed = parse_perf_report(
        "12.34%  [.] runtime.findRunnable\n"
        "    5.00%  probe  [.] runtime.gcDrain\n"
        "    1.00%  probe  probe  [.] runtime.mcall\n"
    )
    assert parsed.event is None and parsed.samples is None and parsed.skipped == 0
    assert [(s.command, s.shared_object, s.symbol) for s in parsed.symbols] == [
        (None, None, "runtime.findRunnable"),
        (None, "probe", "runtime.gcDrain"),
        ("probe", "probe", "runtime.mcall"),
    ]
    with_n = PERF_HEADER + (
        "# Overhead       Samples  Command  Shared Object  Symbol\n"
        "# ........  ............  .......  .............  ....................\n"
        "    27.34%           836  probe    probe          [.] runtime.findRunnable\n"
    )
    (row,) = parse_perf_report(with_n).symbols
    assert (row.overhead_pct, row.command, row.symbol) == (27.34, "probe", "runtime.findRunnable")


def test_perf_broken_rows_are_skipped_and_events_tagged():
    text = (
        PERF_HEADER
        + "# Overhead  Command  Shared Object  Symbol\n"
        + "# ........  .......  .............  ....................\n"
        + "    27.34%  probe    probe          [.] runtime.findRunnable\n"
        + "    12.00%  pro\n"
        + "    garbage %%% [.]\n"
        + "# Samples: 40  of event 'sched:sched_switch'\n"
        + "# Overhead  Command  Shared Object      Symbol\n"
        + "# ........  .......  .................  ....................\n"
        + "   100.00%  probe    [kernel.kallsyms]  [k] __schedule\n"
    )
    parsed = parse_perf_report(text)
    assert parsed.skipped == 1 and parsed.skipped_examples == ["    12.00%  pro"]
    assert [(s.event, s.symbol) for s in parsed.symbols] == [
        ("cpu-clock", "runtime.findRunnable"),
        ("sched:sched_switch", "__schedule"),
    ]
    assert parsed.event == "cpu-clock"


# ------------------------------------------------------------------------ non-str input


@pytest.mark.parametrize(
    "parser", [parse_bench, parse_gctrace, parse_schedtrace, parse_probe, parse_perf_report]
)
def test_parsers_reject_non_str(parser):
    with pytest.raises(TypeError):
        parser(b"gc 1 @0.1s")
    assert parser("").skipped == (1 if parser is parse_probe else 0)


# --------------------------------------------------------------------------- tables


def test_gc_cycles_frame_columns():
    cycles = parse_gctrace(GC_LINE + "\n" + GC_LINE + " (forced)").cycles
    frame = gc_cycles_frame(cycles, variant="patched", workload="probe", rep=3)
    assert list(frame.columns) == [
        "variant",
        "workload",
        "rep",
        "cycle",
        "at_s",
        "stw_sweep_term_ms",
        "concurrent_mark_ms",
        "stw_mark_term_ms",
        "heap_start_mb",
        "heap_end_mb",
        "heap_live_mb",
        "heap_goal_mb",
        "gc_cpu_pct",
        "procs",
        "forced",
    ]
    assert frame["forced"].tolist() == [False, True]
    assert frame["rep"].tolist() == [3, 3] and frame["variant"].tolist() == ["patched"] * 2
    assert frame["forced"].dtype == bool and frame["procs"].dtype == "int64"
    empty = gc_cycles_frame([], variant="v", workload="w", rep=0)
    assert list(empty.columns) == list(frame.columns)
    assert (empty.dtypes == frame.dtypes).all()


def test_sched_frame_columns():
    parsed = parse_schedtrace(PLAIN_121 + "\n" + DETAIL + "\n" + P0)
    frame = sched_frame(parsed.samples, variant="base", workload="probe", rep=0)
    assert list(frame.columns) == [
        "variant",
        "workload",
        "rep",
        "t_ms",
        "gomaxprocs",
        "idleprocs",
        "threads",
        "spinningthreads",
        "idlethreads",
        "runqueue",
        "p",
        "p_runqsize",
    ]
    assert str(frame["p"].dtype) == "Int64" and str(frame["p_runqsize"].dtype) == "Int64"
    assert frame["p"].isna().tolist() == [True, False, False, True, False]
    assert frame["p_runqsize"].dropna().tolist() == [4, 1, 5]
    empty = sched_frame([], variant="v", workload="w", rep=0)
    assert (empty.dtypes == frame.dtypes).all()


def test_samples_frame_columns_names_and_direction():
    bench = parse_bench(
        "goos: linux\n"
        "BenchmarkScheduler-4 1000 957 ns/op 42.5 MB/s 10 B/op\n"
        "BenchmarkPingPongAlloc/pairs=4 500 0.01 gc-cycles/op 5e4 p99-ns 3 ops/s 2 x-per-sec\n"
    )
    frame = samples_frame(bench, run_id="r1", variant="base", workload="sched", rep=2)
    assert list(frame.columns) == [
        "run_id",
        "variant",
        "workload",
        "benchmark",
        "rep",
        "metric",
        "unit",
        "value",
        "better",
        "phase",
    ]
    assert set(frame["phase"]) == {"all"}  # GC-phase rows come from traces only
    rows = list(frame[["benchmark", "metric", "unit", "value", "better"]].itertuples(index=False))
    assert [tuple(r) for r in rows] == [
        ("Scheduler-4", "ns/op", "ns/op", 957.0, "lower"),
        ("Scheduler-4", "MB/s", "MB/s", 42.5, "higher"),
        ("Scheduler-4", "B/op", "B/op", 10.0, "lower"),
        ("PingPongAlloc/pairs=4", "gc-cycles/op", "gc-cycles/op", 0.01, "lower"),
        ("PingPongAlloc/pairs=4", "p99-ns", "p99-ns", 5e4, "lower"),
        ("PingPongAlloc/pairs=4", "ops/s", "ops/s", 3.0, "higher"),
        ("PingPongAlloc/pairs=4", "x-per-sec", "x-per-sec", 2.0, "higher"),
    ]
    assert set(frame["run_id"]) == {"r1"} and set(frame["rep"]) == {2}
    empty = samples_frame(BenchParse(), run_id="r", variant="v", workload="w", rep=0)
    assert list(empty.columns) == list(frame.columns) and len(empty) == 0


def test_latency_frame_columns_and_units():
    frame = latency_frame(
        parse_probe(json.dumps(probe_doc())), variant="v", workload="probe", rep=1
    )
    assert list(frame.columns) == [
        "variant",
        "workload",
        "rep",
        "source",
        "phase",
        "bucket_low_ns",
        "bucket_high_ns",
        "count",
    ]
    assert set(frame["phase"]) == {"all"}
    probe = frame[frame["source"] == "probe"]
    assert probe[["bucket_low_ns", "bucket_high_ns", "count"]].values.tolist() == [
        [0.0, 128.0, 5],
        [128.0, 256.0, 5],
    ]
    sched = frame[frame["source"] == "/sched/latencies"]
    assert sched["count"].tolist() == [1, 3, 1]
    assert math.isnan(sched["bucket_low_ns"].iloc[0]) and math.isnan(
        sched["bucket_high_ns"].iloc[2]
    )
    assert sched["bucket_low_ns"].iloc[1] == 128.0 and sched["bucket_high_ns"].iloc[1] == 256.0
    # Non-time histograms do not belong in a latency table.
    assert set(frame["source"]) == {"probe", "/sched/latencies"}
    empty = latency_frame(parse_probe("garbage"), variant="v", workload="w", rep=0)
    assert list(empty.columns) == list(frame.columns) and (empty.dtypes == frame.dtypes).all()


def test_frames_round_trip_parquet_with_their_dtypes(tmp_path):
    ident = {"variant": "base", "workload": "probe", "rep": 0}
    frames = {
        "gc": gc_cycles_frame(parse_gctrace(GC_LINE).cycles, **ident),
        "sched": sched_frame(parse_schedtrace(PLAIN_121).samples, **ident),
        "samples": samples_frame(parse_bench("BenchmarkA-2 1 2 ns/op"), run_id="r", **ident),
        "latency": latency_frame(parse_probe(json.dumps(probe_doc())), **ident),
    }
    for name, frame in frames.items():
        frame.to_parquet(tmp_path / f"{name}.parquet")
        back = pd.read_parquet(tmp_path / f"{name}.parquet")
        pd.testing.assert_frame_equal(back, frame)
