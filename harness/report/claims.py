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
of magnitude, the article's own ranges), since the article gives single numbers. No
verdict is fixed: each check can give each of the four from data, and
tests/test_claims.py holds data for every one of them.

An optional section of the report: only a run whose manifest asks for it
(`options.claims`) gets one (`report_claims`); otherwise nothing here is computed. The
claims judge one candidate against the run's baseline: the first of the manifest's
candidates that is not the A/A arm (`judged_candidate`); the section names it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from harness.metrics import AA_FAMILY
from harness.parse import ALL_SYMBOLS
from harness.report.stw_views import CPU_CLOCK, first_after_stw, phase_table
from harness.report.units import format_value
from harness.report.verdicts import sample_size
from harness.rundir import Manifest
from harness.stats import MIN_PAIRS, PairedResult, paired_log_test, rank_sum

HOLDS, REFUTED, PARTLY, NOT_MEASURED = "holds", "refuted", "partly", "not measured"
# Comparison verdicts (harness/stats) that decide nothing by themselves: not significant.
# Their CI still can: one that excludes the claimed effect refutes it.
NOT_SIGNIFICANT = ("same", "inconclusive", "underpowered")
ARTICLE_SCHEDULER_RATIO = 957 / 1284  # 1284 → 957 ns/op, "−25.5 %"
ARTICLE_SCHEDULER_PROCS = 4  # the article ran GOMAXPROCS=4: Go names the row Scheduler-4
ALPHA = 0.05  # the significance level of the tests run here (as harness/stats')
PROBE = "probe"  # the sleep-creator probe every trace-based claim reads
PROBE_GCOFF = "probe-gcoff"  # the same probe with GOGC=off (harness/runs/workloads.py)

# Article 3. BenchmarkBurstSpawn (go_workloads/sched_test.go) spawns 1024 goroutines per
# op from one goroutine that never blocks meanwhile. Without stealing: spawn 1 goes to
# runnext, spawns 2–257 push the previous runnext into the 256-slot ring, and spawn 258
# finds it full, so runqputslow moves half the ring plus the kicked goroutine (129) to
# the global queue; every 129 spawns after that it overflows again. That is 6 calls per
# op moving 774 goroutines (exact at GOMAXPROCS=1; an idle P stealing from the ring makes
# overflows rarer, so per-call figures derived from 6 calls are lower bounds).
BURST_SPAWNS_PER_OP = 1024
RUNQ_SLOTS = 256
SLOW_BATCH = RUNQ_SLOTS // 2 + 1
FIRST_OVERFLOW = RUNQ_SLOTS + 2
SLOW_CALLS_PER_OP = (BURST_SPAWNS_PER_OP - FIRST_OVERFLOW) // SLOW_BATCH + 1
ARTICLE_SLOW_NS, ARTICLE_FAST_NS = 80.0, 2.0
ORDER = 10.0  # "the article's order of magnitude": within ×10 either way of its number
# Fewer runqputslow samples than this (all baseline processes together) and the share is
# mostly sampling noise: only an upper bound is used then.
MIN_SYMBOL_SAMPLES = 10

# Article 4: a tool "separates" the variants when its per-process figure differs between
# them by the rank-sum test at ALPHA and by at least this much (smaller, significant
# shifts are not what one would read off schedtrace lines or a perf summary).
MIN_RUNQ_FRACTION_SHIFT = 0.10  # non-empty per-P queue samples: ≥ 10 percentage points
MIN_SWITCH_RATE_RATIO = 1.25  # sched_switch/s: ratio of medians ≥ 1.25 or ≤ 1/1.25

# BACKGROUND: the patch took the mark-phase p99 from 294 µs to 2.9 µs.
PATCH_MARK_RATIO = 2.9 / 294

# Article 6: GOGC=off vs GC on, same rep, baseline only.
GCOFF_HOLDS_RATIO = 0.5  # GC off at least halves the p99 start latency …
GCOFF_SAME = 0.10  # … and "no change" is a CI inside ±10 %


@dataclass(frozen=True)
class Claim:
    source: str  # "article 1", "BACKGROUND", …
    claim: str
    measured: str
    verdict: str
    rerun: str


def judged_candidate(manifest: Manifest) -> str | None:
    """The candidate the claims judge: the first of the manifest's candidates that is not
    its A/A arm (None: the run has no candidate)."""
    real = [name for name in manifest.candidates if name != manifest.aa_arm]
    return real[0] if real else None


