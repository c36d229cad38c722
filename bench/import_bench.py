"""Customer import end to end (issue 8, item 8): a generated Shopify customers CSV imported on
SQLite and PostgreSQL, next to sqlite3's own `.import` of the same file (not a test).

    .venv/bin/python bench/import_bench.py [--rows 100000] [--postgresql URL]
                                           [--million-rows 1000000] [--skip-million] [--profile]

The file is a Shopify customers export (the current header row, ids and phone numbers behind
a `'`, tags as one quoted list, yes/no marketing columns) of synthetic people with Polish,
Russian, English and Chinese names, addresses and phone numbers; about 3 % of the rows repeat
an earlier customer and about 3 % have a bad e-mail address or phone number.

Each import runs in a fresh process, as the job worker would run it, on an empty migrated
database with e-mail and SMS marketing purposes: upload (`importer.receive`), check
(`start_check`: one `staging.prepare`), import (`start_import`: `staging.prepare` again, then
`applying.apply`). The two engine calls are timed by wrapping them; the process's peak resident
memory (ru_maxrss) is read as soon as the import is done. The import is then verified (customers
created = the distinct valid people generated; rows left out, in-file duplicates and consent
events as generated; a sample customer found by `portal.search.find`) and the same file is
imported again into the now full database, which must create nothing.

--postgresql URL (a server; a scratch database bench_import_pg is made there) adds the same
import on PostgreSQL. The 1,000,000-row import (SQLite, peak memory; several minutes) runs
unless --skip-million. --profile also runs the SQLite import once under cProfile and prints
the top 30 functions by cumulative and by own time.
Prints tables and writes bench/results/import_bench.json.
"""

import argparse
import cProfile
import csv
import io
import json
import os
import platform
import pstats
import random
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_parse_bench import HEADERS  # noqa: E402  (Shopify's customers export)

RESULTS = ROOT / "bench" / "results" / "import_bench.json"
PG_DATABASE = "bench_import_pg"
FILENAME = "customers_export.csv"

DUPLICATE_SHARE = 0.03  # rows that repeat an earlier customer
BAD_EMAIL_SHARE = 0.02  # of the people with an e-mail address
BAD_PHONE_SHARE = 0.01  # of the people with a phone number
# Faker locale: (share of people, country, province code, calling code, first national number).
# National numbers count up from a valid mobile number, so every person's number is unique.
LOCALES = {
    "pl_PL": (40, "PL", "MZ", 48, 600_000_000),
    "ru_RU": (25, "RU", "MOW", 7, 9_160_000_000),
    "en_GB": (20, "GB", "ENG", 44, 7_400_000_000),
    "zh_CN": (15, "CN", "BJ", 86, 13_800_000_000),
}
FLATS = {"pl_PL": "m. {}", "ru_RU": "кв. {}", "en_GB": "Flat {}", "zh_CN": "{}室"}
NOTES = ["Prefers e-mail", "Dzwonić po 16:00", "Звонить после 18:00", "请用微信联系"]
TAGS = ["VIP", "newsletter", "wholesale", "stały klient", "постоянный клиент", "опт", "会员"]
DOMAINS = [  # reserved example domains only: no address can belong to anyone
    "example.com",
    "mail.example.com",
    "poczta.example.net",
    "post.example.org",
    "yandex.example.net",
    "qq.example.org",
    "shop.example.com",
]
POOL = 400  # names, streets, cities... drawn per locale once (Faker is too slow per row)


# --- The file ------------------------------------------------------------------------------


@dataclass
class Expected:
    """What a correct import of the generated file does."""

    rows: int = 0
    people: int = 0
    created: int = 0  # distinct people whose rows are valid
    error_rows: int = 0  # rows (repeats included) with a bad e-mail or phone
    in_file_duplicates: int = 0  # valid rows repeating an earlier customer
    email_consents: int = 0  # created customers whose row says yes to e-mail marketing
    sms_consents: int = 0
    sample: dict = field(default_factory=dict)  # one valid person, to look up afterwards


