"""The printed table: one row per measure, one column per engine, then the ratios."""

from __future__ import annotations

import statistics

ENGINES = ("searchapp", "naive", "fts5")
LABELS = {"searchapp": "searchapp", "naive": "naive Whoosh", "fts5": "FTS5"}

# (key, label, decimals, show ratios)
ROWS = [
    ("chunks", "chunks indexed", 0, False),
    ("build_s", "full build (s)", 1, True),
    ("chunks_per_s", "build chunks/s", 0, True),
    ("build_other_cpu_cores", "other processes' CPU during build (cores)", 2, False),
    ("rerun_s", "no-change rerun (s)", 2, False),
    ("incremental_s", "incremental, 1% articles edited (s)", 2, False),
    ("index_mb", "index size (MB)", 1, True),
    ("disk_mb", "index folder on disk, all builds (MB)", 1, False),
    ("first_answer_s", "serve -> first answer (s)", 2, True),
    ("p50_ms", "latency p50 (ms)", 1, True),
    ("p95_ms", "latency p95 (ms)", 1, True),
    ("p99_ms", "latency p99 (ms)", 1, True),
    ("rps", "req/s, {clients} clients", 1, True),
    ("worker_rss_mb", "RSS per worker (MB)", 0, True),
    ("worker_pss_mb", "PSS per worker (MB)", 0, False),
    ("zero_hit", "queries with no hit (of {queries})", 0, False),
    ("errors", "HTTP errors", 0, False),
    ("other_cpu_cores", "other processes' CPU meanwhile (cores)", 2, False),
]


def flat(engine: dict) -> dict:
    """One engine's nested results as the flat keys the table uses."""
    out = dict(engine.get("build", {}))
    out.update({k: v for k, v in engine.get("serve", {}).items() if not isinstance(v, dict)})
    latency = engine.get("serve", {}).get("latency", {})
    for key in ("p50_ms", "p95_ms", "p99_ms", "zero_hit"):
        if key in latency:
            out[key] = latency[key]
    throughput = engine.get("serve", {}).get("throughput", {})
    if "rps" in throughput:
        out["rps"] = throughput["rps"]
    errors = latency.get("errors", 0) + throughput.get("errors", 0)
    if latency or throughput:
        out["errors"] = errors
    mem = engine.get("serve", {}).get("memory", {})
    for key in ("worker_rss_mb", "worker_pss_mb"):
        if key in mem:
            out[key] = mem[key]
    return out


def _fmt(value, decimals: int) -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, float)):
        return f"{value:,.{decimals}f}"
    return str(value)


def _ratio(a, b) -> str:
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or not b:
        return "-"
    return f"{a / b:.2f}x"


def table(results: dict, clients: int, queries: int) -> str:
    """The main table as text; cached engines are marked with ``*``."""
    engines = {name: flat(results[name]) for name in ENGINES if name in results}
    heads = [LABELS[name] + ("*" if results[name].get("cached") else "") for name in engines] + [
        "searchapp/naive",
        "searchapp/FTS5",
    ]
    rows = []
    for key, label, decimals, ratios in ROWS:
        label = label.format(clients=clients, queries=queries)
        values = [engines[name].get(key) for name in engines]
        if all(v is None for v in values):
            continue
        ours = engines.get("searchapp", {}).get(key)
        extra = ["", ""]
        if ratios:
            extra = [
                _ratio(ours, engines.get("naive", {}).get(key)),
                _ratio(ours, engines.get("fts5", {}).get(key)),
            ]
        rows.append([label, *(_fmt(v, decimals) for v in values), *extra])
    return _render(["measure", *heads], rows)


def kind_table(results: dict) -> str:
    """Latency p50/p95 and no-hit counts per query kind and engine."""
    engines = [n for n in ENGINES if n in results and results[n].get("serve")]
    kinds = sorted(
        {k for n in engines for k in results[n]["serve"].get("latency", {}).get("by_kind", {})}
    )
    rows = []
    for kind in kinds:
        row = [kind]
        for name in engines:
            stats = results[name]["serve"]["latency"]["by_kind"].get(kind, {})
            row.append(
                f"{stats.get('p50_ms', 0):.1f} / {stats.get('p95_ms', 0):.1f} ms,"
                f" {stats.get('zero_hit', 0)}/{stats.get('n', 0)} empty"
            )
        rows.append(row)
    heads = ["query kind", *(f"{LABELS[n]} p50 / p95, no hit" for n in engines)]
    return _render(heads, rows)


