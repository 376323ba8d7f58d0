"""The execution-trace parser, perf folding, trace tables and the claims, without runs.

Fixtures are real `go tool trace` dumps of short probe runs (tests/fixtures/README.md,
"Trace fixtures"): one per dump format (Go 1.27.3: goid first; Go 1.22.10: resource
first), with the gctrace stderr and probe.json of the same process beside them.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from harness.parse.perf_script import fold_perf_script, read_folded, stack_shares
from harness.parse.trace import (
    PHASES,
    StwWindow,
    TraceSummary,
    classify,
    parse_trace_dump,
    parse_trace_stream,
)
from harness.parse.trace_tables import (
    ALL_SYMBOLS,
    TRACE_SOURCE,
    WATCHED_SYMBOLS,
    perf_stacks_frame,
    probe_bucket,
    probe_buckets,
    trace_goroutines_frame,
    trace_latency_frame,
    trace_phase_metrics,
    trace_stw_frame,
)
from harness.report import claims
from harness.report.inputs import TABLE_COLUMNS
from harness.runs import trace as run_trace
from tests.conftest import make_manifest

FIXTURES = Path(__file__).parent / "fixtures"
TRACE_VERSIONS = ["1.27.3", "1.22.10"]
GCTRACE = re.compile(r"^gc \d+ @", re.M)


def dump(version: str) -> bytes:
    return gzip.decompress((FIXTURES / f"trace-parsed-{version}.txt.gz").read_bytes())


# ------------------------------------------------------------------------ fixtures


@pytest.mark.parametrize("version", TRACE_VERSIONS)
def test_trace_fixture_matches_the_process_gctrace_and_probe(version):
    summary = parse_trace_dump(dump(version))
    probe = json.loads((FIXTURES / f"trace-probe-{version}.json").read_text())
    gc_lines = len(GCTRACE.findall((FIXTURES / f"trace-stderr-{version}.txt").read_text()))
    assert summary.format == ("goid-first" if version >= "1.24" else "resource-first")
    assert summary.skipped == 0 and summary.skipped_examples == []
    # Every probe goroutine, identified by its start function, started exactly once.
    assert len(summary.created_ns) == probe["measured"] == probe["spawned"]
    assert summary.identified_by == {"start-function": probe["measured"]}
    assert None not in summary.latency_ns and min(summary.latency_ns) > 0
    counts = summary.phase_counts()
    assert set(counts) == set(PHASES) and sum(counts.values()) == probe["measured"]
    # The trace covers every GC of the process: one STW pair per gctrace line.
    kinds = Counter(w.kind for w in summary.stw)
    assert kinds["sweep-term"] == kinds["mark-term"] == gc_lines > 0
    assert kinds["other"] == 1  # the tracer's own start
    assert len(summary.mark_phases) == gc_lines
    assert summary.spawner_goid == 1  # the main goroutine logged window-start
    assert 0 < summary.window_start_ns < summary.window_end_ns <= summary.end_ns
    for window in summary.stw:
        assert window.end_ns is not None and window.begin_ns <= window.restart_ns <= window.end_ns
        continued = [a for a in window.after if a["continued"]]
        assert len(continued) == 1 and continued[0]["p"] == window.p
        assert len({a["p"] for a in window.after}) == len(window.after)
        for after in window.after:
            assert after["ran"] in {"gc-worker", "probe", "spawner", "user", "runtime", "unknown"}
            assert after["delay_ns"] >= 0
            if after["label"] is not None:
                assert after["ran"] == "gc-worker"
                assert after["label"] in {"dedicated", "fractional", "idle"}
    # Creation times are in the window, and each classification is consistent.
    for t, phase, since, kind in zip(
        summary.created_ns, summary.phase, summary.since_stw_ns, summary.stw_kind, strict=True
    ):
        assert summary.window_start_ns <= t <= summary.window_end_ns
        if phase.startswith("after-"):
            assert since is not None and since < summary.after_stw_ns
            assert kind == phase.removeprefix("after-")


def test_trace_fixture_http_creator_counts_the_server_connection_goroutines():
    """-creator http: the probe goroutines are net/http's (*conn).serve ones (one per
    request, created by the accept loop), not the client's request goroutines."""
    data = gzip.decompress((FIXTURES / "trace-parsed-http-1.27.3.txt.gz").read_bytes())
    summary = parse_trace_dump(data)
    probe = json.loads((FIXTURES / "trace-probe-http-1.27.3.json").read_text())
    gc_lines = len(GCTRACE.findall((FIXTURES / "trace-stderr-http-1.27.3.txt").read_text()))
    assert probe["creator"] == "http" and probe["failed"] == 0
    assert summary.skipped == 0
    assert len(summary.created_ns) == probe["measured"] > 0
    assert summary.identified_by == {"start-function": probe["measured"]}
    assert None not in summary.latency_ns and min(summary.latency_ns) > 0
    # Each request's client goroutine is in the dump too, and is not counted.
    assert data.count(b"\tmain.(*httpServer).request @") >= probe["measured"]
    assert sum(summary.phase_counts().values()) == probe["measured"]
    kinds = Counter(w.kind for w in summary.stw)
    assert kinds["sweep-term"] == kinds["mark-term"] == gc_lines > 0
    for t in summary.created_ns:
        assert summary.window_start_ns <= t <= summary.window_end_ns
    # A caller can still narrow the rule to the spawning creators' body.
    only_started = parse_trace_dump(data, probe_functions=["main.started"])
    assert only_started.created_ns == [] and only_started.probe_functions == ["main.started"]


