"""Styled, translated pages for 400 (CSRF), 403, 404, 429 and 500."""

from flask import render_template, request
from flask_wtf.csrf import CSRFError

from .web import record_audit


def _page(code: int):
    def handler(error):
        return render_template(f"errors/{code}.html", error=error), code

    return handler


def register(app) -> None:
    for code in (403, 404, 500):
        app.register_error_handler(code, _page(code))

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return render_template("errors/csrf.html", error=error), 400

    @app.errorhandler(429)
    def too_many(error):
        if request.endpoint == "auth.sign_in":
            record_audit("sign_in_throttled")
        return render_template("errors/429.html", error=error), 429
