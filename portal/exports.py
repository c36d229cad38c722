"""Exports of the customer list (SPEC 4): the customers of a list's filters or of a saved
segment as CSV or XLSX, optionally only those whose current consent covers a purpose (SPEC 6
rule 2). Built by the job worker; the download is audited with the customers it names.

Customers are read in batches by id (keyset), so a million of them never sit in memory;
the CSV is written a batch at a time and the XLSX by openpyxl's write-only mode.

A spreadsheet runs a cell that starts like a formula, so text that starts with `=`, `+`, `-`,
`@`, a tab or a carriage return is neutralised: prefixed with `'` in the CSV (OWASP's advice),
and written as a text cell, never a formula, in the XLSX (marked quote-prefixed as well, so
editing the cell in Excel keeps it text).
"""

import csv
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from flask_babel import format_decimal, get_timezone, ngettext
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet import _writer as sheet_writer
from peewee import fn

from . import contact_lists, customer_list, id_packing, jobs, settings
from .customer_list import Filters
from .models import Address, ConsentPurpose, ContactPoint, Customer, CustomerTag, Tag, utcnow
from .staff.profile_forms import SOURCES  # the words the profile uses for where a record came from

FORMATS = ("csv", "xlsx")
BATCH_SIZE = 1000
# Up to this many customers the job's result lists their ids as they are; more are packed.
PLAIN_IDS_UP_TO = 1000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A phone number is written in E.164 (+48601234567): a number to a spreadsheet, not a formula.
_E164 = re.compile(r"\+[1-9][0-9]{5,14}")

# The file's columns in order, with the kind of value each holds: text is neutralised against
# formulas, a phone number is in E.164, times are in the business's time zone.
COLUMNS = (
    ("id", "number"),
    ("name", "text"),
    ("given_name", "text"),
    ("family_name", "text"),
    ("company", "text"),
    ("email", "text"),
    ("phone", "phone"),
    ("city", "text"),
    ("country", "text"),
    ("language", "text"),
    ("tags", "text"),
    ("tier", "text"),
    ("purchases", "number"),
    ("lifetime_value", "money"),
    ("last_purchase", "time"),
    ("customer_since", "time"),
    ("source", "text"),
    ("source_detail", "text"),
)
_TEXT_COLUMNS = tuple(i for i, (_name, kind) in enumerate(COLUMNS) if kind == "text")
_TIME_COLUMNS = tuple(i for i, (_name, kind) in enumerate(COLUMNS) if kind == "time")
_PHONE_COLUMN = next(i for i, (_name, kind) in enumerate(COLUMNS) if kind == "phone")


_CUSTOMER_COLUMNS = (
    Customer.id,
    Customer.display_name,
    Customer.given_name,
    Customer.family_name,
    Customer.company,
    Customer.preferred_language,
    Customer.tier,
    Customer.purchase_count,
    Customer.lifetime_value,
    Customer.last_purchase_at,
    Customer.created_at,
    Customer.source,
    Customer.source_detail,
)
# SQLite gives 620.5 back for 620.50: amounts are written with the stored two decimals.
_CENT = Decimal(1).scaleb(-Customer.lifetime_value.decimal_places)


def headers() -> list[str]:
    """The column names, in the language of the request or job."""
    labels = {
        "id": _("ID"),
        "name": _("Name"),
        "given_name": _("Given name"),
        "family_name": _("Family name"),
        "company": _("Company"),
        "email": _("E-mail"),
        "phone": _("Phone"),
        "city": _("City"),
        "country": _("Country"),
        "language": _("Language"),
        "tags": _("Tags"),
        "tier": _("Tier"),
        "purchases": _("Purchases"),
        "lifetime_value": _("Lifetime value (%(currency)s)", currency=settings.get("currency")),
        "last_purchase": _("Last purchase"),
        "customer_since": _("Customer since"),
        "source": _("Source"),
        "source_detail": _("Source detail"),
    }
    return [labels[name] for name, _kind in COLUMNS]


# --- Reading the customers -----------------------------------------------------------------


