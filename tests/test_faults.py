"""Faults (issue 9): SPEC 6.7, "nothing is lost on a crash", shown with real processes.

1. The web server (gunicorn, configured by environment variables as in production) is killed
   with SIGKILL, master and workers together, while staff post purchases, interactions, new
   customers and edits through the real forms. After a restart every write the server
   acknowledged is in the database whole, nothing is half-written, the customers' purchase
   figures add up, the audit chain verifies and SQLite's integrity check passes.
2. The job worker (huey_consumer) is killed with SIGKILL while it builds an export the owner
   was told is queued, with a second one waiting behind it. The restarted worker builds both;
   neither stays "running", and nothing half-written is left on disk (it names customers).
   A job whose task was lost between the queue and the worker is built by the next worker.
3. `flask backup` runs while staff keep recording purchases through the server; `flask
   restore` of that file into a fresh database gives a consistent snapshot: integrity check,
   no orphans, figures equal to the purchases, an intact audit chain, and a purchase count
   between those before and after the backup ran.
"""

import csv
import http.client
import io
import itertools
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlparse

import psycopg
import pytest
from openpyxl import load_workbook
from peewee import fn

from portal import audit, demo, exports, jobs
from portal.customer_list import Filters
from portal.db import database_from_url, is_postgresql
from portal.extensions import db
from portal.history import cents
from portal.models import (
    AuditEvent,
    ContactPoint,
    Customer,
    ExportJob,
    Interaction,
    Purchase,
    PurchaseLine,
)
from tests.conftest import PASSWORD, PG_URL, scratch_postgresql_url
from tests.factories import make_customer
from tests.job_worker import wait_for_job
from tests.test_exports import start_export

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WRITERS = 4
STARTUP_TIMEOUT = 40  # seconds for gunicorn to answer its first request
CONNECTION_ERRORS = (OSError, http.client.HTTPException)
# What a form sent back says, to show when a valid write was refused.
ERROR_MESSAGE = re.compile(
    r'<p class="error"[^>]*>([^<]*)</p>|<div class="form-errors"[^>]*>(.*?)</div>', re.S
)


# --- A real server, configured as in production --------------------------------------------


