"""Pass/fail checks of a run, beside the verdicts: the sanity gate and the starvation check.

A verdict row answers "did this number change?"; a check answers "is the patched runtime
still correct enough that its numbers mean anything?". Both checks are computed from what
the run recorded (manifest, comparisons, gc_cycles), so `stwbench report` recomputes them.

**Gate** (harness/toolchains/gate.py): the runtime's own scheduler/GC tests on every
patched toolchain. `skipped` with --no-gate; a failed gate makes the variant's rows
`unreliable` (harness/analyze.py) and the commands exit 1.

**Starvation check** (BACKGROUND.md): a patch that lets user goroutines run before the GC
mark worker must not keep the worker off the P. Measured where that is hardest: one P
(`PingPongAlloc@gomaxprocs=1`: a ping-pong pair handing off through runnext beside an
allocator; with GOMAXPROCS=1 the mark worker is a fractional one and there is no other P
to mark on). Against the baseline in the same interleaved run, the candidate passes when
all of:

- its mark phases are not much longer: the paired ratio of the per-process mark-phase p95
  (`mark-phase-p95-ms`, equal cycle counts, harness/gc_cost.py) is ≤ MARK_P95_MAX_RATIO;
- no mark phase is pathologically long: every non-forced cycle's concurrent mark of every
  candidate process is ≤ MAX_MARK_PHASE_MS (50 × sysmon's forcePreemptNS of 10 ms, after
  which a goroutine chain is preempted and the worker can get the P). Measured: baseline
  and runqget peak at 59–77 ms, a noisy baseline process once at 316 ms; the starving
  patch's shortest mark phase is 902 ms;
- every candidate process completed at least MIN_CYCLES non-forced cycles (the starving
  patch completes one per process: its mark phase lasts the whole loop);
- GC still cycles at about the same rate: the ratio of GC cycles per second of the
  measured loop (gc-cycles/op ÷ ns/op, per process, medians) lies in CYCLES_PER_S_RANGE;
- the mark workers still get CPU: the paired ratio of `gc-dedicated-cpu-%` (dedicated and
  fractional workers' share, runtime/metrics) is ≥ MIN_WORKER_CPU_RATIO. This is the only
  one of the figures that sees a patch starving the worker alone: mark assists then take
  over and finish cycles on time (measured: worker CPU 14.3 % → 0, assists 0.9 → 15.2 %,
  mark p95 ×1.04, cycles/s ×0.94).

`not measured` when the workload did not run; `unreliable` when a process of it failed or
either arm has fewer than MIN_PROCESSES. A `fail` makes --fail-on-regression exit 1.
The bounds were chosen from measurements of the runqget patch (passes) and a test-only
patch that starves the worker (fails): tests/patches/README.md.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import pandas as pd

from harness.rundir import Manifest

STARVATION_WORKLOAD = "PingPongAlloc@gomaxprocs=1"
STARVATION_BENCHMARK = "PingPongAlloc"  # Go prints no -1 suffix at GOMAXPROCS=1
MARK_P95_MAX_RATIO = 2.0
MAX_MARK_PHASE_MS = 500.0
MIN_CYCLES = 2
CYCLES_PER_S_RANGE = (0.5, 2.0)
MIN_WORKER_CPU_RATIO = 0.5
MIN_PROCESSES = 3

PASS, FAIL, NOT_MEASURED, UNRELIABLE, SKIPPED, NOT_RUN = (
    "pass",
    "fail",
    "not measured",
    "unreliable",
    "skipped",
    "not run",
)


@dataclass
class StarvationCheck:
    candidate: str
    baseline: str
    status: str
    mark_p95_ratio: float = math.nan
    longest_mark_ms: float = math.nan  # candidate's longest non-forced mark phase
    baseline_longest_mark_ms: float = math.nan
    cycles_per_s_ratio: float = math.nan
    worker_cpu_ratio: float = math.nan  # gc-dedicated-cpu-%, paired ratio
    fewest_cycles: int = -1  # fewest non-forced cycles of a candidate process (-1: none)
    n_candidate: int = 0
    n_baseline: int = 0
    reasons: list[str] = field(default_factory=list)  # why not pass (or why not measured)

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class GateCheck:
    variant: str
    status: str  # pass | fail | skipped | not run (unpatched toolchains are not gated)
    detail: str

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Checks:
    gate: list[GateCheck]
    starvation: list[StarvationCheck]

    @property
    def failed(self) -> list[str]:
        """One line per failed check, for the console and the exit code."""
        lines = [f"gate {g.variant}: {g.detail}" for g in self.gate if g.status == FAIL]
        lines += [
            f"starvation check {s.candidate}: {'; '.join(s.reasons)}"
            for s in self.starvation
            if s.status == FAIL
        ]
        return lines

    def exit_code(self, *, regressions: bool, fail_on_regression: bool) -> int:
        """1 when a gate failed (always) or, with --fail-on-regression, a regression was
        found or a starvation check failed; else 0 (the caller keeps its own code)."""
        if any(g.status == FAIL for g in self.gate):
            return 1
        starving = any(s.status == FAIL for s in self.starvation)
        return 1 if fail_on_regression and (starving or regressions) else 0

    def to_json(self) -> dict:
        return {
            "gate": [g.to_json() for g in self.gate],
            "starvation": [s.to_json() for s in self.starvation],
            "bounds": {
                "workload": STARVATION_WORKLOAD,
                "mark_p95_max_ratio": MARK_P95_MAX_RATIO,
                "max_mark_phase_ms": MAX_MARK_PHASE_MS,
                "min_cycles": MIN_CYCLES,
                "cycles_per_s_range": list(CYCLES_PER_S_RANGE),
                "min_worker_cpu_ratio": MIN_WORKER_CPU_RATIO,
            },
        }


def gate_checks(manifest: Manifest) -> list[GateCheck]:
    """One line per variant: what the toolchain's gate record says for this run."""
    requested = manifest.gate.requested if manifest.gate is not None else None
    out = []
    for name in manifest.variant_names:
        record = manifest.toolchains.get(name)
        gate = record.gate if record is not None else None
        if record is None or not record.patches:
            out.append(GateCheck(name, NOT_RUN, "no patches: not gated"))
        elif gate is not None and gate.passed:
            out.append(GateCheck(name, PASS, f"{len(gate.tests_passed)} tests"))
        elif gate is not None:
            bad = [*gate.tests_failed, *gate.tests_missing]
            out.append(GateCheck(name, FAIL, ", ".join(bad) or f"exit {gate.exit_code}"))
        elif requested is False:
            out.append(GateCheck(name, SKIPPED, "--no-gate"))
        else:
            out.append(GateCheck(name, NOT_RUN, "no gate record (a run from before the gate)"))
    return out


