"""The comparisons table as people read it: ordered, counted, formatted.

Shared by the HTML table, summary.md and the console headline, so all three put the
same rows first and print the same "+12.3% [+5.0%, +20%]".
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from harness.report.units import format_value

VERDICTS = ("worse", "better", "unreliable", "same")
_VERDICT_RANK = {v: i for i, v in enumerate(VERDICTS)}


def is_key_metric(metric: str) -> bool:
    """The metrics this project is about: throughput, STW pauses, goroutine start latency."""
    return metric == "ns/op" or "stw" in metric or "latency" in metric


def ordered(comparisons: pd.DataFrame) -> pd.DataFrame:
    """worse, better, unreliable, same; within a verdict the largest |log ratio| first."""
    if comparisons.empty:
        return comparisons
    frame = comparisons.assign(
        _rank=comparisons["verdict"].map(_VERDICT_RANK).fillna(len(VERDICTS)),
        _size=-comparisons["ratio"].map(_abs_log).fillna(-math.inf),
        _key=~comparisons["metric"].map(is_key_metric),
    )
    frame = frame.sort_values(
        ["_rank", "_size", "_key", "benchmark", "metric", "candidate"], kind="stable"
    )
    return frame.drop(columns=["_rank", "_size", "_key"]).reset_index(drop=True)


def counts(comparisons: pd.DataFrame) -> dict[str, int]:
    """Rows per verdict, in VERDICTS order (zeros kept), plus any unexpected verdict."""
    found = comparisons["verdict"].value_counts().to_dict() if not comparisons.empty else {}
    result = {v: int(found.pop(v, 0)) for v in VERDICTS}
    result.update({str(k): int(n) for k, n in found.items()})
    return result


def counts_text(comparisons: pd.DataFrame) -> str:
    parts = [f"{n} {v}" for v, n in counts(comparisons).items() if n]
    total = len(comparisons)
    return f"{', '.join(parts) or 'no rows'} ({total} comparison{'s' if total != 1 else ''})"


def notable(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Rows for a short summary: every non-`same` row plus the key metrics, ordered."""
    if comparisons.empty:
        return comparisons
    keep = (comparisons["verdict"] != "same") | comparisons["metric"].map(is_key_metric)
    return ordered(comparisons[keep])


def change(ratio: float) -> str:
    """ratio 1.123 -> "+12.3%"; NaN -> "–"."""
    if not _finite(ratio):
        return "–"
    return _signed_pct((ratio - 1.0) * 100.0, 1 if abs(ratio - 1.0) < 1 else 0)


def interval(low: float, high: float) -> str:
    """ "[+5.0%, +20%]": one decimal below 10 %, none above (the CI is not that precise)."""
    if not (_finite(low) and _finite(high)):
        return "–"
    return f"[{_short_pct(low)}, {_short_pct(high)}]"


def pvalue(p: float) -> str:
    if not _finite(p):
        return "–"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def count(n: float) -> str:
    return str(int(n)) if _finite(n) else "–"


def row_view(row: pd.Series) -> dict[str, str | bool]:
    """One comparison as display strings (for templates and markdown)."""
    phase = str(row.get("phase") or "all")
    return {
        "benchmark": str(row["benchmark"]),
        # A GC-phase row (--trace) names its phase: `start-latency-p99-ns [mark]`.
        "metric": str(row["metric"]) + ("" if phase == "all" else f" [{phase}]"),
        "phase": phase,
        "unit": str(row["unit"]),
        "direction": str(row["direction"]),
        "baseline": str(row["baseline"]),
        "candidate": str(row["candidate"]),
        "baseline_median": format_value(row["baseline_median"], str(row["unit"])),
        "candidate_median": format_value(row["candidate_median"], str(row["unit"])),
        "change": change(row["ratio"]),
        "ci": interval(row["ci_low"], row["ci_high"]),
        "p": pvalue(row["p_value"]),
        "q": pvalue(row["q_value"]),
        "n": f"{count(row['n_baseline'])}/{count(row['n_candidate'])}",
        "verdict": str(row["verdict"]) or "–",
        "key": is_key_metric(str(row["metric"])),
    }


def row_views(comparisons: pd.DataFrame) -> list[dict[str, str | bool]]:
    return [row_view(row) for _, row in comparisons.iterrows()]


def one_line(row: pd.Series) -> str:
    """ "Scheduler-2 ns/op +12.3% [+5.0%, +20%] q=0.010" for the console."""
    view = row_view(row)
    return f"{view['benchmark']} {view['metric']} {view['change']} {view['ci']} q={view['q']}"


def pairs(comparisons: pd.DataFrame) -> list[tuple[str, str]]:
    """(baseline, candidate) pairs in order of appearance."""
    seen: Iterable[tuple[str, str]] = zip(
        comparisons["baseline"], comparisons["candidate"], strict=True
    )
    return list(dict.fromkeys((str(b), str(c)) for b, c in seen))


def _short_pct(ratio: float) -> str:
    pct = (ratio - 1.0) * 100.0
    return _signed_pct(pct, 1 if abs(pct) < 10 else 0)


def _signed_pct(pct: float, digits: int) -> str:
    text = f"{pct:+.{digits}f}%"
    # -0.0004 % rounds to "-0.0%", which reads like a direction; no change has no sign.
    return "+" + text[1:] if float(text[:-1]) == 0 else text


def _abs_log(ratio: float) -> float:
    return abs(math.log(ratio)) if _finite(ratio) and ratio > 0 else math.nan


def _finite(x) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False