@pytest.mark.parametrize("version", TRACE_VERSIONS)
@pytest.mark.parametrize("chunk", [1, 97, 4096, 1 << 22])
def test_trace_chunking_does_not_change_the_result(version, chunk):
    data = dump(version)
    if chunk == 1:
        chunk = 1 + len(data) // 50  # 50 chunks, cut anywhere
    whole = parse_trace_dump(data).to_json()
    assert parse_trace_dump(data, chunk_bytes=chunk).to_json() == whole
    # A pipe delivering odd sizes (BufferedReader.read returns what it has).
    import io

    assert parse_trace_stream(io.BytesIO(data), chunk_bytes=chunk).to_json() == whole


def test_trace_after_stw_window_is_configurable():
    data = dump("1.27.3")
    narrow = parse_trace_dump(data, after_stw_ns=1)
    wide = parse_trace_dump(data, after_stw_ns=10**12)
    assert narrow.phase_counts()["after-sweep-term"] == 0
    assert set(wide.phase) <= {"after-sweep-term", "after-mark-term", "outside-gc", "mark"}
    assert wide.phase_counts()["mark"] == 0 and wide.phase_counts()["outside-gc"] == 0


def test_phases_are_rederived_from_the_record_with_another_x():
    """The analysis re-reads a recorded trace with its own X (`report --trace-after-stw-us`):
    the same phases as parsing the dump with that X, the record itself unchanged."""
    data = dump("1.27.3")
    recorded = parse_trace_dump(data)  # the run stage's record (default X)
    for x in (1, 50_000, 10**12):
        again = recorded.classified(x)
        direct = parse_trace_dump(data, after_stw_ns=x)
        assert again.phase == direct.phase and again.after_stw_ns == x
        assert again.since_stw_ns == recorded.since_stw_ns  # X moves only the phase
    assert recorded.classified(1).phase != recorded.classified(10**12).phase


# ------------------------------------------------------------------ bad input


def test_trace_garbage_lines_are_tolerated_and_counted():
    lines = dump("1.27.3").split(b"\n")
    clean = parse_trace_dump(b"\n".join(lines))
    rng = random.Random(3)
    garbage = [
        b'M=1 P=0 G=1 StateTransition Time=oops GoID=5 NotExist->Runnable Reason=""',
        b'M=1 P=0 G=1 RangeBegin Time= Name="stop-the-world (GC sweep termination)"',
        b"\x00\xff\xfe binary junk NotExist->Runnable",
        b"M=",
        b"",
        'ünïcode Name="stop-the-world'.encode(),
    ]
    mixed = list(lines)
    for junk in garbage:
        mixed.insert(rng.randrange(1, len(mixed)), junk)
    parsed = parse_trace_dump(b"\n".join(mixed))
    assert parsed.skipped == 2  # the two junk lines that look like a goroutine creation
    assert len(parsed.skipped_examples) == 2
    assert parsed.phase_counts() == clean.phase_counts()
    assert len(parsed.stw) == len(clean.stw)


@pytest.mark.parametrize("seed", range(6))
def test_trace_truncated_anywhere_never_raises_nor_invents(seed):
    data = dump("1.27.3")
    full = parse_trace_dump(data)
    cut = random.Random(seed).randrange(len(data))
    part = parse_trace_dump(data[:cut])
    assert len(part.created_ns) <= len(full.created_ns)
    assert part.created_ns == full.created_ns[: len(part.created_ns)]
    started = [x for x in part.latency_ns if x is not None]
    assert started == full.latency_ns[: len(started)]
    assert len(part.stw) <= len(full.stw)


