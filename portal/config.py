"""Settings from the environment, with secrets kept in the instance folder when not given."""

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def read_or_create_secret(path: Path, make) -> str:
    """Return the secret stored at path, generating it there (mode 0600) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(instance_path: str) -> dict:
    """Build the configuration mapping from environment variables."""
    instance = Path(instance_path)
    env = os.environ.get
    secret_key = env("SECRET_KEY") or read_or_create_secret(
        instance / "secret_key", lambda: secrets.token_urlsafe(48)
    )
    # The first key encrypts; every listed key can decrypt (rotation keeps old keys readable).
    encryption_keys = env("ENCRYPTION_KEYS") or read_or_create_secret(
        instance / "encryption_keys", lambda: Fernet.generate_key().decode()
    )
    return {
        "SECRET_KEY": secret_key,
        "ENCRYPTION_KEYS": [k.strip() for k in encryption_keys.split(",") if k.strip()],
        # Keys erasure tombstones' hashes (portal/erasure.py); empty: derived from SECRET_KEY.
        "TOMBSTONE_KEY": env("TOMBSTONE_KEY", ""),
        "DATABASE_URL": env("DATABASE_URL") or f"sqlite:///{instance / 'kartoteka.db'}",
        "RATELIMIT_STORAGE_URI": env("RATELIMIT_STORAGE_URI", "memory://"),
        # Redis unreachable: count in this process's memory meanwhile, rather than fail sign-in.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "SIGN_IN_LIMIT_PER_ADDRESS": env("SIGN_IN_LIMIT_PER_ADDRESS", "10 per minute"),
        "SIGN_IN_LIMIT_PER_ACCOUNT": env("SIGN_IN_LIMIT_PER_ACCOUNT", "10 per 15 minutes"),
        # Customers' e-mailed sign-in links (the self-service area, /me).
        "CUSTOMER_LINK_LIMIT_PER_ADDRESS": env(
            "CUSTOMER_LINK_LIMIT_PER_ADDRESS", "10 per 15 minutes"
        ),
        "CUSTOMER_LINK_LIMIT_PER_EMAIL": env("CUSTOMER_LINK_LIMIT_PER_EMAIL", "3 per 15 minutes"),
        "MAIL_SERVER": env("MAIL_SERVER", ""),
        "MAIL_PORT": int(env("MAIL_PORT", "25")),
        "MAIL_USERNAME": env("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _flag("MAIL_USE_TLS", False),  # STARTTLS, usually on port 587
        "MAIL_USE_SSL": _flag("MAIL_USE_SSL", False),  # TLS from the first byte, port 465
        "MAIL_TIMEOUT": float(env("MAIL_TIMEOUT", "10")),  # seconds to wait for the server
        "MAIL_FROM": env("MAIL_FROM", "Kartoteka <no-reply@localhost>"),
        # The address customers reach the portal at, e.g. https://crm.example-shop.com: links in
        # mail the job worker sends (unsubscribe) start with it; empty: the request's own host.
        "PUBLIC_URL": env("PUBLIC_URL", ""),
        # Without MAIL_SERVER, messages are written here for developers to read.
        "MAIL_OUTBOX_DIR": env("MAIL_OUTBOX_DIR", str(instance / "outbox")),
        # Secure by default; only a development server on plain http://127.0.0.1 turns it off
        # (`make run` does), since a browser does not send a Secure cookie over plain HTTP.
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", True),
        "REMEMBER_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE", True),
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # How many proxies (Caddy, nginx) stand in front and set X-Forwarded-For/-Proto/-Host;
        # 0 when clients connect directly. wsgi.py trusts that many hops (werkzeug's ProxyFix).
        "PROXY_FIX_HOPS": int(env("PROXY_FIX_HOPS", "0")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "kartoteka_staff",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "ARGON2_TIME_COST": int(env("ARGON2_TIME_COST", "3")),
        "ARGON2_MEMORY_COST": int(env("ARGON2_MEMORY_COST", "65536")),
        "ARGON2_PARALLELISM": int(env("ARGON2_PARALLELISM", "4")),
        # Background jobs (portal/jobs.py): an SQLite file in the instance folder by default, or
        # redis://host:6379/0. The worker (huey_consumer portal.jobs.huey) reads the same variable.
        "JOBS_URL": env("JOBS_URL", ""),
        "JOBS_IMMEDIATE": _flag("JOBS_IMMEDIATE", False),  # run jobs inline (tests)
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": env("TIMEZONE", "UTC"),
        "LANGUAGES": ["en", "ru", "pl", "zh"],
    }
