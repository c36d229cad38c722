"""Language choice and locale-aware formatting of dates, numbers and money."""

from contextlib import contextmanager
from decimal import Decimal

from flask import current_app, g, request, session
from flask_babel import (
    force_locale,
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    get_translations,
)
from flask_login import current_user

# "zh" is Simplified Chinese throughout: Babel's zh locale formats as zh_Hans_CN.
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "pl": "Polski", "zh": "中文（简体）"}


def select_language() -> str:
    """The language for this request: chosen in the switcher, else the account's, else the browser's."""
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("language")
    if chosen in languages:
        return chosen
    if getattr(current_user, "is_authenticated", False):
        preferred = getattr(current_user, "preferred_language", None)
        if preferred in languages:
            return preferred
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


@contextmanager
def in_language(language: str):
    """force_locale, also setting aside the request's cached catalog (below), which would
    otherwise render a mail or a document in the language of the person asking for it."""
    cached = g.pop("kartoteka_translations", None)
    try:
        with force_locale(language):
            yield
    finally:
        g.pop("kartoteka_translations", None)
        if cached is not None:
            g.kartoteka_translations = cached


def money(amount, currency: str) -> str:
    return format_currency(Decimal(amount or 0), currency)


def _request_translations():
    """The request's catalog, looked up once per request rather than once per message.

    Flask-Babel finds the catalog through several context lookups on every `_()`; a profile
    page has hundreds of messages, and those lookups were a quarter of its rendering time.
    """
    try:
        return g.kartoteka_translations
    except AttributeError:
        g.kartoteka_translations = get_translations()
        return g.kartoteka_translations


def install(app) -> None:
    """Make the formatting helpers available to templates."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _request_translations().ugettext(s),
        ngettext=lambda s, p, n: _request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _request_translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals.update(
        current_language=select_language,
        language_names=LANGUAGE_NAMES,
    )
    app.jinja_env.filters.update(
        datetime=lambda value, fmt="medium": format_datetime(value, fmt) if value else "",
        date=lambda value, fmt="medium": format_date(value, fmt) if value else "",
        money=money,
        number=lambda value: format_decimal(value),
    )
