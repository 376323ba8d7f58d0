"""The same total work on one Docker engine and on two: wall time, and what it bought.

One `stwbench ab` per setting, identical plan (same seed, reps, workloads, toolchains,
calibration): the quick workloads (Scheduler, BurstSpawn, the probe) of go1.27.3 against
the +20 µs-per-`go f()` test patch, GOMAXPROCS 1, every process in a container.

- one engine: the default engine pinned to CPU 0 (`a=env#cpus=0`);
- two engines: that one and a second dockerd pinned to CPU 1 (`b=URL#cpus=1`), standing
  for a second machine; blocks are sharded between them.

The noise guard is off (`--noise-retries 0`) in both, so both do exactly the same number
of processes; the median interference is printed, since two engines on one 2-CPU machine
disturb each other (their daemons and this harness share the CPUs). Wall time is the
run's own: manifest created_at → ended_at (toolchains, calibration, processes; not the
analysis).

    python benchmarks/engine_scaling.py --engine2 unix:///run/stwbench-docker2.sock --reps 10
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PATCH = REPO / "tests" / "patches" / "test-only-slow-newproc.patch"


def ab(out: Path, engines: str, reps: int, seed: int) -> Path:
    args = [
        *("ab", "--go", "1.27.3", "--patch", str(PATCH), "--mode", "source", "--no-gate"),
        *("--workloads", "quick", "--reps", str(reps), "--target-seconds", "0.3"),
        *("--probe-duration", "1", "--gomaxprocs", "1", "--seed", str(seed)),
        *("--noise-retries", "0", "--engines", engines, "--out", str(out)),
    ]
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", *args], cwd=REPO, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"ab failed ({done.returncode}): {done.stderr[-2000:]}")
    return Path(done.stdout.strip()).parent


def figures(run_dir: Path) -> dict:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    wall = dt.datetime.fromisoformat(manifest["ended_at"]) - dt.datetime.fromisoformat(
        manifest["created_at"]
    )
    processes = manifest["processes"].values()
    interference = [
        p["interference_cores"] for p in processes if p["interference_cores"] is not None
    ]
    summary = json.loads((run_dir / "summary.json").read_text())
    row = next(
        r for r in summary["comparisons"] if (r["benchmark"], r["metric"]) == ("Scheduler", "ns/op")
    )
    return {
        "wall_s": wall.total_seconds(),
        "processes": len(manifest["processes"]),
        "blocks": {name: len(e["blocks"]) for name, e in manifest["engines"].items()},
        "interference_median": statistics.median(interference),
        "scheduler_ratio": (row["ratio"], row["ci_low"], row["ci_high"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine2", required=True, help="URL of the second engine")
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="engine-scaling."))
    settings = {
        "one engine": "a=env#cpus=0",
        "two engines": f"a=env#cpus=0,b={args.engine2}#cpus=1",
    }
    print("| setting | processes | blocks per engine | wall | interference (median cores) "
          "| Scheduler ns/op ratio [95 % CI] |")  # fmt: skip
    print("|---|---:|---|---:|---:|---|")
    for name, engines in settings.items():
        found = figures(ab(out / name.replace(" ", "-"), engines, args.reps, args.seed))
        ratio, low, high = found["scheduler_ratio"]
        blocks = ", ".join(f"{k} {v}" for k, v in found["blocks"].items())
        print(
            f"| {name} | {found['processes']} | {blocks} | {found['wall_s']:.0f} s | "
            f"{found['interference_median']:.2f} | {ratio:.3f} [{low:.3f}, {high:.3f}] |"
        )


if __name__ == "__main__":
    main()
