"""Demo data: generated (never real) customers with their history, for trying Kartoteka out.

Faker supplies only its per-locale word lists (names, streets, cities, e-mail domains); this
module combines them itself with one ``random.Random``, because calling Faker per field is far
too slow for 100,000 customers. Every value, timestamps included, derives from the seed and a
reference day, so the same seed on the same day gives the same rows.

Bulk rows go through the database driver directly (``executemany`` on SQLite, ``COPY`` on
PostgreSQL), which is several times faster than ``insert_many``. Parent ids are assigned here,
so purchase lines and complaint messages can point at their parents without reading them back.
"""

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import NamedTuple

from faker.providers.address import pl_PL as address_pl
from faker.providers.address import ru_RU as address_ru
from faker.providers.address import zh_CN as address_zh
from faker.providers.internet import en_GB as internet_gb
from faker.providers.internet import pl_PL as internet_pl
from faker.providers.internet import ru_RU as internet_ru
from faker.providers.person import en_GB as person_gb
from faker.providers.person import en_US as person_us
from faker.providers.person import pl_PL as person_pl
from faker.providers.person import ru_RU as person_ru
from faker.providers.person import zh_CN as person_zh
from peewee import fn

from . import bulk, search, settings
from .db import write_transaction
from .extensions import db
from .models import (
    Address,
    Complaint,
    ComplaintMessage,
    ComplaintStatusChange,
    ConsentEvent,
    ConsentPurpose,
    ConsentWording,
    ContactPoint,
    Customer,
    CustomerTag,
    Interaction,
    Location,
    Purchase,
    PurchaseLine,
    StaffAccount,
    Tag,
    utcnow,
)

BATCH_CUSTOMERS = 2000  # customers generated and written per round; bounds memory
HISTORY_DAYS = 3 * 365  # customers were created over the last three years

# Generated addresses must never reach a real mailbox, even if someone runs a campaign on demo
# data with a real SMTP server: keep each provider's name but swap its TLD for the reserved
# ".example" (RFC 2606), so "wp.pl" becomes "wp.example".
EMAIL_TLD = "example"


# --- Phone numbers -----------------------------------------------------------------------


@dataclass(frozen=True)
class PhonePlan:
    """Mobile numbers of one country that the phonenumbers library accepts as valid."""

    country_code: str
    prefixes: tuple[str, ...]  # leading digits of the national number, all in valid ranges
    length: int  # digits in the national (significant) number
    layout: str  # national format as phonenumbers writes it; each # is one digit
    first_free_digits: str = "0123456789"  # the digit right after the prefix

    def number(self, rng: random.Random) -> tuple[str, str]:
        """A random number as (shown nicely in national format, E.164)."""
        prefix = rng.choice(self.prefixes)
        rest = self.length - len(prefix) - 1
        digits = prefix + rng.choice(self.first_free_digits) + f"{rng.randrange(10**rest):0{rest}d}"
        return self.layout.replace("#", "{}").format(*digits), f"+{self.country_code}{digits}"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PHONES = {
    "PL": PhonePlan("48", _words("50 51 53 57 60 66 69 72 73 78 79 88"), 9, "### ### ###"),
    "RU": PhonePlan(
        "7", _words("903 905 910 915 916 917 921 926 977 985 999"), 10, "8 (###) ###-##-##"
    ),
    "CN": PhonePlan(
        "86", _words("130 131 135 136 138 139 150 152 158 186 188 189"), 11, "### #### ####"
    ),
    # Some +44 7 ranges are the Isle of Man's or the Channel Islands' (phonenumbers files them
    # under those regions) or unassigned; these prefixes were checked to be mainland GB mobiles.
    "GB": PhonePlan(
        "44",
        _words("7400 7412 7450 7500 7520 7710 7740 7800 7830 7900 7940 7960"),
        10,
        "0#### ######",
    ),
    # US exchange codes cannot start with 0 or 1.
    "US": PhonePlan(
        "1", _words("212 646 312 617 206 512 303 415 503 305 404"), 10, "(###) ###-####", "23456789"
    ),
}


# --- Places --------------------------------------------------------------------------------

# Real towns are not personal data; Faker's en_GB/en_US city names are made up ("Lake Jamesport").
GB_TOWNS = (
    ("London", "SW"),
    ("London", "N"),
    ("Manchester", "M"),
    ("Leeds", "LS"),
    ("Bristol", "BS"),
    ("Birmingham", "B"),
    ("Glasgow", "G"),
    ("Edinburgh", "EH"),
    ("Liverpool", "L"),
    ("Cardiff", "CF"),
    ("Brighton", "BN"),
    ("Oxford", "OX"),
    ("York", "YO"),
    ("Norwich", "NR"),
)
US_TOWNS = (
    ("New York", "NY", "100"),
    ("Chicago", "IL", "606"),
    ("Boston", "MA", "021"),
    ("Seattle", "WA", "981"),
    ("Austin", "TX", "787"),
    ("Denver", "CO", "802"),
    ("San Francisco", "CA", "941"),
    ("Portland", "OR", "972"),
    ("Miami", "FL", "331"),
    ("Atlanta", "GA", "303"),
)
ENGLISH_STREET_WORDS = ("Maple", "Oak", "Church", "Mill", "Station", "Park", "Victoria", "High")
GB_STREET_KINDS = ("Road", "Street", "Lane", "Avenue", "Close", "Gardens", "Crescent", "Way")
US_STREET_KINDS = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr")
GB_POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
PL_CITIES = address_pl.Provider.cities
# Faker's list names weather stations and adds region hints in brackets; keep plain towns.
RU_CITIES = tuple(c for c in address_ru.Provider.city_names if "(" not in c)
# Feminine adjectives agree with "ulitsa"; the noflex names (Глинки, 1 Мая) fit any prefix.
RU_STREETS = address_ru.Provider.street_titles + address_ru.Provider.street_titles_noflex
# Taipei, Hong Kong and Macau have their own dialling codes and postal systems.
CN_CITIES = tuple(
    dict.fromkeys(c for c in address_zh.Provider.cities if c not in {"台北", "香港", "澳门"})
)


def _digits(rng: random.Random, count: int) -> str:
    return f"{rng.randrange(10**count):0{count}d}"


def _english_street_name(rng, family_names) -> str:
    return rng.choice(family_names) if rng.random() < 0.6 else rng.choice(ENGLISH_STREET_WORDS)


def _address_gb(rng, family_names):
    town, area = rng.choice(GB_TOWNS)
    street = _english_street_name(rng, family_names)
    letters = "".join(rng.choices(GB_POSTCODE_LETTERS, k=2))
    postcode = f"{area}{rng.randint(1, 20)} {rng.randint(1, 9)}{letters}"
    return f"{rng.randint(1, 240)} {street} {rng.choice(GB_STREET_KINDS)}", postcode, town, ""


def _address_us(rng, family_names):
    town, state, zip_prefix = rng.choice(US_TOWNS)
    street = _english_street_name(rng, family_names)
    line1 = f"{rng.randint(100, 9899)} {street} {rng.choice(US_STREET_KINDS)}"
    return line1, zip_prefix + _digits(rng, 2), town, state


