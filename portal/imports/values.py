"""Reading single values the way exports and people write them.

Where a choice had to be made:

- Text is trimmed and kept as written. A value starting with = + - @ is data, never a
  formula: it is kept as text (exports neutralise it); a full name starting so is not split.
- Phone numbers: Shopify's leading ' is dropped; numbers without a country code belong to
  `options.default_region`; several numbers in one cell may be separated by , or ;.
- Dates: 2024-03-31 (with a time and UTC offset, as Shopify writes them), 31.03.2024,
  31/03/2024 (03/31/2024 when `options.day_first` is False, or when the first part cannot be a
  month), 2024年3月31日, two-digit years (31.03.85). Times without an offset are in
  `options.timezone`; all datetimes come out as naive UTC, as the models store them.
- Amounts: currency symbols and codes around the number are dropped ("1234.56 zł", "$12");
  spaces and apostrophes group thousands ("1 234,56", "1'234.50"); when both "," and "." occur
  the last one is the decimal mark ("1,234.56", "1.234,56"); a single "," or "." followed by
  exactly three digits after 1-3 digits groups thousands ("1,234" is 1234, as exports write
  it), otherwise it is the decimal mark ("12,5", "0,500"). A negative amount is -12.50 or
  (12.50). Quantities take "," or "." as the decimal mark always ("1,5").
- Yes/no: yes y true t 1 x ✓ on да д tak 是 对 subscribed, opted in, accepted, granted;
  no n false f 0 off нет н nie 否 不 unsubscribed, not subscribed, opted out, declined;
  blank means "not stated" (None); anything else is a problem, never a guess about consent.
- Tags: one comma-separated list (Shopify quotes it), also split at ; and Chinese commas.
"""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache

from .. import customers
from ..search import is_han
from .mapping import header_key

MAX_AMOUNT = Decimal("999999999999")  # money columns hold 14 digits, 2 after the point

# --- Names ---------------------------------------------------------------------------------


# Chinese family names of two characters; every other one is a single character.
_COMPOUND_SURNAME_LIST = (
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 轩辕 端木 独孤 "
    "南宫 西门 百里 呼延 闻人 万俟 澹台 公冶 太史 申屠 钟离 歐陽 司馬 諸葛 東方 長孫"
)
_COMPOUND_SURNAMES = frozenset(_COMPOUND_SURNAME_LIST.split())
_PATRONYMIC = re.compile(r".+(?:ович|евич|ич|овна|евна|ична|инична)$")
_PARTICLE_LIST = "van von de da di del della der den du la le ter ten bin al"
_PARTICLES = frozenset(_PARTICLE_LIST.split())


def split_full_name(text: str) -> tuple[str, str, str]:
    """(given name, family name, name order) of a name written in one cell.

    "王小明" -> ("小明", "王", family_first); "Иванов Иван Иванович" -> ("Иван Иванович",
    "Иванов", family_first); "Nowak, Anna" -> ("Anna", "Nowak", given_first);
    "Ludwig van Beethoven" -> ("Ludwig", "van Beethoven", given_first).
    """
    text = " ".join(text.split())
    if not text or text[0] in "=+-@":
        return text, "", "given_first"  # formula-like text is kept whole, as data
    compact = text.replace(" ", "")
    if all(is_han(char) or char == "·" for char in compact):
        if " " in text:
            family, given = text.split(" ", 1)
            return given.replace(" ", ""), family, "family_first"
        if "·" in text or len(text) == 1:
            return text, "", "family_first"  # transcribed foreign names, or one character
        length = 2 if text[:2] in _COMPOUND_SURNAMES and len(text) > 2 else 1
        return text[length:], text[:length], "family_first"
    if "," in text:
        family, given = (part.strip() for part in text.split(",", 1))
        return given, family, "given_first"
    words = text.split(" ")
    if len(words) == 1:
        return text, "", "given_first"
    lowered = [word.lower() for word in words]
    if (
        len(words) == 3
        and _PATRONYMIC.fullmatch(lowered[2])
        and not _PATRONYMIC.fullmatch(lowered[1])
    ):
        return f"{words[1]} {words[2]}", words[0], "family_first"  # Фамилия Имя Отчество
    for index in range(1, len(words) - 1):
        if lowered[index] in _PARTICLES:
            return " ".join(words[:index]), " ".join(words[index:]), "given_first"
    return " ".join(words[:-1]), words[-1], "given_first"


