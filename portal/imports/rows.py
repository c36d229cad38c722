"""One row of an imported file turned into a normalised customer (or order), with its problems.

    reader = RowReader(table.headers, mapping, RowOptions(default_region="PL"))
    for row in table:
        customer, problems = reader.read(row)          # CustomerRow, [Problem]

    for order, problems in group_orders(table, reader):  # Shopify orders export
        order.customer, order.lines ...

How single values are read (text, phones, dates, amounts, yes/no, tags) is described in
portal/imports/values.py.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from .. import customers
from ..search import is_han
from .contacts import ContactValidator
from .mapping import IGNORE, Mapping
from .problems import WARNING, Problem
from .reading import SourceRow
from .values import (
    country_code,
    currency_code,
    language_code,
    parse_amount,
    parse_date,
    parse_datetime,
    parse_quantity,
    parse_yes_no,
    split_full_name,
)

# Longest text each field takes (the model's column sizes).
TEXT_LIMITS = {
    "given_name": 200,
    "family_name": 200,
    "company": 200,
    "address_line1": 300,
    "address_line2": 300,
    "postal_code": 20,
    "city": 120,
    "region": 120,
    "external_id": 100,
    "note": 10_000,
    "order_number": 60,
    "line_product": 300,
    "location": 200,
}


@dataclass
class RowOptions:
    """How to read values the file leaves ambiguous; JSON-serialisable (ImportJob.options)."""

    default_region: str = "PL"  # of phone numbers without a country code (the setting
    # default_phone_region)
    day_first: bool = True  # 03/04/2024 is 3 April
    timezone: str = "UTC"  # of date-times written without an offset
    default_currency: str = ""  # of orders when the file has no currency column

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RowOptions":
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


@dataclass(slots=True)
class CustomerRow:
    """One customer as the file describes them, normalised; empty values are "" / None / []."""

    row_number: int
    given_name: str = ""
    family_name: str = ""
    name_order: str = "given_first"  # or family_first ("王小明", "Иванов Иван Иванович")
    company: str = ""
    emails: list[tuple[str, str]] = field(default_factory=list)  # (as shown, lower-cased)
    phones: list[tuple[str, str]] = field(default_factory=list)  # (international, E.164)
    address_line1: str = ""
    address_line2: str = ""
    postal_code: str = ""
    city: str = ""
    region: str = ""
    country: str = ""  # ISO 3166-1 alpha-2
    birth_date: date | None = None
    note: str = ""
    tags: list[str] = field(default_factory=list)
    preferred_language: str = ""  # en, ru, pl, zh
    external_id: str = ""  # the customer's id in the system the file comes from
    accepts_email_marketing: bool | None = None
    accepts_sms_marketing: bool | None = None
    created_at: datetime | None = None  # naive UTC

    @property
    def display_name(self) -> str:
        return customers.display_name(self.given_name, self.family_name, self.name_order)

    @property
    def has_address(self) -> bool:
        return any(
            (self.address_line1, self.address_line2, self.postal_code, self.city, self.country)
        )

    def to_dict(self) -> dict:
        """JSON-serialisable values (dates as ISO text), e.g. for a preview."""
        data = {name: getattr(self, name) for name in self.__slots__}
        for name in ("birth_date", "created_at"):
            if data[name] is not None:
                data[name] = data[name].isoformat()
        return data


@dataclass(slots=True)
class OrderLine:
    row_number: int
    product: str
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None


@dataclass(slots=True)
class OrderRow:
    """One order of a Shopify-style orders export: its first row's details and every line."""

    row_number: int  # the order's first row
    order_number: str
    ordered_at: datetime | None = None  # naive UTC
    currency: str = ""
    total: Decimal | None = None
    location: str = ""
    customer: CustomerRow | None = None
    lines: list[OrderLine] = field(default_factory=list)
    last_row_number: int = 0


