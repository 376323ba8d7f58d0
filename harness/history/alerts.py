"""From tonight's findings to alerts: what is new, what an earlier alert's revert closed,
and which toolchain change lies between the last good and the first bad night.

Pure functions on DataFrames and dicts (record.py does the reading and writing). The
alerts they are given are one series' on one machine (record.py reads them per series
and machine): a step on one machine never resolves, nor bounds, another's.

- `known_steps(alerts)`: per key, the night its level last changed (an alert's first
  bad night, or the night it was resolved): detection compares nothing across it.
- `reconcile(findings, open_alerts)`: a finding of the opposite kind to an open alert
  whose level after the step is back within the threshold of the alert's level before
  it *resolves* that alert (the revert needs the same evidence as the alert did); every
  other regression/improvement finding is a *new* alert. An open alert stays open
  until then, however many nights pass.
- `toolchain_change(last_good, first_bad)`: what changed between two nights' toolchains
  (go version, patches by name and sha256, mode, env, cache key), for people and JSON.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from harness.history.detect import CHANGES, KEY, as_date
from harness.report import change, interval, pvalue

OPPOSITE = {"regression": "improvement", "improvement": "regression"}


def known_steps(alerts: pd.DataFrame) -> dict[tuple, object]:
    steps: dict[tuple, object] = {}
    for _, row in alerts.iterrows():
        key = tuple(row[k] for k in KEY)
        for night in (row.get("first_bad_night"), row.get("resolved_night")):
            if night is None or (isinstance(night, float) and math.isnan(night)):
                continue
            night = as_date(night)
            if key not in steps or night > steps[key]:
                steps[key] = night
    return steps


@dataclass
class Reconciled:
    new: pd.DataFrame  # findings rows that become alerts
    resolved: list[tuple[int, int]]  # (alert id, index of the finding that resolved it)


def reconcile(findings: pd.DataFrame, open_alerts: pd.DataFrame) -> Reconciled:
    changes = findings[findings["status"].isin(CHANGES)] if not findings.empty else findings
    resolved: list[tuple[int, int]] = []
    consumed: set = set()
    for _, alert in open_alerts.iterrows():
        key = tuple(alert[k] for k in KEY)
        for index, finding in changes.iterrows():
            if index in consumed or tuple(finding[k] for k in KEY) != key:
                continue
            if finding["status"] != OPPOSITE.get(alert["kind"]):
                continue
            back = _log_distance(finding["after_median"], alert["before_median"])
            allowed = math.log1p(max(alert["threshold"], finding["threshold"]))
            if back <= allowed:
                resolved.append((int(alert["id"]), index))
                consumed.add(index)
                break
    new = changes.drop(index=list(consumed)) if consumed else changes
    return Reconciled(new=new.copy(), resolved=resolved)


def _log_distance(a: float, b: float) -> float:
    return abs(math.log(a / b)) if a > 0 and b > 0 else math.inf


# --- what changed in the toolchain ----------------------------------------------------


def _patches(night: Mapping) -> list[dict]:
    raw = night.get("patches_json") or "[]"
    return json.loads(raw) if isinstance(raw, str) else list(raw)


def _env(night: Mapping) -> dict:
    raw = night.get("env_json") or "{}"
    return json.loads(raw) if isinstance(raw, str) else dict(raw)


def _patch_name(patch: dict) -> str:
    return str(patch.get("name") or patch.get("path") or "?")


def toolchain_change(
    last_good: Mapping | None,
    first_bad: Mapping | None,
    *,
    workload: str | None = None,
    metric: str | None = None,
) -> tuple[str, dict]:
    """(one line for people, the structured difference) between two nights' rows. For a
    go-git series whose commit moved, both name the `stwbench bisect` command that finds
    the commit (for the alert's workload and metric)."""
    if not last_good or not first_bad:
        return "toolchain change unknown (a night's record is missing)", {}
    detail: dict = {
        "last_good": {"night": str(last_good.get("night")), "key": last_good.get("toolchain_key")},
        "first_bad": {"night": str(first_bad.get("night")), "key": first_bad.get("toolchain_key")},
    }
    parts = []
    for field, label in (("go_version", "go"), ("mode", "mode")):
        if last_good.get(field) != first_bad.get(field):
            parts.append(f"{label} {last_good.get(field)} → {first_bad.get(field)}")
            detail[field] = [last_good.get(field), first_bad.get(field)]
    before, after = _patches(last_good), _patches(first_bad)
    if [(p.get("sha256"), _patch_name(p)) for p in before] != [
        (p.get("sha256"), _patch_name(p)) for p in after
    ]:
        detail["patches"] = {"before": before, "after": after}
        old = {_patch_name(p): p.get("sha256") for p in before}
        new = {_patch_name(p): p.get("sha256") for p in after}
        for name in new.keys() - old.keys():
            parts.append(f"+ patch {name} ({str(new[name])[:12]})")
        for name in old.keys() - new.keys():
            parts.append(f"− patch {name} ({str(old[name])[:12]})")
        for name in sorted(old.keys() & new.keys()):
            if old[name] != new[name]:
                parts.append(f"patch {name} {str(old[name])[:12]} → {str(new[name])[:12]}")
        if not any(p.startswith(("+", "−", "patch")) for p in parts):
            parts.append("patches reordered")
    env_before, env_after = _env(last_good), _env(first_bad)
    if env_before != env_after:
        detail["env"] = {"before": env_before, "after": env_after}
        changed = sorted(
            k for k in env_before.keys() | env_after.keys() if env_before.get(k) != env_after.get(k)
        )
        parts.append("env " + ", ".join(changed))
    commits = _commits(last_good, first_bad)
    if commits is not None:
        repository, good, bad = commits
        parts.append(f"commit {good[:12]} → {bad[:12]}")
        command = bisect_command(repository, good, bad, workload, metric)
        detail["git"] = {"repository": repository, "last_good": good, "first_bad": bad}
        detail["bisect"] = command
    key_before, key_after = last_good.get("toolchain_key"), first_bad.get("toolchain_key")
    if key_before == key_after:
        return (
            f"no toolchain change (key {str(key_before)[:12]} both nights): "
            "the machine, the environment or noise",
            {**detail, "changed": False},
        )
    parts.append(f"key {str(key_before)[:12]} → {str(key_after)[:12]}")
    if "bisect" in detail:
        parts.append(f"bisect: {detail['bisect']}")
    return "; ".join(parts), {**detail, "changed": True}


def _source(row: Mapping) -> dict:
    raw = row.get("source_json")
    try:
        return json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return {}


def _commits(last_good: Mapping, first_bad: Mapping) -> tuple[str, str, str] | None:
    """(repository, good commit, bad commit) when both nights built commits of one
    repository and the commit moved."""
    before, after = _source(last_good), _source(first_bad)
    good, bad = before.get("commit"), after.get("commit")
    repository = after.get("repository")
    if not good or not bad or good == bad or before.get("repository") != repository:
        return None
    return str(repository), str(good), str(bad)


def bisect_command(
    repository: str, good: str, bad: str, workload: str | None, metric: str | None
) -> str:
    parts = ["stwbench bisect", f"--go-git {shlex.quote(repository)}", f"--good {good[:12]}",
             f"--bad {bad[:12]}"]  # fmt: skip
    if workload:
        parts.append(f"--workload {shlex.quote(workload)}")
    if metric:
        parts.append(f"--metric {shlex.quote(metric)}")
    return " ".join(parts)


# --- one line per alert ---------------------------------------------------------------


def describe(alert: Mapping) -> str:
    """REGRESSION go1.27 Scheduler-2 ns/op on bench-1: +212% [+190%, +240%] … since …
    (the machine: each machine's nights are their own history, so an alert is one
    machine's)."""
    where = f"{alert['series']} {alert['benchmark']} {alert['metric']}"
    if alert.get("phase") not in (None, "", "all"):
        where += f" ({alert['phase']})"
    if alert.get("machine"):
        where += f" on {alert['machine']}"
    threshold = alert.get("threshold")
    threshold_text = (
        f"threshold ±{threshold * 100:.3g}% from {alert.get('threshold_source')}"
        if isinstance(threshold, float) and math.isfinite(threshold)
        else "threshold –"
    )
    return (
        f"{str(alert['kind']).upper()} {where}: {change(alert['ratio'])} "
        f"{interval(alert.get('ci_low'), alert.get('ci_high'))} "
        f"(p {pvalue(alert.get('p_value'))}, confidence {alert.get('confidence')}, "
        f"{threshold_text}); first bad night {alert['first_bad_night']}, "
        f"last good {alert['last_good_night']}; toolchain: {alert.get('toolchain_change')}"
    )
