"""Fifty staff at once (issue 9): Locust's simulated staff against gunicorn, SQLite and PostgreSQL.

    .venv/bin/python bench/load_bench.py [--engine sqlite|postgresql|both] [--users 50]
        [--duration 60] [--customers 20000] [--postgresql URL] [--workers 2] [--threads 4]
        [--keep-logs DIR]

For each engine: a fresh database with N demo customers (portal/demo.py, seed 1; an SQLite file
in a scratch folder, or a database `load_bench` made on the PostgreSQL server given and dropped
afterwards), one staff account per simulated user, gunicorn serving wsgi:app with the
production Argon2 parameters, and Locust headless running bench/locustfile.py for the duration:
each user signs in through the real form, then searches, opens profiles and records purchases
with a think time between actions. Users start 2 a second; the measured window (--duration)
begins when all are on. Afterwards gunicorn's logs are scanned for server errors and
"database is locked", every purchase Locust saw succeed is looked up in the database, and the
machine's CPU time during the run is split into gunicorn, Locust, PostgreSQL and the rest (on
a shared machine, other work slows every figure).
Prints a table per engine and writes bench/results/load_bench.json. Not a test.
"""

import argparse
import contextlib
import http.client
import json
import math
import os
import platform
import re
import resource
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_bench import engine_version  # noqa: E402
from bench.workspace_bench import free_port  # noqa: E402
from portal import config, demo, migrations, passwords  # noqa: E402
from portal.accounts import create_staff  # noqa: E402
from portal.db import database_from_url, is_postgresql  # noqa: E402
from portal.extensions import db  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "load_bench.json"
PG_DATABASE = "load_bench"
PASSWORD = "load bench password 1"
# A shop assistant at a busy counter: 1-3 s between one action and the next (reading the
# results, asking the customer, typing). Real staff pause longer, so 50 simulated users are a
# heavier load than 50 real ones.
THINK_SECONDS = (1.0, 3.0)
# What an assistant does most: look a customer up (each search is typed in two bursts, so two
# requests), then open the profile, and at times record a purchase there.
TASK_WEIGHTS = {"quick search": 5, "open a profile": 3, "record a purchase": 2}
# Staff arrive 2 a second (50 within 25 s), each signing in once. An Argon2 verify at the
# production parameters is ~0.2 s of one core, so 50 sign-ins are ~10 s of CPU: all at once
# they would hold both cores for 5 s. The measured window (--duration) starts when the last
# user has started; the sign-ins and the actions during the ramp-up are reported apart.
SPAWN_PER_SECOND = 2
# Requests made once per user at the start; the target applies to the actions after them.
SIGN_IN_NAMES = ("sign-in form", "sign-in (Argon2 verify)", "dashboard (after sign-in)")
RAMP_UP_ROW = "actions during the ramp-up"
ACTIONS_ROW = "all actions (all users on)"
TARGET_P95_MS = 200
FRAGMENTS = 400  # search fragments taken from the database per kind
# Gunicorn on 2 cores: 2 worker processes, one per core, so the GIL does not cap the server at
# one core; more processes would only contend for the same two cores (and each holds its own
# connection pool and page cache). gthread workers with 4 threads each: a request that waits —
# on SQLite's write lock (busy_timeout), on PostgreSQL, or on a ~0.2 s Argon2 verify, which
# releases the GIL — does not hold up the others, while idle keep-alive connections of the
# 50 browsers wait in the worker's poller rather than occupying a thread. Keep-alive (10 s)
# is longer than the think time, so a browser reuses its connection, as it would behind a
# proxy, instead of racing the server closing it.
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 4
KEEP_ALIVE_SECONDS = 10
# status, method, path, milliseconds inside gunicorn, and when (to the second)
ACCESS_LOG_FORMAT = "%(s)s %(m)s %(U)s %(M)s %(t)s"


# --- The database --------------------------------------------------------------------------


def fresh_postgresql(server_url: str) -> str:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    return server_url.rsplit("/", 1)[0] + "/" + PG_DATABASE


