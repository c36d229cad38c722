"""Turning imported rows into customers and orders: normalised values and per-row problems.

Files are synthetic and written into tmp_path; header rows are those of the real exports
(shared/data/import-formats.md). No database is involved.
"""

import csv
import random
import tracemalloc
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import phonenumbers
import pytest

from portal import customers
from portal.imports.contacts import ContactValidator
from portal.imports.mapping import suggest
from portal.imports.problems import Problem
from portal.imports.reading import open_table
from portal.imports.rows import RowOptions, RowReader, group_orders
from portal.imports.values import (
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
from tests.test_import_mapping import SHOPIFY_CUSTOMERS, SHOPIFY_ORDERS

HYPERLINK = '=HYPERLINK("http://x","y")'


def write_rows(path, headers, records: list[dict]):
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(headers)
        for record in records:
            writer.writerow([record.get(header, "") for header in headers])
    return path


def read_customers(path, options=None):
    with open_table(path) as table:
        reader = RowReader(table.headers, suggest(table.headers), options)
        return [reader.read(row) for row in table]


def problems_of(results) -> list[tuple]:
    return [
        (p.row_number, p.column_header, p.field, p.code, p.severity)
        for _customer, problems in results
        for p in problems
    ]


def test_a_shopify_customers_export(tmp_path):
    path = write_rows(
        tmp_path / "customers_export.csv",
        SHOPIFY_CUSTOMERS,
        [
            {
                "Customer ID": "'7493183373541",
                "First Name": "Anna",
                "Last Name": "Nowak",
                "Email": "Anna.Nowak@Example.COM",
                "Accepts Email Marketing": "yes",
                "Default Address Address1": "ul. Długa 5",
                "Default Address Address2": "m. 3",
                "Default Address City": "Kraków",
                "Default Address Province Code": "MA",
                "Default Address Country Code": "PL",
                "Default Address Zip": "'30-001",
                "Default Address Phone": "'+48601234567",
                "Phone": "'+48 601 234 567",
                "Accepts SMS Marketing": "no",
                "Total Spent": "120.50",
                "Note": HYPERLINK,
                "Tags": "vip, newsletter, Stały klient",
            },
            {
                "Customer ID": "'7493183373542",
                "First Name": "小明",
                "Last Name": "王",
                "Default Address Country Code": "CN",
                "Phone": "'+8613812345678",
                "Accepts SMS Marketing": "yes",
                "Tags": "vip",
            },
            {
                "Customer ID": "'7493183373543",
                "First Name": "Иван",
                "Last Name": "Петров",
                "Email": "ivan@example.ru",
                "Default Address Phone": "'+7 912 345-67-89",
                "Default Address Country Code": "RU",
                "Tags": "постоянный клиент",
            },
        ],
    )
    (anna, anna_problems), (wang, wang_problems), (ivan, ivan_problems) = read_customers(path)
    assert anna_problems == wang_problems == ivan_problems == []
    assert anna.to_dict() == {
        "row_number": 2,
        "given_name": "Anna",
        "family_name": "Nowak",
        "name_order": "given_first",
        "company": "",
        "emails": [("Anna.Nowak@example.com", "anna.nowak@example.com")],
        "phones": [("+48 601 234 567", "+48601234567")],  # two columns, one number
        "address_line1": "ul. Długa 5",
        "address_line2": "m. 3",
        "postal_code": "30-001",
        "city": "Kraków",
        "region": "MA",
        "country": "PL",
        "birth_date": None,
        "note": HYPERLINK,  # data, not a formula: kept as text
        "tags": ["vip", "newsletter", "stały klient"],
        "preferred_language": "",
        "external_id": "7493183373541",
        "accepts_email_marketing": True,
        "accepts_sms_marketing": False,
        "created_at": None,
    }
    assert (wang.display_name, wang.name_order, wang.phones) == (
        "王小明",
        "family_first",
        [("+86 138 1234 5678", "+8613812345678")],
    )
    assert (wang.emails, wang.accepts_email_marketing, wang.accepts_sms_marketing) == (
        [],
        None,
        True,
    )
    assert (ivan.display_name, ivan.phones[0][1], ivan.tags) == (
        "Иван Петров",
        "+79123456789",
        ["постоянный клиент"],
    )


def test_every_problem_names_its_row_and_column(tmp_path):
    headers = [
        "Imię",
        "Nazwisko",
        "E-mail",
        "Telefon",
        "Data urodzenia",
        "Newsletter",
        "Kraj",
        "Język",
        "Firma",
    ]
    path = write_rows(
        tmp_path / "klienci.csv",
        headers,
        [
            {"Imię": "Jan", "E-mail": "jan@@example", "Telefon": "brak", "Newsletter": "maybe"},
            {"Telefon": "+999 123 456 789", "Data urodzenia": "31.02.1990"},
            {"Nazwisko": "Kowalska", "Telefon": "123 456", "Kraj": "Narnia", "Język": "Klingon"},
            {"Firma": "x" * 201, "E-mail": "ok@example.com", "Data urodzenia": "yesterday"},
            {"Imię": "Ewa", "Telefon": "+48 601 234 567; 22 123 45 67", "Kraj": "Polska"},
        ],
    )
    results = read_customers(path)
    assert problems_of(results) == [
        (2, "E-mail", "email", "invalid_email", "error"),
        (2, "Telefon", "phone", "phone_not_a_number", "error"),
        (2, "Newsletter", "accepts_email_marketing", "invalid_yes_no", "error"),
        (3, "Telefon", "phone", "phone_unknown_country_code", "error"),
        (3, "Data urodzenia", "birth_date", "invalid_date", "error"),
        (3, "", "", "missing_name", "error"),
        (4, "Telefon", "phone", "phone_invalid", "error"),
        (4, "Kraj", "country", "unknown_country", "warning"),
        (4, "Język", "preferred_language", "unknown_language", "warning"),
        (5, "Data urodzenia", "birth_date", "invalid_date", "error"),
        (5, "Firma", "company", "too_long", "error"),
    ]
    ewa = results[4][0]
    assert [e164 for _shown, e164 in ewa.phones] == ["+48601234567", "+48221234567"]
    assert ewa.country == "PL"
    invalid_phone = results[2][1][0]
    assert invalid_phone.params == {"value": "123 456", "region": "PL"}
    assert "“123 456”" in str(invalid_phone.message)
    assert "PL" in str(invalid_phone.message)
    # A row with only an e-mail address is a customer (no name needed).
    assert not any(p.code == "missing_name" for p in results[3][1])


def test_problems_are_stored_as_codes_and_shown_as_messages():
    problem = Problem(7, "E-mail", "email", "invalid_email", {"value": "a@@b"})
    assert Problem.from_dict(problem.to_dict()) == problem
    assert str(problem.message) == "“a@@b” is not a valid e-mail address."
    assert problem.is_error


def test_values_that_look_like_formulas_are_kept_as_text(tmp_path):
    path = write_rows(
        tmp_path / "list.csv",
        ["Name", "Company", "Phone", "Note", "Tags"],
        [
            {
                "Name": HYPERLINK,
                "Company": "-Acme+",
                "Phone": "+48 601 234 567",
                "Note": "@SUM(1+1)",
                "Tags": "=cmd|' /C calc'!A0, safe",
            },
            {"Name": "\t=1+2", "Company": "\r+1"},
        ],
    )
    (first, first_problems), (second, _problems) = read_customers(path)
    assert first_problems == []
    assert first.given_name == HYPERLINK  # kept whole, not split at its comma
    assert (first.company, first.note) == ("-Acme+", "@SUM(1+1)")
    assert first.phones == [("+48 601 234 567", "+48601234567")]  # "+48…" is a phone
    assert first.tags == ["=cmd|' /c calc'!a0", "safe"]
    assert (second.given_name, second.company) == ("=1+2", "+1")  # surrounding space trimmed


def test_options_set_the_phone_region_date_order_and_time_zone(tmp_path):
    path = write_rows(
        tmp_path / "list.csv",
        ["Name", "Phone", "Birthday", "Created at"],
        [{"Name": "Ann Lee", "Phone": "(212) 555-0123", "Birthday": "03/04/1990",
          "Created at": "03/04/2024 9:15 PM"}],
    )  # fmt: skip
    options = RowOptions(default_region="US", day_first=False, timezone="America/New_York")
    ((ann, problems),) = read_customers(path, options)
    assert problems == []
    assert ann.phones == [("+1 212-555-0123", "+12125550123")]
    assert ann.birth_date == date(1990, 3, 4)
    assert ann.created_at == datetime(2024, 3, 5, 2, 15)  # 21:15 in New York is 02:15 UTC
    assert RowOptions.from_dict(options.to_dict()) == options


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("王小明", ("小明", "王", "family_first")),
        ("欧阳娜娜", ("娜娜", "欧阳", "family_first")),
        ("王 小明", ("小明", "王", "family_first")),
        ("Иванов Иван Иванович", ("Иван Иванович", "Иванов", "family_first")),
        ("Иван Иванович Иванов", ("Иван Иванович", "Иванов", "given_first")),
        ("Anna Nowak", ("Anna", "Nowak", "given_first")),
        ("Anna Maria  Nowak-Kowalska", ("Anna Maria", "Nowak-Kowalska", "given_first")),
        ("Nowak, Anna", ("Anna", "Nowak", "given_first")),
        ("Ludwig van Beethoven", ("Ludwig", "van Beethoven", "given_first")),
        ("Madonna", ("Madonna", "", "given_first")),
    ],
)
def test_full_names_are_split_by_script_and_order(text, expected):
    assert split_full_name(text) == expected


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1234.56", "1234.56"),
        ("1234,56", "1234.56"),
        ("1 234,56", "1234.56"),
        ("1\u00a0234,56 zł", "1234.56"),
        ("1,234.56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1'234.50", "1234.50"),
        ("$12", "12"),
        ("PLN 12,50", "12.50"),
        ("12.50 EUR", "12.50"),
        ("руб. 100", "100"),
        ("¥88", "88"),
        ("-12,5", "-12.5"),
        ("(12.50)", "-12.50"),
        ("1,234", "1234"),  # one separator before three digits groups thousands
        ("1.234.567", "1234567"),
        ("0,500", "0.500"),
        ("12,5", "12.5"),
        (".5", "0.5"),
    ],
)
def test_amounts_as_people_and_exports_write_them(text, amount):
    assert parse_amount(text) == Decimal(amount)


