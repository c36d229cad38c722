"""Bad input on every workspace form gets its message beside the field, in the user's language,
and changes nothing."""

from pathlib import Path

import pytest
from babel.support import Translations
from markupsafe import escape

from portal.models import Customer, CustomerTag, Interaction, Purchase, Segment, StaffAccount
from tests.conftest import csrf_token_from
from tests.factories import make_customer

CATALOGS = Path(__file__).resolve().parent.parent / "translations"
LANGUAGES = ["pl", "ru", "zh"]


def translated(language: str, english: str) -> str:
    text = Translations.load(str(CATALOGS), [language]).gettext(english)
    assert text != english, f"{english!r} has no {language} translation"
    return str(escape(text))


def counts():
    return [
        m.select().count()
        for m in (Customer, Purchase, Interaction, CustomerTag, Segment, StaffAccount)
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_form_answers_bad_input_in_the_users_language(app, staff_member, owner, language):
    from tests.conftest import sign_in

    customer = make_customer("Anna", "Nowak")
    headers = {"Accept-Language": language}
    staff = app.test_client()
    sign_in(staff, staff_member)
    token = csrf_token_from(staff, "/customers")
    before = counts()

    cases = [
        (
            "/customers/new",
            {"given_name": "", "family_name": "", "email": "nope"},
            "given_name",
            "Enter a given name, a family name, or both.",
        ),
        (
            "/customers/new",
            {"given_name": "Ewa", "email": "nope"},
            "email",
            "Enter an e-mail address like name@example.com.",
        ),
        (
            f"/customers/{customer.id}/interactions",
            {"summary": "", "direction": "in", "channel": "call"},
            "summary",
            "Write what was said or done.",
        ),
        ("/customers/bulk-tag", {"tag": "", "customer_ids": [customer.id]}, "tag", "Enter a tag."),
        ("/segments", {"name": "", "filters": "{}"}, "name", "Give the segment a name."),
    ]
    for path, data, field, english in cases:
        response = staff.post(path, data={"csrf_token": token, **data}, headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, path
        assert f'id="{field}-error"' in html or f'-{field}-error"' in html, path
        if english:
            assert english not in html and translated(language, english) in html, (path, field)

    purchase = staff.post(
        f"/customers/{customer.id}/purchases", data={"csrf_token": token}, headers=headers
    )
    english = "Enter at least one line with a product and a price."
    assert purchase.status_code == 422
    assert translated(language, english) in purchase.get_data(as_text=True)

    listing = staff.get("/customers?min_spend=50&max_spend=5", headers=headers).get_data(
        as_text=True
    )
    assert translated(language, "Must not be less than “Spent at least”.") in listing

    boss = app.test_client()
    sign_in(boss, owner)
    owner_token = csrf_token_from(boss, "/owner/staff")
    response = boss.post(
        "/owner/staff",
        data={
            "csrf_token": owner_token,
            "name": "",
            "email": "x@example.com",
            "password": "long enough pw",
        },
        headers=headers,
    )
    assert translated(language, "Enter the person's name.") in response.get_data(as_text=True)

    assert counts() == before
