"""Statistics stage: known distributions in, the verdicts statistics promises out.

Pure Python and seeded: no toolchains, no runs. Per-process values are drawn from
lognormal distributions (benchmark timings are skewed and positive), one value per
process unless a test is about duplicates.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import false_discovery_control

from harness.stats import (
    COMPARISON_COLUMNS,
    aa_calibration,
    benjamini_hochberg,
    compare,
    estimate,
    mann_whitney_p,
    per_process_values,
    ratio_ci,
    row_rng,
    summarize,
    verdict,
)

SIGMA = 0.05  # per-process noise: ~5%, typical of ns/op across processes


def lognormal(n: int, seed: int, scale: float = 1.0, median: float = 1000.0) -> np.ndarray:
    return median * scale * np.random.default_rng(seed).lognormal(0.0, SIGMA, n)


def frame(
    arms: dict[str, np.ndarray | list[float]],
    *,
    metric: str = "ns/op",
    unit: str | None = None,
    better: str = "lower",
    workload: str = "Scheduler",
    benchmark: str | None = None,
    run_id: str = "r1",
) -> pd.DataFrame:
    """A samples table: one row per value, reps numbered 1.. within each variant."""
    rows = [
        {
            "run_id": run_id,
            "variant": variant,
            "workload": workload,
            "benchmark": benchmark or f"{workload}-2",
            "rep": rep,
            "metric": metric,
            "unit": unit or metric,
            "value": float(v),
            "better": better,
        }
        for variant, values in arms.items()
        for rep, v in enumerate(values, start=1)
    ]
    return pd.DataFrame(rows)


def one(comparisons: pd.DataFrame) -> pd.Series:
    assert len(comparisons) == 1, comparisons
    return comparisons.iloc[0]


# --- the table's shape -----------------------------------------------------------------


def test_columns_are_exactly_the_documented_ones():
    assert COMPARISON_COLUMNS == [
        "benchmark",
        "metric",
        "unit",
        "direction",
        "baseline",
        "candidate",
        "baseline_median",
        "candidate_median",
        "n_baseline",
        "n_candidate",
        "n_pairs",
        "ratio",
        "ci_low",
        "ci_high",
        "p_value",
        "p_min",
        "q_value",
        "family",
        "test",
        "mdc",
        "equivalence",
        "verdict",
        "phase",
    ]
    out = compare(frame({"base": lognormal(5, 1), "cand": lognormal(5, 2)}), "base")
    assert list(out.columns) == COMPARISON_COLUMNS
    empty = compare(frame({"base": [1.0, 2.0]}), "base")
    assert list(empty.columns) == COMPARISON_COLUMNS and empty.empty


def test_unpaired_ratio_is_candidate_median_over_baseline_median():
    """Rep 5 has no candidate value: the blocks are incomplete, the row is unpaired."""
    row = one(compare(frame({"base": [2, 2, 4, 1, 2], "cand": [3, 3, 9, 3]}), "base"))
    assert (row.baseline, row.candidate) == ("base", "cand")
    assert (row.baseline_median, row.candidate_median) == (2.0, 3.0)
    assert row.ratio == 1.5
    assert (row.n_baseline, row.n_candidate, row.n_pairs) == (5, 4, 0)
    assert row.test == "unpaired rank-sum"
    assert (row.benchmark, row.metric, row.unit, row.direction, row.phase) == (
        "Scheduler-2",
        "ns/op",
        "ns/op",
        "lower",
        "all",
    )


# --- verdicts on known distributions ----------------------------------------------------


def test_slower_by_20_percent_is_worse():
    row = one(compare(frame({"base": lognormal(10, 1), "cand": lognormal(10, 2, 1.2)}), "base"))
    assert row.verdict == "worse"
    assert row.q_value < 0.05
    assert 1 < row.ci_low <= row.ratio <= row.ci_high
    assert row.ratio == pytest.approx(1.2, rel=0.05)


def test_faster_by_20_percent_is_better():
    row = one(compare(frame({"base": lognormal(10, 1), "cand": lognormal(10, 2, 0.8)}), "base"))
    assert row.verdict == "better"
    assert row.q_value < 0.05
    assert row.ci_low <= row.ratio <= row.ci_high < 1


@pytest.mark.parametrize("seed", range(5))
def test_same_distribution_is_same_when_the_ci_fits_the_margin(seed):
    samples = frame({"base": lognormal(20, 100 + seed), "cand": lognormal(20, 200 + seed)})
    row = one(compare(samples, "base", equivalence=0.10))
    assert row.verdict == "same" and row.equivalence == 0.10
    assert 0.90 <= row.ci_low <= row.ci_high <= 1.10


@pytest.mark.parametrize("seed", range(5))
def test_same_distribution_with_a_wide_ci_is_inconclusive_not_same(seed):
    """ns/op's default margin is ±2 %; n = 10 at 5 % noise cannot show that: no claim."""
    samples = frame({"base": lognormal(10, 100 + seed), "cand": lognormal(10, 200 + seed)})
    row = one(compare(samples, "base"))
    assert row.equivalence == 0.02
    assert row.verdict == "inconclusive"
    assert row.ci_low < 0.98 or row.ci_high > 1.02


