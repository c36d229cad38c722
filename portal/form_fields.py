"""Form fields and checks shared by the staff, owner and customer forms."""

import re
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import SelectField
from wtforms.validators import StopValidation, ValidationError

# Characters no keyboard types: NUL (PostgreSQL cannot store it), the other C0 and C1 control
# codes (not allowed in HTML pages nor in the XML inside XLSX files) and Unicode's
# noncharacters. Tabs and line breaks are ordinary text.
_NONCHARACTERS = "".join(
    chr(plane + last) for plane in range(0, 0x110000, 0x10000) for last in (0xFFFE, 0xFFFF)
)
_CONTROL_CHARACTERS = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef{re.escape(_NONCHARACTERS)}]"
)
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)
# The largest amount a money column holds (14 digits, 2 of them decimals).
MAX_AMOUNT = Decimal("999999999999.99")
LARGEST_ID = 2**31 - 1  # an integer column on both engines


class ListField(SelectField):
    """A select whose unknown values (an edited address) get a plain message."""

    def pre_validate(self, form):
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(_l("Choose one from the list."))


def record_id(text) -> int | None:
    """The record number a form or address posted, or None: only ASCII digits count ("²" and
    "٣" are digits to str.isdigit but not to int or the database) and only numbers an id
    column can hold (a larger one overflows SQLite's integers)."""
    text = str(text or "")
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= LARGEST_ID else None


def no_control_characters(form, field) -> None:
    """Refuse text holding control characters (NUL, escape codes…): they come from a broken
    paste or a crafted request, and the database, pages and exports cannot carry them."""
    if isinstance(field.data, str) and _CONTROL_CHARACTERS.search(field.data):
        raise StopValidation(
            _l("Remove the invisible control characters from this text (retype it if pasted).")
        )


def within_years(form, field) -> None:
    """A date or time from 1900 to 2100. Others are typos, and at the ends of the calendar
    turning local time into UTC overflows."""
    if field.data is None:
        return
    day = field.data.date() if hasattr(field.data, "date") else field.data
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise StopValidation(_l("Check the year: enter a date from 1900 to 2100."))


def plain_amount(form, field) -> None:
    """NaN, Infinity and 1e309 parse as decimals, but no amount of money is one of them."""
    if field.data is None:
        return
    if not field.data.is_finite():
        raise StopValidation(_l("Enter the value as a number, like 25 or 12.50."))
    if abs(field.data) > MAX_AMOUNT:
        raise StopValidation(_l("Enter a smaller value."))