def _address_pl(rng, _family_names):
    number = str(rng.randint(1, 160))
    if rng.random() < 0.6:
        number += f"/{rng.randint(1, 80)}"  # flat number
    postcode = f"{_digits(rng, 2)}-{_digits(rng, 3)}"
    return (
        f"ul. {rng.choice(address_pl.Provider.streets)} {number}",
        postcode,
        rng.choice(PL_CITIES),
        "",
    )


def _address_ru(rng, _family_names):
    line1 = f"ул. {rng.choice(RU_STREETS)}, д. {rng.randint(1, 120)}, кв. {rng.randint(1, 300)}"
    return line1, str(rng.randint(101000, 692999)), rng.choice(RU_CITIES), ""


def _address_zh(rng, _family_names):
    street = rng.choice(address_zh.Provider.districts) + rng.choice(("路", "街", "大道"))
    line1 = f"{street}{rng.randint(1, 999)}号{rng.randint(1, 30)}{rng.randint(1, 4):02d}室"
    return line1, str(rng.randint(100000, 859999)), rng.choice(CN_CITIES), ""


# --- E-mail addresses ----------------------------------------------------------------------


def _free_domains(*providers) -> tuple[str, ...]:
    names = dict.fromkeys(d.split(".")[0] for p in providers for d in p.Provider.free_email_domains)
    return tuple(f"{name}.{EMAIL_TLD}" for name in names)


RU_TO_LATIN = str.maketrans(
    {cyr: lat for cyr, lat in internet_ru.Provider.replacements}
    | {cyr.lower(): lat for cyr, lat in internet_ru.Provider.replacements}
)


@cache
def _ascii_name(name: str) -> str:
    """A name as it would appear in an e-mail address: ASCII letters, lower case."""
    folded = name.translate(RU_TO_LATIN).replace("ł", "l").replace("Ł", "L")
    folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _latin_local_part(rng, given: str, family: str) -> str:
    g, f = _ascii_name(given), _ascii_name(family)
    style = rng.randrange(5)
    if style == 0:
        return f"{g}.{f}"
    if style == 1:
        return f"{g}{f}{rng.randint(1, 99)}"
    if style == 2:
        return f"{g[0]}{f}"
    if style == 3:
        return f"{f}.{g}{rng.randint(60, 99)}"
    return f"{g}_{f}{rng.randint(100, 999)}"


def _chinese_local_part(rng, _given: str, _family: str) -> str:
    # QQ numbers are the usual Chinese mailbox names; pinyin would need a dictionary.
    return str(rng.randint(10_000, 2_999_999_999))


# --- Locales -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Locale:
    """Everything needed to invent a plausible person from one country."""

    code: str
    language: str
    country: str
    family_first: bool
    given_female: tuple[str, ...]
    given_male: tuple[str, ...]
    family_female: tuple[str, ...]
    family_male: tuple[str, ...]
    family_weights: tuple[float, ...] | None  # cumulative weights, when Faker gives them
    address: Callable
    email_domains: tuple[str, ...]
    email_local_part: Callable
    email_share: float  # how many have an e-mail address
    interests: tuple[str, ...]  # locale-flavoured tags

    def display_name(self, given: str, family: str) -> str:
        return f"{family}{given}" if self.family_first else f"{given} {family}"


def _cumulative(weights) -> tuple[float, ...]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return tuple(out)


def _feminine_polish(surname: str) -> str:
    """Kowalski → Kowalska, Wąsowski → Wąsowska; other surnames do not change."""
    return surname[:-1] + "a" if surname.endswith(("ski", "cki", "dzki")) else surname


def _english_locale(code, country, person, address, domains) -> Locale:
    family = tuple(person.Provider.last_names)
    return Locale(
        code=code,
        language="en",
        country=country,
        family_first=False,
        given_female=tuple(person.Provider.first_names_female),
        given_male=tuple(person.Provider.first_names_male),
        family_female=family,
        family_male=family,
        family_weights=_cumulative(person.Provider.last_names.values()),
        address=address,
        email_domains=domains,
        email_local_part=_latin_local_part,
        email_share=0.88,
        interests=("gardening", "baking", "cycling", "book club"),
    )


def _polish_locale() -> Locale:
    # Faker keeps gendered surnames (Kowalski) apart from those that fit both genders (Nowak).
    males = person_pl.Provider.male_last_names + person_pl.Provider.unisex_last_names
    return Locale(
        code="pl_PL",
        language="pl",
        country="PL",
        family_first=False,
        given_female=person_pl.Provider.first_names_female,
        given_male=person_pl.Provider.first_names_male,
        family_female=tuple(_feminine_polish(s) for s in males),
        family_male=males,
        family_weights=None,
        address=_address_pl,
        email_domains=_free_domains(internet_pl),
        email_local_part=_latin_local_part,
        email_share=0.85,
        interests=("wędkarstwo", "ogród", "rękodzieło", "górskie wędrówki"),
    )


def _russian_locale() -> Locale:
    p = person_ru.Provider
    return Locale(
        code="ru_RU",
        language="ru",
        country="RU",
        family_first=False,
        given_female=p.first_names_female,
        given_male=p.first_names_male,
        family_female=p.last_names_female,
        family_male=p.last_names_male,
        family_weights=None,
        address=_address_ru,
        email_domains=_free_domains(internet_ru),
        email_local_part=_latin_local_part,
        email_share=0.8,
        interests=("рыбалка", "дача", "шахматы", "чайные церемонии"),
    )


def _free_domains_named(*names: str) -> tuple[str, ...]:
    # Faker has no free-mail list for zh_CN; these are the big Chinese providers.
    return tuple(f"{name}.{EMAIL_TLD}" for name in names)


def _chinese_locale() -> Locale:
    p = person_zh.Provider
    family = tuple(p.last_names)
    return Locale(
        code="zh_CN",
        language="zh",
        country="CN",
        family_first=True,
        given_female=tuple(p.first_names_female),
        given_male=tuple(p.first_names_male),
        family_female=family,
        family_male=family,
        family_weights=_cumulative(p.last_names.values()),
        address=_address_zh,
        email_domains=_free_domains_named("qq", "163", "126", "sina"),
        email_local_part=_chinese_local_part,
        email_share=0.7,
        interests=("茶艺", "书法", "太极", "园艺"),
    )


LOCALES = (
    _english_locale("en_GB", "GB", person_gb, _address_gb, _free_domains(internet_gb)),
    _english_locale("en_US", "US", person_us, _address_us, _free_domains(internet_gb)),
    _polish_locale(),
    _russian_locale(),
    _chinese_locale(),
)
# English is split between Britain and the US, so the four languages come out even.
LOCALE_WEIGHTS = _cumulative((1, 1, 2, 2, 2))


# --- Shop catalogue and texts --------------------------------------------------------------

