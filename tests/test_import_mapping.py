"""Matching the columns of an imported file to Kartoteka's fields.

Header rows of other tools' exports are those in shared/data/import-formats.md.
"""

import json

import pytest
from flask_babel import LazyString

from portal.imports.mapping import (
    FIELDS,
    IGNORE,
    MULTIPLE,
    Mapping,
    detect_source,
    header_key,
    suggest,
)


def headings(header_row: str) -> list[str]:
    return header_row.split(",")


SHOPIFY_CUSTOMERS = headings(
    "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,"
    "Default Address Address1,Default Address Address2,Default Address City,"
    "Default Address Province Code,Default Address Country Code,Default Address Zip,"
    "Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,Tax Exempt,"
    "Tags"
)
SHOPIFY_CUSTOMERS_NEWER = [
    *SHOPIFY_CUSTOMERS,
    "Accepts WhatsApp Marketing",
    "Birthday (customer.metafields.facts.birth_date)",
]
SHOPIFY_LEGACY = headings(
    "First Name,Last Name,Email,Company,Address1,Address2,City,Province,Province Code,Country,"
    "Country Code,Zip,Phone,Accepts Marketing,Total Spent,Total Orders,Tags,Note,Tax Exempt"
)
SHOPIFY_ORDERS = headings(
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
    "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,"
    "Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,"
    "Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,"
    "Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,"
    "Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,"
    "Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,"
    "Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,"
    "Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,"
    "Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,"
    "Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,"
    "Payment ID,Payment Terms Name,Next Payment Due At,Payment References"
)
WOOCOMMERCE = headings(
    "Name,Username,Last Active,Sign Up,Email,Orders,Total Spend,AOV,Country / Region,City,"
    "Region,Postal Code"
)
WOOCOMMERCE_PLUGIN = headings(
    "customer_id,first_name,last_name,user_email,billing_first_name,billing_last_name,"
    "billing_company,billing_address_1,billing_address_2,billing_city,billing_state,"
    "billing_postcode,billing_country,billing_email,billing_phone,shipping_first_name,"
    "shipping_city,shipping_phone,date_created"
)
HUBSPOT = headings(
    "Record ID,First Name,Last Name,Email,Phone Number,Mobile Phone Number,Company Name,City,"
    "Country/Region,Contact owner,Lifecycle Stage,Lead Status,Create Date,"
    "Marketing contact status"
)
RUSSIAN = ["Имя", "Фамилия", "Телефон", "Эл. почта", "Город", "Дата рождения", "Примечание"]
POLISH = ["Imię", "Nazwisko", "Telefon", "E-mail", "Miasto", "Kod pocztowy", "Uwagi"]
CHINESE = ["姓名", "电话", "手机", "邮箱", "城市", "生日", "备注"]


@pytest.mark.parametrize(
    ("headers", "source"),
    [
        (SHOPIFY_CUSTOMERS, "shopify_customers"),
        (SHOPIFY_CUSTOMERS_NEWER, "shopify_customers"),
        (SHOPIFY_LEGACY, "shopify_customers"),
        (SHOPIFY_ORDERS, "shopify_orders"),
        (SHOPIFY_ORDERS[:60], "shopify_orders"),  # older exports stop earlier
        (WOOCOMMERCE, "woocommerce"),
        (WOOCOMMERCE_PLUGIN, "woocommerce"),
        (HUBSPOT, "hubspot"),
        (HUBSPOT[:4], "hubspot"),
        (RUSSIAN, "spreadsheet"),
        (POLISH, "spreadsheet"),
        (CHINESE, "spreadsheet"),
        (["Name", "Email", "Phone"], "spreadsheet"),
    ],
)
def test_it_recognises_the_export(headers, source):
    assert detect_source(headers) == source
    assert suggest(headers).source == source


