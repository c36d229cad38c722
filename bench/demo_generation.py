"""Time `flask demo` on fresh databases and print a table (not a test).

    .venv/bin/python bench/demo_generation.py [--customers 100000] [--postgresql URL]

Writes bench/results/demo_generation.json.
"""

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import demo, migrations  # noqa: E402
from portal.db import database_from_url  # noqa: E402
from portal.extensions import db  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "demo_generation.json"


def fresh_postgresql(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS kartoteka_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE kartoteka_bench")
    return url.rsplit("/", 1)[0] + "/kartoteka_bench"


def measure(url: str, customers: int) -> dict:
    database = database_from_url(url)
    db.initialize(database)
    migrations.upgrade(database)
    started = time.perf_counter()
    counts = demo.generate(customers=customers, seed=1)
    seconds = time.perf_counter() - started
    database.close_all()
    return {"seconds": round(seconds, 2), "rows": sum(counts.values()), "counts": counts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--postgresql", help="server URL; a scratch database kartoteka_bench is made there"
    )
    args = parser.parse_args()

    runs = {}
    with tempfile.TemporaryDirectory() as scratch:
        runs["sqlite"] = measure(f"sqlite:///{scratch}/bench.db", args.customers)
    if args.postgresql:
        runs["postgresql"] = measure(fresh_postgresql(args.postgresql), args.customers)

    print(f"flask demo --customers {args.customers:,} (seed 1), {platform.node()}")
    print(f"{'engine':<12}{'seconds':>10}{'rows written':>16}{'rows/s':>12}")
    for engine, run in runs.items():
        print(
            f"{engine:<12}{run['seconds']:>10.1f}{run['rows']:>16,}{run['rows'] / run['seconds']:>12,.0f}"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"customers": args.customers, "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
