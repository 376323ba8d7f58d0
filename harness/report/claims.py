"""The original article's claims (../shared/BACKGROUND.md), checked against this run.

One function per claim, each taking the tables / comparisons it needs and returning a
`Claim`: what the article said, what this run measured (numbers, and which variant),
a verdict, and the command that reruns exactly the measurement. Verdicts:

- `holds`: the measurement agrees with the claim;
- `refuted`: the measurement contradicts it;
- `partly`: part of it agrees (e.g. the effect exists but not its size or its cause);
- `not measured`: this run lacks the data (the text says which flag or workload adds
  it), or the data cannot decide (too few processes, a CI too wide).

The thresholds are written next to each check; they are deliberately coarse (an order
of magnitude, the article's own ranges), since the article gives single numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.parse.trace_tables import ALL_SYMBOLS
from harness.report.stw_views import CPU_CLOCK, first_after_stw, phase_table
from harness.report.units import format_value
from harness.report.verdicts import sample_size

HOLDS, REFUTED, PARTLY, NOT_MEASURED = "holds", "refuted", "partly", "not measured"
# Comparison verdicts (harness/stats) that decide nothing by themselves: not significant.
# Their CI still can: one that excludes the claimed effect refutes it.
NOT_SIGNIFICANT = ("same", "inconclusive", "underpowered")
ARTICLE_SCHEDULER_RATIO = 957 / 1284  # 1284 → 957 ns/op, "−25.5 %"
BURST_SPAWNS_PER_OP = 1024  # go_workloads: BenchmarkBurstSpawn spawns 1024 per op


@dataclass(frozen=True)
class Claim:
    source: str  # "article 1", "BACKGROUND", …
    claim: str
    measured: str
    verdict: str
    rerun: str


@dataclass
class ClaimInputs:
    frames: dict[str, pd.DataFrame]
    comparisons: pd.DataFrame
    manifest: dict
    baseline: str | None
    variants: list[str]

    @property
    def candidate(self) -> str | None:
        others = [v for v in self.variants if v != self.baseline and not v.endswith("-aa")]
        return others[-1] if others else None


def rerun_command(manifest: dict, workloads: str, *flags: str) -> str:
    """`stwbench ab` with this run's Go, patches and build mode, for these workloads."""
    variants = manifest.get("variants") or []
    base = variants[0] if variants else {}
    parts = ["stwbench ab"]
    if base.get("go"):
        parts.append(f"--go {base['go']}")
    elif base.get("goroot"):
        parts.append(f"--goroot {base['goroot']}")
    else:
        parts.append("--go 1.27.3")
    patches = next((v.get("patches") for v in reversed(variants) if v.get("patches")), None)
    for patch in patches or ["patches/runqget-priority.patch"]:
        parts.append(f"--patch {patch}")
    if base.get("mode") and base["mode"] != "make":
        parts.append(f"--mode {base['mode']}")
    parts.append(f"--workloads {workloads}")
    parts.extend(flags)
    return " ".join(parts)


def _us(ns: float) -> str:
    return format_value(ns, "ns")


def _phases(inputs: ClaimInputs, variant: str | None) -> dict[str, dict]:
    if variant is None:
        return {}
    return {
        row["phase"]: row
        for row in phase_table(inputs.frames["latency"], [variant])
        if row["n"] > 0
    }


def _watched(
    perf_stacks: pd.DataFrame, variant: str | None, workload: str, symbol: str
) -> float | None:
    """Mean inclusive % of cpu-clock samples of a watched symbol, or None (no perf)."""
    rows = perf_stacks[
        (perf_stacks["variant"] == variant)
        & (perf_stacks["workload"] == workload)
        & (perf_stacks["event"] == CPU_CLOCK)
        & (perf_stacks["total_samples"] > 0)
    ]
    mine = rows[rows["symbol"] == symbol]
    if rows[rows["symbol"] == ALL_SYMBOLS].empty or mine.empty:
        return None
    return float((100.0 * mine["samples"] / mine["total_samples"]).mean())