# --- Values --------------------------------------------------------------------------------

_YES_WORDS = "yes y true t 1 x ✓ ✔ on да д tak 是 对 對 subscribed optedin optin accepted granted"
_NO_WORDS = (
    "no n false f 0 off нет н nie 否 不 不是 unsubscribed notsubscribed optedout optout "
    "declined denied"
)
_YES = frozenset(_YES_WORDS.split())
_NO = frozenset(_NO_WORDS.split())


@lru_cache(maxsize=1024)
def parse_yes_no(text: str) -> bool | None:
    """True, False, or None when the text is neither (blank is the caller's business)."""
    key = header_key(text)
    if key in _YES or text.strip() in _YES:
        return True
    if key in _NO:
        return False
    return None


_CURRENCY_SIGNS = {
    "zł": "PLN",
    "zl": "PLN",
    "€": "EUR",
    "$": "USD",
    "£": "GBP",
    "₽": "RUB",
    "руб": "RUB",
    "руб.": "RUB",
    "р.": "RUB",
    "¥": "CNY",
    "￥": "CNY",
    "元": "CNY",
    "rmb": "CNY",
    "₴": "UAH",
    "kč": "CZK",
}


def currency_code(text: str) -> str:
    """An ISO 4217 code ("PLN") for a code or a common sign ("zł"); "" if it is neither."""
    value = text.strip()
    if len(value) == 3 and value.isascii() and value.isalpha():
        return value.upper()
    return _CURRENCY_SIGNS.get(value.lower(), "")


# After spaces and apostrophes (thousands grouping) are taken out: an optional sign or
# parentheses, a currency code or sign of up to four characters before or after, the number.
_CURRENCY = r"(?:[^\W\d_]{1,4}\.?|[^\w\s.,()\-−+]{1,2})"
_AMOUNT = re.compile(
    rf"(?P<open>\()?(?P<sign>[-−+])?{_CURRENCY}?(?P<sign2>[-−+])?"
    rf"(?P<number>\d[\d.,]*|[.,]\d+){_CURRENCY}?(?P<close>\))?"
)
_GROUPING = re.compile(r"[\s'’]")


def parse_amount(text: str) -> Decimal:
    """A money amount as exports and people write it (see the module docstring); ValueError."""
    match = _AMOUNT.fullmatch(_GROUPING.sub("", text))
    if match is None or bool(match["open"]) != bool(match["close"]):
        raise ValueError(text)
    if match["sign"] and match["sign2"]:
        raise ValueError(text)
    negative = bool(match["open"]) or "-" in (match["sign"] or "") + (match["sign2"] or "")
    negative = negative or "−" in (match["sign"] or "") + (match["sign2"] or "")
    value = match["number"].rstrip(".,")
    if "," in value and "." in value:
        decimal_mark = "," if value.rfind(",") > value.rfind(".") else "."
        grouping = "." if decimal_mark == "," else ","
        value = value.replace(grouping, "").replace(decimal_mark, ".")
    elif "," in value or "." in value:
        mark = "," if "," in value else "."
        whole, _, fraction = value.rpartition(mark)
        if value.count(mark) > 1:
            value = value.replace(mark, "")  # 1.234.567
        elif len(fraction) == 3 and 1 <= len(whole) <= 3 and whole.strip("0"):
            value = whole + fraction  # 1,234
        else:
            value = f"{whole or 0}.{fraction}"
    if not re.fullmatch(r"\d+(?:\.\d+)?", value):
        raise ValueError(text)
    amount = Decimal(value)
    if amount > MAX_AMOUNT:
        raise ValueError(text)
    return -amount if negative else amount


def parse_quantity(text: str) -> Decimal:
    value = text.strip().replace(",", ".").replace(" ", "").replace("\u00a0", "")
    if not re.fullmatch(r"-?\d{1,9}(?:\.\d{1,3})?", value):
        raise ValueError(text)
    return Decimal(value)


_ISO_DATE = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([AaPp][Mm])?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?"
)
_LOCAL_DATE = re.compile(
    r"(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})"
    r"(?:[T\s,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([AaPp][Mm])?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?"
)
_CHINESE_DATE = re.compile(
    r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?"
    r"(?:\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})\s*秒?)?)?"
)