# (product, price in EUR cents, sold by weight)
PRODUCTS = (
    ("Sencha green tea, 100 g", 890, False),
    ("Earl Grey, 250 g", 1290, False),
    ("Darjeeling first flush, 100 g", 1590, False),
    ("Jasmine pearls, 50 g", 1190, False),
    ("Rooibos vanilla, 100 g", 690, False),
    ("Oolong Tie Guan Yin, 100 g", 1690, False),
    ("Pu-erh cake, 357 g", 4290, False),
    ("Chai spice mix, 100 g", 790, False),
    ("Chamomile, 50 g", 490, False),
    ("Breakfast tea, loose, per kg", 3600, True),
    ("Coffee beans Ethiopia, per kg", 4800, True),
    ("Coffee beans Brazil Santos, 250 g", 1090, False),
    ("Espresso blend, ground, 250 g", 990, False),
    ("Ceramic teapot, 0.8 l", 3490, False),
    ("Glass teapot with infuser, 1 l", 2790, False),
    ("Cast-iron kettle", 6990, False),
    ("Matcha whisk", 1890, False),
    ("Porcelain cups, set of 2", 2490, False),
    ("Travel mug, 350 ml", 1990, False),
    ("French press, 1 l", 3290, False),
    ("Hand coffee grinder", 4590, False),
    ("Acacia honey, 400 g", 1190, False),
    ("Dark chocolate 70%, 100 g", 490, False),
    ("Gingerbread biscuits, 200 g", 590, False),
    ("Tea sampler gift box", 3990, False),
    ("Gift card", 5000, False),
    ("Paper tea filters, 100 pcs", 390, False),
    ("Linen tea towel", 1290, False),
)
WEIGHED_QUANTITIES_G = (250, 500, 750, 1000, 1500)
# Rough price levels, so demo prices look normal in the shop's currency.
CURRENCY_FACTORS = {
    "EUR": 1,
    "USD": 1.1,
    "GBP": 0.85,
    "CHF": 0.95,
    "PLN": 4.3,
    "CZK": 25,
    "SEK": 11.5,
    "NOK": 11.5,
    "DKK": 7.5,
    "RUB": 100,
    "CNY": 7.8,
    "JPY": 160,
}

LOCATIONS = (
    ("Old Town shop", "Market Square 12"),
    ("Riverside shop", "River Street 4"),
    ("Station kiosk", "Central Station, hall B"),
)
GENERAL_TAGS = ("vip", "newsletter", "wholesale")

NOTES = {
    "en": (
        "Prefers a call before delivery.",
        "Allergic to nuts: check gift boxes.",
        "Buys presents for the whole office in December.",
        "Likes to hear about new teas first.",
    ),
    "pl": (
        "Woli telefon przed dostawą.",
        "Uczulenie na orzechy: sprawdzać zestawy prezentowe.",
        "W grudniu kupuje prezenty dla całego biura.",
        "Prosi o informację o nowych herbatach.",
    ),
    "ru": (
        "Предпочитает звонок перед доставкой.",
        "Аллергия на орехи: проверять подарочные наборы.",
        "В декабре покупает подарки для всего офиса.",
        "Просит сообщать о новых сортах чая.",
    ),
    "zh": (
        "送货前请先打电话。",
        "对坚果过敏，请检查礼盒。",
        "每年十二月为整个办公室购买礼物。",
        "希望第一时间了解新茶。",
    ),
}
COMPANIES = {
    "en": ("Harbour Café Ltd", "Green Leaf Catering", "Bluebell Hotels", "Corner Deli Co."),
    "pl": (
        "Kawiarnia Pod Lipą",
        "Hotel Zacisze sp. z o.o.",
        "Catering Smakosz",
        "Herbaciarnia Czajnik",
    ),
    "ru": ("ООО «Чайный дом»", "Кафе «Самовар»", "Гостиница «Волга»", "ООО «Уют»"),
    "zh": ("清香茶馆", "悦来酒店有限公司", "福满楼餐饮", "云间咖啡"),
}

INTERACTIONS = {  # channel: (direction, staff notes); {product} is a catalogue item
    "call": (
        ("in", 'Asked whether "{product}" is back in stock.'),
        ("out", "Called to say the reserved order is ready for pickup."),
        ("in", "Asked about opening hours over the holidays."),
    ),
    "email": (
        ("in", "Asked for an invoice for an earlier purchase."),
        ("out", "Sent the price list on request."),
        ("in", "Question about shipping abroad."),
    ),
    "chat": (
        ("in", 'Asked how to brew "{product}".'),
        ("in", "Wanted to change the delivery address."),
    ),
    "visit": (
        ("in", 'Tasted "{product}", will think about it.'),
        ("in", "Came in to pick up a reserved order."),
    ),
    "note": (
        ("out", "Prefers to be contacted in the evening."),
        ("out", "Interested in the next tasting evening."),
    ),
}

