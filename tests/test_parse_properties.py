"""Property tests for harness/parse: whatever a process prints, parsing never raises and
never invents or loses a well-formed record."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.parse import (
    histogram_quantile,
    parse_bench,
    parse_gctrace,
    parse_perf_report,
    parse_probe,
    parse_schedtrace,
)
from harness.parse.skips import MAX_EXAMPLE_CHARS, MAX_EXAMPLES

FIXTURES = Path(__file__).parent / "fixtures"
PARSERS = [parse_bench, parse_gctrace, parse_schedtrace, parse_probe, parse_perf_report]

fast = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Seed lines to mutate: hand-written ones for every format, plus real fixture lines when
# they have been captured (at most a few dozen per file, to keep examples small).
SEED_LINES = [
    "gc 12 @0.345s 4%: 0.12+0.91+0.078 ms clock, 0.25+0.091/0.29/0+0.15 ms cpu, "
    "17->17->9 MB, 17 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)",
    "gc 3 @1.2s 9% (checking for goroutine leaks): 12+1034+0.5 ms clock, "
    "0.25+0.091/0.29/0+0.15 ms cpu, 4->5->1 MB, 8 MB goal, 2 P",
    "SCHED 1004ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 needspinning=0 "
    "idlethreads=2 runqueue=0 [ 0 1 ] schedticks=[ 10 20 ]",
    "SCHED 3012ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 needspinning=0 "
    "idlethreads=2 runqueue=1 gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false",
    "  P0: status=1 schedtick=10 syscalltick=2 m=3 runqsize=5 gfreecnt=0 timerslen=0",
    "  G1: status=4(chan receive) m=nil lockedm=nil",
    "BenchmarkScheduler-4   \t 1000000\t      1284 ns/op\t      10 B/op\t       1 allocs/op",
    "goos: linux",
    "# Samples: 3K of event 'cpu-clock'",
    "# Overhead  Command  Shared Object  Symbol",
    "# ........  .......  .............  ....................",
    "    27.34%  probe    probe          [.] runtime.findRunnable",
    "            |--2.88%--runtime.schedule",
    '{"schema": 1, "measured": 3, "start_latency_ns": {"buckets": [{"low": 0, "high": 1, '
    '"count": 3}]}, "runtime_metrics": {"/sched/latencies:seconds": {"buckets": '
    '[{"low": null, "high": 1e-9, "count": 2}]}}}',
]
if FIXTURES.is_dir():
    for path in sorted(FIXTURES.glob("*-1.*")):
        SEED_LINES += path.read_text(errors="replace").split("\n")[:40]


def check_skips(result) -> None:
    assert result.skipped >= 0
    assert len(result.skipped_examples) == min(result.skipped, MAX_EXAMPLES)
    assert all(len(example) <= MAX_EXAMPLE_CHARS for example in result.skipped_examples)


@st.composite
def mutated_line(draw) -> str:
    line = draw(st.sampled_from(SEED_LINES))
    action = draw(st.sampled_from(["truncate", "insert", "duplicate", "replace", "none"]))
    pos = draw(st.integers(0, len(line)))
    if action == "truncate":
        return line[:pos]
    if action == "insert":
        return line[:pos] + draw(st.text(max_size=8)) + line[pos:]
    if action == "duplicate":
        return line + "\n" + line
    if action == "replace" and line:
        return line[:pos] + draw(st.characters()) + line[pos + 1 :]
    return line


@fast
@given(st.text())
def test_random_text_never_raises(text):
    for parser in PARSERS:
        check_skips(parser(text))


@fast
@given(st.lists(mutated_line(), max_size=12))
def test_mutated_real_lines_never_raise(lines):
    text = "\n".join(lines)
    for parser in PARSERS:
        check_skips(parser(text))


# ---------------------------------------------------------------- gctrace: exact counts

ms = st.one_of(
    st.integers(0, 9999).map(str),
    st.builds(lambda a, b: f"{a}.{b}", st.integers(0, 9), st.integers(0, 999)),
)


@st.composite
def gctrace_line(draw) -> tuple[str, int, bool]:
    cycle = draw(st.integers(1, 10**6))
    forced = draw(st.booleans())
    leak = " (checking for goroutine leaks)" if draw(st.booleans()) else ""
    extras = draw(st.sampled_from(["0 MB stacks, 0 MB globals, ", "3 MB stacks, ", ""]))
    line = (
        f"gc {cycle} @{draw(st.integers(0, 10**4))}.{draw(st.integers(0, 999)):03d}s "
        f"{draw(st.integers(0, 100))}%{leak}: "
        f"{draw(ms)}+{draw(ms)}+{draw(ms)} ms clock, "
        f"{draw(ms)}+{draw(ms)}/{draw(ms)}/{draw(ms)}+{draw(ms)} ms cpu, "
        f"{draw(st.integers(0, 10**5))}->{draw(st.integers(0, 10**5))}->"
        f"{draw(st.integers(0, 10**5))} MB, {draw(st.integers(0, 10**5))} MB goal, "
        f"{extras}{draw(st.integers(1, 512))} P" + (" (forced)" if forced else "")
    )
    return line, cycle, forced


no_newline_text = st.text(alphabet=st.characters(blacklist_characters="\n"), max_size=120)


@st.composite
def broken_gctrace_line(draw) -> str:
    line, _, _ = draw(gctrace_line())
    # Cut anywhere before the end of "<n> P": the record is no longer intact.
    end = line.index(" P", line.index("MB goal")) + 1
    return line[: draw(st.integers(0, end))]


@fast
@given(
    st.lists(gctrace_line(), max_size=10),
    st.lists(st.one_of(no_newline_text, broken_gctrace_line()), max_size=10),
    st.randoms(use_true_random=False),
)
def test_gctrace_yields_exactly_the_valid_lines(valid, garbage, rnd):
    tagged = [(line, (cycle, forced)) for line, cycle, forced in valid]
    tagged += [(line, None) for line in garbage]
    rnd.shuffle(tagged)
    parsed = parse_gctrace("\n".join(line for line, _ in tagged))
    expected = [want for _, want in tagged if want is not None]
    assert [(c.cycle, c.forced) for c in parsed.cycles] == expected
    check_skips(parsed)


@fast
@given(gctrace_line(), no_newline_text, st.integers(1, 4))
def test_gctrace_record_after_foreign_text_and_duplicates(record, prefix, copies):
    line, cycle, forced = record
    parsed = parse_gctrace("\n".join([prefix + line] * copies))
    assert [(c.cycle, c.forced) for c in parsed.cycles] == [(cycle, forced)] * copies


@fast
@given(gctrace_line(), st.data())
def test_gctrace_mutation_never_makes_more_than_one_cycle(record, data):
    line = record[0]
    pos = data.draw(st.integers(0, len(line)))
    mutated = line[:pos] + data.draw(no_newline_text) + line[pos:]
    parsed = parse_gctrace(mutated)
    assert len(parsed.cycles) <= 1
    # A mutation that breaks the record's start ("gc :1 @…") leaves nothing that claims to
    # be a gctrace record: ignored, like any other stderr line. One that keeps it must
    # give the cycle or a counted skip.
    claims_a_record = re.search(r"gc \d+ @|^gc \d", mutated) is not None
    assert len(parsed.cycles) + parsed.skipped >= 1 or not claims_a_record


# ------------------------------------------------------------- schedtrace: exact counts


@st.composite
def sched_block(draw) -> tuple[str, int]:
    """A SCHED line (plain 1.21, plain 1.27 or detailed) and the rows it must give."""
    procs = draw(st.integers(1, 8))
    runqs = draw(st.lists(st.integers(0, 256), min_size=procs, max_size=procs))
    head = (
        f"SCHED {draw(st.integers(0, 10**7))}ms: gomaxprocs={procs} idleprocs=0 threads=5 "
        f"spinningthreads=0 needspinning=0 idlethreads=2 runqueue={draw(st.integers(0, 999))}"
    )
    style = draw(st.sampled_from(["1.21", "1.27", "detail"]))
    if style == "1.21":
        return f"{head} [{' '.join(map(str, runqs))}]", 1 + procs
    if style == "1.27":
        ticks = " ".join("7" for _ in runqs)
        return f"{head} [ {' '.join(map(str, runqs))} ] schedticks=[ {ticks} ]", 1 + procs
    lines = [head + " gcwaiting=false nmidlelocked=0 stopwait=0 sysmonwait=false"]
    lines += [
        f"  P{i}: status=1 schedtick=1 syscalltick=0 m=nil runqsize={n} gfreecnt=0 timerslen=0"
        for i, n in enumerate(runqs)
    ]
    lines += ["  M0: p=nil curg=nil mallocing=0", "  G1: status=4(sleep) m=nil lockedm=nil"]
    return "\n".join(lines), 1 + procs


@fast
@given(st.lists(sched_block(), max_size=6), st.lists(no_newline_text, max_size=6))
def test_schedtrace_rows_are_sched_lines_plus_ps(blocks, noise):
    # Foreign lines go between blocks (never inside a detailed block, where a line
    # starting with blanks and "P<digit>" would be read as a P line).
    parts: list[str] = []
    for i, (block, _) in enumerate(blocks):
        parts.append(block)
        if i < len(noise) and "SCHED" not in noise[i] and not re.match(r"\s+P\d", noise[i]):
            parts.append(noise[i])
    parsed = parse_schedtrace("\n".join(parts))
    assert len(parsed.samples) == sum(rows for _, rows in blocks)
    assert parsed.skipped == 0


# ------------------------------------------------------------------ bench, probe, perf


@fast
@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[A-Z][A-Za-z0-9_]{0,10}(/[a-z]+=[0-9]+)?", fullmatch=True),
            st.integers(1, 64),
            st.integers(1, 10**9),
            st.lists(
                st.tuples(
                    st.floats(allow_nan=False, allow_infinity=False, width=64),
                    st.from_regex(r"[a-zA-Z%][a-zA-Z0-9/%-]{0,10}", fullmatch=True),
                ),
                min_size=1,
                max_size=4,
            ),
        ),
        max_size=8,
    ),
    st.lists(no_newline_text, max_size=5),
)
def test_bench_counts_every_result_line(results, noise):
    lines = [
        f"Benchmark{name}-{procs}\t{iters}\t" + "\t".join(f"{v!r} {u}" for v, u in pairs)
        for name, procs, iters, pairs in results
    ]
    safe_noise = [n for n in noise if not n.startswith("Benchmark")]
    parsed = parse_bench("\n".join(safe_noise + lines))
    assert len(parsed.results) == len(results) and parsed.skipped == 0
    for got, (name, procs, iters, pairs) in zip(parsed.results, results, strict=True):
        assert (got.name, got.procs, got.iterations) == (name, procs, iters)
        assert got.metrics == dict((u, v) for v, u in pairs)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["low", "high", "count", "buckets", "measured", "runtime_metrics"])
            | st.text(max_size=4),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@fast
@given(json_values, st.integers(0, 400))
def test_probe_arbitrary_and_truncated_json(value, cut):
    text = json.dumps(value)
    for candidate in (text, text[:cut]):
        parsed = parse_probe(candidate)
        check_skips(parsed)
        assert (parsed.data is None) == (parsed.error is not None)
        if parsed.data is None:
            assert parsed.skipped == 1


@fast
@given(
    st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(1, 10**6), st.integers(0, 10**4)),
        min_size=1,
        max_size=20,
    ),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_histogram_quantile_is_monotone_and_bounded(raw, q1, q2):
    # Disjoint buckets in shuffled order: each starts where a gap after the previous ends.
    buckets, edge = [], 0.0
    for gap, width, count in raw:
        buckets.append((edge + gap, edge + gap + width, count))
        edge += gap + width
    buckets.reverse()
    a, b = histogram_quantile(buckets, min(q1, q2)), histogram_quantile(buckets, max(q1, q2))
    if sum(c for _, _, c in buckets) == 0:
        assert math.isnan(a) and math.isnan(b)
        return
    assert a <= b + 1e-6 * max(1.0, abs(b))
    lows = [lo for lo, _, c in buckets if c]
    highs = [hi for _, hi, c in buckets if c]
    assert min(lows) - 1e-6 <= a and b <= max(highs) + 1e-6


@fast
@given(
    st.lists(
        st.tuples(
            st.integers(0, 10000),
            st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
            st.from_regex(r"(runtime|main)\.[A-Za-z][A-Za-z0-9_.]{0,20}", fullmatch=True),
            st.booleans(),
        ),
        max_size=10,
    )
)
def test_perf_rows_with_header_round_trip(rows):
    width = max([len(sym) for _, _, sym, _ in rows] + [6]) + 4
    lines = [
        "# Samples: 1K of event 'cpu-clock'",
        "# Overhead  Command     Shared Object  Symbol",
        "# ........  ..........  .............  " + "." * width,
        "#",
    ]
    for pct, comm, sym, kernel in rows:
        dso = "[kernel]" if kernel else "probe"
        mark = "[k]" if kernel else "[.]"
        lines.append(f"{pct / 100:9.2f}%  {comm:<10}  {dso:<13}  {mark} {sym}")
        lines.append("            |")
        lines.append(f"            ---{sym}")
    parsed = parse_perf_report("\n".join(lines))
    assert parsed.skipped == 0
    assert [(s.command, s.symbol, s.kernel) for s in parsed.symbols] == [
        (comm, sym, kernel) for _, comm, sym, kernel in rows
    ]
    assert [s.overhead_pct for s in parsed.symbols] == [round(p / 100, 2) for p, *_ in rows]