@dataclass
class ClaimInputs:
    frames: dict[str, pd.DataFrame]
    comparisons: pd.DataFrame
    manifest: Manifest

    @property
    def baseline(self) -> str:
        return self.manifest.baseline

    @property
    def candidate(self) -> str | None:
        return judged_candidate(self.manifest)


@dataclass(frozen=True)
class ClaimsSection:
    """The report's claims section: what was judged, against what, and the claims."""

    baseline: str
    candidate: str | None  # None: no candidate in the run (claims that need one: not measured)
    claims: list[Claim]
    others: list[str] = field(default_factory=list)  # candidates the claims do not judge

    def to_json(self) -> dict:
        return {
            "baseline": self.baseline,
            "candidate": self.candidate,
            "not_judged": list(self.others),
            "results": [asdict(c) for c in self.claims],
        }


def report_claims(
    frames: dict[str, pd.DataFrame], comparisons: pd.DataFrame, manifest: Manifest
) -> ClaimsSection | None:
    """The claims section of a run that asked for it (`options.claims`), else None (and
    no check runs)."""
    if not manifest.options.claims:
        return None
    inputs = ClaimInputs(frames=frames, comparisons=comparisons, manifest=manifest)
    candidate = inputs.candidate
    others = [n for n in manifest.candidates if n not in (candidate, manifest.aa_arm)]
    return ClaimsSection(inputs.baseline, candidate, check_claims(inputs), others)


RERUN_PATCH_PLACEHOLDER = "<patch>"  # the judged candidate recorded no patch


def rerun_command(manifest: Manifest, workloads: str, *flags: str) -> str:
    """`stwbench ab` with this run's baseline Go and build mode and the judged candidate's
    patches, for these workloads."""
    base = manifest.variant(manifest.baseline)
    parts = ["stwbench ab"]
    if base.go:
        parts.append(f"--go {base.go}")
    elif base.goroot:
        parts.append(f"--goroot {base.goroot}")
    candidate = judged_candidate(manifest)
    patches = manifest.variant(candidate).patches if candidate is not None else ()
    for patch in patches or (RERUN_PATCH_PLACEHOLDER,):
        parts.append(f"--patch {patch}")
    if base.mode != "make":
        parts.append(f"--mode {base.mode}")
    parts.append(f"--workloads {workloads}")
    parts.extend(flags)
    parts.append("--claims")  # the rerun's report has this section whatever the patch says
    return " ".join(parts)


def _us(ns: float) -> str:
    return format_value(ns, "ns")


