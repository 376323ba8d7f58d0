"""Change detection on synthetic histories (pure pandas, seeded): a known step is found at
its night, pure noise raises (almost) nothing and its false-alarm rate is measured, a
slow drift is documented, an A/A control calibrates a young series' threshold.

`replay` plays a history night by night the way `stwbench nightly` does (record.py
`_judge`): detect on the nights up to tonight with the known steps of earlier alerts,
reconcile with the open alerts, raise new ones, resolve reverted ones.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from harness.history.alerts import describe, known_steps, reconcile, toolchain_change
from harness.history.detect import (
    CHANGES,
    FINDING_COLUMNS,
    DetectParams,
    detect,
    detect_processes,
    find_step,
    night_changes,
    night_medians,
    noise_threshold,
    process_values,
)

START = dt.date(2026, 1, 1)


def night(i: int) -> dt.date:
    return START + dt.timedelta(days=i)


def synthetic(
    seed: int,
    *,
    nights: int = 30,
    reps: int = 5,
    level: float = 20_000.0,
    step_at: int | None = None,
    factor: float = 1.0,
    back_at: int | None = None,
    drift: float = 0.0,
    process_sd: float = 0.03,
    night_sd: float = 0.01,
    heavy_tail: bool = False,
    metric: str = "ns/op",
    better: str = "lower",
) -> pd.DataFrame:
    """A samples frame: per night a shared night effect, per process lognormal noise
    (or Gumbel: skewed, heavy right tail like p99 latencies), an optional step of
    `factor` from night index `step_at` (and back from `back_at`), an optional drift."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(nights):
        stepped = step_at is not None and i >= step_at and (back_at is None or i < back_at)
        mean = level * (1 + drift) ** i * (factor if stepped else 1.0)
        effect = rng.normal(0, night_sd)
        for rep in range(1, reps + 1):
            noise = rng.gumbel(0, process_sd) if heavy_tail else rng.normal(0, process_sd)
            rows.append(
                {
                    "night": night(i),
                    "workload": "Scheduler",
                    "benchmark": "Scheduler-2",
                    "rep": rep,
                    "metric": metric,
                    "unit": "ns/op" if metric == "ns/op" else "ns",
                    "value": mean * math.exp(effect + noise),
                    "better": better,
                }
            )
    return pd.DataFrame(rows)


def replay(history: pd.DataFrame, *, control=None, params=None, first: int = 2) -> pd.DataFrame:
    """Every night from index `first` on, as the nightly job would see it: the alerts."""
    per = process_values(history)
    control_per = process_values(control) if control is not None else None
    alerts = pd.DataFrame(columns=[*FINDING_COLUMNS, "id", "kind", "raised_night"])
    alerts["resolved_night"] = None
    steps: dict = {}
    for tonight in sorted(per["night"].unique())[first:]:
        findings = detect_processes(
            per, tonight, control=control_per, known_steps=steps, params=params
        )
        if not findings["status"].isin(CHANGES).any():
            continue  # nothing to raise, nothing to resolve (most nights)
        reconciled = reconcile(findings, alerts[alerts["status"] == "open"])
        for alert_id, _ in reconciled.resolved:
            alerts.loc[alerts["id"] == alert_id, ["status", "resolved_night"]] = [
                "resolved",
                tonight,
            ]
        new = reconciled.new.assign(
            id=range(len(alerts), len(alerts) + len(reconciled.new)),
            kind=reconciled.new["status"],
            raised_night=tonight,
            status="open",
            resolved_night=None,
        )
        alerts = pd.concat([alerts, new], ignore_index=True) if len(new) else alerts
        steps = known_steps(alerts)
    return alerts


# --- the pieces ---------------------------------------------------------------------


def test_noise_threshold_is_rustc_perfs_q3_plus_3_iqr():
    changes = np.array([0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10, 0.11, 0.12])
    q1, q3 = np.percentile(changes, [25, 75])
    assert noise_threshold(changes, iqr_k=3, min_changes=12) == pytest.approx(q3 + 3 * (q3 - q1))
    assert math.isnan(noise_threshold(changes[:11], iqr_k=3, min_changes=12))
    # Changes never cross a segment boundary (a known step is not noise).
    assert night_changes([100, 110], [200, 200]) == pytest.approx([math.log(1.1), 0.0])