def _comparison(
    comparisons: pd.DataFrame, benchmark_prefix: str, metric: str, phase: str
) -> pd.Series | None:
    if comparisons.empty:
        return None
    rows = comparisons[
        comparisons["benchmark"].astype(str).str.startswith(benchmark_prefix)
        & (comparisons["metric"] == metric)
        & (comparisons["phase"] == phase)
        & ~comparisons["candidate"].astype(str).str.endswith("-aa")
    ]
    if "family" in rows:
        rows = rows[rows["family"] != "aa"]  # the A/A arm is never a candidate
    return None if rows.empty else rows.iloc[0]


def _change(row: pd.Series) -> str:
    """ "−63.5% [95% CI −96.3%, −37.9%], p 0.008, q 0.26" (q: BH within the row's family;
    none for a row that could not be tested to α, "underpowered")."""
    ratio, low, high = (float(row[k]) for k in ("ratio", "ci_low", "ci_high"))
    text = f"{(ratio - 1) * 100:+.1f}%" if math.isfinite(ratio) else "–"
    if math.isfinite(low) and math.isfinite(high):
        text += f" [95% CI {(low - 1) * 100:+.1f}%, {(high - 1) * 100:+.1f}%]"
    for name in ("p_value", "q_value"):
        value = float(row.get(name, math.nan))
        if math.isfinite(value):
            text += f", {name[0]} {value:.2g}"
    return text


# --- the claims ---------------------------------------------------------------------


def claim_first_goroutine_after_stw(inputs: ClaimInputs) -> Claim:
    """Article 1: after STW the first `go f()` starts 50–200 µs later than usual
    (normal ≈ 0.3 µs, right after STW ≈ 80 µs).

    holds: the first probe goroutine after a sweep-termination STW takes ≥ 50 µs at the
    median (and ≥ 10× the outside-GC median); partly: typical first goroutines are fast
    but the after-STW / mark-phase p99 reaches 50 µs; refuted: neither."""
    claim = (
        "After a GC stop-the-world the first goroutine started with `go f()` starts "
        "50–200 µs later than usual (normal ≈ 0.3 µs, right after STW ≈ 80 µs)."
    )
    rerun = rerun_command(inputs.manifest, "probe", "--trace")
    base = inputs.baseline
    phases = _phases(inputs, base)
    first = first_after_stw(inputs.frames["trace_goroutines"])
    first = first[first["variant"] == base]
    if not phases or first.empty:
        return Claim(
            "article 1",
            claim,
            "No execution trace of the probe in this run (add --trace).",
            NOT_MEASURED,
            rerun,
        )
    normal = phases.get("outside-gc", {}).get("p50", math.nan)
    lat = first["latency_ns"].to_numpy(dtype=float)
    first_p50, first_p90 = float(np.median(lat)), float(np.percentile(lat, 90))
    after = phases.get("after-sweep-term", {})
    mark = phases.get("mark", {})
    tail = max(after.get("p99", 0.0), mark.get("p99", 0.0))
    measured = (
        f"{base}: outside GC p50 {_us(normal)}; the first probe goroutine created after "
        f"each sweep-termination STW ({len(lat)} STWs): p50 {_us(first_p50)}, "
        f"p90 {_us(first_p90)}; created within {_after_us(inputs)} µs of the STW: "
        f"p50 {_us(after.get('p50', math.nan))}, p99 {_us(after.get('p99', math.nan))} "
        f"(n={int(after.get('n', 0))}); mark phase p99 {_us(mark.get('p99', math.nan))}."
    )
    if first_p50 >= 50_000 and (not math.isfinite(normal) or first_p50 >= 10 * normal):
        verdict = HOLDS
    elif tail >= 50_000:
        verdict = PARTLY
        measured += " The delay is real but in the tail, not for the typical first goroutine."
    else:
        verdict = REFUTED
    return Claim("article 1", claim, measured, verdict, rerun)