@pytest.mark.parametrize(("scale", "expected"), [(1.2, "better"), (0.8, "worse")])
def test_higher_is_better_flips_the_verdict(scale, expected):
    samples = frame(
        {"base": lognormal(10, 1), "cand": lognormal(10, 2, scale)},
        metric="ops/s",
        better="higher",
    )
    row = one(compare(samples, "base"))
    assert row.direction == "higher"
    assert row.verdict == expected


def test_too_few_processes_is_unreliable_however_large_the_change():
    samples = frame({"base": lognormal(2, 1), "cand": lognormal(2, 2, 3.0)})
    row = one(compare(samples, "base"))
    assert (row.n_baseline, row.n_candidate) == (2, 2)
    assert row.verdict == "unreliable"
    # With min_n = 2 the row is tested, but two blocks are too few to pair and the
    # rank-sum test of 2 vs 2 cannot go below p = 1/3: underpowered, not `same`.
    low_n = one(compare(samples, "base", min_n=2))
    assert low_n.verdict == "underpowered"
    assert low_n.p_min == pytest.approx(1 / 3) and math.isnan(low_n.q_value)


def test_failed_processes_make_rows_unreliable():
    samples = pd.concat(
        [
            frame({"base": lognormal(10, 1), "cand": lognormal(10, 2, 1.2)}, workload="A"),
            frame({"base": lognormal(10, 3), "cand": lognormal(10, 4, 1.2)}, workload="B"),
        ]
    )
    assert set(compare(samples, "base").verdict) == {"worse"}
    by_variant = compare(samples, "base", failed={"cand": 1})
    assert set(by_variant.verdict) == {"unreliable"}
    baseline_side = compare(samples, "base", failed={"base": 2})
    assert set(baseline_side.verdict) == {"unreliable"}
    by_workload = compare(samples, "base", failed={("cand", "B"): 1, ("cand", "A"): 0})
    assert dict(zip(by_workload.benchmark, by_workload.verdict, strict=True)) == {
        "A-2": "worse",
        "B-2": "unreliable",
    }


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "worse"),
        ({"direction": "higher"}, "better"),
        ({"ci_low": 0.99}, "inconclusive"),  # significant but the CI straddles 1
        ({"q_value": 0.05}, "inconclusive"),  # q must be strictly below alpha
        ({"q_value": 0.2, "alpha": 0.25}, "worse"),
        ({"ratio": 0.8, "ci_low": 0.7, "ci_high": 0.9}, "better"),
        # significant and tiny: a real change inside the margin is still a change
        ({"ratio": 1.01, "ci_low": 1.005, "ci_high": 1.015}, "worse"),
        # not significant, CI inside ±2 %: equivalence shown
        ({"q_value": 0.5, "ratio": 1.0, "ci_low": 0.985, "ci_high": 1.015}, "same"),
        ({"q_value": 0.5, "ratio": 1.0, "ci_low": 0.97, "ci_high": 1.03}, "inconclusive"),
        ({"q_value": 0.5, "ci_low": 0.97, "ci_high": 1.03, "equivalence": 0.05}, "same"),
        # the test cannot reach α at this n: underpowered, unless the CI shows equivalence
        ({"p_min": 0.0625, "q_value": math.nan}, "underpowered"),
        ({"p_min": 0.0625, "q_value": math.nan, "ci_low": 0.99, "ci_high": 1.01}, "same"),
        ({"p_min": math.nan, "q_value": math.nan}, "underpowered"),
        ({"q_value": math.nan}, "inconclusive"),
        ({"n_baseline": 2}, "unreliable"),
        ({"n_candidate": 2}, "unreliable"),
        ({"failures": 1}, "unreliable"),
        # undefined ratio (baseline median 0): q decides, the medians give the direction
        (
            {"ratio": math.nan, "ci_low": math.nan, "ci_high": math.nan},
            "worse",
        ),
        (
            {"ratio": math.nan, "ci_low": math.nan, "ci_high": math.nan, "candidate_median": 0},
            "inconclusive",
        ),
    ],
)
def test_verdict_rule(kwargs, expected):
    args = {
        "direction": "lower",
        "ratio": 1.2,
        "ci_low": 1.1,
        "ci_high": 1.3,
        "q_value": 0.01,
        "p_min": 0.002,
        "equivalence": 0.02,
        "n_baseline": 10,
        "n_candidate": 10,
        "baseline_median": 0.0,
        "candidate_median": 5.0,
    }
    assert verdict(**(args | kwargs)) == expected