def test_shopify_customers():
    columns = suggest(SHOPIFY_CUSTOMERS_NEWER).columns
    assert columns == {
        "Customer ID": "external_id",
        "First Name": "given_name",
        "Last Name": "family_name",
        "Email": "email",
        "Accepts Email Marketing": "accepts_email_marketing",
        "Default Address Company": "company",
        "Default Address Address1": "address_line1",
        "Default Address Address2": "address_line2",
        "Default Address City": "city",
        "Default Address Province Code": "region",
        "Default Address Country Code": "country",
        "Default Address Zip": "postal_code",
        "Default Address Phone": "phone",
        "Phone": "phone",
        "Accepts SMS Marketing": "accepts_sms_marketing",
        "Total Spent": IGNORE,
        "Total Orders": IGNORE,
        "Note": "note",
        "Tax Exempt": IGNORE,
        "Tags": "tags",
        "Accepts WhatsApp Marketing": IGNORE,
        "Birthday (customer.metafields.facts.birth_date)": IGNORE,
    }


def test_shopify_legacy_customers():
    columns = suggest(SHOPIFY_LEGACY).columns
    assert {h: f for h, f in columns.items() if f != IGNORE} == {
        "First Name": "given_name",
        "Last Name": "family_name",
        "Email": "email",
        "Company": "company",
        "Address1": "address_line1",
        "Address2": "address_line2",
        "City": "city",
        "Province": "region",
        "Country Code": "country",
        "Zip": "postal_code",
        "Phone": "phone",
        "Accepts Marketing": "accepts_email_marketing",
        "Tags": "tags",
        "Note": "note",
    }


def test_shopify_orders_map_the_order_the_lines_and_the_billing_customer():
    mapping = suggest(SHOPIFY_ORDERS)
    assert mapping.has_orders
    used = {h: f for h, f in mapping.columns.items() if f != IGNORE}
    assert used == {
        "Name": "order_number",
        "Email": "email",
        "Accepts Marketing": "accepts_email_marketing",
        "Currency": "currency",
        "Total": "order_total",
        "Created at": "order_date",
        "Lineitem quantity": "line_quantity",
        "Lineitem name": "line_product",
        "Lineitem price": "line_unit_price",
        "Billing Name": "full_name",
        "Billing Address1": "address_line1",
        "Billing Address2": "address_line2",
        "Billing Company": "company",
        "Billing City": "city",
        "Billing Zip": "postal_code",
        "Billing Province": "region",
        "Billing Country": "country",
        "Billing Phone": "phone",
        "Phone": "phone",
        "Location": "location",
    }
    assert mapping.errors() == []


def test_woocommerce_layouts():
    assert suggest(WOOCOMMERCE).columns == {
        "Name": "full_name",
        "Username": IGNORE,
        "Last Active": IGNORE,
        "Sign Up": "created_at",
        "Email": "email",
        "Orders": IGNORE,
        "Total Spend": IGNORE,
        "AOV": IGNORE,
        "Country / Region": "country",
        "City": "city",
        "Region": "region",
        "Postal Code": "postal_code",
    }
    plugin = suggest(WOOCOMMERCE_PLUGIN).columns
    assert {h: f for h, f in plugin.items() if f != IGNORE} == {
        "customer_id": "external_id",
        "first_name": "given_name",  # a plain "first_name" names it more clearly than billing_
        "last_name": "family_name",
        "user_email": "email",
        "billing_company": "company",
        "billing_address_1": "address_line1",
        "billing_address_2": "address_line2",
        "billing_city": "city",  # billing beats shipping
        "billing_state": "region",
        "billing_postcode": "postal_code",
        "billing_country": "country",
        "billing_email": "email",
        "billing_phone": "phone",
        "shipping_phone": "phone",
        "date_created": "created_at",
    }


