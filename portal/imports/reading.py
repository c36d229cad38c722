"""Opening an uploaded CSV or XLSX file as a stream of rows, without loading it into memory.

    with open_table(path) as table:          # encoding, delimiter and format detected
        table.headers                        # ["Customer ID", "First Name", ...]
        for row in table:                    # SourceRow(number, values, problems)
            ...

`row.number` is the row number a spreadsheet shows (the heading row is 1 when the file starts
with it); `row.values` has exactly one text per heading, "" where the file has nothing. Rows
with no value at all are left out. A row whose shape is wrong (more or fewer cells than
headings) is still yielded, with a `Problem` in `row.problems`: it is the row's fault, not the
file's. Everything that makes the whole file unreadable raises `ImportFileError`, whose
message is translated: at `open_table` for what can be seen at the start (size, format,
encoding, headings), during iteration for what only shows later (a huge cell, bytes that are
not text in the detected encoding).

Each iteration opens the file afresh, so a table can be read twice (a preview, then the
import). CSV memory stays flat whatever the file's size: one line at a time. XLSX is read
with openpyxl's streaming reader, which still holds the workbook's shared strings (refused
past MAX_SHARED_STRINGS_BYTES) and about 80 bytes per row read (its XML parser keeps each
emptied row element), so a 1,000,000-row workbook needs ~80 MB more than a small one. Values are text exactly as written: nothing is evaluated, and a cell holding
`=HYPERLINK(...)` is read as those characters. XLSX formulas are never computed; the value
Excel stored when it last saved is read instead.
"""

import codecs
import csv
import io
import os
import re
import warnings
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import NamedTuple

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from openpyxl.utils import get_column_letter

from .problems import Problem

FORMATS = ("csv", "xlsx")
# Encodings the detection chooses from (plus UTF-16, recognised by its byte order mark).
ENCODINGS = ("utf-8", "windows-1250", "windows-1251", "gb18030")
DELIMITERS = (",", ";", "\t", "|")

MAX_BYTES = 256 * 1024 * 1024  # a 1,000,000-row customer CSV is about 150 MB
SAMPLE_BYTES = 64 * 1024  # what encoding and delimiter detection look at
MAX_FIELD_CHARS = 65_536  # at most the csv module's own limit (131,072)
MAX_LINE_CHARS = 1_048_576
MAX_COLUMNS = 500
# openpyxl keeps an XLSX file's shared-string table (each distinct text once) in memory, at
# about 7 bytes per byte of its XML: 16 MB of XML (some 140,000 customer rows) take ~120 MB.
# Larger workbooks are refused with a request for CSV, which streams in constant memory.
MAX_SHARED_STRINGS_BYTES = 16 * 1024 * 1024

_MESSAGES = {
    "too_large": _l("The file is %(size)d MB; files up to %(limit)d MB can be imported."),
    "empty": _l("The file is empty."),
    "headings_changed": _l(
        "Read with these settings, the file has other column headings than the mapping: "
        "choose the columns again."
    ),
    "binary": _l(
        "This is not a CSV or Excel (XLSX) file. Export the list from your program as CSV or "
        "XLSX and upload that."
    ),
    "xls": _l(
        "This is an old-style Excel file (.xls). Open it in Excel or LibreOffice and save it "
        "as .xlsx or .csv."
    ),
    "not_xlsx": _l(
        "This file is not an Excel workbook (.xlsx). Save the list as .xlsx or .csv and "
        "upload that."
    ),
    "damaged_xlsx": _l("The Excel file is damaged and cannot be read."),
    "xlsx_too_big": _l(
        "This workbook holds too much text to be imported from Excel (%(size)d MB); save the "
        "sheet as CSV (UTF-8) and import that instead."
    ),
    "no_sheet": _l("The workbook has no sheet named “%(sheet)s”."),
    "unknown_encoding": _l("“%(encoding)s” is not a character encoding."),
    "decode": _l(
        "Row %(row)d is not valid %(encoding)s text. Choose the character encoding the file "
        "was saved in."
    ),
    "no_header": _l(
        "The first row should name the columns (for example Name, E-mail, Phone), but it "
        "holds data such as “%(value)s”. Add a heading row."
    ),
    "blank_header": _l(
        "These columns have no heading: %(columns)s. Give each column a heading, or delete the "
        "columns."
    ),
    "duplicate_header": _l(
        "The heading “%(header)s” is used for more than one column (%(columns)s). Give each "
        "column its own heading."
    ),
    "too_many_columns": _l("The file has %(count)d columns; at most %(limit)d can be imported."),
    "field_too_large": _l(
        "Row %(row)d has a cell longer than %(limit)d characters (perhaps a quotation mark "
        "that is never closed)."
    ),
    "line_too_long": _l(
        "Row %(row)d is longer than %(limit)d characters; this does not look like a list of "
        "customers."
    ),
    "malformed": _l("Row %(row)d cannot be read as CSV; check its quotation marks."),
}