def rounds_line(engines: dict) -> str:
    """Each latency run's p50 of searchapp over FTS5's, in run order, and their median."""
    ours = engines.get("searchapp", {}).get("serve", {}).get("latency", {}).get("rounds_p50_ms")
    theirs = engines.get("fts5", {}).get("serve", {}).get("latency", {}).get("rounds_p50_ms")
    if not ours or not theirs:
        return "-"
    ratios = [a / b for a, b in zip(ours, theirs, strict=False) if b]
    shown = ", ".join(
        f"{a:.2f}/{b:.2f} ms = {a / b:.2f}x" for a, b in zip(ours, theirs, strict=False) if b
    )
    return f"{shown} (median {statistics.median(ratios):.2f}x)"


def both_found_line(engines: dict) -> str:
    """searchapp's and FTS5's p50 over the queries both answer with a hit (in every run): an
    engine that finds nothing answers fast, so the whole mix's medians can differ by that."""
    samples = {
        name: engines.get(name, {}).get("serve", {}).get("latency", {}).get("samples")
        for name in ("searchapp", "fts5")
    }
    if not all(samples.values()):
        return "-"
    found = {}
    for runs in samples.values():
        for sample in runs:
            found[sample["q"]] = found.get(sample["q"], True) and sample["hits"] > 0
    kept = {name: [s["ms"] for s in runs if found[s["q"]]] for name, runs in samples.items()}
    if not kept["searchapp"] or not kept["fts5"]:
        return "-"
    ours, theirs = statistics.median(kept["searchapp"]), statistics.median(kept["fts5"])
    queries = sum(found.values())
    return f"{ours:.2f}/{theirs:.2f} ms = {ours / theirs:.2f}x ({queries} of {len(found)} queries)"


SCALE_COLUMNS = [
    ("p50_ms", "p50 ms", 1),
    ("p95_ms", "p95 ms", 1),
    ("p99_ms", "p99 ms", 1),
    ("rps", "req/s", 0),
    ("build_s", "build s", 1),
    ("index_mb", "index MB", 1),
    ("worker_pss_mb", "worker PSS MB", 0),
    ("first_answer_s", "first answer s", 2),
]


def scale_table(points: list[dict], clients: int) -> str:
    """The growth curve: one row per (size, engine), then searchapp/FTS5 per size."""
    heads = ["chunks", "engine", *(label for _, label, _ in SCALE_COLUMNS)]
    heads[heads.index("req/s")] = f"req/s ({clients} cl.)"
    rows = []
    for point in points:
        engines = {name: flat(res) for name, res in point["engines"].items()}
        chunks = point["corpus"]["chunks"]
        for name, values in engines.items():
            cells = [_fmt(values.get(key), decimals) for key, _, decimals in SCALE_COLUMNS]
            rows.append([f"{chunks:,}", LABELS[name], *cells])
        ours, fts5 = engines.get("searchapp", {}), engines.get("fts5", {})
        ratios = [_ratio(ours.get(key), fts5.get(key)) for key, _, _ in SCALE_COLUMNS]
        rows.append([f"{chunks:,}", "searchapp/FTS5", *ratios])
        naive = point.get("naive_build")
        if naive:
            ratio = _ratio(ours.get("build_s"), naive.get("build_s"))
            rows.append(
                [f"{chunks:,}", "naive Whoosh", "", "", "", "", _fmt(naive["build_s"], 1),
                 _fmt(naive.get("index_mb"), 1), "", ""]
            )  # fmt: skip
            rows.append([f"{chunks:,}", "searchapp/naive", "", "", "", "", ratio, "", "", ""])
    return _render(heads, rows)


def _render(heads: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [heads, *rows]) for i in range(len(heads))]

    def fmt(cells: list[str]) -> str:
        return " | ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([fmt(heads), "-+-".join("-" * w for w in widths), *map(fmt, rows)])