def _date_parts(text: str, day_first: bool):
    """(year, month, day, hour, minute, second, offset minutes or None); ValueError."""
    value = text.strip()
    if match := _ISO_DATE.fullmatch(value):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
        time_groups, offset = match.groups()[3:7], match[8]
    elif match := _LOCAL_DATE.fullmatch(value):
        first, separator, second, year = int(match[1]), match[2], int(match[3]), match[4]
        year = _four_digit_year(year)
        if separator == "." or first > 12:
            day, month = first, second
        elif second > 12:
            month, day = first, second
        elif day_first:
            day, month = first, second
        else:
            month, day = first, second
        time_groups, offset = match.groups()[4:8], match[9]
    elif match := _CHINESE_DATE.fullmatch(value):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
        time_groups, offset = (*match.groups()[3:6], None), None
    else:
        raise ValueError(text)
    hour, minute, second, meridiem = time_groups
    hour, minute, second = int(hour or 0), int(minute or 0), int(second or 0)
    if meridiem:
        if not 1 <= hour <= 12:
            raise ValueError(text)
        hour = hour % 12 + (12 if meridiem.lower() == "pm" else 0)
    return year, month, day, hour, minute, second, _offset_minutes(offset)


def _four_digit_year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        this_year = date.today().year
        year += 2000
        if year > this_year:
            year -= 100
    return year


def _offset_minutes(text: str | None) -> int | None:
    if not text:
        return None
    if text in ("Z", "UTC", "GMT"):
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:]))


def parse_date(text: str, *, day_first: bool = True) -> date:
    """A calendar date (a time after it is ignored); ValueError if it is not one."""
    year, month, day, *_ = _date_parts(text, day_first)
    if not 1800 <= year <= 2200:
        raise ValueError(text)
    return date(year, month, day)


def parse_datetime(text: str, *, day_first: bool = True, zone=UTC) -> datetime:
    """A moment as naive UTC; times without an offset are in `zone`. ValueError if not one."""
    year, month, day, hour, minute, second, offset = _date_parts(text, day_first)
    if not 1800 <= year <= 2200:
        raise ValueError(text)
    moment = datetime(year, month, day, hour, minute, second)
    if offset is not None:
        return moment - timedelta(minutes=offset)
    return moment.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


# --- Countries and languages ------------------------------------------------------------------

LANGUAGES = customers.LANGUAGES
_COUNTRY_ALIASES = {
    "usa": "US",
    "unitedstatesofamerica": "US",
    "uk": "GB",
    "england": "GB",
    "greatbritain": "GB",
    "scotland": "GB",
    "wales": "GB",
    "rf": "RU",
    "рф": "RU",
    "russianfederation": "RU",
    "prc": "CN",
    "中华人民共和国": "CN",
    "大陆": "CN",
    "中国大陆": "CN",
    "pol": "PL",
    "rus": "RU",
    "chn": "CN",
    "deu": "DE",
    "ukr": "UA",
    "blr": "BY",
    "gbr": "GB",
}


@cache
def _countries() -> dict[str, str]:
    from babel import Locale

    names: dict[str, str] = {}
    for language in LANGUAGES:
        for code, name in Locale.parse(language).territories.items():
            if len(code) == 2 and code.isalpha():
                names.setdefault(header_key(name), code)
                names.setdefault(code.lower(), code)
    names.update(_COUNTRY_ALIASES)
    return names


@lru_cache(maxsize=4096)
def country_code(text: str) -> str:
    """ISO 3166 alpha-2 code of a country written as a code or a name in en/ru/pl/zh; or ""."""
    return _countries().get(header_key(text), "")


@cache
def _languages() -> dict[str, str]:
    from babel import Locale

    names: dict[str, str] = {}
    for shown_in in LANGUAGES:
        names_in = Locale.parse(shown_in).languages
        for language in LANGUAGES:
            names[header_key(names_in[language])] = language
    for language in LANGUAGES:
        names[language] = language
    names.update({"汉语": "zh", "普通话": "zh", "chinese": "zh", "англ": "en", "рус": "ru"})
    return names


@lru_cache(maxsize=1024)
def language_code(text: str) -> str:
    """en, ru, pl or zh for a language code ("pl-PL", "zh_CN") or name; "" otherwise."""
    value = text.strip().replace("_", "-")
    if "-" in value and value.split("-", 1)[0].lower() in LANGUAGES:
        return value.split("-", 1)[0].lower()
    return _languages().get(header_key(value), "")
