"""What running a benchmark process in a container costs: local vs container, paired.

The same test binary (go1.27.3, the default workloads' `go test -c`), the same fixed
-test.benchtime=Nx, GOMAXPROCS=1, on the same CPU: pinned with taskset locally, with
--cpuset-cpus in a container on the local Docker engine (the run executor `docker`'s own
code path: harness/runs/container.py, wrapper and all). Each pair runs both arms back to
back in a random order (a randomized block, as the harness's own runs), so the machine's
bursts hit both; the per-pair log ratio of ns/op is tested with the project's paired test
(harness.stats.paired_log_test: signed-rank + Hodges–Lehmann CI from 12 pairs).

Reported per workload: the ns/op ratio container/local with its 95 % CI, and the wall
time the harness spends per process beyond the process itself (create, copy in, start,
wait, copy out, remove: what a block pays per process on an engine).

    python benchmarks/container_overhead.py --pairs 20 --cpu 1      # ≈ 3 min here
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from harness.kinds import bench_args
from harness.parse import parse_bench
from harness.runs.compile import compile_workloads
from harness.runs.container import Uploads
from harness.runs.container import run as run_in_container
from harness.runs.engines import DEFAULT_ENGINE, open_engine
from harness.runs.execute import ProcessSpec
from harness.runs.execute import run as run_locally
from harness.runs.workloads import resolve_workloads
from harness.stats import paired_log_test
from harness.toolchains import ToolchainSpec, build, go_env

WORKLOADS = "Scheduler,BurstSpawn,AllocChurn,HTTPOpenLoop"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--cpu", default="1", help="the CPU both arms are pinned to")
    parser.add_argument("--workloads", default=WORKLOADS)
    parser.add_argument("--n", type=int, default=0, help="-test.benchtime=Nx (0: ~0.3 s)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    toolchain = build(ToolchainSpec(go="1.27.3", mode="source", executor="local"))
    workloads = resolve_workloads(args.workloads, [])
    binaries = compile_workloads(toolchain, workloads)
    engine = open_engine(DEFAULT_ENGINE.model_copy(update={"cpus": args.cpu}))
    uploads = Uploads()
    rng = random.Random(args.seed)
    env = {**go_env(toolchain.goroot), "GOMAXPROCS": "1"}
    scratch = Path(tempfile.mkdtemp(prefix="container-overhead."))
    print(f"engine {engine.name}: {engine.machine.cpu_model}, CPU {args.cpu}; {scratch}")
    print("| workload | pairs | ns/op container/local | 95 % CI | extra wall per process |")
    print("|---|---:|---:|---|---:|")
    for workload in workloads:
        binary = binaries[workload.name]
        assert binary.path, binary.error
        n = args.n or _calibrate(binary.path, workload, env, args.cpu)
        command = [binary.path, *bench_args(workload, n, 1)]
        pinned = ["taskset", "-c", args.cpu, *command]
        logs, extra = [], {"local": [], "container": []}
        for pair in range(args.pairs):
            arms = ["local", "container"]
            rng.shuffle(arms)
            ns = {}
            for arm in arms:
                item = scratch / workload.name / f"{pair:03d}-{arm}"
                spec = ProcessSpec(
                    command=command if arm == "container" else pinned,
                    cwd=Path(binary.cwd),
                    env=env,
                    shown_env={"GOMAXPROCS": "1"},
                    timeout_s=300,
                    perf_events=[],
                    keep_raw=False,
                )
                started = time.monotonic()
                if arm == "container":
                    result = run_in_container(engine, spec, item, uploads, run_id="overhead")
                else:
                    result = run_locally(spec, item)
                extra[arm].append(time.monotonic() - started - result.duration_s)
                assert result.status == "ok", result.reason
                parsed = parse_bench((item / "stdout.txt").read_text())
                ns[arm] = sum(r.metrics["ns/op"] for r in parsed.results)
            logs.append(np.log(ns["container"]) - np.log(ns["local"]))
        test = paired_log_test(np.array(logs))
        wall = statistics.median(extra["container"]) - statistics.median(extra["local"])
        print(
            f"| {workload.name} | {test.n_pairs} | {test.ratio:.4f} | "
            f"[{test.ci_low:.4f}, {test.ci_high:.4f}] | {wall * 1000:.0f} ms |"
        )


def _calibrate(path: str, workload, env: dict, cpu: str) -> int:
    """N for ≈ 0.3 s of benchmark time, measured once, locally."""
    import subprocess

    out = subprocess.run(
        ["taskset", "-c", cpu, path, *bench_args(workload, 1000, 1)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ns = sum(r.metrics["ns/op"] for r in parse_bench(out).results)
    return max(1, round(0.3e9 / ns))


if __name__ == "__main__":
    main()