def test_trace_line_cut_at_the_end_is_skipped_not_half_read():
    event = b'M=1 P=0 G=1 StateTransition Time=2000 GoID=12 NotExist->Runnable Reason=""'
    text = (
        b'M=1 P=0 G=1 Log Time=1000 Task=0 Category="stwbench" Message="window-start"\n'
        + event[:-9]  # the stream ends inside the line
    )
    parsed = parse_trace_dump(text)
    assert parsed.created_ns == [] and parsed.skipped == 1
    assert parsed.skipped_examples == [event[:-9].decode()]
    assert parse_trace_dump("").to_json()["created_ns"] == []
    with pytest.raises(TypeError):
        parse_trace_dump(None)  # type: ignore[arg-type]


# ------------------------------------------------------- events, by hand (both formats)


def _line(fmt: str, m: int, p: int, g: int, t: int, what: str) -> str:
    """One event line; `what` is `GoID=N A->B`, `ProcID=N A->B` or a non-transition."""
    if not what.startswith(("GoID=", "ProcID=")):
        return f"M={m} P={p} G={g} {what.replace('@', f'Time={t}')}"
    if fmt == "goid-first":
        return f'M={m} P={p} G={g} StateTransition Time={t} {what} Reason=""'
    resource = "Goroutine" if what.startswith("GoID") else "Proc"
    n = what.split("=")[1].split()[0]
    return f'M={m} P={p} G={g} StateTransition Time={t} Resource={resource}({n}) Reason="" {what}'


def _creation(fmt: str, p: int, g: int, t: int, goid: int, func: str) -> str:
    return (
        _line(fmt, 1, p, g, t, f"GoID={goid} NotExist->Runnable")
        + f"\nTransitionStack=\n\t{func} @ 0x4d2\n\t\t/x.go:1\n"
        + "\nStack=\n\tmain.run @ 0x1\n\t\t/m.go:2\n"
    )


@pytest.mark.parametrize("fmt", ["goid-first", "resource-first"])
def test_trace_stw_restart_first_runs_and_labels(fmt):
    sweep = 'Name="stop-the-world (GC sweep termination)"'
    mark = 'Name="stop-the-world (GC mark termination)"'
    lines = [
        _line(fmt, 1, 0, 1, 100, 'Log @ Task=0 Category="stwbench" Message="window-start"'),
        _creation(fmt, 0, 1, 1_000, 10, "main.started"),
        _creation(fmt, 0, 1, 1_100, 11, "main.allocate"),
        _line(fmt, 1, 0, -1, 1_500, "GoID=10 Runnable->Running"),  # latency 500
        _line(fmt, 1, 0, 11, 2_000, f"RangeBegin @ {sweep} Scope=Goroutine(11)"),
        _line(fmt, 2, 1, -1, 2_100, "ProcID=1 Running->Idle"),
        _line(fmt, 2, -1, -1, 2_900, "ProcID=1 Idle->Running"),  # the real restart
        _line(fmt, 2, 1, -1, 2_950, "GoID=5 Runnable->Running"),
        _line(fmt, 2, 1, 5, 2_960, 'Label @ Label="GC (dedicated)" Resource=Goroutine(5)'),
        _line(fmt, 1, 0, 11, 3_000, f"RangeEnd @ {sweep} Scope=Goroutine(11) Attributes=[]"),
        _creation(fmt, 0, 11, 3_050, 12, "main.started"),  # 150 ns after the restart
        _creation(fmt, 0, 11, 9_000, 13, "main.started"),  # 6.1 µs after: mark
        _line(fmt, 1, 0, -1, 9_100, "GoID=12 Runnable->Running"),
        _line(fmt, 1, 0, -1, 9_300, "GoID=13 Runnable->Running"),
        _line(fmt, 2, 1, 5, 20_000, f"RangeBegin @ {mark} Scope=Goroutine(5)"),
        _line(fmt, 2, 1, 5, 20_500, f"RangeEnd @ {mark} Scope=Goroutine(5) Attributes=[]"),
        _line(fmt, 1, 0, -1, 20_600, "GoID=1 Runnable->Running"),
        _creation(fmt, 0, 1, 21_000, 14, "main.started"),  # after-mark-term
        _creation(fmt, 0, 1, 40_000, 15, "main.started"),  # outside-gc
        _line(fmt, 1, 0, -1, 41_000, "GoID=15 Runnable->Running"),
        _line(fmt, 1, 0, -1, 41_500, "GoID=14 Runnable->Running"),
        _line(fmt, 1, 0, 1, 50_000, 'Log @ Task=0 Category="stwbench" Message="window-end"'),
    ]
    parsed = parse_trace_dump("\n".join(lines) + "\n", after_stw_ns=1_000)
    assert parsed.format == fmt and parsed.skipped == 0
    assert parsed.t0_ns == 100 and parsed.spawner_goid == 1
    rel = [t + 100 for t in parsed.created_ns]
    assert rel == [1_000, 3_050, 9_000, 21_000, 40_000]
    assert parsed.latency_ns == [500, 6_050, 300, 20_500, 1_000]
    assert parsed.phase == [
        "outside-gc",
        "after-sweep-term",
        "mark",
        "after-mark-term",
        "outside-gc",
    ]
    assert parsed.since_stw_ns == [None, 150, 6_100, 500, 19_500]
    sweep_w, mark_w = parsed.stw
    assert (sweep_w.kind, sweep_w.begin_ns + 100, sweep_w.end_ns + 100) == (
        "sweep-term",
        2_000,
        3_000,
    )
    assert sweep_w.restart_ns + 100 == 2_900  # P1 back before the recorded end
    assert sweep_w.after == [
        {"p": 0, "goid": 11, "ran": "user", "label": None, "continued": True, "delay_ns": 0},
        {
            "p": 1,
            "goid": 5,
            "ran": "gc-worker",
            "label": "dedicated",
            "continued": False,
            "delay_ns": 50,
        },
    ]
    assert mark_w.restart_ns == mark_w.end_ns
    assert mark_w.after == [
        {"p": 1, "goid": 5, "ran": "gc-worker", "label": None, "continued": True, "delay_ns": 0},
        {"p": 0, "goid": 1, "ran": "spawner", "label": None, "continued": False, "delay_ns": 100},
    ]


