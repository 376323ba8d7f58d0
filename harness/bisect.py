"""Bisect a Go git history for the commit that changed one metric of one workload.

`stwbench bisect --go-git REPO --good G --bad B --workload W --metric M`:

1. **Verify the end points**: an interleaved A/B of G against B (the usual protocol:
   fresh processes, randomized blocks, paired statistics). Unless that row is `worse` or
   `better` and moves at least --threshold, there is nothing to bisect: it stops, says
   so, and exits 1.
2. **Bisect the first-parent history** G..B (`git rev-list --first-parent`): each step
   runs the midpoint M against both ends in one interleaved run (baseline = the
   midpoint) and sends the search to the side the midpoint resembles: the end whose
   paired ratio to the midpoint is closer to 1 (|log ratio| smaller). The culprit is the
   first commit on the bad side; ⌈log2(commits)⌉ steps after the verification.

Every step is an ordinary run directory under <bisect-dir>/steps/ with its own report;
bisect.json (the typed `BisectState`, saved after every step) makes it resumable
(`--resume <bisect-dir>`): a killed step's run resumes like any run, a finished step is
never re-run. The decision rules are pure functions of the comparisons (tested on
frames); the command (harness/commands/bisect.py) drives runs through harness.runs.
Like Chromium's Pinpoint, for the Go runtime.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from harness.files import atomic_write_text
from harness.rundir import RunOptions

STATE = "bisect.json"
SCHEMA = 1


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Commit(_Record):
    sha: str
    subject: str


class Evidence(_Record):
    """One compared end against the step's baseline (ratio = end ÷ baseline)."""

    variant: str
    commit: str
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    verdict: str
    n_pairs: int | None = None


class Step(_Record):
    kind: Literal["verify", "bisect"]
    run_dir: str
    commit: str  # the step's baseline: good (verify) or the midpoint
    lo: int  # search window (indexes into BisectState.commits) when the step started
    hi: int
    evidence: list[Evidence] = Field(default_factory=list)
    decision: str | None = None  # verify: "changed" / "no change"; bisect: "good" / "bad"
    processes: int = 0
    wall_s: float = 0.0


class BisectState(_Record):
    schema_: int = Field(SCHEMA, alias="schema")
    repo: str
    good: str  # the commit hashes the refs resolved to
    bad: str
    good_ref: str
    bad_ref: str
    workload: str
    metric: str
    threshold: float  # relative change the end points must show (0.05 = 5 %)
    commits: list[Commit]  # first-parent G..B, oldest first, B last (G not included)
    mode: Literal["make", "source"] = "make"
    bootstrap: str | None = None
    options: RunOptions  # every step's run options
    lo: int = -1  # index of the newest known-good commit (-1: G)
    hi: int = -1  # index of the oldest known-bad commit (set to len-1 at start)
    steps: list[Step] = Field(default_factory=list)
    culprit: Commit | None = None
    stopped: str | None = None  # why it ended without a culprit
    direction: Literal["worse", "better"] | None = None  # what B did to the metric

    model_config = ConfigDict(extra="forbid", validate_assignment=True, populate_by_name=True)

    def save(self, root: Path) -> None:
        atomic_write_text(root / STATE, self.model_dump_json(indent=2, by_alias=True) + "\n")

    @classmethod
    def load(cls, root: Path) -> BisectState:
        return cls.model_validate_json((root / STATE).read_text())

    def commit_at(self, index: int) -> str:
        return self.good if index < 0 else self.commits[index].sha

    @property
    def done(self) -> bool:
        return self.culprit is not None or self.stopped is not None

    def midpoint(self) -> int:
        return (self.lo + self.hi) // 2


def max_steps(commits: int) -> int:
    """Bisect steps after the verification: ⌈log2(commits)⌉."""
    return math.ceil(math.log2(commits)) if commits > 1 else 0


