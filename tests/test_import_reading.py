"""Reading uploaded CSV and XLSX files: encodings, delimiters, odd shapes, refusals, memory.

Every file is synthetic, written by the test into tmp_path. No database is involved.
"""

import csv
import io
import os
import tracemalloc
import zipfile
from datetime import date, datetime
from xml.sax.saxutils import escape

import pytest
from flask_babel import LazyString
from openpyxl import Workbook

from portal.imports.reading import (
    MAX_FIELD_CHARS,
    ImportFileError,
    SourceRow,
    detect_delimiter,
    detect_encoding,
    open_table,
    sheet_names,
)


def write_csv(path, rows, *, encoding="utf-8", delimiter=","):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def read_all(path, **options) -> tuple[list[str], list[SourceRow]]:
    with open_table(path, **options) as table:
        return table.headers, list(table)


def refusal(path, **options) -> ImportFileError:
    with pytest.raises(ImportFileError) as caught:
        read_all(path, **options)
    return caught.value


POLISH = [
    ["Imię", "Nazwisko", "Telefon", "E-mail", "Miasto"],
    ["Łukasz", "Wójcik", "601 234 567", "lukasz@example.pl", "Łódź"],
    ["Zofia", "Żółkiewska", "+48 22 123 45 67", "zofia@example.pl", "Gdańsk"],
]
RUSSIAN = [
    ["Имя", "Фамилия", "Телефон", "Эл. почта", "Город"],
    ["Иван", "Петров", "+7 912 345-67-89", "ivan@example.ru", "Москва"],
    ["Мария", "Сидорова", "", "maria@example.ru", "Санкт-Петербург"],
]
CHINESE = [
    ["姓名", "电话", "手机", "邮箱", "城市"],
    ["王小明", "010-12345678", "13812345678", "wang@example.cn", "北京"],
    ["李娜", "", "13912345678", "li@example.cn", "上海"],
]


@pytest.mark.parametrize(
    ("rows", "encoding", "delimiter", "reported"),
    [
        (POLISH, "utf-8", ",", "utf-8"),
        (POLISH, "utf-8-sig", ";", "utf-8"),  # Excel's "CSV UTF-8" has a byte order mark
        (POLISH, "windows-1250", ";", "windows-1250"),
        (RUSSIAN, "windows-1251", ";", "windows-1251"),
        (RUSSIAN, "windows-1251", ",", "windows-1251"),
        (RUSSIAN, "utf-8", "\t", "utf-8"),
        (CHINESE, "gb18030", ",", "gb18030"),
        (CHINESE, "gb18030", ";", "gb18030"),
        (CHINESE, "utf-8-sig", "|", "utf-8"),
        (CHINESE, "utf-16", "\t", "utf-16"),  # Excel's "Unicode text"
    ],
)
def test_it_detects_encoding_and_delimiter(tmp_path, rows, encoding, delimiter, reported):
    path = write_csv(tmp_path / "list.csv", rows, encoding=encoding, delimiter=delimiter)
    with open_table(path) as table:
        assert (table.encoding, table.delimiter, table.file_format) == (
            reported,
            delimiter,
            "csv",
        )
        assert table.headers == rows[0]
        assert [(row.number, row.values) for row in table] == [(2, rows[1]), (3, rows[2])]


def test_the_owner_can_override_encoding_and_delimiter(tmp_path):
    path = write_csv(tmp_path / "list.csv", RUSSIAN, encoding="windows-1251", delimiter=";")
    # Read as Windows-1250 on purpose: the owner's choice wins over detection.
    with open_table(path, encoding="windows-1250", delimiter=",") as table:
        assert table.encoding == "windows-1250"
        assert table.delimiter == ","
        assert len(table.headers) == 1  # no commas: one column
    assert refusal(path, encoding="no-such-encoding").code == "unknown_encoding"


def test_detection_copes_with_short_samples():
    # A heading row alone is enough to tell the legacy encodings apart.
    for rows, encoding in ((POLISH, "cp1250"), (RUSSIAN, "cp1251"), (CHINESE, "gb18030")):
        sample = ";".join(rows[0]).encode(encoding)
        assert detect_encoding(sample, complete=True) == encoding
        one_row = ";".join(rows[1]).encode(encoding)
        assert detect_encoding(one_row, complete=True) == encoding
    assert detect_delimiter("a;b;c\r\n1;2,5;3\r\n", complete=True) == ";"
    assert detect_delimiter("Email\r\nanna@example.com\r\n", complete=True) == ","