@pytest.mark.parametrize("text", ["abc", "12a34", "1 2 3 x 4", "--5", "(12", "99999999999999"])
def test_what_is_not_an_amount(text):
    with pytest.raises(ValueError):
        parse_amount(text)


def test_quantities():
    assert parse_quantity("2") == Decimal(2)
    assert parse_quantity("1,5") == Decimal("1.5")
    with pytest.raises(ValueError):
        parse_quantity("two")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-31", date(2024, 3, 31)),
        ("2024/3/31", date(2024, 3, 31)),
        ("31.03.2024", date(2024, 3, 31)),
        ("31/03/2024", date(2024, 3, 31)),
        ("03/31/2024", date(2024, 3, 31)),  # 31 cannot be a month
        ("04/03/2024", date(2024, 3, 4)),  # day first by default
        ("31.03.85", date(1985, 3, 31)),
        ("2024年3月31日", date(2024, 3, 31)),
        ("1990-01-02 14:30:00", date(1990, 1, 2)),
    ],
)
def test_dates(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "31.02.2024", "2024-13-01", "12/12", "0001-01-01"])
def test_what_is_not_a_date(text):
    with pytest.raises(ValueError):
        parse_date(text)


def test_datetimes_come_out_as_naive_utc():
    assert parse_datetime("2024-01-15 10:23:45 +0100") == datetime(2024, 1, 15, 9, 23, 45)
    assert parse_datetime("2024-01-15T10:23:45Z") == datetime(2024, 1, 15, 10, 23, 45)
    assert parse_datetime("2024-01-15T10:23:45.123-05:00") == datetime(2024, 1, 15, 15, 23, 45)
    warsaw = ZoneInfo("Europe/Warsaw")
    assert parse_datetime("15.07.2024 12:00", zone=warsaw) == datetime(2024, 7, 15, 10, 0)
    assert parse_datetime("2024年7月15日 12:00", zone=warsaw) == datetime(2024, 7, 15, 10, 0)


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        *[
            (word, True)
            for word in ["yes", "YES", "true", "1", "да", "Tak", "是", "subscribed", "x"]
        ],
        *[(word, False) for word in ["no", "False", "0", "нет", "NIE", "否", "not subscribed"]],
        ("maybe", None),
        ("2", None),
    ],
)
def test_yes_and_no_in_four_languages(text, answer):
    assert parse_yes_no(text) is answer


