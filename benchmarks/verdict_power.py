"""How well the verdicts see: false-positive rate and power of the row verdict, by simulation.

    python benchmarks/verdict_power.py --quick                       # ≈ 1 minute
    nice -n 19 python benchmarks/verdict_power.py --jobs 2 --out benchmarks/verdict_power.md
    python benchmarks/verdict_power.py --help

One comparison row is simulated as the runner measures it: n blocks (reps), each holding
one baseline and one candidate process back to back. Per block a shared log "burst/drift"
term hits both arms (within-block correlation ρ of the log values), per-process lognormal
noise makes the per-process CV what the cell says (CV of the lognormal part, before
bursts), and on top come outlier bursts: with probability 0.05 per block both arms of
that block are multiplied by one common factor 1 + Exp(mean 0.5) (a noisy neighbour hits
both), and with probability 0.01 per process a single process gets such a factor alone.
The candidate is the same distribution × (1 + δ). Values are continuous: no ties.

Two decision rules are applied to the same simulated data (common random numbers):

- **after** (the current project): `harness.stats.compare.estimate` per row (complete
  blocks, positive values: the paired path, signed-rank on within-block log ratios with a
  Hodges–Lehmann CI), then Benjamini–Hochberg (`harness.stats.benjamini_hochberg`) per
  family — the report's 50 headline rows are one family, its 50 secondary rows another —
  with rows whose p_min exceeds α left out of m, and `harness.stats.verdict.verdict` with
  the `ns/op` equivalence margin (0.02). `compare()` itself costs ≈ 5 ms a row (the
  per-process groupby) against ≈ 2 ms for `estimate`, too slow for ~10⁶ rows, so BH and the
  verdict are done here exactly as `compare._adjust_per_family` and `compare()` do them;
  `compare_agreement()` checks that claim on a real samples frame (run at start-up, and by
  tests/test_verdict_power.py): every row's p, q and verdict must equal `compare()`'s.
- **before** (the rule the rewrite replaced, no longer in the package, reproduced here):
  unpaired; p = `scipy.stats.mannwhitneyu(b, c, alternative='two-sided')` with scipy's
  default method='auto' (called once per batch with axis=1: the same function, the same
  per-row p-values); the ratio of medians with the percentile bootstrap CI
  `harness.stats.ratio_ci` (n_boot 2000, seeded per row with `row_rng`); BH over *every*
  row of the report (headline and secondary); `worse`/`better` iff q < 0.05 and the CI
  excludes 1, else `same`. The bootstrap is only drawn for rows whose q < 0.05 (the rule
  never looks at the CI otherwise), cached per row.

A report is 50 headline + 50 secondary rows, all from the same cell. Per cell (n × CV × ρ):

- a pool of null rows (δ = 0) is simulated once; all-null reports are 100 rows drawn
  without replacement from it, in `BATCHES` disjoint sub-pools so that the Monte-Carlo
  standard error (batch means) accounts for the reuse of rows across reports;
- FPR/row: share of the null rows of those reports flagged `better`/`worse` (all 100 rows;
  "after" corrects the two families of 50 apart, "before" all 100 together);
  FPR/report: share of reports with ≥ 1 flagged headline row;
- power: the first `reps` rows of the pool, with the candidate × (1 + δ), each put into a
  report with 49 null headline (+ 50 null secondary) rows drawn from the rest of the pool;
  power = share of those rows flagged `worse`. The same noise and the same report
  companions serve every δ (common random numbers), so the power curve is nearly monotone;
  the 80 %-power change is interpolated on log δ between the grid points around the
  first crossing (δ values are visited in ascending order and the grid stops once both
  rules have power ≥ 0.9);
- for "after" also: the verdict mix of the null rows (`same` / `inconclusive` / …), the
  median reported `mdc` of the null rows, and the 80 %-power change of one row tested
  alone (m = 1: q = p), the figure `mdc` is a planning estimate of.

Deterministic for a seed: each cell draws from SeedSequence([seed, n, CV, ρ]) and each
row's bootstrap from `row_rng(seed, cell, row)`, whatever `--jobs` is. Profile (full run,
2 cores): the "after" `estimate` calls dominate (≈ 2 ms each: signed-rank table, two
t quantiles for the mdc, pandas Series), then the "before" bootstraps (2–6 ms each, only
for rows with q < 0.05); scipy's vectorized Mann-Whitney and the report draws are noise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
from scipy import stats

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from harness.metrics import HEADLINE, equivalence_margin, metric_info  # noqa: E402
from harness.stats import (  # noqa: E402
    benjamini_hochberg,
    compare,
    estimate,
    ratio_ci,
    row_rng,
    verdict,
)
from harness.stats.verdict import BETTER, FLAGGED, VERDICTS, WORSE  # noqa: E402

ALPHA = 0.05
N_BOOT = 2000
CI_LEVEL = 0.95
M_HEADLINE = 50
M_SECONDARY = 50
HEADLINE_METRIC, SECONDARY_METRIC = "ns/op", "cpu-ns/op"
EQUIVALENCE = equivalence_margin(HEADLINE_METRIC)  # 0.02
SECONDARY_EQUIVALENCE = equivalence_margin(SECONDARY_METRIC)
BLOCK_BURST_P = 0.05
PROCESS_BURST_P = 0.01
BURST_MEAN = 0.5  # factor = 1 + Exp(mean 0.5)
LEVEL = 1000.0  # the median ns/op of the baseline; irrelevant to every test, kept readable

NS = (10, 20, 40)
CVS = (0.03, 0.10, 0.30)
RHOS = (0.0, 0.5, 0.8)
DELTAS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.10, 0.15, 0.20, 0.30, 0.50, 0.75, 1.00)
POWER = 0.8
STOP_POWER = 0.9
BATCHES = 10

FULL = {"reps": 500, "pool": 16000, "reports": 8000}
QUICK = {"reps": 40, "pool": 500, "reports": 500}


@dataclass(frozen=True)
class Cell:
    n: int
    cv: float
    rho: float

    @property
    def label(self) -> str:
        return f"n={self.n} cv={self.cv:g} rho={self.rho:g}"


@dataclass(frozen=True)
class Config:
    reps: int  # rows per δ for power
    pool: int  # null rows per cell
    reports: int  # all-null reports per cell
    seed: int
    deltas: tuple[float, ...] = DELTAS


# ---------------------------------------------------------------------------------------
# The model


def simulate(rng: np.random.Generator, cell: Cell, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(baseline, candidate) per-process values, shape (rows, n), under the null (δ = 0).

    log value = log LEVEL + s_block + e_process with Var(s) = ρσ², Var(e) = (1 − ρ)σ² and
    σ² = log(1 + CV²), so each process is lognormal with that CV and the two arms of a
    block correlate ρ on the log scale; then the block and process bursts (module doc).
    Every random number is drawn whatever the masks say, so the stream is fixed.
    """
    sigma2 = math.log1p(cell.cv**2)
    shape = (rows, cell.n)
    shared = rng.normal(0.0, math.sqrt(cell.rho * sigma2), shape)
    own = rng.normal(0.0, math.sqrt((1.0 - cell.rho) * sigma2), (*shape, 2))
    log_v = math.log(LEVEL) + shared[..., None] + own
    block_hit = rng.random(shape) < BLOCK_BURST_P
    block_factor = np.log1p(rng.exponential(BURST_MEAN, shape))
    log_v += (block_hit * block_factor)[..., None]
    process_hit = rng.random((*shape, 2)) < PROCESS_BURST_P
    process_factor = np.log1p(rng.exponential(BURST_MEAN, (*shape, 2)))
    log_v += process_hit * process_factor
    values = np.exp(log_v)
    return values[..., 0], values[..., 1]