def test_a_sample_cut_inside_a_character_is_still_utf8():
    text = ("Имя,Город\r\n" + "Анна,Москва\r\n" * 10).encode()
    assert detect_encoding(text[:-3], complete=False) == "utf-8"  # cut inside "а" or "\r\n"
    assert detect_encoding(text[:17], complete=False) == "utf-8"


def test_quoted_multiline_fields_are_one_row_and_row_numbers_are_the_spreadsheets(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "Name,Note Attributes,Total\r\n"
        '#1001,"gift: yes\r\nwrapping: blue\r\nmessage: ""Happy birthday"", Anna",10.00\r\n'
        "\r\n"  # an empty row: skipped, but counted like a spreadsheet counts it
        "#1002,,20.00\r\n",
        encoding="utf-8",
    )
    headers, rows = read_all(path)
    assert headers == ["Name", "Note Attributes", "Total"]
    assert rows[0].number == 2
    assert rows[0].values[1] == ('gift: yes\r\nwrapping: blue\r\nmessage: "Happy birthday", Anna')
    assert (rows[1].number, rows[1].values) == (4, ["#1002", "", "20.00"])


def test_headings_may_follow_empty_rows_and_empty_rows_and_columns_are_dropped(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text(
        ",,,\r\n , \r\nName,Email,,\r\nAnna,anna@example.com,,\r\n  ,\t\r\n", encoding="utf-8"
    )
    with open_table(path, delimiter=",") as table:
        assert table.header_row == 3
        assert table.headers == ["Name", "Email"]
        assert [(row.number, row.values, row.problems) for row in table] == [
            (4, ["Anna", "anna@example.com"], ())
        ]


def test_values_are_never_evaluated(tmp_path):
    formula = '=HYPERLINK("http://x","y")'
    path = write_csv(
        tmp_path / "list.csv",
        [["Name", "Note"], [formula, "+SUM(A1:A9)"], ["@cmd", "-2+3"]],
    )
    _headers, rows = read_all(path)
    assert [row.values for row in rows] == [[formula, "+SUM(A1:A9)"], ["@cmd", "-2+3"]]


# --- XLSX --------------------------------------------------------------------------------


def write_workbook(path, sheets: dict[str, list[list]]):
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for values in rows:
            sheet.append(values)
    workbook.save(path)
    return path


def test_xlsx_with_cyrillic_headings_reads_cells_as_text(tmp_path):
    path = write_workbook(
        tmp_path / "клиенты.xlsx",
        {
            "Клиенты": [
                ["Имя", "Фамилия", "Телефон", "Эл. почта", "Дата рождения", "Сумма", "VIP"],
                ["Иван", "Петров", 48601234567, "ivan@example.ru", date(1985, 3, 31), 0.1 + 0.2],
                [
                    "Мария",
                    None,
                    4.8601234567e10,
                    None,
                    datetime(1990, 1, 2, 14, 30),
                    1234.5,
                    True,
                ],
                [],
                ["Олег", "Сидоров", "'+48601234567", None, "31.12.1999", -7, False],
            ]
        },
    )
    with open_table(path) as table:
        assert (table.file_format, table.sheet, table.encoding) == ("xlsx", "Клиенты", None)
        assert table.headers[0] == "Имя"
        rows = list(table)
    assert [row.number for row in rows] == [2, 3, 5]
    assert rows[0].values == [
        "Иван",
        "Петров",
        "48601234567",
        "ivan@example.ru",
        "1985-03-31",
        "0.3",
        "",
    ]
    assert rows[1].values == [
        "Мария",
        "",
        "48601234567",
        "",
        "1990-01-02 14:30:00",
        "1234.5",
        "TRUE",
    ]
    assert rows[2].values[2:] == ["'+48601234567", "", "31.12.1999", "-7", "FALSE"]


def test_xlsx_sheet_can_be_chosen(tmp_path):
    path = write_workbook(
        tmp_path / "book.xlsx",
        {"Notes": [["Anything"], ["x"]], "Customers": [["Email"], ["anna@example.com"]]},
    )
    assert sheet_names(path) == ["Notes", "Customers"]
    assert read_all(path)[0] == ["Anything"]  # the first sheet by default
    assert read_all(path, sheet="Customers") == (
        ["Email"],
        [SourceRow(2, ["anna@example.com"])],
    )
    error = refusal(path, sheet="Orders")
    assert (error.code, error.params) == ("no_sheet", {"sheet": "Orders"})


def test_xlsx_formulas_are_not_computed_and_formula_text_stays_text(tmp_path):
    path = tmp_path / "formulas.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Link"])
    sheet.append(["Anna", '=HYPERLINK("http://x","y")'])  # a real formula, never calculated
    sheet.append(["Jan", None])
    cell = sheet.cell(row=3, column=2)
    cell.value = '=HYPERLINK("http://x","y")'
    cell.data_type = "s"  # text that merely looks like a formula
    workbook.save(path)
    _headers, rows = read_all(path)
    assert rows[0].values == ["Anna", ""]  # no cached value: nothing is evaluated
    assert rows[1].values == ["Jan", '=HYPERLINK("http://x","y")']


