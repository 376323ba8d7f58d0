"""`perf script` call-graph samples folded into stacks, and folded files read back.

`perf script` (default fields, or `-F comm,tid,event,ip,sym`) prints one block per sample:

    probe 29887  3056.430547:     250000          cpu-clock:
    \tffffffff8158c3e1 next_uptodate_folio+0xc1 ([kernel.kallsyms])
    \t           8a3fa runtime.open.abi0+0x1a (/tmp/tr/probe)
    <blank>

a header line (comm, tid, [cpu], [time:], [period], `event:` and, for tracepoints, its
fields), then the stack leaf first. `fold_perf_script` turns the blocks into the *folded*
format flame-graph tools read (Brendan Gregg's `flamegraph.pl`, speedscope, inferno):
one line per distinct stack, `comm;root;…;leaf count`, separately per event. Symbol
offsets (`+0x1a`) are dropped; an unresolved frame is `[unknown]`; `;` inside a symbol
becomes `:` (it separates frames). A sample without frames folds to `comm`. Header lines
that do not parse and frame lines before any header are skipped (counted, examples kept).

`read_folded` reads such a file back, and `stack_shares` gives, for a list of symbol
patterns, the samples whose stack contains a match (inclusive) and whose leaf matches
(self): what `perf_stacks` in the tables holds.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from harness.parse.skips import SkipLog

_HEADER_RE = re.compile(
    r"^(?P<comm>\S.*?)\s+(?P<tid>-?\d+)(?:/-?\d+)?\s+(?:\[\d+\]\s+)?(?:\d+\.\d+:\s+)?"
    r"(?:\d+\s+)?(?P<event>[A-Za-z_][\w:.-]*):(?:\s|$)"
)
_FRAME_RE = re.compile(
    r"^\s+(?:[0-9a-fA-F]+\s+)?(?P<sym>.*?)(?:\+0x[0-9a-fA-F]+)?(?:\s+\((?P<dso>[^()]*)\))?\s*$"
)
_FOLDED_RE = re.compile(r"^(?P<stack>.*\S)\s+(?P<count>\d+)\s*$")


@dataclass
class FoldedStacks:
    """event -> Counter of folded stacks ("comm;root;…;leaf")."""

    stacks: dict[str, Counter] = field(default_factory=dict)
    samples: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)

    def folded_text(self, event: str) -> str:
        lines = [f"{stack} {n}" for stack, n in sorted(self.stacks.get(event, Counter()).items())]
        return "\n".join(lines) + ("\n" if lines else "")


def fold_perf_script(lines: Iterable[str]) -> FoldedStacks:
    """Fold `perf script` output (an iterable of lines, e.g. a pipe) per event."""
    result = FoldedStacks()
    skips = SkipLog()
    header: tuple[str, str] | None = None  # (event, comm) of the sample being read
    frames: list[str] = []

    def flush() -> None:
        if header is None:
            return
        event, comm = header
        stack = ";".join([comm, *reversed(frames)])
        result.stacks.setdefault(event, Counter())[stack] += 1
        result.samples[event] = result.samples.get(event, 0) + 1

    for raw in lines:
        line = raw.rstrip("\n").rstrip("\r")
        if not line.strip():
            flush()
            header, frames = None, []
            continue
        if line[0] in " \t":
            if header is None:
                skips.add(line)
                continue
            match = _FRAME_RE.match(line)
            sym = (match["sym"] if match else "").strip() or "[unknown]"
            frames.append(sym.replace(";", ":"))
            continue
        flush()
        frames = []
        match = _HEADER_RE.match(line)
        if match is None:
            header = None
            skips.add(line)
            continue
        header = (match["event"], match["comm"].strip().replace(";", ":") or "?")
    flush()
    result.skipped, result.skipped_examples = skips.count, skips.examples
    return result


def read_folded(text: str) -> Counter:
    """A folded file back into stack -> count; unreadable lines are ignored."""
    stacks: Counter = Counter()
    for line in text.split("\n"):
        match = _FOLDED_RE.match(line)
        if match is not None:
            stacks[match["stack"]] += int(match["count"])
    return stacks


def stack_shares(
    stacks: Counter, symbols: dict[str, re.Pattern[str]]
) -> dict[str, tuple[int, int]]:
    """name -> (samples with a matching frame anywhere, samples with a matching leaf).

    Frame 0 of a folded stack is the comm, not a function, and is never matched."""
    shares = {name: [0, 0] for name in symbols}
    for stack, count in stacks.items():
        frames = stack.split(";")[1:]
        if not frames:
            continue
        leaf = frames[-1]
        for name, pattern in symbols.items():
            if any(pattern.search(f) for f in frames):
                shares[name][0] += count
                if pattern.search(leaf):
                    shares[name][1] += count
    return {name: (inc, self_) for name, (inc, self_) in shares.items()}
