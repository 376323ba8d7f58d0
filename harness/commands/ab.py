"""`stwbench ab`: build + run + analyze + report, the one-command A/B experiment."""

from __future__ import annotations

import argparse
import time

from harness.commands import add_command
from harness.commands.options import default
from harness.commands.run import add_quick_argument, add_run_arguments, new_run_from_args
from harness.console import console
from harness.errors import UsageError
from harness.runs import execute_run, load_run, quick_workloads

DESCRIPTION = """\
Build the baseline and patched toolchains, run the workloads in randomized blocks (every
rep runs each variant × workload once, the arms of a workload back to back), compare each
candidate with the baseline block by block (within-block log ratios: exact signed-rank
test with a Hodges–Lehmann CI from 12 pairs, a paired t below; unpaired exact rank-sum
when a block is incomplete), correct with Benjamini-Hochberg per candidate within the
declared families (headline: ns/op, STW spikes, start latency; secondary: the rest), and
write report.html, summary.md, summary.json, bench.txt and pyperf files into the run
directory. Verdicts: worse/better (significant, CI excludes no change), same (CI inside
±equivalence), inconclusive, underpowered (the test cannot reach α at this n), unreliable.

--quick: probe + Scheduler + BurstSpawn, 5 reps, shorter processes (a smoke check).
--aa: runs the baseline a second time as its own arm ("baseline-aa"), a family of its own:
      a calibration (flagged rows vs 0 expected, raw p < α vs α·rows) that never changes
      the candidate's rows or the exit code.

adaptive reps (--until-ci PCT [--max-reps N] [--budget MINUTES]): after the first --reps
blocks, keep adding whole blocks (every variant × workload × GOMAXPROCS once, shuffled)
until every headline row's CI half-width is within ±PCT %, N reps are reached, or the next
block would overrun the budget (measured block time). It stops on precision, never on
p-values: looking at significance to decide when to stop would inflate false positives.
Each step and why it stopped are in manifest.json ("adaptive"); --resume continues it.

Checks (in the report's header and summary.json "checks"): the sanity gate runs on every
patched toolchain (go test -short on the runtime's scheduler/GC tests, cached with the
toolchain; --no-gate skips it), and the starvation check (PingPongAlloc at GOMAXPROCS=1:
mark phases, the longest one, GC cycles/s against the baseline) for every candidate.

exit codes: 0 ok; 1 the gate failed, or --fail-on-regression was given and a candidate's
row is `worse` or its starvation check failed (the A/A arm never counts); 2 usage or
environment error; 3 some processes failed (their rows are `unreliable`)."""


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_command(
        commands,
        "ab",
        help="A/B experiment: build, run, analyze, report",
        description=DESCRIPTION,
    )
    add_run_arguments(parser)
    add_quick_argument(parser)
    parser.add_argument(
        "--aa",
        action="store_true",
        help="add a second baseline arm and report the false-positive rate",
    )
    parser.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 1 when a candidate's comparison row is `worse` or its starvation check fails",
    )
    parser.add_argument(
        "--until-ci",
        type=float,
        metavar="PCT",
        help="adaptive reps: add blocks until every headline row's CI half-width is "
        "≤ ±PCT %% (stops on precision, never on p-values)",
    )
    parser.add_argument(
        "--max-reps",
        type=int,
        metavar="N",
        help="with --until-ci: never more than N reps (default 4 × --reps)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        metavar="MINUTES",
        help="with --until-ci: wall-clock budget of the whole command; no block is started "
        "that the measured mean block time says would overrun it",
    )
    parser.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue a killed ab run (an adaptive one with its recorded settings)",
    )
    parser.set_defaults(handler=cmd_ab)


def _adaptive_settings(args: argparse.Namespace):
    from harness.adaptive import Settings

    if args.until_ci is None:
        if args.max_reps is not None or args.budget is not None:
            raise UsageError("--max-reps and --budget go with --until-ci PCT")
        return None
    if args.until_ci <= 0:
        raise UsageError("--until-ci wants a positive percentage, e.g. 2")
    if args.budget is not None and args.budget <= 0:
        raise UsageError("--budget wants a positive number of minutes")
    reps = args.reps if args.reps is not None else default("reps")
    max_reps = args.max_reps if args.max_reps is not None else 4 * reps
    if max_reps < reps:
        raise UsageError(f"--max-reps {max_reps} is below --reps {reps}")
    return Settings(until_ci=args.until_ci, max_reps=max_reps, budget_min=args.budget)


def cmd_ab(args: argparse.Namespace) -> int:
    started = time.monotonic()
    if args.quick:
        args.workloads = quick_workloads(args.workloads)
    if args.resume:
        from pathlib import Path

        from harness.adaptive import recorded_settings

        run = load_run(Path(args.resume))
        adaptive = recorded_settings(run.manifest)
    else:
        adaptive = _adaptive_settings(args)
        run = new_run_from_args(args, aa=args.aa, quick=args.quick)
    console.print(
        f"run [bold]{run.run_dir}[/]: {len(run.order)} processes, seed {run.options.seed}"
    )
    if adaptive is not None:
        from harness.adaptive import record_settings

        record_settings(run, adaptive)
        budget = f", budget {adaptive.budget_min:g} min" if adaptive.budget_min else ""
        console.print(
            f"adaptive reps: until every headline CI is within ±{adaptive.until_ci:g} %, "
            f"at most {adaptive.max_reps} reps{budget} (stops on precision, never on p-values)"
        )
    run_code = execute_run(run)
    if adaptive is not None:
        from harness.adaptive import run_adaptive

        run_code = run_adaptive(run, adaptive, started, run_code)
    from harness.analyze import analyze  # pulls in pandas/matplotlib: only when needed

    result = analyze(run.run_dir)
    console.print(result.headline)
    if result.aa is not None:
        aa = result.aa
        console.print(
            f"A/A calibration ({aa['candidate']}, its own family, never a regression): "
            f"{aa['flagged']} of {aa['rows']} rows flagged (null: 0, P(≥1) ≤ {aa['alpha']:.0%}); "
            f"{aa['raw_below_alpha']} of {aa['tested']} raw p < {aa['alpha']:g} "
            f"(null: {aa['expected_raw']:g}, 95 % range {aa['expected_range'][0]}–"
            f"{aa['expected_range'][1]})"
        )
    console.print(
        f"report: [bold]{result.outputs['report.html']}[/] ({time.monotonic() - started:.0f} s)"
    )
    print(result.outputs["report.html"])
    return exit_code(result, run_code, fail_on_regression=args.fail_on_regression)


def exit_code(result, run_code: int, *, fail_on_regression: bool) -> int:
    """harness/checks.py's code (gate, regression, starvation), else the run's (0 or 3)."""
    for line in result.checks.failed:
        console.print(f"[red]check failed[/]: {line}")
    regressions = not result.regressions.empty
    code = result.checks.exit_code(regressions=regressions, fail_on_regression=fail_on_regression)
    return code or run_code
