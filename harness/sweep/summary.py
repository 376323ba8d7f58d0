"""A sweep's answer, from one interleaved run's per-process values and comparison rows.

For each point (and the knobs-off control), against the unpatched baseline:

- **gain**: mark-phase goroutine start latency p99, the geometric mean ratio over the
  probe scenarios (block by block: `harness.stats.geomean_ratio`), with each scenario's
  mark-phase and after-sweep-termination p99 rows beside it (the known cost of runnext
  first is the latter);
- **cost**: ns/op, the geometric mean ratio over every throughput workload, with its CI;
  GC CPU (gc-mark-cpu-%) and mark-phase duration (mark-phase-mean-ms) the same way;
- its ns/op rows: their verdicts, and whether each row's CI lies inside the metric's
  equivalence margin (±2 %, harness/metrics.py). "Costs nothing" is that, not the
  verdict `same`: a significant +0.3 % is `worse` and still inside the margin.

Then the Pareto front of (gain, cost) among the baseline and the points; the knobs-off
control's isolation check (every headline row `same` as the baseline: the knob is the only
difference); and the answer to "which point keeps ≥ keep_fraction of the reference
design's mark-phase gain with every ns/op row shown equivalent?". The kept fraction is
on the latency itself: (1 − r_point) / (1 − r_reference), r the gain ratio.
"""

from __future__ import annotations

import math

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from harness.rundir import godebug_text
from harness.stats import PairedResult, geomean_ratio, per_process_values, within
from harness.sweep.front import pareto_front
from harness.sweep.plan import BASELINE, CONTROL, SweepPlan

RESULT_SCHEMA = 1
LATENCY = "start-latency-p99-ns"
MARK, AFTER_SWEEP = "mark", "after-sweep-term"
COST_METRIC, GC_CPU, MARK_MS = "ns/op", "gc-mark-cpu-%", "mark-phase-mean-ms"


