"""Statistics of measurements: percentiles of latencies, metrics of ranked lists."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile of ``samples`` (0 for none): always a measured value."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def ranking_metrics(ranked_relevance: Sequence[bool], n_relevant: int, depth: int = 10) -> dict:
    """success@1/3/10, MRR and nDCG over the top ``depth`` of one ranked list (True =
    relevant), given how many relevant items exist: the judged sets' one definition."""
    top = list(ranked_relevance[:depth])
    first = next((i for i, rel in enumerate(top) if rel), None)
    dcg = sum(1.0 / math.log2(i + 2) for i, rel in enumerate(top) if rel)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(n_relevant, depth)))
    return {
        "success@1": float(first == 0),
        "success@3": float(first is not None and first < 3),
        "success@10": float(first is not None),
        "mrr@10": 0.0 if first is None else 1.0 / (first + 1),
        "ndcg@10": dcg / ideal if ideal else 0.0,
    }
