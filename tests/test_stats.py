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
    aa_false_positive_rate,
    benjamini_hochberg,
    compare,
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
        "ratio",
        "ci_low",
        "ci_high",
        "p_value",
        "q_value",
        "verdict",
        "phase",
    ]
    out = compare(frame({"base": lognormal(5, 1), "cand": lognormal(5, 2)}), "base")
    assert list(out.columns) == COMPARISON_COLUMNS
    empty = compare(frame({"base": [1.0, 2.0]}), "base")
    assert list(empty.columns) == COMPARISON_COLUMNS and empty.empty


def test_ratio_is_candidate_median_over_baseline_median():
    row = one(compare(frame({"base": [2, 2, 4, 1, 2], "cand": [3, 3, 9, 3, 1]}), "base"))
    assert (row.baseline, row.candidate) == ("base", "cand")
    assert (row.baseline_median, row.candidate_median) == (2.0, 3.0)
    assert row.ratio == 1.5
    assert (row.n_baseline, row.n_candidate) == (5, 5)
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
def test_same_distribution_is_same(seed):
    samples = frame({"base": lognormal(10, 100 + seed), "cand": lognormal(10, 200 + seed)})
    assert one(compare(samples, "base")).verdict == "same"


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
    assert one(compare(samples, "base", min_n=2)).verdict == "same"  # p ≥ 1/3 at n = 2


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
        ({"ci_low": 0.99}, "same"),  # significant but the CI straddles 1
        ({"q_value": 0.05}, "same"),  # q must be strictly below alpha
        ({"q_value": 0.2, "alpha": 0.25}, "worse"),
        ({"ratio": 0.8, "ci_low": 0.7, "ci_high": 0.9}, "better"),
        ({"n_baseline": 2}, "unreliable"),
        ({"n_candidate": 2}, "unreliable"),
        ({"failures": 1}, "unreliable"),
        ({"q_value": math.nan}, "unreliable"),
        # undefined ratio (baseline median 0): q decides, the medians give the direction
        (
            {"ratio": math.nan, "ci_low": math.nan, "ci_high": math.nan},
            "worse",
        ),
        (
            {"ratio": math.nan, "ci_low": math.nan, "ci_high": math.nan, "candidate_median": 0},
            "same",
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
        "n_baseline": 10,
        "n_candidate": 10,
        "baseline_median": 0.0,
        "candidate_median": 5.0,
    }
    assert verdict(**(args | kwargs)) == expected


def test_verdict_rejects_unknown_direction():
    with pytest.raises(ValueError, match="direction"):
        verdict(
            direction="up",
            ratio=1,
            ci_low=1,
            ci_high=1,
            q_value=1,
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
    assert math.isnan(row.ratio)
    assert row.p_value == 1.0
    assert row.verdict == "same"


def test_identical_constant_samples_are_same_with_p_one():
    row = one(compare(frame({"base": [85.0] * 8, "cand": [85.0] * 8}), "base"))
    assert row.p_value == 1.0 and row.q_value == 1.0
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

    Candidate: 9 ordinary processes and one pathological process with 50 huge values.
    Counted per row, the huge process would hold 50 of 59 values and its value would be
    the median (ratio ≈ 1000). Per process, it is one outlier among 10: the median is
    ordinary, and resampling processes keeps the CI near 1.
    """
    base = frame({"base": lognormal(10, 1)})
    cand = frame({"cand": lognormal(9, 2)})
    outlier = frame({"cand": [1e6] * 50}).assign(rep=10)
    row = one(compare(pd.concat([base, cand, outlier]), "base"))
    assert row.n_candidate == 10
    assert row.ratio == pytest.approx(1.0, abs=0.1)
    assert row.ci_high < 1.2
    assert row.verdict == "same"

    per = per_process_values(pd.concat([cand, outlier]))
    assert len(per) == 10
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
    samples = frame({"base": lognormal(8, 1), "cand": lognormal(8, 2, 1.1)})
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


def test_q_values_correct_over_every_row_of_the_report():
    rng = np.random.default_rng(5)
    parts = [
        frame(
            {
                "base": lognormal(6, 10 * i),
                "cand": lognormal(6, 10 * i + 1, rng.choice([1.0, 1.1])),
                "aa": lognormal(6, 10 * i + 2),
            },
            metric=f"m{i}",
        )
        for i in range(8)
    ]
    out = compare(pd.concat(parts), "base")
    assert len(out) == 16
    np.testing.assert_allclose(out.q_value, false_discovery_control(out.p_value))


# --- A/A and the headline -------------------------------------------------------------------


def test_aa_false_positive_rate():
    parts = [
        frame(
            {"base": lognormal(10, 1000 + i), "base-aa": lognormal(10, 2000 + i)},
            metric=f"metric-{i}",
        )
        for i in range(20)
    ]
    out = compare(pd.concat(parts), "base")
    assert len(out) == 20 and set(out.candidate) == {"base-aa"}
    aa = aa_false_positive_rate(out, "base-aa")
    flagged = int(out.verdict.isin(["better", "worse"]).sum())
    assert aa == {"rows": 20, "flagged": flagged, "rate": flagged / 20}
    assert aa["rate"] <= 0.2


def test_aa_rate_ignores_unreliable_rows_and_other_candidates():
    out = pd.DataFrame(
        {
            "candidate": ["aa", "aa", "aa", "aa", "patch"],
            "verdict": ["worse", "same", "same", "unreliable", "better"],
        }
    )
    assert aa_false_positive_rate(out, "aa") == {"rows": 3, "flagged": 1, "rate": 1 / 3}
    assert aa_false_positive_rate(out, "nope") == {"rows": 0, "flagged": 0, "rate": None}


def test_summarize_counts_every_verdict():
    samples = pd.concat(
        [
            frame({"base": lognormal(10, 1), "cand": lognormal(10, 2, 1.2)}, metric="slow"),
            frame({"base": lognormal(10, 3), "cand": lognormal(10, 4, 0.8)}, metric="fast"),
            frame({"base": lognormal(10, 5), "cand": lognormal(10, 6)}, metric="flat"),
            frame({"base": lognormal(2, 7), "cand": lognormal(2, 8)}, metric="few"),
        ]
    )
    assert summarize(compare(samples, "base")) == {
        "better": 1,
        "worse": 1,
        "same": 1,
        "unreliable": 1,
    }
    assert summarize(compare(frame({"base": [1.0]}), "base")) == {
        "better": 0,
        "worse": 0,
        "same": 0,
        "unreliable": 0,
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
    assert list(zip(out.phase, out.verdict, strict=True)) == [("all", "same"), ("mark", "worse")]


def test_inconsistent_samples_are_errors():
    samples = frame({"base": lognormal(5, 1), "cand": lognormal(5, 2)})
    with pytest.raises(ValueError, match="unit"):
        compare(samples.assign(unit=["ns"] * 5 + ["ms"] * 5), "base")
    with pytest.raises(ValueError, match="better"):
        compare(samples.assign(better="smaller"), "base")
    with pytest.raises(ValueError, match="lacks column"):
        compare(samples.drop(columns="rep"), "base")