def test_every_verdict_is_reachable_from_data():
    """worse, better, same, inconclusive, underpowered, unreliable: one row each."""
    samples = pd.concat(
        [
            frame({"base": lognormal(10, 1), "cand": lognormal(10, 2, 1.2)}, metric="slow"),
            frame({"base": lognormal(10, 3), "cand": lognormal(10, 4, 0.8)}, metric="fast"),
            frame({"base": lognormal(40, 55), "cand": lognormal(40, 56)}, metric="flat"),
            frame({"base": lognormal(10, 7), "cand": lognormal(10, 8)}, metric="ns/op"),
            # 3 vs 3 processes in different blocks: unpaired, p ≥ 2 / C(6, 3) = 0.1
            frame({"base": lognormal(3, 9), "cand": lognormal(3, 10, 1.5)}, metric="few").assign(
                rep=[1, 2, 3, 4, 5, 6]
            ),
            frame({"base": lognormal(2, 11), "cand": lognormal(2, 12)}, metric="two"),
        ]
    )
    out = compare(samples, "base").set_index("metric")
    assert out.verdict.to_dict() == {
        "slow": "worse",
        "fast": "better",
        "flat": "same",
        "ns/op": "inconclusive",
        "few": "underpowered",
        "two": "unreliable",
    }
    assert out.loc["few", "p_min"] == pytest.approx(0.1)
    assert math.isnan(out.loc["few", "q_value"])
    assert summarize(out.reset_index()) == {
        "worse": 1,
        "better": 1,
        "inconclusive": 1,
        "underpowered": 1,
        "unreliable": 1,
        "same": 1,
    }


def test_verdict_rejects_unknown_direction():
    with pytest.raises(ValueError, match="direction"):
        verdict(
            direction="up",
            ratio=1,
            ci_low=1,
            ci_high=1,
            q_value=1,
            p_min=0.1,
            equivalence=0.02,
            n_baseline=5,
            n_candidate=5,
        )


# --- edge cases: zeros, ties, NaN, duplicates ---------------------------------------------


def test_zero_baseline_median_leaves_ratio_undefined_and_q_decides():
    samples = frame({"base": [0.0] * 10, "cand": [5.0, 4.0, 6.0, 5.0, 5.0] * 2}, metric="gc")
    row = one(compare(samples, "base"))
    assert math.isnan(row.ratio) and math.isnan(row.ci_low) and math.isnan(row.ci_high)
    assert row.q_value < 0.05
    assert row.verdict == "worse"


def test_all_zero_both_arms_is_same():
    row = one(compare(frame({"base": [0.0] * 6, "cand": [0.0] * 6}, metric="gc"), "base"))
    assert (row.ratio, row.ci_low, row.ci_high) == (1.0, 1.0, 1.0)
    assert row.p_value == 1.0 and row.test == "constant"
    assert row.verdict == "same"