def test_xlsx_rows_wider_than_the_headings_are_a_row_problem(tmp_path):
    path = write_workbook(
        tmp_path / "wide.xlsx", {"S": [["Name", "Email"], ["Anna", "a@example.com", "stray"]]}
    )
    _headers, rows = read_all(path)
    assert rows[0].values == ["Anna", "a@example.com"]
    assert [p.code for p in rows[0].problems] == ["too_many_cells"]


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def excel_style_workbook(path, rows: dict[int, list[str]], sheet="Клиенты"):
    """A workbook as Excel writes it: texts in a shared-string table, and here a sheet that
    claims to be one cell big (some programs write a wrong size)."""
    strings: list[str] = []
    cells = []
    for number, values in rows.items():
        row_cells = []
        for column, value in enumerate(values):
            reference = f"{chr(65 + column)}{number}"
            if isinstance(value, str):
                strings.append(value)
                row_cells.append(f'<c r="{reference}" t="s"><v>{len(strings) - 1}</v></c>')
            else:
                row_cells.append(f'<c r="{reference}"><v>{value}</v></c>')
        cells.append(f'<row r="{number}">{"".join(row_cells)}</row>')
    shared = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}"><sheets>'
            f'<sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/worksheet" '
            'Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{RELATIONSHIPS}/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{MAIN}"><dimension ref="A1"/>'
            f"<sheetData>{''.join(cells)}</sheetData></worksheet>"
        ),
        "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}">{shared}</sst>',
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + xml)
    return path


def test_an_excel_style_workbook_with_shared_strings_and_a_wrong_size(tmp_path):
    path = excel_style_workbook(
        tmp_path / "excel.xlsx",
        {
            1: ["Имя", "Фамилия", "Телефон", "Эл. почта"],
            2: ["Иван", "Петров", 79123456789, "ivan@example.ru"],
            4: ["Мария", "Сидорова", 4.8601234567e10, "maria@example.ru"],
        },
    )
    with open_table(path) as table:
        assert table.headers == ["Имя", "Фамилия", "Телефон", "Эл. почта"]
        assert [(row.number, row.values) for row in table] == [
            (2, ["Иван", "Петров", "79123456789", "ivan@example.ru"]),
            (4, ["Мария", "Сидорова", "48601234567", "maria@example.ru"]),
        ]


def test_a_workbook_with_too_much_text_asks_for_csv(tmp_path, monkeypatch):
    from portal.imports import reading

    rows = {1: ["Email"]} | {n: [f"customer{n}@example.com"] for n in range(2, 2000)}
    path = excel_style_workbook(tmp_path / "big.xlsx", rows)
    monkeypatch.setattr(reading, "MAX_SHARED_STRINGS_BYTES", 20_000)
    error = refusal(path)
    assert error.code == "xlsx_too_big"
    assert "CSV" in str(error)


# --- Refusals and row problems ------------------------------------------------------------


def test_binary_junk_is_refused(tmp_path):
    junk = tmp_path / "customers.csv"
    junk.write_bytes(bytes(range(256)) * 64 + os.urandom(4096))
    assert refusal(junk).code == "binary"
    png = tmp_path / "photo.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"IHDR" * 10)
    assert refusal(png).code == "binary"
    controls = tmp_path / "controls.csv"
    controls.write_bytes(bytes(range(1, 32)) * 100)  # no NUL byte, still not text
    assert refusal(controls).code == "binary"
    assert "CSV" in str(refusal(controls))