# ---------------------------------------------------------------------------------------
# "after": the project's estimate, BH per family, verdict


@dataclass
class AfterRows:
    """`estimate` results for a batch of rows, one array per field."""

    p: np.ndarray
    p_min: np.ndarray
    ratio: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    mdc: np.ndarray
    base_median: np.ndarray
    cand_median: np.ndarray
    n: int


def after_estimates(base: np.ndarray, cand: np.ndarray, *, seed: int, key: str) -> AfterRows:
    """`harness.stats.compare.estimate` on every row; the index is the block id."""
    index = pd.RangeIndex(base.shape[1])
    out = {f: np.empty(base.shape[0]) for f in ("p", "p_min", "ratio", "ci_low", "ci_high")}
    out["mdc"] = np.empty(base.shape[0])
    for i in range(base.shape[0]):
        est = estimate(
            pd.Series(base[i], index=index),
            pd.Series(cand[i], index=index),
            rng=row_rng(seed, key, "after", str(i)),
            alpha=ALPHA,
            n_boot=N_BOOT,
            ci_level=CI_LEVEL,
        )
        out["p"][i], out["p_min"][i] = est.p_value, est.p_min
        out["ratio"][i], out["ci_low"][i], out["ci_high"][i] = est.ratio, est.ci_low, est.ci_high
        out["mdc"][i] = est.mdc
    return AfterRows(
        **out,
        base_median=np.median(base, axis=1),
        cand_median=np.median(cand, axis=1),
        n=base.shape[1],
    )


