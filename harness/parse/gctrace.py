"""GODEBUG=gctrace=1 lines, one GcCycle per line the runtime printed.

The runtime (mgc.go, gcMarkTermination; same layout from Go 1.21 to 1.27) prints

    gc 12 @0.345s 4%: 0.12+0.91+0.078 ms clock, 0.25+0.091/0.29/0+0.15 ms cpu,
    17->17->9 MB, 17 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)

on one line (wrapped here). The clock triple is sweep-termination STW + concurrent mark +
mark-termination STW; `4%` is the GC's share of CPU since the program started; heap is
start->end->live MB. Go ≤ 1.17 has no `stacks`/`globals` fields. Parenthesised notes
can follow the percentage (Go 1.27 prints `(checking for goroutine leaks)` there, before
the colon) and the `P` field (`(forced)` for runtime.GC()); both places accept any such
note so a future one does not make lines unreadable.

Each piece of that line is a separate write(2), so other output on stderr (the program's
own, a panic, schedtrace) can land in front of the record or in the middle of it. A record
is taken wherever it starts in a line as long as it is intact from `gc N @` through `N P`;
a record broken by foreign text, or truncated, is skipped, because a half-read cycle with
guessed fields would be worse than a counted gap. A note cut off mid-way (`2 P (forc`)
leaves the record intact but not marked forced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.parse.skips import SkipLog, lines, require_text

_NUM = r"\d+(?:\.\d+)?"
_NOTES = r"(?:\s\([^()\n]*\))*"
_RECORD_RE = re.compile(
    rf"gc (?P<cycle>\d+) @(?P<at>{_NUM})s (?P<pct>-?\d+)%(?P<notes1>{_NOTES}): "
    rf"(?P<sweep>{_NUM})\+(?P<mark>{_NUM})\+(?P<markterm>{_NUM}) ms clock, "
    rf"{_NUM}\+{_NUM}/{_NUM}/{_NUM}\+{_NUM} ms cpu, "
    r"(?P<hstart>\d+)->(?P<hend>\d+)->(?P<hlive>\d+) MB, "
    r"(?P<goal>\d+) MB goal, "
    r"(?:\d+ MB stacks, )?(?:\d+ MB globals, )?"
    rf"(?P<procs>\d+) P(?P<notes2>{_NOTES})"
)
# Where a record claims to start: "gc 12 @" anywhere, or "gc 1" at the start of a line.
_START_RE = re.compile(r"gc \d+ @|^gc \d")
_NOTE_RE = re.compile(r"\(([^()\n]*)\)")


@dataclass(frozen=True)
class GcCycle:
    """One gctrace line; the DESIGN `gc_cycles` columns without variant/workload/rep."""

    cycle: int
    at_s: float  # start of the cycle, seconds since the program started
    stw_sweep_term_ms: float
    concurrent_mark_ms: float
    stw_mark_term_ms: float
    heap_start_mb: float
    heap_end_mb: float
    heap_live_mb: float
    heap_goal_mb: float
    gc_cpu_pct: float
    procs: int
    forced: bool


@dataclass
class GcTraceParse:
    cycles: list[GcCycle] = field(default_factory=list)
    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)


def parse_gctrace(text: str) -> GcTraceParse:
    """Every intact gctrace record in `text` (usually a process's whole stderr)."""
    require_text(text, "parse_gctrace")
    cycles: list[GcCycle] = []
    skips = SkipLog()
    for line in lines(text):
        if "gc " not in line:  # fast path: most stderr lines are something else
            continue
        found = [_cycle(m) for m in _RECORD_RE.finditer(line)]
        cycles.extend(found)
        # A record start that no intact record accounts for means a broken record.
        claimed = sum(1 for _ in _START_RE.finditer(line))
        if claimed > len(found):
            skips.add(line)
    return GcTraceParse(cycles=cycles, skipped=skips.count, skipped_examples=skips.examples)


def _cycle(m: re.Match[str]) -> GcCycle:
    notes = {n.strip() for n in _NOTE_RE.findall(m["notes1"] + m["notes2"])}
    return GcCycle(
        cycle=int(m["cycle"]),
        at_s=float(m["at"]),
        stw_sweep_term_ms=float(m["sweep"]),
        concurrent_mark_ms=float(m["mark"]),
        stw_mark_term_ms=float(m["markterm"]),
        heap_start_mb=float(m["hstart"]),
        heap_end_mb=float(m["hend"]),
        heap_live_mb=float(m["hlive"]),
        heap_goal_mb=float(m["goal"]),
        gc_cpu_pct=float(m["pct"]),
        procs=int(m["procs"]),
        forced="forced" in notes,
    )