def test_find_step_puts_the_split_at_the_first_changed_night():
    levels = np.log(np.array([10, 10.2, 9.9, 10.1, 13, 13.1, 12.9]))
    assert find_step(levels, list(range(2, 7))) == 4


def test_duplicate_rows_of_one_process_count_once_by_their_median():
    history = synthetic(1, nights=3, reps=2)
    doubled = pd.concat([history, history.assign(value=history["value"] * 3)])
    medians = night_medians(doubled)
    assert (medians["n"] == 2).all()


def test_a_young_series_has_insufficient_history():
    findings = detect(synthetic(1, nights=2), night(1))
    assert findings["status"].tolist() == ["insufficient-history"]
    assert findings["tonight_median"].iloc[0] > 0


def test_constant_and_zero_metrics_are_no_change_without_errors():
    history = synthetic(1, nights=8, process_sd=0, night_sd=0)
    zeros = history.assign(metric="gc-cycles/op", unit="gc-cycles/op", value=0.0)
    findings = detect(pd.concat([history, zeros]), night(7))
    assert set(findings["status"]) == {"no-change"}


def test_detect_params_from_a_config_table():
    assert DetectParams.from_mapping({"alpha": "0.05", "window": 20}).window == 20
    with pytest.raises(ValueError, match="unknown detection settings"):
        DetectParams.from_mapping({"alhpa": 0.05})


# --- steps ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_a_twenty_percent_step_is_flagged_at_its_night(seed):
    # 3 % process and 1 % night noise: the threshold learned from 19 nights is ≈ 10 %.
    history = synthetic(seed, step_at=20, factor=1.20)
    alerts = replay(history)
    assert len(alerts) == 1, alerts[["night", "first_bad_night", "ratio", "threshold"]]
    alert = alerts.iloc[0]
    assert alert["kind"] == "regression"
    assert alert["first_bad_night"] == night(20) and alert["last_good_night"] == night(19)
    assert alert["raised_night"] == night(20)
    assert alert["threshold_source"] == "history" and alert["confidence"] in ("medium", "high")
    assert 0.05 < alert["threshold"] < 0.15
    assert 1.12 < alert["ratio"] < 1.28 and alert["ci_low"] > 1.0
    assert alert["p_value"] < 0.01


def test_a_step_down_of_a_higher_is_better_metric_is_a_regression():
    history = synthetic(3, step_at=22, factor=0.85, metric="ops/s", better="higher")
    alerts = replay(history)
    assert alerts["kind"].tolist() == ["regression"]
    assert alerts["first_bad_night"].tolist() == [night(22)]


def test_an_improvement_is_an_improvement_and_a_revert_resolves_the_regression():
    up_and_back = replay(synthetic(4, step_at=16, factor=1.3, back_at=24))
    assert up_and_back["kind"].tolist() == ["regression"]  # the revert is no new alert
    alert = up_and_back.iloc[0]
    assert alert["first_bad_night"] == night(16)
    assert alert["status"] == "resolved" and alert["resolved_night"] == night(24)

    better = replay(synthetic(5, step_at=18, factor=0.7))
    assert better["kind"].tolist() == ["improvement"] and better["status"].tolist() == ["open"]


def test_a_big_step_on_the_third_night_is_flagged_with_low_confidence():
    """The nightly acceptance case: two nights of history, then a 3× slowdown."""
    history = synthetic(6, nights=3, step_at=2, factor=3.0, reps=4)
    findings = detect(history, night(2))
    row = findings.iloc[0]
    assert row["status"] == "regression" and row["first_bad_night"] == night(2)
    assert row["threshold_source"] == "short-history" and row["confidence"] == "low"
    assert row["p_value"] < 0.01 and row["ci_low"] > 2.0