@dataclass
class Person:
    values: list[str]
    valid: bool
    email: str
    phone: str
    name: str
    email_yes: bool
    sms_yes: bool


class People:
    """Person number i, always the same for the same seed (a repeat row is made again)."""

    def __init__(self, seed: int):
        from faker import Faker

        self.seed = seed
        self.locales = list(LOCALES)
        self.weights = [LOCALES[name][0] for name in self.locales]
        self.pools = {}
        for locale in self.locales:
            fake = Faker(locale)
            fake.seed_instance(seed)
            names = [(fake.first_name_male(), fake.last_name_male()) for _ in range(POOL // 2)]
            names += [(fake.first_name_female(), fake.last_name_female()) for _ in range(POOL // 2)]
            self.pools[locale] = {
                "names": names,
                "users": [_ascii_user(fake.user_name()) or "client" for _ in range(POOL)],
                "streets": [fake.street_name() for _ in range(POOL)],
                "cities": [_city(fake) for _ in range(POOL // 4)],
                "postcodes": [fake.postcode() for _ in range(POOL)],
                "companies": [fake.company() for _ in range(POOL // 4)],
            }

    def make(self, i: int) -> Person:
        rng = random.Random(self.seed * 10_000_019 + i)
        locale = rng.choices(self.locales, self.weights)[0]
        _share, country, province, calling_code, first_number = LOCALES[locale]
        pool = self.pools[locale]
        given, family = rng.choice(pool["names"])
        valid = True
        email = ""
        if rng.random() < 0.9:
            user, domain = rng.choice(pool["users"]), rng.choice(DOMAINS)
            email = f"{user}.{i}@{domain}"
            if rng.random() < BAD_EMAIL_SHARE:
                email = rng.choice((f"{user}.{i}@@{domain}", f"{user}.{i}.{domain}"))
                valid = False
        phone = shown_phone = ""
        if rng.random() < 0.85:
            national = str(first_number + i)
            phone = f"+{calling_code}{national}"
            shown_phone = phone
            if locale == "pl_PL" and rng.random() < 0.25:  # as typed in Poland
                shown_phone = f"{national[:3]} {national[3:6]} {national[6:]}"
            if rng.random() < BAD_PHONE_SHARE:
                shown_phone = rng.choice(("12", phone[:-4], f"+999 {national}"))
                valid = False
        street = rng.choice(pool["streets"])
        number = rng.randrange(1, 300)
        email_yes = bool(email) and rng.random() < 0.45
        sms_yes = bool(phone) and rng.random() < 0.3
        tags = rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2, 3)))
        values = [
            f"'{7_100_000_000_000 + i}",
            given,
            family,
            email,
            "yes" if email_yes else "no",
            rng.choice(pool["companies"]) if rng.random() < 0.06 else "",
            f"{street}{number}号" if locale == "zh_CN" else f"{street} {number}",
            FLATS[locale].format(rng.randrange(1, 120)) if rng.random() < 0.3 else "",
            rng.choice(pool["cities"]),
            province,
            country,
            f"'{rng.choice(pool['postcodes'])}",
            f"'{shown_phone}" if shown_phone and rng.random() < 0.5 else "",
            f"'{shown_phone}" if shown_phone else "",
            "yes" if sms_yes else "no",
            f"{rng.randrange(0, 500_000) / 100:.2f}",
            str(rng.randrange(0, 40)),
            rng.choice(NOTES) if rng.random() < 0.05 else "",
            "no",
            ", ".join(tags),
        ]
        return Person(values, valid, email, phone, f"{given} {family}", email_yes, sms_yes)


def _ascii_user(name: str) -> str:
    return re.sub(r"[^a-z0-9_]", "", name.lower())[:20]


def _city(fake) -> str:
    return fake.city_name() if hasattr(fake, "city_name") else fake.city()


def generate(path: Path, count: int, seed: int = 8) -> Expected:
    """Write a Shopify customers export of `count` rows; return what importing it must do."""
    people = People(seed)
    pick = random.Random(seed)
    expected = Expected(rows=count)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(HEADERS)
        for _ in range(count):
            repeat = expected.people > 100 and pick.random() < DUPLICATE_SHARE
            if repeat:
                person = people.make(pick.randrange(expected.people))
            else:
                person = people.make(expected.people)
                expected.people += 1
            writer.writerow(person.values)
            if not person.valid:
                expected.error_rows += 1
            elif repeat:
                expected.in_file_duplicates += 1
            else:
                expected.created += 1
                expected.email_consents += person.email_yes
                expected.sms_consents += person.sms_yes
                if (
                    not expected.sample
                    and expected.people > count // 3
                    and person.email
                    and person.phone
                ):
                    expected.sample = {
                        "name": person.name,
                        "email": person.email,
                        "phone": person.phone,
                    }
    return expected


# --- sqlite3's own import ------------------------------------------------------------------


def sqlite3_import(path: Path, folder: Path) -> dict:
    """Seconds for the sqlite3 shell's `.import --csv` into a new, bare table (Python's csv and
    executemany when the shell is not installed)."""
    database = folder / "bare.db"
    database.unlink(missing_ok=True)
    shell = shutil.which("sqlite3")
    started = time.perf_counter()
    if shell:
        subprocess.run([shell, str(database), f".import --csv {path} customers"], check=True)
        tool = "sqlite3 " + subprocess.check_output([shell, "--version"], text=True).split()[0]
    else:
        connection = sqlite3.connect(database)
        with path.open(newline="", encoding="utf-8") as file, connection:
            rows = csv.reader(file)
            headers = next(rows)
            columns = ", ".join(f'"{h}"' for h in headers)
            connection.execute(f"CREATE TABLE customers ({columns})")
            marks = ", ".join("?" * len(headers))
            connection.executemany(f"INSERT INTO customers VALUES ({marks})", rows)
        connection.close()
        tool = "Python csv + executemany (no sqlite3 shell)"
    seconds = time.perf_counter() - started
    with sqlite3.connect(database) as connection:
        loaded = connection.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
    return {"tool": tool, "seconds": round(seconds, 2), "rows": loaded}


# --- Databases -----------------------------------------------------------------------------


def migrated_sqlite(path: Path) -> str:
    from portal import migrations
    from portal.db import database_from_url

    url = f"sqlite:///{path}"
    database = database_from_url(url)
    migrations.upgrade(database)
    database.close_all()
    return url


def migrated_postgresql(server_url: str) -> str:
    import psycopg

    from portal import migrations
    from portal.db import database_from_url

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    url = server_url.rsplit("/", 1)[0] + "/" + PG_DATABASE
    database = database_from_url(url)
    migrations.upgrade(database)
    database.close_all()
    return url


def drop_postgresql(server_url: str) -> None:
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")


# --- One import, in a child process --------------------------------------------------------


def resident_mb() -> float:
    """The process's resident memory now (Linux)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class EngineCalls:
    """Times every call of staging.prepare, the importer's apply and, inside apply, the bulk
    inserts per table (each wrapped in place)."""

    def __init__(self):
        from portal import bulk
        from portal.imports import importer, staging

        self.calls: list[tuple[str, float]] = []
        self._wrap(staging, "prepare", lambda *args: "prepare")
        self._wrap(importer, "apply", lambda *args: "apply")
        self._wrap(bulk, "insert_rows", lambda model, *rest: f"insert {model._meta.table_name}")

    def _wrap(self, module, name: str, label) -> None:
        original = getattr(module, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.calls.append((label(*args), time.perf_counter() - started))

        setattr(module, name, timed)

    def since(self, start: int) -> dict[str, float]:
        """Seconds per label of the calls made after the first `start`."""
        totals: dict[str, float] = {}
        for label, seconds in self.calls[start:]:
            totals[label] = totals.get(label, 0) + seconds
        return {label: round(seconds, 2) for label, seconds in totals.items()}


def import_once(csv_path: Path, calls: EngineCalls, profile: bool = False) -> tuple[object, dict]:
    """Upload, check and import the file as the owner's pages do; (the job, its timings)."""
    from portal.imports import importer
    from portal.models import ImportJob

    figures = {}
    started = time.perf_counter()
    with csv_path.open("rb") as stream:
        job = importer.receive(stream, FILENAME, None)
    figures["upload"] = round(time.perf_counter() - started, 2)

    mark = len(calls.calls)
    started = time.perf_counter()
    importer.start_check(job, "en")
    figures["check"] = round(time.perf_counter() - started, 2)
    job = ImportJob.get_by_id(job.id)
    assert job.status == "checked", (job.status, job.error)
    figures["check_prepare"] = calls.since(mark)["prepare"]
    figures["rss_after_check_mb"] = round(resident_mb(), 1)

    mark = len(calls.calls)
    started = time.perf_counter()
    if profile:
        profiler = cProfile.Profile()
        profiler.runcall(importer.start_import, job, "en")
        figures["profile"] = profile_tables(profiler)
    else:
        importer.start_import(job, "en")
    figures["import"] = round(time.perf_counter() - started, 2)
    job = ImportJob.get_by_id(job.id)
    assert job.status == "done", (job.status, job.error)
    inner = calls.since(mark)
    figures["import_prepare"], figures["import_apply"] = inner.pop("prepare"), inner.pop("apply")
    figures["apply_inserts"] = inner
    figures["rss_after_import_mb"] = round(resident_mb(), 1)
    return job, figures


def profile_tables(profiler: cProfile.Profile) -> dict[str, str]:
    tables = {}
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(30)
        tables[order] = out.getvalue()
    return tables


def verify(job, expected: Expected) -> dict:
    """Stop the benchmark (AssertionError) unless the import did what the file says."""
    from portal import search
    from portal.imports import importer
    from portal.models import ConsentEvent, ConsentPurpose, ContactPoint, Customer

    summary = importer.summary_of(job)
    done = {
        "rows": summary.rows,
        "created": job.created_count,
        "customers": Customer.select().count(),
        "error_rows": summary.error_rows,
        "in_file_duplicates": summary.in_file_duplicates,
    }
    wanted = {
        "rows": expected.rows,
        "created": expected.created,
        "customers": expected.created,
        "error_rows": expected.error_rows,
        "in_file_duplicates": expected.in_file_duplicates,
    }
    assert done == wanted, f"import did {done}, the file needs {wanted}"
    for code, count in (
        ("email_marketing", expected.email_consents),
        ("sms_marketing", expected.sms_consents),
    ):
        purpose = ConsentPurpose.get(ConsentPurpose.code == code)
        events = ConsentEvent.select().where(ConsentEvent.purpose == purpose).count()
        assert events == count, f"{events} {code} events, the file needs {count}"
    sample = expected.sample
    for query in (sample["email"], sample["phone"].lstrip("+")):
        found = [match.display_name for match in search.find(query).customers]
        assert found == [sample["name"]], f"search for {query!r} found {found}"
    points = ContactPoint.select().where(ContactPoint.normalized == sample["email"]).count()
    assert points == 1, f"{points} contact points for {sample['email']}"
    return done


def run_child(url: str, csv_path: Path, folder: Path, expected: Expected, options: dict) -> dict:
    """Everything one child process does; returns its figures."""
    from portal import consent, create_app
    from portal.models import Customer

    app = create_app(
        {"DATABASE_URL": url, "JOBS_IMMEDIATE": True}, instance_path=str(folder / "instance")
    )
    result = {"rows": expected.rows}
    with app.test_request_context():
        consent.create_purpose("email_marketing", {"en": ("E-mail offers", "By e-mail.")})
        consent.create_purpose("sms_marketing", {"en": ("Text message offers", "By SMS.")})
        calls = EngineCalls()
        result["rss_before_mb"] = round(resident_mb(), 1)
        job, result["first"] = import_once(csv_path, calls, profile=options.get("profile"))
        result["peak_rss_mb"] = round(peak_mb(), 1)
        result["verified"] = verify(job, expected)
        if options.get("reimport"):
            job, again = import_once(csv_path, calls)
            summary_after = {
                "created": job.created_count,
                "updated": job.updated_count,
                "customers": Customer.select().count(),
            }
            assert summary_after["created"] == 0, summary_after
            assert summary_after["customers"] == expected.created, summary_after
            result["again"] = {**again, **summary_after}
            result["peak_rss_after_reimport_mb"] = round(peak_mb(), 1)
    return result


def in_child(url: str, csv_path: Path, folder: Path, expected: Expected, **options) -> dict:
    """run_child in a fresh Python process, so its memory and caches are its own."""
    args = json.dumps(
        {
            "url": url,
            "csv": str(csv_path),
            "folder": str(folder),
            "expected": asdict(expected),
            "options": options,
        }
    )
    child = subprocess.run(
        [sys.executable, __file__, "--child", args], capture_output=True, text=True
    )
    if child.returncode:
        sys.exit(f"the import process failed:\n{child.stderr[-5000:]}")
    return json.loads(child.stdout.splitlines()[-1])


# --- Report --------------------------------------------------------------------------------


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds else "-"


def print_table(report: dict) -> None:
    rows = report["rows"]
    cli = report["sqlite3_cli"]
    engines = {name: report[name] for name in ("sqlite", "postgresql") if name in report}
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    expected = report["expected"]
    print(
        f"\nCustomer import, {rows:,} rows of a Shopify customers export ({report['file_mb']} MB; "
        f"{expected['created']:,} distinct valid customers, {expected['error_rows']:,} rows with "
        f"errors, {expected['in_file_duplicates']:,} repeats); rows/s = rows of the file per second"
    )
    print(f"{'':46}" + "".join(f"{names[e]:>12}{'rows/s':>10}" for e in engines))

    def line(label: str, pick, per_row: bool = True) -> None:
        cells = ""
        for run in engines.values():
            seconds = pick(run)
            if seconds is None:
                cells += f"{'-':>12}{'':>10}"
            else:
                cells += f"{seconds:>11.2f}s{rate(rows, seconds) if per_row else '':>10}"
        print(f"{label:46}{cells}")

    print(
        f"{cli['tool'] + ' .import --csv, bare table':46}{cli['seconds']:>11.2f}s"
        f"{rate(rows, cli['seconds']):>10}"
    )
    line("upload (store, SHA-256, headings)", lambda r: r["first"]["upload"])
    line("check (start_check: prepare)", lambda r: r["first"]["check"])
    line("import (start_import; target <= 10 s)", lambda r: r["first"]["import"])
    line("  prepare (read, validate, dedupe, match)", lambda r: r["first"]["import_prepare"])
    line("  apply (insert + index, one transaction)", lambda r: r["first"]["import_apply"])
    tables = sorted({t for run in engines.values() for t in run["first"]["apply_inserts"]})
    for table in tables:
        line(f"    {table}", lambda r, t=table: r["first"]["apply_inserts"].get(t), False)
    line("check + import", lambda r: r["first"]["check"] + r["first"]["import"])
    line("re-import into the full database: check", lambda r: r["again"]["check"])
    line("re-import: import (0 created)", lambda r: r["again"]["import"])
    line("  prepare", lambda r: r["again"]["import_prepare"])
    line("  apply", lambda r: r["again"]["import_apply"])
    print(
        f"{'peak RSS of the importing process':46}"
        + "".join(f"{run['peak_rss_mb']:>10.1f}MB{'':>10}" for run in engines.values())
    )
    for name, run in engines.items():
        print(
            f"{names[name]}: created {run['verified']['created']:,} (verified); the re-import "
            f"created {run['again']['created']}, updated {run['again']['updated']}"
        )

    print(
        f"\n{'memory, SQLite':16}{'rows':>10}{'file MB':>9}{'check s':>9}{'import s':>10}"
        f"{'RSS before':>12}{'after check':>12}{'after import':>13}{'peak':>8}"
    )
    for run in report["memory"]:
        first = run["first"]
        print(
            f"{'':16}{run['rows']:>10,}{run['file_mb']:>9.1f}{first['check']:>9.1f}"
            f"{first['import']:>10.1f}{run['rss_before_mb']:>12.1f}"
            f"{first['rss_after_check_mb']:>12.1f}{first['rss_after_import_mb']:>13.1f}"
            f"{run['peak_rss_mb']:>8.1f}"
        )
    print(
        "(MB resident, each run in a fresh process; peak = ru_maxrss read right after the import)"
    )
    print(f"engine (portal/ as of commit): {report['engine_version']}")
    print(
        f"load average at start {report['load_average_at_start']}, at end "
        f"{report['load_average_at_end']} ({os.cpu_count()} CPUs): other work on the machine "
        "slows every figure"
    )


def engine_version() -> str:
    """The last commit that changed portal/, and whether portal/ has changes not committed."""
    try:
        commit = subprocess.check_output(
            ["git", "log", "-1", "--format=%h %cI", "--", "portal"], cwd=ROOT, text=True
        )
        changed = subprocess.check_output(
            ["git", "status", "--porcelain", "--", "portal"], cwd=ROOT, text=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit.strip() + (" + uncommitted changes in portal/" if changed.strip() else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgresql", help="server URL; a scratch database is made there")
    parser.add_argument("--million-rows", type=int, default=1_000_000)
    parser.add_argument("--skip-million", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        task = json.loads(args.child)
        result = run_child(
            task["url"],
            Path(task["csv"]),
            Path(task["folder"]),
            Expected(**task["expected"]),
            task["options"],
        )
        print(json.dumps(result))
        return

    report: dict = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "sqlite_version": sqlite3.sqlite_version,
        "rows": args.rows,
        "engine_version": engine_version(),
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory(prefix="import_bench_") as scratch:
        folder = Path(scratch)
        path = folder / FILENAME
        started = time.perf_counter()
        expected = generate(path, args.rows)
        report["file_mb"] = round(path.stat().st_size / 2**20, 1)
        report["expected"] = asdict(expected)
        print(
            f"generated {args.rows:,} rows in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        report["sqlite3_cli"] = sqlite3_import(path, folder)
        assert report["sqlite3_cli"]["rows"] == args.rows, report["sqlite3_cli"]

        template = folder / "template.db"
        migrated_sqlite(template)

        def sqlite_copy(name: str) -> str:
            copy = folder / name
            shutil.copy(template, copy)
            return f"sqlite:///{copy}"

        print("SQLite import...", file=sys.stderr)
        report["sqlite"] = in_child(sqlite_copy("sqlite.db"), path, folder, expected, reimport=True)
        memory = [{**report["sqlite"], "file_mb": report["file_mb"]}]
        if args.postgresql:
            print("PostgreSQL import...", file=sys.stderr)
            url = migrated_postgresql(args.postgresql)
            try:
                report["postgresql"] = in_child(url, path, folder, expected, reimport=True)
            finally:
                drop_postgresql(args.postgresql)
        if args.profile:
            print("SQLite import under cProfile...", file=sys.stderr)
            profiled = in_child(sqlite_copy("profiled.db"), path, folder, expected, profile=True)
            report["profile"] = {
                "import_seconds_profiled": profiled["first"]["import"],
                **profiled["first"]["profile"],
            }
        if not args.skip_million:
            big = folder / "million.csv"
            print(f"generating {args.million_rows:,} rows...", file=sys.stderr)
            big_expected = generate(big, args.million_rows)
            size = round(big.stat().st_size / 2**20, 1)
            path.unlink()
            print(f"SQLite import of {args.million_rows:,} rows...", file=sys.stderr)
            run = in_child(sqlite_copy("million.db"), big, folder, big_expected)
            memory.append({**run, "file_mb": size})
        report["memory"] = [
            {key: run[key] for key in ("rows", "file_mb", "rss_before_mb", "peak_rss_mb", "first")}
            for run in memory
        ]

    report["load_average_at_end"] = [round(load, 2) for load in os.getloadavg()]
    if engine_version() != report["engine_version"]:
        report["engine_version"] += f", then {engine_version()} (changed during the run)"
    if args.profile:
        for order in ("cumulative", "tottime"):
            print(f"\ncProfile of the SQLite import, sorted by {order} (top 30):")
            print(report["profile"][order])
    print_table(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