@dataclass(slots=True)
class OrderFields:
    """The order columns of one row of an orders export (RowReader.read_with_order)."""

    order_number: str = ""
    ordered_at: datetime | None = None
    currency: str = ""
    total: Decimal | None = None
    location: str = ""
    product: str = ""
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    has_line: bool = False


# --- Reading rows --------------------------------------------------------------------------


class RowReader:
    """Reads rows of one file with one mapping: `read(row)` -> (CustomerRow, problems).

    Keeps small caches of validated e-mail domains and phone numbers: make one per import.
    For a mapping with order columns (`mapping.has_orders`) use `group_orders`, since the
    follow-on rows of an order have no customer details.
    """

    def __init__(self, headers: list[str], mapping: Mapping, options: RowOptions | None = None):
        self.headers = list(headers)
        self.mapping = mapping
        self.options = options or RowOptions()
        self.zone = ZoneInfo(self.options.timezone)
        self._contacts = ContactValidator(self.options.default_region)
        # (position, heading, field, handler or None for plain text, longest text allowed)
        self._steps: list[tuple[int, str, str, object, int]] = []
        for position, header in enumerate(self.headers):
            target = mapping.field_of(header)
            if target != IGNORE:
                handler = _HANDLERS.get(target)
                limit = TEXT_LIMITS.get(target, 10_000)
                self._steps.append((position, header, target, handler, limit))
        self.has_orders = mapping.has_orders

    def header_for(self, target: str) -> str:
        """The heading of the (first) column mapped to a field; "" if none is."""
        return next((step[1] for step in self._steps if step[2] == target), "")

    def read(self, row: SourceRow) -> tuple[CustomerRow, list[Problem]]:
        """The row's customer and everything wrong with the row (shape problems included)."""
        customer, _order, problems = self.read_with_order(row)
        return customer, problems

    def read_with_order(self, row: SourceRow) -> tuple[CustomerRow, OrderFields, list[Problem]]:
        number, values = row.number, row.values
        customer = CustomerRow(number)
        order = OrderFields()
        problems = list(row.problems)
        full_name = ""
        name_header = ""
        email_given = False
        for position, header, target, handler, limit in self._steps:
            value = values[position]
            if not value:
                continue
            value = value.strip()
            if not value:
                continue
            if handler is not None:
                handler(self, customer, order, value, header, target, problems)
                if target == "email":
                    email_given = True
            elif len(value) > limit:
                problems.append(_problem(number, header, target, "too_long", limit=limit))
            elif target == "full_name":
                full_name, name_header = value, header
            else:  # plain text
                setattr(customer, target, value)
        self._names(customer, full_name, name_header, problems)
        if not (
            customer.given_name
            or customer.family_name
            or customer.company
            or email_given
            or full_name
        ):
            problems.append(Problem(number, "", "", "missing_name"))
        return customer, order, problems

    def _names(self, customer, full_name, header, problems) -> None:
        if full_name and not (customer.given_name or customer.family_name):
            given, family, order = split_full_name(full_name)
            if len(given) > 200 or len(family) > 200:
                problems.append(
                    _problem(customer.row_number, header, "full_name", "too_long", limit=200)
                )
                return
            customer.given_name, customer.family_name, customer.name_order = given, family, order
        elif (
            customer.given_name
            and customer.family_name
            and all(is_han(char) for char in customer.given_name + customer.family_name)
        ):
            customer.name_order = "family_first"

    # Handlers: (reader, customer, order, value, header, field, problems); value is trimmed.

    def _email(self, customer, order, value, header, target, problems) -> None:
        for part in _split_list(value):
            try:
                shown, key = self._contacts.email(part)
            except customers.InvalidEmail:
                problems.append(
                    _problem(customer.row_number, header, target, "invalid_email", value=part)
                )
                continue
            if all(key != known for _, known in customer.emails):
                customer.emails.append((shown, key))

    def _phone(self, customer, order, value, header, target, problems) -> None:
        for part in _split_list(value):
            try:
                shown, e164 = self._contacts.phone(part)
            except customers.InvalidPhone as error:
                params = {"value": part.lstrip("'").strip()}  # as shown, without Shopify's '
                if error.reason == "invalid":
                    params["region"] = error.region or self.options.default_region
                problems.append(
                    _problem(customer.row_number, header, target, f"phone_{error.reason}", **params)
                )
                continue
            if all(e164 != known for _, known in customer.phones):
                customer.phones.append((shown, e164))

    def _postal_code(self, customer, order, value, header, target, problems) -> None:
        value = value.lstrip("'").strip()
        if len(value) > TEXT_LIMITS["postal_code"]:
            problems.append(_problem(customer.row_number, header, target, "too_long", limit=20))
        else:
            customer.postal_code = value

    def _external_id(self, customer, order, value, header, target, problems) -> None:
        value = value.lstrip("'").strip()
        if len(value) > TEXT_LIMITS["external_id"]:
            problems.append(_problem(customer.row_number, header, target, "too_long", limit=100))
        else:
            customer.external_id = value

    def _country(self, customer, order, value, header, target, problems) -> None:
        code = country_code(value)
        if code:
            customer.country = code
        else:
            problems.append(
                _problem(
                    customer.row_number, header, target, "unknown_country", WARNING, value=value
                )
            )

    def _language(self, customer, order, value, header, target, problems) -> None:
        code = language_code(value)
        if code:
            customer.preferred_language = code
        else:
            problems.append(
                _problem(
                    customer.row_number, header, target, "unknown_language", WARNING, value=value
                )
            )

    def _birth_date(self, customer, order, value, header, target, problems) -> None:
        try:
            customer.birth_date = parse_date(value, day_first=self.options.day_first)
        except ValueError:
            problems.append(
                _problem(customer.row_number, header, target, "invalid_date", value=value)
            )

    def _datetime(self, customer, order, value, header, target, problems) -> None:
        try:
            moment = parse_datetime(value, day_first=self.options.day_first, zone=self.zone)
        except ValueError:
            problems.append(
                _problem(customer.row_number, header, target, "invalid_date", value=value)
            )
            return
        if target == "created_at":
            customer.created_at = moment
        else:
            order.ordered_at = moment

    def _note(self, customer, order, value, header, target, problems) -> None:
        note = f"{customer.note}\n{value}" if customer.note else value
        if len(note) > TEXT_LIMITS["note"]:
            problems.append(
                _problem(customer.row_number, header, target, "too_long", limit=TEXT_LIMITS["note"])
            )
        else:
            customer.note = note

    def _tags(self, customer, order, value, header, target, problems) -> None:
        if '"' in value:
            value = value.replace('"', "")  # a list quoted once too often
        try:
            names = customers.parse_tags(value)
        except customers.InvalidTag as error:
            problems.append(
                _problem(
                    customer.row_number,
                    header,
                    target,
                    "tag_too_long",
                    value=error.tag,
                    limit=customers.TAG_MAX_LENGTH,
                )
            )
            return
        for name in names:
            if name not in customer.tags:
                customer.tags.append(name)
        if len(customer.tags) > customers.MAX_TAGS:
            problems.append(
                _problem(
                    customer.row_number, header, target, "too_many_tags", limit=customers.MAX_TAGS
                )
            )
            del customer.tags[customers.MAX_TAGS :]

    def _yes_no(self, customer, order, value, header, target, problems) -> None:
        answer = parse_yes_no(value)
        if answer is None:
            problems.append(
                _problem(customer.row_number, header, target, "invalid_yes_no", value=value)
            )
        else:
            setattr(customer, target, answer)

    # Order fields.

    def _order_text(self, customer, order, value, header, target, problems) -> None:
        limit = TEXT_LIMITS[target]
        if len(value) > limit:
            problems.append(_problem(customer.row_number, header, target, "too_long", limit=limit))
        elif target == "order_number":
            order.order_number = value
        elif target == "location":
            order.location = value
        else:
            order.product = value
            order.has_line = True

    def _currency(self, customer, order, value, header, target, problems) -> None:
        code = currency_code(value)
        if code:
            order.currency = code
        else:
            problems.append(
                _problem(customer.row_number, header, target, "invalid_currency", value=value)
            )

    def _amount(self, customer, order, value, header, target, problems) -> None:
        try:
            amount = parse_amount(value)
        except ValueError:
            problems.append(
                _problem(customer.row_number, header, target, "invalid_amount", value=value)
            )
            return
        if target == "order_total":
            order.total = amount
        else:
            order.unit_price = amount
            order.has_line = True

    def _quantity(self, customer, order, value, header, target, problems) -> None:
        try:
            order.quantity = parse_quantity(value)
        except ValueError:
            problems.append(
                _problem(customer.row_number, header, target, "invalid_quantity", value=value)
            )
            return
        order.has_line = True