def metric_rows(comparisons: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The whole-process rows of `metric` (one per candidate)."""
    rows = comparisons[(comparisons["metric"] == metric) & (comparisons["phase"] == "all")]
    benchmarks = sorted(set(rows["benchmark"]))
    if len(benchmarks) > 1:
        raise ValueError(f"{metric}: rows of several benchmarks {benchmarks}; name one workload")
    return rows


def evidence_of(comparisons: pd.DataFrame, metric: str, variant: str, commit: str) -> Evidence:
    rows = metric_rows(comparisons, metric)
    mine = rows[rows["candidate"] == variant]
    if mine.empty:
        return Evidence(
            variant=variant, commit=commit, ratio=None, ci_low=None, ci_high=None,
            verdict="not measured",
        )  # fmt: skip
    row = mine.iloc[0]

    def number(value) -> float | None:
        return float(value) if value is not None and math.isfinite(float(value)) else None

    return Evidence(
        variant=variant,
        commit=commit,
        ratio=number(row["ratio"]),
        ci_low=number(row["ci_low"]),
        ci_high=number(row["ci_high"]),
        verdict=str(row["verdict"]),
        n_pairs=int(row["n_pairs"]) if "n_pairs" in row and pd.notna(row["n_pairs"]) else None,
    )


def endpoints_differ(bad: Evidence, threshold: float) -> tuple[bool, str]:
    """Whether the verification run shows a change worth bisecting, and why (not)."""
    if bad.verdict not in ("worse", "better") or bad.ratio is None:
        return False, f"the bad end's row is `{bad.verdict}`, not worse or better"
    if abs(bad.ratio - 1.0) < threshold:
        return False, f"it moved {bad.ratio - 1:+.1%}, less than the ±{threshold:.0%} asked for"
    return True, f"{bad.verdict}: ×{bad.ratio:.3g} ({bad.ratio - 1:+.1%})"


def resembles(good: Evidence, bad: Evidence) -> Literal["good", "bad"]:
    """Which end the midpoint (the step's baseline) is like: the one whose ratio to it is
    nearer 1 in log terms. A missing ratio counts as far (never chosen over a measured)."""

    def distance(e: Evidence) -> float:
        return abs(math.log(e.ratio)) if e.ratio and e.ratio > 0 else math.inf

    return "good" if distance(good) < distance(bad) else "bad"


def advance(state: BisectState, side: Literal["good", "bad"]) -> None:
    """Move the window after a step whose midpoint was `side`; name the culprit when the
    window holds one commit."""
    mid = state.midpoint()
    if side == "good":
        state.lo = mid
    else:
        state.hi = mid
    if state.hi - state.lo <= 1:
        state.culprit = state.commits[state.hi]


def summary(state: BisectState, wall_s: float) -> str:
    """bisect.md: the answer, the evidence of every step, what it cost."""
    lines = [f"# stwbench bisect: {state.workload} {state.metric}", ""]
    lines.append(
        f"{state.repo}: good {state.good_ref} ({state.good[:12]}) .. bad {state.bad_ref} "
        f"({state.bad[:12]}), {len(state.commits)} first-parent commits"
    )
    lines.append("")
    if state.culprit is not None:
        lines.append(
            f"**First bad commit: {state.culprit.sha[:12]} {state.culprit.subject}** "
            f"(the metric went {state.direction} at it)"
        )
    else:
        lines.append(f"**No culprit**: {state.stopped or 'not finished (--resume)'}")
    lines += [
        "",
        "| step | kind | baseline | window | compared | ratio (95 % CI) | verdict | decision |",
    ]
    lines.append("|---|---|---|---|---|---|---|---|")
    for number, step in enumerate(state.steps, 1):
        window = f"{state.commit_at(step.lo)[:8]}..{state.commit_at(step.hi)[:8]}"
        for e in step.evidence or [None]:
            compared = "–" if e is None else f"{e.variant}"
            ratio = "–" if e is None or e.ratio is None else _ci(e)
            verdict = "–" if e is None else e.verdict
            lines.append(
                f"| {number} | {step.kind} | {step.commit[:10]} | {window} | {compared} | "
                f"{ratio} | {verdict} | {step.decision or 'running'} |"
            )
    built = {state.good, state.bad} | {s.commit for s in state.steps}
    processes = sum(s.processes for s in state.steps)
    lines += [
        "",
        f"Cost: {len(state.steps)} steps ({len(state.steps) - 1} after the verification; at "
        f"most {max_steps(len(state.commits))}), {len(built)} commits built, {processes} "
        f"processes, {sum(s.wall_s for s in state.steps):.0f} s in steps, {wall_s:.0f} s "
        "this session.",
        "",
        "Each step's run directory (report.html, summary.json):",
        *[f"- {n}. {s.run_dir}" for n, s in enumerate(state.steps, 1)],
        "",
    ]
    return "\n".join(lines)


def _ci(e: Evidence) -> str:
    text = f"×{e.ratio:.3g}"
    if e.ci_low is not None and e.ci_high is not None:
        text += f" ({e.ci_low:.3g}–{e.ci_high:.3g})"
    return text
