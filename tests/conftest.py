"""Fixtures: the app on a real SQLite file (and real PostgreSQL when TEST_DATABASE_URL is set),
clients with CSRF enforced, and the personas owner and staff."""

import os
import re
import shutil
import time

import psycopg
import pyotp
import pytest

from portal import create_app, migrations, two_factor
from portal.accounts import create_staff
from portal.db import database_from_url
from portal.extensions import db
from portal.identifiers import Keyring
from portal.models import StaffAccount, utcnow
from tests.job_worker import job_worker  # noqa: F401  (fixture: a real Huey worker process)
from tests.mail_server import smtp_server  # noqa: F401  (fixture: a real SMTP server on loopback)

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
ENGINES = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not PG_URL, reason="TEST_DATABASE_URL is not set: PostgreSQL runs skipped (CI sets it)"
        ),
    ),
]
PASSWORD = "correct horse battery"
ENCRYPTION_KEY = "9Pnhtw2Ss7Ar0GmCAPNQzRA7u6lo4cN3zP3xkeDn7sA="  # test-only Fernet key


def base_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-not-for-production",
        "ENCRYPTION_KEYS": [ENCRYPTION_KEY],
        "RATELIMIT_STORAGE_URI": "memory://",
        # Tests serve over plain http://127.0.0.1; test_security_headers checks the Secure default.
        "SESSION_COOKIE_SECURE": False,
        # Cheap Argon2 in tests: the default costs ~130 ms and 64 MiB per hash (STACK-NOTES).
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8,
        "ARGON2_PARALLELISM": 1,
        "MAIL_SERVER": "",
        "JOBS_IMMEDIATE": True,  # background jobs run inline; tests/test_jobs.py runs a real worker
    }


def reset_postgresql_schema(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def scratch_postgresql_url(name: str) -> str:
    """A freshly created, empty PostgreSQL database on the test server."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return PG_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """An SQLite file with every migration applied, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "kartoteka.db"
    database = database_from_url(f"sqlite:///{path}")
    migrations.upgrade(database)
    database.close_all()
    return path


@pytest.fixture(scope="session")
def migrated_postgresql():
    reset_postgresql_schema(PG_URL)
    database = database_from_url(PG_URL)
    migrations.upgrade(database)
    database.close_all()
    return PG_URL


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


@pytest.fixture
def database_url(engine, request, tmp_path):
    if engine == "sqlite":
        template = request.getfixturevalue("migrated_sqlite")
        path = tmp_path / "kartoteka.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("migrated_postgresql")
    _truncate_postgresql(url)
    return url


def _truncate_postgresql(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migration'"
            )
        ]
        if tables:
            conn.execute(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
            )


@pytest.fixture
def app(database_url, tmp_path):
    # No app context is held open here: Flask would reuse it for every test request, sharing
    # `g` (and Flask-Login's cached user) between requests. Peewee models need no context.
    yield create_app(base_config(database_url), instance_path=str(tmp_path / "instance"))
    db.close_all()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def owner(app):
    account = create_staff("Olga Owner", "owner@example.com", PASSWORD, role="owner")
    enrol_two_factor(app, account)
    return account


def enrol_two_factor(app, account) -> None:
    """Owners sign in with a second factor: give the account an authenticator, as if set up
    earlier (tests/test_two_factor.py goes through the set-up pages themselves)."""
    with app.app_context():
        two_factor.begin_setup(account)
    StaffAccount.update(totp_enabled_at=utcnow()).where(StaffAccount.id == account.id).execute()
    account.totp_enabled_at = utcnow()


def authenticator_code(account) -> str:
    """The code the owner's authenticator app shows, one not used yet: a code works once, and
    the server accepts the previous, current and next 30-second step. The current or next
    step is used (the previous one could fall out of the window while the request travels),
    so a third sign-in within one step waits for the next."""
    stored = StaffAccount.get_by_id(account.id)
    secret = Keyring([ENCRYPTION_KEY]).decrypt(stored.totp_secret, stored.totp_key_id)
    while True:
        last = StaffAccount.get_by_id(account.id).totp_last_step
        current = int(time.time() // two_factor.STEP_SECONDS)
        step = max(current, last + 1)
        if step <= current + 1:
            return pyotp.TOTP(secret).at(step * two_factor.STEP_SECONDS)
        time.sleep((current + 1) * two_factor.STEP_SECONDS - time.time() + 0.05)


@pytest.fixture
def staff_member(app):
    return create_staff("Sam Staff", "staff@example.com", PASSWORD, role="staff")


_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(client, path: str = "/sign-in") -> str:
    """Read the CSRF token a page gives this client, as a browser would."""
    html = client.get(path).get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client, account, password: str = PASSWORD, **extra):
    """Sign in through the form; an owner's second step is answered with their app's code."""
    token = csrf_token_from(client)
    response = client.post(
        "/sign-in",
        data={"email": account.email, "password": password, "csrf_token": token},
        **extra,
    )
    if response.status_code == 303 and response.headers["Location"] == "/sign-in/code":
        code = authenticator_code(account)
        token = csrf_token_from(client, "/sign-in/code")
        response = client.post("/sign-in/code", data={"code": code, "csrf_token": token}, **extra)
    return response


@pytest.fixture
def owner_client(client, owner):
    response = sign_in(client, owner)
    assert response.status_code == 303
    return client


@pytest.fixture
def staff_client(client, staff_member):
    response = sign_in(client, staff_member)
    assert response.status_code == 303
    return client