def test_trace_creations_without_stacks_fall_back_to_the_spawner():
    lines = [
        'M=1 P=0 G=7 Log Time=1 Task=0 Category="stwbench" Message="window-start"',
        'M=1 P=0 G=7 StateTransition Time=5 GoID=20 NotExist->Runnable Reason=""',
        'M=1 P=0 G=8 StateTransition Time=6 GoID=21 NotExist->Runnable Reason=""',
        'M=1 P=0 G=-1 StateTransition Time=9 GoID=20 Runnable->Running Reason=""',
    ]
    parsed = parse_trace_dump("\n".join(lines) + "\n")
    assert parsed.identified_by == {"creator": 1}
    assert parsed.latency_ns == [4]


def test_classify_phases_at_the_edges():
    windows = [
        StwWindow("sweep-term", "s", begin_ns=100, end_ns=200, restart_ns=150),
        StwWindow("other", "o", begin_ns=300, end_ns=310, restart_ns=310),  # ignored
        StwWindow("mark-term", "m", begin_ns=1_000, end_ns=1_010, restart_ns=1_010),
        StwWindow("sweep-term", "s", begin_ns=5_000, end_ns=None, restart_ns=None),  # open
    ]
    times = [50, 120, 150, 249, 250, 305, 999, 1_005, 1_109, 1_110, 5_500]
    got = classify(times, windows, after_stw_ns=100)
    assert [g[0] for g in got] == [
        "outside-gc",  # before any GC
        "after-sweep-term",  # inside the STW, before the restart: negative since
        "after-sweep-term",
        "after-sweep-term",
        "mark",  # exactly X after the restart
        "mark",  # an "other" STW does not change the GC phase
        "mark",
        "after-mark-term",
        "after-mark-term",
        "outside-gc",
        "mark",  # the trace ended inside a sweep-termination STW
    ]
    assert [g[1] for g in got][:3] == [None, -30, 0]
    # A trace that began inside a mark phase: its first GC STW is a mark termination.
    assert classify([10], windows[2:3], 100) == [("mark", None, None)]


# ---------------------------------------------------------------------- buckets, tables


def test_probe_buckets_are_the_probes_own():
    probe = json.loads((FIXTURES / "probe-1.27.3.json").read_text())
    for bucket in probe["start_latency_ns"]["buckets"]:
        assert probe_bucket(bucket["low"]) == (bucket["low"], bucket["high"])
        assert probe_bucket(bucket["high"] - 1) == (bucket["low"], bucket["high"])
    assert probe_bucket(-3) == (0, 1) and probe_bucket(3) == (3, 4) and probe_bucket(4) == (4, 5)
    assert probe_bucket(9) == (8, 10) and probe_bucket(2**40) == (2**40, 2**40 + 2**38)
    assert probe_buckets([5, 5, 900, 1000]) == [(5.0, 6.0, 2), (896.0, 1024.0, 2)]


