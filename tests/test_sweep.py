"""The sweep's parts on small frames: the Pareto front, points from flags and TOML, the
block-paired geometric mean ratio (a seeded simulation with stated tolerances), and the
summary's answer on synthetic samples run through the project's own `compare`."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.errors import UsageError
from harness.stats import compare, geomean_ratio, per_process_values
from harness.sweep import (
    BASELINE,
    CONTROL,
    grid_points,
    listed_points,
    make_plan,
    pareto_front,
    plan_from_toml,
    summarize_sweep,
    write_sweep_report,
)
from tests.conftest import REPO
from tests.test_report import assert_fetches_nothing

# --- the front -----------------------------------------------------------------------


def test_the_front_excludes_dominated_points_and_keeps_ties():
    points = {
        "baseline": (1.0, 1.0),
        "a": (0.2, 1.03),  # big gain, some cost
        "b": (0.5, 1.00),  # less gain, no cost
        "c": (0.5, 1.02),  # dominated by b
        "d": (0.2, 1.03),  # a's tie: neither dominates the other
        "e": (1.2, 0.99),  # cheapest, no gain: on the front
        "f": (math.nan, 0.5),  # not measured: neither on it nor dominating
    }
    assert pareto_front(points) == {"a", "b", "d", "e"}
    assert pareto_front({"x": (1.0, 1.0)}) == {"x"}
    assert pareto_front({"x": (1.0, 1.0), "y": (1.0, 1.0)}) == {"x", "y"}


# --- points and plans ----------------------------------------------------------------


def test_grid_points_are_every_combination_but_the_control():
    points = grid_points(["gcrunnextfirst=0,1", "gcdrainstart=0,2"])
    assert [p.name for p in points] == [
        "gcdrainstart2",
        "gcrunnextfirst1",
        "gcrunnextfirst1+gcdrainstart2",
    ]
    assert points[2].godebug == {"gcrunnextfirst": "1", "gcdrainstart": "2"}
    listed = listed_points(
        ["plain:gcrunnextfirst=1", "bounded:gcrunnextfirst=1,gcrunnextbudget=200"]
    )
    assert listed[1].godebug == {"gcrunnextfirst": "1", "gcrunnextbudget": "200"}
    plan = make_plan("1.27.3", "make", ["/p.patch"], listed, "plain")
    variants = plan.variants()
    assert [v.name for v in variants] == [BASELINE, CONTROL, "plain", "bounded"]
    assert variants[0].patches == () and variants[1].patches == ("/p.patch",)
    assert (
        variants[1].godebug == {}
        and variants[3].godebug_text == "gcrunnextbudget=200,gcrunnextfirst=1"
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: grid_points(["gcrunnextfirst"]), "want KNOB=V1"),
        (lambda: grid_points(["a=1", "a=2"]), "a knob named twice"),
        (lambda: listed_points(["plain"]), "want NAME:KNOB=V"),
        (lambda: listed_points(["plain:Bad-Knob=1"]), "plain"),
        (lambda: make_plan("1.27.3", "make", ["/p"], []), "no points"),
        (lambda: make_plan("1.27.3", "make", [], listed_points(["a:k=1"])), "knob-gated patch"),
        (
            lambda: make_plan("1.27.3", "make", ["/p"], listed_points(["a:k=1"]), "zz"),
            "reference 'zz'",
        ),
        (lambda: make_plan("1.27.3", "make", ["/p"], listed_points(["knobs-off:k=1"])), "not ["),
        (
            lambda: make_plan("1.27.3", "make", ["/p"], listed_points(["a:k=1", "b:k=1"])),
            "same knobs",
        ),
    ],
)
def test_bad_points_are_usage_errors(make, message):
    with pytest.raises(UsageError, match=message.replace("[", r"\[")):
        make()


def test_the_example_sweep_file_and_bad_files(tmp_path):
    plan = plan_from_toml(REPO / "examples" / "sweep-runqget.toml")
    assert plan.reference_point == "runnext-first" and len(plan.points) == 4
    assert Path(plan.patches[0]) == REPO / "patches" / "runqget-knobs.patch"
    cases = {
        'go = "1.27.3"\npatches = ["p"]\n': "give [[point]] tables or a [grid]",
        'go = "1.27.3"\npatches = ["p"]\ncolour = 1\n[grid]\nk = [0, 1]\n': "colour",
        'go = "1.27.3"\npatches = ["p"]\n[[point]]\nname = "a"\ngodebug = {}\n': "godebug",
    }
    for text, message in cases.items():
        path = tmp_path / "s.toml"
        path.write_text(text)
        with pytest.raises(UsageError, match=message.replace("[", r"\[")) as info:
            plan_from_toml(path)
        assert str(path) in str(info.value)


# --- the block-paired geometric mean ----------------------------------------------------


def _blocks(rng, n_blocks: int, rows: int, effect: float, variants=("baseline", "cand")):
    """Per-process values with bursty block noise shared by both arms of a block."""
    out = []
    for rep in range(1, n_blocks + 1):
        burst = rng.normal(0, 0.08)  # hits every arm of the block
        for r in range(rows):
            level = 1000.0 * (r + 1)
            for variant in variants:
                scale = effect if variant != "baseline" else 1.0
                value = level * scale * math.exp(burst + rng.normal(0, 0.02))
                out.append((variant, f"W{r}-2", rep, value))
    frame = pd.DataFrame(out, columns=["variant", "benchmark", "rep", "value"])
    frame["workload"], frame["metric"], frame["unit"] = frame.benchmark, "ns/op", "ns/op"
    frame["better"], frame["phase"] = "lower", "all"
    values = per_process_values(frame)
    values["row"] = list(zip(values.benchmark, values.metric, values.phase, strict=True))
    return values, [(f"W{r}-2", "ns/op", "all") for r in range(rows)]


def test_geomean_ratio_covers_the_true_ratio_and_sees_five_percent():
    # 300 seeded simulations of 10 blocks × 4 workloads, +5 % on every workload.
    # Tolerances: coverage of the 95 % CI within 0.90–0.99; power to exclude 1 ≥ 0.9.
    rng = np.random.default_rng(7)
    covered = excluded = 0
    trials = 300
    for _ in range(trials):
        values, rows = _blocks(rng, 10, 4, 1.05)
        result = geomean_ratio(values, "baseline", "cand", rows)
        assert result is not None and result.n_pairs == 10
        covered += result.ci_low <= 1.05 <= result.ci_high
        excluded += result.ci_low > 1.0
    assert 0.90 <= covered / trials <= 0.99, covered / trials
    assert excluded / trials >= 0.9, excluded / trials


def test_geomean_ratio_needs_both_arms_and_positive_values():
    values, rows = _blocks(np.random.default_rng(1), 4, 2, 1.0)
    assert geomean_ratio(values, "baseline", "other", rows) is None
    assert geomean_ratio(values, "baseline", "cand", [("nope", "ns/op", "all")]) is None
    zero = values.copy()
    zero.loc[zero.benchmark == "W0-2", "value"] = 0.0
    only = geomean_ratio(zero, "baseline", "cand", rows)  # W0 dropped, W1 kept
    assert only is not None and only.n_pairs == 4


# --- the summary on synthetic samples ----------------------------------------------------


def _sweep_samples(seed: int = 3) -> pd.DataFrame:
    """12 blocks. Throughput W0..W2 ns/op; two probe scenarios' mark-phase p99.
    plain: p99 ×0.2, ns/op +3 %; cheap: p99 ×0.3, ns/op −0.5 % (inside ±2 %);
    knobs-off: the baseline again."""
    rng = np.random.default_rng(seed)
    effects = {  # variant: (ns/op ratio, mark p99 ratio)
        BASELINE: (1.0, 1.0),
        CONTROL: (1.0, 1.0),
        "plain": (1.03, 0.2),
        "cheap": (0.995, 0.3),  # a hair cheaper: it dominates the baseline
    }
    rows = []
    for rep in range(1, 13):
        burst = rng.normal(0, 0.05)
        for variant, (cost, gain) in effects.items():
            for w in range(3):
                v = 1e4 * (w + 1) * cost * math.exp(burst + rng.normal(0, 0.002))
                rows.append((variant, f"W{w}", f"W{w}-2", rep, "ns/op", "ns/op", v, "all"))
            for s in ("probe-2", "probe-busy-2"):
                v = 5e5 * gain * math.exp(burst + rng.normal(0, 0.05))
                rows.append((variant, s[:-2], s, rep, "start-latency-p99-ns", "ns", v, "mark"))
    frame = pd.DataFrame(rows, columns=["variant", "workload", "benchmark", "rep", "metric",
                                        "unit", "value", "phase"])  # fmt: skip
    frame["better"] = "lower"
    return frame


def test_the_summary_finds_the_cheap_design_and_says_why_the_plain_one_fails(tmp_path):
    samples = _sweep_samples()
    comparisons = compare(samples, BASELINE, [CONTROL, "plain", "cheap"])
    points = listed_points(["plain:gcrunnextfirst=1", "cheap:gcrunnextfirst=1,gcrunnextbudget=200"])
    plan = make_plan("1.27.3", "make", ["/p"], points, "plain")
    result = summarize_sweep(plan, "run-1", samples, comparisons)
    plain, cheap = result.points
    assert result.scenarios == ["probe-2", "probe-busy-2"] and len(result.throughput) == 3
    assert plain.gain.ratio == pytest.approx(0.2, rel=0.1)
    assert plain.cost.ratio == pytest.approx(1.03, abs=0.005)
    assert cheap.kept == pytest.approx(0.7 / 0.8, abs=0.05)
    assert cheap.meets and not plain.meets
    assert any("3 of 3 ns/op rows" in r and "(3 worse)" in r for r in plain.why_not)
    assert result.front == ["plain", "cheap"]  # baseline is dominated by cheap
    assert result.isolation.established, result.isolation.not_same
    assert result.answer.startswith("Yes: cheap")
    paths = write_sweep_report(tmp_path, result)
    html = paths["sweep.html"].read_text()
    assert "<svg" in html and 'id="front"' in html and "Yes: cheap" in html
    assert_fetches_nothing(html)


def test_the_answer_names_the_binding_cost_when_nothing_qualifies():
    samples = _sweep_samples()
    samples = samples[samples.variant != "cheap"]
    comparisons = compare(samples, BASELINE, [CONTROL, "plain"])
    plan = make_plan("1.27.3", "make", ["/p"], listed_points(["plain:gcrunnextfirst=1"]))
    result = summarize_sweep(plan, "run-1", samples, comparisons)
    assert result.answer.startswith("No point keeps ≥ 80 %")
    assert "plain: cost: 3 of 3 ns/op rows" in result.answer