def drop_postgresql(server_url: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")


def build(url: str, customers: int, users: int, argon2: dict) -> tuple[dict, dict]:
    """Migrate, add demo customers and the staff accounts; return what the users need."""
    database = database_from_url(url)
    db.initialize(database)
    migrations.upgrade(database)
    started = time.perf_counter()
    counts = demo.generate(customers=customers, seed=1)
    db.execute_sql("ANALYZE")  # fresh statistics, as autovacuum would gather in time
    built_seconds = time.perf_counter() - started
    passwords.configure(**argon2)  # the hashes the server will verify, so none is redone
    accounts = [f"staff{i:02d}@load-bench.example" for i in range(users)]
    for i, email in enumerate(accounts):
        create_staff(f"Staff {i:02d}", email, PASSWORD)
    data = {
        "accounts": accounts,
        "password": PASSWORD,
        "think_seconds": THINK_SECONDS,
        "weights": TASK_WEIGHTS,
        "fragments": search_fragments(),
        "customers": [row[0] for row in db.execute_sql(_sample("SELECT id FROM customer", 2000))],
        "products": [
            row[0] for row in db.execute_sql("SELECT DISTINCT product FROM purchase_line LIMIT 100")
        ],
    }
    size = {
        "customers": counts["customers"],
        "purchases": counts["purchases"],
        "contact_points": counts["contact points"],
        "seconds_to_build": round(built_seconds, 1),
    }
    database.close_all()
    return data, size


def _sample(query: str, count: int) -> str:
    """The first rows of the query in a scrambled but fixed order (the same on both engines)."""
    modulo = "%%" if is_postgresql(db) else "%"  # psycopg reads a lone % as a placeholder
    return f"{query} ORDER BY (id * 7919) {modulo} 10007, id LIMIT {count}"


def search_fragments() -> list[tuple[str, str]]:
    """What staff type to find a customer: the start of a family name (a Chinese name whole),
    the last 7 digits of a phone number, the start of an e-mail address."""
    names = db.execute_sql(
        _sample("SELECT family_name, display_name, name_order FROM customer", FRAGMENTS)
    )
    fragments = []
    for family, display, order in names:
        text = display if order == "family_first" else family[:5]
        if text.strip():
            fragments.append(("name", text.lower()))
    phones = db.execute_sql(
        _sample("SELECT normalized FROM contact_point WHERE kind = 'phone'", FRAGMENTS // 2)
    )
    fragments += [("phone", number[-7:]) for (number,) in phones]
    emails = db.execute_sql(
        _sample("SELECT normalized FROM contact_point WHERE kind = 'email'", FRAGMENTS // 4)
    )
    fragments += [("e-mail", address.split("@")[0][:6]) for (address,) in emails]
    return fragments


def recorded_receipts(url: str) -> int:
    """Purchases the simulated staff recorded that the database holds."""
    database = database_from_url(url)
    database.connect()
    try:
        return database.execute_sql(
            "SELECT count(*) FROM purchase WHERE receipt_number LIKE 'LB-%%'"
            if url.startswith("postgres")
            else "SELECT count(*) FROM purchase WHERE receipt_number LIKE 'LB-%'"
        ).fetchone()[0]
    finally:
        database.close_all()


# --- The server ----------------------------------------------------------------------------


def serve(env: dict, folder: Path, workers: int, threads: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    with (folder / "gunicorn-error.log").open("w") as log:
        process = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "--worker-class",
                "gthread",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--keep-alive",
                str(KEEP_ALIVE_SECONDS),
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                str(folder / "gunicorn-access.log"),
                "--access-logformat",
                ACCESS_LOG_FORMAT,
                "--error-logfile",
                "-",
                "--capture-output",
                # Not the shared default (~/.gunicorn/gunicorn.ctl) another server may hold.
                "--no-control-socket",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {folder / 'gunicorn-error.log'}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/sign-in")
            answered = conn.getresponse().status
            conn.close()
            if answered == 200:
                return process, port
        except OSError:
            pass
        time.sleep(0.2)
    stop(process)
    raise RuntimeError("gunicorn did not answer /sign-in within 60 s")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (gunicorn's master and workers)."""
    children = []
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return cpu_seconds(pid) + sum(cpu_seconds(int(child)) for child in children)


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (/proc/stat)."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


def scan_logs(folder: Path) -> dict:
    errors = (folder / "gunicorn-error.log").read_text(errors="replace")
    lines = [
        line.split()
        for line in (folder / "gunicorn-access.log").read_text(errors="replace").splitlines()
    ]
    statuses = [line[0] for line in lines if line]
    # Time inside gunicorn for the actions (not the sign-in form, its POST, nor the dashboard).
    server_ms = [
        int(line[3]) for line in lines if len(line) >= 4 and line[2] not in {"/sign-in", "/"}
    ]
    return {
        "responses": len(statuses),
        "server_errors_5xx": sum(status.startswith("5") for status in statuses),
        "client_errors_4xx": sum(status.startswith("4") for status in statuses),
        "tracebacks": errors.count("Traceback (most recent call last)"),
        "database_is_locked": errors.count("database is locked"),
        "worker_timeouts": errors.count("WORKER TIMEOUT"),
        "server_time_ms": percentiles(server_ms),
        "error_log_tail": errors.strip().splitlines()[-20:],
    }


# --- Locust --------------------------------------------------------------------------------


def run_locust(
    port: int, folder: Path, data: dict, users: int, ramp_up: int, duration: int
) -> dict:
    data_file = folder / "locust-data.json"
    data_file.write_text(json.dumps(data, ensure_ascii=False))
    requests_file = folder / "requests.jsonl"
    requests_file.unlink(missing_ok=True)
    env = {
        **os.environ,
        "LOAD_BENCH_DATA": str(data_file),
        "LOAD_BENCH_REQUESTS": str(requests_file),
    }
    started = time.monotonic()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with (folder / "locust.log").open("w") as log:
        finished = subprocess.run(
            [
                str(ROOT / ".venv/bin/locust"),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(users),
                "--spawn-rate",
                str(SPAWN_PER_SECOND),
                "--run-time",
                f"{ramp_up + duration}s",
                "--stop-timeout",
                "10",
                "--host",
                f"http://127.0.0.1:{port}",
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=ramp_up + duration + 120,
        )
    seconds = time.monotonic() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    locust_cpu = (children.ru_utime - children_before.ru_utime) + (
        children.ru_stime - children_before.ru_stime
    )
    lines = [json.loads(line) for line in requests_file.read_text().splitlines() if line]
    records = [line for line in lines if "name" in line]
    user_errors = [line["user_error"] for line in lines if "user_error" in line]
    all_started = next((line["at"] for line in lines if "spawned" in line), None)
    if all_started is None:
        raise RuntimeError("Locust never started all users; see its log")
    locust_total = _locust_aggregate((folder / "locust.log").read_text(errors="replace"))
    # Our per-request records and Locust's own final statistics must agree.
    if locust_total and locust_total != (len(records), sum(not r["ok"] for r in records)):
        raise RuntimeError(f"Locust counted {locust_total}, the request log {len(records)}")
    return {
        "records": records,
        "all_started": all_started,
        "user_errors": user_errors,
        "cpu_seconds": locust_cpu,
        "seconds": seconds,
        "exit_code": finished.returncode,
        "log_tail": (folder / "locust.log").read_text(errors="replace").splitlines()[-30:],
    }


def _locust_aggregate(summary: str) -> tuple[int, int] | None:
    """(requests, failures) from the Aggregated line of the summary Locust prints at the end
    (the CSV files are written before users stopping within --stop-timeout finish)."""
    totals = re.findall(r"^\s+Aggregated\s+(\d+)\s+(\d+)\(", summary, re.MULTILINE)
    return tuple(int(n) for n in totals[0]) if totals else None


# --- Figures -------------------------------------------------------------------------------


def percentiles(times: list[float]) -> dict:
    if not times:
        return {}
    cuts = statistics.quantiles(times * 2 if len(times) == 1 else times, n=100, method="inclusive")
    return {
        "median": round(statistics.median(times), 1),
        "p95": round(cuts[94], 1),
        "p99": round(cuts[98], 1),
        "max": round(max(times), 1),
    }


def postgresql_backends_cpu(url: str) -> float:
    """CPU seconds of the PostgreSQL backends serving the bench database (all started with the
    server's connection pools, during the run)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        pids = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return sum(cpu_seconds(pid) for (pid,) in pids)


def cpu_share(before: tuple, after: tuple, **used: float) -> dict:
    """How the machine's CPU time went during the Locust run, in % of all cores' time."""
    busy, total = after[0] - before[0], after[1] - before[1]

    def share(seconds: float) -> float:
        return round(100 * seconds / total, 1) if total else 0.0

    return {
        "machine_busy": share(busy),
        **{name: share(seconds) for name, seconds in used.items()},
        "everything_else": share(busy - sum(used.values())),  # other people's work
    }


def summarise(records: list[dict], window_start: float, duration: int) -> dict:
    """Per request type over the window when all users are on (sign-ins: all of them), the
    actions of that window together, and the actions made during the ramp-up."""
    window_end = window_start + duration
    in_window = [r for r in records if window_start <= r["ended"] <= window_end]
    actions = [r for r in in_window if r["name"] not in SIGN_IN_NAMES]
    sign_ins = [r for r in records if r["name"] in SIGN_IN_NAMES]
    ramp_up = [r for r in records if r["ended"] < window_start and r["name"] not in SIGN_IN_NAMES]
    groups = {}
    for name in sorted({r["name"] for r in actions}):
        groups[name] = ([r for r in actions if r["name"] == name], duration)
    groups[ACTIONS_ROW] = (actions, duration)
    groups[RAMP_UP_ROW] = (ramp_up, None)
    for name in SIGN_IN_NAMES:
        groups[name] = ([r for r in sign_ins if r["name"] == name], None)
    table = {}
    for name, (rows, seconds) in groups.items():
        table[name] = {
            "requests": len(rows),
            "per_second": round(len(rows) / seconds, 2) if seconds else None,
            **percentiles([r["ms"] for r in rows]),
            "failures": sum(not r["ok"] for r in rows),
        }
    return table


def failure_samples(records: list[dict], user_errors: list[str]) -> dict[str, int]:
    samples: dict[str, int] = {}
    for error in user_errors:
        key = f"task broke: {error}"[:200]
        samples[key] = samples.get(key, 0) + 1
    for r in records:
        if not r["ok"]:
            key = f"{r['name']}: {r.get('error', '')}"[:200]
            samples[key] = samples.get(key, 0) + 1
    return samples


def print_engine(name: str, run: dict) -> None:
    size = run["size"]
    logs = run["server_log"]
    print(
        f"\n{name}: {run['users']} staff, {run['duration_s']} s measured after a "
        f"{run['ramp_up_s']} s ramp-up; {size['customers']:,} demo customers, "
        f"{size['purchases']:,} purchases; gunicorn gthread {run['gunicorn']}"
    )
    print(
        f"{'request type':<31}{'requests':>9}{'req/s':>8}{'median':>8}{'p95':>8}{'p99':>8}"
        f"{'max':>8}{'failures':>10}"
    )
    for label, row in run["requests"].items():
        if label in {ACTIONS_ROW, RAMP_UP_ROW}:
            print("-" * 90 if label == ACTIONS_ROW else "")
        if label == SIGN_IN_NAMES[0]:
            print(
                f"once per user, as it signs in (Argon2 verify ≈ {run['argon2_verify_ms']} ms CPU):"
            )
        if not row["requests"]:
            print(f"{label:<31}{0:>9}")
            continue
        rate = f"{row['per_second']:.1f}" if row["per_second"] is not None else ""
        print(
            f"{label:<31}{row['requests']:>9}{rate:>8}{row['median']:>8.1f}"
            f"{row['p95']:>8.1f}{row['p99']:>8.1f}{row['max']:>8.1f}{row['failures']:>10}"
        )
    actions = run["requests"][ACTIONS_ROW]
    errors = sum(run["errors"].values())
    verdict = "✔" if actions["p95"] <= TARGET_P95_MS and errors == 0 else "✘"
    print(
        f"(milliseconds, as Locust measured them; Argon2 {run['argon2']}; think time "
        f"{run['think_seconds'][0]:g}–{run['think_seconds'][1]:g} s)"
    )
    print("errors: " + ", ".join(f"{name} {count}" for name, count in run["errors"].items()))
    print(
        f"server: time inside gunicorn for the actions p95 {logs['server_time_ms'].get('p95')} "
        f"ms; gunicorn CPU {run['server_cpu_ms_per_request']} ms per request (sign-ins included)"
    )
    cpu = run["cpu_share"]
    print(
        f"CPU (% of both cores' time during the run): machine busy {cpu['machine_busy']}, "
        + ", ".join(
            f"{name.replace('_', ' ')} {share}"
            for name, share in cpu.items()
            if name != "machine_busy"
        )
        + f"; load average {run['load_average_before'][0]} before, "
        f"{run['load_average_after'][0]} after"
    )
    print(
        f"purchases: {run['purchases']['succeeded']} succeeded in Locust, "
        f"{run['purchases']['in_database']} found in the database"
    )
    print(
        f"target: 0 errors, p95 ≤ {TARGET_P95_MS} ms for the actions → {errors} errors, "
        f"p95 {actions['p95']} ms {verdict}"
    )
    for failure, count in run["failure_samples"].items():
        print(f"  failure ×{count}: {failure}")


# --- One engine ----------------------------------------------------------------------------


def run_engine(engine: str, args, argon2: dict) -> dict:
    with tempfile.TemporaryDirectory(prefix="load_bench_") as scratch:
        folder = Path(scratch)
        url = (
            fresh_postgresql(args.postgresql)
            if engine == "postgresql"
            else f"sqlite:///{folder / 'load.db'}"
        )
        try:
            print(f"{engine}: building {args.customers:,} demo customers...", file=sys.stderr)
            data, size = build(url, args.customers, args.users, argon2)
            instance = folder / "instance"
            config.from_environment(str(instance))  # the secrets the server will read there
            env = {
                key: value
                for key, value in os.environ.items()
                if not key.startswith(("ARGON2_", "DATABASE_URL", "SECRET_KEY", "ENCRYPTION_"))
            }
            env.update(
                {
                    "DATABASE_URL": url,
                    "KARTOTEKA_INSTANCE_PATH": str(instance),
                    "JOBS_URL": f"sqlite:///{instance / 'jobs.sqlite3'}",  # (no job is started)
                    "RATELIMIT_STORAGE_URI": "memory://",
                    # All simulated staff share one loopback address; the per-address limit
                    # (10 sign-ins a minute) would turn most of their sign-ins away.
                    "SIGN_IN_LIMIT_PER_ADDRESS": "1000 per minute",
                    # Plain HTTP on loopback, as behind a TLS-terminating proxy; a Secure
                    # cookie would not be sent back over it (as `make run` does).
                    "SESSION_COOKIE_SECURE": "0",
                }
            )
            print(f"{engine}: starting gunicorn...", file=sys.stderr)
            ramp_up = math.ceil(args.users / SPAWN_PER_SECOND)
            server, port = serve(env, folder, args.workers, args.threads)
            try:
                cpu_before = tree_cpu_seconds(server.pid)
                machine_before = machine_cpu_seconds()
                print(
                    f"{engine}: {args.users} users for {ramp_up} + {args.duration} s "
                    f"(think time {THINK_SECONDS[0]:g}–{THINK_SECONDS[1]:g} s)...",
                    file=sys.stderr,
                )
                load_average_before = [round(x, 2) for x in os.getloadavg()]
                locust = run_locust(port, folder, data, args.users, ramp_up, args.duration)
                load_average_after = [round(x, 2) for x in os.getloadavg()]
                cpu_used = tree_cpu_seconds(server.pid) - cpu_before
                machine_after = machine_cpu_seconds()
                used = {"gunicorn": cpu_used, "locust": locust["cpu_seconds"]}
                if engine == "postgresql":
                    used["postgresql"] = postgresql_backends_cpu(url)
            finally:
                stop(server)
            server_log = scan_logs(folder)
            if args.keep_logs:
                kept = Path(args.keep_logs) / engine
                kept.mkdir(parents=True, exist_ok=True)
                for name in (
                    "gunicorn-error.log",
                    "gunicorn-access.log",
                    "locust.log",
                    "requests.jsonl",
                ):
                    shutil.copy(folder / name, kept / name)
            records = locust["records"]
            purchases_ok = sum(r["ok"] for r in records if r["name"] == "record purchase")
            in_database = recorded_receipts(url)
        finally:
            if engine == "postgresql":
                drop_postgresql(args.postgresql)
    failures = sum(not r["ok"] for r in records)
    return {
        "engine": engine,
        "users": args.users,
        "duration_s": args.duration,
        "locust_seconds": round(locust["seconds"], 1),
        "think_seconds": THINK_SECONDS,
        "task_weights": TASK_WEIGHTS,
        "spawn_per_second": SPAWN_PER_SECOND,
        "size": size,
        "gunicorn": f"{args.workers} workers × {args.threads} threads, keep-alive {KEEP_ALIVE_SECONDS} s",
        "argon2": _argon2_text(argon2),
        "argon2_verify_ms": argon2_verify_ms(argon2),
        "ramp_up_s": ramp_up,
        "requests": summarise(records, locust["all_started"], args.duration),
        # The target is none of these: what Locust saw, what only the server's log shows, and
        # purchases reported recorded that the database lacks (or the other way round).
        "errors": {
            "failed requests": failures,
            "broken tasks": len(locust["user_errors"]),
            "responses 5xx": server_log["server_errors_5xx"],
            '"database is locked"': server_log["database_is_locked"],
            "tracebacks": server_log["tracebacks"],
            "worker timeouts": server_log["worker_timeouts"],
            "purchases missing": abs(purchases_ok - in_database),
        },
        "failure_samples": failure_samples(records, locust["user_errors"]),
        "server_log": server_log,
        "server_cpu_ms_per_request": round(1000 * cpu_used / max(1, len(records)), 2),
        "cpu_share": cpu_share(machine_before, machine_after, **used),
        "purchases": {"succeeded": purchases_ok, "in_database": in_database},
        "locust_exit_code": locust["exit_code"],
        "locust_log_tail": locust["log_tail"] if locust["exit_code"] not in (0, 1) else [],
        "load_average_before": load_average_before,
        "load_average_after": load_average_after,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument(
        "--postgresql",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help=f"server URL; a scratch database {PG_DATABASE} is made there and dropped",
    )
    parser.add_argument("--workers", type=int, default=GUNICORN_WORKERS)
    parser.add_argument("--threads", type=int, default=GUNICORN_THREADS)
    parser.add_argument("--keep-logs", metavar="DIR", help="copy gunicorn's and Locust's logs here")
    args = parser.parse_args()

    argon2 = production_argon2()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    print(
        f"{args.users} simulated staff × {args.duration} s per engine, think time "
        f"{THINK_SECONDS[0]:g}–{THINK_SECONDS[1]:g} s between actions (weights: "
        + ", ".join(f"{task} {weight}" for task, weight in TASK_WEIGHTS.items())
        + f"), {SPAWN_PER_SECOND} users started per second; {args.customers:,} demo customers; gunicorn gthread "
        f"{args.workers}×{args.threads}; Argon2 {_argon2_text(argon2)} (production defaults)",
        flush=True,
    )
    report = {
        "machine": f"{platform.platform()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "sqlite_version": sqlite3.sqlite_version,
        "engine_version": engine_version(),
        "engines": {},
    }
    for engine in engines:
        report["engines"][engine] = run = run_engine(engine, args, argon2)
        print_engine({"sqlite": "SQLite", "postgresql": "PostgreSQL"}[engine], run)
    print(
        f"\nengine (portal/ as of commit): {report['engine_version']}; Locust and gunicorn (and "
        f"PostgreSQL) share the machine's {os.cpu_count()} CPUs, and so does any other work on it"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    if any(sum(run["errors"].values()) for run in report["engines"].values()):
        sys.exit(1)


def argon2_verify_ms(argon2: dict) -> int:
    """CPU milliseconds of one Argon2 verify with these parameters, on this machine now."""
    from argon2 import PasswordHasher

    hasher = PasswordHasher(**argon2)
    stored = hasher.hash(PASSWORD)
    times = []
    for _ in range(3):
        started = time.process_time()
        hasher.verify(stored, PASSWORD)
        times.append(time.process_time() - started)
    return round(1000 * min(times))


def _argon2_text(argon2: dict) -> str:
    return ", ".join(f"{key} {value}" for key, value in argon2.items())


def production_argon2() -> dict:
    """Argon2 parameters as portal/config.py sets them when the environment says nothing."""
    saved = {key: os.environ.pop(key) for key in list(os.environ) if key.startswith("ARGON2_")}
    try:
        with tempfile.TemporaryDirectory() as scratch:
            settings = config.from_environment(scratch)
    finally:
        os.environ.update(saved)
    return {
        "time_cost": settings["ARGON2_TIME_COST"],
        "memory_cost": settings["ARGON2_MEMORY_COST"],
        "parallelism": settings["ARGON2_PARALLELISM"],
    }


if __name__ == "__main__":
    main()