def test_trace_tables_from_the_fixture():
    summary = parse_trace_dump(dump("1.27.3"))
    ids = {"variant": "base", "workload": "probe", "rep": 1}
    latency = trace_latency_frame(summary, **ids)
    assert set(latency["source"]) == {TRACE_SOURCE}
    assert latency.groupby("phase")["count"].sum().to_dict() == {
        k: v for k, v in summary.phase_counts().items() if v
    }
    goroutines = trace_goroutines_frame(summary, **ids, gomaxprocs=2)
    assert len(goroutines) == len(summary.created_ns) and not goroutines["latency_ns"].isna().any()
    stw = trace_stw_frame(summary, **ids, gomaxprocs=2)
    assert len(stw) == sum(len(w.after) for w in summary.stw)
    assert set(stw["kind"]) == {"sweep-term", "mark-term", "other"}
    metrics = trace_phase_metrics(summary)
    assert {m for m, _, _ in metrics} == {
        "start-latency-p50-ns",
        "start-latency-p99-ns",
        "start-latency-p999-ns",
        "start-latency-max-ns",
    }
    for phase in PHASES:
        p50 = metrics[("start-latency-p50-ns", "ns", phase)]
        top = metrics[("start-latency-max-ns", "ns", phase)]
        if summary.phase_counts()[phase]:
            assert 0 < p50 <= top
        else:
            assert math.isnan(p50)


def test_tables_check_a_trace_against_probe_json_and_gctrace():
    from harness.kinds.probe import check_trace
    from harness.parse import parse_gctrace

    summary = parse_trace_dump(dump("1.27.3"))
    probe = json.loads((FIXTURES / "trace-probe-1.27.3.json").read_text())
    cycles = parse_gctrace((FIXTURES / "trace-stderr-1.27.3.txt").read_text()).cycles
    assert check_trace(summary, probe["measured"], cycles, "p") is None
    warning = check_trace(summary, probe["measured"] + 1, cycles[1:], "p")
    assert warning is not None and warning["parser"] == "trace-consistency"
    assert warning["skipped"] == 2 and "gctrace: 4 cycles" in warning["examples"][1]


def test_trace_summary_json_round_trip():
    summary = parse_trace_dump(dump("1.22.10"))
    again = TraceSummary.from_json(json.loads(json.dumps(summary.to_json())))
    assert again.to_json() == summary.to_json()


# -------------------------------------------------------------- go tool trace plumbing


@pytest.mark.parametrize(
    ("version", "flag"),
    [
        ("1.21.13", None),
        ("go1.22.10", "-d=1"),
        ("1.23.9", "-d=1"),
        ("1.24.11", "-d=parsed"),
        ("1.27.3", "-d=parsed"),
        ("", None),
    ],
)
def test_debug_flag_by_go_version(version, flag):
    assert run_trace.debug_flag(version) == flag


def _spec(go: str, version: str) -> run_trace.TraceSpec:
    return run_trace.TraceSpec(
        go=go, go_version=version, env={"PATH": "/usr/bin:/bin"}, timeout_s=30
    )


def test_summarize_records_unsupported_and_failed_tools(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    (old / run_trace.TRACE_FILE).write_bytes(b"go 1.21 trace\x00")
    error = run_trace.summarize(_spec("/nonexistent/go", "1.21.13"), old, keep_raw=False)
    document = json.loads((old / run_trace.SUMMARY_FILE).read_text())
    assert document["status"] == "unsupported" and "1.21.13" in error
    assert not (old / run_trace.TRACE_FILE).exists()  # dropped: not --keep-raw

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / run_trace.TRACE_FILE).write_bytes(b"not a trace")
    error = run_trace.summarize(_spec("/bin/false", "1.27.3"), broken, keep_raw=True)
    document = json.loads((broken / run_trace.SUMMARY_FILE).read_text())
    assert document["status"] == "failed" and "exited 1" in error
    assert document["created_ns"] == [] and document["tool"].endswith("-d=parsed trace.out")
    assert (broken / run_trace.TRACE_FILE).exists()  # --keep-raw
    assert run_trace.summarize(_spec("/bin/false", "1.27.3"), tmp_path, keep_raw=False) is None


# ------------------------------------------------------------------------- perf folding