_HANDLERS = {
    "email": RowReader._email,
    "phone": RowReader._phone,
    "postal_code": RowReader._postal_code,
    "external_id": RowReader._external_id,
    "country": RowReader._country,
    "preferred_language": RowReader._language,
    "birth_date": RowReader._birth_date,
    "created_at": RowReader._datetime,
    "order_date": RowReader._datetime,
    "note": RowReader._note,
    "tags": RowReader._tags,
    "accepts_email_marketing": RowReader._yes_no,
    "accepts_sms_marketing": RowReader._yes_no,
    "order_number": RowReader._order_text,
    "location": RowReader._order_text,
    "line_product": RowReader._order_text,
    "currency": RowReader._currency,
    "order_total": RowReader._amount,
    "line_unit_price": RowReader._amount,
    "line_quantity": RowReader._quantity,
}


def _problem(row, header, target, code, severity="error", **params) -> Problem:
    return Problem(row, header, target, code, params, severity)


_LIST_SEPARATORS = re.compile(r"\s*[,;]\s*")


def _split_list(value: str) -> list[str]:
    """Several e-mail addresses or phone numbers in one cell."""
    if "," not in value and ";" not in value:
        return [value]
    return [part for part in _LIST_SEPARATORS.split(value) if part]


# --- Orders --------------------------------------------------------------------------------


