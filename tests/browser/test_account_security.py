"""In Chromium: the pages run under the strict Content-Security-Policy without a single
violation (htmx included), and an owner sets up two-factor sign-in, keeps the recovery codes
and signs in with the app's code; screenshots in the four languages."""

import re

import pyotp
import pytest

from portal.accounts import create_staff
from tests.browser.htmx import wait_until_settled
from tests.browser.test_sign_in import submit_sign_in
from tests.conftest import PASSWORD
from tests.factories import make_customer

pytestmark = pytest.mark.browser

# Collects every violation the browser reports, from the first script on.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def test_pages_and_htmx_run_without_a_policy_violation(live_server, chromium, owner, screenshot):
    customer = make_customer("秀英", "王", order="family_first", phone="+8613812345678")
    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    refused = []
    page.on(
        "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
    )
    submit_sign_in(page, live_server, owner.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    policy = page.request.get(f"{live_server}/").headers["content-security-policy"]
    assert "script-src 'self'" in policy  # the check below means something only with the policy

    for path in (
        "/",
        "/customers",
        f"/customers/{customer.id}",
        "/account",
        "/owner/staff",
        "/owner/privacy",
        "/owner/imports",
        "/owner/reports",
        "/owner/audit",
    ):
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__violations") == [], path
    # htmx still works under the policy: the quick search fills its results as one types.
    page.keyboard.press("/")
    page.keyboard.type("秀")
    page.locator("#quick-search-results [role=option]").first.wait_for()
    wait_until_settled(page)
    assert page.evaluate("window.__violations") == []
    assert refused == []
    context.close()


@pytest.mark.parametrize(
    "locale, language, heading",
    [
        ("en-US", "en", "Set up two-factor sign-in"),
        ("ru-RU", "ru", None),
        ("pl-PL", "pl", None),
        ("zh-CN", "zh", None),
    ],
)
def test_an_owner_sets_up_two_factor_and_signs_in_with_the_code(
    app, live_server, chromium, screenshot, locale, language, heading
):
    owner = create_staff("Nina Owner", "nina@example.com", PASSWORD, role="owner")
    create_staff("Sam Staff", "sam@example.com", PASSWORD)  # so the staff page shows actions
    context = chromium.new_context(locale=locale, viewport={"width": 1200, "height": 900})
    page = context.new_page()
    submit_sign_in(page, live_server, owner.email, PASSWORD)
    page.wait_for_url(f"{live_server}/account/two-factor")
    assert page.locator("html").get_attribute("lang") == language
    if heading:
        assert page.locator("h1").inner_text() == heading
    assert page.locator("figure.qr svg").is_visible()
    screenshot(page, f"two-factor-setup-{language}")

    secret = page.locator("code.secret").inner_text().replace(" ", "")
    page.locator("#code").fill("000000")
    page.locator("button[type=submit].primary").click()
    page.locator("#code-error").wait_for()  # the message next to the field
    page.locator("#code").fill(pyotp.TOTP(secret).now())
    page.locator("button[type=submit].primary").click()
    page.locator(".recovery-codes").wait_for()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    screenshot(page, f"two-factor-codes-{language}")

    page.goto(f"{live_server}/account")
    screenshot(page, f"my-account-{language}")
    page.goto(f"{live_server}/owner/staff")
    screenshot(page, f"staff-accounts-{language}")

    # Sign out, and in again: this time the code comes second.
    page.locator("form[action='/sign-out'] button").click()
    page.goto(f"{live_server}/sign-in")
    page.locator("#email").fill(owner.email)
    page.locator("#password").fill(PASSWORD)
    page.locator("button[type=submit].primary").click()
    page.wait_for_url(f"{live_server}/sign-in/code")
    screenshot(page, f"two-factor-second-step-{language}")
    page.locator("#code").fill(codes[0])  # a recovery code, as after losing the phone
    page.locator("button[type=submit].primary").click()
    page.wait_for_url(f"{live_server}/")
    page.locator(".flash-warning").wait_for()
    context.close()