PERF_SCRIPT = """\
probe 29887  3056.430547:     250000          cpu-clock:
\tffffffff8158c3e1 next_uptodate_folio+0xc1 ([kernel.kallsyms])
\t           8a3fa runtime.open.abi0+0x1a (/tmp/tr/probe)
\t           4837a runtime.osinit+0x1a (/tmp/tr/probe)

probe 29887          cpu-clock:
\t           8a3fa runtime.open.abi0
\t           4837a runtime.osinit

my worker 7/7 [001] 3056.432074: sched:sched_switch: prev_comm=probe prev_pid=29887 ==> next
\tffffffff821f8b58 __schedule+0x618 ([kernel.kallsyms])
\t           1234 [unknown] ([unknown])
\t           5678 a;b+0x1 (/x)

\t   dangling frame before any header
not a header at all
probe 1 cpu-clock:
"""


def test_fold_perf_script():
    folded = fold_perf_script(PERF_SCRIPT.splitlines(keepends=True))
    assert folded.samples == {"cpu-clock": 3, "sched:sched_switch": 1}
    assert folded.stacks["cpu-clock"] == Counter(
        {
            "probe;runtime.osinit;runtime.open.abi0;next_uptodate_folio": 1,
            "probe;runtime.osinit;runtime.open.abi0": 1,
            "probe": 1,  # a sample without frames
        }
    )
    assert folded.stacks["sched:sched_switch"] == Counter({"my worker;a:b;[unknown];__schedule": 1})
    assert folded.skipped == 2
    text = folded.folded_text("cpu-clock")
    assert read_folded(text + "garbage line\n") == folded.stacks["cpu-clock"]


def test_stack_shares_and_perf_stacks_frame():
    stacks = Counter(
        {
            "probe;runtime.schedule;runtime.findRunnable;runtime.gcDrainN": 3,
            "probe;runtime.newproc;runtime.runqput;runtime.runqputslow": 2,
            "probe;main.work": 5,
            "runtime.findRunnable": 7,  # frame 0 is the comm: never a function
        }
    )
    shares = stack_shares(stacks, WATCHED_SYMBOLS)
    assert shares["runtime.findRunnable"] == (3, 0)
    assert shares["runtime.gcDrain*"] == (3, 3)
    assert shares["runtime.runqput"] == (2, 0)
    assert shares["runtime.runqputslow"] == (2, 2)
    assert shares["runtime.runqgrow"] == (0, 0)
    frame = perf_stacks_frame(
        {"cpu-clock": stacks}, variant="v", workload="w", rep=1, gomaxprocs=2, duration_s=2.0
    )
    total = frame[frame["symbol"] == ALL_SYMBOLS]
    assert total["samples"].tolist() == [17] and (frame["total_samples"] == 17).all()
    assert len(frame) == 1 + len(WATCHED_SYMBOLS)


# ------------------------------------------------------------------------------ claims


def _frames(**given: pd.DataFrame) -> dict[str, pd.DataFrame]:
    frames = {}
    for name, columns in TABLE_COLUMNS.items():
        frame = given.get(name)
        if frame is None:
            frame = pd.DataFrame(columns=list(columns)).astype(columns)
        frames[name] = frame
    return frames


def _latency(variant: str, phase_values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {
            "variant": variant,
            "workload": "probe",
            "rep": 1,
            "source": TRACE_SOURCE,
            "phase": phase,
            "bucket_low_ns": lo,
            "bucket_high_ns": hi,
            "count": n,
        }
        for phase, values in phase_values.items()
        for lo, hi, n in probe_buckets(values)
    ]
    return pd.DataFrame(rows)


def _goroutines(variant: str, firsts_ns: list[float]) -> pd.DataFrame:
    """One STW per value: its first probe goroutine (and a later, faster one)."""
    rows = []
    for i, latency in enumerate(firsts_ns):
        for since, lat in ((5.0, latency), (400.0, 500.0)):
            rows.append(
                {
                    "variant": variant,
                    "workload": "probe",
                    "rep": 1,
                    "gomaxprocs": 2,
                    "created_ms": 10.0 * i + since / 1e3,
                    "latency_ns": lat,
                    "since_stw_us": since,
                    "stw_kind": "sweep-term",
                    "phase": "after-sweep-term" if since < 100 else "mark",
                }
            )
    return pd.DataFrame(rows)


def _comparison(benchmark, metric, phase, ratio, low, high, verdict, n=5) -> dict:
    return {
        "benchmark": benchmark,
        "metric": metric,
        "unit": "ns",
        "direction": "lower",
        "baseline": "baseline",
        "candidate": "patched",
        "baseline_median": 1000.0,
        "candidate_median": 1000.0 * ratio,
        "n_baseline": n,
        "n_candidate": n,
        "ratio": ratio,
        "ci_low": low,
        "ci_high": high,
        "p_value": 0.01,
        "q_value": 0.02,
        "verdict": verdict,
        "phase": phase,
    }