def _per_process_cycles_per_s(samples: pd.DataFrame) -> pd.DataFrame:
    """variant, rep, cycles_per_s of the starvation workload's measured loop."""
    rows = samples[
        (samples["workload"] == STARVATION_WORKLOAD)
        & (samples["metric"].isin(["gc-cycles/op", "ns/op"]))
        & (samples.get("phase", "all") == "all")
    ]
    wide = rows.pivot_table(
        index=["variant", "rep"], columns="metric", values="value", aggfunc="median"
    )
    if not {"gc-cycles/op", "ns/op"} <= set(wide.columns):
        return pd.DataFrame(columns=["variant", "rep", "cycles_per_s"])
    wide = wide[wide["ns/op"] > 0]
    out = (wide["gc-cycles/op"] / wide["ns/op"] * 1e9).rename("cycles_per_s").reset_index()
    return out


def starvation_checks(
    manifest: Manifest,
    comparisons: pd.DataFrame,
    frames: dict[str, pd.DataFrame],
    failed: dict[tuple[str, str], int],
    exclude: tuple[str, ...] = (),
) -> list[StarvationCheck]:
    """One check per candidate (the A/A arm, in `exclude`, is the baseline again)."""
    baseline = manifest.baseline
    candidates = [v for v in manifest.candidates if v != manifest.aa_arm and v not in exclude]
    ran = STARVATION_WORKLOAD in {w.name for w in manifest.workloads}
    cycles = frames["gc_cycles"]
    cycles = cycles[(cycles["workload"] == STARVATION_WORKLOAD) & ~cycles["forced"].astype(bool)]
    rates = _per_process_cycles_per_s(frames["samples"])
    out = []
    for cand in candidates:
        check = StarvationCheck(candidate=cand, baseline=baseline, status=NOT_MEASURED)
        out.append(check)
        if not ran:
            check.reasons.append(f"{STARVATION_WORKLOAD} did not run (add it to --workloads)")
            continue
        check.n_baseline = int((rates["variant"] == baseline).sum())
        check.n_candidate = int((rates["variant"] == cand).sum())
        base_rate = rates.loc[rates["variant"] == baseline, "cycles_per_s"].median()
        cand_rate = rates.loc[rates["variant"] == cand, "cycles_per_s"].median()
        if base_rate > 0:
            check.cycles_per_s_ratio = float(cand_rate / base_rate)
        mine = cycles.loc[cycles["variant"] == cand, "concurrent_mark_ms"]
        theirs = cycles.loc[cycles["variant"] == baseline, "concurrent_mark_ms"]
        check.longest_mark_ms = float(mine.max()) if len(mine) else math.nan
        check.baseline_longest_mark_ms = float(theirs.max()) if len(theirs) else math.nan
        per_process = (
            cycles[cycles["variant"] == cand]
            .groupby("rep")
            .size()
            .reindex(rates.loc[rates["variant"] == cand, "rep"], fill_value=0)
        )
        check.fewest_cycles = int(per_process.min()) if len(per_process) else -1
        check.mark_p95_ratio = _ratio(comparisons, baseline, cand, "mark-phase-p95-ms")
        check.worker_cpu_ratio = _ratio(comparisons, baseline, cand, "gc-dedicated-cpu-%")
        broken = failed.get((cand, STARVATION_WORKLOAD), 0) + failed.get(
            (baseline, STARVATION_WORKLOAD), 0
        )
        if broken or min(check.n_baseline, check.n_candidate) < MIN_PROCESSES:
            check.status = UNRELIABLE
            check.reasons.append(
                f"{broken} failed processes; {check.n_candidate}/{check.n_baseline} "
                f"finished (≥ {MIN_PROCESSES} per arm needed)"
            )
            continue
        _judge(check)
    return out


