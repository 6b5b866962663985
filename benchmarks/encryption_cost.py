"""What encryption at rest costs: bulk writes and search, plain and encrypted side by side.

    .venv/bin/python benchmarks/encryption_cost.py --households 25000 --visits 250000 \
        --rounds 3 --out /tmp/dxkit-crypto-bench

Each round builds one plain and one encrypted workspace through the core write path
(benchmarks/bulk.py) and then times the search queries of benchmarks/measure.py on each, every
build and every measurement in a fresh process. The two variants alternate (plain first in odd
rounds, encrypted first in even ones), so a neighbour's load on a shared machine falls on both.
"Plain" is the same SQLite build (sqlcipher3) opened without a key: the difference is the
encryption alone. Keys go to key files under OUT/keys, never to the real keyring.

Prints one line per run, then the medians and the encrypted/plain ratio; writes OUT/crypto.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VARIANTS = ("plain", "encrypted")
SEARCH_FIGURES = ("search_warm_p95_ms", "search_cold_p95_ms", "search_warm_p95_cpu_ms",
                  "search_cold_p95_cpu_ms", "search_fetch_p95_ms", "open_ms")

BUILD = """
import json, sys, time
from pathlib import Path
from benchmarks.encryption_cost import use_variant
use_variant(sys.argv[1])
from benchmarks.bulk import build
cpu = time.process_time()
result = build(Path(sys.argv[2]), households=int(sys.argv[3]), people_per_household=3,
               visits=int(sys.argv[4]), seed=int(sys.argv[5]), report=lambda line: None)
cpu = time.process_time() - cpu
print(json.dumps({"records_per_s": result.records / result.seconds,
                  "records_per_cpu_s": result.records / cpu, "seconds": result.seconds}))
"""


def use_variant(variant: str) -> None:
    """In this process, open workspaces as `variant`: "plain" opens and makes them without a
    key (benchmarks only: dxkit itself always encrypts)."""
    if variant == "encrypted":
        return
    from dxkit.core import encryption, store
    from dxkit.core.private import make_private_dir

    def open_plain(folder: Path, db_path: Path, known: list[str]) -> None:
        store.check_existing(db_path, known, None)
        make_private_dir(folder)

    encryption.open_key = open_plain  # type: ignore[assignment]


def run_child(args: list[str], env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, *args], check=True, capture_output=True, text=True,
                          env=env, cwd=HERE.parent)
    return json.loads(done.stdout.strip().splitlines()[-1])


def one_run(variant: str, folder: Path, options: argparse.Namespace, env: dict[str, str]
            ) -> dict:
    if folder.exists():
        shutil.rmtree(folder)
    built = run_child(["-c", BUILD, variant, str(folder), str(options.households),
                       str(options.visits), str(options.seed)], env)
    measured = run_child([str(HERE / "measure.py"), str(folder), variant], env)
    size = sum(f.stat().st_size for f in folder.glob("dxkit.sqlite*"))
    return {"variant": variant, "bulk_records_per_s": built["records_per_s"],
            "bulk_records_per_cpu_s": built["records_per_cpu_s"],
            "database_mb": size / 1e6, **{k: measured[k] for k in SEARCH_FIGURES}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=25_000)
    parser.add_argument("--visits", type=int, default=250_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmark-output/crypto"))
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(HERE.parent), "DXKIT_KEY_STORE": "file",
           "DXKIT_KEY_DIR": str(options.out / "keys")}
    runs: list[dict] = []
    for number in range(options.rounds):
        order = VARIANTS if number % 2 == 0 else tuple(reversed(VARIANTS))
        for variant in order:
            run = one_run(variant, options.out / variant, options, env)
            runs.append(run)
            print(f"round {number + 1} {variant:>9}: bulk {run['bulk_records_per_s']:>8,.0f} "
                  f"records/s ({run['bulk_records_per_cpu_s']:,.0f} per CPU s), search warm "
                  f"p95 {run['search_warm_p95_ms']:6.2f} ms (CPU "
                  f"{run['search_warm_p95_cpu_ms']:.2f}), cold p95 "
                  f"{run['search_cold_p95_ms']:6.2f} ms, open {run['open_ms']:5.0f} ms, "
                  f"{run['database_mb']:.0f} MB", flush=True)
    summary = summarise(runs)
    report(summary, options)
    (options.out / "crypto.json").write_text(json.dumps({"runs": runs, "median": summary},
                                                        indent=2), encoding="utf-8")


def summarise(runs: list[dict]) -> dict[str, dict[str, float]]:
    figures = ("bulk_records_per_s", "bulk_records_per_cpu_s", *SEARCH_FIGURES, "database_mb")
    return {variant: {f: statistics.median(r[f] for r in runs if r["variant"] == variant)
                      for f in figures} for variant in VARIANTS}


def report(summary: dict[str, dict[str, float]], options: argparse.Namespace) -> None:
    plain, encrypted = summary["plain"], summary["encrypted"]
    print(f"\n== encryption cost: medians of {options.rounds} rounds, "
          f"{options.households:,} households, {options.visits:,} visits ==")
    print(f"{'':28}{'plain':>12}{'encrypted':>12}{'cost':>9}")
    for figure, label in (("bulk_records_per_s", "bulk write (records/s)"),
                          ("bulk_records_per_cpu_s", "bulk write (records/CPU s)")):
        # Cost as extra time per record: plain rate / encrypted rate - 1.
        cost = plain[figure] / encrypted[figure] - 1
        print(f"{label:28}{plain[figure]:>12,.0f}{encrypted[figure]:>12,.0f}{cost:>+9.1%}")
    for figure in SEARCH_FIGURES:
        cost = encrypted[figure] / plain[figure] - 1
        print(f"{figure + ' (ms)':28}{plain[figure]:>12.2f}{encrypted[figure]:>12.2f}"
              f"{cost:>+9.1%}")


if __name__ == "__main__":
    main()