def _inputs(frames=None, comparisons=(), manifest=None) -> claims.ClaimInputs:
    return claims.ClaimInputs(
        frames=frames or _frames(),
        comparisons=pd.DataFrame(list(comparisons)),
        manifest=manifest
        or make_manifest(
            [
                {"name": "baseline", "go": "1.27.3", "mode": "source", "patches": []},
                {"name": "patched", "go": "1.27.3", "mode": "source", "patches": ["p/x.patch"]},
            ],
            options={"claims": True},
        ),
    )


def test_rerun_command_names_the_run():
    inputs = _inputs()
    assert (
        claims.rerun_command(inputs.manifest, "probe", "--trace")
        == "stwbench ab --go 1.27.3 --patch p/x.patch --mode source --workloads probe "
        "--trace --claims"
    )
    assert "--mode" not in claims.rerun_command(
        make_manifest([{"name": "base", "go": "1.21.13"}, "cand"]), "x"
    )


def test_claim_first_goroutine_after_stw():
    fast = {"outside-gc": [300.0] * 50, "after-sweep-term": [400.0] * 5, "mark": [500.0] * 5}
    verdict = claims.claim_first_goroutine_after_stw
    assert verdict(_inputs()).verdict == claims.NOT_MEASURED
    holds = _frames(
        latency=_latency("baseline", {**fast, "after-sweep-term": [80_000.0] * 5}),
        trace_goroutines=_goroutines("baseline", [80_000.0] * 5),
    )
    claim = verdict(_inputs(holds))
    assert claim.verdict == claims.HOLDS and "--trace" in claim.rerun
    partly = _frames(
        latency=_latency("baseline", {**fast, "mark": [500.0] * 98 + [300_000.0] * 2}),
        trace_goroutines=_goroutines("baseline", [600.0] * 5),
    )
    assert verdict(_inputs(partly)).verdict == claims.PARTLY
    refuted = _frames(
        latency=_latency("baseline", fast), trace_goroutines=_goroutines("baseline", [600.0] * 5)
    )
    assert verdict(_inputs(refuted)).verdict == claims.REFUTED


def _stacks(variant: str, workload: str, shares: dict[str, int], total: int = 1000):
    from tests.test_claims import stacks  # one perf_stacks builder for the claims tests

    return stacks(workload, shares, total, variant)


def test_claim_runqputslow_mechanism():
    check = claims.claim_runqputslow_mechanism
    stw = pd.DataFrame(
        [
            {
                "variant": "baseline",
                "kind": "sweep-term",
                "continued": False,
                "ran": ran,
                "rep": 1,
                "stw": i,
            }
            for i, ran in enumerate(["gc-worker", "gc-worker", "gc-worker", "probe"])
        ]
    )
    none = check(_inputs(_frames(trace_stw=stw)))
    assert none.verdict == claims.NOT_MEASURED and "75%" in none.measured
    quiet = _stacks("baseline", "probe", {"runtime.runqputslow": 2, "runtime.runqgrow": 0})
    assert check(_inputs(_frames(perf_stacks=quiet))).verdict == claims.REFUTED
    busy = _stacks("baseline", "probe", {"runtime.runqputslow": 50, "runtime.runqgrow": 0})
    assert check(_inputs(_frames(perf_stacks=busy))).verdict == claims.PARTLY


def test_claim_runqput_costs():
    check = claims.claim_runqput_costs
    assert check(_inputs()).verdict == claims.NOT_MEASURED
    samples = pd.DataFrame(
        [{"variant": "baseline", "benchmark": "BurstSpawn-2", "metric": "ns/op", "value": 1024e3}]
    )
    claim = check(_inputs(_frames(samples=samples)))
    assert claim.verdict == claims.NOT_MEASURED and "1,000 ns per spawned" in claim.measured
    perf = _stacks("baseline", "BurstSpawn", {"runtime.runqput": 30, "runtime.runqputslow": 80})
    claim = check(_inputs(_frames(samples=samples, perf_stacks=perf)))
    assert claim.verdict == claims.PARTLY and "runqputslow 8.0%" in claim.measured


def test_claim_observability():
    check = claims.claim_observability
    assert check(_inputs()).verdict == claims.NOT_MEASURED
    sched = pd.DataFrame(
        [
            {"variant": "baseline", "workload": "probe", "rep": 1, "gomaxprocs": 2, "t_ms": t}
            | {"p": p, "p_runqsize": n}
            for t, p, n in [(100, 0, 0), (100, 1, 0), (200, 0, 3), (200, 1, 0)]
        ]
    )
    # The baseline alone: what schedtrace printed, but no candidate to tell apart.
    claim = check(_inputs(_frames(sched=sched)))
    assert claim.verdict == claims.NOT_MEASURED and "empty in 75%" in claim.measured


