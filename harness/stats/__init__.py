"""Statistics stage: the `samples` table → the `comparisons` table (DESIGN.md "Statistics").

    compare(samples, baseline, ..., aa_arms=...)   → DataFrame with COMPARISON_COLUMNS
    summarize(comparisons)                         → {verdict: count}
    aa_calibration(comparisons, aa_arm)            → flagged / raw-p counts vs the null
    headline_precision(comparisons, target)        → the --until-ci stopping rule

Modules, one job each: `samples` (rows → one value per process), `paired` (within-block
log ratios: signed-rank + Hodges–Lehmann, paired t), `exact` (exact permutation
distributions of the rank statistics, ties included), `ranktest` (Mann-Whitney U),
`bootstrap` (CI of the ratio of medians, unpaired rows), `power` (minimum detectable
change), `multiple` (Benjamini-Hochberg), `verdict` (the decision rule), `compare` (the
table, families), `geomean` (a ratio over several rows, block by block), `precision`
(adaptive reps), `summary` (headline numbers). Which
metrics are headline, and their equivalence margins: `harness/metrics.py`.
"""

from harness.stats.bootstrap import RatioCI, median_ratio, ratio_ci, row_rng
from harness.stats.compare import COMPARISON_COLUMNS, MIN_PAIRS, compare, estimate
from harness.stats.exact import rank_sum, signed_rank
from harness.stats.geomean import geomean_ratio
from harness.stats.machines import HETEROGENEITY_COLUMNS, by_machine, heterogeneity
from harness.stats.multiple import benjamini_hochberg
from harness.stats.paired import SIGNED_RANK_MIN_PAIRS, PairedResult, paired_log_test
from harness.stats.power import detectable_change
from harness.stats.precision import Precision, ci_halfwidth, headline_precision
from harness.stats.ranktest import mann_whitney_p
from harness.stats.samples import per_process_values
from harness.stats.summary import aa_calibration, summarize
from harness.stats.verdict import FLAGGED, VERDICTS, verdict, within

__all__ = [
    "COMPARISON_COLUMNS",
    "FLAGGED",
    "HETEROGENEITY_COLUMNS",
    "MIN_PAIRS",
    "SIGNED_RANK_MIN_PAIRS",
    "VERDICTS",
    "PairedResult",
    "Precision",
    "RatioCI",
    "aa_calibration",
    "benjamini_hochberg",
    "by_machine",
    "ci_halfwidth",
    "compare",
    "detectable_change",
    "estimate",
    "geomean_ratio",
    "headline_precision",
    "heterogeneity",
    "mann_whitney_p",
    "median_ratio",
    "paired_log_test",
    "per_process_values",
    "rank_sum",
    "ratio_ci",
    "row_rng",
    "signed_rank",
    "summarize",
    "verdict",
    "within",
]