def after_q(p: np.ndarray, p_min: np.ndarray) -> np.ndarray:
    """q-values of one family as `compare._adjust_per_family` computes them."""
    q = np.full(p.shape, np.nan)
    tested = np.isfinite(p) & (p_min <= ALPHA)
    if tested.any():
        q[tested] = benjamini_hochberg(p[tested])
    return q


def after_verdict(rows: AfterRows, i: int, q: float, equivalence: float = EQUIVALENCE) -> str:
    return verdict(
        direction="lower",
        ratio=float(rows.ratio[i]),
        ci_low=float(rows.ci_low[i]),
        ci_high=float(rows.ci_high[i]),
        q_value=float(q),
        p_min=float(rows.p_min[i]),
        n_baseline=rows.n,
        n_candidate=rows.n,
        equivalence=equivalence,
        alpha=ALPHA,
        min_n=3,
        baseline_median=float(rows.base_median[i]),
        candidate_median=float(rows.cand_median[i]),
    )


def after_family(rows: AfterRows, idx: np.ndarray, equivalence: float = EQUIVALENCE) -> list[str]:
    """Verdicts of one family made of the rows `idx` (BH over them, then `verdict`)."""
    q = after_q(rows.p[idx], rows.p_min[idx])
    return [after_verdict(rows, int(i), qi, equivalence) for i, qi in zip(idx, q, strict=True)]


# ---------------------------------------------------------------------------------------
# "before": unpaired Mann-Whitney (scipy 'auto'), bootstrap CI, BH over every row