def test_countries_languages_and_currencies():
    for text in ("PL", "pl", "Poland", "Polska", "Польша", "波兰", "POL"):
        assert country_code(text) == "PL", text
    assert country_code("Россия") == country_code("Russia") == "RU"
    assert country_code("中国") == "CN"
    assert country_code("United Kingdom") == country_code("UK") == "GB"
    assert country_code("Narnia") == ""
    for text, code in (("pl-PL", "pl"), ("zh_CN", "zh"), ("Русский", "ru"), ("English", "en")):
        assert language_code(text) == code
    assert language_code("polski") == language_code("польский") == "pl"
    assert language_code("中文") == "zh"
    assert [currency_code(c) for c in ("pln", "zł", "€", "元", "Złoty")] == [
        "PLN",
        "PLN",
        "EUR",
        "CNY",
        "",
    ]


# --- Shopify orders -----------------------------------------------------------------------


def shopify_orders_file(path):
    return write_rows(
        path,
        SHOPIFY_ORDERS,
        [
            {
                "Name": "#1001",
                "Email": "anna@example.com",
                "Financial Status": "paid",
                "Accepts Marketing": "yes",
                "Currency": "PLN",
                "Total": "219.00",
                "Created at": "2024-03-05 14:02:11 +0100",
                "Lineitem quantity": "2",
                "Lineitem name": "Kubek ceramiczny",
                "Lineitem price": "49.50",
                "Billing Name": "Anna Nowak",
                "Billing City": "Kraków",
                "Billing Country": "PL",
                "Billing Phone": "'+48601234567",
                "Shipping Name": "Jan Kowalski",  # a gift: not the customer
                "Shipping Phone": "+48 22 123 45 67",
                "Note Attributes": "gift: yes\nmessage: Happy birthday, Jan!\n=1+1",
                "Location": "Sklep Kraków",
            },
            {
                "Name": "#1001",
                "Lineitem quantity": "1",
                "Lineitem name": "Herbata, 100 g",
                "Lineitem price": "120.00",
            },
            {
                "Name": "#1002",
                "Email": "wang@example.cn",
                "Currency": "CNY",
                "Total": "88.00",
                "Created at": "2024-03-06 09:00:00 +0800",
                "Lineitem quantity": "1",
                "Lineitem name": "茶具",
                "Lineitem price": "88.00",
                "Billing Name": "王小明",
            },
            {
                "Name": "#1003",
                "Email": "ewa@example.com",
                "Currency": "EUR",
                "Total": "abc",
                "Created at": "yesterday",
                "Lineitem quantity": "1",
                "Lineitem name": "Coffee",
                "Lineitem price": "12.00",
                "Billing Name": "Ewa Zielińska",
            },
            {"Name": "#1003", "Lineitem quantity": "one", "Lineitem name": "Cake"},
        ],
    )


