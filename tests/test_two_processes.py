"""Two app processes and a job worker sharing one PostgreSQL database and one Redis (issue 9).

What "Running in production" in the README promises, checked with real processes and real
HTTP: two gunicorn servers (A and B, as two machines behind a load balancer would be) and one
`huey_consumer`, started as the README says (smaller), the schema and accounts made with
`flask db upgrade` and `flask create-owner`. A rate limit, a sign-in and a job hold whichever
process a request reaches. Owners sign in in one place, `sign_in_owner` (password, then the
authenticator code; the first time, the two-factor set-up the app asks an owner for).

Secrets (SECRET_KEY, ENCRYPTION_KEYS) reach every process by environment, and each web process
has its own instance folder, so nothing here works because of a shared secret file: the test
checks that no process wrote one. The exception is the folder the job worker writes exports
into: the web process that serves the download must read the same files (ExportJob.file_path
is an absolute path), so B and the worker share one folder, standing in for the network
storage that every app machine and the worker mount at the same path.

PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) are always there on this project's
machines and in CI: without them the test fails, it does not skip. Redis database 14 is used
and flushed, for the rate limits and the job queue alike.
"""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pyotp
import pytest
import redis
import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The server of TEST_DATABASE_URL when CI sets it, else the local one; a scratch database on it.
SERVER_URL = (
    os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
).rsplit("/", 1)[0]
REDIS_URL = "redis://127.0.0.1:6379/14"
PASSWORD = "correct horse battery"
ACCOUNT_LIMIT = 4  # failed sign-ins per account e-mail
ADDRESS_LIMIT = 6  # sign-in attempts per client address
TIMEOUT = 10  # seconds for any one HTTP request
STACK_STARTUP = 30  # seconds for the servers to answer
JOB_DONE = 30  # seconds for the worker to build a small export