# Complaints are written by customers, so in their language: category → (subject, description).
COMPLAINT_TEXTS = {
    "en": {
        "product_quality": (
            "Teapot lid cracked",
            "The lid of the teapot I bought cracked the first time I poured boiling water into it.",
        ),
        "delivery": (
            "Order arrived late",
            "My online order arrived a week after the promised date and the box was damaged.",
        ),
        "service": (
            "Unhelpful answer at the counter",
            "I asked about returning a gift and was told to come back another day, with no explanation.",
        ),
        "billing": ("Charged twice", "My card statement shows the same purchase twice."),
        "other": (
            "Loyalty points missing",
            "Points for my last two purchases do not appear on my account.",
        ),
    },
    "pl": {
        "product_quality": (
            "Pęknięta pokrywka czajnika",
            "Pokrywka kupionego czajnika pękła przy pierwszym zalaniu wrzątkiem.",
        ),
        "delivery": (
            "Spóźniona dostawa",
            "Zamówienie internetowe dotarło tydzień po obiecanym terminie, a karton był uszkodzony.",
        ),
        "service": (
            "Nieuprzejma obsługa przy kasie",
            "Na pytanie o zwrot prezentu odpowiedziano mi tylko, żeby przyjść innego dnia, bez wyjaśnienia.",
        ),
        "billing": (
            "Podwójne obciążenie karty",
            "Na wyciągu z karty ten sam zakup widnieje dwa razy.",
        ),
        "other": (
            "Brak punktów lojalnościowych",
            "Punkty za dwa ostatnie zakupy nie pojawiły się na moim koncie.",
        ),
    },
    "ru": {
        "product_quality": (
            "Треснула крышка чайника",
            "Крышка купленного чайника треснула при первом же заваривании кипятком.",
        ),
        "delivery": (
            "Заказ пришёл с опозданием",
            "Интернет-заказ пришёл на неделю позже обещанного срока, коробка была повреждена.",
        ),
        "service": (
            "Невежливое обслуживание",
            "На вопрос о возврате подарка мне без объяснений предложили прийти в другой день.",
        ),
        "billing": ("Двойное списание", "В выписке по карте одна и та же покупка списана дважды."),
        "other": (
            "Не начислены бонусные баллы",
            "Баллы за две последние покупки не появились на моём счёте.",
        ),
    },
    "zh": {
        "product_quality": ("茶壶盖子裂了", "我买的茶壶第一次倒入开水时盖子就裂了。"),
        "delivery": ("订单延迟送达", "网上订单比承诺的日期晚了一周才到，而且包装箱破损。"),
        "service": ("柜台服务不周", "我询问礼品退货的事，店员没有任何解释就让我改天再来。"),
        "billing": ("重复扣款", "我的银行卡账单显示同一笔消费被扣了两次。"),
        "other": ("积分未到账", "最近两次购物的积分没有出现在我的账户里。"),
    },
}
# Replies go to the customer, in their language: (acknowledge, ask for details, resolved).
STAFF_REPLIES = {
    "en": (
        "Thank you for letting us know. We are looking into it and will get back to you within two working days.",
        "We are sorry about this. Could you send us a photo of the receipt so we can check it?",
        "This is now sorted out. Thank you for your patience.",
    ),
    "pl": (
        "Dziękujemy za zgłoszenie. Sprawdzamy sprawę i odpowiemy w ciągu dwóch dni roboczych.",
        "Przepraszamy za kłopot. Prosimy o przesłanie zdjęcia paragonu, abyśmy mogli to sprawdzić.",
        "Sprawa została załatwiona. Dziękujemy za cierpliwość.",
    ),
    "ru": (
        "Спасибо, что сообщили нам. Мы разбираемся и ответим в течение двух рабочих дней.",
        "Приносим извинения. Пришлите, пожалуйста, фото чека, чтобы мы могли всё проверить.",
        "Вопрос решён. Спасибо за терпение.",
    ),
    "zh": (
        "感谢您告知我们。我们正在核查，将在两个工作日内回复您。",
        "很抱歉给您带来不便。请发送收据照片，以便我们核实。",
        "问题已经解决。感谢您的耐心。",
    ),
}
CUSTOMER_REPLIES = {
    "en": "Photo of the receipt attached.",
    "pl": "W załączniku zdjęcie paragonu.",
    "ru": "Фото чека во вложении.",
    "zh": "收据照片已附上。",
}
INTERNAL_NOTES = (
    "Checked the stock: same batch, the other units look fine.",
    "Called the supplier, a replacement is on the way.",
    "Regular customer, handle with care.",
    "Receipt found in the till records.",
    "Escalated to the owner.",
)
RESOLUTIONS = {  # redress offered → resolution recorded on the complaint
    "replacement": "Replacement handed over.",
    "voucher": "Voucher issued as an apology.",
    "repair": "Repaired free of charge.",
    "": "Explained and apologised; no further action needed.",
}
# (first response, resolution) deadlines per severity
RESPONSE_TIMES = {
    "low": (timedelta(days=3), timedelta(days=14)),
    "medium": (timedelta(days=2), timedelta(days=7)),
    "high": (timedelta(hours=8), timedelta(days=3)),
    "critical": (timedelta(hours=2), timedelta(days=1)),
}
# status: the changes that lead there from "new"
STATUS_PATHS = {
    "new": (),
    "in_progress": (("new", "in_progress"),),
    "waiting_for_customer": (("new", "in_progress"), ("in_progress", "waiting_for_customer")),
    "resolved": (("new", "in_progress"), ("in_progress", "resolved")),
    "closed": (("new", "in_progress"), ("in_progress", "resolved"), ("resolved", "closed")),
}

CONSENT_WORDING = {
    "email_marketing": {
        "en": (
            "E-mail offers",
            "I agree to receive news and offers from the shop by e-mail. I can withdraw this consent at any time, in the shop or with the link in every message.",
        ),
        "pl": (
            "Oferty e-mailem",
            "Zgadzam się na otrzymywanie od sklepu informacji o nowościach i ofertach pocztą elektroniczną. Mogę w każdej chwili wycofać zgodę w sklepie lub przez link w każdej wiadomości.",
        ),
        "ru": (
            "Предложения по электронной почте",
            "Я соглашаюсь получать от магазина новости и предложения по электронной почте. Я могу в любой момент отозвать согласие в магазине или по ссылке в каждом письме.",
        ),
        "zh": (
            "电子邮件优惠",
            "我同意通过电子邮件接收本店的新闻和优惠信息。我可以随时在店内或通过每封邮件中的链接撤回此同意。",
        ),
    },
    "sms_marketing": {
        "en": (
            "Text message offers",
            "I agree to receive offers from the shop by text message (SMS). I can withdraw this consent at any time.",
        ),
        "pl": (
            "Oferty SMS-em",
            "Zgadzam się na otrzymywanie ofert sklepu w wiadomościach SMS. Mogę w każdej chwili wycofać zgodę.",
        ),
        "ru": (
            "Предложения по SMS",
            "Я соглашаюсь получать предложения магазина в SMS-сообщениях. Я могу в любой момент отозвать согласие.",
        ),
        "zh": ("短信优惠", "我同意通过短信接收本店的优惠信息。我可以随时撤回此同意。"),
    },
    "profiling": {
        "en": (
            "Personalised offers",
            "I agree that the shop may use my purchase history to choose offers that suit me. I can withdraw this consent at any time.",
        ),
        "pl": (
            "Oferty dopasowane do mnie",
            "Zgadzam się, aby sklep wykorzystywał historię moich zakupów do dobierania ofert dla mnie. Mogę w każdej chwili wycofać zgodę.",
        ),
        "ru": (
            "Персональные предложения",
            "Я соглашаюсь, чтобы магазин использовал историю моих покупок для подбора подходящих мне предложений. Я могу в любой момент отозвать согласие.",
        ),
        "zh": (
            "个性化优惠",
            "我同意本店根据我的购买记录为我挑选合适的优惠。我可以随时撤回此同意。",
        ),
    },
    "partner_sharing": {
        "en": (
            "Sharing with partners",
            "I agree that the shop may pass my name and contact details to the partners listed on its website, so that they can send me their offers. I can withdraw this consent at any time.",
        ),
        "pl": (
            "Przekazywanie danych partnerom",
            "Zgadzam się na przekazanie mojego imienia, nazwiska i danych kontaktowych partnerom sklepu wymienionym na jego stronie internetowej, aby mogli przesyłać mi swoje oferty. Mogę w każdej chwili wycofać zgodę.",
        ),
        "ru": (
            "Передача данных партнёрам",
            "Я соглашаюсь на передачу моего имени и контактных данных партнёрам магазина, перечисленным на его сайте, чтобы они могли присылать мне свои предложения. Я могу в любой момент отозвать согласие.",
        ),
        "zh": (
            "与合作伙伴共享",
            "我同意本店将我的姓名和联系方式提供给其网站上列出的合作伙伴，以便他们向我发送优惠信息。我可以随时撤回此同意。",
        ),
    },
}
# purpose: (share of customers who grant it, contact kind it needs)
CONSENT_UPTAKE = {
    "email_marketing": (0.55, "email"),
    "sms_marketing": (0.25, "phone"),
    "profiling": (0.2, None),
    "partner_sharing": (0.06, None),
}
# how a grant reaches the shop, by the customer's source
CONSENT_CHANNELS = {
    "in_store": ("paper_form", "paper_form", "verbal"),
    "web_form": ("web_form",),
    "self_service": ("self_service",),
    "import": ("import",),
    "vendor_list": ("import",),
}
SOURCE_WEIGHTS = _cumulative((55, 30, 5, 6, 4))
SOURCES = ("in_store", "web_form", "self_service", "import", "vendor_list")
IMPORT_FILES = ("old-till-export-2023.csv", "loyalty-cards.xlsx", "webshop-customers.csv")
VENDOR_LISTS = ("Address list bought from LeadHouse", "Trade fair visitors list from ExpoData")