def claim_runqputslow_mechanism(inputs: ClaimInputs) -> Claim:
    """Articles 1–2: the slow start goes through runqput → runqputslow → runqgrow because
    STW clears every P's run queue and runnext.

    refuted: with perf, `runqgrow` never appears (no Go has it) and runqputslow is
    < 1 % of the probe's cpu-clock samples; partly: runqputslow ≥ 1 %; the trace part
    (what the restarted Ps ran first) is reported either way."""
    claim = (
        "The cause: STW clears every P's local run queue and `runnext`, so `runqput` takes "
        "the slow path `runqputslow → runqgrow` (grow the queue, memmove)."
    )
    rerun = rerun_command(inputs.manifest, "probe", "--trace", "--perf")
    base = inputs.baseline
    stw = inputs.frames["trace_stw"]
    trace_text = ""
    if not stw.empty:
        rows = stw[(stw["variant"] == base) & (stw["kind"] == "sweep-term") & ~stw["continued"]]
        if len(rows):
            workers = float((rows["ran"] == "gc-worker").mean())
            probe = float((rows["ran"] == "probe").mean())
            trace_text = (
                f" Trace ({base}): after {rows[['rep', 'stw']].drop_duplicates().shape[0]} "
                f"sweep-termination STWs the restarted Ps ran a GC mark worker first in "
                f"{workers:.0%} of cases, a probe goroutine in {probe:.0%}."
            )
    slow = _watched(inputs.frames["perf_stacks"], base, "probe", "runtime.runqputslow")
    grow = _watched(inputs.frames["perf_stacks"], base, "probe", "runtime.runqgrow")
    if slow is None:
        return Claim(
            "article 1–2",
            claim,
            "No perf profile of the probe (add --perf)." + trace_text,
            NOT_MEASURED,
            rerun,
        )
    measured = (
        f"perf cpu-clock ({base}, probe): runqputslow in {slow:.2f}% of samples "
        f"(inclusive), runqgrow in {grow or 0:.2f}% (no Go release has a runqgrow; the "
        f"local run queue is a fixed 256-slot ring)." + trace_text
    )
    verdict = REFUTED if slow < 1.0 and not grow else PARTLY
    return Claim("article 1–2", claim, measured, verdict, rerun)


def claim_runqput_costs(inputs: ClaimInputs) -> Claim:
    """Article 3: runqput ≈ 2 ns vs runqputslow ≈ 80 ns; starved Ps after a forced GC
    push new goroutines through the global queue and its lock.

    Sampling cannot time single calls, so at best `partly`: BurstSpawn (1024 spawns per
    op, 4× the local ring) shows how much of the spawn path runqputslow and the global
    queue take, and what one spawn costs all-in; `not measured` without BurstSpawn."""
    claim = (
        "`runqput` ≈ 2 ns vs `runqputslow` ≈ 80 ns; when Ps are starved after a forced GC, "
        "new goroutines go through the global queue and contend on its lock."
    )
    rerun = rerun_command(inputs.manifest, "BurstSpawn", "--perf")
    base = inputs.baseline
    samples = inputs.frames["samples"]
    ns = samples[
        (samples["variant"] == base)
        & samples["benchmark"].astype(str).str.startswith("BurstSpawn")
        & (samples["metric"] == "ns/op")
    ]["value"]
    if ns.empty:
        return Claim(
            "article 3",
            claim,
            "BurstSpawn did not run (add it to --workloads).",
            NOT_MEASURED,
            rerun,
        )
    per_spawn = float(ns.median()) / BURST_SPAWNS_PER_OP
    measured = (
        f"BurstSpawn ({base}): {per_spawn:,.0f} ns per spawned goroutine all-in "
        f"(ns/op ÷ {BURST_SPAWNS_PER_OP}: newproc, queueing, stealing, running, GC)."
    )
    perf = inputs.frames["perf_stacks"]
    shares = {
        s: _watched(perf, base, "BurstSpawn", f"runtime.{s}")
        for s in ("runqput", "runqputslow", "globrunqget*", "lock2")
    }
    if shares["runqputslow"] is None:
        return Claim(
            "article 3",
            claim,
            measured + " No perf profile of BurstSpawn (add --perf): per-call costs not measured.",
            NOT_MEASURED,
            rerun,
        )
    measured += (
        " perf cpu-clock (inclusive): "
        + ", ".join(f"{s} {v:.1f}%" for s, v in shares.items() if v is not None)
        + ". Single-call times are below what sampling resolves; the slow path exists and "
        "is taken when 256 local slots overflow, not after every STW."
    )
    return Claim("article 3", claim, measured, PARTLY, rerun)


