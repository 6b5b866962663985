"""Open a workspace in a fresh process and time searches; prints one JSON object.

Run by run.py in a subprocess so peak memory covers only what the app does: open + search.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time

QUERIES = (
    # typed letter by letter, without diacritics
    "n", "ng", "ngu", "nguy", "nguyen", "nguyen v", "nguyen van", "nguyen thi h",
    "tran", "tran minh", "le thi", "huynh", "vo van hau", "pham thu lan", "dang ngoc",
    "duong", "ly huu tin",
    # given names and other words
    "phuc", "thao", "bao ngoc",
    # household codes
    "mh", "mh-0", "mh-012", "tt-1234", "al-00077",
    # phone prefixes
    "09", "0912", "03879",
    # hamlet and address words
    "my hung", "phu dien", "so 12",
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def main(path: str, variant: str = "encrypted") -> None:
    if variant != "encrypted":  # benchmarks/encryption_cost.py compares with plain files
        from benchmarks.encryption_cost import use_variant
        use_variant(variant)
    started = time.perf_counter()
    from dxkit.households.search import search
    from dxkit.workspace import Workspace
    imported = time.perf_counter()
    ws = Workspace.open(path)
    opened = time.perf_counter()
    first_count = ws.households.count()
    counted = time.perf_counter()

    cpu: dict[str, list[float]] = {"cold": [], "warm": []}  # CPU ms of this thread

    def timed(query: str, fetch: bool, kind: str = "") -> tuple[float, int]:
        t, c = time.perf_counter(), time.thread_time()
        hits = search(ws.conn, query, limit=50)
        if fetch:
            ws.households.by_local_ids([h.local_id for h in hits])
        if kind:
            cpu[kind].append((time.thread_time() - c) * 1000)
        return (time.perf_counter() - t) * 1000, len(hits)

    cold = {q: timed(q, False, "cold") for q in QUERIES}
    warm: dict[str, list[float]] = {q: [] for q in QUERIES}
    for _round in range(5):
        for q in QUERIES:
            warm[q].append(timed(q, False, "warm")[0])
    fetched = [timed(q, True)[0] for q in QUERIES]
    warm_all = [v for values in warm.values() for v in values]
    result = {
        "import_ms": (imported - started) * 1000,
        "open_ms": (opened - imported) * 1000,
        "count_households_ms": (counted - opened) * 1000,
        "households": first_count,
        "search_cold_p50_ms": statistics.median(v for v, _n in cold.values()),
        "search_cold_p95_ms": percentile([v for v, _n in cold.values()], 0.95),
        "search_warm_p50_ms": statistics.median(warm_all),
        "search_warm_p95_ms": percentile(warm_all, 0.95),
        "search_fetch_p95_ms": percentile(fetched, 0.95),
        # CPU time: on a shared machine, what the search itself costs, without the waits.
        "search_cold_p95_cpu_ms": percentile(cpu["cold"], 0.95),
        "search_warm_p95_cpu_ms": percentile(cpu["warm"], 0.95),
        "per_query_warm_median_ms": {q: round(statistics.median(v), 2)
                                     for q, v in warm.items()},
        "per_query_hits": {q: n for q, (_v, n) in cold.items()},
        "per_query_cold_ms": {q: round(v, 2) for q, (v, _n) in cold.items()},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    ws.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:3])