def test_identical_constant_samples_are_same_and_stay_out_of_the_family():
    """A constant row can never be significant: p_min = 1, so it does not enter m."""
    row = one(compare(frame({"base": [85.0] * 8, "cand": [85.0] * 8}), "base"))
    assert row.p_value == 1.0 and row.p_min == 1.0 and math.isnan(row.q_value)
    assert (row.ratio, row.ci_low, row.ci_high) == (1.0, 1.0, 1.0)
    assert row.verdict == "same"
    assert mann_whitney_p([7.0] * 3, [7.0] * 4) == 1.0
    assert math.isnan(mann_whitney_p([], [1.0]))


def test_resampled_zero_baseline_median_does_not_break_the_ci():
    base = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0])  # median 1, often 0 when resampled
    cand = np.array([1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    ci = ratio_ci(base, cand, rng=row_rng(0, "x"))
    assert ci.low <= 2.0 <= ci.high
    assert ci.high == math.inf  # replicates with a 0 baseline median and a >0 candidate one
    assert not math.isnan(ci.low)


def test_nan_values_are_dropped():
    base = [*lognormal(10, 1), math.nan, math.nan]
    row = one(compare(frame({"base": base, "cand": lognormal(10, 2, 1.2)}), "base"))
    assert row.n_baseline == 10
    assert row.verdict == "worse"


def test_an_arm_with_only_nan_is_unreliable_and_left_out_of_bh():
    samples = pd.concat(
        [
            frame({"base": lognormal(10, 1), "cand": [math.nan] * 10}, metric="m1"),
            frame({"base": lognormal(10, 3), "cand": lognormal(10, 4, 1.2)}, metric="m2"),
        ]
    )
    out = compare(samples, "base").set_index("metric")
    assert out.loc["m1", "n_candidate"] == 0
    assert math.isnan(out.loc["m1", "p_value"]) and math.isnan(out.loc["m1", "q_value"])
    assert out.loc["m1", "verdict"] == "unreliable"
    # Only one test counted: the q-value of m2 is its p-value.
    assert out.loc["m2", "q_value"] == out.loc["m2", "p_value"]


def test_duplicate_rows_of_one_process_count_once_by_their_median():
    """A process printing 50 lines (`-count=50`) is one replicate, not 50.

    Candidate: 11 ordinary processes and one pathological process with 50 huge values.
    Counted per row, the huge process would hold 50 of 61 values and its value would be
    the median (ratio ≈ 1000). Per process, it is one outlier among 12: the paired
    Hodges–Lehmann estimate is ordinary.
    """
    base = frame({"base": lognormal(12, 1)})
    cand = frame({"cand": lognormal(11, 2)})
    outlier = frame({"cand": [1e6] * 50}).assign(rep=12)
    row = one(compare(pd.concat([base, cand, outlier]), "base"))
    assert row.n_candidate == 12 and row.n_pairs == 12
    assert row.ratio == pytest.approx(1.0, abs=0.1)  # Hodges–Lehmann shrugs off one pair
    assert row.verdict not in ("worse", "better")

    per = per_process_values(pd.concat([cand, outlier]))
    assert len(per) == 12
    assert per.value.max() == 1e6  # the 50 rows became one value: their median


def test_rep_numbers_of_different_runs_are_different_processes():
    samples = pd.concat(
        [
            frame({"base": lognormal(5, 1), "cand": lognormal(5, 2)}, run_id="r1"),
            frame({"base": lognormal(5, 3), "cand": lognormal(5, 4)}, run_id="r2"),
        ]
    )
    row = one(compare(samples, "base"))
    assert (row.n_baseline, row.n_candidate) == (10, 10)


# --- bootstrap ----------------------------------------------------------------------------


def test_bootstrap_is_deterministic_per_seed():
    # Unpaired (rep 8 of the candidate is missing), so the CI is the bootstrap one.
    samples = frame({"base": lognormal(8, 1), "cand": lognormal(7, 2, 1.1)})
    first, again = compare(samples, "base", seed=7), compare(samples, "base", seed=7)
    pd.testing.assert_frame_equal(first, again)
    other = compare(samples, "base", seed=8)
    assert (other.ci_low.iloc[0], other.ci_high.iloc[0]) != (
        first.ci_low.iloc[0],
        first.ci_high.iloc[0],
    )


def test_a_rows_ci_does_not_depend_on_the_other_rows():
    two = frame({"base": lognormal(8, 1), "cand": lognormal(8, 2, 1.1)})
    three = pd.concat([two, frame({"extra": lognormal(8, 3)})])
    alone = one(compare(two, "base"))
    together = compare(three, "base").set_index("candidate").loc["cand"]
    assert (alone.ci_low, alone.ci_high) == (together.ci_low, together.ci_high)


def test_ci_contains_the_true_ratio_for_large_n():
    base, cand = lognormal(400, 11), lognormal(400, 12, 1.25)
    ci = ratio_ci(base, cand, rng=row_rng(0, "large"))
    assert ci.low < 1.25 < ci.high
    assert ci.high - ci.low < 0.05


def test_ci_coverage_is_near_nominal():
    """Over 100 seeded data sets of n = 20, the 95% CI should cover the true ratio ~95%."""
    cis = [
        ratio_ci(lognormal(20, 2 * i), lognormal(20, 2 * i + 1, 1.1), rng=row_rng(i))
        for i in range(100)
    ]
    assert sum(ci.low <= 1.1 <= ci.high for ci in cis) >= 88


def test_ci_rejects_bad_arguments():
    with pytest.raises(ValueError):
        ratio_ci([1.0], [1.0], n_boot=0, rng=row_rng(0))
    with pytest.raises(ValueError):
        ratio_ci([1.0], [1.0], level=1.0, rng=row_rng(0))


# --- multiple testing -----------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=60))
def test_bh_matches_scipy(p_values):
    np.testing.assert_allclose(
        benjamini_hochberg(p_values), false_discovery_control(p_values), rtol=1e-12, atol=0
    )


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(min_value=0.0, max_value=1.0), st.just(math.nan)),
        min_size=1,
        max_size=60,
    )
)
def test_bh_skips_nan_and_corrects_over_the_rest(p_values):
    p = np.array(p_values)
    q = benjamini_hochberg(p)
    nan = np.isnan(p)
    assert np.array_equal(np.isnan(q), nan)
    if (~nan).any():
        np.testing.assert_allclose(q[~nan], false_discovery_control(p[~nan]), rtol=1e-12)