def claim_observability(inputs: ClaimInputs) -> Claim:
    """Article 4: observe it with schedtrace/scheddetail and perf sched_switch.

    partly when either tool ran: they run, but schedtrace's per-P queue lengths exclude
    runnext and are sampled every 100 ms, and sched_switch counts OS thread switches;
    the numbers say what each showed. not measured when neither ran."""
    claim = (
        "Observe it with `GODEBUG=schedtrace=1000,scheddetail=1` and "
        "`perf record -e sched:sched_switch -g`."
    )
    rerun = rerun_command(
        inputs.manifest, "probe", "--trace", "--perf", "--schedtrace", "--scheddetail"
    )
    base = inputs.baseline
    sched = inputs.frames["sched"]
    perf = inputs.frames["perf_stacks"]
    parts = []
    mine = sched[(sched["variant"] == base) & sched["p"].notna()]
    if len(mine):
        zero = float((mine["p_runqsize"].astype(float) == 0).mean())
        parts.append(
            f"schedtrace ({base}): {len(mine)} per-P samples, the local run queue was "
            f"empty in {zero:.0%} of them (runnext is not counted, samples are 100 ms apart)"
        )
    switches = perf[
        (perf["variant"] == base)
        & (perf["event"] == "sched:sched_switch")
        & (perf["symbol"] == ALL_SYMBOLS)
        & (perf["duration_s"] > 0)
    ]
    if len(switches):
        rate = float((switches["total_samples"] / switches["duration_s"]).median())
        parts.append(
            f"perf sched_switch ({base}): {rate:,.0f} OS thread switches/s "
            "(goroutine switches on a P are invisible to it)"
        )
    if not parts:
        return Claim(
            "article 4",
            claim,
            "Neither schedtrace nor perf ran (add --schedtrace/--scheddetail, --perf).",
            NOT_MEASURED,
            rerun,
        )
    mark = _phases(inputs, base).get("mark")
    if mark:
        parts.append(
            f"the execution trace attributes the latency instead: mark-phase p99 {_us(mark['p99'])}"
        )
    return Claim("article 4", claim, "; ".join(parts) + ".", PARTLY, rerun)


def claim_scheduler_speedup(inputs: ClaimInputs) -> Claim:
    """Article 5: the patch gives 1284 → 957 ns/op (−25.5 %) on BenchmarkScheduler.

    holds: our Scheduler row is `better` and its CI contains the article's ratio;
    partly: `better` but the CI excludes it; refuted: not `better` (`worse`, `same`,
    `inconclusive`, `underpowered`) and the CI's low end is above the article's ratio;
    not measured: no row, unreliable, or a CI wide enough to contain the claim without
    a significant improvement (an `inconclusive` or `underpowered` row: more reps)."""
    claim = (
        "The runqget-priority patch gives 1284 → 957 ns/op (−25.5 %) on "
        "BenchmarkScheduler (GOMAXPROCS=4, -count=5)."
    )
    rerun = rerun_command(inputs.manifest, "Scheduler", "--reps 10")
    row = _comparison(inputs.comparisons, "Scheduler", "ns/op", "all")
    if row is None:
        return Claim(
            "article 5",
            claim,
            "Scheduler did not run (add it to --workloads).",
            NOT_MEASURED,
            rerun,
        )
    measured = (
        f"{row['benchmark']} ns/op, {row['candidate']} vs {row['baseline']}: "
        f"{_change(row)}, verdict {row['verdict']} (n={_n(row)}; stwbench's own "
        f"BenchmarkScheduler, GOMAXPROCS from the run)."
    )
    low, high, verdict = float(row["ci_low"]), float(row["ci_high"]), str(row["verdict"])
    r0 = ARTICLE_SCHEDULER_RATIO
    if verdict == "unreliable" or not (math.isfinite(low) and math.isfinite(high)):
        result = NOT_MEASURED
    elif verdict == "better":
        result = HOLDS if low <= r0 <= high else PARTLY
    elif low > r0:
        result = REFUTED
    else:
        result = NOT_MEASURED
        measured += " The CI is too wide to decide" + (
            " (the test cannot reach significance at this n: more reps)."
            if verdict == "underpowered"
            else "."
        )
    return Claim("article 5", claim, measured, result, rerun)


