"""`go tool trace -d=parsed` output, streamed into a compact per-process summary.

The execution tracer of Go ≥ 1.22 (`go tool trace -d=parsed`, `-d=1` on 1.22/1.23) prints
every event as text, about 5 M lines for one second of a busy probe, mostly stack frames:

    M=25062 P=0 G=1 StateTransition Time=2798647221056 GoID=333 NotExist->Runnable Reason=""
    TransitionStack=
    \tmain.started @ 0x531e60
    \t\t/work/main/go_workloads/cmd/probe/main.go:213
    <blank>
    Stack=
    \tmain.run @ 0x532498
    …
    M=25062 P=0 G=-1 StateTransition Time=2798647225856 GoID=333 Runnable->Running Reason=""
    M=25065 P=1 G=20 RangeBegin Time=… Name="stop-the-world (GC sweep termination)" Scope=…
    M=25065 P=1 G=20 RangeEnd Time=… Name="stop-the-world (GC sweep termination)" Scope=… …
    M=25062 P=0 G=19 Label Time=… Label="GC (fractional)" Resource=Goroutine(19)
    M=25065 P=0 G=1 Log Time=… Task=0 Category="stwbench" Message="window-start"

Go 1.22 and 1.23 print a state transition as `… StateTransition Time=T
Resource=Goroutine(N) Reason="" GoID=N NotExist->Runnable` (resource and reason first);
the format is detected from the first state transition.

**How it reads.** The text comes in chunks (bytes), scanned in place between the
chunk's first and last `\\nM=` (an event and its stack lines are never split; the tail is
kept for the next chunk). One compiled regular expression, anchored on the literal
`\\nM=`, finds only the events used below (goroutine creation, first run and exit; a P
starting to run; stop-the-world and GC mark-phase ranges; GC worker labels; the probe's
`stwbench` log events) and, for a creation, the first frame of its `TransitionStack`
(the new goroutine's start function). Everything else (metrics, sweep ranges, other
transitions, stack lines: 95 % of the lines) is skipped inside the regex engine, never
by Python code, and of the matches most are starts that need no more than a dict
lookup. A line that looks like a creation (contains `NotExist->Runnable`) but does not
match is counted as skipped (a `bytes.count` per chunk), with examples; a line cut off
by the end of the stream is skipped, never half-read. State is bounded by the goroutines
alive at a time (not-yet-started probe goroutines, start functions of live others);
the output grows with the probe goroutines and STW windows, one record each.
`benchmarks/trace_parser.py` measures the throughput.

**Probe goroutines** are those whose start function (the first `TransitionStack` frame
of their creation) is one of `PROBE_FUNCTIONS`: `main.started`, the probe's goroutine
body (`-creator sleep|handoff|busy|yield`), or `net/http.(*conn).serve`, the
per-connection goroutine net/http's accept loop creates (`-creator http`; the probe's
client goroutines start in `main.(*httpServer).request` and net/http's `(*persistConn)`
loops, which are not probe goroutines). A creation printed without a stack (stacks off)
counts when its creator is the spawner goroutine, the goroutine that logged
`window-start`; that fallback fits the spawning creators only (with `-creator http` the
spawner creates the client's goroutines, not the server's; the runtime has always
recorded creation stacks in the traces seen so far, so it has not mattered).
`identified_by` says which rule matched.

**Creation → start latency**: the creation event's time (`NotExist->Runnable`) to the
goroutine's first `Runnable->Running`. Goroutine ids are never reused, so one pending
map keyed by id suffices.

**Stop-the-world windows** (`stop-the-world (…)` ranges): `kind` is `sweep-term`, `mark-term`
(the two GC ones) or `other` (e.g. `start trace`). The runtime records the range end only
after it has woken the other Ps (`startTheWorldWithSema`), and on a busy machine that
can be a hundred microseconds later, so `restart_ns` is the first P other than the
stopper's going `Idle->Running` after the begin (the stopped Ps go `Running->Idle` when
they stop and are handed back by the restart) if that came before the recorded end,
else the end. For every P, `after` records the first goroutine it ran once the world
restarted: the stopper's P continues with the goroutine that stopped the world
(`continued`); other Ps with their first `Runnable->Running` after the restart. `ran` is
`gc-worker` (the start was immediately labelled `GC (dedicated)`, `GC (fractional)` or
`GC (idle)`: `label`), `probe`, `spawner`, `runtime` (a goroutine whose start function
is in package runtime), `user` (any other start function) or `unknown` (created before
the trace began); `delay_ns` is that start minus `restart_ns`.

**GC phase** of a probe goroutine, by its creation time t (see `classify`): with S the
last GC stop-the-world that began at or before t, and X = `after_stw_ns`:
- `after-sweep-term`: S is a sweep termination and t < S.restart + X. This includes
  creations between the range begin and the restart (negative `since_stw_ns`): the begin
  is recorded when the stop is *requested*, and a P that has not stopped yet may still
  create a goroutine, which then waits for the whole pause;
- `mark`: S is a sweep termination and t ≥ S.restart + X (the concurrent mark phase runs
  from the sweep-termination restart to the mark-termination STW);
- `after-mark-term`: S is a mark termination and t < S.restart + X;
- `outside-gc`: otherwise (S is a mark termination and t ≥ S.restart + X, or no GC STW
  began before t, unless the first one is a mark termination: then the trace began
  inside a mark phase and t is `mark`).
`since_stw_ns` = t − S.restart (None without S).
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

from harness.parse.skips import SkipLog

SCHEMA = 1
PROBE_FUNCTION = "main.started"  # the spawning creators' goroutine body
HTTP_PROBE_FUNCTION = "net/http.(*conn).serve"  # as `go tool trace` prints it (1.22+)
PROBE_FUNCTIONS = (PROBE_FUNCTION, HTTP_PROBE_FUNCTION)
DEFAULT_AFTER_STW_NS = 100_000
PHASES = ("outside-gc", "after-sweep-term", "mark", "after-mark-term")
STW_KINDS = {
    "stop-the-world (GC sweep termination)": "sweep-term",
    "stop-the-world (GC mark termination)": "mark-term",
}
MARK_PHASE = "GC concurrent mark phase"
LOG_CATEGORY = "stwbench"
CHUNK_BYTES = 1 << 22

_HEAD = rb"\nM=-?\d+ P=(-?\d+) G=(-?\d+) "
_TRANSITIONS = rb"(NotExist->Runnable|Runnable->Running|Idle->Running|Running->NotExist)"
_STACK = rb"(?:\nTransitionStack=\n\t([^\s@]+) @)?"
_OTHERS = (
    rb"|(Range(?:Begin|End|Active)) Time=(\d+) Name=\"(stop-the-world \([^\"\n]*\)|"
    + MARK_PHASE.encode()
    + rb")\""
    + rb"|Label Time=(\d+) Label=\"(GC \([^)\"\n]*\))\" Resource=Goroutine\((\d+)\)"
    + rb"|Log Time=(\d+) Task=\d+ Category=\""
    + LOG_CATEGORY.encode()
    + rb"\" Message=\"([^\"\n]*)\""
)
# Go 1.24+: `StateTransition Time=T GoID=N A->B Reason="…"` then an optional stack.
_GOID_FIRST = re.compile(
    _HEAD
    + rb"(?:StateTransition Time=(\d+) (?:GoID=(\d+)|ProcID=(\d+)) "
    + _TRANSITIONS
    + rb" Reason=\"[^\"\n]*\""
    + _STACK
    + _OTHERS
    + rb")"
)
# Go 1.22/1.23: `StateTransition Time=T Resource=Goroutine(N) Reason="…" GoID=N A->B`.
_RESOURCE_FIRST = re.compile(
    _HEAD
    + rb"(?:StateTransition Time=(\d+) Resource=\w+\(-?\d+\) Reason=\"[^\"\n]*\" "
    + rb"(?:GoID=(\d+)|ProcID=(\d+)) "
    + _TRANSITIONS
    + rb"(?=\n)"
    + _STACK
    + _OTHERS
    + rb")"
)
_FORMAT_PROBE = re.compile(rb" StateTransition Time=\d+ (Resource=|GoID=|ProcID=)")
# Every line with this is a goroutine creation the regex must match; the difference
# between its count (`bytes.count`, one fast pass) and the matched creations is the
# number of unreadable creation lines (each would lose a probe goroutine). Other events
# are not checked this way (each pass costs a tenth of the parse); the tables check the
# result end to end instead: probe goroutines against probe.json's `measured`, STW
# windows against the gctrace cycles of the same process (harness/tables.py).
_KEYWORDS = (b"NotExist->Runnable",)


@dataclass
class StwWindow:
    kind: str  # sweep-term | mark-term | other
    name: str  # the range name as printed
    begin_ns: int
    end_ns: int | None = None  # the recorded range end; None if the trace ended inside
    restart_ns: int | None = None  # see the module doc
    p: int = -1  # the stopper's P
    goid: int = -1  # the goroutine that stopped the world
    after: list[dict] = field(default_factory=list)  # per P, the first goroutine run


@dataclass
class TraceSummary:
    """A process's trace, reduced. Times are ns since `t0_ns` (the first event used)."""

    schema: int = SCHEMA
    format: str = ""  # goid-first (Go ≥ 1.24) | resource-first (1.22, 1.23) | "" (none seen)
    bytes: int = 0  # size of the dump read (lines are not counted: a pass of its own)
    events: int = 0  # events the regex matched
    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)
    t0_ns: int = 0  # absolute trace time of the first matched event
    end_ns: int = 0  # the last matched event
    window_start_ns: int | None = None
    window_end_ns: int | None = None
    spawner_goid: int | None = None
    probe_functions: list[str] = field(default_factory=lambda: list(PROBE_FUNCTIONS))
    identified_by: dict[str, int] = field(default_factory=dict)
    after_stw_ns: int = DEFAULT_AFTER_STW_NS
    created_ns: list[int] = field(default_factory=list)  # probe goroutines, creation order
    latency_ns: list[int | None] = field(default_factory=list)  # None: never started
    since_stw_ns: list[int | None] = field(default_factory=list)
    stw_kind: list[str | None] = field(default_factory=list)  # kind of that last GC STW
    phase: list[str] = field(default_factory=list)
    stw: list[StwWindow] = field(default_factory=list)
    mark_phases: list[list[int | None]] = field(default_factory=list)  # [begin, end]

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> TraceSummary:
        data = dict(data)
        data["stw"] = [StwWindow(**w) for w in data.get("stw", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def classified(self, after_stw_ns: int) -> TraceSummary:
        """The same record with each goroutine's GC phase for another X: the phases are
        the analysis's reading of the record (`classify`), not part of what was traced."""
        phases = classify(self.created_ns, self.stw, after_stw_ns)
        return dataclasses.replace(
            self,
            after_stw_ns=after_stw_ns,
            phase=[ph for ph, _, _ in phases],
            since_stw_ns=[since for _, since, _ in phases],
            stw_kind=[kind for _, _, kind in phases],
        )

    def phase_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(PHASES, 0)
        for phase, latency in zip(self.phase, self.latency_ns, strict=True):
            if latency is not None:
                counts[phase] += 1
        return counts


class TraceDumpParser:
    """Feed `go tool trace -d=parsed` stdout in chunks of bytes; `finish()` summarizes."""

    def __init__(
        self,
        *,
        after_stw_ns: int = DEFAULT_AFTER_STW_NS,
        probe_functions: Iterable[str] = PROBE_FUNCTIONS,
    ) -> None:
        functions = [probe_functions] if isinstance(probe_functions, str) else list(probe_functions)
        self.summary = TraceSummary(after_stw_ns=after_stw_ns, probe_functions=functions)
        self._probe_functions = frozenset(f.encode() for f in functions)
        self._pattern: re.Pattern[bytes] | None = None
        self._rest = b"\n"  # the regex anchors on "\nM=": the first line needs one too
        self._skips = SkipLog()
        self._t0: int | None = None
        # Keys are the raw bytes of ids as printed (no int() on the hot path).
        self._pending: dict[bytes, int] = {}  # probe goid -> index into created_ns
        self._functions: dict[int, str] = {}  # other live goroutines' start functions
        self._workers: set[int] = set()  # goroutines ever labelled "GC (…)"
        self._stw: StwWindow | None = None  # the latest STW (its `after` still filling)
        self._stw_ps: set[bytes] = set()  # Ps with a record in that STW's `after`
        self._collecting = False  # between an STW begin and the next one
        self._after_by_p: dict[bytes, dict] = {}  # that STW's `after` records by P
        self._mark_open: list[int | None] | None = None
        self._checked = 0  # matched events of the _KEYWORDS kinds in the current scan

    # --- input ---------------------------------------------------------------------

    def feed(self, chunk: bytes) -> None:
        self.summary.bytes += len(chunk)
        first = chunk.find(b"\nM=")
        if first < 0:  # all of it continues the pending event (a long stack)
            self._rest += chunk
            return
        last = chunk.rfind(b"\nM=")
        # The pending event and its continuation (small: copied), then the chunk's whole
        # events in place (no copy of the chunk), then keep its last event for later.
        head = self._rest + chunk[:first]
        self._scan(head + b"\n", 0, len(head))
        if last > first:
            self._scan(chunk, first, last)
        self._rest = chunk[last:]

    def finish(self) -> TraceSummary:
        data = self._rest
        if not data.endswith(b"\n"):
            # Cut off mid-line: drop the partial line (a relevant one counts as skipped).
            cut = data.rfind(b"\n")
            partial = data[cut + 1 :]
            if partial.startswith(b"M=") and any(k in partial for k in _KEYWORDS):
                self._skips.add(partial.decode("utf-8", "replace"))
            data = data[: cut + 1]
        self._scan(data + b"M=", 0, len(data))  # a sentinel so the last line is complete
        self._rest = b""
        return self._summarize()

    # --- scanning ------------------------------------------------------------------

    def _scan(self, data: bytes, begin: int, end: int) -> None:
        """Handle the events in data[begin:end] (which starts with "\\n"; data[end] is the
        "\\n" of the next event's "\\nM=", or a sentinel)."""
        if self._pattern is None:
            found = _FORMAT_PROBE.search(data, begin, end)
            if found is None:
                pattern = _GOID_FIRST  # ranges, labels, logs look the same in both
            else:
                resource = found.group(1) == b"Resource="
                self.summary.format = "resource-first" if resource else "goid-first"
                pattern = self._pattern = _RESOURCE_FIRST if resource else _GOID_FIRST
        else:
            pattern = self._pattern
        # endpos end + 1: the resource-first lookahead needs the "\n" at `end`; no match
        # can start there (it needs "\nM=").
        matched = 0
        handle, start = self._handle, self._start
        pending, recorded = self._pending, self._stw_ps
        for match in pattern.finditer(data, begin, min(len(data), end + 1)):
            matched += 1
            g = match.groups()
            if g[5] == b"Runnable->Running":
                # The hot path (most matches): a start that is neither a probe goroutine's
                # first run nor a P's first start after an STW.
                index = pending.pop(g[3], None) if pending else None
                if index is None and (not self._collecting or g[0] in recorded):
                    continue
                start(g, index)
            else:
                handle(g)
        self.summary.events += matched
        expected = sum(data.count(k, begin, end) for k in _KEYWORDS)
        checked, self._checked = self._checked, 0
        if expected > checked:
            self._find_skipped(data[begin:end], pattern, expected - checked)

    def _find_skipped(self, data: bytes, pattern, missing: int) -> None:
        """The slow path, only when some relevant line did not parse: count, find examples."""
        if len(self._skips.examples) >= 5:
            self._skips.count += missing
            return
        found = 0
        for line in data.split(b"\n"):
            if found >= missing:
                break
            if not any(k in line for k in _KEYWORDS):
                continue
            if pattern.match(b"\n" + line + b"\n") is None:
                self._skips.add(line.decode("utf-8", "replace"))
                found += 1
        self._skips.count += missing - found

    def _time(self, raw: bytes) -> int:
        t = int(raw)
        if self._t0 is None:
            self._t0 = t
        return t - self._t0

    def _handle(self, g: tuple) -> None:
        (p, gid, t_tr, goid, procid, transition, func, r_kind, t_r, name, t_l, label, l_goid) = g[
            :13
        ]
        if t_tr is not None:
            self._transition(gid, self._time(t_tr), goid, procid, transition, func)
        elif r_kind is not None:
            self._range(p, int(gid), r_kind, self._time(t_r), name.decode())
        elif t_l is not None:
            self._label(p, self._time(t_l), int(l_goid), label.decode())
        else:
            self._log(int(gid), self._time(g[13]), g[14].decode())

    def _start(self, g: tuple, index: int | None) -> None:
        """A Runnable->Running that matters: a probe goroutine's first run (index), or
        a P's first start after an STW, or one that ends a wait for a worker label."""
        s = self.summary
        t = self._time(g[2])
        if index is not None:
            s.latency_ns[index] = t - s.created_ns[index]
        self._first_after_stw(g[0], int(g[3]), t, "probe" if index is not None else None)

    def _transition(self, gid, t, goid, procid, transition, func) -> None:
        s = self.summary
        s.end_ns = max(s.end_ns, t)
        if procid is not None:
            if transition == b"Idle->Running":
                self._restart_sign(t, procid)
            return
        if transition == b"NotExist->Runnable":
            self._checked += 1
            if func is not None:
                is_probe = func in self._probe_functions
                rule = "start-function"
            else:
                is_probe = s.spawner_goid is not None and int(gid) == s.spawner_goid
                rule = "creator"
            if is_probe:
                s.identified_by[rule] = s.identified_by.get(rule, 0) + 1
                self._pending[goid] = len(s.created_ns)
                s.created_ns.append(t)
                s.latency_ns.append(None)
            elif func is not None:
                self._functions[int(goid)] = func.decode("utf-8", "replace")
        else:  # Running->NotExist
            self._functions.pop(int(goid), None)

    def _restart_sign(self, t: int, p: bytes) -> None:
        """A P other than the stopper's started again: the world has restarted."""
        stw = self._stw
        if stw is not None and stw.end_ns is None and stw.restart_ns is None and int(p) != stw.p:
            stw.restart_ns = t

    def _first_after_stw(self, p_raw: bytes, goid: int, t: int, kind: str | None) -> None:
        stw = self._stw
        p = int(p_raw)
        if stw is None or stw.restart_ns is None or p_raw in self._stw_ps or p < 0:
            return  # no STW yet, the world not restarted yet, or P already recorded
        self._stw_ps.add(p_raw)
        record = {
            "p": p,
            "goid": goid,
            "ran": kind or self._kind(goid),
            "label": None,
            "continued": False,
            "t_ns": t,
        }
        stw.after.append(record)
        self._after_by_p[p_raw] = record

    def _kind(self, goid: int) -> str:
        if goid in self._workers:
            return "gc-worker"
        if goid == self.summary.spawner_goid:
            return "spawner"
        func = self._functions.get(goid)
        if func is None:
            return "unknown"
        return "runtime" if func.startswith(("runtime.", "runtime/")) else "user"

    def _range(self, p_raw: bytes, gid: int, kind: bytes, t: int, name: str) -> None:
        s = self.summary
        s.end_ns = max(s.end_ns, t)
        if name == MARK_PHASE:
            if kind == b"RangeEnd":
                if self._mark_open is None:
                    s.mark_phases.append([None, t])  # began before the trace
                else:
                    self._mark_open[1] = t
                    self._mark_open = None
            else:  # RangeBegin, or RangeActive: in progress when the trace began
                self._mark_open = [t if kind == b"RangeBegin" else None, None]
                s.mark_phases.append(self._mark_open)
            return
        if kind == b"RangeBegin":
            p = int(p_raw)
            stw = StwWindow(kind=STW_KINDS.get(name, "other"), name=name, begin_ns=t, p=p, goid=gid)
            s.stw.append(stw)
            self._stw, self._collecting = stw, True
            self._stw_ps.clear()  # cleared, not replaced: the scan loop holds it
            self._after_by_p.clear()
            if p >= 0:
                # The stopper's P goes on with the goroutine that stopped the world.
                self._stw_ps.add(p_raw)
                stw.after.append(
                    {
                        "p": p,
                        "goid": gid,
                        "ran": self._kind(gid),
                        "label": None,
                        "continued": True,
                        "t_ns": t,
                    }
                )
        elif (
            kind == b"RangeEnd"
            and self._stw is not None
            and self._stw.end_ns is None
            and self._stw.name == name
        ):
            stw = self._stw
            stw.end_ns = t
            if stw.restart_ns is None or stw.restart_ns > t:
                stw.restart_ns = t

    def _label(self, p_raw: bytes, t: int, goid: int, label: str) -> None:
        """The runtime labels a GC worker right after it starts running on a P; if that
        start is the P's first after the STW (its record names the same goroutine and
        has no label yet), the P ran a worker first, in this mode."""
        self.summary.end_ns = max(self.summary.end_ns, t)
        self._workers.add(goid)
        record = self._after_by_p.get(p_raw)
        if (
            record is not None
            and record["goid"] == goid
            and not record["continued"]
            and record["label"] is None
        ):
            record["ran"] = "gc-worker"
            record["label"] = label.removeprefix("GC (").removesuffix(")")

    def _log(self, gid: int, t: int, message: str) -> None:
        s = self.summary
        s.end_ns = max(s.end_ns, t)
        if message == "window-start":
            s.window_start_ns, s.spawner_goid = t, gid
        elif message == "window-end":
            s.window_end_ns = t

    # --- output --------------------------------------------------------------------

    def _summarize(self) -> TraceSummary:
        s = self.summary
        s.t0_ns = self._t0 or 0
        s.skipped = self._skips.count
        s.skipped_examples = list(self._skips.examples)
        for stw in s.stw:
            restart = stw.restart_ns if stw.restart_ns is not None else stw.end_ns
            for record in stw.after:
                if record["ran"] == "unknown":  # learnt later: the spawner, a GC worker
                    record["ran"] = self._kind(record["goid"])
                t = record.pop("t_ns")
                record["delay_ns"] = (
                    0 if record["continued"] or restart is None else max(0, t - restart)
                )
        phases = classify(s.created_ns, s.stw, s.after_stw_ns)
        s.phase = [ph for ph, _, _ in phases]
        s.since_stw_ns = [since for _, since, _ in phases]
        s.stw_kind = [kind for _, _, kind in phases]
        return s


def classify(
    created_ns: Iterable[int], stw: Iterable[StwWindow], after_stw_ns: int
) -> list[tuple[str, int | None, str | None]]:
    """(phase, since_stw_ns, stw kind) for each creation time; see the module doc."""
    gc = sorted((w for w in stw if w.kind in ("sweep-term", "mark-term")), key=lambda w: w.begin_ns)
    begins = [w.begin_ns for w in gc]
    first_is_mark_term = bool(gc) and gc[0].kind == "mark-term"
    result: list[tuple[str, int | None, str | None]] = []
    for t in created_ns:
        i = bisect.bisect_right(begins, t) - 1
        if i < 0:
            result.append(("mark" if first_is_mark_term else "outside-gc", None, None))
            continue
        w = gc[i]
        restart = w.restart_ns if w.restart_ns is not None else w.end_ns
        if restart is None:  # the trace ended inside this STW; nothing runs in there
            result.append(("mark" if w.kind == "sweep-term" else "outside-gc", None, w.kind))
            continue
        since = t - restart
        if since < after_stw_ns:
            phase = "after-sweep-term" if w.kind == "sweep-term" else "after-mark-term"
        else:
            phase = "mark" if w.kind == "sweep-term" else "outside-gc"
        result.append((phase, since, w.kind))
    return result


def parse_trace_stream(
    stream: BinaryIO,
    *,
    after_stw_ns: int = DEFAULT_AFTER_STW_NS,
    probe_functions: Iterable[str] = PROBE_FUNCTIONS,
    chunk_bytes: int = CHUNK_BYTES,
) -> TraceSummary:
    """Read a binary stream (a pipe from `go tool trace`) to its end."""
    parser = TraceDumpParser(after_stw_ns=after_stw_ns, probe_functions=probe_functions)
    while chunk := stream.read(chunk_bytes):
        parser.feed(chunk)
    return parser.finish()


def parse_trace_dump(
    text: str | bytes,
    *,
    after_stw_ns: int = DEFAULT_AFTER_STW_NS,
    probe_functions: Iterable[str] = PROBE_FUNCTIONS,
    chunk_bytes: int = CHUNK_BYTES,
) -> TraceSummary:
    """The whole dump at once (tests, fixtures); same result as streaming it."""
    if isinstance(text, str):
        data = text.encode("utf-8", "surrogateescape")
    elif isinstance(text, bytes):
        data = text
    else:
        raise TypeError(f"parse_trace_dump takes str or bytes, not {type(text).__name__}")
    parser = TraceDumpParser(after_stw_ns=after_stw_ns, probe_functions=probe_functions)
    for start in range(0, len(data), chunk_bytes):
        parser.feed(data[start : start + chunk_bytes])
    return parser.finish()