def test_claim_scheduler_speedup():
    check = claims.claim_scheduler_speedup
    ns = ("Scheduler-4", "ns/op", "all")  # the article's GOMAXPROCS=4
    assert check(_inputs()).verdict == claims.NOT_MEASURED
    assert (
        check(_inputs(comparisons=[_comparison(*ns, 0.75, 0.70, 0.80, "better")])).verdict
        == claims.HOLDS
    )
    assert (
        check(_inputs(comparisons=[_comparison(*ns, 0.95, 0.92, 0.98, "better")])).verdict
        == claims.PARTLY
    )
    assert (
        check(_inputs(comparisons=[_comparison(*ns, 1.01, 0.97, 1.05, "same")])).verdict
        == claims.REFUTED
    )
    assert (
        check(_inputs(comparisons=[_comparison(*ns, 0.9, 0.6, 1.2, "same")])).verdict
        == claims.NOT_MEASURED
    )
    assert (
        check(_inputs(comparisons=[_comparison(*ns, 0.75, 0.7, 0.8, "unreliable", n=2)])).verdict
        == claims.NOT_MEASURED
    )


def test_claim_mitigation():
    check = claims.claim_mitigation
    assert check(_inputs()).verdict == claims.NOT_MEASURED
    tail = _frames(
        latency=_latency("baseline", {"outside-gc": [300.0] * 100, "mark": [300_000.0] * 10})
    )
    # A trace alone never ran GC off (probe-gcoff): evidence, not a verdict.
    claim = check(_inputs(tail))
    assert claim.verdict == claims.NOT_MEASURED and "belongs to GC phases" in claim.measured
    flat = _frames(
        latency=_latency("baseline", {"outside-gc": [300.0] * 100, "mark": [350.0] * 10})
    )
    assert check(_inputs(flat)).verdict == claims.NOT_MEASURED


def test_claim_patch_mark_latency():
    check = claims.claim_patch_mark_latency
    p99 = ("probe-2", "start-latency-p99-ns", "mark")
    assert check(_inputs()).verdict == claims.NOT_MEASURED
    # The whole-process row alone is not the claim.
    only_all = [_comparison("probe-2", "start-latency-p99-ns", "all", 0.1, 0.05, 0.2, "better")]
    assert check(_inputs(comparisons=only_all)).verdict == claims.NOT_MEASURED
    claim = check(_inputs(comparisons=[_comparison(*p99, 0.01, 0.005, 0.05, "better")]))
    assert claim.verdict == claims.HOLDS and "−" not in claim.verdict
    assert (
        check(_inputs(comparisons=[_comparison(*p99, 1.5, 1.2, 2.0, "worse")])).verdict
        == claims.REFUTED
    )
    assert (
        check(_inputs(comparisons=[_comparison(*p99, 0.9, 0.7, 1.1, "same")])).verdict
        == claims.REFUTED
    )
    assert (
        check(_inputs(comparisons=[_comparison(*p99, 0.5, 0.1, 2.0, "same")])).verdict
        == claims.NOT_MEASURED
    )


def test_check_claims_on_empty_tables_are_all_not_measured():
    checked = claims.check_claims(_inputs())
    assert len(checked) == len(claims.CHECKS) == 7
    assert {c.verdict for c in checked} == {claims.NOT_MEASURED}
    assert all(c.rerun.startswith("stwbench ab --go 1.27.3") for c in checked)


# ------------------------------------------------------------------------------ report


def test_report_says_why_a_requested_trace_has_no_rows(tmp_path):
    from harness.report import render_report

    options = {"trace": True, "trace_after_stw_us": 50.0, "claims": True}
    manifest = make_manifest(options=options)
    warnings = [
        {
            "process": "baseline/probe/gomaxprocs2-rep001",
            "parser": "trace",
            "skipped": 1,
            "examples": ["1.21.13: `go tool trace` prints parsed events from Go 1.22"],
        }
    ]
    html = render_report(tmp_path, pd.DataFrame(), manifest=manifest, warnings=warnings)[
        "report.html"
    ].read_text()
    assert "no trace could be summarized" in html and "from Go 1.22" in html
    assert html.count("not measured</span>") == 7  # every claim, none decided
    html = render_report(tmp_path, pd.DataFrame(), manifest=make_manifest(), warnings=[])[
        "report.html"
    ].read_text()
    assert "run with <code>--trace</code>" in html