_CSRF = re.compile(r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"')
_EXPORT_FILTERS = re.compile(r'name="export-filters" type="hidden" value="([^"]*)"')
_JOB_LOCATION = re.compile(r"/owner/jobs/(\d+)$")
_SECRET = re.compile(r'<code class="secret">([^<]+)</code>')
_RECOVERY_CODE = re.compile(r"<li><code>([^<]+)</code></li>")
STEP_SECONDS = 30  # portal.two_factor.STEP_SECONDS


# --- The one place an owner signs in -------------------------------------------------------


@dataclass
class Owner:
    """An owner as their phone knows them: the authenticator key once set up, and which codes
    were used (a time code works once, and the server takes the previous, current and next
    30-second step)."""

    email: str
    secret: str | None = None
    last_step: int = 0
    recovery_codes: list[str] = field(default_factory=list)

    def next_code(self) -> str:
        current = int(time.time() // STEP_SECONDS)
        # Not the previous step: it could leave the server's window while the request travels.
        step = max(current, self.last_step + 1)
        if step > current + 1:  # every step the server takes is used: a recovery code
            return self.recovery_codes.pop()
        self.last_step = step
        return pyotp.TOTP(self.secret).at(step * STEP_SECONDS)


def sign_in_owner(server: str, owner: Owner, client_address: str) -> requests.Session:
    """An owner's browser, signed in through `server` (password, then the app's code; the
    first time, the two-factor set-up the app asks an owner for), from `client_address`.

    The address travels as the proxy in front would send it (X-Forwarded-For; the processes
    trust one hop), so each test's sign-ins count against its own address.
    """
    browser = requests.Session()
    browser.headers["X-Forwarded-For"] = client_address
    response = post_form(browser, server, "/sign-in", {"email": owner.email, "password": PASSWORD})
    assert response.status_code == 303, f"sign-in refused ({response.status_code})"
    if response.headers["Location"].endswith("/sign-in/code"):
        response = post_form(browser, server, "/sign-in/code", {"code": owner.next_code()})
        assert response.status_code == 303, f"code refused ({response.status_code})"
    if owner.secret is None:  # an owner's first sign-in: set up the authenticator app
        page = browser.get(server + "/account/two-factor", timeout=TIMEOUT).text
        owner.secret = _SECRET.search(page).group(1).replace(" ", "")
        shown = post_form(browser, server, "/account/two-factor", {"code": owner.next_code()})
        assert shown.status_code == 200, f"two-factor set-up refused ({shown.status_code})"
        owner.recovery_codes = _RECOVERY_CODE.findall(shown.text)
    return browser


@dataclass
class Stack:
    a: str  # base URLs of the two app processes
    b: str
    owner: Owner
    locked_email: str  # an owner whose account the rate-limit test locks
    folders: dict[str, Path]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    @property
    def owner_emails(self) -> tuple[str, str]:
        return (self.owner.email, self.locked_email)

    def log_tails(self) -> str:
        return "\n".join(
            f"--- {name} ---\n{path.read_text(errors='replace')[-3000:]}"
            for name, path in self.logs.items()
            if path.exists()
        )


# --- Helpers -------------------------------------------------------------------------------


def csrf_token(browser: requests.Session, url: str) -> str:
    page = browser.get(url, timeout=TIMEOUT, allow_redirects=False)
    assert page.status_code == 200, f"GET {url}: {page.status_code}"
    match = _CSRF.search(page.text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def post_form(browser, server: str, path: str, data: dict, token_from: str | None = None):
    """Post a form as a browser does: the CSRF token read from the page first."""
    token = csrf_token(browser, server + (token_from or path))
    return browser.post(
        server + path,
        data={"csrf_token": token, **data},
        timeout=TIMEOUT,
        allow_redirects=False,
    )


def failed_sign_in(server: str, email: str, client_address: str) -> int:
    """A sign-in with a wrong password from a fresh browser; returns the status code."""
    with requests.Session() as browser:
        browser.headers["X-Forwarded-For"] = client_address
        response = post_form(browser, server, "/sign-in", {"email": email, "password": "guess"})
        if response.status_code == 200:  # the form again, with its message
            assert "do not match an active account" in response.text
        return response.status_code


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check_services() -> None:
    try:
        with psycopg.connect(SERVER_URL + "/postgres", connect_timeout=5):
            pass
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {SERVER_URL} ({error}). Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`."
        )
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5) as client:
            client.ping()
    except redis.RedisError as error:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({error}). Start it with `redis-server "
            '--daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`.'
        )


def flush_redis() -> None:
    with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5) as client:
        client.flushdb()


def run_cli(env: dict, *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"flask {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return done.stdout


def start(stack: Stack, name: str, command: list[str], env: dict, folder: Path) -> None:
    log = stack.logs[name] = folder.parent / f"{name}.log"
    with open(log, "wb") as output:  # the child keeps its own copy of the descriptor
        stack.processes[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**env, "KARTOTEKA_INSTANCE_PATH": str(folder)},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a signal to its group reaches gunicorn's workers too
        )


def wait_until_serving(stack: Stack, base_url: str, name: str) -> None:
    deadline = time.monotonic() + STACK_STARTUP
    while time.monotonic() < deadline:
        if stack.processes[name].poll() is not None:
            pytest.fail(f"{name} exited at start-up:\n{stack.log_tails()}")
        try:
            if requests.get(base_url + "/sign-in", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{name} did not answer within {STACK_STARTUP} s:\n{stack.log_tails()}")


def stop_all(processes: dict[str, subprocess.Popen]) -> None:
    """Ask every process to stop (the worker finishes its jobs on SIGINT), then wait for all."""
    for name, process in processes.items():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT if name == "worker" else signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    check_services()
    database = f"twoproc_{secrets.token_hex(4)}"
    with psycopg.connect(SERVER_URL + "/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    flush_redis()
    base = tmp_path_factory.mktemp("two-processes")
    folders = {name: base / name for name in ("instance-a", "shared-instance")}
    env = {
        **os.environ,
        "DATABASE_URL": f"{SERVER_URL}/{database}",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "JOBS_URL": REDIS_URL,
        "JOBS_IMMEDIATE": "0",
        "SIGN_IN_LIMIT_PER_ACCOUNT": f"{ACCOUNT_LIMIT} per hour",
        "SIGN_IN_LIMIT_PER_ADDRESS": f"{ADDRESS_LIMIT} per hour",
        "PROXY_FIX_HOPS": "1",  # requests arrive as from the proxy in front
        "SESSION_COOKIE_SECURE": "0",  # plain HTTP on loopback: a Secure cookie is never sent
        "MAIL_SERVER": "",
        # Cheap Argon2, as in every test (STACK-NOTES: the default costs ~130 ms per hash).
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "8",
        "ARGON2_PARALLELISM": "1",
    }
    env.pop("TEST_DATABASE_URL", None)
    stack = Stack(
        a=f"http://127.0.0.1:{free_port()}",
        b=f"http://127.0.0.1:{free_port()}",
        owner=Owner("olga@shop.example"),
        locked_email="piotr@shop.example",
        folders=folders,
    )
    try:
        run_cli({**env, "KARTOTEKA_INSTANCE_PATH": str(base / "instance-cli")}, "db", "upgrade")
        owners = {f"create-owner-{n}": email for n, email in enumerate(stack.owner_emails)}
        for name, email in owners.items():
            command = [str(BIN / "flask"), "--app", "wsgi", "create-owner", email]
            start(stack, name, [*command, "--password", PASSWORD], env, base / "instance-cli")
        for name, url, folder in (
            ("A", stack.a, folders["instance-a"]),
            ("B", stack.b, folders["shared-instance"]),
        ):
            gunicorn = [str(BIN / "gunicorn"), "--bind", url.removeprefix("http://")]
            gunicorn += ["--workers", "1", "--threads", "2", "--no-control-socket", "wsgi:app"]
            start(stack, name, gunicorn, env, folder)
        worker = [str(BIN / "huey_consumer"), "portal.jobs.huey", "--workers", "2"]
        start(stack, "worker", worker, env, folders["shared-instance"])
        for name in owners:
            status = stack.processes[name].wait(timeout=60)
            assert status == 0, f"flask create-owner failed:\n{stack.log_tails()}"
        wait_until_serving(stack, stack.a, "A")
        wait_until_serving(stack, stack.b, "B")
        yield stack
    finally:
        stop_all(stack.processes)
        with psycopg.connect(SERVER_URL + "/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        flush_redis()


# --- Rate limits ---------------------------------------------------------------------------


def test_failed_sign_ins_on_both_processes_count_against_one_account_limit(stack):
    servers = [stack.a, stack.b]
    # Each attempt from another address: only the per-account limit can stop them.
    for attempt in range(ACCOUNT_LIMIT):
        address = f"198.51.100.{attempt + 1}"
        status = failed_sign_in(servers[attempt % 2], stack.locked_email, address)
        assert status == 200, f"attempt {attempt + 1} refused early"

    # Neither process alone has seen the limit, yet whichever gets the next attempt refuses.
    next_server = servers[ACCOUNT_LIMIT % 2]
    assert failed_sign_in(next_server, stack.locked_email, "198.51.100.50") == 429
    other = servers[(ACCOUNT_LIMIT + 1) % 2]
    assert failed_sign_in(other, stack.locked_email, "198.51.100.51") == 429
    # The right password does not get through either: guessing has stopped, everywhere.
    with requests.Session() as browser:
        browser.headers["X-Forwarded-For"] = "198.51.100.52"
        data = {"email": stack.locked_email, "password": PASSWORD}
        assert post_form(browser, other, "/sign-in", data).status_code == 429
    # Another account is not affected.
    assert failed_sign_in(next_server, "someone.else@shop.example", "198.51.100.53") == 200


def test_sign_ins_from_one_address_on_both_processes_count_against_one_limit(stack):
    servers = [stack.a, stack.b]
    for attempt in range(ADDRESS_LIMIT):
        email = f"guess{attempt}@shop.example"  # another account each time
        status = failed_sign_in(servers[attempt % 2], email, "203.0.113.7")
        assert status == 200, f"attempt {attempt + 1} refused early"

    assert (
        failed_sign_in(servers[ADDRESS_LIMIT % 2], "guess-next@shop.example", "203.0.113.7") == 429
    )
    assert (
        failed_sign_in(servers[(ADDRESS_LIMIT + 1) % 2], "guess-last@shop.example", "203.0.113.7")
        == 429
    )
    # The limit is the client's (X-Forwarded-For through ProxyFix), not the proxy's: a
    # neighbour behind the same proxy still signs in.
    assert failed_sign_in(stack.a, "guess-next@shop.example", "203.0.113.8") == 200


# --- Sessions ------------------------------------------------------------------------------


def open_workspace(server: str, cookie: str) -> requests.Response:
    return requests.get(
        server + "/", cookies={"kartoteka_staff": cookie}, timeout=TIMEOUT, allow_redirects=False
    )


def test_a_sign_in_on_one_process_holds_on_the_other_and_sign_out_ends_it_on_both(stack):
    with sign_in_owner(stack.a, stack.owner, "192.0.2.10") as browser:
        cookie = browser.cookies["kartoteka_staff"]
        workspace = open_workspace(stack.b, cookie)
        assert workspace.status_code == 200
        assert 'action="/sign-out"' in workspace.text  # B shows the signed-in workspace

        response = post_form(browser, stack.a, "/sign-out", {}, token_from="/")
        assert response.status_code == 303

    # The cookie B accepted (a copy someone kept, say) now opens neither process. This needs
    # sessions kept on the server: a signed cookie alone cannot be taken back.
    for server in (stack.b, stack.a):
        response = open_workspace(server, cookie)
        assert response.status_code == 302, f"{server} still accepts a signed-out cookie"
        assert "/sign-in" in response.headers["Location"]


# --- Background jobs -----------------------------------------------------------------------

NEW_CUSTOMER = {
    "given_name": "Łukasz",
    "family_name": "Wąsowski",
    "name_order": "given_first",
    "email": "lukasz.wasowski@poczta.example",
    "phone": "601 555 012",
    "country": "PL",
    "city": "Warszawa",
    "preferred_channel": "email",
    "preferred_language": "pl",
    "source": "in_store",
}


def test_an_export_started_on_one_process_is_built_by_the_worker_and_served_by_the_other(
    stack,
):
    with sign_in_owner(stack.a, stack.owner, "192.0.2.20") as browser:
        created = post_form(browser, stack.b, "/customers/new", NEW_CUSTOMER)
        assert created.status_code == 303, created.text

        # The export form under the customer list, posted to A.
        page = browser.get(stack.a + "/customers", timeout=TIMEOUT)
        filters = _EXPORT_FILTERS.search(page.text).group(1).replace("&#34;", '"')
        form = {"export-filters": filters, "export-file_format": "csv", "export-purpose": ""}
        started = post_form(browser, stack.a, "/owner/exports", form, token_from="/customers")
        assert started.status_code == 303, started.text
        job_id = int(_JOB_LOCATION.search(started.headers["Location"]).group(1))

        # Neither web process builds it; the worker does. B's job page offers the file.
        download = f"/owner/jobs/{job_id}/download"
        deadline = time.monotonic() + JOB_DONE
        while download not in browser.get(f"{stack.b}/owner/jobs/{job_id}", timeout=TIMEOUT).text:
            assert time.monotonic() < deadline, (
                f"job {job_id} not done in {JOB_DONE} s\n{stack.log_tails()}"
            )
            time.sleep(0.2)

        response = browser.get(stack.b + download, timeout=TIMEOUT)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/csv")
        rows = response.content.decode("utf-8-sig").splitlines()
        assert len(rows) == 2 and "Wąsowski" in rows[1] and "Łukasz" in rows[1]

    written = list((stack.folders["shared-instance"] / "exports").glob(f"{job_id}-*.csv"))
    assert len(written) == 1  # in the folder the worker and B share
    # Secrets came from the environment: no process generated its own into a folder.
    for folder in stack.folders.values():
        assert not (folder / "secret_key").exists()
        assert not (folder / "encryption_keys").exists()
