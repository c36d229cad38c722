"""Synthetic files in the layouts of real exports, for the import tests (no real people)."""

import csv
import io

from openpyxl import Workbook

from tests.test_import_mapping import SHOPIFY_CUSTOMERS, SHOPIFY_ORDERS

__all__ = ["SHOPIFY_CUSTOMERS", "SHOPIFY_ORDERS", "csv_bytes", "shopify_customers", "xlsx_bytes"]


def csv_bytes(headers: list[str], records: list[dict], *, encoding="utf-8", delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    for record in records:
        writer.writerow([record.get(header, "") for header in headers])
    return out.getvalue().encode(encoding)


def xlsx_bytes(headers: list[str], records: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Клиенты"
    sheet.append(headers)
    for record in records:
        sheet.append(record)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def shopify_customer(
    customer_id: str,
    first: str,
    last: str,
    email: str = "",
    *,
    phone: str = "",
    accepts_email: str = "no",
    accepts_sms: str = "no",
    city: str = "",
    country: str = "",
    zip_code: str = "",
    tags: str = "",
    note: str = "",
) -> dict:
    """One row of a Shopify customers export, with its quirks: ids and phones behind a `'`."""
    return {
        "Customer ID": f"'{customer_id}",
        "First Name": first,
        "Last Name": last,
        "Email": email,
        "Accepts Email Marketing": accepts_email,
        "Default Address City": city,
        "Default Address Country Code": country,
        "Default Address Zip": zip_code,
        "Default Address Address1": f"ul. Testowa {customer_id[-2:]}" if city else "",
        "Phone": f"'{phone}" if phone else "",
        "Accepts SMS Marketing": accepts_sms,
        "Total Spent": "0.00",
        "Total Orders": "0",
        "Note": note,
        "Tax Exempt": "no",
        "Tags": tags,
    }


def shopify_customers() -> bytes:
    """Five customers as Shopify exports them: one with a bad e-mail, one with a bad phone."""
    return csv_bytes(
        SHOPIFY_CUSTOMERS,
        [
            shopify_customer(
                "7493183373541",
                "Zofia",
                "Wiśniewska",
                "zofia.w@example.com",
                phone="+48601234501",
                accepts_email="yes",
                city="Kraków",
                country="PL",
                zip_code="30-001",
                tags="vip, newsletter",
            ),
            shopify_customer(
                "7493183373542",
                "Ivan",
                "Petrov",
                "ivan.p@example.net",
                phone="+79161234502",
                accepts_email="no",
                accepts_sms="yes",
                city="Moskva",
                country="RU",
            ),
            shopify_customer("7493183373543", "Broken", "Mail", "broken-at-example.com"),
            shopify_customer(
                "7493183373544", "Li", "Na", "li.na@example.cn", phone="12", accepts_email="yes"
            ),
            shopify_customer(
                "7493183373545",
                "Marta",
                "Kowalczyk",
                "marta.k@example.com",
                accepts_email="yes",
                note="Prefers mornings",
            ),
        ],
    )