# --- Reference data the customers point at ------------------------------------------------


@dataclass
class Setup:
    """Rows the generated customers refer to: created when missing, otherwise reused."""

    location_ids: list[int]
    tag_ids: dict[str, int]
    purpose_ids: dict[str, int]
    purpose_versions: dict[str, int]
    staff_ids: list[int]
    created: dict[str, int]


def _ensure_locations() -> tuple[list[int], int]:
    ids = [loc.id for loc in Location.select(Location.id).order_by(Location.id)]
    if ids:
        return ids, 0
    Location.insert_many(
        [{"name": n, "address": a, "active": True} for n, a in LOCATIONS]
    ).execute()
    return [loc.id for loc in Location.select(Location.id).order_by(Location.id)], len(LOCATIONS)


def _ensure_tags(names: list[str]) -> tuple[dict[str, int], int]:
    existing = {t.name for t in Tag.select(Tag.name).where(Tag.name.in_(names))}
    missing = [{"name": n} for n in names if n not in existing]
    if missing:
        Tag.insert_many(missing).execute()
    return {t.name: t.id for t in Tag.select().where(Tag.name.in_(names))}, len(missing)


def _ensure_consent_purposes(
    created_at: datetime,
) -> tuple[dict[str, int], dict[str, int], int, int]:
    """The four demo purposes, each with version-1 wording in every interface language."""
    codes = list(CONSENT_WORDING)
    existing = {
        p.code
        for p in ConsentPurpose.select(ConsentPurpose.code).where(ConsentPurpose.code.in_(codes))
    }
    new_purposes = [
        {"code": c, "active": True, "position": i, "created_at": created_at}
        for i, c in enumerate(codes)
        if c not in existing
    ]
    if new_purposes:
        ConsentPurpose.insert_many(new_purposes).execute()
    ids = {p.code: p.id for p in ConsentPurpose.select().where(ConsentPurpose.code.in_(codes))}

    have = {
        (w.purpose_id, w.language)
        for w in ConsentWording.select().where(
            ConsentWording.purpose.in_(list(ids.values())), ConsentWording.version == 1
        )
    }
    new_wordings = [
        {
            "purpose": ids[code],
            "version": 1,
            "language": lang,
            "title": title,
            "text": text,
            "created_at": created_at,
        }
        for code, by_language in CONSENT_WORDING.items()
        for lang, (title, text) in by_language.items()
        if (ids[code], lang) not in have
    ]
    if new_wordings:
        ConsentWording.insert_many(new_wordings).execute()
    # New events record the newest wording the shop has for each purpose.
    latest = (
        ConsentWording.select(ConsentWording.purpose, fn.MAX(ConsentWording.version).alias("v"))
        .where(ConsentWording.purpose.in_(list(ids.values())))
        .group_by(ConsentWording.purpose)
    )
    versions_by_id = {row.purpose_id: row.v for row in latest}
    versions = {code: versions_by_id[pid] for code, pid in ids.items()}
    return ids, versions, len(new_purposes), len(new_wordings)


def _prepare_setup(reference: datetime) -> Setup:
    founded = reference - timedelta(days=HISTORY_DAYS + 1)  # before the first demo customer
    location_ids, new_locations = _ensure_locations()
    interests = [t for loc in LOCALES for t in loc.interests]
    tag_ids, new_tags = _ensure_tags(list(dict.fromkeys([*GENERAL_TAGS, *interests])))
    purpose_ids, versions, new_purposes, new_wordings = _ensure_consent_purposes(founded)
    active_staff = StaffAccount.active == True  # noqa: E712 (Peewee builds SQL from ==)
    staff = StaffAccount.select(StaffAccount.id).where(active_staff).order_by(StaffAccount.id)
    return Setup(
        location_ids=location_ids,
        tag_ids=tag_ids,
        purpose_ids=purpose_ids,
        purpose_versions=versions,
        staff_ids=[s.id for s in staff],
        created={
            "locations": new_locations,
            "tags": new_tags,
            "consent purposes": new_purposes,
            "consent wordings": new_wordings,
        },
    )


# --- Writing rows fast ---------------------------------------------------------------------

# Parents before children: SQLite checks foreign keys row by row.
WRITE_ORDER = (
    Customer,
    ContactPoint,
    Address,
    CustomerTag,
    Purchase,
    PurchaseLine,
    Interaction,
    Complaint,
    ComplaintMessage,
    ComplaintStatusChange,
    ConsentEvent,
)
COUNT_LABELS = {
    Customer: "customers",
    ContactPoint: "contact points",
    Address: "addresses",
    CustomerTag: "customer tags",
    Purchase: "purchases",
    PurchaseLine: "purchase lines",
    Interaction: "interactions",
    Complaint: "complaints",
    ComplaintMessage: "complaint messages",
    ComplaintStatusChange: "complaint status changes",
    ConsentEvent: "consent events",
}
# Tables whose ids this module assigns, so PostgreSQL's sequences must be moved past them.
ASSIGNED_IDS = (Customer, Purchase, Complaint)


# --- The generator -------------------------------------------------------------------------


def _money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _local_price(eur_cents: int, factor: float, by_weight: bool) -> int:
    """A catalogue price in the shop's currency that looks like a price someone chose."""
    cents = eur_cents * factor
    if by_weight or factor >= 10:
        return max(100, round(cents / 100) * 100)  # whole units; quarter-kg lines stay exact
    return max(99, round(cents / 10) * 10 - 1)  # ends in 9


@dataclass
class Person:
    locale: Locale
    given: str
    family: str
    female: bool
    email: tuple[str, str] | None = None  # (as entered, normalised)
    phone: tuple[str, str] | None = None  # (national format, E.164)


@dataclass
class Timeline:
    """When things happened to one customer; the latest moment becomes last_activity_at."""

    created_at: datetime
    days_ago: int  # the day of sign-up, counted back from the reference day
    last_activity_at: datetime = field(init=False)

    def __post_init__(self):
        self.last_activity_at = self.created_at

    def saw(self, moment: datetime) -> None:
        self.last_activity_at = max(self.last_activity_at, moment)


class Message(NamedTuple):
    kind: str  # reply (the customer sees it) or internal_note
    author: str  # staff or customer
    body: str
    at: datetime


@dataclass
class ComplaintStory:
    """What happened to one complaint: messages and when each status was reached."""

    opened_at: datetime
    messages: list[Message] = field(default_factory=list)
    reached: dict[str, datetime] = field(default_factory=dict)

    def add(self, kind, author, body, at: datetime, reaching: str | None = None) -> None:
        self.messages.append(Message(kind, author, body, at))
        if reaching:
            self.reach(reaching, at)

    def reach(self, status: str, at: datetime) -> None:
        self.reached[status] = at

    @property
    def last_change(self) -> datetime:
        return max([self.opened_at, *(m.at for m in self.messages), *self.reached.values()])