def test_a_step_noticed_a_night_late_names_its_first_night():
    # On night 21 only one process survived: not evidence enough (p ≥ 0.01 with n = 1).
    # Night 22 confirms the step; the alert names night 21, where the level changed.
    history = synthetic(11, step_at=21, factor=1.3)
    history = history[(history["night"] != night(21)) | (history["rep"] == 1)]
    alerts = replay(history)
    assert len(alerts) == 1
    alert = alerts.iloc[0]
    assert alert["raised_night"] == night(22)
    assert alert["first_bad_night"] == night(21) and alert["last_good_night"] == night(20)


# --- noise ----------------------------------------------------------------------------

NOISE = {
    # ns/op-like: small process noise, small night effect
    "gaussian": {"process_sd": 0.03, "night_sd": 0.01},
    # tail-latency-like: skewed heavy-tailed processes, big night effect
    "heavy-tail": {"process_sd": 0.2, "night_sd": 0.05, "heavy_tail": True},
    # night effects dominate the process noise (a machine whose state changes daily)
    "night-dominated": {"process_sd": 0.02, "night_sd": 0.05},
}


def test_pure_noise_false_alarm_rate():
    """200 seeded histories × 30 nights, each with one key per noise profile, replayed
    night by night (nights 3-30: 28 verdicts per key): false alarms per key and night."""
    alarms = dict.fromkeys(NOISE, 0)
    for seed in range(200):
        history = pd.concat(
            synthetic(1000 + 7 * seed + i, metric=name, **noise)
            for i, (name, noise) in enumerate(NOISE.items())
        )
        for metric, n in replay(history)["metric"].value_counts().items():
            alarms[metric] += int(n)
    rates = {name: n / (200 * 28) for name, n in alarms.items()}
    total = sum(alarms.values()) / (200 * 28 * len(NOISE))
    print(
        f"false alarms on pure noise: {sum(alarms.values())} in {200 * 28 * len(NOISE)} "
        "key-nights; per key-night "
        + ", ".join(f"{k} {v:.3%}" for k, v in rates.items())
        + f"; overall {total:.3%}"
    )
    assert all(rate <= 0.004 for rate in rates.values()), rates
    assert total <= 0.002, rates


@pytest.mark.parametrize("seed", range(3))
def test_pure_noise_on_the_newest_night_raises_nothing(seed):
    for name, noise in NOISE.items():
        findings = detect(synthetic(seed, **noise), night(29))
        assert findings["status"].iloc[0] == "no-change", (name, findings.iloc[0].to_dict())


# --- drift ----------------------------------------------------------------------------


def test_slow_drift_below_the_noise_floor_raises_nothing():
    """0.2 %/night (6 % in a month) under 3 % process / 1 % night noise: never flagged.
    The rule looks for steps; the trend plot is where a drift this slow shows."""
    for seed in range(10):
        assert replay(synthetic(seed, drift=0.002)).empty


def test_fast_drift_is_flagged_in_steps_of_about_the_threshold():
    """3 %/night: flagged repeatedly, each alert a step of roughly the noise threshold
    whose first bad night lies within the last week (the fitted change point)."""
    alerts = replay(synthetic(7, drift=0.03))
    assert len(alerts) >= 2
    assert (alerts["kind"] == "regression").all()
    for _, alert in alerts.iterrows():
        assert alert["ratio"] > 1 + alert["threshold"]
        assert (alert["raised_night"] - alert["first_bad_night"]).days < 7


# --- A/A calibration ------------------------------------------------------------------


def test_a_quiet_control_lets_a_young_series_see_a_small_step():
    young = synthetic(21, nights=5, step_at=4, factor=1.12, process_sd=0.01, night_sd=0.005)
    control = synthetic(22, nights=5 + 25, process_sd=0.01, night_sd=0.005)
    control = control.assign(night=[n - dt.timedelta(days=25) for n in control["night"]])
    alone = detect(young, night(4)).iloc[0]
    assert alone["status"] == "no-change" and alone["threshold_source"] == "short-history"
    calibrated = detect(young, night(4), control=control).iloc[0]
    assert calibrated["threshold_source"] == "control" and calibrated["threshold"] < 0.1
    assert calibrated["status"] == "regression" and calibrated["confidence"] in ("medium", "high")