def test_shopify_orders_are_grouped_into_orders_with_lines(tmp_path):
    path = shopify_orders_file(tmp_path / "orders_export.csv")
    with open_table(path) as table:
        reader = RowReader(table.headers, suggest(table.headers))
        orders = list(group_orders(table, reader))
    assert [(o.order_number, o.row_number, o.last_row_number) for o, _ in orders] == [
        ("#1001", 2, 3),
        ("#1002", 4, 4),
        ("#1003", 5, 6),
    ]
    first, problems = orders[0]
    assert problems == []
    assert (first.ordered_at, first.currency, first.total, first.location) == (
        datetime(2024, 3, 5, 13, 2, 11),
        "PLN",
        Decimal("219.00"),
        "Sklep Kraków",
    )
    assert [(line.row_number, line.product, line.quantity, line.unit_price) for line in first.lines] == [
        (2, "Kubek ceramiczny", Decimal(2), Decimal("49.50")),
        (3, "Herbata, 100 g", Decimal(1), Decimal("120.00")),
    ]  # fmt: skip
    anna = first.customer
    assert (anna.given_name, anna.family_name, anna.emails[0][1]) == (
        "Anna",
        "Nowak",
        "anna@example.com",
    )
    assert anna.phones == [("+48 601 234 567", "+48601234567")]  # not the shipping phone
    assert (anna.city, anna.country, anna.accepts_email_marketing) == ("Kraków", "PL", True)
    wang = orders[1][0].customer
    assert (wang.display_name, orders[1][0].ordered_at) == ("王小明", datetime(2024, 3, 6, 1))
    third, third_problems = orders[2]
    assert [(p.row_number, p.column_header, p.code) for p in third_problems] == [
        (5, "Total", "invalid_amount"),
        (5, "Created at", "invalid_date"),
        (6, "Lineitem quantity", "invalid_quantity"),
    ]
    assert [line.product for line in third.lines] == ["Coffee", "Cake"]


def test_orders_are_yielded_as_soon_as_they_end(tmp_path):
    path = shopify_orders_file(tmp_path / "orders_export.csv")
    consumed = []
    with open_table(path) as table:
        reader = RowReader(table.headers, suggest(table.headers))

        def counted():
            for row in table:
                consumed.append(row.number)
                yield row

        orders = group_orders(counted(), reader)
        first, _problems = next(orders)
        # #1001 is complete once the first row of #1002 is seen, and no later.
        assert first.order_number == "#1001"
        assert consumed == [2, 3, 4]
        assert next(orders)[0].order_number == "#1002"
        assert consumed == [2, 3, 4, 5]


