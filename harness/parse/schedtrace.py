"""GODEBUG=schedtrace=N[,scheddetail=1] output, as `sched` table rows.

Plain schedtrace (proc.go, schedtrace) prints one line per interval:

    Go 1.21: SCHED 1004ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0
             needspinning=0 idlethreads=2 runqueue=0 [0 1]
    Go 1.27: … runqueue=0 [ 0 1 ] schedticks=[ 10 20 ]

The bracket list holds each P's local run-queue length (runnext not included). With
scheddetail=1 the list is replaced by `gcwaiting=… nmidlelocked=… stopwait=…
sysmonwait=…` and followed by one `  P<i>: status=… runqsize=<k> …` line per P, then
`  M<i>:` and `  G<i>:` lines, which we ignore. `needspinning` is optional (older Go).

Rows: one summary row per SCHED line (p=None, p_runqsize=None), plus one row per P, which
repeats its SCHED line's t_ms and summary fields. Like gctrace, the SCHED record may start
mid-line after other stderr output and is taken if intact. A P line that cannot be tied to
an intact detailed SCHED line is skipped: its run-queue length has no time stamp.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from harness.parse.skips import SkipLog, lines, require_text

_SUMMARY = (
    r"SCHED (?P<t>\d+)ms: gomaxprocs=(?P<gomaxprocs>\d+) idleprocs=(?P<idleprocs>\d+) "
    r"threads=(?P<threads>\d+) spinningthreads=(?P<spinning>\d+) (?:needspinning=\d+ )?"
    r"idlethreads=(?P<idlethreads>\d+) runqueue=(?P<runqueue>\d+)"
)
_PLAIN_RE = re.compile(
    _SUMMARY + r" \[\s*(?P<runqs>\d+(?:\s+\d+)*)?\s*\](?P<ticks> schedticks=(?:\[[\d\s]*\]?)?)?"
)
_DETAIL_RE = re.compile(
    _SUMMARY + r" gcwaiting=\w+ nmidlelocked=-?\d+ stopwait=-?\d+ sysmonwait=\w+\s*$"
)
_TICKS = " schedticks=["
_START_RE = re.compile(r"SCHED \d+ms:")
# `  P0: status=1 schedtick=10 syscalltick=2 m=3 runqsize=0 gfreecnt=0 timerslen=0`;
# m is an M id, "nil", or -1 in old releases; the key=value fields after runqsize vary
# by version (gfreecnt, timerslen), so any are accepted.
_P_RE = re.compile(
    r"^\s+P(?P<p>\d+): status=\d+ schedtick=\d+ syscalltick=\d+ m=(?:-?\d+|nil) "
    r"runqsize=(?P<runqsize>\d+)(?: [a-z]+=\d+)*\s*$"
)
_P_START_RE = re.compile(r"^\s+P\d")
_MG_RE = re.compile(r"^\s+[MG]\d+:")


@dataclass(frozen=True)
class SchedSample:
    """One `sched` row; the DESIGN columns without variant/workload/rep."""

    t_ms: int  # since the first schedtrace line of the process
    gomaxprocs: int
    idleprocs: int
    threads: int
    spinningthreads: int
    idlethreads: int
    runqueue: int  # global run queue length
    p: int | None = None  # None: the SCHED line's summary row
    p_runqsize: int | None = None  # that P's local run-queue length


@dataclass
class SchedTraceParse:
    samples: list[SchedSample] = field(default_factory=list)
    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)


def parse_schedtrace(text: str) -> SchedTraceParse:
    """Summary and per-P rows for every intact SCHED line of `text`."""
    require_text(text, "parse_schedtrace")
    samples: list[SchedSample] = []
    skips = SkipLog()
    detail: SchedSample | None = None  # summary of the SCHED line P lines belong to
    seen_ps: set[int] = set()
    for line in lines(text):
        start = _START_RE.search(line)
        if start is not None:
            detail, seen_ps = None, set()
            summary, runqs = _parse_sched_line(line[start.start() :])
            if summary is None:
                skips.add(line)
                continue
            samples.append(summary)
            if runqs is None:
                detail = summary
            else:
                samples.extend(replace(summary, p=i, p_runqsize=n) for i, n in enumerate(runqs))
            continue
        if _MG_RE.match(line):
            continue
        if not _P_START_RE.match(line):
            continue  # program output, gctrace, …
        match = _P_RE.match(line)
        p = int(match["p"]) if match else -1
        if match is None or detail is None or p in seen_ps:
            skips.add(line)
            continue
        seen_ps.add(p)
        samples.append(replace(detail, p=p, p_runqsize=int(match["runqsize"])))
    return SchedTraceParse(samples=samples, skipped=skips.count, skipped_examples=skips.examples)


def _parse_sched_line(record: str) -> tuple[SchedSample | None, list[int] | None]:
    """(summary, per-P lengths) for a plain line, (summary, None) for a detailed one."""
    match = _DETAIL_RE.match(record)
    if match is not None:
        return _summary(match), None
    match = _PLAIN_RE.match(record)
    if match is None:
        return None, None
    ticks, rest = match["ticks"], record[match.end() :]
    # Go 1.27 ends the line with schedticks=[…]; a line cut off in or just before it is
    # truncated, even though the fields we keep came through.
    if (ticks is not None and not ticks.endswith("]")) or (rest and _TICKS.startswith(rest)):
        return None, None
    runqs = [int(n) for n in (match["runqs"] or "").split()]
    return _summary(match), runqs


def _summary(match: re.Match[str]) -> SchedSample:
    return SchedSample(
        t_ms=int(match["t"]),
        gomaxprocs=int(match["gomaxprocs"]),
        idleprocs=int(match["idleprocs"]),
        threads=int(match["threads"]),
        spinningthreads=int(match["spinning"]),
        idlethreads=int(match["idlethreads"]),
        runqueue=int(match["runqueue"]),
    )