class ImportFileError(Exception):
    """The file as a whole cannot be imported; `message` says why, translated when shown.

    `code` names the reason (a key of the messages above) and `params` its details, so the
    reason can be stored and shown later in another language.
    """

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def message(self) -> LazyString:
        return LazyString(_render, self.code, self.params)

    def __str__(self) -> str:
        return str(self.message)

    def to_dict(self) -> dict:
        return {"code": self.code, "params": self.params}


def _render(code: str, params: dict) -> str:
    text = str(_MESSAGES[code])
    return text % params if params else text


class SourceRow(NamedTuple):
    """One row: its number as a spreadsheet shows it, one text per heading, shape problems."""

    number: int
    values: list[str]
    problems: tuple[Problem, ...] = ()


# --- Opening -----------------------------------------------------------------------------


def open_table(
    path: str | os.PathLike,
    *,
    file_format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    max_bytes: int = MAX_BYTES,
    max_columns: int = MAX_COLUMNS,
) -> "Table":
    """Open a CSV or XLSX file for reading its rows; ImportFileError if it cannot be.

    `file_format` ("csv" or "xlsx"), `encoding` (any Python codec name, e.g. "windows-1251")
    and `delimiter` override what is detected from the file's content; `sheet` names an XLSX
    sheet (default: the first). The headings are read and checked here.
    """
    path = os.fspath(path)
    size = os.path.getsize(path)
    if size > max_bytes:
        raise ImportFileError(
            "too_large", size=-(-size // 1_048_576), limit=max(1, max_bytes // 1_048_576)
        )
    if size == 0:
        raise ImportFileError("empty")
    with open(path, "rb") as file:
        head = file.read(SAMPLE_BYTES)
    kind = _format_by_content(head)
    if file_format not in (None, *FORMATS):
        raise ValueError(f"file_format must be one of {FORMATS}")
    if kind == "xls":
        raise ImportFileError("xls")
    if kind == "binary" or (kind == "zip" and file_format == "csv"):
        raise ImportFileError("binary")
    if kind == "zip":
        return XlsxTable(path, size, sheet=sheet, max_columns=max_columns)
    if file_format == "xlsx":
        raise ImportFileError("not_xlsx")
    return CsvTable(
        path, size, head, encoding=encoding, delimiter=delimiter, max_columns=max_columns
    )


def sheet_names(path: str | os.PathLike) -> list[str]:
    """The names of an XLSX workbook's sheets, in order (to offer a choice)."""
    workbook = _load_workbook(os.fspath(path))
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


_SIGNATURES = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "xls"),  # OLE2: .xls (and .doc)
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty ZIP archive
    (b"%PDF", "binary"),
    (b"\x89PNG", "binary"),
    (b"\xff\xd8\xff", "binary"),  # JPEG
    (b"GIF8", "binary"),
    (b"\x1f\x8b", "binary"),  # gzip
    (b"7z\xbc\xaf", "binary"),
    (b"Rar!", "binary"),
    (b"{\\rtf", "binary"),
)