def test_bh_on_random_p_values_matches_scipy():
    p = np.random.default_rng(3).uniform(size=500) ** 3
    np.testing.assert_allclose(benjamini_hochberg(p), false_discovery_control(p), rtol=1e-12)
    with pytest.raises(ValueError):
        benjamini_hochberg([0.5, 1.5])


def _report(with_aa: bool) -> pd.DataFrame:
    """Headline (ns/op, stw-ns/op) and secondary (B/op, m*) rows, a candidate, maybe an A/A arm."""
    rng = np.random.default_rng(5)
    parts = []
    for i, metric in enumerate(["ns/op", "stw-ns/op", "B/op", "m1", "m2"]):
        for w in ("A", "B", "C"):
            arms = {
                "base": lognormal(12, 10 * i + ord(w)),
                "cand": lognormal(12, 10 * i + ord(w) + 1, rng.choice([1.0, 1.06])),
            }
            if with_aa:
                arms["base-aa"] = lognormal(12, 10 * i + ord(w) + 2)
            parts.append(frame(arms, metric=metric, workload=w))
    return pd.concat(parts)


def test_bh_runs_per_candidate_and_declared_family():
    out = compare(_report(with_aa=True), "base", aa_arms=["base-aa"])
    assert len(out) == 30
    families = out.groupby(["candidate", "family"]).size().to_dict()
    assert families == {("base-aa", "aa"): 15, ("cand", "headline"): 6, ("cand", "secondary"): 9}
    for _, members in out.groupby(["candidate", "family"]):
        np.testing.assert_allclose(members.q_value, false_discovery_control(members.p_value))


def test_adding_an_aa_arm_changes_nothing_in_the_candidates_rows():
    alone = compare(_report(with_aa=False), "base")
    with_aa = compare(_report(with_aa=True), "base", aa_arms=["base-aa"])
    cand = with_aa[with_aa.candidate == "cand"].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, cand)


