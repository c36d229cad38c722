"""What is wrong with one row of an import, kept as a code and parameters.

A problem is stored (ImportJob.report) as `to_dict()`, and its message is translated when it
is shown, so the owner reads the report in their language whichever language ran the import.
An *error* makes the row unusable (skip it or stop the import); a *warning* says a value was
left out and the rest of the row can be imported.
"""

from dataclasses import dataclass, field

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

ERROR = "error"
WARNING = "warning"

MESSAGES = {
    # The shape of the row (reading.py).
    "too_many_cells": _l(
        "This row has %(cells)d cells but the file has %(columns)d column headings: a value "
        "outside the columns (a delimiter inside an unquoted value?)."
    ),
    "too_few_cells": _l(
        "This row has %(cells)d cells but the file has %(columns)d column headings: values are "
        "missing (a line break inside an unquoted value?)."
    ),
    # Values (rows.py).
    "invalid_email": _l("“%(value)s” is not a valid e-mail address."),
    "phone_not_a_number": _l("“%(value)s” is not a phone number."),
    "phone_unknown_country_code": _l("“%(value)s” starts with an unknown country code."),
    "phone_invalid": _l(
        "“%(value)s” is not a valid phone number for %(region)s; numbers from other countries "
        "need their country code (+…)."
    ),
    "missing_name": _l("The row has no name, company or e-mail address."),
    "invalid_date": _l(
        "“%(value)s” is not a date (write it as 2024-03-31, 31.03.2024 or 31/03/2024)."
    ),
    "invalid_amount": _l("“%(value)s” is not an amount (write it as 1234.50 or 1 234,50)."),
    "invalid_quantity": _l("“%(value)s” is not a quantity."),
    "invalid_yes_no": _l("“%(value)s” is neither yes nor no."),
    "invalid_currency": _l("“%(value)s” is not a currency code such as PLN, EUR or USD."),
    "unknown_country": _l("The country “%(value)s” is not recognised; it is left out."),
    "unknown_language": _l("The language “%(value)s” is not recognised; it is left out."),
    "too_long": _l("The value is longer than %(limit)d characters."),
    "tag_too_long": _l("The tag “%(value)s” is longer than %(limit)d characters."),
    "too_many_tags": _l("The row has more than %(limit)d tags."),
    "missing_order_number": _l("The row has no order number."),
    "missing_product": _l("The order line has no product name."),
}


@dataclass(slots=True)
class Problem:
    """One thing wrong with one row: where (row number, column heading, field) and what (code).

    `column_header` and `field` are "" when the problem concerns the whole row.
    """

    row_number: int
    column_header: str
    field: str
    code: str
    params: dict = field(default_factory=dict)
    severity: str = ERROR

    @property
    def message(self) -> LazyString:
        """The message, translated into the language in force when it is turned into text."""
        return LazyString(render, self.code, self.params)

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict:
        return {
            "row": self.row_number,
            "column": self.column_header,
            "field": self.field,
            "code": self.code,
            "params": self.params,
            "severity": self.severity,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Problem":
        return cls(
            data["row"],
            data.get("column", ""),
            data.get("field", ""),
            data["code"],
            data.get("params") or {},
            data.get("severity", ERROR),
        )


def render(code: str, params: dict) -> str:
    """The translated message of a problem code (English outside an app)."""
    text = str(MESSAGES[code])
    return text % params if params else text