def chosen(filters: Filters, selected: list[int] | None = None):
    """The customers an export is about: the filters' (active ones), or only those selected."""
    query = customer_list.filtered(filters)
    return query.where(Customer.id.in_(selected)) if selected else query


def batches(
    filters: Filters,
    purpose_id: int | None = None,
    size: int = BATCH_SIZE,
    selected: list[int] | None = None,
) -> Iterator[tuple[list[tuple], int]]:
    """The rows to export, a batch at a time in id order, each with the last id read.

    With a purpose, only customers whose latest consent event for it is a grant: consent is
    checked per batch, as the rows are read, so whoever withdrew a moment ago is left out.
    """
    after = 0
    local = _local_time()
    sources = {code: str(label) for code, label in SOURCES.items()}  # translated once
    while True:
        people = list(
            chosen(filters, selected)
            .select(*_CUSTOMER_COLUMNS)
            .where(Customer.id > after)
            .order_by(Customer.id)
            .limit(size)
            .tuples()
        )
        if not people:
            return
        after = people[-1][0]
        if purpose_id is not None:
            consenting = contact_lists.granted_among(purpose_id, [row[0] for row in people])
            people = [row for row in people if row[0] in consenting]
        yield _rows(people, local, sources), after


def _rows(people: list[tuple], local: Callable, sources: dict[str, str]) -> list[tuple]:
    if not people:
        return []
    ids = [person[0] for person in people]
    contacts, places, tags = _contacts(ids), _places(ids), _tags(ids)
    rows = []
    for (
        customer_id,
        name,
        given,
        family,
        company,
        language,
        tier,
        purchases,
        spent,
        last_purchase,
        created,
        source,
        source_detail,
    ) in people:
        email, phone = contacts.get(customer_id, ("", ""))
        city, country = places.get(customer_id, ("", ""))
        rows.append(
            (
                customer_id,
                name,
                given,
                family,
                company,
                email,
                phone,
                city,
                country,
                language,
                ", ".join(tags.get(customer_id, ())),
                tier,
                purchases,
                None if spent is None else spent.quantize(_CENT),
                local(last_purchase),
                local(created),
                sources.get(source, source),
                source_detail,
            )
        )
    return rows


def _of(column, ids: list[int]):
    """A condition for the rows of these customers (ascending ids).

    A batch of a whole base is a run of ids: its range is an index range scan and cheap to
    build, where a list of a thousand parameters cost more to build than to run. A sparse
    batch (a narrow filter) goes by its list; rows of others in a range are skipped by the
    callers, which look up only the ids they were given.
    """
    if ids[-1] - ids[0] < 2 * len(ids):
        return column.between(ids[0], ids[-1])
    return column.in_(ids)


def _contacts(ids: list[int]) -> dict[int, tuple[str, str]]:
    """Each customer's primary (else first) e-mail as given, and phone number in E.164."""
    points = (
        ContactPoint.select(
            ContactPoint.customer, ContactPoint.kind, ContactPoint.value, ContactPoint.normalized
        )
        .where(_of(ContactPoint.customer, ids))
        .order_by(ContactPoint.is_primary.desc(), ContactPoint.id)
        .tuples()
    )
    found: dict[int, list[str]] = {}
    for customer_id, kind, value, normalized in points:
        pair = found.setdefault(customer_id, ["", ""])
        if kind == "email" and not pair[0]:
            pair[0] = value
        elif kind == "phone" and not pair[1]:
            pair[1] = normalized
    return {customer_id: (email, phone) for customer_id, (email, phone) in found.items()}


def _places(ids: list[int]) -> dict[int, tuple[str, str]]:
    """City and country of each customer's primary (else first) address."""
    addresses = (
        Address.select(Address.customer, Address.city, Address.country)
        .where(_of(Address.customer, ids))
        .order_by(Address.is_primary.desc(), Address.id)
        .tuples()
    )
    places: dict[int, tuple[str, str]] = {}
    for customer_id, city, country in addresses:
        places.setdefault(customer_id, (city, country))
    return places