def production_env(app, tmp_path: Path) -> dict:
    """The environment a deployment sets (portal/config.py), with cheap Argon2 costs."""
    return {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "ENCRYPTION_KEYS": ",".join(app.config["ENCRYPTION_KEYS"]),
        "KARTOTEKA_INSTANCE_PATH": app.instance_path,
        "JOBS_URL": f"sqlite:///{tmp_path / 'jobs.sqlite3'}",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "8",
        "ARGON2_PARALLELISM": "1",
        # Every writer signs in from 127.0.0.1, twice over with the restart.
        "SIGN_IN_LIMIT_PER_ADDRESS": "1000 per minute",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving wsgi:app on a loopback port, in a process group of its own."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log = env, log
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> "Server":
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "--workers=2",
                    "--threads=4",
                    f"--bind=127.0.0.1:{self.port}",
                    "--log-level=warning",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,  # master and workers share one process group
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited: {self.log.read_text()[-3000:]}")
            probe = Browser(self.port)
            try:
                if probe.get("/sign-in")[0] == 200:
                    return self
            except CONNECTION_ERRORS:
                pass  # not listening yet
            finally:
                probe.connection.close()
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"gunicorn did not answer in time: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the master and every worker at once, as a crash or the OOM killer would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        self.process = None


@pytest.fixture
def server(app, tmp_path):
    """A gunicorn over the test's database (not started); stopped whatever the test does."""
    started = Server(production_env(app, tmp_path), tmp_path / "gunicorn.log")
    yield started
    started.stop()


def flask_command(env: dict, *arguments: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `flask --app wsgi …` as an operator would, with the deployment's environment."""
    return subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# --- A browser's worth of HTTP ---------------------------------------------------------------


class _Forms(HTMLParser):
    """Every form on a page: its action and the values a browser would submit unchanged."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, dict]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append((attrs.get("action") or "", {}))
            return
        if not self.forms:
            return
        fields = self.forms[-1][1]
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind not in ("submit", "button", "file"):
                fields[name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            value = attrs.get("value") or ""
            if self._select not in fields or "selected" in attrs:
                fields[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            self.forms[-1][1][self._textarea] += data


class Browser:
    """One staff member's browser: its own connection and cookies, forms read from pages."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body, headers)
        response = self.connection.getresponse()
        text = response.read().decode()
        for cookie in response.headers.get_all("Set-Cookie") or ():
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in cookie.lower():
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response.status, response.headers, text

    def get(self, path: str):
        return self.request("GET", path)

    def form(self, page: str, action: str) -> dict:
        """The fields of the form on `page` that posts to `action`, as the page filled them."""
        status, _headers, html = self.get(page)
        assert status == 200, f"GET {page}: {status}"
        parser = _Forms()
        parser.feed(html)
        for form_action, fields in parser.forms:
            # A form without an action posts to its own page, as in a browser.
            if (urlparse(form_action).path or urlparse(page).path) == action:
                return dict(fields)
        raise AssertionError(f"no form posting to {action} on {page}")

    def submit(self, page: str, action: str, **changes):
        """Open the page, fill its form (field names ending in a key of changes), post it."""
        fields = self.form(page, action)
        for suffix, value in changes.items():
            names = [name for name in fields if name == suffix or name.endswith("-" + suffix)]
            assert len(names) == 1, f"{suffix}: {names} in {sorted(fields)}"
            fields[names[0]] = value
        return self.request("POST", action, urlencode(fields))

    def sign_in(self, email: str, password: str = PASSWORD) -> "Browser":
        status, headers, _ = self.submit("/sign-in", "/sign-in", email=email, password=password)
        assert status == 303, f"sign-in answered {status}"
        return self


# --- Writers: what each staff member sent, and what the server acknowledged -------------------


@dataclass
class Write:
    kind: str  # purchase, interaction, create, edit
    key: str  # receipt number, summary, family name or note: unique per write
    customer_id: int | None = None
    lines: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)
    status: int | None = None  # None: no answer came (the server died under it)
    created_id: int | None = None
    refusal: str = ""  # the messages of a form sent back


@dataclass
class Writer:
    """A staff member recording things at the counter, one request after another."""

    browser: Browser
    tag: str
    customers: list[int]  # profiles to record purchases and interactions on
    edits: int  # the one customer this writer edits (so the last edit is well defined)
    kinds: tuple[str, ...] = ("purchase", "purchase", "interaction", "create", "edit")
    writes: list[Write] = field(default_factory=list)
    error: BaseException | None = None

    def run(self, stop: threading.Event) -> None:
        rng = random.Random(self.tag)
        try:
            for n in itertools.count():
                if stop.is_set():
                    return
                write = self.next_write(rng.choice(self.kinds), n, rng)
                self.writes.append(write)  # in doubt until the answer comes
                try:
                    self.send(write)
                except CONNECTION_ERRORS:
                    return  # the server died: this write stays unanswered
                if write.kind == "create" and write.created_id:
                    self.customers.append(write.created_id)
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error
        finally:
            self.browser.connection.close()

    def next_write(self, kind: str, n: int, rng: random.Random) -> Write:
        key = f"{self.tag}-{n}"
        if kind == "purchase":
            lines = [
                (
                    f"Tea {key}/{i}",
                    Decimal(rng.randint(1, 3)),
                    Decimal(rng.randint(100, 9999)) / 100,
                )
                for i in range(rng.randint(1, 2))
            ]
            return Write("purchase", f"R{key}", rng.choice(self.customers), lines)
        if kind == "interaction":
            return Write("interaction", f"Called about order {key}", rng.choice(self.customers))
        if kind == "create":
            return Write("create", f"Writer{key.replace('-', 'n')}")
        return Write("edit", f"Edited {key}", self.edits)

    def send(self, write: Write) -> None:
        """Open the page, fill in the form and post it, as staff do; note what came back."""
        b = self.browser
        if write.kind == "purchase":
            profile = f"/customers/{write.customer_id}"
            lines = {}
            for i, (product, quantity, price) in enumerate(write.lines):
                lines[f"lines-{i}-product"] = product
                lines[f"lines-{i}-quantity"] = str(quantity)
                lines[f"lines-{i}-unit_price"] = str(price)
            status, headers, page = b.submit(
                profile, f"{profile}/purchases", receipt_number=write.key, **lines
            )
        elif write.kind == "interaction":
            profile = f"/customers/{write.customer_id}"
            status, headers, page = b.submit(
                profile, f"{profile}/interactions", summary=write.key, channel="call"
            )
        elif write.kind == "create":
            status, headers, page = b.submit(
                "/customers/new",
                "/customers/new",
                given_name="Fault",
                family_name=write.key,
                email=f"{write.key.lower()}@example.com",
            )
            if status == 303:
                write.created_id = int(re.search(r"/customers/(\d+)$", headers["Location"])[1])
        else:
            edit = f"/customers/{write.customer_id}/edit"
            status, headers, page = b.submit(edit, edit, note=write.key)
        write.status = status
        if status != 303:
            write.refusal = " ".join(
                m.strip() for pair in ERROR_MESSAGE.findall(page) for m in pair
            )


def run_writers(writers: list[Writer], until) -> tuple[threading.Event, list[threading.Thread]]:
    """Start the writers; return once until() holds (checked every 20 ms) or 60 s passed."""
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in writers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while not until() and time.monotonic() < deadline:
        if not any(thread.is_alive() for thread in threads):
            break
        time.sleep(0.02)
    return stop, threads


def join(stop: threading.Event, threads: list[threading.Thread], writers: list[Writer]) -> None:
    stop.set()
    for thread in threads:
        thread.join(timeout=40)
        assert not thread.is_alive(), "a writer hung"
    for writer in writers:
        if writer.error:
            raise writer.error


def acknowledged(writers: list[Writer], kind: str | None = None) -> list[Write]:
    """The writes the server said it made (303 to the profile)."""
    return [
        w
        for writer in writers
        for w in writer.writes
        if w.status == 303 and (kind is None or w.kind == kind)
    ]


def refused(writers: list[Writer]) -> list[tuple]:
    """Answers other than 303: a valid write refused (or failed) while the server was up."""
    return [
        (w.kind, w.key, w.status, w.refusal)
        for writer in writers
        for w in writer.writes
        if w.status not in (None, 303)
    ]


def unanswered(writers: list[Writer]) -> list[Write]:
    """The writes under way when the server died: each may or may not have been made."""
    return [w for writer in writers for w in writer.writes if w.status is None]


# --- What a consistent database looks like ----------------------------------------------------


def purchase_problems() -> list[str]:
    """Purchases without lines or whose total is not their lines', and customers whose
    purchase figures are not the sums over their purchases."""
    problems = []
    line_sums = dict(
        PurchaseLine.select(PurchaseLine.purchase, fn.SUM(PurchaseLine.line_total))
        .group_by(PurchaseLine.purchase)
        .tuples()
    )
    for purchase_id, total in Purchase.select(Purchase.id, Purchase.total).tuples():
        if purchase_id not in line_sums:
            problems.append(f"purchase {purchase_id} has no lines")
        elif cents(line_sums[purchase_id]) != cents(total):
            problems.append(
                f"purchase {purchase_id}: total {total}, lines {line_sums[purchase_id]}"
            )
    as_time = Purchase.purchased_at.python_value  # SQLite gives an aggregate back as text
    sums = {
        customer_id: (count, cents(total), as_time(last))
        for customer_id, count, total, last in Purchase.select(
            Purchase.customer,
            fn.COUNT(Purchase.id),
            fn.SUM(Purchase.total),
            fn.MAX(Purchase.purchased_at),
        )
        .group_by(Purchase.customer)
        .tuples()
    }
    columns = (
        Customer.id,
        Customer.purchase_count,
        Customer.lifetime_value,
        Customer.last_purchase_at,
    )
    for customer_id, count, value, last in Customer.select(*columns).tuples():
        expected = sums.get(customer_id, (0, cents(Decimal(0)), None))
        if (count, cents(value), as_time(last)) != expected:
            problems.append(
                f"customer {customer_id}: figures {(count, value, last)}, purchases {expected}"
            )
    return problems


def engine_problems() -> list[str]:
    """What the engine itself finds: SQLite's integrity and foreign-key checks."""
    if is_postgresql(db):
        return []  # PostgreSQL enforces the foreign keys; a torn page would not even read
    problems = [row[0] for row in db.execute_sql("PRAGMA integrity_check") if row[0] != "ok"]
    problems += [repr(row) for row in db.execute_sql("PRAGMA foreign_key_check")]
    return problems


def purchases_by_receipt(prefix: str) -> dict[str, list[Purchase]]:
    found: dict[str, list[Purchase]] = {}
    for purchase in Purchase.select().where(Purchase.receipt_number.startswith(prefix)):
        found.setdefault(purchase.receipt_number, []).append(purchase)
    return found


@contextmanager
def bound_to(url: str):
    """Point the models at another database (a restored copy) for a while."""
    original = db.obj
    db.close_all()
    other = database_from_url(url)
    db.initialize(other)
    try:
        yield
    finally:
        other.close_all()
        db.initialize(original)


# --- 1. The web server killed during writes ---------------------------------------------------


def test_killing_the_web_server_during_writes_loses_no_acknowledged_write(
    app, staff_member, server
):
    shared = [make_customer("Shared", f"Customer{i}").id for i in range(2)]
    own = [
        make_customer(
            "Edited", f"Customer{i}", email=f"edited{i}@example.com", note="first note"
        ).id
        for i in range(WRITERS)
    ]
    server.start()
    writers = [
        Writer(
            Browser(server.port).sign_in(staff_member.email),
            tag=f"w{i}",
            customers=[*shared, *own],
            edits=own[i],
        )
        for i in range(WRITERS)
    ]
    stop, threads = run_writers(writers, until=lambda: len(acknowledged(writers)) >= 60)
    server.kill()  # mid-stream: every writer has a request under way or about to be
    join(stop, threads, writers)

    assert refused(writers) == []
    answered = acknowledged(writers)
    assert len(answered) >= 60, f"only {len(answered)} writes acknowledged before the kill"
    assert {w.kind for w in answered} == {"purchase", "interaction", "create", "edit"}

    # The restarted server serves and writes again (a fresh sign-in, a new purchase).
    server.start()
    after = Writer(Browser(server.port).sign_in(staff_member.email), "after", [shared[0]], own[0])
    restart_write = after.next_write("purchase", 0, random.Random(0))
    after.send(restart_write)
    after.browser.connection.close()
    assert restart_write.status == 303
    server.stop()

    # Every acknowledged purchase is there once, with its lines and total.
    in_doubt = unanswered(writers)
    purchases = purchases_by_receipt("R")
    for write in [*acknowledged(writers, "purchase"), restart_write]:
        found = purchases.get(write.key, [])
        assert len(found) == 1, f"acknowledged purchase {write.key} found {len(found)} times"
        purchase = found[0]
        lines = [
            (line.product, line.quantity, line.unit_price)
            for line in PurchaseLine.select()
            .where(PurchaseLine.purchase == purchase)
            .order_by(PurchaseLine.id)
        ]
        assert lines == [(p, q, cents(u)) for p, q, u in write.lines], write.key
        assert purchase.customer_id == write.customer_id
        assert cents(purchase.total) == sum(cents(q * u) for _p, q, u in write.lines)
    sent = {w.key for w in [*acknowledged(writers, "purchase"), *in_doubt, restart_write]}
    assert set(purchases) <= sent, "purchases nobody sent"
    assert all(len(p) == 1 for p in purchases.values()), "a purchase recorded twice"

    # Interactions and new customers: acknowledged ones there, once, whole.
    for write in acknowledged(writers, "interaction"):
        found = Interaction.select().where(Interaction.summary == write.key)
        assert [i.customer_id for i in found] == [write.customer_id], write.key
    created = acknowledged(writers, "create")
    for write in created:
        customer = Customer.get_or_none(Customer.id == write.created_id)
        assert customer is not None and customer.family_name == write.key
    for customer in Customer.select().where(Customer.given_name == "Fault"):
        emails = ContactPoint.select().where(
            (ContactPoint.customer == customer.id) & (ContactPoint.kind == "email")
        )
        assert [e.normalized for e in emails] == [f"{customer.family_name.lower()}@example.com"]
        assert customer.search_tokens, f"customer {customer.id} missing from search"
        assert (
            AuditEvent.select()
            .where(
                (AuditEvent.action == "customer_created") & (AuditEvent.target_id == customer.id)
            )
            .count()
            == 1
        )

    # Each edited customer holds its last acknowledged note, or the one sent as the server died.
    for writer in writers:
        edits = [w for w in writer.writes if w.kind == "edit"]
        acked = [w.key for w in edits if w.status == 303]
        possible = {acked[-1] if acked else "first note"} | {
            w.key for w in edits if w.status is None
        }
        assert Customer.get_by_id(writer.edits).note in possible

    assert purchase_problems() == []
    assert engine_problems() == []
    assert audit.verify().ok


# --- 2. The job worker killed during a job ----------------------------------------------------


def wait_until_running(job_id: int, low: int = 5, high: int = 80, timeout: float = 60) -> int:
    """Wait until the worker is partway through the job; the percent it reached."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ExportJob.get_by_id(job_id)
        if job.status == "running" and low <= job.progress < high:
            return job.progress
        assert not job.finished, f"job {job_id} finished before it could be cut off"
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} never got going: {ExportJob.get_by_id(job_id).status}")


def job_of(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_killing_the_worker_during_an_export_loses_no_acknowledged_job(
    app, owner_client, job_worker, tmp_path
):
    with app.test_request_context("/"):
        demo.generate(8000, seed=3)
    customers = Customer.active().count()
    everyone = Filters().to_json()
    # The owner is told both exports are queued (303 to the job's page).
    cut = job_of(start_export(owner_client, filters=everyone, file_format="xlsx"))
    waiting = job_of(start_export(owner_client, filters=everyone, file_format="csv"))

    scratch = tmp_path / "worker-tmp"  # the worker's own temporary folder, to look into
    scratch.mkdir()
    job_worker.env["TMPDIR"] = str(scratch)
    job_worker.start()
    reached = wait_until_running(cut)
    job_worker.process.send_signal(signal.SIGKILL)
    job_worker.process.wait(timeout=10)
    job_worker.process = None

    # What the killed worker left: one job "running" that nobody builds, one still queued.
    assert ExportJob.get_by_id(cut).status == "running", f"cut off at {reached} %"
    assert ExportJob.get_by_id(waiting).status == "queued"

    job_worker.start()  # as after a restart of the service
    for job_id in (cut, waiting):
        job = wait_for_job(job_id, timeout=120)
        assert job.status == "done", job.error
    page = owner_client.get(f"/owner/jobs/{cut}").get_data(as_text=True)
    assert f'href="/owner/jobs/{cut}/download"' in page

    # The files are whole: every customer once, in the XLSX and in the CSV.
    with owner_client.get(f"/owner/jobs/{waiting}/download") as download:
        assert download.status_code == 200
        rows = list(csv.reader(io.StringIO(download.get_data().decode("utf-8-sig"))))
    assert len(rows) == customers + 1
    assert len({row[0] for row in rows[1:]}) == customers
    with owner_client.get(f"/owner/jobs/{cut}/download") as download:
        assert download.status_code == 200
        workbook = load_workbook(io.BytesIO(download.get_data()), read_only=True)
        ids = [row[0] for row in workbook.active.iter_rows(min_row=2, values_only=True)]
        workbook.close()
    assert len(ids) == len(set(ids)) == customers

    # Nothing of the cut-off run is left on disk (its half-written rows name customers too):
    # only the two finished files, and nothing in the worker's temporary folder.
    files = sorted(p.name for p in jobs.exports_folder(app).iterdir())
    kept = sorted(Path(ExportJob.get_by_id(j).file_path).name for j in (cut, waiting))
    assert files == kept
    assert list(scratch.iterdir()) == []


def test_a_queued_job_whose_task_was_lost_is_built_by_the_next_worker(app, owner, job_worker):
    # What a worker killed after taking the task off the queue but before starting the job
    # leaves (or a web process killed between recording the job and queuing its task): a job
    # its owner sees "queued" with no task anywhere to build it.
    make_customer("Anna", "Nowak", email="anna@example.com")
    params = exports.job_params(Filters(), file_format="csv")
    lost = ExportJob.create(
        kind="customer_export", language="en", params=json.dumps(params), created_by=owner.id
    )
    assert jobs.huey.pending_count() == 0

    job_worker.start()
    job = wait_for_job(lost.id, timeout=30)
    assert job.status == "done", job.error
    assert "anna@example.com" in Path(job.file_path).read_text(encoding="utf-8-sig")


# --- 3. A backup taken during writes ------------------------------------------------------------


@pytest.fixture
def fresh_database_url(engine, tmp_path):
    """An empty database to restore into: a new SQLite file, or a new PostgreSQL database."""
    if engine == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = "fault_a"
    yield scratch_postgresql_url(name)
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_a_backup_taken_during_writes_restores_to_a_consistent_database(
    app, staff_member, server, fresh_database_url, tmp_path
):
    with app.test_request_context("/"):
        demo.generate(3000, seed=5)
    customers = [c.id for c in Customer.active().select(Customer.id).limit(20)]
    server.start()
    writers = [
        Writer(
            Browser(server.port).sign_in(staff_member.email),
            tag=f"b{i}",
            customers=list(customers),
            edits=customers[i],
            kinds=("purchase", "purchase", "interaction"),
        )
        for i in range(WRITERS)
    ]
    stop, threads = run_writers(writers, until=lambda: len(acknowledged(writers)) >= 20)
    try:
        before = Purchase.select().count()
        acknowledged_before = {w.key for w in acknowledged(writers, "purchase")}
        backup = tmp_path / "during-writes.backup"
        made = flask_command(server.env, "backup", str(backup), timeout=120)
        after = Purchase.select().count()
        writing = all(thread.is_alive() for thread in threads)
    finally:
        join(stop, threads, writers)
        server.stop()
    assert made.returncode == 0, made.stderr
    assert writing, "the writers stopped before the backup ended"
    assert refused(writers) == []
    assert after > before, "no purchase was recorded while the backup ran"

    # Restored into an empty database by the real command, with its own instance folder.
    restored_env = {
        **server.env,
        "DATABASE_URL": fresh_database_url,
        "KARTOTEKA_INSTANCE_PATH": str(tmp_path / "restored-instance"),
    }
    restored = flask_command(restored_env, "restore", str(backup), "--yes")
    assert restored.returncode == 0, restored.stderr
    verified = flask_command(restored_env, "audit", "verify")
    assert verified.returncode == 0 and verified.stdout.startswith("OK"), verified.stderr

    with bound_to(fresh_database_url):
        assert engine_problems() == []
        assert purchase_problems() == []
        orphans = Purchase.select().where(Purchase.customer.not_in(Customer.select(Customer.id)))
        assert orphans.count() == 0
        copied = Purchase.select().count()
        assert before <= copied <= after, (before, copied, after)
        # Every purchase acknowledged before the backup began is in it.
        assert acknowledged_before <= set(purchases_by_receipt("Rb"))
        assert audit.verify().ok
