"""Statistics stage: the `samples` table → the `comparisons` table (DESIGN.md "Statistics").

    compare(samples, baseline, ...)          → DataFrame with COMPARISON_COLUMNS
    summarize(comparisons)                   → {verdict: count}
    aa_false_positive_rate(comparisons, aa)  → {"rows", "flagged", "rate"}

Modules, one job each: `samples` (rows → one value per process), `ranktest` (Mann-Whitney
U), `bootstrap` (CI of the ratio of medians), `multiple` (Benjamini-Hochberg), `verdict`
(the decision rule), `compare` (the table), `summary` (headline numbers).
"""

from harness.stats.bootstrap import RatioCI, median_ratio, ratio_ci, row_rng
from harness.stats.compare import COMPARISON_COLUMNS, compare
from harness.stats.multiple import benjamini_hochberg
from harness.stats.ranktest import mann_whitney_p
from harness.stats.samples import per_process_values
from harness.stats.summary import aa_false_positive_rate, summarize
from harness.stats.verdict import VERDICTS, verdict

__all__ = [
    "COMPARISON_COLUMNS",
    "VERDICTS",
    "RatioCI",
    "aa_false_positive_rate",
    "benjamini_hochberg",
    "compare",
    "mann_whitney_p",
    "median_ratio",
    "per_process_values",
    "ratio_ci",
    "row_rng",
    "summarize",
    "verdict",
]