def claim_mitigation(inputs: ClaimInputs) -> Claim:
    """Article 6: allocate less, or debug.SetGCPercent(-1) while debugging.

    Not run with GC off; partly when the trace shows the tail belongs to GC phases
    (mark or after-STW p99 ≥ 10× the outside-GC p99); else not measured."""
    claim = "Mitigation: allocate less, or `debug.SetGCPercent(-1)` while debugging."
    rerun = rerun_command(inputs.manifest, "probe", "--trace")
    base = inputs.baseline
    phases = _phases(inputs, base)
    if "outside-gc" not in phases:
        return Claim(
            "article 6",
            claim,
            "No execution trace of the probe (add --trace); no run with GC off.",
            NOT_MEASURED,
            rerun,
        )
    outside = phases["outside-gc"]["p99"]
    gc_tail = max(phases.get(p, {}).get("p99", 0.0) for p in ("mark", "after-sweep-term"))
    measured = (
        f"{base}: goroutines created while no GC ran: p99 {_us(outside)}; during the mark "
        f"phase or right after sweep termination: p99 {_us(gc_tail)}. No run here had GC "
        "off; with fewer GC cycles fewer goroutines fall into the slow phases."
    )
    verdict = PARTLY if outside > 0 and gc_tail >= 10 * outside else NOT_MEASURED
    return Claim("article 6", claim, measured, verdict, rerun)


def claim_patch_mark_latency(inputs: ClaimInputs) -> Claim:
    """BACKGROUND.md: running runnext before the GC worker cuts mark-phase start latency
    (p99 294 µs → 2.9 µs on 2 cores).

    holds: the mark-phase p99 row is `better`; refuted: `worse`, or not significant
    (`same`, `inconclusive`, `underpowered`) with a CI that excludes even halving; not
    measured: no trace rows, unreliable, or a CI wide enough to hold the claim."""
    claim = (
        "(this project) Letting a P run the goroutine in `runnext` before a GC mark worker "
        "cuts mark-phase start latency (p99 294 µs → 2.9 µs, 2 cores, Go 1.27.3)."
    )
    rerun = rerun_command(inputs.manifest, "probe", "--trace", "--reps 10")
    row = _comparison(inputs.comparisons, "probe", "start-latency-p99-ns", "mark")
    if row is None:
        return Claim(
            "BACKGROUND",
            claim,
            "No mark-phase comparison row (run the probe with --trace and a candidate).",
            NOT_MEASURED,
            rerun,
        )
    measured = (
        f"mark-phase start-latency p99, {row['candidate']} vs {row['baseline']}: "
        f"{format_value(row['baseline_median'], 'ns')} → "
        f"{format_value(row['candidate_median'], 'ns')} (medians over processes), "
        f"{_change(row)}, verdict {row['verdict']} (n={_n(row)})."
    )
    after = _comparison(inputs.comparisons, "probe", "start-latency-p99-ns", "after-sweep-term")
    if after is not None:
        measured += f" After sweep termination: {_change(after)}, {after['verdict']}."
    verdict, low = str(row["verdict"]), float(row["ci_low"])
    if verdict == "better":
        result = HOLDS
    elif verdict == "worse" or (verdict in NOT_SIGNIFICANT and math.isfinite(low) and low > 0.5):
        result = REFUTED
    else:
        result = NOT_MEASURED
    return Claim("BACKGROUND", claim, measured, result, rerun)


CHECKS: tuple[Callable[[ClaimInputs], Claim], ...] = (
    claim_first_goroutine_after_stw,
    claim_runqputslow_mechanism,
    claim_runqput_costs,
    claim_observability,
    claim_scheduler_speedup,
    claim_mitigation,
    claim_patch_mark_latency,
)


def check_claims(inputs: ClaimInputs) -> list[Claim]:
    return [check(inputs) for check in CHECKS]


def _after_us(inputs: ClaimInputs) -> str:
    value = (inputs.manifest.get("options") or {}).get("trace_after_stw_us", 100.0)
    return f"{float(value):g}"


def _n(row: pd.Series) -> str:
    """ "5 pairs" (paired by block) or "5/4" processes, as in the verdicts table."""
    return sample_size(row)
