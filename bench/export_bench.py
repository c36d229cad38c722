"""Customer exports (issue 8, item 7): how long CSV and XLSX exports of 100,000 customers take
on SQLite, and how much memory they need (not a test).

    .venv/bin/python bench/export_bench.py [--runs 1]

Uses the 100,000-customer demo database of bench/report_bench.py (bench/results/
base_summary-100k.db, built with the demo generator when missing), copied to a temporary
folder. Each export runs in a fresh process, as the job worker would run it, so its peak
resident memory (ru_maxrss) is its own; the resident size is also sampled as the export goes
(after 10 %, 50 % and at the end of the rows) to show whether it grows with the rows written.
Prints a table and writes bench/results/export_bench.json.
"""

import argparse
import json
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "export_bench.json"
CASES = {
    "CSV, everyone": ("csv", False),
    "XLSX, everyone": ("xlsx", False),
    "CSV, e-mail marketing consent": ("csv", True),
    "XLSX, e-mail marketing consent": ("xlsx", True),
}


def resident_mb() -> float:
    """The process's resident memory now (Linux)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def run_one(database: Path, folder: Path, file_format: str, for_purpose: bool) -> dict:
    """One export in this process; returns its figures (called in a child process)."""
    from portal import create_app, exports
    from portal.customer_list import Filters
    from portal.models import ConsentPurpose

    app = create_app(
        {"DATABASE_URL": f"sqlite:///{database}", "JOBS_IMMEDIATE": True},
        instance_path=str(folder / "instance"),
    )
    path = folder / f"export.{file_format}"
    samples: dict[str, float] = {}
    with app.test_request_context():
        purpose_id = None
        if for_purpose:
            purpose_id = ConsentPurpose.get(ConsentPurpose.code == "email_marketing").id

        def progress(percent: int, step: str) -> None:
            for mark in (10, 50, 95):
                if percent >= mark and f"{mark} %" not in samples:
                    samples[f"{mark} %"] = round(resident_mb(), 1)

        before = resident_mb()
        started = time.perf_counter()
        written = exports.write(
            Filters(), path, file_format=file_format, purpose_id=purpose_id, progress=progress
        )
        seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": written.count,
        "seconds": round(seconds, 2),
        "rows_per_second": round(written.count / seconds),
        "bytes": path.stat().st_size,
        "rss_before_mb": round(before, 1),
        "rss_during_mb": samples,
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "packed_ids_bytes": len(written.packed()),
    }


def database_copy(folder: Path) -> Path:
    sys.path.insert(0, str(ROOT / "bench"))
    from report_bench import SUMMARY_DATABASE, summary_app

    if not SUMMARY_DATABASE.exists():
        summary_app(folder)  # builds it (a few minutes)
    copy = folder / "kartoteka.db"
    shutil.copy(SUMMARY_DATABASE, copy)
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        database, folder, case = args.child
        file_format, for_purpose = CASES[case]
        print(json.dumps(run_one(Path(database), Path(folder), file_format, for_purpose)))
        return

    results = {}
    with tempfile.TemporaryDirectory() as folder:
        database = database_copy(Path(folder))
        for case in CASES:
            for run in range(args.runs):
                child = subprocess.run(
                    [sys.executable, __file__, "--child", str(database), folder, case],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                results.setdefault(case, []).append(json.loads(child.stdout.splitlines()[-1]))
                print(f"{case}, run {run + 1}: {results[case][-1]['seconds']} s", file=sys.stderr)

    print(
        f"\n{'export':34} {'rows':>8} {'seconds':>8} {'rows/s':>8} {'MB file':>8} "
        f"{'RSS before':>10} {'at 10 %':>8} {'at 50 %':>8} {'at end':>8} {'peak':>8}"
    )
    for case, runs in results.items():
        best = min(runs, key=lambda r: r["seconds"])
        during = best["rss_during_mb"]
        print(
            f"{case:34} {best['rows']:>8,} {best['seconds']:>8.2f} {best['rows_per_second']:>8,} "
            f"{best['bytes'] / 2**20:>8.1f} {best['rss_before_mb']:>10.1f} "
            f"{during.get('10 %', 0):>8.1f} {during.get('50 %', 0):>8.1f} "
            f"{during.get('95 %', 0):>8.1f} {best['peak_rss_mb']:>8.1f}"
        )
    print("(memory in MB, resident; peak = ru_maxrss of the exporting process)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"machine": platform.platform(), "python": platform.python_version(), **results},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
