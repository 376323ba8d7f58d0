"""Real injected slowdowns through the whole harness: does the default A/B see +5 %?

Each seeded run is one `stwbench ab` at the settings of `nox -s bench` (noxfile.py
BENCH_ARGS: the default workloads, adaptive reps, the same budget) with three arms in
one interleaved run, so both questions are answered on the same blocks:

- `baseline`                 go1.27.3, no patch;
- `test-only-spawn-spin-5pct`  every `go f()` spins a constant time in `newproc1`
                             (tests/patches/, calibrated to ≈ +5 % Scheduler-2 ns/op);
- `test-only-comment-only`   a patch that adds a comment and nothing else: the null.

The budget is scaled by 3/2 (three arms instead of two), so each candidate gets about the
processes a default two-arm run gives it. Counted per run, from summary.json:

- the spin patch: is each spawn-heavy ns/op row (Scheduler-2, FanOutFanIn-2, BurstSpawn-2)
  `worse`? (the issue asks for ≥ 4 of 5 runs);
- the comment-only patch: how many headline rows are flagged `better`/`worse` (asks: none,
  in 5 of 5 runs).

    python benchmarks/injected_slowdowns.py --seeds 1,2,3,4,5          # ≈ 13 min a seed
    python benchmarks/injected_slowdowns.py --reanalyze results/injected   # stats only

`--reanalyze` re-runs `stwbench report` on the runs already on disk (analysis is a pure
function of raw/), then counts again. Toolchains are built in `--mode source` by default
(seconds; the runtime is compiled from the patched source either way); `--mode make` runs
make.bash for each arm, like `nox -s bench` does.
"""

from __future__ import annotations

import argparse
import json
import runpy
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PATCHES = REPO / "tests" / "patches"
SPIN = "test-only-spawn-spin-5pct"
NULL = "test-only-comment-only"
SPAWN_HEAVY = ("Scheduler-2", "FanOutFanIn-2", "BurstSpawn-2")
ARMS = 3


def bench_args() -> list[str]:
    """`nox -s bench`'s own settings (noxfile.py BENCH_ARGS + ADAPTIVE_ARGS), minus the
    variant flags (the variants come from this script's TOML)."""
    noxfile = runpy.run_path(str(REPO / "noxfile.py"))
    args = [*noxfile["BENCH_ARGS"], *noxfile["ADAPTIVE_ARGS"]]
    drop = {"--go", "--patch"}
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in drop:
            skip = True
            continue
        kept.append(arg)
    return kept


def scaled_budget(args: list[str], factor: float) -> list[str]:
    out = list(args)
    if "--budget" in out:
        i = out.index("--budget") + 1
        out[i] = f"{float(out[i]) * factor:g}"
    return out


def write_config(path: Path, mode: str) -> Path:
    arms = [
        ("baseline", None),
        (SPIN, PATCHES / f"{SPIN}.patch"),
        (NULL, PATCHES / f"{NULL}.patch"),
    ]
    lines = []
    for name, patch in arms:
        lines += ["[[variant]]", f'name = "{name}"', 'go = "1.27.3"', f'mode = "{mode}"']
        if patch is not None:
            lines.append(f'patches = ["{patch}"]')
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def count(run_dir: Path) -> dict:
    summary = json.loads((run_dir / "summary.json").read_text())
    rows = summary["comparisons"]
    spin = {
        r["benchmark"]: r
        for r in rows
        if r["candidate"] == SPIN and r["metric"] == "ns/op" and r["benchmark"] in SPAWN_HEAVY
    }
    null_flagged = [
        f"{r['benchmark']} {r['metric']} {r['verdict']}"
        for r in rows
        if r["candidate"] == NULL
        and r["family"] == "headline"
        and r["verdict"] in ("better", "worse")
    ]
    null_headline = sum(1 for r in rows if r["candidate"] == NULL and r["family"] == "headline")
    reps = max((r["n_baseline"] for r in rows), default=0)
    return {
        "run": run_dir.name,
        "reps": reps,
        "spin": {
            b: (spin[b]["verdict"], spin[b]["ratio"], spin[b]["ci_low"], spin[b]["ci_high"])
            for b in SPAWN_HEAVY
            if b in spin
        },
        "null_flagged": null_flagged,
        "null_headline_rows": null_headline,
    }


def table(results: list[dict]) -> str:
    head = "| run | reps | " + " | ".join(f"{b} ns/op (spin)" for b in SPAWN_HEAVY)
    head += " | comment-only: flagged headline rows |"
    lines = [head, "|" + "---|" * (3 + len(SPAWN_HEAVY))]
    for r in results:
        cells = []
        for b in SPAWN_HEAVY:
            if b not in r["spin"]:
                cells.append("–")
                continue
            v, ratio, low, high = r["spin"][b]
            cells.append(
                f"{v} {100 * (ratio - 1):+.1f}% [{100 * (low - 1):+.1f}, {100 * (high - 1):+.1f}]"
            )
        flagged = f"{len(r['null_flagged'])} of {r['null_headline_rows']}"
        if r["null_flagged"]:
            flagged += " (" + "; ".join(r["null_flagged"]) + ")"
        lines.append(f"| {r['run']} | {r['reps']} | " + " | ".join(cells) + f" | {flagged} |")
    worse = {b: sum(r["spin"].get(b, ("",))[0] == "worse" for r in results) for b in SPAWN_HEAVY}
    clean = sum(not r["null_flagged"] for r in results)
    lines.append("")
    lines.append(
        "spin patch `worse` in: "
        + ", ".join(f"{b} {worse[b]}/{len(results)}" for b in SPAWN_HEAVY)
        + f"; comment-only patch clean (no headline row flagged) in {clean}/{len(results)} runs"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", default="1,2,3,4,5", help="comma list of run-order seeds")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "injected")
    parser.add_argument("--mode", choices=("source", "make"), default="source")
    parser.add_argument("--reanalyze", type=Path, metavar="DIR", help="count runs under DIR again")
    parser.add_argument("--md", type=Path, help="also write the table to this markdown file")
    args = parser.parse_args(argv)

    if args.reanalyze:
        runs = sorted(p.parent for p in args.reanalyze.glob("*/manifest.json"))
        for run in runs:
            subprocess.run(["stwbench", "report", str(run)], check=True, stdout=subprocess.DEVNULL)
    else:
        args.out.mkdir(parents=True, exist_ok=True)
        config = write_config(args.out / "variants.toml", args.mode)
        settings = scaled_budget(bench_args(), ARMS / 2)
        runs = []
        for seed in [int(s) for s in args.seeds.split(",") if s]:
            command = ["stwbench", "ab", "--config", str(config), *settings]
            command += ["--seed", str(seed), "--out", str(args.out)]
            print("$", " ".join(command), file=sys.stderr, flush=True)
            done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
            if done.returncode not in (0, 1, 3):
                print(f"seed {seed}: stwbench ab exited {done.returncode}", file=sys.stderr)
                return done.returncode
            runs.append(Path(done.stdout.strip().splitlines()[-1]).parent)
    results = [count(run) for run in runs]
    text = table(results)
    print(text)
    if args.md:
        args.md.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
