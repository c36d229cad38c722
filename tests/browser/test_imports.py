"""In a real browser, the owner imports customer files (issue 8, "done when"): a Shopify
customers CSV checked and imported by a real worker while the page follows its progress, an
XLSX with Cyrillic headings, and an import undone from its page. Screenshots of every import
page land in test-results/screenshots/ in English, Russian, Polish and Chinese."""

import re
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

from tests.browser.htmx import wait_until_settled
from tests.browser.test_sign_in import submit_sign_in
from tests.conftest import PASSWORD
from tests.import_files import csv_bytes, shopify_customers, xlsx_bytes
from tests.test_consent import make_purpose

pytestmark = pytest.mark.browser

MAPPING_URL = re.compile(r"/owner/imports/\d+/mapping$")
IMPORT_URL = re.compile(r"/owner/imports/\d+$")
WORKER_SECONDS = 60


def upload(page, live_server, path):
    page.goto(f"{live_server}/owner/imports")
    page.locator("#file").set_input_files(str(path))
    page.locator(".upload-form button[type=submit]").click()
    page.wait_for_url(MAPPING_URL)


def chosen_field(page, header: str) -> str:
    """The value of the select labelled with a column's heading."""
    return page.get_by_label(header, exact=True).input_value()


def search_names(page, query: str) -> list[str]:
    """What the quick-search box in the top bar offers for a query."""
    with page.expect_response(lambda r: "/search?" in r.url and unquote(r.url).endswith(query)):
        page.locator("#quick-search").fill(query)
    wait_until_settled(page)
    return page.locator("#quick-search-results [role=option] .result-name").all_inner_texts()


