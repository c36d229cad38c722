"""In a real browser, the owner filters the customer list, exports what it shows as XLSX and
downloads the file from the job's page (issue 8, item 7); the export form follows the filters
HTMX swaps in. Screenshots land in test-results/screenshots/."""

import io

import pytest
from openpyxl import load_workbook

from tests.browser.htmx import wait_for, wait_until_settled
from tests.browser.test_sign_in import submit_sign_in
from tests.conftest import PASSWORD
from tests.factories import make_customer

pytestmark = pytest.mark.browser


def test_owner_exports_the_filtered_list_and_downloads_it(
    live_server, chromium, screenshot, owner, engine
):
    wanted = [
        make_customer("Łucja", "Wąsowska", tags=["vip"], email="lucja@example.pl"),
        make_customer("小明", "王", order="family_first", tags=["vip"]),
    ]
    make_customer("Anna", "Nowak")
    context = chromium.new_context(
        locale="pl-PL", viewport={"width": 1200, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    submit_sign_in(page, live_server, owner.email, PASSWORD)
    page.goto(f"{live_server}/customers")
    page.locator("#tag").first.fill("vip")
    page.locator("#tag").first.press("Enter")
    wait_for(page, "document.querySelectorAll('.customer-table tbody tr').length === 2")
    wait_until_settled(page)

    page.locator("#export-file_format").select_option("xlsx")
    screenshot(page, f"export-list-pl-{engine}")
    page.locator(".export-form button[type=submit]").click()
    page.wait_for_url("**/owner/jobs/*")
    download_link = page.locator("a[href$='/download']")
    download_link.wait_for()
    screenshot(page, f"export-job-pl-{engine}")
    with page.expect_download() as arrival:
        download_link.click()
    download = arrival.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as handle:
        sheet = load_workbook(io.BytesIO(handle.read())).worksheets[0]
    names = sorted(row[1] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert names == sorted(c.display_name for c in wanted)  # the filtered list, not everyone
    context.close()