def _format_by_content(head: bytes) -> str:
    """zip, xls, binary or text: by the file's first bytes, never by its name."""
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "text"
    if b"\x00" in head:
        return "binary"
    return "text"


# --- Tables ------------------------------------------------------------------------------


class Table:
    """An opened file: headings checked, rows read on iteration (each time from the start)."""

    file_format: str = ""
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None

    def __init__(self, path: str, size: int, max_columns: int):
        self.path = path
        self.size = size
        self.max_columns = max_columns
        self.headers: list[str] = []
        self.header_row = 1
        self._open: list = []  # handles of iterations in progress, closed by close()

    def __iter__(self) -> Iterator[SourceRow]:
        return self.rows()

    def rows(self) -> Iterator[SourceRow]:
        """The rows after the heading row, as SourceRows; empty rows are left out."""
        columns = len(self.headers)
        check_short = self.file_format == "csv"
        for number, cells in self._records():
            if number <= self.header_row or _blank(cells):
                continue
            if len(cells) == columns:
                yield SourceRow(number, cells)
                continue
            problems = ()
            if len(cells) > columns:
                if any(value.strip() for value in cells[columns:]):
                    problems = (Problem(number, "", "", "too_many_cells", _shape(cells, columns)),)
                cells = cells[:columns]
            elif check_short:
                problems = (Problem(number, "", "", "too_few_cells", _shape(cells, columns)),)
                cells = cells + [""] * (columns - len(cells))
            else:
                cells = cells + [""] * (columns - len(cells))
            yield SourceRow(number, cells, problems)

    def fraction_read(self) -> float:
        """How far the iteration in progress has got through the file, 0.0 to 1.0 (for progress)."""
        return 0.0

    def close(self) -> None:
        """Close what iterations in progress hold open (finished iterations close themselves)."""
        for handle in self._open:
            handle.close()
        self._open.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        raise NotImplementedError

    def _read_headers(self) -> None:
        """Find the heading row (the first row with a value) and check its headings."""
        records = self._records()
        try:
            for number, cells in records:
                if not _blank(cells):
                    self.header_row = number
                    self.headers = _check_headers(cells, self.max_columns)
                    return
        finally:
            records.close()
        raise ImportFileError("empty")


def _blank(cells: list[str]) -> bool:
    """A row with no value, or only spaces (checked cheaply: most rows start with a value)."""
    return not (cells and cells[0].strip()) and not "".join(cells).strip()


def _shape(cells: list[str], columns: int) -> dict:
    return {"cells": len(cells), "columns": columns}


_LOOKS_LIKE_DATA = re.compile(
    r"[^@\s]+@[^@\s]+\.[^@\s]+"  # an e-mail address
    r"|\+?(?=(?:\D*\d){6})[\d\s\-()./]+"  # a phone number or a big number
    r"|\d{4}-\d{2}-\d{2}.*"  # a date
)


def _check_headers(cells: list[str], max_columns: int) -> list[str]:
    headers = [" ".join(value.replace("\ufeff", "").split()) for value in cells]
    while headers and not headers[-1]:
        headers.pop()  # columns nobody named or filled in, at the right edge
    if len(headers) > max_columns:
        raise ImportFileError("too_many_columns", count=len(headers), limit=max_columns)
    for header in headers:
        if header and _LOOKS_LIKE_DATA.fullmatch(header):
            raise ImportFileError("no_header", value=header[:80])
    blank = [_column_name(i) for i, header in enumerate(headers) if not header]
    if blank:
        raise ImportFileError("blank_header", columns=", ".join(blank))
    seen: dict[str, list[int]] = {}
    for i, header in enumerate(headers):
        seen.setdefault(header, []).append(i)
    for header, where in seen.items():
        if len(where) > 1:
            raise ImportFileError(
                "duplicate_header",
                header=header,
                columns=", ".join(_column_name(i) for i in where),
            )
    return headers


def _column_name(index: int) -> str:
    """A column as a spreadsheet names it: "C"."""
    return get_column_letter(index + 1)


