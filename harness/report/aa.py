"""The A/A block: harness/stats' A/A calibration as sentences and a table, for the page
and summary.md alike.

The dict is `harness.stats.aa_calibration`'s: candidate, rows, tested, flagged, rate,
expected_flagged (0), p_any_flagged_max (α), raw_below_alpha, expected_raw,
expected_range [lo, hi], raw_ok, alpha. Older runs' dicts ({"rows", "flagged", "rate"})
lack most keys: what is missing is said to be "not recorded", never guessed.
"""

from __future__ import annotations

import pandas as pd

from harness.report.inputs import ReportInputs
from harness.report.units import finite_number
from harness.report.verdicts import FLAGGED, ordered, row_views

NEVER = (
    "The A/A arm is a family of its own: it never changes the candidate's rows (their "
    "q-values and verdicts are the same with or without it), is never counted with them, "
    "and never sets the exit code (--fail-on-regression counts only candidates' worse rows)."
)


def aa_view(inputs: ReportInputs) -> dict | None:
    """What the A/A block shows; None when the run has no A/A arm (`Manifest.aa_arm`).
    An arm without a calibration dict shows its rows, the figures "not recorded"."""
    arm = inputs.aa_arm
    if arm is None:
        return None
    aa = inputs.aa or {}
    alpha = finite_number(aa.get("alpha"))
    alpha_text = f"{alpha:g}" if alpha is not None else "α"
    p_any = finite_number(aa.get("p_any_flagged_max"))
    if p_any is None:
        p_any = alpha
    flagged, rows = _count(aa.get("flagged")), _count(aa.get("rows"))
    expected = _count(aa.get("expected_flagged"))
    flagged_line = (
        f"Flagged better/worse: {flagged} of {rows} decided (not unreliable) rows; under the "
        "null (the same "
        "toolchain on both sides) "
        + (
            f"the expected number is {expected}, and Benjamini–Hochberg in the arm's own "
            f"family keeps P(any flagged) ≤ {_pct(p_any)}."
            if "expected_flagged" in aa
            else "the expected number is 0 (what the null allows was not recorded)."
        )
    )
    if finite_number(aa.get("flagged")) and "expected_flagged" in aa:
        flagged_line += (
            " Under the null a flag happens at most that often by chance: read the "
            "candidate's lone flagged rows with it in mind."
        )
    raw_line, raw_state = _raw_line(aa, alpha_text)
    rate = finite_number(aa.get("rate"))
    arm_rows = inputs.aa_comparisons
    shown = arm_rows[arm_rows["verdict"].isin(FLAGGED) | (arm_rows["p_value"] < (alpha or 0.05))]
    summary = f"{flagged} of {rows} rows flagged (null: 0, P(any) ≤ {_pct(p_any)})"
    if "raw_below_alpha" in aa:
        low, high = _range(aa.get("expected_range"))
        summary += (
            f"; raw p < {alpha_text} in {_count(aa.get('raw_below_alpha'))} of "
            f"{_count(aa.get('tested'))} tested rows (null: {_plain(aa.get('expected_raw'))}, "
            f"95 % binomial range {low}–{high}"
            + (", above it" if raw_state == "high" else "")
            + ")"
        )
    else:
        summary += "; raw p-value counts not recorded"
    summary += ". Its own family: never changes the candidate's rows or the exit code."
    return {
        "arm": arm,
        "flagged": flagged,
        "n_rows": rows,
        "tested": _count(aa.get("tested")),
        "rate": f"{rate:.1%}" if rate is not None else "–",
        "flagged_line": flagged_line,
        "raw_line": raw_line,
        "raw_state": raw_state,  # ok | high | unknown
        "never": NEVER,
        "summary": summary,
        "alpha": alpha_text,
        "rows": row_views(ordered(shown)),
    }


def _raw_line(aa: dict, alpha_text: str) -> tuple[str, str]:
    if "raw_below_alpha" not in aa:
        return "Raw p-values below α: not recorded (an older A/A result).", "unknown"
    below, tested = _count(aa.get("raw_below_alpha")), _count(aa.get("tested"))
    low, high = _range(aa.get("expected_range"))
    line = (
        f"Raw (unadjusted) p < {alpha_text}: {below} of {tested} tested rows; under the "
        f"null about α·tested = {_plain(aa.get('expected_raw'))}, 95 % binomial range "
        f"{low}–{high}."
    )
    ok = aa.get("raw_ok")
    if ok is True:
        return line + " Within the range: no sign that the tests' assumptions fail here.", "ok"
    if ok is False:
        return (
            line + " Above the range: the tests' assumptions fail on this machine (e.g. an "
            "order effect inside blocks), so the candidate's p-values are likely too small "
            "as well. The rows of one process are correlated: a sanity range, not a test.",
            "high",
        )
    return line + " Nothing was tested.", "unknown"


def _range(value) -> tuple[str, str]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return _plain(value[0]), _plain(value[1])
    return "?", "?"


def _count(value) -> str:
    """A count that may come as a number or as the rows themselves."""
    if isinstance(value, list | tuple | pd.DataFrame):
        return str(len(value))
    x = finite_number(value)
    return str(int(x)) if x is not None else "?"


def _plain(value) -> str:
    x = finite_number(value)
    return "?" if x is None else f"{x:g}"


def _pct(value: float | None) -> str:
    return "α" if value is None else f"{value:.0%}"