class Ratio(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ratio: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = 0  # blocks (geometric means) or pairs (rows)
    verdict: str = ""  # rows only

    @classmethod
    def of(cls, result: PairedResult | None) -> Ratio:
        if result is None or not math.isfinite(result.ratio):
            return cls()
        return cls(
            ratio=result.ratio,
            ci_low=_finite(result.ci_low),
            ci_high=_finite(result.ci_high),
            n=result.n_pairs,
        )


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


class Candidate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    godebug: str
    gain: Ratio  # mark-phase p99, geomean over scenarios
    after_sweep: Ratio  # after-sweep-termination p99, geomean over scenarios
    scenarios: dict[str, dict[str, Ratio]]  # scenario -> {mark, after-sweep-term}
    cost: Ratio  # ns/op geomean
    gc_cpu: Ratio
    mark_duration: Ratio
    ns_op_verdicts: dict[str, int]
    ns_op_outside: list[str]  # rows whose CI is not inside ±margin: "Scheduler-2 …"
    on_front: bool = False
    kept: float | None = None  # fraction of the reference's mark-phase gain kept
    meets: bool = False
    why_not: list[str] = Field(default_factory=list)


class Isolation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: int
    same: int
    not_same: list[str]  # "Scheduler-2 ns/op: inconclusive +0.4 % [-2.5, +3.3]"

    @property
    def established(self) -> bool:
        return self.rows > 0 and self.same == self.rows


class SweepResult(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: int = Field(default=RESULT_SCHEMA, alias="schema")
    run_id: str
    reference: str
    keep_fraction: float
    scenarios: list[str]
    throughput: list[str]
    control: Candidate
    isolation: Isolation
    points: list[Candidate]
    front: list[str]  # baseline and/or point names
    answer: str

    def to_json(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)


def _pct(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{(ratio - 1) * 100:+.1f} %"


def _row_text(row: pd.Series) -> str:
    ci = ""
    if pd.notna(row.ci_low) and pd.notna(row.ci_high):
        ci = f" [{(row.ci_low - 1) * 100:+.1f}, {(row.ci_high - 1) * 100:+.1f}]"
    phase = "" if row.phase in ("all", None) else f" ({row.phase})"
    return f"{row.benchmark} {row.metric}{phase}: {row.verdict} {_pct(row.ratio)}{ci}"


def _row_ratio(rows: pd.DataFrame) -> Ratio:
    if rows.empty:
        return Ratio()
    row = rows.iloc[0]
    return Ratio(
        ratio=_finite(row.ratio),
        ci_low=_finite(row.ci_low),
        ci_high=_finite(row.ci_high),
        n=int(row.n_pairs),
        verdict=str(row.verdict),
    )


def summarize_sweep(
    plan: SweepPlan, run_id: str, samples: pd.DataFrame, comparisons: pd.DataFrame
) -> SweepResult:
    values = per_process_values(samples)
    values["row"] = list(zip(values.benchmark, values.metric, values.phase, strict=True))
    latency = values[(values.metric == LATENCY)]
    scenarios = sorted(latency[latency.phase == MARK].benchmark.unique())
    throughput = sorted(values[(values.metric == COST_METRIC)].benchmark.unique())

    def rows(metric: str, benchmarks: list[str], phase: str = "all") -> list[tuple]:
        return [(b, metric, phase) for b in benchmarks]

    def candidate(name: str, godebug: str) -> Candidate:
        mine = comparisons[comparisons.candidate == name]

        def ratio(metric: str, benchmarks: list[str], phase: str = "all") -> Ratio:
            return Ratio.of(geomean_ratio(values, BASELINE, name, rows(metric, benchmarks, phase)))

        ns_op = mine[(mine.metric == COST_METRIC) & (mine.phase == "all")]
        per_scenario = {
            s: {
                phase: _row_ratio(
                    mine[(mine.benchmark == s) & (mine.metric == LATENCY) & (mine.phase == phase)]
                )
                for phase in (MARK, AFTER_SWEEP)
            }
            for s in scenarios
        }
        return Candidate(
            name=name,
            godebug=godebug,
            gain=ratio(LATENCY, scenarios, MARK),
            after_sweep=ratio(LATENCY, scenarios, AFTER_SWEEP),
            scenarios=per_scenario,
            cost=ratio(COST_METRIC, throughput),
            gc_cpu=ratio(GC_CPU, throughput),
            mark_duration=ratio(MARK_MS, throughput),
            ns_op_verdicts={str(k): int(v) for k, v in ns_op.verdict.value_counts().items()},
            ns_op_outside=[
                _row_text(r)
                for r in ns_op.itertuples()
                if r.verdict == "unreliable" or not within(r.ci_low, r.ci_high, r.equivalence)
            ],
        )

    godebug = {p.name: godebug_text(p.godebug) for p in plan.points}
    control = candidate(CONTROL, "")
    points = [candidate(p.name, godebug[p.name]) for p in plan.points]

    mine = comparisons[(comparisons.candidate == CONTROL) & (comparisons.family == "headline")]
    isolation = Isolation(
        rows=len(mine),
        same=int((mine.verdict == "same").sum()),
        not_same=[_row_text(r) for r in mine.itertuples() if r.verdict != "same"],
    )

    coords = {BASELINE: (1.0, 1.0)}
    for c in points:
        coords[c.name] = (c.gain.ratio or math.nan, c.cost.ratio or math.nan)
    front = pareto_front(coords)
    for c in points:
        c.on_front = c.name in front
    _judge(plan, points)
    order = [BASELINE] + [c.name for c in points]
    return SweepResult(
        run_id=run_id,
        reference=plan.reference_point,
        keep_fraction=plan.keep_fraction,
        scenarios=scenarios,
        throughput=throughput,
        control=control,
        isolation=isolation,
        points=points,
        front=[n for n in order if n in front],
        answer=_answer(plan, points, isolation),
    )


def _judge(plan: SweepPlan, points: list[Candidate]) -> None:
    reference = next(c for c in points if c.name == plan.reference_point)
    r_ref = reference.gain.ratio
    for c in points:
        reasons = []
        if r_ref is None or c.gain.ratio is None:
            reasons.append("no mark-phase latency measured (no probe scenario with mark rows)")
        elif r_ref >= 1:
            reasons.append("latency: the reference has no gain to keep")
        else:
            c.kept = (1 - c.gain.ratio) / (1 - r_ref)
            if c.kept < plan.keep_fraction:
                reasons.append(
                    f"latency: keeps {c.kept * 100:.0f} % of {reference.name}'s mark-phase "
                    f"gain (< {plan.keep_fraction * 100:.0f} %)"
                )
        if not c.ns_op_verdicts:
            reasons.append("cost: no ns/op rows")
        elif c.ns_op_outside:
            worse = sum(1 for t in c.ns_op_outside if ": worse " in t)
            why = (
                f"{worse} worse"
                if worse
                else "none worse: their CIs are wider than the margin, more reps would tell"
            )
            reasons.append(
                f"cost: {len(c.ns_op_outside)} of {sum(c.ns_op_verdicts.values())} ns/op rows "
                f"not shown inside the equivalence margin ({why})"
            )
        c.why_not = reasons
        c.meets = not reasons


def _answer(plan: SweepPlan, points: list[Candidate], isolation: Isolation) -> str:
    keep = f"{plan.keep_fraction * 100:.0f} %"
    lead = (
        ""
        if isolation.established
        else f"(Caution: knobs-off is not shown `same` as the baseline on "
        f"{len(isolation.not_same)} of {isolation.rows} headline rows.) "
    )
    winners = [c for c in points if c.meets]
    if winners:
        names = ", ".join(
            f"{c.name} (keeps {c.kept * 100:.0f} %, ns/op {_pct(c.cost.ratio)})" for c in winners
        )
        return (
            f"{lead}Yes: {names} keep(s) ≥ {keep} of {plan.reference_point}'s mark-phase "
            f"latency gain with every ns/op row inside the equivalence margin."
        )
    reference = next(c for c in points if c.name == plan.reference_point)
    r_ref = reference.gain.ratio
    if r_ref is not None and r_ref >= 1:
        lead += (
            f"The reference {reference.name} shows no mark-phase latency gain on this run "
            f"(p99 {_pct(r_ref)}, 95 % CI {_pct(reference.gain.ci_low)} … "
            f"{_pct(reference.gain.ci_high)}): there is no gain to keep; more reps, or the "
            "probe scenarios of the default suite, would tell. "
        )
    binding = []
    for c in points:
        binding.append(f"{c.name}: " + "; ".join(c.why_not))
    return (
        f"{lead}No point keeps ≥ {keep} of {plan.reference_point}'s mark-phase latency gain "
        f"with every ns/op row inside the equivalence margin. " + " | ".join(binding)
    )
