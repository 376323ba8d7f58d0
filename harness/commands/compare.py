"""`stwbench compare RUN_A RUN_B`: compare the variants of two existing runs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.commands.run import add_equivalence_argument
from harness.console import console


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "compare",
        help="compare the variants of two finished runs (unpaired: they share no block)",
        description="Every variant of RUN_A and RUN_B against one baseline (default: "
        "RUN_A's). The runs share no block, so each row is the unpaired rank-sum with a "
        "bootstrap CI: weaker than a run holding both arms (`stwbench ab`), and "
        "machine drift between the runs is in it. Writes RUN_B/compare-<RUN_A>.json and "
        ".md. exit codes: 0 ok; 1 with --fail-on-regression and a `worse` row; 2 usage "
        "(not a run directory, different machines without --allow-different-machines).",
    )
    parser.add_argument("run_a", type=Path, metavar="RUN_A")
    parser.add_argument("run_b", type=Path, metavar="RUN_B")
    parser.add_argument("--baseline", metavar="NAME", help="the variant to compare with")
    parser.add_argument(
        "--allow-different-machines",
        action="store_true",
        help="compare runs whose machine fingerprints differ (CPU, cores, kernel, governor)",
    )
    parser.add_argument(
        "--fail-on-regression", action="store_true", help="exit 1 when a row is `worse`"
    )
    add_equivalence_argument(parser)
    parser.set_defaults(handler=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from harness.compare_runs import compare_runs
    from harness.report import headline

    result = compare_runs(
        args.run_a,
        args.run_b,
        baseline=args.baseline,
        allow_different_machines=args.allow_different_machines,
        equivalence=args.equivalence,
    )
    rows = result.comparisons
    console.print(f"baseline [bold]{result.baseline}[/]; candidates {', '.join(result.candidates)}")
    console.print(headline(rows))
    out = args.run_b.resolve() / f"compare-{args.run_a.resolve().name}"
    records = json.loads(rows.to_json(orient="records"))
    out.with_suffix(".json").write_text(
        json.dumps(
            {
                "runs": [m.run_id for m in result.runs],
                "baseline": result.baseline,
                "candidates": result.candidates,
                "paired": False,
                "comparisons": records,
            },
            indent=2,
        )
    )
    flagged = rows[rows["verdict"].isin(["worse", "better"])]
    lines = [
        f"# {result.runs[0].run_id} vs {result.runs[1].run_id} (unpaired)",
        "",
        f"baseline {result.baseline}; {len(rows)} rows, {len(flagged)} worse or better",
        "",
        "| candidate | benchmark | metric | phase | ratio | CI | verdict |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {r.candidate} | {r.benchmark} | {r.metric} | {r.phase} | {r.ratio:.4g} | "
            f"{r.ci_low:.4g}–{r.ci_high:.4g} | {r.verdict} |"
            for r in flagged.itertuples()
        ],
        "",
    ]
    out.with_suffix(".md").write_text("\n".join(lines))
    console.print(f"compare: [bold]{out.with_suffix('.md')}[/]")
    print(out.with_suffix(".json"))
    worse = (rows["verdict"] == "worse").any()
    return 1 if args.fail_on_regression and worse else 0