def test_a_noisy_control_raises_the_threshold():
    history = synthetic(23, step_at=20, factor=1.20)
    noisy = synthetic(24, night_sd=0.15)
    finding = detect(history, night(20), control=noisy).iloc[0]
    assert detect(history, night(20)).iloc[0]["status"] == "regression"  # alone: flagged
    assert finding["threshold_source"] == "control" and finding["threshold"] > 0.3
    assert finding["status"] == "no-change"


# --- alerts' words ----------------------------------------------------------------------


def test_toolchain_change_names_what_changed_between_the_nights():
    good = {
        "night": night(1),
        "toolchain_key": "a" * 64,
        "go_version": "1.27.3",
        "mode": "make",
        "patches_json": '[{"name": "runqget-priority.patch", "sha256": "' + "1" * 64 + '"}]',
        "env_json": "{}",
    }
    slow = '{"name": "test-only-slow-newproc.patch", "sha256": "' + "2" * 64 + '"}'
    bad = {
        **good,
        "night": night(2),
        "toolchain_key": "b" * 64,
        "go_version": "1.27.4",
        "patches_json": good["patches_json"][:-1] + ", " + slow + "]",
    }
    text, detail = toolchain_change(good, bad)
    assert "go 1.27.3 → 1.27.4" in text
    assert "+ patch test-only-slow-newproc.patch (222222222222)" in text
    assert "key aaaaaaaaaaaa → bbbbbbbbbbbb" in text and detail["changed"]
    same, detail = toolchain_change(good, {**good, "night": night(2)})
    assert same.startswith("no toolchain change") and not detail["changed"]
    revised = {**good, "patches_json": good["patches_json"].replace("1" * 64, "3" * 64)}
    assert (
        "patch runqget-priority.patch 111111111111 → 333333333333"
        in toolchain_change(good, {**revised, "toolchain_key": "c" * 64})[0]
    )


def test_describe_reads_like_the_report():
    alert = {
        "kind": "regression",
        "series": "go1.27",
        "benchmark": "Scheduler-2",
        "metric": "ns/op",
        "phase": "all",
        "ratio": 3.1,
        "ci_low": 2.9,
        "ci_high": 3.3,
        "p_value": 0.0007,
        "confidence": "low",
        "threshold": 0.25,
        "threshold_source": "short-history",
        "first_bad_night": night(2),
        "last_good_night": night(1),
        "toolchain_change": "+ patch x.patch (abc)",
    }
    text = describe(alert)
    assert text.startswith("REGRESSION go1.27 Scheduler-2 ns/op: +210% [+190%, +230%]")
    # Since schema v4 an alert is one machine's, and says which.
    on = describe({**alert, "machine": "bench-1"})
    assert on.startswith("REGRESSION go1.27 Scheduler-2 ns/op on bench-1: +210% [+190%, +230%]")
    assert "first bad night 2026-01-03, last good 2026-01-02" in text
    assert "toolchain: + patch x.patch (abc)" in text


# --- one history per machine ------------------------------------------------------------


def test_detection_is_per_machine_a_step_on_one_machine_is_no_step_on_the_other():
    """Machine A steps 1.3× on night 20, machine B (a 2× slower machine, same toolchain)
    does not: each machine's history, replayed alone, alerts for A only. Judged as one
    history the two would be noise of each other's level, so detection refuses a frame
    that mixes machines."""
    a = synthetic(31, step_at=20, factor=1.3).assign(machine="bench-a")
    b = synthetic(32, level=40_000.0).assign(machine="bench-b")
    alerts = {m: replay(h) for m, h in (("bench-a", a), ("bench-b", b))}
    assert alerts["bench-a"]["kind"].tolist() == ["regression"]
    assert alerts["bench-a"]["first_bad_night"].tolist() == [night(20)]
    assert alerts["bench-b"].empty
    with pytest.raises(ValueError, match="mixes machines"):
        detect(pd.concat([a, b]), night(20))
    with pytest.raises(ValueError, match="mixes machines"):
        detect(a, night(20), control=pd.concat([a, b]))
