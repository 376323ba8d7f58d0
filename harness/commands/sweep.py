"""`stwbench sweep`: the designs of a knob-gated patch in one interleaved run."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from harness.commands import add_command
from harness.commands.ab import exit_code
from harness.commands.options import options_from_args
from harness.commands.run import add_quick_argument, add_run_arguments
from harness.console import console
from harness.errors import UsageError
from harness.rundir import quick as quick_options
from harness.runs import (
    create_run,
    execute_run,
    load_run,
    quick_workloads,
    resolve_workloads,
    with_env,
)

DESCRIPTION = """\
Sweep the designs of a knob-gated patch (GODEBUG settings, default off, in one toolchain:
patches/runqget-knobs.patch) in one interleaved run: the unpatched baseline, the patched
toolchain with its knobs off (the control: it must come out `same` as the baseline on every
headline row, or the knob is not the only difference), and one variant per point. Each
point is summarized as

  gain  mark-phase goroutine start latency p99 / baseline, geometric mean over the probe
        scenarios (after-sweep-termination p99 beside it: the known cost of runnext first)
  cost  ns/op / baseline, geometric mean over the throughput workloads, with GC CPU and
        mark-phase duration; every ratio paired by block, with its 95 % CI

with the Pareto front of (gain, cost) drawn and tabled, and the answer to: which point
keeps ≥ --keep of the reference point's mark-phase gain with every ns/op row inside the
±2 % equivalence margin (or none, and which cost binds)?

points: --knob K=V1,V2 (repeat: the grid of every combination, all-0 being the control),
--point NAME:K=V[,K=V] (repeat: a list), or --sweep FILE (TOML: go, patches, reference,
[[point]] name/godebug/env tables or a [grid] table; examples/sweep-runqget.toml).

The probe runs with the execution tracer (the GC phase of each goroutine needs it), every
block traced unless --trace-reps N. Writes sweep.html, sweep.md, sweep.json beside the
run's report.html. A killed sweep continues with --resume RUN_DIR (a finished one is
analyzed again).

exit codes: 0 ok; 1 a gate failed (every knob setting is gated); 2 usage or environment
error; 3 some processes failed."""


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_command(
        commands,
        "sweep",
        help="knob-gated patch designs in one run: gain vs cost, the Pareto front",
        description=DESCRIPTION,
    )
    add_run_arguments(parser)
    parser.add_argument(
        "--knob",
        dest="knobs",
        action="append",
        default=[],
        metavar="K=V1,V2",
        help="a grid axis: knob and its values (repeat; every combination is a point)",
    )
    parser.add_argument(
        "--point",
        dest="points",
        action="append",
        default=[],
        metavar="NAME:K=V[,K=V]",
        help="one design, e.g. runnext-first:gcrunnextfirst=1 (repeat)",
    )
    parser.add_argument("--sweep", type=Path, metavar="TOML", help="points from a TOML file")
    parser.add_argument(
        "--reference",
        metavar="NAME",
        default="",
        help="the point whose mark-phase gain the others must keep (default: the first)",
    )
    parser.add_argument(
        "--keep",
        type=float,
        default=0.8,
        metavar="FRACTION",
        help="fraction of the reference's gain a point must keep (default 0.8)",
    )
    add_quick_argument(parser)
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue a sweep")
    parser.set_defaults(handler=cmd_sweep)


_NOT_FOR_SWEEP = ("goroot", "go_git", "ref", "base", "head", "bootstrap", "config", "baseline")


def _new_sweep(args: argparse.Namespace):
    from harness.sweep import grid_points, listed_points, make_plan, plan_from_toml, save_plan

    given = [f"--{k.replace('_', '-')}" for k in _NOT_FOR_SWEEP if getattr(args, k, None)]
    if given:
        raise UsageError(
            f"sweep: {', '.join(given)} not supported: a sweep is --go VERSION "
            "with the knob patch (--patch), or --sweep FILE"
        )
    if args.sweep:
        if args.knobs or args.points or args.go or args.patches:
            raise UsageError(
                "--sweep FILE holds go, patches and the points: give no "
                "--go/--patch/--knob/--point with it"
            )
        plan = plan_from_toml(args.sweep)
    else:
        if not args.go:
            raise UsageError(
                "sweep: give --go VERSION --patch KNOB_PATCH with --knob or "
                "--point, or --sweep FILE"
            )
        points = grid_points(args.knobs) + listed_points(args.points)
        patches = [str(Path(p).resolve()) for p in args.patches]
        plan = make_plan(args.go, args.mode, patches, points, args.reference, args.keep)
    args.trace = True  # the gain is a GC-phase row: the probe's trace is the measurement
    options = options_from_args(args)
    if args.quick:
        args.workloads = quick_workloads(args.workloads)
        options = quick_options(options)
    workloads = resolve_workloads(
        "" if args.workloads == "none" else args.workloads, args.bench_pkgs
    )
    variants = with_env(plan.variants(), args.variant_env)
    run = create_run(args.out, variants, workloads, options)
    save_plan(run.run_dir, plan)
    return run, plan


def cmd_sweep(args: argparse.Namespace) -> int:
    from harness.sweep import load_plan

    started = time.monotonic()
    if args.resume:
        run = load_run(args.resume)
        plan = load_plan(run.run_dir)
    else:
        run, plan = _new_sweep(args)
    console.print(
        f"sweep [bold]{run.run_dir}[/]: {len(plan.points)} points + knobs-off + baseline, "
        f"{len(run.order)} processes, seed {run.options.seed}"
    )
    run_code = execute_run(run)
    from harness.analyze import analyze
    from harness.sweep import report_sweep

    result = analyze(run.run_dir)
    sweep, paths = report_sweep(run.run_dir, result.tables.frames["samples"], result.comparisons)
    console.print(f"front: {', '.join(sweep.front)}")
    console.print(f"answer: {sweep.answer}")
    console.print(
        f"sweep report: [bold]{paths['sweep.html']}[/] ({time.monotonic() - started:.0f} s)"
    )
    print(paths["sweep.html"])
    return exit_code(result, run_code, fail_on_regression=False)