@dataclass
class PurchaseSummary:
    """The denormalised purchase figures kept on the customer row."""

    count: int = 0
    spent_cents: int = 0
    last_at: datetime | None = None


class DemoBuilder:
    """Invents customers one at a time and buffers their rows per table."""

    def __init__(
        self, rng: random.Random, setup: Setup, currency: str, reference: datetime, first_ids: dict
    ):
        self.rng = rng
        self.setup = setup
        self.currency = currency
        self.reference = reference  # "now": midnight UTC of the reference day
        self.next_ids = dict(first_ids)
        self.price_factor = CURRENCY_FACTORS.get(currency, 1)
        self.catalogue = [
            (name, _local_price(cents, self.price_factor, weighed), weighed)
            for name, cents, weighed in PRODUCTS
        ]
        self.rows: dict = {model: [] for model in WRITE_ORDER}
        self.used_contacts: set[str] = set()
        self.previous: Person | None = None
        self.form_number = 0

    # -- helpers --

    def _new_id(self, model) -> int:
        self.next_ids[model] += 1
        return self.next_ids[model] - 1

    def _day(self, days_ago: int) -> datetime:
        """A moment during opening hours (8:00-20:00) on the day that many days back."""
        start = self.reference - timedelta(days=days_ago, hours=-8)
        return start + timedelta(seconds=self.rng.randrange(12 * 3600))

    def _since_sign_up(self, timeline: Timeline) -> datetime:
        """A moment during opening hours between the customer's sign-up and yesterday."""
        return max(timeline.created_at, self._day(self.rng.randint(1, timeline.days_ago)))

    def _between(self, start: datetime, end: datetime) -> datetime:
        """A moment in [start, end], to the whole second."""
        seconds = int((end - start).total_seconds() * self.rng.random())
        return start + timedelta(seconds=seconds)

    def _staff(self) -> int | None:
        return self.rng.choice(self.setup.staff_ids) if self.setup.staff_ids else None

    def _add(self, model, row: dict) -> None:
        self.rows[model].append(row)

    def take_rows(self) -> dict:
        rows, self.rows = self.rows, {model: [] for model in WRITE_ORDER}
        return rows

    # -- one customer --

    def add_customer(self) -> None:
        rng = self.rng
        person = self._near_duplicate() if self.previous and rng.random() < 0.01 else self._person()
        self.previous = person
        customer_id = self._new_id(Customer)
        source = SOURCES[self._weighted_index(SOURCE_WEIGHTS)]
        # More sign-ups lately than three years ago: the shop has been growing.
        days_ago = 1 + int((HISTORY_DAYS - 1) * rng.random() ** 1.25)
        timeline = Timeline(self._day(days_ago), days_ago)

        self._contact_points(customer_id, person, timeline.created_at)
        if rng.random() < 0.85:
            self._address(customer_id, person)
        bought = self._purchases(customer_id, source, timeline)
        if rng.random() < 0.35:
            self._interactions(customer_id, timeline)
        if bought.count and rng.random() < 0.07:
            self._complaint(customer_id, person.locale.language, timeline)
        granted = self._consent_events(customer_id, person, source, timeline)
        wholesale = rng.random() < 0.03
        tags = self._tags(
            customer_id, person.locale, bought, "email_marketing" in granted, wholesale
        )
        row = self._customer_row(customer_id, person, source, timeline, wholesale, bought)
        row["search_tokens"] = search.customer_tokens(
            names=[row["display_name"], row["given_name"], row["family_name"], row["company"]],
            emails=[person.email[1]] if person.email else [],
            phones=[person.phone[1]] if person.phone else [],
            tags=tags,
        )
        self._add(Customer, row)

    def _weighted_index(self, cumulative: tuple[float, ...]) -> int:
        point = self.rng.random() * cumulative[-1]
        return next(i for i, edge in enumerate(cumulative) if point < edge)

    def _person(self) -> Person:
        rng = self.rng
        locale = LOCALES[self._weighted_index(LOCALE_WEIGHTS)]
        female = rng.random() < 0.55
        given = rng.choice(locale.given_female if female else locale.given_male)
        surnames = locale.family_female if female else locale.family_male
        if locale.family_weights:
            family = rng.choices(surnames, cum_weights=locale.family_weights)[0]
        else:
            family = rng.choice(surnames)
        person = Person(locale, given, family, female)
        if rng.random() < locale.email_share:
            person.email = self._email(locale, given, family)
        # Chinese customers nearly all give a mobile number; fewer Europeans do.
        if rng.random() < (0.95 if locale.language == "zh" else 0.75):
            person.phone = self._phone(locale.country)
        return person

    def _near_duplicate(self) -> Person:
        """The previous person again, typed slightly differently: fodder for the duplicates list."""
        twin = self.previous
        given = (
            _ascii_name(twin.given).title() if twin.locale.language in {"en", "pl"} else twin.given
        )
        person = Person(twin.locale, given, twin.family, twin.female, phone=twin.phone)
        if twin.email:
            entered = twin.email[1][0].upper() + twin.email[1][1:]
            person.email = (entered, twin.email[1])
        return person

    def _email(self, locale: Locale, given: str, family: str) -> tuple[str, str]:
        rng = self.rng
        local = locale.email_local_part(rng, given, family)
        address = f"{local}@{rng.choice(locale.email_domains)}"
        while address in self.used_contacts:  # two Jan Kowalskis get different mailboxes
            address = f"{local}{rng.randint(1, 9999)}@{rng.choice(locale.email_domains)}"
        self.used_contacts.add(address)
        # Some people type their address with capitals; the normalised form is lower case.
        entered = address[0].upper() + address[1:] if rng.random() < 0.15 else address
        return entered, address

    def _phone(self, country: str) -> tuple[str, str]:
        shown, e164 = PHONES[country].number(self.rng)
        while e164 in self.used_contacts:
            shown, e164 = PHONES[country].number(self.rng)
        self.used_contacts.add(e164)
        return shown, e164

    def _contact_points(self, customer_id: int, person: Person, created_at: datetime) -> None:
        contacts = []
        if person.email:
            contacts.append(("email", person.email, "personal"))
        if person.phone:
            contacts.append(("phone", person.phone, "mobile"))
        for kind, (value, normalized), label in contacts:
            self._add(
                ContactPoint,
                {
                    "customer": customer_id,
                    "kind": kind,
                    "value": value,
                    "normalized": normalized,
                    "label": label,
                    "is_primary": True,
                    "created_at": created_at,
                },
            )

    def _address(self, customer_id: int, person: Person) -> None:
        locale = person.locale
        line1, postal_code, city, region = locale.address(self.rng, locale.family_male)
        self._add(
            Address,
            {
                "customer": customer_id,
                "line1": line1,
                "line2": "",
                "postal_code": postal_code,
                "city": city,
                "region": region,
                "country": locale.country,
                "is_primary": True,
            },
        )

    def _purchase_count(self) -> int:
        """About two in three buy; most of them a few times, a loyal few up to 15 times."""
        if self.rng.random() < 0.35:
            return 0
        return min(15, 1 + int(self.rng.expovariate(1 / 2.2)))

    def _purchases(self, customer_id: int, source: str, timeline: Timeline) -> PurchaseSummary:
        """Purchases with their lines, and the totals the customer row must repeat."""
        count = self._purchase_count()
        if not count:
            return PurchaseSummary()
        moments = sorted(self._since_sign_up(timeline) for _ in range(count))
        if source == "in_store":
            moments[0] = timeline.created_at  # signed up at the counter while paying
        spent = 0
        for moment in moments:
            spent += self._purchase(customer_id, moment)
        timeline.saw(moments[-1])
        return PurchaseSummary(count, spent, moments[-1])

    def _purchase(self, customer_id: int, purchased_at: datetime) -> int:
        rng = self.rng
        purchase_id = self._new_id(Purchase)
        channel = "store" if rng.random() < 0.65 else ("online" if rng.random() < 0.8 else "phone")
        total = 0
        line_count = 1 + self._weighted_index((50, 80, 95, 100))
        for product, price, weighed in rng.sample(self.catalogue, line_count):
            if weighed:
                grams = rng.choice(WEIGHED_QUANTITIES_G)
                quantity, line_total = Decimal(grams).scaleb(-3), price * grams // 1000
            else:
                units = 1 if rng.random() < 0.75 else rng.randint(2, 4)
                quantity, line_total = Decimal(units), price * units
            total += line_total
            self._add(
                PurchaseLine,
                {
                    "purchase": purchase_id,
                    "product": product,
                    "quantity": quantity,
                    "unit_price": _money(price),
                    "line_total": _money(line_total),
                },
            )
        in_store = channel == "store"
        self._add(
            Purchase,
            {
                "id": purchase_id,
                "customer": customer_id,
                "location": rng.choice(self.setup.location_ids) if in_store else None,
                "purchased_at": purchased_at,
                "receipt_number": f"R-{purchased_at.year}-{purchase_id:06d}",
                "total": _money(total),
                "refunded": _money(0),
                "currency": self.currency,
                "channel": channel,
                "recorded_by": self._staff() if in_store else None,
                "created_at": purchased_at,
            },
        )
        return total

    def _interactions(self, customer_id: int, timeline: Timeline) -> None:
        rng = self.rng
        for _ in range(rng.randint(1, 4)):
            channel = rng.choice(tuple(INTERACTIONS))
            direction, summary = rng.choice(INTERACTIONS[channel])
            occurred_at = self._since_sign_up(timeline)
            self._add(
                Interaction,
                {
                    "customer": customer_id,
                    "occurred_at": occurred_at,
                    "direction": direction,
                    "channel": channel,
                    "summary": summary.format(product=rng.choice(self.catalogue)[0]),
                    "staff": self._staff(),
                },
            )
            timeline.saw(occurred_at)

    def _complaint(self, customer_id: int, language: str, timeline: Timeline) -> None:
        """A complaint somewhere in its lifecycle, with its status history and messages."""
        rng = self.rng
        complaint_id = self._new_id(Complaint)
        status = rng.choices(tuple(STATUS_PATHS), weights=(15, 20, 10, 20, 35))[0]
        severity = rng.choices(tuple(RESPONSE_TIMES), weights=(40, 40, 15, 5))[0]
        category = rng.choice(tuple(COMPLAINT_TEXTS[language]))
        subject, description = COMPLAINT_TEXTS[language][category]
        story = self._complaint_story(status, severity, language, timeline)
        staff = self._staff()
        for from_status, to_status in STATUS_PATHS[status]:
            self._add(
                ComplaintStatusChange,
                {
                    "complaint": complaint_id,
                    "from_status": from_status,
                    "to_status": to_status,
                    "changed_by_type": "staff",
                    "changed_by_staff": staff,
                    "changed_at": story.reached[to_status],
                },
            )
        for message in story.messages:
            self._add(
                ComplaintMessage,
                {
                    "complaint": complaint_id,
                    "kind": message.kind,
                    "author_type": message.author,
                    "author_staff": staff if message.author == "staff" else None,
                    "body": message.body,
                    "created_at": message.at,
                },
            )
        first_response_time, resolution_time = RESPONSE_TIMES[severity]
        settled = status in {"resolved", "closed"}
        redress = rng.choice(tuple(RESOLUTIONS)) if settled else ""
        voucher = _money(round(1000 * self.price_factor)) if redress == "voucher" else None
        rated = status == "closed" and rng.random() < 0.7
        satisfaction = (
            rng.choices((1, 2, 3, 4, 5), weights=(5, 5, 15, 35, 40))[0] if rated else None
        )
        channel = rng.choice(("in_store", "email", "phone", "web_form"))
        self._add(
            Complaint,
            {
                "id": complaint_id,
                "customer": customer_id,
                "location": rng.choice(self.setup.location_ids) if channel == "in_store" else None,
                "subject": subject,
                "description": description,
                "channel": channel,
                "category": category,
                "severity": severity,
                "status": status,
                "assignee": staff if status != "new" else None,
                "opened_at": story.opened_at,
                "first_response_due_at": story.opened_at + first_response_time,
                "due_at": story.opened_at + resolution_time,
                "first_responded_at": story.reached.get("in_progress"),
                "resolved_at": story.reached.get("resolved"),
                "closed_at": story.reached.get("closed"),
                "resolution": RESOLUTIONS[redress] if settled else "",
                "redress": redress,
                "redress_value": voucher,
                "satisfaction": satisfaction,
                "satisfaction_comment": "",
                "updated_at": story.last_change,
            },
        )
        timeline.saw(story.last_change)

    def _complaint_story(self, status, severity, language, timeline) -> ComplaintStory:
        """When the complaint was opened, answered and settled, and what was written."""
        rng = self.rng
        now = self.reference
        first_response_time, resolution_time = RESPONSE_TIMES[severity]

        def later(after: datetime, within: timedelta) -> datetime:
            """Usually within the deadline, sometimes late, never in the future."""
            return self._between(after, min(after + within * 1.3, now))

        # Settled complaints may date from any time since sign-up; open ones are recent enough
        # that only some have passed their deadline, as on a real complaints board.
        settled = status in {"resolved", "closed"}
        recent = max(timeline.created_at, now - resolution_time * 1.3)
        oldest = timeline.created_at if settled else recent
        story = ComplaintStory(self._between(oldest, now - timedelta(hours=1)))
        note = rng.choice(INTERNAL_NOTES)
        story.add("internal_note", "staff", note, later(story.opened_at, first_response_time))
        if status == "new":
            return story
        responded = later(story.opened_at, first_response_time)
        story.add("reply", "staff", STAFF_REPLIES[language][0], responded, reaching="in_progress")
        if status == "waiting_for_customer":
            asked = later(responded, first_response_time)
            story.add("reply", "staff", STAFF_REPLIES[language][1], asked, reaching=status)
        if settled:
            resolved = later(responded, resolution_time)
            if rng.random() < 0.5:
                answer = self._between(responded, resolved)
                story.add("reply", "customer", CUSTOMER_REPLIES[language], answer)
            story.add("reply", "staff", STAFF_REPLIES[language][2], resolved, reaching="resolved")
        if status == "closed":
            story.reach("closed", later(resolved, timedelta(days=7)))
        return story

    def _consent_events(
        self, customer_id: int, person: Person, source: str, timeline: Timeline
    ) -> set[str]:
        """Grants (and some later withdrawals); returns the purposes granted now."""
        rng = self.rng
        granted_now = set()
        for code, (share, needs) in CONSENT_UPTAKE.items():
            if (
                rng.random() >= share
                or (needs == "email" and not person.email)
                or (needs == "phone" and not person.phone)
            ):
                continue
            channel = rng.choice(CONSENT_CHANNELS[source])
            granted_at = timeline.created_at + timedelta(minutes=rng.randint(1, 20))
            self._consent(
                customer_id, code, True, channel, self._evidence(channel, granted_at), granted_at
            )
            timeline.saw(granted_at)
            if rng.random() < 0.15:
                withdrawn_at = max(granted_at + timedelta(minutes=5), self._since_sign_up(timeline))
                channel = (
                    "unsubscribe_link"
                    if code == "email_marketing"
                    else rng.choice(("self_service", "verbal"))
                )
                self._consent(
                    customer_id,
                    code,
                    False,
                    channel,
                    self._evidence(channel, withdrawn_at),
                    withdrawn_at,
                )
                timeline.saw(withdrawn_at)
            else:
                granted_now.add(code)
        return granted_now

    def _consent(self, customer_id, code, granted, channel, evidence, occurred_at) -> None:
        by = {"paper_form": "staff", "verbal": "staff", "import": "system"}.get(channel, "customer")
        self._add(
            ConsentEvent,
            {
                "customer": customer_id,
                "purpose": self.setup.purpose_ids[code],
                "wording_version": self.setup.purpose_versions[code],
                "granted": granted,
                "channel": channel,
                "recorded_by_type": by,
                "recorded_by_staff": self._staff() if by == "staff" else None,
                "evidence": evidence,
                "occurred_at": occurred_at,
            },
        )

    def _evidence(self, channel: str, when: datetime) -> str:
        if channel == "paper_form":
            self.form_number += 1
            return f"Form {when.year}/{self.form_number % 10000:04d}"
        if channel == "verbal":
            return "Confirmed aloud at the counter"
        if channel == "web_form":
            return f"Web form submission {self.rng.randint(100000, 999999)}"
        if channel == "import":
            return "Consent column of the imported file"
        if channel == "unsubscribe_link":
            return "Unsubscribe link in a newsletter"
        return ""

    def _tags(
        self, customer_id, locale, bought: PurchaseSummary, newsletter, wholesale
    ) -> list[str]:
        rng = self.rng
        names = []
        if bought.count >= 8 or bought.spent_cents >= 40_000 * self.price_factor:
            names.append("vip")
        if newsletter:  # only people whose e-mail consent stands
            names.append("newsletter")
        if wholesale:
            names.append("wholesale")
        if rng.random() < 0.4:
            names.extend(rng.sample(locale.interests, rng.randint(1, 2)))
        for name in names:
            self._add(CustomerTag, {"customer": customer_id, "tag": self.setup.tag_ids[name]})
        return names

    def _customer_row(self, customer_id, person, source, timeline, wholesale, bought) -> dict:
        rng = self.rng
        locale = person.locale
        language = locale.language
        channel = self._preferred_channel(person)
        birth_date = None
        if rng.random() < 0.45:
            age_days = int(rng.triangular(18, 85, 38) * 365.25)
            birth_date = self.reference.date() - timedelta(days=age_days)
        gender_roll = rng.random()
        gender = (
            ("female" if person.female else "male")
            if gender_roll < 0.35
            else ("prefer not to say" if gender_roll < 0.4 else "")
        )
        external = source in {"import", "vendor_list"}
        confirmed_at = None
        if external and rng.random() < 0.4:
            confirmed_at = self._since_sign_up(timeline)
            timeline.saw(confirmed_at)
        detail = {"import": IMPORT_FILES, "vendor_list": VENDOR_LISTS}.get(source)
        detail = rng.choice(detail) if detail else ""
        return {
            "id": customer_id,
            "given_name": person.given,
            "family_name": person.family,
            "name_order": "family_first" if locale.family_first else "given_first",
            "display_name": locale.display_name(person.given, person.family),
            "company": rng.choice(COMPANIES[language]) if wholesale else "",
            "preferred_channel": channel,
            "preferred_language": language,
            "birth_date": birth_date,
            "gender": gender,
            "note": rng.choice(NOTES[language]) if rng.random() < 0.1 else "",
            "source": source,
            "source_detail": detail,
            "external": external,
            "confirmed_at": confirmed_at,
            "import_job": None,
            "tier": "",
            "tier_manual": False,
            "rfm_score": "",
            "lifetime_value": _money(bought.spent_cents),
            "purchase_count": bought.count,
            "last_purchase_at": bought.last_at,
            "created_at": timeline.created_at,
            "updated_at": self._between(timeline.created_at, timeline.last_activity_at),
            "last_activity_at": timeline.last_activity_at,
            "erased_at": None,
        }

    def _preferred_channel(self, person: Person) -> str:
        roll = self.rng.random()
        if person.email and roll < 0.6:
            return "email"
        if person.phone and roll < 0.85:
            return "phone" if roll < 0.75 else "sms"
        return "post" if roll < 0.93 else "none"