# --- CSV ---------------------------------------------------------------------------------


class _LineTooLong(Exception):
    pass


class CsvTable(Table):
    file_format = "csv"

    def __init__(
        self,
        path: str,
        size: int,
        head: bytes,
        *,
        encoding: str | None,
        delimiter: str | None,
        max_columns: int,
    ):
        super().__init__(path, size, max_columns)
        complete = size <= len(head)
        if encoding:
            try:
                codec = codecs.lookup(encoding).name
            except LookupError:
                raise ImportFileError("unknown_encoding", encoding=encoding[:40]) from None
        else:
            codec = detect_encoding(head, complete=complete)
        self.encoding = _ENCODING_NAMES.get(codec, codec)
        # utf-8-sig reads files with and without a byte order mark alike.
        self._codec = "utf-8-sig" if codec in ("utf-8", "utf-8-sig") else codec
        text = _decode_sample(head, self._codec, complete)
        if text is None:  # only with an encoding the owner chose
            self.delimiter = delimiter or ","
            row = self._row_with_bad_bytes() or 1
            raise ImportFileError("decode", row=row, encoding=self.encoding)
        if _looks_binary(text):
            raise ImportFileError("binary")
        if not text.strip():
            raise ImportFileError("empty")
        self.delimiter = delimiter or detect_delimiter(text, complete=complete)
        self._raw = None
        self._read_headers()
        self._raw = None  # progress counts the reading of rows, not of the headings

    def _records(self, errors: str = "strict") -> Iterator[tuple[int, list[str]]]:
        raw = open(self.path, "rb")  # noqa: SIM115  (closed in finally, or by close())
        self._open.append(raw)
        self._raw = raw
        text = io.TextIOWrapper(raw, encoding=self._codec, errors=errors, newline="")
        reader = csv.reader(
            _capped_lines(text, MAX_LINE_CHARS), delimiter=self.delimiter, quotechar='"'
        )
        number = 0
        try:
            for cells in reader:
                number += 1
                if max(map(len, cells), default=0) > MAX_FIELD_CHARS:
                    raise ImportFileError("field_too_large", row=number, limit=MAX_FIELD_CHARS)
                yield number, cells
        except csv.Error as error:
            if "field limit" in str(error):
                raise ImportFileError(
                    "field_too_large", row=number + 1, limit=MAX_FIELD_CHARS
                ) from None
            raise ImportFileError("malformed", row=number + 1) from None
        except UnicodeDecodeError:
            row = self._row_with_bad_bytes() or number + 1
            raise ImportFileError("decode", row=row, encoding=self.encoding) from None
        except _LineTooLong:
            raise ImportFileError("line_too_long", row=number + 1, limit=MAX_LINE_CHARS) from None
        finally:
            text.close()
            if raw in self._open:
                self._open.remove(raw)

    def _row_with_bad_bytes(self) -> int:
        """The first row holding bytes that are not text in the encoding. Decoding runs ahead
        of the rows by a few kilobytes, so the file is read again, marking such bytes (as
        lone surrogates, which valid text never contains)."""
        records = self._records(errors="surrogateescape")
        try:
            for number, cells in records:
                try:
                    "".join(cells).encode("utf-8")
                except UnicodeEncodeError:
                    return number
        except (UnicodeDecodeError, ImportFileError):
            pass  # not every codec can mark bad bytes; the caller then estimates the row
        finally:
            records.close()
        return 0

    def fraction_read(self) -> float:
        raw = self._raw
        if raw is None or raw.closed:
            return 1.0 if raw is not None else 0.0
        return min(1.0, raw.tell() / self.size)


def _capped_lines(text: io.TextIOWrapper, limit: int) -> Iterator[str]:
    """The lines of a text stream, refusing one longer than `limit` rather than holding it."""
    readline = text.readline
    while line := readline(limit):
        if len(line) == limit and line[-1] not in "\r\n":
            raise _LineTooLong
        yield line


