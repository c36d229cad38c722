"""Import parsing: how long reading, mapping and validating a Shopify customers CSV takes.

    .venv/bin/python bench/import_parse_bench.py [--rows 100000] [--runs 3]
                                                 [--memory-rows 1000000] [--xlsx-rows 20000]

Generates a Shopify-style customers export (the current header row, ids and phone numbers
prefixed with ', quoted tag lists, about 3% of rows with a bad e-mail or phone) in a
temporary folder, then times, per run: opening it (encoding, delimiter and headings), reading
every row, and reading plus validating every row into CustomerRows. Prints a table.

--memory-rows also generates a file of that many rows and reports the peak of Python
allocations (tracemalloc) while it is read and validated: it stays flat, whatever the size.
--xlsx-rows times the same for an XLSX workbook of that many rows.

No database is involved: this is the part of the import that comes before the writes
(target: well under 3 s per 100,000 rows, so the whole import fits in 10 s).
"""

import argparse
import csv
import platform
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.imports import mapping, reading, rows  # noqa: E402

# The header row of Shopify's current customers export (shared/data/import-formats.md).
HEADER_ROW = (
    "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
    "Default Address Address1,Default Address Address2,Default Address City,"
    "Default Address Province Code,Default Address Country Code,Default Address Zip,"
    "Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,"
    "Tax Exempt,Tags"
)
HEADERS = HEADER_ROW.split(",")
GIVEN = ["Anna", "Piotr", "Katarzyna", "Jan", "Zofia", "Иван", "Мария", "小明", "Olga", "Łukasz"]
FAMILY = ["Nowak", "Kowalski", "Wiśniewska", "Иванов", "Петрова", "王", "李", "Zieliński"]
CITIES = ["Warszawa", "Kraków", "Łódź", "Gdańsk", "Москва", "北京", "Poznań"]
DOMAINS = ["example.com", "example.pl", "mail.example.org", "shop.example.net"]
TAGS = ["vip", "newsletter", "wholesale", "stały klient", "b2b", "promo"]


def generate(path: Path, count: int, seed: int = 7) -> None:
    """A Shopify customers export of `count` synthetic customers."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(HEADERS)
        for i in range(count):
            mobile = f"+48{rng.choice('5678')}{rng.randrange(10_000_000, 99_999_999)}"
            email = f"customer{i}.{rng.randrange(1000)}@{rng.choice(DOMAINS)}"
            if i % 40 == 7:
                email = f"broken{i}@@example"  # a bad address now and then
            if i % 50 == 9:
                mobile = "12"  # and a bad phone
            writer.writerow(
                [
                    f"'{7_000_000_000_000 + i}",
                    rng.choice(GIVEN),
                    rng.choice(FAMILY),
                    email if i % 10 else "",
                    rng.choice(("yes", "no")),
                    "Example Sp. z o.o." if i % 17 == 0 else "",
                    f"ul. Długa {rng.randrange(1, 200)}",
                    f"m. {rng.randrange(1, 80)}" if i % 3 == 0 else "",
                    rng.choice(CITIES),
                    "MZ",
                    "PL",
                    f"'{rng.randrange(10, 99)}-{rng.randrange(100, 999)}",
                    f"'{mobile}",
                    f"'{mobile}" if i % 2 else "",
                    rng.choice(("yes", "no")),
                    f"{rng.randrange(0, 5000)}.{rng.randrange(100):02d}",
                    str(rng.randrange(0, 40)),
                    "Prefers e-mail" if i % 11 == 0 else "",
                    "no",
                    ", ".join(rng.sample(TAGS, rng.randrange(0, 3))),
                ]
            )


def read_only(path: Path) -> int:
    count = 0
    with reading.open_table(path) as table:
        for _row in table:
            count += 1
    return count


def read_and_validate(path: Path) -> tuple[int, int]:
    count = problems = 0
    with reading.open_table(path) as table:
        reader = rows.RowReader(table.headers, mapping.suggest(table.headers))
        for row in table:
            _customer, found = reader.read(row)
            count += 1
            problems += len(found)
    return count, problems


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def memory_peak(path: Path) -> tuple[int, float]:
    """(rows, peak MiB of Python allocations) while reading and validating the file."""
    tracemalloc.start()
    try:
        count, _problems = read_and_validate(path)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak / 1_048_576


def write_xlsx(source: Path, target: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Customers")
    with source.open(newline="", encoding="utf-8") as file:
        for values in csv.reader(file):
            sheet.append(values)
    workbook.save(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory-rows", type=int, default=0)
    parser.add_argument("--xlsx-rows", type=int, default=0)
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, {args.rows:,} rows")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "customers_export.csv"
        generate(path, args.rows)
        print(f"file: {path.stat().st_size / 1_048_576:.1f} MB")
        print(
            f"{'run':>3}  {'open':>7}  {'read':>7}  {'read+validate':>13}  {'rows/s':>9}  problems"
        )
        for run in range(1, args.runs + 1):
            opened, _table = timed(lambda: reading.open_table(path).close())
            read_seconds, _count = timed(read_only, path)
            seconds, (count, problems) = timed(read_and_validate, path)
            print(
                f"{run:>3}  {opened:>6.3f}s  {read_seconds:>6.2f}s  {seconds:>12.2f}s  "
                f"{count / seconds:>9,.0f}  {problems:,}"
            )
        if args.memory_rows:
            big = Path(folder) / "big.csv"
            generate(big, args.memory_rows)
            small = Path(folder) / "small.csv"
            generate(small, 10_000)
            for name, file in (("10,000 rows", small), (f"{args.memory_rows:,} rows", big)):
                count, peak = memory_peak(file)
                size = file.stat().st_size / 1_048_576
                print(f"memory, {name} ({size:.0f} MB): peak {peak:.2f} MiB traced ({count:,})")
        if args.xlsx_rows:
            source = Path(folder) / "for_xlsx.csv"
            generate(source, args.xlsx_rows)
            workbook = Path(folder) / "customers.xlsx"
            write_xlsx(source, workbook)
            seconds, (count, problems) = timed(read_and_validate, workbook)
            print(
                f"xlsx, {count:,} rows: read+validate {seconds:.2f}s "
                f"({count / seconds:,.0f} rows/s)"
            )


if __name__ == "__main__":
    main()