def group_orders(
    rows: Iterable[SourceRow], reader: RowReader
) -> Iterator[tuple[OrderRow, list[Problem]]]:
    """The orders of an export with one row per order line, in file order, one at a time.

    An order's first row carries its details (date, total, customer); the rows that follow
    repeat the order number and add lines. Rows of one order must be next to each other (as
    Shopify writes them); an order number seen again later starts a new order. Problems of
    the customer part are reported from the first row only, since follow-on rows leave
    those columns blank.
    """
    current: OrderRow | None = None
    problems: list[Problem] = []
    for row in rows:
        customer, fields, row_problems = reader.read_with_order(row)
        if not fields.order_number:
            if current is not None:
                yield current, problems
                current, problems = None, []
            row_problems = [p for p in row_problems if p.code != "missing_name"]
            row_problems.append(Problem(row.number, "", "", "missing_order_number"))
            yield (
                OrderRow(row.number, "", customer=customer, last_row_number=row.number),
                row_problems,
            )
            continue
        if current is not None and fields.order_number == current.order_number:
            # A follow-on row: its blank customer columns are not a problem.
            problems.extend(p for p in row_problems if p.code != "missing_name")
        else:
            if current is not None:
                yield current, problems
            current = OrderRow(
                row.number,
                fields.order_number,
                ordered_at=fields.ordered_at,
                currency=fields.currency or reader.options.default_currency,
                total=fields.total,
                location=fields.location,
                customer=customer,
            )
            problems = row_problems
        current.last_row_number = row.number
        if fields.has_line:
            if not fields.product:
                header = reader.header_for("line_product")
                problems.append(Problem(row.number, header, "line_product", "missing_product"))
            else:
                current.lines.append(
                    OrderLine(
                        row.number,
                        fields.product,
                        fields.quantity if fields.quantity is not None else Decimal(1),
                        fields.unit_price,
                    )
                )
    if current is not None:
        yield current, problems