# --- The fast paths give the same answers as the staff forms --------------------------------


def phone_samples(rng) -> list[str]:
    samples = []
    regions = ["PL", "RU", "UA", "BY", "CN", "US", "GB", "DE", "FR", "IT", "CZ", "BR", "IN",
               "JP", "AU", "AR", "MX", "NL", "ES", "KZ", "HK", "TW", "CH", "SE"]  # fmt: skip
    for region in regions:
        for kind in phonenumbers.PhoneNumberType.values():
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            samples += [e164, national, e164[:-1], e164 + "7", national.replace(" ", "")]
            digits = e164[1:]
            for _ in range(6):  # neighbours of a valid number: some valid, some not
                position = rng.randrange(len(digits))
                mutated = digits[:position] + str(rng.randrange(10)) + digits[position + 1 :]
                samples += ["+" + mutated, mutated[len(str(number.country_code)) :]]
    for _ in range(1500):
        length = rng.randrange(6, 16)
        digits = "".join(str(rng.randrange(10)) for _ in range(length))
        samples += ["+" + digits, digits, f"+48 {digits[:9]}", f"8 {digits[:10]}", "00" + digits]
    return samples


@pytest.mark.parametrize("region", ["PL", "RU", "US", "CN", "DE"])
def test_the_fast_phone_path_agrees_with_phonenumbers(region):
    validator = ContactValidator(region)
    fast_hits = 0
    for text in phone_samples(random.Random(region)):
        fast = validator._fast_phone(text)
        if fast is None:
            continue
        fast_hits += 1
        assert fast == customers.normalize_phone(text, region), text
    assert fast_hits > 500  # the fast path is really taken


def test_the_fast_email_path_agrees_with_email_validator():
    rng = random.Random(3)
    locals_ = ["anna", "Anna.Nowak", "a+tag", "o'brien", "x_y-z", "a..b", ".a", "a.", "a b",
               '"quoted"', "ąś", "Иван", "王", "a" * 64, "a" * 65, "a=b", "{x}", "#!$%&*/?^`|~"]  # fmt: skip
    domains = ["example.com", "EXAMPLE.com", "mail.example.co.uk", "localhost", "test.test",
               "a.local", "example.invalid", "x.onion", "123.com", "1.2.3.4", "[1.2.3.4]",
               "-bad.com", "bad_.com", "b.c", "münchen.de", "пример.рф", "例子.中国",
               "xn--mnchen-3ya.de", "a" * 63 + ".com", "a" * 64 + ".com", "x." + "b" * 250,
               "example", "exa mple.com", "ex..ample.com"]  # fmt: skip
    addresses = [f"{local}@{domain}" for local in locals_ for domain in domains]
    addresses += ["plain", "@example.com", "anna@", "a@b@c.com", "anna@@example.com"]
    addresses += [
        "".join(rng.choice("abcXYZ.+-_'@") for _ in range(rng.randrange(3, 20))) + "@ex.com"
        for _ in range(300)
    ]
    validator = ContactValidator("PL")
    for address in addresses:
        try:
            expected = customers.normalize_email(address)
        except customers.InvalidEmail:
            with pytest.raises(customers.InvalidEmail):
                validator.email(address)
        else:
            assert validator.email(address) == expected, address


def test_validating_many_rows_keeps_memory_flat(tmp_path):
    """60,000 distinct customers, some with the same bad phone: nothing piles up."""
    path = tmp_path / "many.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(SHOPIFY_CUSTOMERS)
        for i in range(60_000):
            row = dict.fromkeys(SHOPIFY_CUSTOMERS, "")
            row.update(
                {
                    "Customer ID": f"'{i}",
                    "First Name": "Anna",
                    "Email": f"anna{i}@example{i % 5000}.com",
                    "Phone": "'12" if i % 10 == 0 else f"'+48601{i:06d}",
                    "Tags": "vip, b2b",
                }
            )
            writer.writerow(row.values())
    tracemalloc.start()
    try:
        with open_table(path) as table:
            reader = RowReader(table.headers, suggest(table.headers))
            for row in table:
                customer, problems = reader.read(row)
                assert [p.code for p in problems] == ([] if customer.phones else ["phone_invalid"])
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * 1_048_576, f"peak {peak / 1_048_576:.1f} MiB"
