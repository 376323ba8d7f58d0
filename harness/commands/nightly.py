"""`stwbench nightly`: run the tracked series, append the night to the history, detect
changes across nights, write the night's report and the trend report."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

from harness.commands import add_command
from harness.commands.options import engine_specs
from harness.commands.run import add_gate_argument
from harness.console import console
from harness.errors import UsageError

HISTORY_ENV = "STWBENCH_HISTORY_DB"

DESCRIPTION = f"""\
One night of a nightly job: build (or reuse) every series' toolchain from --config (a
nightly.toml of [[series]] tables), run all series as the variants of one interleaved
run, write that night's A/B-style report under <out>/nightly/<night>/<run-id>/, append
every process's values to the history database in one transaction, detect changes
against the previous nights, and write the trend report <out>/nightly/index.html
(+ summary.md). Benchmarks keep the iteration count N of the previous night (same work
per process every night) unless --recalibrate.

--db: any SQLAlchemy URL (sqlite:///path, postgresql://user:pw@host/db); default
${HISTORY_ENV}, else sqlite:///<out>/history.sqlite. One history holds many machines'
nights: --machine (else the config's `machine`, else the host name) names the one this
night is recorded under, and detection compares each machine's nights only with its own.
A night already recorded for a series on this machine is refused unless --replace.

Every patched series' toolchain passes the sanity gate first (cached with the toolchain;
--no-gate skips it); the report's starvation check compares every series with the first.

exit codes: 0 ok; 1 a series' toolchain failed the sanity gate, or --fail-on-regression
was given and tonight raised a regression alert or a starvation check failed; 2 usage or
environment error (bad config, night already recorded, database unreachable, a toolchain
that does not build); 3 recorded, but some processes failed."""


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_command(
        commands,
        "nightly",
        help="nightly run: history database, change detection, trend report",
        description=DESCRIPTION,
    )
    parser.add_argument("--config", type=Path, metavar="TOML", help="nightly.toml: the series")
    parser.add_argument("--db", metavar="URL", help="history database (SQLAlchemy URL)")
    parser.add_argument(
        "--machine",
        metavar="NAME",
        help="the machine this night is recorded under (default: the config's `machine`, "
        "else the host name); each machine's nights are a history of their own",
    )
    parser.add_argument(
        "--night", metavar="YYYY-MM-DD", help="the night to stamp the run with (default: today)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="≤ 5 reps, short processes, `quick` workloads for series that chose none",
    )
    parser.add_argument("--executor", choices=("auto", "docker", "local"), default="auto")
    parser.add_argument(
        "--engines",
        metavar="LIST|TOML",
        help="run the night's processes in containers on these Docker engines (as `ab "
        "--engines`); with one engine its name is the default --machine",
    )
    parser.add_argument("--out", type=Path, default=Path("results"), help="results directory")
    parser.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 1 when tonight raises a regression alert on a headline metric (or a "
        "starvation check fails); secondary metrics' alerts are recorded and shown only",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="record a night again that the history already has (its alerts are recomputed)",
    )
    add_gate_argument(parser)
    parser.add_argument("--seed", type=int, help="run-order seed (default: random, recorded)")
    parser.add_argument(
        "--recalibrate",
        action="store_true",
        help="find benchmark N afresh instead of reusing the previous night's",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="only re-render the trend report from the database (no run)",
    )
    parser.set_defaults(handler=cmd_nightly)


def parse_night(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--night wants YYYY-MM-DD, got {text!r}") from exc


def cmd_nightly(args: argparse.Namespace) -> int:
    # pandas, SQLAlchemy and matplotlib only when the command runs.
    from harness.history import History, default_url, write_trend

    started = time.monotonic()
    night = parse_night(args.night)
    nightly_dir = args.out / "nightly"
    if not args.report_only and args.config is None:
        raise UsageError("give --config nightly.toml (or --report-only)")
    config = None
    machine = None
    if not args.report_only:
        from harness.history import load_config, machine_name

        config = load_config(args.config)
        if args.quick:
            config.quick()
        engines = engine_specs(args.engines) if args.engines else []
        # --machine wins over the file's `machine`, then the one engine's name when the
        # night runs on one (`--engines`: the engine is the machine measured); else the
        # host name. Resolved before anything else: a bad name touched nothing.
        explicit = args.machine if args.machine is not None else config.machine
        if explicit is None and len(engines) == 1:
            explicit = engines[0].name
        machine = machine_name(explicit)
        if engines:
            config.options = config.options.model_copy(
                update={"run_executor": "docker", "engines": engines}
            )
    history = History(args.db or os.environ.get(HISTORY_ENV) or default_url(args.out))
    applied = history.migrate()
    console.print(
        f"history [bold]{history.display_url}[/]: schema version {history.version()}"
        + (f" (applied migrations {applied})" if applied else "")
    )
    if args.report_only:
        paths = write_trend(history, nightly_dir)
        console.print(f"trend report: [bold]{paths['index.html']}[/]")
        print(paths["index.html"])
        return 0
    assert config is not None and machine is not None
    result, run_code, checks = _run_night(args, config, history, night, machine)
    paths = write_trend(history, nightly_dir, tonight=result)
    _print_tonight(result)
    console.print(
        f"trend report: [bold]{paths['index.html']}[/] ({time.monotonic() - started:.0f} s)"
    )
    print(paths["index.html"])
    for line in checks.failed:
        console.print(f"[red]check failed[/]: {line}")
    regressions = not result.failing_regressions.empty
    code = checks.exit_code(regressions=regressions, fail_on_regression=args.fail_on_regression)
    return code or run_code


def _run_night(args, config, history, night: dt.date, machine: str):
    from rich.markup import escape

    from harness.analyze import analyze
    from harness.history import already_recorded, record_night
    from harness.kinds import kind_of
    from harness.rundir import Nightly, NightlySeries
    from harness.runs import create_run, execute_run

    names = [s.name for s in config.series]
    if not args.replace:
        existing = history.existing(night, names, machine=machine)
        if not existing.empty:
            raise already_recorded(night, existing)
    workloads = config.workloads()
    options = config.options.model_copy(
        update={"seed": args.seed, "executor": args.executor, "gate": not args.no_gate}
    )
    run = create_run(
        args.out / "nightly" / night.isoformat(),
        [s.variant() for s in config.series],
        workloads,
        options,
    )
    run.manifest.nightly = Nightly(
        night=night.isoformat(),
        config=str(config.path),
        db=history.display_url,
        series={
            s.name: NightlySeries(workloads=[w.name for w in s.selected()], control=s.control)
            for s in config.series
        },
    )
    if not args.recalibrate:
        # The same N as the previous night: per-process totals (GC cycles, max pause)
        # stay comparable across nights. Only when the target time is the same.
        pinned = history.latest_benchtime(
            before=night, target_seconds=config.target_seconds, machine=machine
        )
        calibrated = {w.name for w in workloads if kind_of(w).calibrated}
        run.manifest.benchtime = {k: v for k, v in pinned.items() if k in calibrated}
        if run.manifest.benchtime:
            console.print(f"benchtime N from the previous night: {run.manifest.benchtime}")
    run.save()
    console.print(
        f"night [bold]{night}[/] on machine [bold]{escape(machine)}[/]: run {run.run_dir}: "
        f"{len(config.series)} series, "
        f"{len(run.order)} processes, seed {run.options.seed}"
    )
    run_code = execute_run(run)
    analysis = analyze(run.run_dir)
    if len(config.series) > 1:
        console.print(analysis.headline)
    entries = [_entry(series, run, analysis, config) for series in config.series]
    with console.status("writing the night into the history (one transaction)") as status:
        result = record_night(
            history,
            night,
            entries,
            machine=machine,
            replace=args.replace,
            params=config.detection,
            progress=lambda s, done, total: status.update(f"writing {s}: {done}/{total} samples"),
        )
    if result.replaced:
        console.print(
            f"[yellow]replaced[/] night {night} of {', '.join(result.replaced)} "
            f"on machine {escape(machine)}"
        )
    result.findings.to_csv(run.run_dir / "findings.csv", index=False)
    return result, run_code, analysis.checks


def _entry(series, run, analysis, config):
    from harness.history import SeriesNight

    toolchain = run.manifest.toolchains[series.name]
    selected = [w.name for w in series.selected()]
    samples = analysis.tables.frames["samples"]
    mine = samples[(samples["variant"] == series.name) & samples["workload"].isin(selected)]
    statuses = [
        run.manifest.status_of(item)
        for item in run.manifest.order
        if item.variant == series.name and item.workload in selected
    ]
    machine = run.manifest.machine.model_dump() if run.manifest.machine else {}
    return SeriesNight(
        series=series.name,
        samples=mine,
        run_id=run.manifest.run_id,
        run_dir=str(run.run_dir),
        variant=series.name,
        toolchain_key=toolchain.key,
        go_version=toolchain.go_version,
        mode=toolchain.mode,
        executor=toolchain.executor,
        patches=[p.model_dump() for p in toolchain.patches],
        env=dict(series.env),
        workloads=selected,
        reps=run.options.reps,
        gomaxprocs=list(run.options.gomaxprocs),
        benchtime={
            "target_seconds": config.target_seconds,
            "n": dict(run.manifest.benchtime),
        },
        machine_info={
            k: machine.get(k) for k in ("hostname", "cpu_model", "cores", "kernel", "governor")
        },
        control=series.control,
        source=toolchain.git,
        processes_ok=sum(1 for s in statuses if s == "ok"),
        processes_failed=sum(1 for s in statuses if s != "ok"),
    )


def _print_tonight(result) -> None:
    from rich.markup import escape

    from harness.history import describe

    counts = result.findings["status"].value_counts().to_dict() if len(result.findings) else {}
    console.print(
        f"night {result.night} on machine {escape(result.machine)}: "
        + (", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no findings")
    )
    for _, alert in result.new_alerts.iterrows():
        color = "red" if alert["kind"] == "regression" else "green"
        console.print(f"[{color}]new alert[/] {escape(describe(alert))}", soft_wrap=True)
    for _, alert in result.resolved.iterrows():
        console.print(f"[green]resolved[/] {escape(describe(alert))}", soft_wrap=True)
