"""`stwbench ab`: build + run + analyze + report, the one-command A/B experiment."""

from __future__ import annotations

import argparse
import dataclasses
import time

from harness.commands.run import add_run_arguments, new_run_from_args
from harness.console import console
from harness.runs.runner import execute_run, load_run

DESCRIPTION = """\
Build the baseline and patched toolchains, run the workloads interleaved (one process per
variant × workload × rep), compare per-process values (Mann-Whitney U, bootstrap CI of the
ratio of medians, Benjamini-Hochberg q-values) and write report.html, summary.md,
summary.json, bench.txt and pyperf files into the run directory.

--quick: probe + Scheduler + BurstSpawn, 5 reps, shorter processes (a smoke check).
--aa: runs the baseline a second time as its own arm ("baseline-aa") and reports how many
      of its rows came out better/worse: the false-positive rate actually observed here.

exit codes: 0 ok; 1 a row is `worse` and --fail-on-regression was given; 2 usage or
environment error; 3 some processes failed (their rows are `unreliable`)."""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "ab",
        help="A/B experiment: build, run, analyze, report",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_arguments(parser, reps=10)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="reduced run for smoke checks (≤ 5 min with warm toolchains)",
    )
    parser.add_argument(
        "--aa",
        action="store_true",
        help="add a second baseline arm and report the false-positive rate",
    )
    parser.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 1 when any comparison row is `worse`",
    )
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue a killed ab run")
    parser.set_defaults(handler=cmd_ab)


def _with_aa(variants):
    from harness.analyze import AA_SUFFIX

    baseline = variants[0]
    return [
        baseline,
        dataclasses.replace(baseline, name=f"{baseline.name}{AA_SUFFIX}"),
        *variants[1:],
    ]


def cmd_ab(args: argparse.Namespace) -> int:
    started = time.monotonic()
    if args.quick:
        args.workloads = "quick" if args.workloads == "default" else args.workloads
        args.reps = min(args.reps, 5)
        args.target_seconds = min(args.target_seconds, 0.3)
        args.probe_duration = min(args.probe_duration, 1.0)
    if args.resume:
        from pathlib import Path

        run = load_run(Path(args.resume))
    else:
        run = new_run_from_args(args, extra_variants=_with_aa if args.aa else None)
    console.print(
        f"run [bold]{run.run_dir}[/]: {len(run.order)} processes, seed {run.options.seed}"
    )
    run_code = execute_run(run)
    from harness.analyze import analyze  # pulls in pandas/matplotlib: only when needed

    result = analyze(run.run_dir)
    console.print(result.headline)
    if result.aa is not None:
        console.print(
            f"A/A: {result.aa['flagged']} of {result.aa['rows']} rows flagged "
            f"(false-positive rate {result.aa['rate']:.1%})"
        )
    console.print(
        f"report: [bold]{result.outputs['report.html']}[/] ({time.monotonic() - started:.0f} s)"
    )
    print(result.outputs["report.html"])
    if args.fail_on_regression and not result.regressions.empty:
        return 1
    return run_code
