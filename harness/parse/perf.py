"""`perf report --stdio` output: the flat symbol table, per event.

    # Samples: 3K of event 'cpu-clock'
    # Event count (approx.): 764500000
    #
    # Children      Self  Command  Shared Object  Symbol
    # ........  ........  .......  .............  .....................
    #
        28.84%     0.00%  probe    probe          [.] runtime.gcBgMarkWorker
                |
                ---runtime.gcBgMarkWorker …            (call graph, with -g)

The columns depend on `--sort` (default comm,dso,sym; `--sort sym`; `--sort dso,sym`; …),
on `--children` (on by default for `perf record -g` data: a Children column before Self),
and on `-n` (Samples), so the header line names them and the dotted line under it gives
each column's extent; perf sizes columns to fit their widest entry, so slicing rows by
those extents is exact, and a row that does not fit them falls back to splitting on
white space. Without a header (a fragment) the row is read as `pct% [pct%] [comm] [dso]
[x] symbol`.

`overhead_pct` is the Self share when a Children column is present (Self sums to 100%
per event; Children does not), else the Overhead column; `children_pct` keeps the other.
Call-graph lines (`|`, `---`, `--12.3%--`, folded `12.3% a;b;c`, bare frame names) and
`#` comments are ignored; a row that starts like a table row (`   12.34%  …`) and does
not parse is skipped. The `# Samples: 3K` count is perf's rounded figure (K = 1000).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.parse.skips import SkipLog, lines, require_text

_PCT = r"\d+(?:\.\d+)?%"
_PCT_RE = re.compile(rf"^{_PCT}$")
_ROW_START_RE = re.compile(rf"^\s*{_PCT}\s\s")  # folded graph lines have one space
_SYMBOL_RE = re.compile(r"^\[(?P<kind>[^\]\s])\]\s+(?P<symbol>\S.*?)\s*$")
# A header-less row: percentages, then whatever precedes the "[x]" marker, then symbol.
_FALLBACK_RE = re.compile(
    rf"^\s*(?P<pct1>{_PCT})(?:\s+(?P<pct2>{_PCT}))?(?P<middle>(?:\s+\S+)*?)\s+"
    r"\[(?P<kind>[^\]\s])\]\s+(?P<symbol>\S.*?)\s*$"
)
_SAMPLES_RE = re.compile(
    r"^#\s*Samples:\s*(?P<n>\d+(?:\.\d+)?)(?P<mult>[KMGT]?)\s+of event\s+'(?P<event>[^']*)'"
)
_DOTS_RE = re.compile(r"\.+")
_MULTIPLIERS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_PCT_COLUMNS = ("Overhead", "Children", "Self")


@dataclass(frozen=True)
class PerfSymbol:
    overhead_pct: float  # Self when perf showed Children/Self, else Overhead
    command: str | None  # None when the report was not sorted by comm
    shared_object: str | None  # None when the report was not sorted by dso
    symbol: str  # without the "[.] " / "[k] " marker
    children_pct: float | None = None  # the Children column, when present
    kernel: bool = False  # "[k]": a kernel symbol
    event: str | None = None  # the `# Samples: … of event '…'` section it came from


@dataclass
class PerfReportParse:
    symbols: list[PerfSymbol] = field(default_factory=list)
    event: str | None = None  # the first event of the report
    samples: int | None = None  # that event's sample count, as perf rounded it
    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Layout:
    """Column keys and [start, end) extents from the header and its dotted line.

    A key is the title's first word: "Overhead", "Children", "Self", "Samples",
    "Command", "Shared" (Shared Object), "Symbol", "IPC", …
    """

    keys: list[str]
    spans: list[tuple[int, int]]


def parse_perf_report(text: str) -> PerfReportParse:
    """The symbol rows of `perf report --stdio` (any `--sort` that includes `sym`)."""
    require_text(text, "parse_perf_report")
    result = PerfReportParse()
    skips = SkipLog()
    event: str | None = None
    layout: _Layout | None = None
    previous = ""
    for line in lines(text):
        if line.startswith("#"):
            samples = _SAMPLES_RE.match(line)
            if samples is not None:
                event = samples["event"]
                if result.event is None:
                    result.event = event
                    result.samples = int(float(samples["n"]) * _MULTIPLIERS[samples["mult"]])
            elif line.lstrip("# ").startswith("."):
                # A comment that merely starts with dots does not undo a real header.
                layout = _layout(previous, line) or layout
            previous = line
            continue
        if not _ROW_START_RE.match(line):
            continue  # blank, call graph, perf's own warnings
        row = _row(line, layout, event)
        if row is None:
            skips.add(line)
        else:
            result.symbols.append(row)
    result.skipped, result.skipped_examples = skips.count, skips.examples
    return result


def _layout(header: str, dots: str) -> _Layout | None:
    spans = [(m.start(), m.end()) for m in _DOTS_RE.finditer(dots)]
    if not spans or not header.startswith("#"):
        return None
    # perf left-aligns most titles and right-aligns percentages inside the dotted extent.
    titles = [header[start:end] for start, end in spans[:-1]] + [header[spans[-1][0] :]]
    keys = [(title.split() or [""])[0] for title in titles]
    if "Symbol" not in keys:
        return None
    return _Layout(keys=keys, spans=spans)


def _row(line: str, layout: _Layout | None, event: str | None) -> PerfSymbol | None:
    if layout is not None:
        row = _row_by_columns(line, layout, event)
        if row is not None:
            return row
    return _row_by_tokens(line, layout, event)


def _row_by_columns(line: str, layout: _Layout, event: str | None) -> PerfSymbol | None:
    cells: dict[str, str] = {}
    for i, (key, (start, end)) in enumerate(zip(layout.keys, layout.spans, strict=True)):
        # Each cell must end at a column gap; otherwise the row does not fit the layout.
        if i + 1 < len(layout.spans) and end < len(line) and not line[end].isspace():
            return None
        # The first column is right-aligned and may begin before the "#" prefix ends.
        cells[key] = line[0 if i == 0 else start : end].strip()
    # The symbol column runs to the next column (IPC, …) or, if last, to the line end.
    symbol_index = layout.keys.index("Symbol")
    if symbol_index == len(layout.spans) - 1:
        cells["Symbol"] = line[layout.spans[symbol_index][0] :].strip()
    return _symbol(
        pcts=[cells.get(n) for n in _PCT_COLUMNS if n in cells],
        command=cells.get("Command"),
        has_command="Command" in cells,
        dso=cells.get("Shared"),
        has_dso="Shared" in cells,
        symbol_cell=cells["Symbol"],
        event=event,
    )


def _row_by_tokens(line: str, layout: _Layout | None, event: str | None) -> PerfSymbol | None:
    match = _FALLBACK_RE.match(line)
    if match is None:
        return None
    middle = match["middle"].split()
    keys = layout.keys if layout else ["Command", "Shared"]
    has_command, has_dso = "Command" in keys, "Shared" in keys
    if layout is None:
        # No header: two or more tokens are comm + dso (the default sort); one is the dso.
        has_command = len(middle) >= 2
        has_dso = len(middle) >= 1
    # Numeric columns such as Samples/Period (perf report -n) sit before comm and dso.
    while middle and middle[0].isdigit() and len(middle) > has_command + has_dso:
        middle.pop(0)
    if len(middle) < has_command + has_dso or (not has_command and len(middle) > has_dso):
        return None
    dso = middle.pop() if has_dso else None
    command = " ".join(middle) if has_command else None  # comm may contain spaces
    pcts = [match["pct1"], match["pct2"]] if match["pct2"] else [match["pct1"]]
    return _symbol(
        pcts=pcts,
        command=command,
        has_command=has_command,
        dso=dso,
        has_dso=has_dso,
        symbol_cell=f"[{match['kind']}] {match['symbol']}",
        event=event,
    )


def _symbol(
    *,
    pcts: list[str | None],
    command: str | None,
    has_command: bool,
    dso: str | None,
    has_dso: bool,
    symbol_cell: str,
    event: str | None,
) -> PerfSymbol | None:
    if not pcts or len(pcts) > 2 or not all(p and _PCT_RE.match(p) for p in pcts):
        return None
    if (has_command and not command) or (has_dso and not dso):
        return None
    symbol = _SYMBOL_RE.match(symbol_cell)
    if symbol is None:
        return None
    values = [float(p[:-1]) for p in pcts if p]
    return PerfSymbol(
        overhead_pct=values[-1],
        command=command if has_command else None,
        shared_object=dso if has_dso else None,
        symbol=symbol["symbol"],
        children_pct=values[0] if len(values) == 2 else None,
        kernel=symbol["kind"] == "k",
        event=event,
    )
