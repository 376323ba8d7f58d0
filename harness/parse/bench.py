"""Go benchmark format: `go test -bench` output and anything else that speaks it.

The format is https://go.googlesource.com/proposal/+/master/design/14313-benchmark-format.md:

- a configuration line is `key: value`; the key starts with a lower-case letter and has
  neither spaces nor upper-case letters; the value may be empty; a later line with the
  same key overrides the earlier one for every result after it;
- a result line is `Benchmark<Name>[-<procs>] <iterations> <value> <unit> [<value> <unit>…]`,
  fields separated by runs of white space; units are free-form tokens (`ns/op`,
  `B/op`, `p99-ns`, `gc-cycles/op`, …);
- every other line (`PASS`, `ok  pkg 1.2s`, test output, `--- BENCH:` logs) is ignored.

Only a line that claims to be a result (starts with `Benchmark` and is not a word like
`Benchmarking`) but does not parse is counted as skipped.

The `-<procs>` suffix is Go's GOMAXPROCS marker, which `testing` omits when GOMAXPROCS
is 1. A sub-benchmark whose own name ends in `-<digits>` run at GOMAXPROCS=1 is therefore
indistinguishable from one run at that many procs; like benchstat, we read the suffix as
procs. The runs stage knows the GOMAXPROCS it set and can check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.parse.skips import SkipLog, lines, require_text

_PREFIX = "Benchmark"
_PROCS_RE = re.compile(r"^(?P<name>.*)-(?P<procs>\d+)$")
_ITERATIONS_RE = re.compile(r"^\d+$")
# Go's strconv.ParseFloat accepts these spellings; Python's float() would also accept
# "1_000", which Go never prints, so values are checked against this first.
_NUMBER_RE = re.compile(
    r"^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)$", re.IGNORECASE
)


@dataclass(frozen=True)
class BenchResult:
    """One result line."""

    name: str  # without "Benchmark" and without the -N suffix: "PingPongAlloc/pairs=4"
    procs: int  # the -N suffix (GOMAXPROCS); 1 when absent
    iterations: int
    metrics: dict[str, float]  # unit -> value: {"ns/op": 1284.0, "p99-ns": 5e4}
    config: dict[str, str]  # the configuration in effect at this line (a private copy)


@dataclass
class BenchParse:
    config: dict[str, str] = field(default_factory=dict)  # final configuration of the file
    results: list[BenchResult] = field(default_factory=list)
    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)


def parse_bench(text: str) -> BenchParse:
    """Parse Go benchmark output; malformed result lines are counted, never raised."""
    require_text(text, "parse_bench")
    config: dict[str, str] = {}
    results: list[BenchResult] = []
    skips = SkipLog()
    for line in lines(text):
        if _is_result_line(line):
            result = _parse_result(line, config)
            if result is None:
                skips.add(line)
            else:
                results.append(result)
            continue
        pair = _config_pair(line)
        if pair is not None:
            config[pair[0]] = pair[1]
    return BenchParse(
        config=dict(config),
        results=results,
        skipped=skips.count,
        skipped_examples=skips.examples,
    )


def _is_result_line(line: str) -> bool:
    # "Benchmark" followed by a lower-case letter is a word ("Benchmarking …"), not a
    # result; "Benchmark", "BenchmarkFoo", "Benchmark/x" and "Benchmark-4" are results.
    if not line.startswith(_PREFIX):
        return False
    rest = line[len(_PREFIX) :]
    return not (rest and rest[0].islower())


def _parse_result(line: str, config: dict[str, str]) -> BenchResult | None:
    fields = line.split()
    # name, iterations, then (value, unit) pairs: even and at least four fields.
    if len(fields) < 4 or len(fields) % 2:
        return None
    full_name, iterations = fields[0], fields[1]
    if not _ITERATIONS_RE.match(iterations):
        return None
    metrics: dict[str, float] = {}
    for value, unit in zip(fields[2::2], fields[3::2], strict=True):
        if not _NUMBER_RE.match(value):
            return None
        metrics[unit] = float(value)
    name, procs = full_name[len(_PREFIX) :], 1
    match = _PROCS_RE.match(name)
    if match:
        name, procs = match["name"], int(match["procs"])
    return BenchResult(
        name=name,
        procs=procs,
        iterations=int(iterations),
        metrics=metrics,
        config=dict(config),
    )


def _config_pair(line: str) -> tuple[str, str] | None:
    key, colon, value = line.partition(":")
    if not colon or not key or not key[0].islower():
        return None
    if any(ch.isspace() or ch.isupper() for ch in key):
        return None
    # "key:" alone is allowed (empty value); "key:value" without a space is not config.
    if value and not value[0].isspace():
        return None
    return key, value.strip()
