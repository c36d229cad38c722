"""Hostile values for the bad-input tests: what a careless paste, a crafted request or an
attacker sends instead of what a form asks for, as Hypothesis strategies.

`assert_escaped` checks that nothing sent comes back as live HTML.
"""

import re

from hypothesis import strategies as st
from markupsafe import escape

# --- Fixed values --------------------------------------------------------------------------

SQL = [
    "' OR 1=1 --",
    '" OR ""="',
    "'; DROP TABLE customer; --",
    "; DROP TABLE customer;",
    "1; SELECT pg_sleep(5); --",
    "' UNION SELECT password_hash FROM staff_account --",
    "%' AND '1'='1",
    "\\'; --",
    "O'Brien",
]
# Each carries a marker that shows up only if the page printed it as live HTML.
HTML = [
    '<script>alert("kx")</script>',
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    '</textarea><script>alert("kx")</script>',
    '<b class="kx-probe">bold</b>',
    '" autofocus onfocus="alert(1)',
    "javascript:alert(1)",
    '{{ "kx-" ~ "ssti" }}',
    "{% raw %}",
    "&lt;b&gt; &amp; &#60;",
]
LIVE_HTML_MARKERS = [
    "<script>alert(",
    "<img src=x onerror",
    "<svg onload",
    '<b class="kx-probe"',
    '" autofocus onfocus="alert',
    "kx-ssti",
]
CONTROL = [
    "\x00",
    "Anna\x00Nowak",
    "\r\n",
    "line one\r\nline two",
    "\r",
    "\t",
    "\x1b[31mred",
    "\x08\x07",
    "\x7f",
    "\x85",
    "\u202eevil\u202c",  # right-to-left override
    "\u2066isolated\u2069",
    "\u200b",  # zero-width space
    "\ufeff",  # byte order mark
    "\u2028",  # line separator
    "\ufffe",  # a noncharacter
]
SCRIPTS = [
    "Łukasz Żółć-Wąsowski",
    "Ярослав Щукин",
    "Фёдор Ёлкин",
    "张伟",
    "欧阳 娜娜",
    "Nagy Anna",
    "🙂",
    "👩‍👩‍👧‍👦",
    "e\u0301le\u0300ve",  # combining accents
    "Z\u0337\u0322a\u0334l\u0337g\u0336o\u0335",
    "ǅ ß İ ﬁ",
    "Ωμέγα",
    "עברית",
    "العربية",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
]
NUMBERS = [
    "1e309",
    "-1e309",
    "1E+400",
    "NaN",
    "nan",
    "sNaN",
    "-NaN",
    "Infinity",
    "-Infinity",
    "inf",
    "-0",
    "-0.0",
    "0",
    "-1",
    "0.001",
    "0.0000001",
    "99999",
    "99999.999",
    "100000",
    "999999999.99",
    "1000000000",
    "99999999999999999999999",
    "-99999999999999999999999",
    "2147483648",
    "9223372036854775808",
    "1,5",
    "1.5.5",
    "1 000,50",
    "0x10",
    "1_000",
    "١٢٣",  # Arabic-Indic digits
    "１２３",  # full-width digits
    "²",  # a digit to str.isdigit, not to int
    "²²²²²²",
    "١٢٣٤٥٦",
    "½",
    "",
    " ",
]
DATES = [
    "0000-00-00",
    "99999-01-01",
    "0001-01-01",
    "0001-01-02",
    "1899-12-31",
    "1900-01-01",
    "9999-12-31",
    "2024-02-30",
    "2024-13-01",
    "2024-1-1",
    "20240101",
    "-2024-01-01",
    "2024-01-01T00:00",
    "today",
]
DATETIMES = [
    "0000-00-00T00:00",
    "0001-01-01T00:00",
    "0001-01-01 00:00:00",
    "9999-12-31T23:59",
    "99999-01-01T00:00",
    "2024-02-30T10:00",
    "2024-01-01T24:00",
    "2024-01-01T23:59:60",
    "2024-01-01T10:00Z",
    "2024-01-01T10:00+02:00",
    "2024-03-31T02:30",  # a time that does not exist in Central Europe (clocks go forward)
    "1970-01-01T00:00",
]
TIMES = ["09:00", "9:00", "24:00", "23:59:60", "-1:00", "12:60", "0900", "noon", "09:00:00"]
EMAILS = [
    "a@b",
    "name@example.com",
    "NAME@EXAMPLE.COM",
    " spaced@example.com ",
    "<script>@example.com",
    '"quoted name"@example.com',
    "user@[127.0.0.1]",
    "łukasz@przykład.pl",
    "张伟@例子.中国",
    "a\x00@example.com",
    "x" * 300 + "@example.com",
    "@example.com",
    "a@@example.com",
]
PHONES = [
    "+48 601 555 012",
    "601555012",
    "+1",
    "+999 123",
    "+48 ٦٠١ ٥٥٥ ٠١٢",  # Arabic-Indic digits, which phone libraries accept
    "＋４８６０１５５５０１２",  # full width
    "1e309",
    "9" * 100,
    "+48\x00601555012",
    "tel:+48601555012",
]
SEARCH_SYNTAX = [
    '"',
    '""',
    "'",
    "*",
    "**",
    "NEAR(",
    "NEAR(a b, 2)",
    "AND OR NOT",
    "a AND",
    "OR",
    "-",
    "^",
    "%",
    "_",
    "%_%",
    "\\",
    "\\\\",
    "a:b",
    "{a b}",
    "(",
    ")",
    "!!!???...",
    "&&||",
    "@",
    "+48",
    ":*",
    "&",
    "|",
    "!",
]
# Digits that are not ASCII: str.isdigit says yes, int or the database may say no.
DIGITS = ["²", "²²²²²²", "١٢٣٤٥٦", "１２３４５６", "৪২"]
FIXED = SQL + HTML + CONTROL + SCRIPTS + DIGITS

