"""PDF documents: HTML templates under templates/pdf/ printed by WeasyPrint (SPEC 4, 5).

Every document extends pdf/base.html and shares one print stylesheet (static/css/print.css).
Output is PDF/A-3a: archival (fonts embedded, XMP metadata) and tagged (structure for screen
readers), with the document's title, language and author (the business) set.
"""

from functools import cache
from pathlib import Path

from flask import render_template
from flask_babel import get_locale

from . import settings
from .i18n import in_language
from .models import utcnow

PDF_VARIANT = "pdf/a-3a"
STATIC = Path(__file__).resolve().parent.parent / "static"
STYLESHEET = STATIC / "css" / "print.css"


@cache
def _stylesheet():
    from weasyprint import CSS  # heavy import: only once something prints

    return CSS(filename=str(STYLESHEET))


def render(template: str, *, title, language: str | None = None, **context) -> bytes:
    """Render templates/pdf/<template> to PDF bytes in `language` (default: the current one,
    which is the request's, or the job's inside a background job).

    `title` may be a lazy string: it is translated inside the document's language.
    """
    from weasyprint import HTML

    language = language or get_locale().language
    with in_language(language):
        html = render_template(
            f"pdf/{template}",
            document_title=str(title),
            document_language=language,
            author=settings.get("business_name"),
            printed_at=utcnow(),
            **context,
        )
    return HTML(string=html, base_url=str(STATIC)).write_pdf(
        stylesheets=[_stylesheet()], pdf_variant=PDF_VARIANT
    )