_ENCODING_NAMES = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8",
    "cp1250": "windows-1250",
    "cp1251": "windows-1251",
    "utf-16": "utf-16",
    "gb18030": "gb18030",
}


def _decode_sample(sample: bytes, codec: str, complete: bool) -> str | None:
    """The sample as text, or None if it is not text in that encoding. A character cut off at
    the end of an incomplete sample is not an error."""
    try:
        return codecs.getincrementaldecoder(codec)().decode(sample, final=complete)
    except UnicodeDecodeError:
        return None


def _looks_binary(text: str) -> bool:
    """Control characters (other than tab and line breaks) mean this is not text."""
    controls = sum(1 for char in text if char < " " and char not in "\t\r\n\x0b\x0c") + text.count(
        "\ufffd"
    )
    return controls > max(4, len(text) // 200)


# --- Encoding and delimiter detection ------------------------------------------------------


def detect_encoding(sample: bytes, *, complete: bool = False) -> str:
    """The Python codec name of the sample's encoding: a byte order mark, else UTF-8 if the
    sample is valid UTF-8, else the likeliest of Windows-1250, Windows-1251 and GB18030.

    The three legacy encodings decode almost any bytes, so each reading is scored by how
    much it looks like text: letters of one script per word, words in one letter case,
    common rather than rare Chinese characters. `complete` says the sample is the whole file.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _decode_sample(sample, "utf-8", complete) is not None:
        return "utf-8"
    best, best_score = "cp1251", float("-inf")
    for codec in ("cp1250", "cp1251", "gb18030"):
        text = _decode_sample(sample, codec, complete)
        if text is None:
            continue
        score = _plausibility(text)
        if score > best_score:
            best, best_score = codec, score
    return best


_WORD = re.compile(r"[^\W\d_]+")
_CJK_PUNCTUATION = set("，。、：；！？（）【】《》“”‘’…—·￥")
_COMMON_PUNCTUATION = set("«»„“”‘’–—…№€°§·\xa0")
# Cyrillic letters of Serbian, Macedonian and Belarusian: rare in the shops' data, frequent
# when Chinese bytes are read as Windows-1251.
_RARE_CYRILLIC = set("ЂЃЉЊЌЋЏђѓљњќћџЎўЈјЅѕ")


def _plausibility(text: str) -> float:
    """A score, roughly per byte of non-ASCII text: positive for what real text looks like."""
    score = 0.0
    for word in _WORD.findall(text):
        if not word.isascii():
            score += _word_score(word)
    for char in text:
        if char >= "\x80" and not char.isalpha():
            if char in _CJK_PUNCTUATION:
                score += 2  # two bytes in GB18030, impossible in the others
            elif char not in _COMMON_PUNCTUATION:
                score -= 1  # ¤ ¦ ‰ ‡ ™ and private-use characters: rare in real text
    return score


def _word_score(word: str) -> float:
    scripts = {_script(char) for char in word}
    if len(scripts) > 1 or "other" in scripts:
        return -2.0 * len(word)  # Latin and Cyrillic (or Chinese) mixed inside one word
    script = scripts.pop()
    if script == "han":
        return sum(2.0 if _common_han(char) else -2.0 for char in word)
    letters = len(word)
    capitals = word.isupper()
    if not (capitals or word.islower() or (word[0].isupper() and word[1:].islower())):
        return -1.0 * letters  # "РХГы": case changes inside a word
    if script == "latin":
        accented = sum(1 for char in word if char >= "\x80")
        # Polish, Czech or Hungarian words carry a few accented letters among plain ones.
        return letters if accented * 2 <= letters or letters <= 2 else -1.0 * letters
    rare = sum(1 for char in word if char in _RARE_CYRILLIC)
    # Words in capitals count less: Chinese read as Windows-1251 comes out mostly in capitals.
    return (0.5 if capitals and letters > 1 else 1.0) * letters - 2.0 * rare


def _script(char: str) -> str:
    if char < "\u0250":
        return "latin"
    if "\u0400" <= char <= "\u04ff":
        return "cyrillic"
    if "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf":
        return "han"
    return "other"


def _common_han(char: str) -> bool:
    """One of the 3,755 most common Chinese characters (GB2312 level 1)."""
    try:
        encoded = char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return 0xB0 <= encoded[0] <= 0xD7


def detect_delimiter(text: str, *, complete: bool = False) -> str:
    """The delimiter that splits the heading row into the most columns while the rows below
    have as many cells as the heading row; "," when nothing splits it."""
    lines = text.splitlines(keepends=True)
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample may be cut off
    lines = lines[:200]
    best, best_key = ",", (False, 1, 0.0)
    for delimiter in DELIMITERS:
        try:
            records = [cells for cells in csv.reader(lines, delimiter=delimiter) if any(cells)]
        except csv.Error:
            continue
        records = records[:50]
        if not records:
            continue
        columns = len(records[0])
        if columns < 2:
            continue
        body = records[1:] or records
        consistent = sum(1 for cells in body if len(cells) == columns) / len(body)
        key = (consistent >= 0.8, columns, consistent)
        if key > best_key:
            best, best_key = delimiter, key
    return best


# --- XLSX --------------------------------------------------------------------------------


def _load_workbook(path: str):
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise ImportFileError("damaged_xlsx") from None
    with archive:
        names = set(archive.namelist())
        if "xl/workbook.xml" not in names:
            raise ImportFileError("not_xlsx")
        if "xl/sharedStrings.xml" in names:
            unpacked = archive.getinfo("xl/sharedStrings.xml").file_size
            if unpacked > MAX_SHARED_STRINGS_BYTES:
                raise ImportFileError("xlsx_too_big", size=unpacked // 1_048_576)
    from openpyxl import load_workbook  # imported here: only XLSX imports need it

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it skips; they do not matter here.
            warnings.simplefilter("ignore")
            return load_workbook(path, read_only=True, data_only=True)
    except ImportFileError:
        raise
    except Exception:  # openpyxl raises many kinds of errors on a broken file
        raise ImportFileError("damaged_xlsx") from None


class XlsxTable(Table):
    file_format = "xlsx"

    def __init__(self, path: str, size: int, *, sheet: str | None, max_columns: int):
        super().__init__(path, size, max_columns)
        workbook = _load_workbook(path)
        try:
            if sheet is None:
                if not workbook.worksheets:
                    raise ImportFileError("empty")
                sheet = workbook.worksheets[0].title
            elif sheet not in workbook.sheetnames:
                raise ImportFileError("no_sheet", sheet=sheet[:100])
        finally:
            workbook.close()
        self.sheet = sheet
        self._max_row = None
        self._row = 0
        self._read_headers()

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        workbook = _load_workbook(self.path)
        self._open.append(workbook)
        try:
            worksheet = workbook[self.sheet]
            self._max_row = worksheet.max_row
            # Some programs write a wrong size into the sheet; read what is really there.
            worksheet.reset_dimensions()
            rows = worksheet.iter_rows(min_row=1, values_only=True)
            for number, values in enumerate(rows, start=1):
                self._row = number
                yield number, [_cell_text(value) for value in values]
        except ImportFileError:
            raise
        except Exception:
            raise ImportFileError("damaged_xlsx") from None
        finally:
            workbook.close()
            if workbook in self._open:
                self._open.remove(workbook)

    def fraction_read(self) -> float:
        if not self._max_row:
            return 0.0
        return min(1.0, self._row / self._max_row)


def _cell_text(value) -> str:
    """A cell's value as the text a person would type: dates in ISO form, numbers without
    floating-point noise (48601234567, not 4.86e10; 0.1, not 0.1000000000000000055)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="seconds")
    return str(value)  # durations, and whatever else a cell may hold


def _number_text(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        return ""
    if value.is_integer() and abs(value) < 1e17:
        return str(int(value))
    # Excel keeps 15 significant digits; more are binary noise.
    text = format(Decimal(f"{value:.15g}"), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
