"""The comparisons table as people read it: ordered, counted, formatted.

Shared by the HTML table, summary.md and the console headline, so all three put the
same rows first and print the same "+12.3% [+5.0%, +20%]". Which metrics are headline
comes from harness/metrics.py (`is_headline`), the verdicts and their order from
harness/stats (`VERDICTS`): this module only formats them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from harness.metrics import AA_FAMILY, HEADLINE, SECONDARY, is_headline
from harness.numbers import is_finite
from harness.report.units import format_value
from harness.stats import SIGNED_RANK_MIN_PAIRS, VERDICTS

_VERDICT_RANK = {v: i for i, v in enumerate(VERDICTS)}
FLAGGED = ("worse", "better")
UNDERPOWERED = "underpowered"
# Families a candidate's rows are counted in, in the order the report shows them.
FAMILY_ORDER = (HEADLINE, SECONDARY)


# The verdicts table's legend (HTML and summary.md): what each verdict and column means.
LEGEND: tuple[tuple[str, str], ...] = (
    (
        "worse / better",
        "significant within its family (Benjamini–Hochberg q < α = 0.05) and the 95 % CI "
        "excludes no change, in the metric's direction (↓ lower is better, ↑ higher).",
    ),
    (
        "inconclusive",
        "not significant, and the CI reaches beyond the row's equivalence margin: a change "
        "that matters is not ruled out (more reps would tell).",
    ),
    (
        "underpowered",
        "the row's test cannot reach p < α at this n and tie pattern at all (the smallest "
        "p it could give is shown, p ≥ … at n=…), and the CI does not show equivalence; "
        "such rows do not enter their family's correction (q –).",
    ),
    (
        "unreliable",
        "an arm has fewer than 3 processes, or a process of either arm failed: the "
        "survivors of crashes and hangs are a biased sample.",
    ),
    (
        "same",
        "the whole CI lies inside ± the row's equivalence margin (the equivalence "
        "column of summary.json; set per kind of metric in harness/metrics.py): any "
        "change is smaller than what matters for that kind of metric.",
    ),
    (
        "families",
        "Benjamini–Hochberg runs per candidate over its headline rows (marked: ns/op, STW "
        "and start-latency metrics, harness/metrics.py); its secondary rows are a family of "
        "their own; an A/A arm is a third family, so it never changes a candidate's rows.",
    ),
    (
        "change, CI, test",
        "paired by block (a rep runs every variant once, back to back): exp of the "
        f"estimate of the within-block log ratios, Hodges–Lehmann with a signed-rank test "
        f"(≥ {SIGNED_RANK_MIN_PAIRS} pairs) or the mean with a paired t "
        "(fewer, 3 at least); unpaired (a process missing, a value ≤ 0): ratio of medians, "
        "bootstrap CI over whole processes, exact rank-sum test; constant: one identical value on "
        "both arms. p is exact for the rank tests.",
    ),
    (
        "MDC",
        "headline rows: the relative change the row could detect with 80 % power at its "
        "nominal α (not the BH-adjusted one), from its own noise and n; a lower bound of "
        "what the report can flag.",
    ),
)


def ordered(comparisons: pd.DataFrame) -> pd.DataFrame:
    """worse, better, inconclusive, underpowered, unreliable, same (VERDICTS order); within
    a verdict headline rows first, then the largest |log ratio| first."""
    if comparisons.empty:
        return comparisons
    frame = comparisons.assign(
        _rank=comparisons["verdict"].map(_VERDICT_RANK).fillna(len(VERDICTS)),
        _key=~comparisons["metric"].map(is_headline),
        _size=-comparisons["ratio"].map(_abs_log).fillna(-math.inf),
    )
    frame = frame.sort_values(
        ["_rank", "_key", "_size", "benchmark", "metric", "candidate"], kind="stable"
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


def family_of(comparisons: pd.DataFrame) -> pd.Series:
    """Each row's family: its `family` column, else the metric's (harness/metrics.py)."""
    if "family" in comparisons:
        given = comparisons["family"].fillna("").astype(str)
    else:
        given = pd.Series("", index=comparisons.index)
    derived = comparisons["metric"].map(lambda m: HEADLINE if is_headline(str(m)) else SECONDARY)
    return given.where(given != "", derived)


def family_counts(comparisons: pd.DataFrame) -> list[dict]:
    """Per (baseline, candidate) pair: all six verdict counts of its headline family and,
    separately, of its secondary family. A/A rows (family `aa`) are never counted here:
    the A/A block counts them on their own."""
    if comparisons.empty:
        return []
    families = family_of(comparisons)
    frame = comparisons[families != AA_FAMILY].assign(_family=families)
    result = []
    for baseline, candidate in pairs(frame):
        mine = frame[(frame["baseline"] == baseline) & (frame["candidate"] == candidate)]
        result.append(
            {
                "baseline": baseline,
                "candidate": candidate,
                "families": [
                    {
                        "family": family,
                        "counts": counts(mine[mine["_family"] == family]),
                        "total": int((mine["_family"] == family).sum()),
                    }
                    for family in FAMILY_ORDER
                ],
            }
        )
    return result


def family_counts_text(comparisons: pd.DataFrame) -> str:
    """ "headline 1 worse, 9 inconclusive (10); secondary 12 same (12)" per candidate
    ("cand vs base: …" when there are several); the A/A arm is left out."""
    texts = []
    groups = family_counts(comparisons)
    for group in groups:
        parts = []
        for family in group["families"]:
            if not family["total"]:
                continue
            nonzero = [f"{n} {v}" for v, n in family["counts"].items() if n]
            parts.append(f"{family['family']} {', '.join(nonzero)} ({family['total']})")
        text = "; ".join(parts) or "no rows"
        if len(groups) > 1:
            text = f"{group['candidate']} vs {group['baseline']}: {text}"
        texts.append(text)
    return " · ".join(texts) or "no rows"


def notable(comparisons: pd.DataFrame) -> pd.DataFrame:
    """Rows for a short summary: every headline row, and the other rows that are
    flagged (worse/better) or unreliable; ordered."""
    if comparisons.empty:
        return comparisons
    keep = comparisons["metric"].map(is_headline) | comparisons["verdict"].isin(
        [*FLAGGED, "unreliable"]
    )
    return ordered(comparisons[keep])


def change(ratio: float) -> str:
    """ratio 1.123 -> "+12.3%"; NaN -> "–"."""
    if not is_finite(ratio):
        return "–"
    return _signed_pct((ratio - 1.0) * 100.0, 1 if abs(ratio - 1.0) < 1 else 0)


def interval(low: float, high: float) -> str:
    """ "[+5.0%, +20%]": one decimal below 10 %, none above (the CI is not that precise)."""
    if not (is_finite(low) and is_finite(high)):
        return "–"
    return f"[{_short_pct(low)}, {_short_pct(high)}]"


def pvalue(p: float) -> str:
    if not is_finite(p):
        return "–"
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def count(n) -> str:
    return str(int(n)) if is_finite(n) else "–"


def mdc_text(mdc: float) -> str:
    """0.031 -> "±3.1 %"; one decimal below 10 %, none above; NaN -> "–"."""
    if not is_finite(mdc):
        return "–"
    pct = float(mdc) * 100.0
    if pct >= 1000:
        return ">±1000 %"
    return f"±{pct:.1f} %" if pct < 10 else f"±{pct:.0f} %"


def margin_text(margin: float) -> str:
    """The ± equivalence margin of `same`: 0.02 -> "±2 %"."""
    return f"±{float(margin) * 100:g} %" if is_finite(margin) else "–"


def sample_size(row: pd.Series) -> str:
    """n of a row: "5 pairs" (paired by block) or "5/4" (baseline/candidate processes)."""
    pairs_n = row.get("n_pairs")
    if is_finite(pairs_n) and int(pairs_n) > 0:
        return f"{int(pairs_n)} pair{'s' if int(pairs_n) != 1 else ''}"
    return f"{count(row.get('n_baseline'))}/{count(row.get('n_candidate'))}"


def p_floor(row: pd.Series) -> str:
    """For an underpowered row: "p ≥ 0.0625 at n=5", the smallest p its test could give."""
    if str(row.get("verdict")) != UNDERPOWERED or not is_finite(row.get("p_min")):
        return ""
    pairs_n = row.get("n_pairs")
    n = (
        str(int(pairs_n))
        if is_finite(pairs_n) and int(pairs_n) > 0
        else f"{count(row.get('n_baseline'))}/{count(row.get('n_candidate'))}"
    )
    return f"p ≥ {float(row['p_min']):.3g} at n={n}"


def row_view(row: pd.Series) -> dict[str, str | bool]:
    """One comparison as display strings (for templates and markdown)."""
    phase = str(row.get("phase") or "all")
    metric = str(row["metric"])
    headline = is_headline(metric)
    margin = row.get("equivalence", math.nan)
    verdict = str(row["verdict"]) or "–"
    return {
        "benchmark": str(row["benchmark"]),
        # A GC-phase row (--trace) names its phase: `start-latency-p99-ns [mark]`.
        "metric": metric + ("" if phase == "all" else f" [{phase}]"),
        "phase": phase,
        "unit": str(row["unit"]),
        "direction": str(row["direction"]),
        "baseline": str(row["baseline"]),
        "candidate": str(row["candidate"]),
        "baseline_median": format_value(row["baseline_median"], str(row["unit"])),
        "candidate_median": format_value(row["candidate_median"], str(row["unit"])),
        "change": change(row["ratio"]),
        "ci": interval(row["ci_low"], row["ci_high"]),
        "test": str(row.get("test") or "") or "–",
        # The MDC is a headline row's figure; other rows keep it in summary.json only.
        "mdc": mdc_text(row.get("mdc", math.nan)) if headline else "",
        "equivalence": margin_text(margin),
        "p": pvalue(row["p_value"]),
        "p_floor": p_floor(row),
        "q": pvalue(row["q_value"]),
        "n": sample_size(row),
        "family": str(row.get("family") or ""),
        "verdict": verdict,
        "verdict_title": _verdict_title(verdict, margin),
        "key": headline,
    }


def _verdict_title(verdict: str, margin: float) -> str:
    m = margin_text(margin)
    return {
        "worse": "significant in its family and the CI excludes no change, the wrong way",
        "better": "significant in its family and the CI excludes no change, the right way",
        "same": f"the whole CI lies inside {m}",
        "inconclusive": f"not significant, and the CI reaches beyond {m}",
        "underpowered": "this test cannot reach p < α at this n",
        "unreliable": "too few processes, or a process failed",
    }.get(verdict, "")


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
    return abs(math.log(ratio)) if is_finite(ratio) and ratio > 0 else math.nan
