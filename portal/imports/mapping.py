"""Which Kartoteka field each column of an imported file goes to.

    source = detect_source(table.headers)          # "shopify_customers", ..., "spreadsheet"
    mapping = suggest(table.headers)               # Mapping(source, {heading: field})
    mapping.to_dict()                              # JSON for ImportJob.mapping / saved mappings
    Mapping.from_dict(data).errors()               # what is wrong with an owner's choice

Headings are recognised case-, space-, accent- and punctuation-insensitively ("E-mail",
"e mail", "EMAIL" are one heading), first in the layout of the detected export (Shopify
customers, current and legacy; Shopify orders; WooCommerce's Analytics download and the
`billing_*`/`shipping_*` layout of its export plugins; HubSpot contacts), then among common
headings in English, Russian, Polish and Chinese. Columns nothing matches are "ignore".
"""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

IGNORE = "ignore"

# Every field a column can map to, in the order the mapping form lists them.
FIELDS = {
    "given_name": _l("Given name"),
    "family_name": _l("Family name"),
    "full_name": _l("Full name (split into given and family name)"),
    "company": _l("Company"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "address_line1": _l("Address line 1"),
    "address_line2": _l("Address line 2"),
    "postal_code": _l("Postal code"),
    "city": _l("City"),
    "region": _l("Region / province"),
    "country": _l("Country"),
    "birth_date": _l("Birth date"),
    "note": _l("Note"),
    "tags": _l("Tags"),
    "preferred_language": _l("Preferred language"),
    "external_id": _l("Customer ID in the other system"),
    "accepts_email_marketing": _l("Accepts e-mail marketing (yes/no)"),
    "accepts_sms_marketing": _l("Accepts SMS marketing (yes/no)"),
    "created_at": _l("Customer since"),
    "order_number": _l("Order number"),
    "order_date": _l("Order date"),
    "currency": _l("Currency"),
    "order_total": _l("Order total"),
    "line_quantity": _l("Line: quantity"),
    "line_product": _l("Line: product"),
    "line_unit_price": _l("Line: unit price"),
    "location": _l("Shop location"),
    IGNORE: _l("Do not import"),
}
ORDER_FIELDS = (
    "order_number",
    "order_date",
    "currency",
    "order_total",
    "line_quantity",
    "line_product",
    "line_unit_price",
    "location",
)
# Fields several columns may fill (Shopify has two phone columns, HubSpot phone and mobile);
# the values are combined. Every other field takes at most one column.
MULTIPLE = frozenset({"email", "phone", "tags", "note"})

SOURCES = {
    "shopify_customers": _l("Shopify customers export"),
    "shopify_orders": _l("Shopify orders export"),
    "woocommerce": _l("WooCommerce customers export"),
    "hubspot": _l("HubSpot contacts export"),
    "spreadsheet": _l("Spreadsheet"),
}

_ERRORS = {
    "unknown_field": _l("“%(field)s” is not a field a column can be imported into."),
    "several_columns": _l(
        "%(field)s is chosen for more than one column (%(columns)s); choose it for one."
    ),
    "nothing_to_import": _l(
        "Choose at least one column for a name, company, e-mail address or phone number."
    ),
    "order_without_number": _l(
        "Order columns are chosen but no column for the order number: choose one, or set the "
        "order columns to “Do not import”."
    ),
}


def header_key(text: str) -> str:
    """A heading reduced to what identifies it: lower case, no accents, spaces or punctuation.

    "E-mail" -> "email", "Эл. почта" -> "элпочта", "Imię" -> "imie", "邮箱" -> "邮箱".
    """
    text = unicodedata.normalize("NFKD", text.casefold().replace("ł", "l").replace("ё", "е"))
    return "".join(char for char in text if char.isalnum())


# --- Known exports -------------------------------------------------------------------------

_SHOPIFY_CUSTOMERS = {
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
    "Total Spent": IGNORE,  # derived from orders; the orders export brings the purchases
    "Total Orders": IGNORE,
    "Note": "note",
    "Tax Exempt": IGNORE,
    "Tags": "tags",
    "Accepts WhatsApp Marketing": IGNORE,
    # The legacy customers template.
    "Company": "company",
    "Address1": "address_line1",
    "Address2": "address_line2",
    "City": "city",
    "Province": "region",
    "Province Code": IGNORE,  # the same region as "Province", as a code
    "Country": IGNORE,  # the same country as "Country Code", by name
    "Country Code": "country",
    "Zip": "postal_code",
    "Accepts Marketing": "accepts_email_marketing",
}

_SHOPIFY_ORDERS = {
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
    # Everything else is about the order, its payment or its delivery (the shipping name
    # and phone may be someone else's: a gift), not about the customer.
    **dict.fromkeys(
        (
            "Financial Status",
            "Paid at",
            "Fulfillment Status",
            "Fulfilled at",
            "Subtotal",
            "Shipping",
            "Taxes",
            "Discount Code",
            "Discount Amount",
            "Shipping Method",
            "Lineitem compare at price",
            "Lineitem sku",
            "Lineitem requires shipping",
            "Lineitem taxable",
            "Lineitem fulfillment status",
            "Billing Street",
            "Shipping Name",
            "Shipping Street",
            "Shipping Address1",
            "Shipping Address2",
            "Shipping Company",
            "Shipping City",
            "Shipping Zip",
            "Shipping Province",
            "Shipping Country",
            "Shipping Phone",
            "Notes",
            "Note Attributes",
            "Cancelled at",
            "Payment Method",
            "Payment Reference",
            "Refunded Amount",
            "Vendor",
            "Outstanding Balance",
            "Employee",
            "Device ID",
            "Id",
            "Tags",
            "Risk Level",
            "Source",
            "Lineitem discount",
            "Receipt Number",
            "Duties",
            "Billing Province Name",
            "Shipping Province Name",
            "Payment ID",
            "Payment Terms Name",
            "Next Payment Due At",
            "Payment References",
        ),
        IGNORE,
    ),
}

_WOOCOMMERCE = {
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
    # Export plugins (the billing_*/shipping_* columns go through the common headings).
    "customer_id": "external_id",
    "user_id": "external_id",
    "user_email": "email",
    "user_registered": "created_at",
    "date_created": "created_at",
    "user_login": IGNORE,
    "display_name": IGNORE,
    "role": IGNORE,
}

_HUBSPOT = {
    "Record ID": "external_id",
    "First Name": "given_name",
    "Last Name": "family_name",
    "Email": "email",
    "Phone Number": "phone",
    "Mobile Phone Number": "phone",
    "Company Name": "company",
    "Street Address": "address_line1",
    "City": "city",
    "State/Region": "region",
    "Postal Code": "postal_code",
    "Country/Region": "country",
    "Create Date": "created_at",
    "Preferred language": "preferred_language",
    "Date of birth": "birth_date",
    # HubSpot's own bookkeeping, not the customer's data. "Marketing contact status" is
    # HubSpot's billing category, not the person's consent.
    **dict.fromkeys(
        (
            "Contact owner",
            "Lifecycle Stage",
            "Lead Status",
            "Marketing contact status",
            "Last Activity Date",
            "Associated Company",
            "Primary Associated Company ID",
        ),
        IGNORE,
    ),
}

_SOURCE_LAYOUTS = {
    "shopify_customers": _SHOPIFY_CUSTOMERS,
    "shopify_orders": _SHOPIFY_ORDERS,
    "woocommerce": _WOOCOMMERCE,
    "hubspot": _HUBSPOT,
}

# --- Common headings ----------------------------------------------------------------------

# Field -> headings as people write them in English, Russian, Polish and Chinese ("|" between).
_COMMON = {
    "given_name": "First name|Firstname|Given name|Forename|Name first|Имя|Imię|Imie|名|名字",
    "family_name": "Last name|Lastname|Surname|Family name|Name last|Фамилия|Nazwisko|姓",
    "full_name": (
        "Full name|Customer name|Client name|Contact name|Contact|ФИО|Ф.И.О.|"
        "Имя и фамилия|Фамилия и имя|Полное имя|Имя клиента|Клиент|Покупатель|"
        "Imię i nazwisko|Nazwisko i imię|Klient|Nazwa klienta|姓名|客户|客户姓名|客户名称|联系人"
    ),
    "company": (
        "Company|Company name|Organization|Organisation|Business|Firm|Компания|"
        "Организация|Фирма|Firma|Nazwa firmy|Przedsiębiorstwo|公司|公司名称|单位|企业"
    ),
    "email": (
        "Email|E-mail|Email address|E-mail address|Mail|Emails|Эл. почта|"
        "Электронная почта|Почта|Адрес электронной почты|Емейл|Имейл|Adres e-mail|"
        "Adres email|Poczta|Poczta e-mail|邮箱|电子邮件|电子邮箱|邮件|邮箱地址"
    ),
    "phone": (
        "Phone|Phone number|Telephone|Tel|Mobile|Mobile phone|Mobile number|Cell|"
        "Cell phone|Mobile phone number|Телефон|Тел|Мобильный|Мобильный телефон|"
        "Моб. телефон|Сотовый|Номер телефона|Telefon|Tel.|Telefon komórkowy|Komórka|"
        "Nr telefonu|Numer telefonu|电话|手机|手机号|手机号码|电话号码|联系电话"
    ),
    "address_line1": (
        "Address|Street|Street address|Address 1|Address line 1|Address1|Адрес|Улица|"
        "Adres|Ulica|Ulica i numer|地址|详细地址|街道"
    ),
    "address_line2": (
        "Address 2|Address line 2|Address2|Apartment|Адрес 2|Квартира|Adres 2|Nr lokalu|"
        "Mieszkanie|地址2"
    ),
    "postal_code": (
        "Zip|Zip code|Postal code|Postcode|Post code|Индекс|Почтовый индекс|Kod pocztowy|"
        "Kod|邮编|邮政编码"
    ),
    "city": "City|Town|Город|Населённый пункт|Miasto|Miejscowość|城市|市|所在城市",
    "region": "Region|State|Province|County|State/Region|Регион|Область|Край|Województwo|省|省份|地区",
    "country": "Country|Country code|Country/Region|Country / Region|Страна|Kraj|Państwo|国家|国家/地区",
    "birth_date": (
        "Birth date|Birthday|Date of birth|DOB|Birthdate|Дата рождения|День рождения|"
        "Data urodzenia|Urodziny|生日|出生日期"
    ),
    "note": (
        "Note|Notes|Comment|Comments|Remarks|Примечание|Примечания|Комментарий|Заметка|"
        "Заметки|Uwagi|Notatka|Notatki|Komentarz|备注|说明"
    ),
    "tags": "Tags|Tag|Labels|Теги|Метки|Tagi|Etykiety|标签",
    "preferred_language": "Language|Preferred language|Язык|Język|语言|首选语言",
    "external_id": (
        "Customer ID|Customer number|Client ID|Client number|Record ID|Contact ID|"
        "Код клиента|Номер клиента|ID клиента|Nr klienta|Numer klienta|ID klienta|客户编号|"
        "客户ID|会员编号"
    ),
    "accepts_email_marketing": (
        "Accepts email marketing|Accepts marketing|Email marketing|Newsletter|"
        "Email consent|Email opt-in|Marketing consent|Согласие на рассылку|Рассылка|"
        "Согласие на e-mail рассылку|Zgoda marketingowa|Zgoda na newsletter|"
        "Zgoda na e-mail|Newsletter zgoda|接受邮件营销|邮件订阅|订阅"
    ),
    "accepts_sms_marketing": (
        "Accepts SMS marketing|SMS marketing|SMS consent|SMS opt-in|Согласие на SMS|"
        "СМС рассылка|SMS рассылка|Zgoda SMS|Zgoda na SMS|接受短信营销|短信订阅"
    ),
    "created_at": (
        "Created at|Created|Date created|Created date|Create date|Sign up|Signup date|"
        "Registered|Registration date|Customer since|Дата создания|Дата регистрации|"
        "Data utworzenia|Data rejestracji|Klient od|创建时间|注册时间|注册日期"
    ),
    "order_number": (
        "Order number|Order no|Order ID|Receipt number|Invoice number|Номер заказа|"
        "Номер чека|Numer zamówienia|Nr zamówienia|Numer paragonu|订单号|订单编号"
    ),
    "order_date": (
        "Order date|Purchase date|Дата заказа|Дата покупки|Data zamówienia|Data zakupu|"
        "订单日期|下单时间|购买日期"
    ),
    "currency": "Currency|Валюта|Waluta|币种|货币",
    "order_total": (
        "Order total|Total amount|Сумма заказа|Wartość zamówienia|Kwota zamówienia|订单金额|"
        "订单总额"
    ),
    "line_quantity": "Quantity|Qty|Количество|Кол-во|Ilość|数量",
    "line_product": (
        "Product|Product name|Item|Item name|Товар|Наименование|Produkt|Nazwa produktu|"
        "Towar|商品|商品名称|产品"
    ),
    "line_unit_price": "Unit price|Price|Цена|Cena|Cena jednostkowa|单价",
    "location": "Location|Store|Shop|Магазин|Sklep|门店|店铺",
}
# Vague headings: used only when no clearer column asks for the same field.
_VAGUE = {
    "full_name": "Name|Customer|Client|Nazwa|名称",
    "external_id": "ID|Id|Number|Nr|Номер|编号",
    "created_at": "Date|Дата|Data|日期",
}
# Prefixes of export layouts ("billing_phone", "Default Address City", "Customer Email"):
# what follows is a common heading. Shipping details count less than billing details.
_PREFIXES = (
    ("billing", 0),
    ("defaultaddress", 0),
    ("customer", 0),
    ("contact", 0),
    ("client", 0),
    ("shipping", -1),
)


def _index(entries: dict[str, str]) -> dict[str, str]:
    return {
        header_key(name): field for field, names in entries.items() for name in names.split("|")
    }


_COMMON_KEYS = _index(_COMMON)
_VAGUE_KEYS = _index(_VAGUE)
_LAYOUT_KEYS = {
    source: {header_key(header): field for header, field in layout.items()}
    for source, layout in _SOURCE_LAYOUTS.items()
}


# --- Mapping ------------------------------------------------------------------------------


@dataclass
class Mapping:
    """Column heading -> field (a key of FIELDS); `source` is the export it was made for."""

    columns: dict[str, str] = field(default_factory=dict)
    source: str = "spreadsheet"

    def to_dict(self) -> dict:
        return {"source": self.source, "columns": dict(self.columns)}

    @classmethod
    def from_dict(cls, data: dict) -> "Mapping":
        return cls(
            columns={str(k): str(v) for k, v in (data.get("columns") or {}).items()},
            source=str(data.get("source") or "spreadsheet"),
        )

    def field_of(self, header: str) -> str:
        return self.columns.get(header, IGNORE)

    def columns_for(self, headers: list[str]) -> dict[str, list[int]]:
        """Field -> positions (in `headers`) of the columns that fill it; ignored ones left out."""
        positions: dict[str, list[int]] = {}
        for index, header in enumerate(headers):
            target = self.columns.get(header, IGNORE)
            if target != IGNORE and target in FIELDS:
                positions.setdefault(target, []).append(index)
        return positions

    @property
    def has_orders(self) -> bool:
        """Rows are order lines (purchase history), not one customer per row."""
        return "order_number" in self.columns.values()

    def errors(self) -> list[LazyString]:
        """What stops this mapping from being used, as translated messages (none: usable)."""
        found = []
        by_field: dict[str, list[str]] = {}
        for header, target in self.columns.items():
            if target not in FIELDS:
                found.append(LazyString(_render, "unknown_field", {"field": target}))
            elif target != IGNORE:
                by_field.setdefault(target, []).append(header)
        for target, headers in by_field.items():
            if len(headers) > 1 and target not in MULTIPLE:
                found.append(
                    LazyString(
                        _render,
                        "several_columns",
                        {"field": FIELDS[target], "columns": ", ".join(headers)},
                    )
                )
        identifying = {"given_name", "family_name", "full_name", "company", "email", "phone"}
        if not identifying & by_field.keys():
            found.append(LazyString(_render, "nothing_to_import", {}))
        if (set(ORDER_FIELDS) & by_field.keys()) and "order_number" not in by_field:
            found.append(LazyString(_render, "order_without_number", {}))
        return found


def _render(code: str, params: dict) -> str:
    text = str(_ERRORS[code])
    return text % {k: str(v) for k, v in params.items()} if params else text


def detect_source(headers: Iterable[str]) -> str:
    """Which export the headings come from: shopify_customers, shopify_orders, woocommerce,
    hubspot, or spreadsheet (anything else)."""
    keys = {header_key(header) for header in headers}
    if {"name", "lineitemname", "financialstatus"} <= keys:
        return "shopify_orders"
    if "customerid" in keys and (
        {"acceptsemailmarketing", "defaultaddressaddress1", "totalspent"} & keys
    ):
        return "shopify_customers"
    if {"totalspent", "totalorders", "taxexempt"} <= keys:
        return "shopify_customers"  # the legacy template
    if len({"username", "lastactive", "signup", "aov", "totalspend"} & keys) >= 3:
        return "woocommerce"
    if sum(1 for key in keys if key.startswith("billing")) >= 2 and "lineitemname" not in keys:
        return "woocommerce"
    if (
        "recordid" in keys
        or len({"contactowner", "lifecyclestage", "leadstatus", "marketingcontactstatus"} & keys)
        >= 1
    ):
        return "hubspot"
    return "spreadsheet"


_SAVED = 9  # the priority of a saved mapping's choice: above every guess


def _guess(key: str, layout: dict[str, str] | None) -> tuple[str, int]:
    """(field, priority) for one heading key; higher priority wins a single-column field."""
    if layout is not None and key in layout:
        return layout[key], 3
    if key in _COMMON_KEYS:
        return _COMMON_KEYS[key], 2
    for prefix, weight in _PREFIXES:
        if key.startswith(prefix) and key[len(prefix) :] in _COMMON_KEYS:
            return _COMMON_KEYS[key[len(prefix) :]], 1 + weight
    if key in _VAGUE_KEYS:
        return _VAGUE_KEYS[key], 0
    return IGNORE, 0


def suggest(headers: list[str], saved: Mapping | None = None) -> Mapping:
    """The likeliest mapping of these headings; a `saved` mapping's choices come first.

    A field that takes one column goes to the column that names it most clearly (the
    leftmost of equals); the other candidates are ignored.
    """
    source = detect_source(headers)
    layout = _LAYOUT_KEYS.get(source)
    guesses: list[tuple[str, int]] = []
    for header in headers:
        if saved is not None and header in saved.columns and saved.columns[header] in FIELDS:
            guesses.append((saved.columns[header], _SAVED))
        else:
            guesses.append(_guess(header_key(header), layout))
    best: dict[str, int] = {}
    for index, (target, priority) in enumerate(guesses):
        if target == IGNORE or target in MULTIPLE:
            continue
        if target not in best or priority > guesses[best[target]][1]:
            best[target] = index
    split_name = {"given_name", "family_name"} <= best.keys()
    columns = {}
    for index, (header, (target, priority)) in enumerate(zip(headers, guesses, strict=True)):
        if target != IGNORE and target not in MULTIPLE and best[target] != index:
            target = IGNORE
        elif priority == _SAVED:
            pass  # the owner chose it
        elif target == "full_name" and split_name:
            target = IGNORE  # "Name" beside "First name" and "Last name" adds nothing
        elif target in ORDER_FIELDS and "order_number" not in best:
            target = IGNORE  # a "Store" or "Currency" column of a customer list
        columns[header] = target
    return Mapping(columns=columns, source=source)