def test_other_spreadsheet_formats_get_their_own_message(tmp_path):
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert refusal(xls).code == "xls"
    ods = tmp_path / "list.ods"
    with zipfile.ZipFile(ods, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    assert refusal(ods).code == "not_xlsx"
    broken = tmp_path / "broken.xlsx"
    data = (write_workbook(tmp_path / "ok.xlsx", {"S": [["Name"], ["Anna"]]})).read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    assert refusal(broken).code == "damaged_xlsx"
    csv_file = write_csv(tmp_path / "list.csv", POLISH)
    assert refusal(csv_file, file_format="xlsx").code == "not_xlsx"
    assert refusal(tmp_path / "ok.xlsx", file_format="csv").code == "binary"


def test_empty_and_oversized_files_are_refused(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert refusal(empty).code == "empty"
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"\xef\xbb\xbf\r\n  \r\n")
    assert refusal(blank).code == "empty"
    big = write_csv(tmp_path / "big.csv", [["Email"]] + [["a@example.com"]] * 100_000)
    error = refusal(big, max_bytes=1_000_000)
    assert (error.code, error.params) == ("too_large", {"size": 2, "limit": 1})


def test_a_first_row_of_data_is_not_taken_for_headings(tmp_path):
    path = write_csv(tmp_path / "list.csv", [["Anna", "anna@example.com"], ["Jan", "j@x.pl"]])
    error = refusal(path)
    assert (error.code, error.params) == ("no_header", {"value": "anna@example.com"})
    assert "anna@example.com" in str(error)
    phones = write_csv(tmp_path / "phones.csv", [["Anna", "+48 601 234 567"]])
    assert refusal(phones).code == "no_header"


def test_blank_and_duplicate_headings_are_named(tmp_path):
    blank = write_csv(tmp_path / "blank.csv", [["Name", "", "Email", " ", "Phone"], ["a"] * 5])
    error = refusal(blank)
    assert (error.code, error.params) == ("blank_header", {"columns": "B, D"})
    assert "B, D" in str(error)
    twice = write_csv(tmp_path / "twice.csv", [["Email", "Name", " Email "], ["a", "b", "c"]])
    error = refusal(twice)
    assert (error.code, error.params) == (
        "duplicate_header",
        {"header": "Email", "columns": "A, C"},
    )
    assert "“Email”" in str(error) and "A, C" in str(error)


def test_too_many_columns_are_refused(tmp_path):
    path = write_csv(tmp_path / "wide.csv", [[f"Column {i}" for i in range(60)], ["x"] * 60])
    error = refusal(path, max_columns=50)
    assert (error.code, error.params) == ("too_many_columns", {"count": 60, "limit": 50})


def test_ragged_rows_are_row_problems_not_a_crash(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text(
        "Name,Email,City\r\n"
        "Anna,anna@example.com,Kraków\r\n"
        "Jan,jan@example.com,Warszawa,ul. Długa 5, m. 3\r\n"  # an unquoted comma
        "Ewa,ewa@example.com\r\n"
        "Olga,olga@example.com,Gdańsk,,\r\n",  # trailing empty cells are harmless
        encoding="utf-8",
    )
    _headers, rows = read_all(path)
    assert [(row.number, row.values) for row in rows] == [
        (2, ["Anna", "anna@example.com", "Kraków"]),
        (3, ["Jan", "jan@example.com", "Warszawa"]),
        (4, ["Ewa", "ewa@example.com", ""]),
        (5, ["Olga", "olga@example.com", "Gdańsk"]),
    ]
    problems = [problem.to_dict() for row in rows for problem in row.problems]
    assert problems == [
        {
            "row": 3,
            "column": "",
            "field": "",
            "code": "too_many_cells",
            "params": {"cells": 5, "columns": 3},
            "severity": "error",
        },
        {
            "row": 4,
            "column": "",
            "field": "",
            "code": "too_few_cells",
            "params": {"cells": 2, "columns": 3},
            "severity": "error",
        },
    ]
    assert "5 cells" in str(rows[1].problems[0].message)


@pytest.mark.parametrize("size", [1_000_000, MAX_FIELD_CHARS + 10])
def test_a_huge_single_field_gets_a_clear_message(tmp_path, size):
    path = tmp_path / "huge.csv"
    path.write_text(
        'Name,Note\r\nAnna,short\r\nJan,"' + "x" * size + '"\r\nEwa,ok\r\n', encoding="utf-8"
    )
    with open_table(path) as table:
        rows = iter(table)
        assert next(rows).values == ["Anna", "short"]
        with pytest.raises(ImportFileError) as caught:
            next(rows)
    assert (caught.value.code, caught.value.params) == (
        "field_too_large",
        {"row": 3, "limit": MAX_FIELD_CHARS},
    )
    assert "Row 3" in str(caught.value)


def test_an_unclosed_quote_does_not_swallow_the_file(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('Name,Note\r\nAnna,"never closed\r\n' + "Jan,fine\r\n" * 20_000)
    error = refusal(path)
    assert (error.code, error.params["row"]) == ("field_too_large", 2)


def test_an_endless_line_is_refused_without_reading_it_whole(tmp_path):
    path = tmp_path / "line.csv"
    path.write_text("Name,Note\r\n" + "Anna," * 400_000 + "\r\n")
    error = refusal(path)
    assert (error.code, error.params["row"]) == ("line_too_long", 2)


def test_bytes_outside_the_encoding_later_in_the_file_name_the_row(tmp_path):
    path = tmp_path / "mixed.csv"
    # 70 KB of ASCII (beyond the detection sample), then a Windows-1250 "ł".
    body = "Name,City\r\n" + "Anna,Krakow\r\n" * 6000
    path.write_bytes(body.encode() + "Paweł,Łódź\r\n".encode("windows-1250"))
    with open_table(path) as table:
        assert table.encoding == "utf-8"
        with pytest.raises(ImportFileError) as caught:
            list(table)
    assert caught.value.code == "decode"
    assert caught.value.params["encoding"] == "utf-8"
    assert caught.value.params["row"] == 6002
    with open_table(path, encoding="windows-1250") as table:
        assert list(table)[-1].values == ["Paweł", "Łódź"]
    chinese = write_csv(tmp_path / "chinese.csv", CHINESE, encoding="gb18030")
    error = refusal(chinese, encoding="utf-8")  # the owner's choice is wrong from row 1
    assert (error.code, error.params) == ("decode", {"row": 1, "encoding": "utf-8"})


def test_errors_carry_lazy_messages_that_can_be_stored():
    error = ImportFileError("blank_header", columns="C")
    assert isinstance(error.message, LazyString)
    assert error.to_dict() == {"code": "blank_header", "params": {"columns": "C"}}
    assert "C" in str(error.message)


def test_a_table_can_be_read_twice_and_reports_progress(tmp_path):
    path = write_csv(tmp_path / "list.csv", [["Email"]] + [[f"a{i}@example.com"] for i in range(5)])
    with open_table(path) as table:
        assert table.fraction_read() == 0.0
        first = [row.values for row in table]
        assert table.fraction_read() == 1.0
        assert [row.values for row in table] == first
        rows = iter(table)
        next(rows)  # an iteration left half-way is closed with the table
    assert len(first) == 5


# --- Memory -------------------------------------------------------------------------------


def test_reading_a_large_file_keeps_memory_flat(tmp_path):
    """200,000 rows (about 30 MB): the peak of Python allocations stays at a few MB.

    bench/import_parse_bench.py --memory-rows 1000000 measures a 1,000,000-row file."""
    path = tmp_path / "large.csv"
    line = "'{0},Anna,Nowak,anna{0}@example.com,yes,,ul. Długa 5,,Kraków,MZ,PL,'30-001,'+48601234567,,no,10.00,1,,no,\"vip, b2b\"\r\n"
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write(
            "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
            "Default Address Address1,Default Address Address2,Default Address City,"
            "Default Address Province Code,Default Address Country Code,Default Address Zip,"
            "Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,"
            "Tax Exempt,Tags\r\n"
        )
        for i in range(200_000):
            file.write(line.format(i))
    assert path.stat().st_size > 20_000_000
    tracemalloc.start()
    try:
        count = 0
        with open_table(path) as table:
            for row in table:
                count += 1
                assert not row.problems
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert peak < 3 * 1_048_576, f"peak {peak / 1_048_576:.1f} MiB"