def test_hubspot_contacts():
    used = {h: f for h, f in suggest(HUBSPOT).columns.items() if f != IGNORE}
    assert used == {
        "Record ID": "external_id",
        "First Name": "given_name",
        "Last Name": "family_name",
        "Email": "email",
        "Phone Number": "phone",
        "Mobile Phone Number": "phone",
        "Company Name": "company",
        "City": "city",
        "Country/Region": "country",
        "Create Date": "created_at",
    }


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            RUSSIAN,
            [
                "given_name",
                "family_name",
                "phone",
                "email",
                "city",
                "birth_date",
                "note",
            ],
        ),
        (
            POLISH,
            ["given_name", "family_name", "phone", "email", "city", "postal_code", "note"],
        ),
        (CHINESE, ["full_name", "phone", "phone", "email", "city", "birth_date", "note"]),
        (
            ["ФИО", "Моб. телефон", "E-mail", "Согласие на рассылку", "Теги", "Язык"],
            [
                "full_name",
                "phone",
                "email",
                "accepts_email_marketing",
                "tags",
                "preferred_language",
            ],
        ),
        (
            ["Imię i nazwisko", "Nr telefonu", "Adres e-mail", "Zgoda SMS", "Miejscowość"],
            ["full_name", "phone", "email", "accepts_sms_marketing", "city"],
        ),
        (
            ["客户姓名", "手机号码", "电子邮箱", "地址", "邮编", "国家", "标签"],
            ["full_name", "phone", "email", "address_line1", "postal_code", "country", "tags"],
        ),
        (
            ["Order number", "Order date", "Product", "Qty", "Unit price", "Currency", "Email"],
            [
                "order_number",
                "order_date",
                "line_product",
                "line_quantity",
                "line_unit_price",
                "currency",
                "email",
            ],
        ),
    ],
)
def test_common_headings_in_four_languages(headers, expected):
    mapping = suggest(headers)
    assert [mapping.columns[h] for h in headers] == expected
    assert mapping.errors() == []


def test_headings_match_whatever_their_case_spacing_and_punctuation():
    for header in ("E-mail", "e mail", " EMAIL ", "E_Mail", "e-mail:", "Эл. почта", "ЭЛ ПОЧТА"):
        assert suggest([header]).columns[header] == "email", header
    assert header_key("Imię") == header_key("imie") == "imie"
    assert header_key("Country / Region") == "countryregion"
    assert header_key("邮箱") == "邮箱"


def test_unknown_and_redundant_columns_are_ignored():
    headers = ["Name", "First name", "Last name", "Shoe size", "Favourite colour", "E-mail"]
    columns = suggest(headers).columns
    assert columns == {
        "Name": IGNORE,  # first and last name say it already
        "First name": "given_name",
        "Last name": "family_name",
        "Shoe size": IGNORE,
        "Favourite colour": IGNORE,
        "E-mail": "email",
    }
    # A single-column field goes to the clearest heading; phones may come from several.
    columns = suggest(["Customer", "Customer name", "Phone", "Mobile", "Store"]).columns
    assert columns == {
        "Customer": IGNORE,
        "Customer name": "full_name",
        "Phone": "phone",
        "Mobile": "phone",
        "Store": IGNORE,  # a shop location only means something for orders
    }


def test_a_mapping_is_json_and_a_saved_one_is_reused():
    mapping = suggest(SHOPIFY_CUSTOMERS)
    data = json.loads(json.dumps(mapping.to_dict()))
    assert Mapping.from_dict(data) == mapping
    saved = Mapping.from_dict({"columns": {"Note": "tags", "Total Spent": "note"}})
    reused = suggest(SHOPIFY_CUSTOMERS, saved=saved)
    assert reused.columns["Note"] == "tags"
    assert reused.columns["Total Spent"] == "note"
    assert reused.columns["Email"] == "email"


def test_errors_say_what_the_owner_must_fix():
    mapping = Mapping(
        {"A": "email", "B": "given_name", "C": "given_name", "D": "shoe_size", "E": "phone"}
    )
    messages = [str(message) for message in mapping.errors()]
    assert len(messages) == 2
    assert any("shoe_size" in message for message in messages)
    assert any("Given name" in message and "B, C" in message for message in messages)
    assert all(isinstance(message, LazyString) for message in mapping.errors())
    nothing = Mapping({"A": "city", "B": IGNORE})
    assert [str(m) for m in nothing.errors()] == [
        "Choose at least one column for a name, company, e-mail address or phone number."
    ]
    orphan_lines = Mapping({"A": "email", "B": "line_product"})
    assert "order number" in str(orphan_lines.errors()[0])
    several_phones = Mapping({"A": "phone", "B": "phone", "C": "email", "D": "email"})
    assert several_phones.errors() == []


def test_every_field_has_a_label_and_multi_column_fields_are_known():
    assert FIELDS.keys() >= MULTIPLE
    for name, label in FIELDS.items():
        assert isinstance(label, LazyString)
        assert str(label), name
    positions = Mapping({"Tel": "phone", "Mobile": "phone", "X": IGNORE}).columns_for(
        ["X", "Tel", "Mobile", "Unlisted"]
    )
    assert positions == {"phone": [1, 2]}
