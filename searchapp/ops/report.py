"""What readers searched for: the query log summed up for ``searchapp report`` and /admin.

Queries are grouped by their text folded to lower case with spaces collapsed. Only first-page
searches count as searches (paging through results is the same search); clicks are joined to
searches by that folded text.
"""

from __future__ import annotations

import calendar
import re
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from searchapp.ops.querylog import read_records

#: How many queries each list shows.
TOP = 20
#: A search at least this slow (milliseconds) is listed as slow.
SLOW_MS = 100.0

_SINCE_RE = re.compile(r"^\s*(\d{1,6})\s*([mhdw])\s*$", re.IGNORECASE)
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, now: float | None = None) -> float:
    """``7d``, ``24h``, ``30m``, ``2w`` or a date ``2026-11-01`` as a Unix time; ValueError."""
    now = time.time() if now is None else now
    match = _SINCE_RE.match(text or "")
    if match:
        return now - int(match.group(1)) * _UNITS[match.group(2).lower()]
    try:
        return float(calendar.timegm(time.strptime(text.strip(), "%Y-%m-%d")))
    except ValueError:
        raise ValueError(
            f"--since takes a duration like 7d, 24h, 30m, 2w or a date YYYY-MM-DD; got {text!r}"
        ) from None


def fold(query: str) -> str:
    """The form queries are grouped by."""
    return " ".join(str(query).casefold().split())


def summarize(records: Iterable[dict], top: int = TOP, slow_ms: float = SLOW_MS) -> dict:
    """The report: ``top_queries``, ``zero_result_queries``, ``no_click_queries``,
    ``slow_queries``, ``zero_result_rate``; and, for the admin page, totals and searches per day
    under ``_totals`` (left out of ``--json``)."""
    searches: Counter = Counter()
    zero: Counter = Counter()
    with_hits: Counter = Counter()
    clicks: Counter = Counter()
    slowest: dict[str, float] = {}
    shown: dict[str, str] = {}
    per_day: Counter = Counter()
    total_searches = total_zero = total_clicks = 0
    for record in records:
        key = fold(record.get("query", ""))
        if not key:
            continue
        shown.setdefault(key, " ".join(str(record["query"]).split()))
        if record.get("event") == "click":
            clicks[key] += 1
            total_clicks += 1
            continue
        if record.get("event") != "search" or record.get("page", 1) != 1:
            continue
        searches[key] += 1
        total_searches += 1
        per_day[str(record.get("time", ""))[:10]] += 1
        if not record.get("total"):
            zero[key] += 1
            total_zero += 1
        else:
            with_hits[key] += 1
        took = record.get("took_ms")
        if isinstance(took, int | float) and took >= slow_ms:
            slowest[key] = max(slowest.get(key, 0.0), float(took))

    def ranked(counter: Counter) -> list[tuple[str, int]]:
        return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:top]

    return {
        "top_queries": [
            {
                "query": shown[key],
                "searches": n,
                "clicks": clicks[key],
                "click_through": round(min(clicks[key], n) / n, 3),
            }
            for key, n in ranked(searches)
        ],
        "zero_result_queries": [{"query": shown[key], "searches": n} for key, n in ranked(zero)],
        "no_click_queries": [
            {"query": shown[key], "searches": n}
            for key, n in ranked(Counter({k: v for k, v in with_hits.items() if not clicks[k]}))
        ],
        "slow_queries": [
            {"query": shown[key], "took_ms": round(ms, 1), "searches": searches[key]}
            for key, ms in sorted(slowest.items(), key=lambda item: (-item[1], item[0]))[:top]
        ],
        "zero_result_rate": round(total_zero / total_searches, 4) if total_searches else 0.0,
        "_totals": {
            "searches": total_searches,
            "zero_results": total_zero,
            "clicks": total_clicks,
            "per_day": dict(sorted(per_day.items())),
        },
    }


def build_report(index_dir: Path | str, since: float | None = None, **options) -> dict:
    """The report of an index folder's query log (records at or after ``since``)."""
    return summarize(read_records(index_dir, since=since), **options)


def public(report: dict) -> dict:
    """The report without its private ``_`` keys: what ``--json`` prints."""
    return {k: v for k, v in report.items() if not k.startswith("_")}


def format_text(report: dict) -> str:
    """The report for a terminal."""
    totals = report["_totals"]
    lines = [
        f"{totals['searches']} searches, {totals['clicks']} clicks, "
        f"zero-result rate {report['zero_result_rate']:.1%}",
    ]
    sections = (
        ("Top queries", "top_queries", lambda r: f"{r['searches']:>6}  {r['click_through']:>5.0%}"),
        ("Queries with no results", "zero_result_queries", lambda r: f"{r['searches']:>6}"),
        ("Queries with results but no clicks", "no_click_queries", lambda r: f"{r['searches']:>6}"),
        ("Slow queries (ms)", "slow_queries", lambda r: f"{r['took_ms']:>6.0f}"),
    )
    for title, key, number in sections:
        lines += ["", title + ":"]
        rows = report[key]
        lines += [f"  {number(row)}  {row['query']}" for row in rows] or ["  (none)"]
    if totals["per_day"]:
        lines += ["", "Searches per day:"]
        lines += [f"  {day}  {count}" for day, count in totals["per_day"].items()]
    return "\n".join(lines)