def _phases(inputs: ClaimInputs, variant: str | None) -> dict[str, dict]:
    if variant is None:
        return {}
    return {
        row["phase"]: row
        for row in phase_table(_probe_only(inputs.frames["latency"]), [variant])
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


def _name_re(name: str) -> re.Pattern[str]:
    """A workload's benchmark name with Go's optional -<GOMAXPROCS> suffix. Exact, not a
    prefix: `probe` must not match `probe-gcoff-2` or `probe-handoff-2`."""
    return re.compile(rf"{re.escape(name)}(?:-(\d+))?")


def _procs(benchmark: str, name: str) -> int | None:
    """GOMAXPROCS of `name`'s benchmark row (Go omits the suffix at 1), None if another."""
    match = _name_re(name).fullmatch(str(benchmark))
    if match is None:
        return None
    return int(match.group(1)) if match.group(1) else 1


def _comparisons(inputs: ClaimInputs, name: str, metric: str, phase: str) -> pd.DataFrame:
    """The judged candidate's rows against the baseline of `name` (any GOMAXPROCS) for
    metric and phase; never the A/A arm's."""
    comparisons = inputs.comparisons
    if comparisons.empty:
        return comparisons
    rows = comparisons[
        comparisons["benchmark"].map(lambda b: _procs(b, name) is not None).astype(bool)
        & (comparisons["metric"] == metric)
        & (comparisons["phase"] == phase)
        & (comparisons["baseline"].astype(str) == inputs.baseline)
        & (comparisons["candidate"].astype(str) == str(inputs.candidate))
    ]
    if "family" in rows:
        rows = rows[rows["family"] != AA_FAMILY]  # the A/A arm is never a candidate
    return rows


def _comparison(inputs: ClaimInputs, name: str, metric: str, phase: str) -> pd.Series | None:
    rows = _comparisons(inputs, name, metric, phase)
    return None if rows.empty else rows.iloc[0]


def _probe_only(frame: pd.DataFrame) -> pd.DataFrame:
    """The sleep-creator probe's rows: --trace traces every probe scenario, and mixing
    probe-gcoff (no GC) or probe-handoff into "the probe" would change the figures."""
    return frame[frame["workload"] == PROBE] if "workload" in frame else frame


def _symbol_samples(
    perf_stacks: pd.DataFrame, variant: str | None, workload: str, symbol: str
) -> tuple[int, int]:
    """(inclusive samples of symbol, all samples) of cpu-clock, summed over processes."""
    rows = perf_stacks[
        (perf_stacks["variant"] == variant)
        & (perf_stacks["workload"] == workload)
        & (perf_stacks["event"] == CPU_CLOCK)
    ]
    mine = rows[rows["symbol"] == symbol]
    return int(mine["samples"].sum()), int(mine["total_samples"].sum())


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
    first = first_after_stw(_probe_only(inputs.frames["trace_goroutines"]))
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

    From the probe's perf cpu-clock stacks (baseline, inclusive share of samples):
    holds: runqputslow ≥ 1 % and runqgrow has samples (the path described is taken and
    costs something); refuted: runqputslow < 1 % and no runqgrow sample (no Go release
    has one; the ring is fixed); partly: one without the other. 1 %: a path that is to
    explain 50–200 µs starts after every STW, in a probe that does little but spawn and
    allocate, cannot hide below that. The trace part (what the restarted Ps ran first) is
    reported either way."""
    claim = (
        "The cause: STW clears every P's local run queue and `runnext`, so `runqput` takes "
        "the slow path `runqputslow → runqgrow` (grow the queue, memmove)."
    )
    rerun = rerun_command(inputs.manifest, "probe", "--trace", "--perf")
    base = inputs.baseline
    stw = _probe_only(inputs.frames["trace_stw"])
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
    busy, grows = slow >= 1.0, bool(grow)
    verdict = HOLDS if busy and grows else (REFUTED if not (busy or grows) else PARTLY)
    return Claim("article 1–2", claim, measured, verdict, rerun)


def claim_runqput_costs(inputs: ClaimInputs) -> Claim:
    """Article 3: runqput ≈ 2 ns vs runqputslow ≈ 80 ns; starved Ps after a forced GC
    push new goroutines through the global queue and its lock.

    From BurstSpawn in the baseline with --perf (cpu-clock, inclusive samples summed over
    processes) and its `cpu-ns/op`: runqputslow's share × CPU per op ÷ SLOW_CALLS_PER_OP
    (6, a lower bound per call: see the constant) is its cost per call; runqput's share
    without runqputslow's × CPU per op ÷ 1024 spawns is the fast path per spawn.

    - holds: per call within ×10 of 80 ns (8–800 ns) and the fast path ≤ 20 ns (×10 of 2);
    - refuted: per call < 8 ns; with fewer than MIN_SYMBOL_SAMPLES (10) runqputslow
      samples, when even 10 samples would give < 8 ns;
    - partly: per call > 800 ns (the slow path is real and dearer than claimed per call,
      but it moves 129 goroutines at once, 6 times per 1024 spawns), a fast path > 20 ns,
      or no `cpu-ns/op` to turn shares into ns (the shares show the slow path is taken);
    - not measured: no BurstSpawn, no perf, or too few samples to exclude the claim.

    Deliberately no "share < 1 % refutes": the article's own 80 ns × 6 calls is ≈ 0.03 %
    of a ~1.5 ms op. Not tested at all: "after a forced GC" (BurstSpawn reaches the global
    queue by overflowing the ring); the globrunqget*/lock2 shares are context."""
    claim = (
        "`runqput` ≈ 2 ns vs `runqputslow` ≈ 80 ns; when Ps are starved after a forced GC, "
        "new goroutines go through the global queue and contend on its lock."
    )
    rerun = rerun_command(inputs.manifest, "BurstSpawn", "--perf")
    base = inputs.baseline
    samples = inputs.frames["samples"]
    mine = samples[
        (samples["variant"] == base)
        & samples["benchmark"].map(lambda b: _procs(b, "BurstSpawn") is not None).astype(bool)
    ]
    ns = mine[mine["metric"] == "ns/op"]["value"]
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
    counts = {
        s: _symbol_samples(perf, base, "BurstSpawn", f"runtime.{s}")
        for s in ("runqput", "runqputslow", "globrunqget*", "lock2")
    }
    slow_n, total = counts["runqputslow"]
    if total <= 0:
        return Claim(
            "article 3",
            claim,
            measured + " No perf profile of BurstSpawn (add --perf): per-call costs not measured.",
            NOT_MEASURED,
            rerun,
        )
    measured += " perf cpu-clock (inclusive): " + ", ".join(
        f"{s} {100.0 * n / total:.1f}%" for s, (n, _) in counts.items()
    )
    measured += f" of {total:,} samples."
    cpu = mine[(mine["metric"] == "cpu-ns/op")]["value"]
    if cpu.empty:
        verdict = PARTLY if slow_n >= MIN_SYMBOL_SAMPLES else NOT_MEASURED
        measured += (
            " No cpu-ns/op in this run's tables, so the shares cannot be turned into ns "
            "per call"
            + ("; the slow path is taken." if verdict == PARTLY else "; too few samples.")
        )
        return Claim("article 3", claim, measured, verdict, rerun)
    cpu_op = float(cpu.median())
    calls_low = f"{SLOW_CALLS_PER_OP} calls per op (no stealing; a lower bound per call)"
    band = (ARTICLE_SLOW_NS / ORDER, ARTICLE_SLOW_NS * ORDER)
    if slow_n < MIN_SYMBOL_SAMPLES:
        # Too few samples to estimate: judge the most the slow path could cost unseen.
        upper = MIN_SYMBOL_SAMPLES / total * cpu_op / SLOW_CALLS_PER_OP
        measured += (
            f" runqputslow has {slow_n} samples (< {MIN_SYMBOL_SAMPLES}): at most "
            f"≈{_us(upper)} per call at {_us(cpu_op)} CPU per op and {calls_low}."
        )
        verdict = REFUTED if upper < band[0] else NOT_MEASURED
        return Claim("article 3", claim, measured, verdict, rerun)
    per_call = slow_n / total * cpu_op / SLOW_CALLS_PER_OP
    fast_n = max(counts["runqput"][0] - slow_n, 0)  # runqputslow runs inside runqput
    fast = fast_n / total * cpu_op / BURST_SPAWNS_PER_OP
    measured += (
        f" At {_us(cpu_op)} CPU per op: runqputslow ≈{_us(per_call)} per call ({calls_low}; "
        f"≈{_us(per_call / SLOW_BATCH)} per goroutine it moves, {SLOW_BATCH} a call), "
        f"runqput's fast path ≈{_us(fast)} per spawn (article: {ARTICLE_SLOW_NS:g} ns and "
        f"{ARTICLE_FAST_NS:g} ns). The global queue is reached by overflowing the "
        "256-slot ring here, not after a GC."
    )
    if per_call < band[0]:
        verdict = REFUTED
    elif per_call <= band[1] and fast <= ARTICLE_FAST_NS * ORDER:
        verdict = HOLDS
    else:
        verdict = PARTLY
    return Claim("article 3", claim, measured, verdict, rerun)


def _probe_processes(frame: pd.DataFrame, variant: str) -> pd.DataFrame:
    return frame[(frame["variant"] == variant) & (frame["workload"] == PROBE)]


def _runq_fractions(inputs: ClaimInputs, variant: str) -> pd.DataFrame:
    """Per probe process (rep, gomaxprocs): the fraction of per-P schedtrace samples with
    a non-empty local run queue, over all samples (`all`) and over those taken while a
    GC cycle ran (`in_gc`; NaN: none). The GC windows are the process's gctrace lines,
    start @at_s plus its sweep-termination + mark + mark-termination clock times, on the
    same clock as schedtrace's ms since start; +1 ms because both print truncated ms."""
    sched = _probe_processes(inputs.frames["sched"], variant)
    sched = sched[sched["p"].notna()]
    cycles = _probe_processes(inputs.frames["gc_cycles"], variant)
    out = []
    for (rep, procs), rows in sched.groupby(["rep", "gomaxprocs"], sort=True):
        mine = cycles[(cycles["rep"] == rep) & (cycles["procs"] == procs)]
        start = mine["at_s"].to_numpy(dtype=float) * 1e3
        end = start + mine[
            ["stw_sweep_term_ms", "concurrent_mark_ms", "stw_mark_term_ms"]
        ].to_numpy(dtype=float).sum(axis=1)
        t = rows["t_ms"].to_numpy(dtype=float)[:, None]
        in_gc = ((t >= start) & (t <= end + 1.0)).any(axis=1)
        busy = rows["p_runqsize"].astype(float).to_numpy() > 0
        out.append(
            {
                "rep": rep,
                "gomaxprocs": procs,
                "all": float(busy.mean()),
                "in_gc": float(busy[in_gc].mean()) if in_gc.any() else math.nan,
            }
        )
    return pd.DataFrame(out, columns=["rep", "gomaxprocs", "all", "in_gc"])


def _switch_rates(inputs: ClaimInputs, variant: str) -> np.ndarray:
    """Per probe process: perf sched:sched_switch events per second of wall time."""
    perf = _probe_processes(inputs.frames["perf_stacks"], variant)
    rows = perf[
        (perf["event"] == "sched:sched_switch")
        & (perf["symbol"] == ALL_SYMBOLS)
        & (perf["duration_s"] > 0)
    ]
    return (rows["total_samples"] / rows["duration_s"]).to_numpy(dtype=float)


def _separates(
    base: np.ndarray, cand: np.ndarray, big: Callable[[float, float], bool]
) -> tuple[bool | None, str]:
    """Whether one per-process figure tells the variants apart: the exact rank-sum test
    at ALPHA and `big(median base, median cand)`. None: too few processes for the test
    to reach ALPHA at all (≥ 4 a side). Identical figures in every process separate
    nothing, given as many processes as the test would need (its p_min on distinct
    values: the tie itself leaves it no ranks to order)."""
    base, cand = base[np.isfinite(base)], cand[np.isfinite(cand)]
    pooled = np.concatenate([base, cand])
    if pooled.size and np.all(pooled == pooled[0]):
        distinct = rank_sum(np.arange(base.size), np.arange(base.size, pooled.size))
        if distinct.p_min <= ALPHA:
            return False, f"identical in all {base.size}/{cand.size} processes"
    test = rank_sum(base, cand)
    if not test.p_min <= ALPHA:
        return None, f"{base.size}/{cand.size} processes: too few to test"
    separated = bool(test.p_value <= ALPHA and big(float(np.median(base)), float(np.median(cand))))
    return separated, f"rank-sum p {test.p_value:.2g}, n={base.size}/{cand.size}"


def claim_observability(inputs: ClaimInputs) -> Claim:
    """Article 4: observe it with schedtrace/scheddetail and perf sched_switch.

    "Observe it" is read as: where the execution trace shows the effect — the probe's
    mark-phase start-latency p99 row is `better` or `worse` for the candidate — the tool's
    own figure must tell baseline and candidate apart (`_separates`: rank-sum p ≤ 0.05
    over the probe's processes and a shift one would notice). The figures:
    schedtrace: the fraction of per-P samples with a non-empty local run queue while a GC
    ran (all samples if none fell in a GC), ≥ 10 points apart; perf: sched_switch/s,
    ≥ ×1.25 apart. Direction is not judged (coarse).

    holds: both tools ran and both separate; partly: one of them separates (or only one
    ran and it does); refuted: no tool that ran separates and each had enough processes
    to; not measured: neither ran, no candidate, the trace shows no significant
    mark-phase change (nothing to observe), or too few processes to test."""
    claim = (
        "Observe it with `GODEBUG=schedtrace=1000,scheddetail=1` and "
        "`perf record -e sched:sched_switch -g`."
    )
    rerun = rerun_command(
        inputs.manifest, "probe", "--trace", "--perf", "--schedtrace", "--scheddetail", "--reps 10"
    )
    base, cand = inputs.baseline, inputs.candidate
    parts = []
    if base is not None:
        mine = _probe_processes(inputs.frames["sched"], base)
        mine = mine[mine["p"].notna()]
        if len(mine):
            zero = float((mine["p_runqsize"].astype(float) == 0).mean())
            parts.append(
                f"schedtrace ({base}, probe): {len(mine)} per-P samples, the local run queue "
                f"was empty in {zero:.0%} of them (runnext is not counted, samples are 100 ms "
                "apart)"
            )
        rates = _switch_rates(inputs, base)
        if rates.size:
            parts.append(
                f"perf sched_switch ({base}, probe): {float(np.median(rates)):,.0f} OS thread "
                "switches/s (goroutine switches on a P are invisible to it)"
            )
    if not parts:
        return Claim(
            "article 4",
            claim,
            "Neither schedtrace nor perf ran on the probe (add --schedtrace/--scheddetail, "
            "--perf).",
            NOT_MEASURED,
            rerun,
        )
    # The tools are compared on the candidate the trace row is about.
    row = _comparison(inputs, PROBE, "start-latency-p99-ns", "mark")
    if row is not None:
        cand = str(row["candidate"])
    tools: dict[str, bool | None] = {}
    if cand is not None:
        b, c = _runq_fractions(inputs, base), _runq_fractions(inputs, cand)
        if len(b) and len(c):
            during = b["in_gc"].notna().any() and c["in_gc"].notna().any()
            column = "in_gc" if during else "all"
            bv, cv = b[column].to_numpy(dtype=float), c[column].to_numpy(dtype=float)
            tools["schedtrace"], test = _separates(
                bv, cv, lambda x, y: abs(x - y) >= MIN_RUNQ_FRACTION_SHIFT
            )
            parts.append(
                f"schedtrace, non-empty local queue {'during GC' if during else 'overall'}: "
                f"{base} {np.nanmedian(bv):.0%} vs {cand} {np.nanmedian(cv):.0%} of per-P "
                f"samples (process medians; {test}): " + _separation_word(tools["schedtrace"])
            )
        b_rates, c_rates = _switch_rates(inputs, base), _switch_rates(inputs, cand)
        if b_rates.size and c_rates.size:
            tools["sched_switch"], test = _separates(
                b_rates,
                c_rates,
                lambda x, y: (
                    x > 0 and not 1 / MIN_SWITCH_RATE_RATIO < y / x < MIN_SWITCH_RATE_RATIO
                ),
            )
            parts.append(
                f"sched_switch/s {base} {float(np.median(b_rates)):,.0f} vs {cand} "
                f"{float(np.median(c_rates)):,.0f} ({test}): "
                + _separation_word(tools["sched_switch"])
            )
    mark = _phases(inputs, base).get("mark")
    if row is not None:
        parts.append(
            f"the execution trace's mark-phase p99, {row['candidate']} vs {row['baseline']}: "
            f"{_change(row)}, {row['verdict']}"
        )
    elif mark:
        parts.append(f"the execution trace's mark-phase p99 ({base}): {_us(mark['p99'])}")
    measured = "; ".join(parts) + "."
    if not tools:
        return Claim(
            "article 4",
            claim,
            measured + " Whether the tools show the effect needs a candidate run with them.",
            NOT_MEASURED,
            rerun,
        )
    if row is None or str(row["verdict"]) not in ("better", "worse"):
        return Claim(
            "article 4",
            claim,
            measured + " The execution trace shows no significant mark-phase change here "
            "(or did not run: --trace), so there is no effect for the tools to show.",
            NOT_MEASURED,
            rerun,
        )
    decided = list(tools.values())
    if any(decided):
        verdict = HOLDS if len(decided) == 2 and all(decided) else PARTLY
    elif all(d is False for d in decided):
        verdict = REFUTED
    else:
        verdict = NOT_MEASURED
    return Claim("article 4", claim, measured, verdict, rerun)


def _separation_word(separated: bool | None) -> str:
    return {True: "separates", False: "does not separate"}.get(separated, "cannot tell")


def claim_scheduler_speedup(inputs: ClaimInputs) -> Claim:
    """Article 5: the patch gives 1284 → 957 ns/op (−25.5 %) on BenchmarkScheduler at
    GOMAXPROCS=4.

    Decided on the `Scheduler-4` row only (the article's GOMAXPROCS; rows at other
    GOMAXPROCS are quoted, not used). holds: `better` and its CI contains the article's
    ratio; partly: `better` but the CI excludes it; refuted: not `better` (`worse`,
    `same`, `inconclusive`, `underpowered`) and the CI's low end is above the article's
    ratio; not measured: no -4 row (rerun with --gomaxprocs 4), unreliable, or a CI wide
    enough to contain the claim without a significant improvement (an `inconclusive` or
    `underpowered` row: more reps)."""
    claim = (
        "The runqget-priority patch gives 1284 → 957 ns/op (−25.5 %) on "
        "BenchmarkScheduler (GOMAXPROCS=4, -count=5)."
    )
    rerun = rerun_command(
        inputs.manifest, "Scheduler", f"--gomaxprocs {ARTICLE_SCHEDULER_PROCS}", "--reps 10"
    )
    rows = _comparisons(inputs, "Scheduler", "ns/op", "all")
    four = np.array(
        [_procs(b, "Scheduler") == ARTICLE_SCHEDULER_PROCS for b in rows.get("benchmark", [])],
        dtype=bool,
    )
    at_four, others = rows[four], rows[~four]
    other_text = "".join(
        f" Not used for the verdict: {r['benchmark']} {_change(r)}, {r['verdict']} (n={_n(r)})."
        for _, r in others.iterrows()
    )
    if at_four.empty:
        said = (
            "Scheduler did not run (add it to --workloads"
            if rows.empty
            else f"No Scheduler-{ARTICLE_SCHEDULER_PROCS} row: the article's GOMAXPROCS"
        )
        return Claim(
            "article 5",
            claim,
            f"{said}; rerun with --gomaxprocs {ARTICLE_SCHEDULER_PROCS}"
            + (")." if rows.empty else ".")
            + other_text,
            NOT_MEASURED,
            rerun,
        )
    row = at_four.iloc[0]
    measured = (
        f"{row['benchmark']} ns/op, {row['candidate']} vs {row['baseline']}: "
        f"{_change(row)}, verdict {row['verdict']} (n={_n(row)}; stwbench's own "
        f"BenchmarkScheduler)."
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
    return Claim("article 5", claim, measured + other_text, result, rerun)


@dataclass(frozen=True)
class _GcOff:
    ran: bool  # probe-gcoff has rows in the variant at all
    on: float  # median over the paired processes, GC on (probe) …
    off: float  # … and GC off (probe-gcoff)
    test: PairedResult  # on ln(off / on), one value per block

    def text(self) -> str:
        t = self.test
        if not math.isfinite(t.ratio):
            return "–"
        return (
            f"{_us(self.on)} → {_us(self.off)} (medians), ×{t.ratio:.2f} "
            f"[95% CI {t.ci_low:.2f}, {t.ci_high:.2f}], p {t.p_value:.2g}, "
            f"{t.n_pairs} pairs ({t.method})"
        )


def _gc_off(samples: pd.DataFrame, variant: str | None, metric: str) -> _GcOff:
    """Paired by block: probe-gcoff ÷ probe of one whole-process metric in `variant`,
    one log ratio per (rep, GOMAXPROCS) that has both (the two ran in the same rep, so
    the machine's bursts of noise hit both: harness/stats/paired.py)."""
    rows = samples[(samples["variant"] == variant) & (samples["metric"] == metric)]
    if "phase" in rows:
        rows = rows[rows["phase"].fillna("all") == "all"]
    values: dict[str, dict[tuple[int, int], float]] = {PROBE: {}, PROBE_GCOFF: {}}
    for benchmark, rep, value in rows[["benchmark", "rep", "value"]].itertuples(index=False):
        for name, mine in values.items():
            procs = _procs(benchmark, name)
            if procs is not None:
                mine[(int(rep), procs)] = float(value)
    blocks = sorted(set(values[PROBE]) & set(values[PROBE_GCOFF]))
    on = np.array([values[PROBE][b] for b in blocks], dtype=float)
    off = np.array([values[PROBE_GCOFF][b] for b in blocks], dtype=float)
    keep = (on > 0) & (off > 0)  # a log ratio needs both positive
    on, off = on[keep], off[keep]
    return _GcOff(
        ran=bool(values[PROBE_GCOFF]),
        on=float(np.median(on)) if on.size else math.nan,
        off=float(np.median(off)) if off.size else math.nan,
        test=paired_log_test(np.log(off / on)),
    )


def claim_mitigation(inputs: ClaimInputs) -> Claim:
    """Article 6: allocate less, or debug.SetGCPercent(-1) while debugging.

    Decided on GC off vs on in the baseline: the probe's whole-process start-latency p99
    with GOGC=off (`probe-gcoff`) ÷ the probe's, paired by rep (both ran in each rep;
    harness/stats/paired.py's test on the log ratios, ≥ 3 pairs). holds: ratio ≤ 0.5 and
    CI below 1 (GC off at least halves the tail, significantly); partly: CI below 1 but
    ratio > 0.5 (a real but smaller cut); refuted: CI inside ±10 % (no change) or above
    1 (GC off makes it worse); not measured: probe-gcoff did not run, < 3 pairs, or a
    CI too wide for any of those. p99.9 is reported beside it, and the trace's phase
    split (whether the tail sits in GC phases) when there is one."""
    claim = "Mitigation: allocate less, or `debug.SetGCPercent(-1)` while debugging."
    rerun = rerun_command(inputs.manifest, f"{PROBE},{PROBE_GCOFF}")
    base = inputs.baseline
    samples = inputs.frames["samples"]
    p99 = _gc_off(samples, base, "start-latency-p99-ns")
    p999 = _gc_off(samples, base, "start-latency-p999-ns")
    phases = _phases(inputs, base)
    trace_text = ""
    if "outside-gc" in phases:
        outside = phases["outside-gc"]["p99"]
        gc_tail = max(phases.get(p, {}).get("p99", 0.0) for p in ("mark", "after-sweep-term"))
        trace_text = (
            f" Trace ({base}): goroutines created while no GC ran: p99 {_us(outside)}; during "
            f"the mark phase or right after sweep termination: p99 {_us(gc_tail)}"
            + (
                " — the tail belongs to GC phases."
                if outside > 0 and gc_tail >= 10 * outside
                else "."
            )
        )
    if not p99.ran:
        return Claim(
            "article 6",
            claim,
            f"probe-gcoff (the probe with GOGC=off) did not run (add it: --workloads "
            f"{PROBE},{PROBE_GCOFF})." + trace_text,
            NOT_MEASURED,
            rerun,
        )
    measured = (
        f"{base}, start latency GC off ÷ on (probe-gcoff ÷ probe, paired by rep): "
        f"p99 {p99.text()}; p99.9 {p999.text()}." + trace_text
    )
    test = p99.test
    low, high = test.ci_low, test.ci_high
    if test.n_pairs < MIN_PAIRS or not (math.isfinite(low) and math.isfinite(high)):
        verdict = NOT_MEASURED
        measured += f" Fewer than {MIN_PAIRS} reps with both probes: cannot decide."
    elif high < 1.0:
        verdict = HOLDS if test.ratio <= GCOFF_HOLDS_RATIO else PARTLY
    elif low > 1.0 or (low >= 1 - GCOFF_SAME and high <= 1 + GCOFF_SAME):
        verdict = REFUTED
    else:
        verdict = NOT_MEASURED
        measured += " The CI is too wide to decide (more reps)."
    return Claim("article 6", claim, measured, verdict, rerun)


def claim_patch_mark_latency(inputs: ClaimInputs) -> Claim:
    """BACKGROUND.md: running runnext before the GC worker cuts mark-phase start latency
    (p99 294 µs → 2.9 µs on 2 cores).

    holds: the mark-phase p99 row is `better` by an order of magnitude of the claim's
    ×0.0099 (ratio ≤ ×0.099); partly: `better`, by less (a real cut, far from the one
    claimed; quick runs here measured ×0.56); refuted: `worse`, or not significant
    (`same`, `inconclusive`, `underpowered`) with a CI that excludes even halving; not
    measured: no trace rows, unreliable, or a CI wide enough to hold the claim."""
    claim = (
        "(this project) Letting a P run the goroutine in `runnext` before a GC mark worker "
        "cuts mark-phase start latency (p99 294 µs → 2.9 µs, 2 cores, Go 1.27.3)."
    )
    rerun = rerun_command(inputs.manifest, "probe", "--trace", "--reps 10")
    row = _comparison(inputs, PROBE, "start-latency-p99-ns", "mark")
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
    after = _comparison(inputs, PROBE, "start-latency-p99-ns", "after-sweep-term")
    if after is not None:
        measured += f" After sweep termination: {_change(after)}, {after['verdict']}."
    verdict, low = str(row["verdict"]), float(row["ci_low"])
    if verdict == "better":
        result = HOLDS if float(row["ratio"]) <= PATCH_MARK_RATIO * ORDER else PARTLY
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
    return f"{inputs.manifest.options.trace_after_stw_us:g}"


def _n(row: pd.Series) -> str:
    """ "5 pairs" (paired by block) or "5/4" processes, as in the verdicts table."""
    return sample_size(row)
