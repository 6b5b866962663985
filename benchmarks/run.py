"""Build a large workspace and print performance figures (no pass/fail).

    .venv/bin/python benchmarks/run.py --households 100000 --people-per-household 3 \
        --visits 1000000 --out /tmp/dxkit-bench

Figures are printed and also written to OUT/figures.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from benchmarks.bulk import build  # noqa: E402
from dxkit.core import store  # noqa: E402
from dxkit.core.encryption import WorkspaceKeys  # noqa: E402
from dxkit.core.store import DB_FILENAME  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--people-per-household", type=int, default=3)
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmark-output"))
    parser.add_argument("--reuse", action="store_true",
                        help="measure an existing workspace in OUT without rebuilding it")
    parser.add_argument("--analyze", action="store_true",
                        help="run SQLite ANALYZE on the workspace before measuring (shows the "
                             "effect of planner statistics on search)")
    args = parser.parse_args()
    workspace = args.out / "workspace"
    figures: dict = {"households_asked": args.households, "visits_asked": args.visits,
                     "people_per_household": args.people_per_household, "seed": args.seed}
    if not args.reuse:
        if workspace.exists():
            shutil.rmtree(workspace)
        args.out.mkdir(parents=True, exist_ok=True)
        print(f"Building {args.households:,} households × {args.people_per_household} people, "
              f"{args.visits:,} visits in {workspace} …", flush=True)
        result = build(workspace, households=args.households,
                       people_per_household=args.people_per_household, visits=args.visits,
                       seed=args.seed, report=lambda line: print(line, flush=True))
        figures.update(
            households=result.households, people=result.people, visits=result.visits,
            visit_items=result.visit_items, build_seconds=round(result.seconds, 1),
            bulk_import_records_per_s=round(result.records / result.seconds),
            build_peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    size = sum(f.stat().st_size for f in workspace.glob(DB_FILENAME + "*"))
    figures["database_bytes"] = size
    if "households" in figures:
        records = (figures["households"] + figures["people"] + figures["visits"]
                   + figures["visit_items"])
        figures["bytes_per_record"] = round(size / records)
        figures["bytes_per_household_with_its_rows"] = round(size / figures["households"])
    if args.analyze:
        figures["analyze_ms"] = round(analyze(workspace / DB_FILENAME))
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    measured = subprocess.run([sys.executable, str(HERE / "measure.py"), str(workspace)],
                              check=True, capture_output=True, text=True, env=env)
    figures.update(json.loads(measured.stdout))
    report(figures)
    out_file = args.out / ("figures-analyzed.json" if args.analyze else "figures.json")
    out_file.write_text(json.dumps(figures, indent=2, ensure_ascii=False),
                                           encoding="utf-8")
    print(f"\nFigures written to {out_file}")


def analyze(db_path: Path) -> float:
    """Give the query planner statistics (sqlite_stat1); returns the milliseconds it took."""
    started = time.perf_counter()
    conn = store.connect(db_path, WorkspaceKeys(db_path.parent).key())
    try:
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return (time.perf_counter() - started) * 1000


def report(f: dict) -> None:
    print("\n== dxkit benchmark ==")
    if "households" in f and "people" in f:
        print(f"records: {f['households']:,} households, {f['people']:,} people, "
              f"{f['visits']:,} visits, {f['visit_items']:,} visit items")
        print(f"bulk import rate: {f['bulk_import_records_per_s']:,} records/s "
              f"({f['build_seconds']} s; peak RSS while building {f['build_peak_rss_mb']} MB)")
        print(f"database: {f['database_bytes'] / 1e6:,.1f} MB, {f['bytes_per_record']} bytes "
              f"per record, {f['bytes_per_household_with_its_rows']:,} bytes per household "
              "with its people and visits")
    if "analyze_ms" in f:
        print(f"ANALYZE run before measuring: {f['analyze_ms']:,} ms")
    print(f"open workspace: {f['open_ms']:.0f} ms (import of dxkit.core: {f['import_ms']:.0f} ms; "
          f"first household count: {f['count_households_ms']:.0f} ms)")
    print(f"search (cold, first run of each query): p50 {f['search_cold_p50_ms']:.2f} ms, "
          f"p95 {f['search_cold_p95_ms']:.2f} ms")
    print(f"search (warm, 5 rounds): p50 {f['search_warm_p50_ms']:.2f} ms, "
          f"p95 {f['search_warm_p95_ms']:.2f} ms; with fetching the 50 rows p95 "
          f"{f['search_fetch_p95_ms']:.2f} ms")
    print(f"peak memory (open + searches, fresh process): {f['peak_rss_mb']:.0f} MB")
    print("per query, warm median ms (hits):")
    for query, ms in f["per_query_warm_median_ms"].items():
        print(f"  {query!r:>16} {ms:8.2f}  ({f['per_query_hits'][query]})")


if __name__ == "__main__":
    main()
