"""`stwbench report RUN_DIR`: re-render tables, verdicts and the report from raw/."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.commands.options import build_options
from harness.commands.run import add_after_stw_argument, add_equivalence_argument
from harness.console import console


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "report",
        help="re-render a run's tables and report from its raw/ output",
        description="Re-parse every process's raw output under RUN_DIR/raw, recompute the "
        "tables and comparisons and write the report again. The result depends "
        "only on what the run recorded.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 1 when a candidate's row is `worse` (the A/A arm never counts)",
    )
    add_equivalence_argument(parser)
    add_after_stw_argument(parser)
    parser.set_defaults(handler=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from harness.rundir import RunDir

    RunDir.open(args.run_dir)  # not a run directory, or a bad manifest: exit 2 now
    build_options({"trace_after_stw_us": args.trace_after_stw_us})  # the model's limits
    from harness.analyze import analyze  # pulls in pandas/matplotlib: only when needed

    result = analyze(
        args.run_dir, equivalence=args.equivalence, after_stw_us=args.trace_after_stw_us
    )
    console.print(result.headline)
    from harness.sweep import is_sweep, report_sweep

    if is_sweep(args.run_dir):  # a sweep's pages follow its run's analysis
        sweep, paths = report_sweep(
            args.run_dir, result.tables.frames["samples"], result.comparisons
        )
        console.print(f"sweep: {sweep.answer}\nsweep report: [bold]{paths['sweep.html']}[/]")
    console.print(f"report: [bold]{result.outputs['report.html']}[/]")
    print(result.outputs["report.html"])
    return 1 if args.fail_on_regression and not result.regressions.empty else 0