def test_rows_that_cannot_reach_alpha_do_not_enter_m():
    """Two rows: one significant, one 3 vs 3 unpaired (p_min 0.1). m must be 1."""
    samples = pd.concat(
        [
            frame({"base": lognormal(12, 1), "cand": lognormal(12, 2, 1.03)}),
            frame({"base": lognormal(3, 3), "cand": lognormal(3, 4)}, metric="stw-ns/op").assign(
                rep=[1, 2, 3, 4, 5, 6]
            ),
        ]
    )
    out = compare(samples, "base").set_index("metric")
    assert out.loc["ns/op", "q_value"] == out.loc["ns/op", "p_value"]
    assert math.isnan(out.loc["stw-ns/op", "q_value"])


# --- A/A and the headline -------------------------------------------------------------------


def test_aa_calibration_counts_flagged_and_raw_p_against_the_null():
    parts = [
        frame(
            {"base": lognormal(10, 1000 + i), "base-aa": lognormal(10, 2000 + i)},
            metric=f"metric-{i}",
        )
        for i in range(40)
    ]
    out = compare(pd.concat(parts), "base", aa_arms=["base-aa"])
    assert len(out) == 40 and set(out.family) == {"aa"}
    aa = aa_calibration(out, "base-aa")
    flagged = int(out.verdict.isin(["better", "worse"]).sum())
    below = int((out.p_value < 0.05).sum())
    assert (aa["rows"], aa["tested"], aa["flagged"], aa["raw_below_alpha"]) == (
        40,
        40,
        flagged,
        below,
    )
    assert aa["expected_raw"] == 2.0 and aa["expected_range"] == [0, 5]
    assert aa["raw_ok"] == (below <= 5)
    # Every null is true here: nothing may be flagged after BH (P(≥ 1) ≤ α; seeded).
    assert flagged == 0 and aa["raw_ok"]


def test_aa_calibration_ignores_unreliable_rows_and_other_candidates():
    out = pd.DataFrame(
        {
            "candidate": ["aa", "aa", "aa", "aa", "patch"],
            "verdict": ["worse", "same", "same", "unreliable", "better"],
            "p_value": [0.001, 0.5, 0.04, math.nan, 0.001],
            "q_value": [0.003, 0.5, math.nan, math.nan, 0.001],
        }
    )
    aa = aa_calibration(out, "aa")
    assert (aa["rows"], aa["tested"], aa["flagged"], aa["raw_below_alpha"]) == (3, 2, 1, 1)
    assert aa["rate"] == 1 / 3
    none = aa_calibration(out, "nope")
    assert (none["rows"], none["rate"], none["raw_ok"]) == (0, None, None)


def test_summarize_keeps_every_verdict_with_zeros():
    assert summarize(compare(frame({"base": [1.0]}), "base")) == {
        "worse": 0,
        "better": 0,
        "inconclusive": 0,
        "underpowered": 0,
        "unreliable": 0,
        "same": 0,
    }


# --- rows, variants and phases --------------------------------------------------------------


def test_rows_only_where_both_variants_have_samples_and_candidates_in_order():
    samples = pd.concat(
        [
            frame({"base": lognormal(5, 1), "b": lognormal(5, 2), "a": lognormal(5, 3)}),
            frame({"base": lognormal(5, 4)}, metric="B/op"),
            frame({"a": lognormal(5, 5)}, metric="allocs/op"),
        ]
    )
    out = compare(samples, "base")
    assert list(zip(out.metric, out.candidate, strict=True)) == [
        ("ns/op", "b"),
        ("ns/op", "a"),
    ]
    assert list(compare(samples, "base", ["a"]).candidate) == ["a"]
    # A variant whose processes all failed has no samples: no rows, no error.
    assert list(compare(samples, "base", ["c", "a"]).candidate) == ["a"]
    assert compare(samples, "nope").empty
    with pytest.raises(ValueError, match="cannot also be a candidate"):
        compare(samples, "base", ["base"])