# --- Entry point ---------------------------------------------------------------------------


def generate(
    customers: int, seed: int = 1, currency: str | None = None, *, today: date | None = None
) -> dict[str, int]:
    """Add `customers` generated customers with purchases, interactions, complaints and consent.

    The same seed into an empty database on the same reference day (`today`, default: the
    current UTC date) gives identical rows. Into a database that already has customers, the
    first new id joins the seed, so a second run adds new people rather than copies.
    Returns the number of rows added per kind. All or nothing: one transaction.
    """
    if customers < 0:
        raise ValueError("customers must not be negative")
    currency = currency or settings.get("currency")
    reference = datetime.combine(today or utcnow().date(), time())
    counts = dict.fromkeys(COUNT_LABELS.values(), 0)
    with write_transaction(db):
        setup = _prepare_setup(reference)
        first_ids = {model: bulk.next_id(model) for model in ASSIGNED_IDS}
        rng = random.Random(f"kartoteka-demo:{seed}:{first_ids[Customer]}")
        builder = DemoBuilder(rng, setup, currency, reference, first_ids)
        for start in range(0, customers, BATCH_CUSTOMERS):
            for _ in range(min(BATCH_CUSTOMERS, customers - start)):
                builder.add_customer()
            for model, rows in builder.take_rows().items():
                bulk.insert_rows(model, rows)
                counts[COUNT_LABELS[model]] += len(rows)
        if customers:
            bulk.reset_sequences(ASSIGNED_IDS)
    counts.update({kind: n for kind, n in setup.created.items() if n})
    return counts