def test_shopify_customers_are_checked_imported_and_found(
    live_server, chromium, screenshot, owner, engine, tmp_path, job_worker
):
    make_purpose("email_marketing")
    path = tmp_path / "shopify customers.csv"
    path.write_bytes(shopify_customers())
    context = chromium.new_context(locale="en-GB", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    submit_sign_in(page, live_server, owner.email, PASSWORD)

    page.goto(f"{live_server}/owner/imports")
    screenshot(page, f"import-upload-en-{engine}")
    upload(page, live_server, path)
    assert page.locator("#column_0 option:checked").inner_text() == (
        "Customer ID in the other system"
    )
    assert chosen_field(page, "Customer ID") == "external_id"
    assert chosen_field(page, "First Name") == "given_name"
    assert chosen_field(page, "Email") == "email"
    assert chosen_field(page, "Total Spent") == "ignore"
    screenshot(page, f"import-mapping-en-{engine}")

    # The worker is not running yet: the page shows the check waiting, then follows it.
    page.locator(".mapping-form button.primary").click()
    page.wait_for_url(IMPORT_URL)
    expect(page.locator("#import-progress-bar")).to_be_visible()
    screenshot(page, f"import-checking-en-{engine}")
    page.evaluate("window.notReloaded = true")
    job_worker.start()
    report = page.locator("#check-heading")
    expect(report).to_be_visible(timeout=WORKER_SECONDS * 1000)
    assert page.evaluate("window.notReloaded === true")  # swapped in by HTMX, no reload
    problems = page.locator(".problems-table tbody tr")
    expect(problems).to_have_count(2)
    assert problems.nth(0).locator("td").nth(0).inner_text() == "4"
    assert problems.nth(0).locator("td").nth(1).inner_text() == "Email"
    assert "broken-at-example.com" in problems.nth(0).inner_text()
    assert problems.nth(1).locator("td").nth(0).inner_text() == "5"
    assert problems.nth(1).locator("td").nth(1).inner_text() == "Phone"
    expect(page.locator(".preview-table")).to_contain_text("Zofia Wiśniewska")
    screenshot(page, f"import-report-en-{engine}")

    page.get_by_role("button", name=re.compile(r"^Import the 3 good rows")).click()
    page.wait_for_url(IMPORT_URL)
    expect(page.locator("#done-heading")).to_be_visible(timeout=WORKER_SECONDS * 1000)
    expect(page.locator(".figures")).to_contain_text("3")
    screenshot(page, f"import-done-en-{engine}")

    assert search_names(page, "Wiśniew") == ["Zofia Wiśniewska"]
    context.close()


def test_an_xlsx_with_cyrillic_headings_is_mapped_imported_and_found(
    live_server, chromium, screenshot, owner, engine, tmp_path
):
    path = tmp_path / "клиенты.xlsx"
    path.write_bytes(
        xlsx_bytes(
            ["Имя", "Фамилия", "Телефон", "Эл. почта", "Город"],
            [
                ["Ольга", "Смирнова", "+7 916 123-45-67", "olga@example.ru", "Москва"],
                ["Пётр", "Иванов", "+7 495 765-43-21", "petr@example.ru", "Казань"],
            ],
        )
    )
    context = chromium.new_context(locale="ru-RU", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    submit_sign_in(page, live_server, owner.email, PASSWORD)
    page.goto(f"{live_server}/owner/imports")
    screenshot(page, f"import-upload-ru-{engine}")
    upload(page, live_server, path)
    fields = {h: chosen_field(page, h) for h in ("Имя", "Фамилия", "Телефон", "Эл. почта", "Город")}
    assert fields == {
        "Имя": "given_name",
        "Фамилия": "family_name",
        "Телефон": "phone",
        "Эл. почта": "email",
        "Город": "city",
    }
    assert page.locator("#sheet option:checked").inner_text() != ""
    screenshot(page, f"import-mapping-ru-{engine}")

    page.locator(".mapping-form button.primary").click()
    page.wait_for_url(IMPORT_URL)
    expect(page.locator(".preview-table")).to_contain_text("Ольга Смирнова")
    expect(page.locator(".problems-table")).to_have_count(0)  # nothing wrong
    screenshot(page, f"import-report-ru-{engine}")
    page.locator(".decision button.primary").click()
    expect(page.locator("#done-heading")).to_be_visible()
    screenshot(page, f"import-done-ru-{engine}")

    assert search_names(page, "Смирн") == ["Ольга Смирнова"]
    context.close()


def test_an_import_is_undone_from_its_page(
    live_server, chromium, screenshot, owner, engine, tmp_path
):
    path = tmp_path / "targi.csv"
    path.write_bytes(
        csv_bytes(
            ["Imię", "Nazwisko", "E-mail"],
            [
                {"Imię": "Łucja", "Nazwisko": "Wąsowska", "E-mail": "lucja@example.pl"},
                {"Imię": "Bożena", "Nazwisko": "Żółkiewska", "E-mail": "bozena@example.pl"},
            ],
        )
    )
    context = chromium.new_context(locale="pl-PL", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    submit_sign_in(page, live_server, owner.email, PASSWORD)
    upload(page, live_server, path)
    page.locator("#save_as").fill("Targi 2026")
    screenshot(page, f"import-mapping-pl-{engine}")
    page.locator(".mapping-form button.primary").click()
    page.wait_for_url(IMPORT_URL)
    page.locator(".decision button.primary").click()
    expect(page.locator("#done-heading")).to_be_visible()
    assert search_names(page, "Wąsow") == ["Łucja Wąsowska"]
    screenshot(page, f"import-done-pl-{engine}")

    page.locator(".undo button.danger").click()
    expect(page.locator("#undone-heading")).to_be_visible()
    screenshot(page, f"import-undone-pl-{engine}")
    assert search_names(page, "Wąsow") == []
    assert search_names(page, "Żółk") == []

    page.goto(f"{live_server}/owner/imports")
    expect(page.locator(".imports-table tbody tr")).to_have_count(1)
    expect(page.locator(".imports-table")).to_contain_text("targi.csv")
    expect(page.locator(".saved-mappings")).to_contain_text("Targi 2026")
    screenshot(page, f"import-index-pl-{engine}")
    context.close()


def test_the_import_pages_fit_a_phone_in_chinese(
    live_server, chromium, screenshot, owner, engine, tmp_path
):
    path = tmp_path / "客户.csv"
    path.write_bytes(
        csv_bytes(
            ["姓名", "手机", "邮箱", "城市", "备注"],
            [
                {
                    "姓名": "王秀英",
                    "手机": "+86 138 1234 5678",
                    "邮箱": "wang@example.cn",
                    "城市": "上海",
                },
                {"姓名": "张伟", "手机": "12", "邮箱": "zhang.wei@example.cn", "城市": "北京"},
                {"姓名": "李娜", "邮箱": "not-an-address", "备注": "常客，喜欢绿茶"},
            ],
        )
    )
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    submit_sign_in(page, live_server, owner.email, PASSWORD)
    page.goto(f"{live_server}/owner/imports")
    screenshot(page, f"import-upload-zh-phone-{engine}")
    upload(page, live_server, path)
    assert chosen_field(page, "姓名") == "full_name"
    assert fits_the_screen(page)
    screenshot(page, f"import-mapping-zh-phone-{engine}")

    page.locator(".mapping-form button.primary").click()
    page.wait_for_url(IMPORT_URL)
    preview = page.locator(".preview-table")
    expect(preview).to_contain_text("王秀英")
    assert fits_the_screen(page)
    box = page.locator(".table-scroll").first
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")  # the table scrolls in its box
    screenshot(page, f"import-report-zh-phone-{engine}")
    page.locator(".decision button.primary").click()
    expect(page.locator("#done-heading")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, f"import-done-zh-phone-{engine}")
    context.close()


def fits_the_screen(page) -> bool:
    """Nothing on the page is wider than the window (wide tables scroll inside their box)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
