"""Staff workspace at scale: search, profile and deep list pages over HTTP, next to bare SQL.

    .venv/bin/python bench/workspace_bench.py [--engine sqlite|postgresql] [--customers 1000000]
        [--purchases 10000000] [--requests 300]

Builds (once, then reuses) a database of N customers with the demo generator and tops up
purchases with SQL to the wanted total, gives one customer 1,000 purchases, serves the app with
gunicorn on loopback, signs in as a staff member and measures p50/p95/p99 per case, each next
to the bare query behind it and to a bare Flask endpoint returning a static 2 KB fragment (the
framework ceiling). Throughput at 16 connections comes from wrk when it is installed.
Writes bench/results/workspace-<engine>.json and prints a table. Not a test.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal import customer_list, demo, history, migrations, search  # noqa: E402
from portal.accounts import create_staff  # noqa: E402
from portal.db import database_from_url, is_postgresql  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Customer, StaffAccount  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PASSWORD = "bench password 1"
STAFF_EMAIL = "bench@staff.example"
SEARCH_CASES = {
    "name prefix": "kowal",
    "mid-word fragment": "owsk",
    "Polish without diacritics": "lukasz",
    "Cyrillic": "иван",
    "Chinese, 1 character": "伟",
    "Chinese, 2 characters": "张伟",
    "phone, 4 digits": "5550",
    "phone, 7 digits": "6015550",
    "e-mail fragment": "wp.exam",
    "broad term (gmail)": "gmail",
    "broad term (a)": "a",
}
LIST_PAGE = 5000


# --- building the database -----------------------------------------------------------------


def build(url: str, customers: int, purchases: int) -> None:
    database = database_from_url(url)
    db.initialize(database)
    migrations.upgrade(database)
    # Each step checks what is there, so an interrupted build resumes where it stopped.
    started = time.perf_counter()
    have = Customer.select().count()
    for start in range(have, customers, 100_000):
        demo.generate(customers=min(100_000, customers - start), seed=start + 1)
        print(
            f"  {start + 100_000:>9,} customers ({time.perf_counter() - started:.0f} s)", flush=True
        )
    if db.execute_sql("SELECT count(*) FROM purchase").fetchone()[0] < purchases * 0.9:
        top_up_purchases(purchases)
    give_one_customer_1000_purchases()
    # Fresh statistics, as autovacuum would gather in time: without them PostgreSQL plans the
    # list page's address lookup as a scan (57 ms instead of 0.5 ms).
    db.execute_sql("ANALYZE")
    print(f"  ready in {time.perf_counter() - started:.0f} s", flush=True)


def top_up_purchases(target: int) -> None:
    """Add plain purchases with SQL until the base holds `target`, then recompute the totals."""
    have = db.execute_sql("SELECT count(*) FROM purchase").fetchone()[0]
    customers = db.execute_sql("SELECT max(id) FROM customer").fetchone()[0]
    rounds = max(0, (target - have) // customers)
    day = (
        "'2024-01-01'::timestamp + ((c.id::bigint * 7919 + n.i * 104729) % 1000) * interval '1 day'"
        if is_postgresql(db)
        else "datetime('2024-01-01', '+' || ((c.id * 7919 + n.i * 104729) % 1000) || ' days')"
    )
    series = (
        f"generate_series(1, {rounds}) AS n(i)"
        if is_postgresql(db)
        else f"(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {rounds}) SELECT i FROM s) AS n"
    )
    if is_postgresql(db):
        day = day.replace("%", "%%")  # psycopg reads a lone % as a placeholder
    with db.atomic():
        db.execute_sql(
            "INSERT INTO purchase (customer_id, purchased_at, receipt_number, total, refunded, currency, channel, created_at) "
            f"SELECT c.id, {day}, 'B-' || c.id || '-' || n.i, 25.00, 0, 'EUR', 'store', CURRENT_TIMESTAMP "
            f"FROM customer c, {series}"
        )
        db.execute_sql(
            "UPDATE customer SET purchase_count = t.n, lifetime_value = t.total, last_purchase_at = t.last "
            "FROM (SELECT customer_id, count(*) AS n, sum(total) AS total, max(purchased_at) AS last "
            "FROM purchase GROUP BY customer_id) AS t WHERE customer.id = t.customer_id"
        )


def give_one_customer_1000_purchases() -> int:
    from datetime import datetime, timedelta
    from decimal import Decimal

    customer = Customer.get_by_id(1)
    start = datetime(2023, 1, 1)
    have = customer.purchase_count
    with db.atomic():
        for i in range(max(0, 1000 - have)):
            history.record_purchase(
                customer,
                [
                    ("Coffee beans 1 kg", Decimal("1"), Decimal("89.90")),
                    ("Milk frother", Decimal("1"), Decimal("120.00")),
                ],
                purchased_at=start + timedelta(hours=13 * i),
                channel="store",
                location_id=None,
                receipt_number=f"P-{i:06d}",
                staff_id=None,
            )
    return customer.id


# --- serving and measuring -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(
    app_spec: str, env: dict, workers: int = 2, threads: int = 4
) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app_spec,
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{app_spec} did not start")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)


def sign_in(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/sign-in")
    response = conn.getresponse()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.read().decode()).group(1)
    body = urlencode({"email": STAFF_EMAIL, "password": PASSWORD, "csrf_token": token})
    conn.request(
        "POST",
        "/sign-in",
        body,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    response = conn.getresponse()
    response.read()
    assert response.status == 303, f"sign-in failed: {response.status}"
    return response.getheader("Set-Cookie").split(";")[0]


def timed_requests(port: int, path: str, headers: dict, count: int) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    for i in range(count + 10):
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}")
        if i >= 10:  # warm-up
            times.append((time.perf_counter() - started) * 1000)
    return times


def timed_calls(function, count: int) -> list[float]:
    times = []
    for i in range(count + 10):
        started = time.perf_counter()
        function()
        if i >= 10:
            times.append((time.perf_counter() - started) * 1000)
    return times


def percentiles(times: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return {"p50": round(cuts[49], 2), "p95": round(cuts[94], 2), "p99": round(cuts[98], 2)}


def wrk_throughput(port: int, cookie: str, paths: list[str]) -> dict | None:
    if not shutil.which("wrk"):
        return None
    lua_paths = ", ".join(json.dumps(p) for p in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            f"local paths = {{{lua_paths}}}\nlocal i = 0\n"
            f'wrk.headers["Cookie"] = "{cookie}"\nwrk.headers["HX-Request"] = "true"\n'
            'request = function() i = i + 1; return wrk.format("GET", paths[(i % #paths) + 1]) end\n'
        )
    output = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            "16",
            "-d",
            "15s",
            "--latency",
            "-s",
            script.name,
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests_per_s": rate,
        "p99_ms": round(float(p99.group(1)) * scale, 2),
        "errors": int(errors.group(1)) if errors else 0,
    }


def list_cursor(page_number: int) -> str:
    """The keyset cursor that opens page N of the name-sorted list (what "Next" links carry)."""
    last = (
        customer_list.filtered(customer_list.Filters())
        .order_by(Customer.display_name, Customer.id)
        .offset(page_number * customer_list.PAGE_SIZE - 1)
        .limit(1)
        .get()
    )
    return customer_list._encode_cursor(last.display_name, last.id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--postgresql-url", default="postgresql://postgres@127.0.0.1:5432/kartoteka_bench"
    )
    args = parser.parse_args()

    RESULTS.mkdir(exist_ok=True)
    url = (
        f"sqlite:///{RESULTS / f'bench-{args.customers}.db'}"
        if args.engine == "sqlite"
        else args.postgresql_url
    )
    if args.engine == "postgresql":
        import psycopg

        admin = args.postgresql_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            name = args.postgresql_url.rsplit("/", 1)[1]
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f"CREATE DATABASE {name}")
    print(f"Database: {url}", flush=True)
    build(url, args.customers, args.purchases)
    if not StaffAccount.by_email(STAFF_EMAIL).exists():
        create_staff("Bench Staff", STAFF_EMAIL, PASSWORD)
    profile_id = 1
    size = {
        "customers": Customer.select().count(),
        "purchases": db.execute_sql("SELECT count(*) FROM purchase").fetchone()[0],
    }
    if args.engine == "sqlite":
        size["file_mb"] = round(Path(url.removeprefix("sqlite:///")).stat().st_size / 2**20)
    cursor = list_cursor(LIST_PAGE)

    bare = {
        f"search: {name}": timed_calls(lambda q=q: search.find(q), args.requests)
        for name, q in SEARCH_CASES.items()
    }
    bare["profile (1,000 purchases)"] = timed_calls(
        lambda: (history.timeline(profile_id), history.figures(Customer.get_by_id(profile_id))),
        args.requests,
    )
    bare[f"list page {LIST_PAGE:,}"] = timed_calls(
        lambda: customer_list.page(customer_list.Filters(), after=cursor), args.requests
    )
    db.close_all()

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-only-secret",
        "RATELIMIT_STORAGE_URI": "memory://",
        "ENCRYPTION_KEYS": "9Pnhtw2Ss7Ar0GmCAPNQzRA7u6lo4cN3zP3xkeDn7sA=",
    }
    app, port = serve("wsgi:app", env)
    ceiling, ceiling_port = serve("bench.ceiling_app:app", env)
    try:
        cookie = sign_in(port)
        headers = {"Cookie": cookie, "HX-Request": "true"}
        http_times = {
            f"search: {name}": timed_requests(port, f"/search?q={quote(q)}", headers, args.requests)
            for name, q in SEARCH_CASES.items()
        }
        http_times["profile (1,000 purchases)"] = timed_requests(
            port, f"/customers/{profile_id}", {"Cookie": cookie}, args.requests
        )
        http_times[f"list page {LIST_PAGE:,}"] = timed_requests(
            port, f"/customers?after={cursor}", {"Cookie": cookie}, args.requests
        )
        ceiling_times = timed_requests(ceiling_port, "/fragment", {}, args.requests)
        throughput = wrk_throughput(
            port, cookie, [f"/search?q={quote(q)}" for q in SEARCH_CASES.values()]
        )
    finally:
        stop(app)
        stop(ceiling)

    report = {
        "engine": args.engine,
        "size": size,
        "cases": {
            case: {"http_ms": percentiles(http_times[case]), "bare_ms": percentiles(bare[case])}
            for case in http_times
        },
        "flask_ceiling_ms": percentiles(ceiling_times),
        "search_throughput_16_connections": throughput,
    }
    (RESULTS / f"workspace-{args.engine}.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    )

    print(f"\n{args.engine}: {size}")
    print(f"{'case':<34}{'HTTP p50':>10}{'p95':>8}{'p99':>8}{'bare p50':>10}{'p95':>8}")
    for case, figures in report["cases"].items():
        h, b = figures["http_ms"], figures["bare_ms"]
        print(
            f"{case:<34}{h['p50']:>10.2f}{h['p95']:>8.2f}{h['p99']:>8.2f}{b['p50']:>10.2f}{b['p95']:>8.2f}"
        )
    c = report["flask_ceiling_ms"]
    print(f"{'bare Flask 2 KB fragment':<34}{c['p50']:>10.2f}{c['p95']:>8.2f}{c['p99']:>8.2f}")
    if throughput:
        print(
            f"search throughput, 16 connections: {throughput['requests_per_s']:.0f} req/s, p99 {throughput['p99_ms']} ms, {throughput['errors']} errors"
        )
    else:
        print("search throughput: wrk is not installed (apt-get install wrk)")


if __name__ == "__main__":
    main()