def _tags(ids: list[int]) -> dict[int, list[str]]:
    """Tag names per customer, by name (customer_list.tags_of, by range when it can)."""
    links = (
        CustomerTag.select(CustomerTag.customer, Tag.name)
        .join(Tag)
        .where(_of(CustomerTag.customer, ids))
        .order_by(Tag.name)
        .tuples()
    )
    names: dict[int, list[str]] = {}
    for customer_id, name in links:
        names.setdefault(customer_id, []).append(name)
    return names


def _local_time() -> Callable[[datetime | None], datetime | None]:
    """Stored UTC times in the business's time zone (looked up once, not per cell)."""
    zone = get_timezone()

    def local(value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None, microsecond=0)

    return local


# --- Writing the files ---------------------------------------------------------------------


def neutralised(text: str) -> str:
    """Text a spreadsheet will show as it is: `'` before anything that starts like a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_row(row: tuple) -> list:
    cells = list(row)
    for column in _TEXT_COLUMNS:
        text = cells[column]
        if text and text.startswith(_FORMULA_START):
            cells[column] = "'" + text
    phone = cells[_PHONE_COLUMN]
    if phone and not _E164.fullmatch(phone):
        cells[_PHONE_COLUMN] = neutralised(phone)
    for column in _TIME_COLUMNS:
        if cells[column] is not None:
            cells[column] = cells[column].strftime("%Y-%m-%d %H:%M")
    return cells


class _CsvFile:
    def __init__(self, handle) -> None:
        self.writer = csv.writer(handle)

    def header(self, names: list[str]) -> None:
        self.writer.writerow(names)

    def rows(self, rows: list[tuple]) -> None:
        self.writer.writerows(_csv_row(row) for row in rows)


# The workbook's column widths (characters, one per column of COLUMNS) and number formats.
_XLSX_WIDTHS = (8, 28, 16, 18, 20, 30, 16, 16, 8, 9, 24, 6, 10, 14, 17, 17, 16, 24)
_MONEY_FORMAT = "#,##0.00"
_TIME_FORMAT = "yyyy-mm-dd hh:mm"


class _XlsxFile:
    """A write-only workbook: rows go to a temporary file as they come, so memory stays flat."""

    def __init__(self, path: Path) -> None:
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(_("Customers"))
        for index, width in enumerate(_XLSX_WIDTHS, 1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width
        self.sheet.freeze_panes = "A2"
        # openpyxl keeps the rows in a temporary file until it saves: by default in the system's
        # temporary folder, where a killed worker leaves them for good. Beside the file being
        # made (`path.rows`), the next worker removes it with the rest of the cut-off run
        # (jobs.resume_interrupted). As the sheet's first append would, after widths and panes.
        rows = path.with_name(path.name + ".rows")
        os.close(os.open(rows, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        sheet_writer.ALL_TEMP_FILES.append(str(rows))  # what openpyxl's cleanup expects
        self.sheet._writer = sheet_writer.WorksheetWriter(self.sheet, out=str(rows))
        self.sheet._writer.write_top()

    def header(self, names: list[str]) -> None:
        bold = Font(bold=True)
        cells = []
        for name in names:
            cell = WriteOnlyCell(self.sheet, value=name)
            cell.font = bold
            cells.append(cell)
        self.sheet.append(cells)

    def rows(self, rows: list[tuple]) -> None:
        for row in rows:
            self.sheet.append([self._cell(value) for value in row])

    def _cell(self, value):
        if isinstance(value, str):
            if not value:
                return None  # no cell at all: a third fewer cells to write
            if ILLEGAL_CHARACTERS_RE.search(value):  # control characters XML cannot hold
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            if value.startswith(_FORMULA_START) or value in ERROR_CODES:
                return self._text_cell(value)
            return value
        if isinstance(value, Decimal):
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.number_format = _MONEY_FORMAT
            return cell
        if isinstance(value, datetime):
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.number_format = _TIME_FORMAT
            return cell
        return value

    def _text_cell(self, text: str) -> WriteOnlyCell:
        """A cell that holds this text as text, even when it looks like a formula."""
        cell = WriteOnlyCell(self.sheet, value=text)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell

    def save(self, path: Path) -> None:
        self.workbook.save(path)  # openpyxl removes its temporary file once it is saved

    def discard(self) -> None:
        """Remove the rows written so far: openpyxl keeps them in a temporary file of its own
        (in the system's temporary folder) until it saves, or until the worker process ends."""
        if self.sheet.closed:
            return  # saved, and its temporary file gone
        writer = self.sheet._writer
        with suppress(Exception):  # close the half-written sheet, only to let go of the file
            self.sheet.close()
        if writer is not None and os.path.exists(writer.out):
            writer.cleanup()


@contextmanager
def _opened(path: Path, file_format: str):
    if file_format == "csv":
        # UTF-8 with a byte-order mark, so spreadsheets read Chinese and Polish names right.
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            yield _CsvFile(handle)
        return
    workbook = _XlsxFile(path)
    try:
        yield workbook
        workbook.save(path)
    finally:
        workbook.discard()


def write(
    filters: Filters,
    path: Path,
    *,
    file_format: str = "csv",
    purpose_id: int | None = None,
    progress: jobs.Progress | None = None,
    selected: list[int] | None = None,
) -> id_packing.IdPacker:
    """Write the customers of the filters (or only the selected ones) to `path`; return the
    ids written (packed)."""
    if file_format not in FORMATS:
        raise ValueError(f"an export is CSV or XLSX, not {file_format!r}")
    first, last = (
        chosen(filters, selected).select(fn.MIN(Customer.id), fn.MAX(Customer.id)).tuples().get()
    )
    written = id_packing.IdPacker()
    shown = -1
    with _opened(path, file_format) as out:
        out.header(headers())
        for rows, after in batches(filters, purpose_id, selected=selected):
            out.rows(rows)
            for row in rows:
                written.add(row[0])
            done = 95 * (after - first + 1) // (last - first + 1)
            if progress and done != shown:
                count = format_decimal(written.count)
                progress(
                    done,
                    ngettext(
                        "%(count)s customer written",
                        "%(count)s customers written",
                        written.count,
                        count=count,
                    ),
                )
                shown = done
        if progress:
            progress(96, _("Saving the file"))
    return written


# --- The background job --------------------------------------------------------------------


def job_params(
    filters: Filters,
    *,
    file_format: str,
    purpose_id: int | None = None,
    segment_id: int | None = None,
    selected: list[int] | None = None,
) -> dict:
    """What a customer_export job is asked for (the filters as they are now, or the ids of
    the customers selected in the list)."""
    return {
        "filters": filters.to_json(),
        "format": file_format,
        "purpose_id": purpose_id,
        "segment_id": segment_id,
        "selected": selected or [],
    }


def filename(params: dict, when: datetime) -> str:
    name = "customers-selected" if params.get("selected") else "customers"
    if params.get("segment_id"):
        name += f"-segment-{params['segment_id']}"
    if params.get("purpose_id"):
        purpose = ConsentPurpose.get_or_none(ConsentPurpose.id == params["purpose_id"])
        if purpose is not None and re.fullmatch(r"[A-Za-z0-9_-]+", purpose.code):
            name += f"-{purpose.code}"
    return f"{name}-{when:%Y-%m-%d-%H%M}.{params['format']}"


def run(job, progress: jobs.Progress) -> jobs.Result:
    """The background job: the customers of params["filters"], as CSV or XLSX."""
    asked = jobs.params(job)
    filters = Filters.from_json(asked["filters"])
    path = jobs.scratch_file(job, "." + asked["format"])
    try:
        written = write(
            filters,
            path,
            file_format=asked["format"],
            purpose_id=asked.get("purpose_id"),
            progress=progress,
            selected=asked.get("selected"),
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    data = {
        "count": written.count,
        "format": asked["format"],
        "filters": asked["filters"],
        "purpose_id": asked.get("purpose_id"),
        "segment_id": asked.get("segment_id"),
    }
    # The download's audit event lists every customer in the file (breach reports read it);
    # past a thousand, the job's row keeps them packed rather than as a long JSON list.
    if written.count <= PLAIN_IDS_UP_TO:
        data["customer_ids"] = id_packing.unpack(written.packed())
    else:
        data["customer_ids_packed"] = written.packed()
    stamp = _local_time()(utcnow())
    return jobs.Result(content=None, filename=filename(asked, stamp), data=data, path=path)