def _ratio(comparisons: pd.DataFrame, baseline: str, cand: str, metric: str) -> float:
    row = comparisons[
        (comparisons["candidate"] == cand)
        & (comparisons["baseline"] == baseline)
        & (comparisons["benchmark"] == STARVATION_BENCHMARK)
        & (comparisons["metric"] == metric)
        & (comparisons["phase"] == "all")
    ]
    return float(row["ratio"].iloc[0]) if not row.empty else math.nan


def _judge(check: StarvationCheck) -> None:
    low, high = CYCLES_PER_S_RANGE
    if check.fewest_cycles < 0 or not math.isfinite(check.longest_mark_ms):
        check.status = NOT_MEASURED
        check.reasons.append("no mark-phase figures (no non-forced GC cycle in gctrace)")
        return
    if check.fewest_cycles < MIN_CYCLES:
        check.reasons.append(
            f"a process completed {check.fewest_cycles} GC cycle(s) (≥ {MIN_CYCLES} needed)"
        )
    # No mark-phase row (K = 0: a process without a cycle, caught just above): not judged.
    if math.isfinite(check.mark_p95_ratio) and check.mark_p95_ratio > MARK_P95_MAX_RATIO:
        check.reasons.append(
            f"mark-phase p95 ×{check.mark_p95_ratio:.2f} (bound ×{MARK_P95_MAX_RATIO:g})"
        )
    if check.longest_mark_ms > MAX_MARK_PHASE_MS:
        check.reasons.append(
            f"a mark phase of {check.longest_mark_ms:.1f} ms (bound {MAX_MARK_PHASE_MS:g} ms)"
        )
    if not (math.isfinite(check.cycles_per_s_ratio) and low <= check.cycles_per_s_ratio <= high):
        check.reasons.append(
            f"GC cycles/s ×{check.cycles_per_s_ratio:.2f} (bounds ×{low:g}–×{high:g})"
        )
    # A run without the runtime/metrics figure (an old probe binary) cannot judge it.
    if math.isfinite(check.worker_cpu_ratio) and check.worker_cpu_ratio < MIN_WORKER_CPU_RATIO:
        check.reasons.append(
            f"mark-worker CPU ×{check.worker_cpu_ratio:.2f} (bound ≥ ×{MIN_WORKER_CPU_RATIO:g})"
        )
    check.status = FAIL if check.reasons else PASS


def run_checks(
    manifest: Manifest,
    comparisons: pd.DataFrame,
    frames: dict[str, pd.DataFrame],
    failed: dict[tuple[str, str], int],
    exclude: tuple[str, ...] = (),
) -> Checks:
    return Checks(
        gate=gate_checks(manifest),
        starvation=starvation_checks(manifest, comparisons, frames, failed, exclude),
    )