def before_pvalues(base: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """scipy.stats.mannwhitneyu(b, c, alternative='two-sided') per row (default 'auto')."""
    return np.asarray(stats.mannwhitneyu(base, cand, alternative="two-sided", axis=1).pvalue)


@dataclass
class BeforeRows:
    base: np.ndarray
    cand: np.ndarray
    p: np.ndarray
    seed: int
    key: str
    _ci: dict[int, tuple[float, float]] = field(default_factory=dict)

    def ci(self, i: int) -> tuple[float, float]:
        """The row's percentile bootstrap CI of the ratio of medians (drawn once, cached)."""
        if i not in self._ci:
            ci = ratio_ci(
                self.base[i],
                self.cand[i],
                n_boot=N_BOOT,
                level=CI_LEVEL,
                rng=row_rng(self.seed, self.key, "before", str(i)),
            )
            self._ci[i] = (ci.low, ci.high)
        return self._ci[i]

    def verdict(self, i: int, q: float) -> str:
        if not q < ALPHA:
            return "same"
        low, high = self.ci(i)
        if low > 1.0:
            return WORSE
        if high < 1.0:
            return BETTER
        return "same"


def before_rows(base: np.ndarray, cand: np.ndarray, *, seed: int, key: str) -> BeforeRows:
    return BeforeRows(base, cand, before_pvalues(base, cand), seed, key)


# ---------------------------------------------------------------------------------------
# One cell


def _crossing(deltas: list[float], power: list[float], target: float = POWER) -> float:
    """δ at which power first reaches `target`, interpolated on log δ; ±inf off the grid."""
    for k, pw in enumerate(power):
        if pw >= target:
            if k == 0:
                return -math.inf  # below the grid's smallest δ
            x0, x1 = math.log(deltas[k - 1]), math.log(deltas[k])
            y0, y1 = power[k - 1], pw
            return math.exp(x0 + (target - y0) * (x1 - x0) / (y1 - y0))
    return math.inf


def _binomial_se(k: float, n: int) -> float:
    p = k / n if n else math.nan
    return math.sqrt(p * (1 - p) / n) if n else math.nan


def run_cell(cell: Cell, cfg: Config) -> dict:
    """Simulate one cell; a JSON-able dict of its figures (see the module docstring)."""
    started = time.process_time()
    ss = np.random.SeedSequence([cfg.seed, cell.n, round(cell.cv * 1000), round(cell.rho * 1000)])
    noise_rng, report_rng, power_rng = (np.random.default_rng(s) for s in ss.spawn(3))
    key = cell.label
    m_report = M_HEADLINE + M_SECONDARY
    pool = max(cfg.pool, BATCHES * m_report, cfg.reps + m_report)
    base, cand = simulate(noise_rng, cell, pool)
    after = after_estimates(base, cand, seed=cfg.seed, key=key)
    before = before_rows(base, cand, seed=cfg.seed, key=key)

    # All-null reports, drawn within disjoint sub-pools (batch means for the MC error).
    batches = np.array_split(report_rng.permutation(pool), BATCHES)
    per_batch = max(1, cfg.reports // BATCHES)
    mix = dict.fromkeys(VERDICTS, 0)
    stat_rows: dict[str, list[float]] = {"after_row": [], "before_row": []}
    stat_reports: dict[str, list[float]] = {"after_report": [], "before_report": []}
    for members in batches:
        flagged_a = flagged_b = reports_a = reports_b = 0
        for _ in range(per_batch):
            rows = report_rng.choice(members, m_report, replace=False)
            head, sec = rows[:M_HEADLINE], rows[M_HEADLINE:]
            v_head = after_family(after, head)
            v_sec = after_family(after, sec, SECONDARY_EQUIVALENCE)
            for v in v_head + v_sec:
                mix[v] += 1
            n_head_flag = sum(v in FLAGGED for v in v_head)
            flagged_a += n_head_flag + sum(v in FLAGGED for v in v_sec)
            reports_a += n_head_flag > 0
            q = benjamini_hochberg(before.p[rows])
            v_b = [before.verdict(int(i), qi) for i, qi in zip(rows, q, strict=True)]
            flagged_b += sum(v in FLAGGED for v in v_b)
            reports_b += any(v in FLAGGED for v in v_b[:M_HEADLINE])
        stat_rows["after_row"].append(flagged_a / (per_batch * m_report))
        stat_rows["before_row"].append(flagged_b / (per_batch * m_report))
        stat_reports["after_report"].append(reports_a / per_batch)
        stat_reports["before_report"].append(reports_b / per_batch)

    def mean_se(values: list[float]) -> tuple[float, float]:
        a = np.asarray(values)
        return float(a.mean()), float(a.std(ddof=1) / math.sqrt(a.size))

    result: dict = {"cell": asdict(cell), "label": key, "n_null_rows": pool}
    for name, values in {**stat_rows, **stat_reports}.items():
        result[name], result[name + "_se"] = mean_se(values)
    total = sum(mix.values())
    result["after_null_mix"] = {v: c / total for v, c in mix.items()}
    result["after_median_mdc"] = float(np.nanmedian(after.mdc))
    result["after_unadjusted_row"] = float(
        np.mean([after_verdict(after, i, p) in FLAGGED for i, p in enumerate(after.p)])
    )

    # Power: the first `reps` rows × (1 + δ), each with report companions from the rest.
    reps = cfg.reps
    others = np.arange(reps, pool)
    companions = [power_rng.choice(others, m_report - 1, replace=False) for _ in range(reps)]
    deltas: list[float] = []
    curves: dict[str, list[float]] = {"after": [], "before": [], "after_m1": [], "before_m1": []}
    for delta in cfg.deltas:
        shifted = cand[:reps] * (1.0 + delta)
        a_alt = after_estimates(base[:reps], shifted, seed=cfg.seed, key=f"{key} d={delta:g}")
        b_alt = before_rows(base[:reps], shifted, seed=cfg.seed, key=f"{key} d={delta:g}")
        hits = dict.fromkeys(curves, 0)
        for j in range(reps):
            comp = companions[j]
            head = comp[: M_HEADLINE - 1]
            q_a = after_q(
                np.concatenate([[a_alt.p[j]], after.p[head]]),
                np.concatenate([[a_alt.p_min[j]], after.p_min[head]]),
            )[0]
            hits["after"] += after_verdict(a_alt, j, q_a) == WORSE
            q_m1 = after_q(a_alt.p[j : j + 1], a_alt.p_min[j : j + 1])[0]
            hits["after_m1"] += after_verdict(a_alt, j, q_m1) == WORSE
            q_b = benjamini_hochberg(np.concatenate([[b_alt.p[j]], before.p[comp]]))[0]
            hits["before"] += b_alt.verdict(j, q_b) == WORSE
            hits["before_m1"] += b_alt.verdict(j, b_alt.p[j]) == WORSE
        deltas.append(delta)
        for name in curves:
            curves[name].append(hits[name] / reps)
        if min(curves["after"][-1], curves["before"][-1]) >= STOP_POWER:
            break
    result["deltas"] = deltas
    result["power"] = curves
    result["power_reps"] = reps
    for name, curve in curves.items():
        result[f"{name}_change80"] = _crossing(deltas, curve)
    result["after_power_ceiling"] = max(curves["after"], default=math.nan)
    result["cpu_seconds"] = time.process_time() - started
    return result


# ---------------------------------------------------------------------------------------
# compare() agreement


def samples_frame(base: np.ndarray, cand: np.ndarray, headline: int) -> pd.DataFrame:
    """A `samples` table of one report: rows < `headline` are ns/op, the rest cpu-ns/op."""
    records = []
    for r in range(base.shape[0]):
        metric = HEADLINE_METRIC if r < headline else SECONDARY_METRIC
        for variant, values in (("base", base[r]), ("cand", cand[r])):
            for rep, value in enumerate(values):
                records.append((variant, "w", f"B{r:03d}", rep, metric, "ns", value, "lower"))
    columns = ["variant", "workload", "benchmark", "rep", "metric", "unit", "value", "better"]
    return pd.DataFrame.from_records(records, columns=columns)


def compare_agreement(base: np.ndarray, cand: np.ndarray, *, seed: int = 0) -> dict:
    """Run one report through `compare()` and through this script's "after" pipeline.

    Returns {"rows", "mismatches": [...], "verdicts": {...}}; every row must agree on p,
    q (to 1e-12) and verdict. Rows < M_HEADLINE are the headline family.
    """
    assert metric_info(HEADLINE_METRIC).family == HEADLINE
    assert metric_info(SECONDARY_METRIC).family != HEADLINE
    frame = compare(samples_frame(base, cand, M_HEADLINE), "base", alpha=ALPHA, seed=seed)
    frame = frame.set_index("benchmark")
    rows = after_estimates(base, cand, seed=seed, key="agreement")
    head = np.arange(M_HEADLINE)
    sec = np.arange(M_HEADLINE, base.shape[0])
    mine = after_family(rows, head) + after_family(rows, sec, SECONDARY_EQUIVALENCE)
    q_mine = np.concatenate([after_q(rows.p[f], rows.p_min[f]) for f in (head, sec)])
    mismatches = []
    for r in range(base.shape[0]):
        theirs = frame.loc[f"B{r:03d}"]
        same_q = (math.isnan(q_mine[r]) and math.isnan(theirs.q_value)) or abs(
            q_mine[r] - theirs.q_value
        ) <= 1e-12
        if (
            mine[r] != theirs.verdict
            or abs(rows.p[r] - theirs.p_value) > 1e-12
            or not same_q
            or abs(rows.ci_low[r] - theirs.ci_low) > 1e-12
        ):
            mismatches.append((r, mine[r], theirs.verdict, rows.p[r], theirs.p_value))
    counts = pd.Series(mine).value_counts().to_dict()
    return {"rows": base.shape[0], "mismatches": mismatches, "verdicts": counts}


def agreement_report(seed: int) -> dict:
    """A report with a few real changes, so that BH and flagged verdicts are exercised."""
    rng = np.random.default_rng([seed, 99])
    cell = Cell(20, 0.10, 0.8)
    base, cand = simulate(rng, cell, M_HEADLINE + M_SECONDARY)
    cand[:5] *= 1.2
    cand[M_HEADLINE : M_HEADLINE + 3] *= 0.85
    return compare_agreement(base, cand, seed=seed)


# ---------------------------------------------------------------------------------------
# Output


def cells_for(ns=NS, cvs=CVS, rhos=RHOS) -> list[Cell]:
    return [Cell(n, cv, rho) for n in ns for cv in cvs for rho in rhos]


def _pct(x: float, digits: int = 2) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.{digits}f}"


def _change(x: float, curve: list[float] | None = None, deltas: list[float] | None = None) -> str:
    if x == -math.inf:
        return f"≤ {100 * DELTAS[0]:g}"
    if x == math.inf:
        top = f"> {100 * deltas[-1]:g}" if deltas else "> grid"
        if curve:
            top += f" (max {100 * max(curve):.0f} %)"
        return top
    return f"{100 * x:.1f}"


def markdown_table(results: list[dict]) -> str:
    head = (
        "| n | CV | ρ | FPR/row before | FPR/row after | FPR/report before | "
        "FPR/report after | 80 % change before | 80 % change after | after, alone (m = 1) "
        "| after median mdc | after null: same / inconcl. |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = []
    for r in results:
        c = r["cell"]
        mix = r["after_null_mix"]
        lines.append(
            f"| {c['n']} | {100 * c['cv']:g} % | {c['rho']:g} "
            f"| {_pct(r['before_row'], 3)} | {_pct(r['after_row'], 3)} "
            f"| {_pct(r['before_report'], 1)} ± {_pct(r['before_report_se'], 1)} "
            f"| {_pct(r['after_report'], 1)} ± {_pct(r['after_report_se'], 1)} "
            f"| {_change(r['before_change80'], r['power']['before'], r['deltas'])} "
            f"| {_change(r['after_change80'], r['power']['after'], r['deltas'])} "
            f"| {_change(r['after_m1_change80'], r['power']['after_m1'], r['deltas'])} "
            f"| {_pct(r['after_median_mdc'], 1)} "
            f"| {_pct(mix['same'], 0)} / {_pct(mix['inconclusive'], 0)} |"
        )
    return head + "\n".join(lines) + "\n"


def curves_table(results: list[dict]) -> str:
    """Power (%) per δ, after / before, and the unadjusted per-row FPR of after."""
    head = "| n | CV | ρ | after FPR/row alone | " + " | ".join(f"{100 * d:g} %" for d in DELTAS)
    lines = [head + " |", "|---:" * (4 + len(DELTAS)) + "|"]
    for r in results:
        c = r["cell"]
        cols = []
        for k in range(len(DELTAS)):
            if k < len(r["deltas"]):
                a, b = r["power"]["after"][k], r["power"]["before"][k]
                cols.append(f"{100 * a:.0f} / {100 * b:.0f}")
            else:
                cols.append("·")
        lines.append(
            f"| {c['n']} | {100 * c['cv']:g} % | {c['rho']:g} "
            f"| {_pct(r['after_unadjusted_row'], 1)} | " + " | ".join(cols) + " |"
        )
    return "\n".join(lines) + "\n"


def markdown(results: list[dict], meta: dict) -> str:
    return (
        "# How well the verdicts see: simulated false-positive rate and power\n\n"
        f"Produced by `{meta['command']}` (seed {meta['seed']}) on {meta['date']}, "
        f"{meta['wall_seconds']:.0f} s wall, {meta['cpu_seconds']:.0f} s CPU in "
        f"{meta['jobs']} worker(s) at niceness {meta['nice']}; numpy {meta['numpy']}, "
        f"scipy {meta['scipy']}, pandas {meta['pandas']}, Python {meta['python']}.\n\n"
        f"Per cell: {meta['pool']} null rows, {meta['reports']} all-null reports of "
        f"{M_HEADLINE} headline + {M_SECONDARY} secondary rows drawn from them, "
        f"{meta['reps']} rows per δ for power. α = {ALPHA}, `same` margin "
        f"{EQUIVALENCE:g}; δ grid {', '.join(f'{100 * d:g}' for d in DELTAS)} %. "
        f"`compare()` agreement check: {meta['agreement']}.\n\n"
        "All figures are percentages. FPR/row: share of null rows flagged better/worse. "
        "FPR/report: share of all-null reports with ≥ 1 flagged headline row (± the "
        f"Monte-Carlo standard error over {BATCHES} disjoint sub-pools). 80 % change: the "
        "true δ that one headline row needs to come out `worse` in 80 % of reports whose "
        "other 49 headline rows (and, for *before*, 50 secondary rows) are null; "
        "'> x (max y %)' means the grid's top δ was not enough and y was the best power "
        "seen. *after, alone*: the same for the row tested alone (q = p), which is what "
        "the reported `mdc` (median over null rows) estimates. Last column: verdict mix "
        "of the null rows under *after*.\n\n" + markdown_table(results) + "\n## Power curves\n\n"
        "Share (%) of the δ rows flagged `worse`, *after* / *before*, in the reports above "
        "(· : not simulated, both rules had reached 90 % power). *after FPR/row alone*: "
        "share of the null rows that would be flagged if each were tested alone (q = p), "
        "the per-row error rate before any multiplicity correction (nominal ≤ 5 %).\n\n"
        + curves_table(results)
    )


def _jsonable(obj):
    if isinstance(obj, float) and math.isinf(obj):
        return "inf" if obj > 0 else "-inf"
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


def run(cells: list[Cell], cfg: Config, jobs: int) -> list[dict]:
    """Every cell's result, in the order of `cells` (independent of `jobs`)."""
    # Largest cells first so that two workers finish together.
    order = sorted(range(len(cells)), key=lambda i: (-cells[i].n, -cells[i].cv))
    results: list[dict | None] = [None] * len(cells)
    if jobs <= 1:
        for i in order:
            results[i] = run_cell(cells[i], cfg)
            print(f"  {cells[i].label}: {results[i]['cpu_seconds']:.0f} s", file=sys.stderr)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {i: pool.submit(run_cell, cells[i], cfg) for i in order}
            for i in order:
                results[i] = futures[i].result()
                print(f"  {cells[i].label}: {results[i]['cpu_seconds']:.0f} s", file=sys.stderr)
    return results  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Simulated false-positive rate and power of the row verdict, "
        "before and after the paired-by-block rewrite (see the module docstring).",
    )
    parser.add_argument("--quick", action="store_true", help="small run (≈ 1 minute)")
    parser.add_argument("--reps", type=int, help="rows per δ for power (full: 500)")
    parser.add_argument("--pool", type=int, help="null rows per cell (full: 16000)")
    parser.add_argument("--reports", type=int, help="all-null reports per cell (full: 8000)")
    parser.add_argument("--seed", type=int, default=1, help="seed (default 1)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--out", type=Path, help="write results.md or results.json")

    def floats(text: str) -> tuple[float, ...]:
        return tuple(float(x) for x in text.split(","))

    parser.add_argument("--n", type=floats, default=NS, help="blocks, comma list (10,20,40)")
    parser.add_argument("--cv", type=floats, default=CVS, help="CVs (0.03,0.1,0.3)")
    parser.add_argument("--rho", type=floats, default=RHOS, help="correlations (0,0.5,0.8)")
    args = parser.parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    for name in sizes:
        if getattr(args, name) is not None:
            sizes[name] = getattr(args, name)
    if args.out is not None and args.out.suffix not in (".md", ".json"):
        parser.error("--out must end in .md or .json")
    cfg = Config(seed=args.seed, **sizes)

    wall, cpu = time.perf_counter(), time.process_time()
    check = agreement_report(args.seed)
    if check["mismatches"]:
        print(f"compare() disagrees with this script: {check['mismatches'][:5]}", file=sys.stderr)
        return 1
    agreement = f"{check['rows']}/{check['rows']} rows identical ({check['verdicts']})"
    print(f"compare() agreement: {agreement}", file=sys.stderr)
    cells = cells_for(tuple(int(n) for n in args.n), args.cv, args.rho)
    results = run(cells, cfg, args.jobs)
    own_cpu = time.process_time() - cpu
    words = sys.argv[1:] if argv is None else argv
    meta = {
        "command": " ".join(["python benchmarks/verdict_power.py", *words]),
        "seed": args.seed,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "wall_seconds": time.perf_counter() - wall,
        # With workers, the cells' CPU time was spent in them, not in this process.
        "cpu_seconds": own_cpu + (sum(r["cpu_seconds"] for r in results) if args.jobs > 1 else 0),
        "jobs": args.jobs,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "python": sys.version.split()[0],
        "agreement": agreement,
        "nice": os.nice(0),
        **sizes,
    }
    text = markdown(results, meta)
    print(text)
    if args.out is not None:
        if args.out.suffix == ".json":
            payload = {"meta": meta, "results": results}
            args.out.write_text(json.dumps(_jsonable(payload), indent=1) + "\n")
        else:
            args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
