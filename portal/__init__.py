"""Kartoteka: a customer database portal for small businesses."""

import os
from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter

from . import config, i18n, jobs, passwords, security, settings
from .db import database_from_url
from .extensions import babel, csrf, db, limiter, login_manager
from .form_fields import LARGEST_ID
from .models import utcnow

ROOT = Path(__file__).resolve().parent.parent


class RecordIdConverter(IntegerConverter):
    """`<int:…>` in our routes: ids fit a 32-bit integer column on both engines."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(url_map, *args, **kwargs)


def create_app(test_config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, error pages, commands."""
    app = Flask(
        __name__,
        # KARTOTEKA_INSTANCE_PATH lets a job worker share the web process's instance folder.
        instance_path=instance_path or os.environ.get("KARTOTEKA_INSTANCE_PATH") or None,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    # Record ids in paths: a number too large for the database's integer is no record (404),
    # not an overflow (500).
    app.url_map.converters["int"] = RecordIdConverter
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)

    _init_database(app)
    jobs.configure(app)
    passwords.configure(
        app.config["ARGON2_TIME_COST"],
        app.config["ARGON2_MEMORY_COST"],
        app.config["ARGON2_PARALLELISM"],
    )
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_language,
        default_translation_directories=str(ROOT / "translations"),
    )
    i18n.install(app)
    security.install(app)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals.update(business_name=lambda: settings.get("business_name"), now=utcnow)
    _init_login(app)

    from . import errors
    from .auth import bp as auth_bp
    from .cli import register_commands
    from .customer import bp as customer_bp
    from .owner import bp as owner_bp
    from .staff import bp as staff_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(owner_bp)
    app.register_blueprint(customer_bp)
    errors.register(app)
    register_commands(app)
    return app


def _init_database(app: Flask) -> None:
    db.initialize(database_from_url(app.config["DATABASE_URL"]))

    @app.before_request
    def _connect():
        db.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def _release(_exc):
        # Pooled: closing returns the connection (and its warm page cache) to the pool.
        if not db.is_closed():
            db.close()


def _init_login(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from . import sign_in_sessions, web

    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = _l("Please sign in to open that page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_staff(user_id: str):
        if not user_id.isdigit():
            return None
        # Only a live server-side session signs in (ended at sign-out, password change and
        # deactivation); a deactivated account's open sessions end at its next request.
        return sign_in_sessions.staff_for(web.session_token(), int(user_id))