def test_phase_column_splits_rows():
    whole = frame({"base": lognormal(10, 1), "cand": lognormal(10, 2)}, metric="lat")
    mark = frame({"base": lognormal(10, 3), "cand": lognormal(10, 4, 1.2)}, metric="lat").assign(
        phase="mark"
    )
    out = compare(pd.concat([mark, whole.assign(phase=None)]), "base")
    assert list(out.phase) == ["all", "mark"]
    assert out.verdict.iloc[0] not in ("worse", "better") and out.verdict.iloc[1] == "worse"


def test_inconsistent_samples_are_errors():
    samples = frame({"base": lognormal(5, 1), "cand": lognormal(5, 2)})
    with pytest.raises(ValueError, match="unit"):
        compare(samples.assign(unit=["ns"] * 5 + ["ms"] * 5), "base")
    with pytest.raises(ValueError, match="better"):
        compare(samples.assign(better="smaller"), "base")
    with pytest.raises(ValueError, match="lacks column"):
        compare(samples.drop(columns="rep"), "base")


# --- pairing by block ---------------------------------------------------------------------


def blocked(n: int, seed: int, effect: float, *, burst_sd: float = 0.3, noise_sd: float = 0.03):
    """Both arms of a block share a large burst factor (the machine's noise), then each
    process adds its own small noise: what the runs stage's interleaved blocks see."""
    rng = np.random.default_rng(seed)
    burst = rng.normal(0.0, burst_sd, n)
    base = 1000 * np.exp(burst + rng.normal(0.0, noise_sd, n))
    cand = 1000 * effect * np.exp(burst + rng.normal(0.0, noise_sd, n))
    return base, cand


def test_pairing_by_block_sees_a_change_hidden_in_shared_bursts():
    """+5 % under ±30 % bursts that hit both arms: unpaired sees nothing, paired sees it."""
    base, cand = blocked(20, 1, 1.05)
    paired = one(compare(frame({"base": base, "cand": cand}), "base"))
    assert paired.test == "paired signed-rank" and paired.n_pairs == 20
    assert paired.verdict == "worse"
    assert paired.ci_low < 1.05 < paired.ci_high and paired.mdc < 0.05
    shuffled = frame({"base": base, "cand": cand[::-1]})  # the same values, blocks broken
    unpaired_like = one(compare(shuffled, "base"))
    assert unpaired_like.verdict != "worse"
    assert unpaired_like.mdc > 0.1  # its noise is the bursts'


def test_a_block_with_a_missing_process_falls_back_to_the_unpaired_exact_test():
    base, cand = blocked(12, 2, 1.2)
    samples = frame({"base": base, "cand": cand})
    samples = samples[~((samples.variant == "cand") & (samples.rep == 7))]
    row = one(compare(samples, "base"))
    assert row.test == "unpaired rank-sum" and row.n_pairs == 0
    assert (row.n_baseline, row.n_candidate) == (12, 11)
    assert row.p_value == pytest.approx(mann_whitney_p(base, np.delete(cand, 6)))
    # the same row with the block complete is paired
    assert one(compare(frame({"base": base, "cand": cand}), "base")).test == "paired signed-rank"


def test_small_n_uses_the_paired_t_which_has_no_two_to_the_n_floor():
    """At n = 5 a sign-flip test cannot go below 2/32 = 0.0625; the paired t can."""
    base, cand = blocked(5, 3, 1.3, noise_sd=0.02)
    row = one(compare(frame({"base": base, "cand": cand}), "base"))
    assert row.test == "paired t" and row.n_pairs == 5
    assert row.p_min == 0.0 and row.p_value < 0.01
    assert row.verdict == "worse"


def test_signed_rank_hodges_lehmann_ci_covers_near_nominal():
    """100 seeded data sets of n = 20 blocks: the 95 % CI covers the true +10 % ≥ 90 times
    (binomial: P(X < 90 | p = 0.95) ≈ 0.01)."""
    covered = 0
    for seed in range(100):
        base, cand = blocked(20, 1000 + seed, 1.10, noise_sd=0.05)
        row = estimate(
            pd.Series(base, index=range(20)),
            pd.Series(cand, index=range(20)),
            rng=row_rng(seed),
        )
        covered += row.ci_low <= 1.10 <= row.ci_high
    assert covered >= 90