# --- Strategies ----------------------------------------------------------------------------

# Any character a form can carry (surrogates cannot be encoded in a request).
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
mixed_scripts = st.text(
    st.sampled_from(list("aąłŁżźćńóśęAZ ЖжЁёщЩ张伟李娜欧阳 0123456789-'.,\u0301\u0308🙂👍")),
    min_size=1,
    max_size=40,
)
long_text = st.builds(
    lambda piece, times: piece * times,
    st.sampled_from(["x", "Ł", "张", "🙂", "<b>", "a b ", "' OR 1=1 -- "]),
    st.sampled_from([61, 101, 201, 301, 321, 501, 2001, 5001, 10_001, 20_001]),
)
combined = st.lists(st.sampled_from(FIXED), min_size=2, max_size=4).map(" ".join)


def hostile_text():
    """Text anyone can type or send: injections, markup, controls, every script, very long."""
    return st.one_of(st.sampled_from(FIXED), any_text, mixed_scripts, long_text, combined)


def _special(values):
    return st.one_of(st.sampled_from(values), st.sampled_from(values), hostile_text())


KINDS = {
    "text": hostile_text(),
    "number": _special(NUMBERS),
    "date": st.one_of(
        _special(DATES), st.dates().map(lambda day: day.isoformat()), st.sampled_from(DATES)
    ),
    "datetime": st.one_of(
        _special(DATETIMES),
        st.datetimes().map(lambda moment: moment.isoformat(timespec="minutes")),
        st.sampled_from(DATETIMES),
    ),
    "time": _special(TIMES),
    "email": _special(EMAILS),
    "phone": _special(PHONES),
    "search": st.one_of(
        st.sampled_from(SEARCH_SYNTAX),
        st.lists(st.sampled_from(SEARCH_SYNTAX + SCRIPTS), min_size=2, max_size=5).map(" ".join),
        hostile_text(),
    ),
}


def value_for(kind: str, choices=()):
    """A hostile value for a field of this kind; a choice field also gets its real choices."""
    strategy = KINDS[kind]
    if choices:
        strategy = st.one_of(st.sampled_from(list(choices)), strategy)
    return strategy


# --- Checks --------------------------------------------------------------------------------

_TAG_START = re.compile(r"<[A-Za-z/!]")


def assert_escaped(html: str, values) -> None:
    """Nothing sent comes back as live HTML: markers never raw, tag-bearing text never verbatim."""
    for marker in LIVE_HTML_MARKERS:
        if any(marker in str(value) for value in values):
            assert marker not in html, f"{marker!r} came back unescaped"
    for value in values:
        text = str(value).strip()
        if len(text) >= 8 and _TAG_START.search(text) and text != str(escape(text)):
            assert text not in html, f"{text[:80]!r} came back unescaped"
