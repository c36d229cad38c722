"""The owner's import pages (issue 8): upload, mapping, check report, import, undo.

Runs through Flask's test client with CSRF enforced, on SQLite and PostgreSQL; background
jobs run inline, so a check or an import has finished when its POST returns. The forms are
posted as a browser would: with the values the page shows, changed where a test says so.
"""

import csv
import io
import os
from html.parser import HTMLParser
from pathlib import Path

import pytest

from portal import search
from portal.imports import importer, staging
from portal.models import AuditEvent, ContactPoint, Customer, ImportJob, SavedMapping
from tests.conftest import csrf_token_from
from tests.import_files import csv_bytes, shopify_customers, xlsx_bytes
from tests.test_consent import make_purpose

HEADERS = ["First name", "Last name", "E-mail", "Phone", "City"]


# --- Reading pages like a browser -----------------------------------------------------------


class _FormReader(HTMLParser):
    """The fields of the form posting to `action`, with the values the page gives them."""

    def __init__(self, action: str):
        super().__init__()
        self.action = action
        self.inside = False
        self.values: dict[str, str] = {}
        self.select: str | None = None
        self.first_option: str | None = None
        self.selected = False
        self.buttons: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.inside = attrs.get("action") == self.action
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "file"):
            if attrs.get("type") in ("radio", "checkbox"):
                if "checked" in attrs:
                    self.values[name] = attrs.get("value", "on")
            else:
                self.values[name] = attrs.get("value", "")
        elif tag == "select" and name:
            self.select, self.first_option, self.selected = name, None, False
        elif tag == "option" and self.select:
            if self.first_option is None:
                self.first_option = attrs.get("value", "")
            if "selected" in attrs:
                self.values[self.select], self.selected = attrs.get("value", ""), True
        elif tag == "button":
            self.buttons.append(attrs)

    def handle_endtag(self, tag):
        if tag == "select" and self.select:
            if not self.selected and self.first_option is not None:
                self.values[self.select] = self.first_option
            self.select = None
        elif tag == "form":
            self.inside = False


def form_values(html: str, action: str) -> dict[str, str]:
    reader = _FormReader(action)
    reader.feed(html)
    assert reader.values, f"no form posting to {action}"
    return reader.values


def page_token(client, path: str) -> str:
    return form_values(client.get(path).get_data(as_text=True), path)["csrf_token"]


def upload(client, data: bytes, filename: str = "customers.csv"):
    token = page_token(client, "/owner/imports")
    return client.post(
        "/owner/imports",
        data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def uploaded(client, data: bytes, filename: str = "customers.csv") -> ImportJob:
    response = upload(client, data, filename)
    assert response.status_code == 303, response.get_data(as_text=True)
    job = ImportJob.select().order_by(ImportJob.id.desc()).first()
    assert response.headers["Location"] == f"/owner/imports/{job.id}/mapping"
    return job


def mapping_path(job: ImportJob) -> str:
    return f"/owner/imports/{job.id}/mapping"


def shown_mapping(client, job: ImportJob) -> dict[str, str]:
    return form_values(client.get(mapping_path(job)).get_data(as_text=True), mapping_path(job))


def post_mapping(client, job: ImportJob, **changes):
    """Post the mapping form as the page shows it, with some fields changed."""
    values = {**shown_mapping(client, job), **changes}
    return client.post(mapping_path(job), data=values)


def column_field(client, job: ImportJob, header: str) -> str:
    """The name of the select for one column of the file (`column_<n>`)."""
    html = client.get(mapping_path(job)).get_data(as_text=True)
    marker = f">{header}</label>"
    assert marker in html, f"no column {header}"
    before = html[: html.index(marker)]
    return before[before.rindex('for="') + 5 :].split('"')[0]


def action(client, job: ImportJob, step: str):
    """Press the page's button for a step (start, cancel, undo) with the page's token."""
    path = f"/owner/imports/{job.id}"
    token = page_token(client, "/owner/imports")
    return client.post(f"{path}/{step}", data={"csrf_token": token})


def text(response) -> str:
    return response.get_data(as_text=True)


def found(query: str) -> list[str]:
    return [match.display_name for match in search.find(query).customers]


def imports_folder(app) -> list[Path]:
    folder = Path(app.instance_path, "imports")
    return list(folder.iterdir()) if folder.exists() else []


def reload(job: ImportJob) -> ImportJob:
    return ImportJob.get_by_id(job.id)


# --- The whole way ----------------------------------------------------------------------------


def test_owner_uploads_maps_checks_imports_and_undoes_a_shopify_file(app, owner_client):
    purpose = make_purpose("email_marketing")
    index = owner_client.get("/owner/imports")
    assert index.status_code == 200
    assert 'accept=".csv,.xlsx' in text(index) and "256 MB" in text(index)

    job = uploaded(owner_client, shopify_customers(), "shopify customers.csv")
    page = text(owner_client.get(mapping_path(job)))
    assert "Shopify customers export" in page
    shown = shown_mapping(owner_client, job)
    assert shown[column_field(owner_client, job, "Customer ID")] == "external_id"
    assert shown[column_field(owner_client, job, "Email")] == "email"
    assert shown[f"consent_{purpose.id}"] == "column:accepts_email_marketing"
    assert ">zofia.w@example.com<" in page  # sample values

    checked = post_mapping(owner_client, job)
    assert checked.status_code == 303
    assert checked.headers["Location"] == f"/owner/imports/{job.id}"
    assert reload(job).status == "checked"
    report = text(owner_client.get(f"/owner/imports/{job.id}"))
    assert "What the file holds" in report
    assert "Wiśniewska" in report and "New customer" in report  # the preview
    assert "“broken-at-example.com” is not a valid e-mail address." in report
    assert '<td class="num">4</td>' in report and "<td>Email</td>" in report
    assert "Import the 3 good rows and skip the rows with errors (2)" in report
    assert Customer.select().count() == 0  # checking writes nothing

    assert action(owner_client, job, "start").status_code == 303
    done = text(owner_client.get(f"/owner/imports/{job.id}"))
    assert reload(job).status == "done" and reload(job).created_count == 3
    assert "Customers created" in done and "Undo this import" in done
    assert "The 3 customers this import created will be removed." in done
    assert found("Wiśniewska") == ["Zofia Wiśniewska"]

    assert action(owner_client, job, "undo").status_code == 303
    undone = text(owner_client.get(f"/owner/imports/{job.id}"))
    assert reload(job).status == "undone" and "Customers removed" in undone
    assert found("Wiśniewska") == []
    listing = text(owner_client.get("/owner/imports"))
    assert "shopify customers.csv" in listing and "Undone" in listing


def test_the_progress_partial_brings_the_next_step_once_the_job_is_done(app, owner_client):
    job = uploaded(owner_client, csv_bytes(HEADERS, [{"First name": "Anna", "Last name": "Nowak"}]))
    # A check still running (its job not picked up by a worker yet) shows a polling bar.
    ImportJob.update(status="checking").where(ImportJob.id == job.id).execute()
    running = text(owner_client.get(f"/owner/imports/{job.id}"))
    assert 'data-hx-trigger="every 1s"' in running and "<progress" in running
    partial = owner_client.get(f"/owner/imports/{job.id}/progress", headers={"HX-Request": "true"})
    assert "<progress" in text(partial) and "<html" not in text(partial)

    ImportJob.update(status="uploaded").where(ImportJob.id == job.id).execute()
    post_mapping(owner_client, job)
    finished = owner_client.get(f"/owner/imports/{job.id}/progress", headers={"HX-Request": "true"})
    assert "every 1s" not in text(finished) and "What the file holds" in text(finished)

    # A check that could not read the file sends the page back to the mapping.
    ImportJob.update(status="uploaded").where(ImportJob.id == job.id).execute()
    back = owner_client.get(f"/owner/imports/{job.id}/progress", headers={"HX-Request": "true"})
    assert back.headers["HX-Redirect"] == mapping_path(job)


def test_staff_get_403_on_every_import_route(app, staff_client, owner):
    with app.test_request_context("/"):
        job = importer.receive(io.BytesIO(csv_bytes(HEADERS, [{"First name": "A"}])), "a.csv", None)
    token = csrf_token_from(staff_client, "/")
    gets = ["/owner/imports", mapping_path(job), f"/owner/imports/{job.id}"]
    gets += [f"/owner/imports/{job.id}/progress", f"/owner/imports/{job.id}/problems.csv"]
    for path in gets:
        assert staff_client.get(path).status_code == 403, path
    posts = ["/owner/imports", mapping_path(job), "/owner/imports/mappings/1/delete"]
    posts += [f"/owner/imports/{job.id}/{step}" for step in ("start", "cancel", "undo")]
    for path in posts:
        assert staff_client.post(path, data={"csrf_token": token}).status_code == 403, path
    assert reload(job).status == "uploaded"


# --- Bad files --------------------------------------------------------------------------------


def test_an_unreadable_file_is_refused_next_to_the_field_and_nothing_is_kept(app, owner_client):
    response = upload(owner_client, b"\x89PNG\r\n\x1a\n" + os.urandom(3000), "photo.csv")
    assert response.status_code == 422
    page = text(response)
    field = page[page.index('<label for="file"') :]
    field = field[: field.index("</div>")]
    assert "This is not a CSV or Excel (XLSX) file." in field
    assert 'aria-invalid="true"' in field
    assert ImportJob.select().count() == 0
    assert imports_folder(app) == []


def test_uploading_without_a_file_asks_for_one(app, owner_client):
    token = page_token(owner_client, "/owner/imports")
    response = owner_client.post(
        "/owner/imports", data={"csrf_token": token}, content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert "Choose a CSV or Excel (XLSX) file to upload." in text(response)
    assert ImportJob.select().count() == 0


def test_ragged_rows_are_reported_with_their_row_numbers(app, owner_client):
    data = (
        "First name,Last name,E-mail\r\n"
        "Anna,Nowak,anna@example.com\r\n"
        "Jan,Kowalski,jan@example.com,extra,cells\r\n"
        "Ewa,Zielińska\r\n"
    ).encode()
    job = uploaded(owner_client, data, "ragged.csv")
    assert post_mapping(owner_client, job).status_code == 303
    report = text(owner_client.get(f"/owner/imports/{job.id}"))
    assert "This row has 5 cells but the file has 3 column headings" in report
    assert "This row has 2 cells but the file has 3 column headings" in report
    summary_rows = report.split("problems-table")[1]
    assert '<td class="num">3</td>' in summary_rows and '<td class="num">4</td>' in summary_rows


def test_a_huge_single_field_gets_its_message_on_the_mapping_page(app, owner_client):
    data = ('Name,Note\r\nAnna,short\r\nJan,"' + "x" * 70_000 + '"\r\nEwa,ok\r\n').encode()
    job = uploaded(owner_client, data, "huge.csv")
    page = owner_client.get(mapping_path(job))
    assert page.status_code == 200
    assert "Row 3 has a cell longer than 65536 characters" in text(page)
    # Checking is refused with the same message; nothing is imported, the file can be dropped.
    response = post_mapping(owner_client, job)
    assert response.status_code == 422
    assert "Row 3 has a cell longer than 65536 characters" in text(response)
    assert reload(job).status == "uploaded" and Customer.select().count() == 0
    assert action(owner_client, job, "cancel").status_code == 303
    assert reload(job).status == "cancelled"


def test_a_formula_is_neutralised_in_the_problems_csv_and_stored_as_plain_text(app, owner_client):
    formula = '=HYPERLINK("http://x","y")'
    headers = [*HEADERS, "Birthday"]
    data = csv_bytes(
        headers,
        [
            {"First name": "Eve", "Last name": formula, "E-mail": "eve@example.com"},
            {"First name": "Mal", "Last name": "Formed", "Birthday": formula},
            {"First name": "Ola", "Phone": "+48 12"},
        ],
    )
    job = uploaded(owner_client, data, "formula.csv")
    post_mapping(owner_client, job)
    download = owner_client.get(f"/owner/imports/{job.id}/problems.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(text(download).lstrip("\ufeff"))))
    assert rows[0] == ["Row", "Column", "Severity", "Value", "Message"]
    by_row = {row[0]: row for row in rows[1:]}
    assert by_row["3"][1:4] == ["Birthday", "Error", "'" + formula]
    assert (
        by_row["3"][4]
        == f"“{formula}” is not a date (write it as 2024-03-31, 31.03.2024 or 31/03/2024)."
    )
    assert by_row["4"][1:4] == ["Phone", "Error", "'+48 12"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert AuditEvent.select().where(AuditEvent.action == "import_problems_downloaded").count()

    action(owner_client, job, "start")
    assert Customer.get(Customer.given_name == "Eve").family_name == formula


def test_the_problems_csv_is_in_the_owners_language(app, owner_client):
    job = uploaded(owner_client, csv_bytes(HEADERS, [{"First name": "Ola", "E-mail": "nope"}]))
    post_mapping(owner_client, job)  # checked in English
    download = owner_client.get(
        f"/owner/imports/{job.id}/problems.csv", headers={"Accept-Language": "pl"}
    )
    assert "„nope” nie jest prawidłowym adresem e-mail." in text(download)


# --- Mistakes in the mapping form -------------------------------------------------------------


def test_one_field_for_two_columns_is_refused_and_nothing_is_saved(app, owner_client):
    job = uploaded(owner_client, csv_bytes(HEADERS, [{"First name": "Anna", "City": "Łódź"}]))
    before = reload(job).mapping
    city = column_field(owner_client, job, "City")
    response = post_mapping(owner_client, job, **{city: "given_name"})
    assert response.status_code == 422
    page = text(response)
    errors = page[page.index('id="mapping-errors"') :]
    assert "Given name is chosen for more than one column (First name, City)" in errors
    assert reload(job).mapping == before and reload(job).status == "uploaded"


def test_a_mapping_without_anything_to_identify_a_customer_is_refused(app, owner_client):
    job = uploaded(owner_client, csv_bytes(HEADERS, [{"First name": "Anna", "City": "Łódź"}]))
    ignored = {
        column_field(owner_client, job, header): "ignore"
        for header in ("First name", "Last name", "E-mail", "Phone")
    }
    response = post_mapping(owner_client, job, **ignored)
    assert response.status_code == 422
    assert "Choose at least one column for a name, company, e-mail address" in text(response)
    assert reload(job).status == "uploaded" and ImportJob.get_by_id(job.id).report == "[]"


def test_everyone_agreed_needs_evidence_next_to_its_field(app, owner_client):
    purpose = make_purpose("email_marketing")
    job = uploaded(owner_client, csv_bytes(HEADERS, [{"First name": "Anna"}]))
    response = post_mapping(
        owner_client, job, **{f"consent_{purpose.id}": "everyone", "consent_evidence": ""}
    )
    assert response.status_code == 422
    page = text(response)
    field = page[page.index('<label for="consent_evidence"') :]
    assert "Say how everyone in the file agreed" in field[: field.index("</div>")]
    assert reload(job).status == "uploaded"

    response = post_mapping(
        owner_client,
        job,
        **{f"consent_{purpose.id}": "everyone", "consent_evidence": "Signed forms, fair 2024"},
    )
    assert response.status_code == 303
    options = importer.options_of(reload(job))
    assert options.consent == {str(purpose.id): "everyone"}
    assert options.consent_evidence == "Signed forms, fair 2024"


def test_a_consent_column_must_be_mapped_to_be_chosen(app, owner_client):
    purpose = make_purpose("sms_marketing")
    job = uploaded(owner_client, csv_bytes(HEADERS, [{"First name": "Anna"}]))
    response = post_mapping(
        owner_client, job, **{f"consent_{purpose.id}": "column:accepts_sms_marketing"}
    )
    assert response.status_code == 422
    assert "No column is set to “Accepts SMS marketing (yes/no)”" in text(response)
    response = post_mapping(owner_client, job, **{f"consent_{purpose.id}": "column:given_name"})
    assert response.status_code == 422 and "Choose one from the list." in text(response)


def test_an_external_list_needs_its_vendor(app, owner_client):
    job = uploaded(owner_client, csv_bytes(HEADERS, [{"First name": "Anna"}]))
    response = post_mapping(owner_client, job, list_kind="external", vendor="")
    assert response.status_code == 422
    page = text(response)
    field = page[page.index('<label for="vendor"') :]
    assert "Name who the list comes from" in field[: field.index("</div>")]
    assert reload(job).status == "uploaded"

    assert (
        post_mapping(owner_client, job, list_kind="external", vendor="LeadHouse").status_code == 303
    )
    action(owner_client, job, "start")
    anna = Customer.get(Customer.given_name == "Anna")
    assert anna.external and anna.source == "vendor_list" and "LeadHouse" in anna.source_detail


def test_unknown_values_in_the_options_get_messages(app, owner_client):
    job = uploaded(owner_client, csv_bytes(HEADERS, [{"First name": "Anna"}]))
    response = post_mapping(
        owner_client,
        job,
        default_region="XX",
        default_currency="dollars",
        duplicates="merge_somehow",
        default_language="de",
        delimiter="::",
        encoding="klingon",
    )
    assert response.status_code == 422
    page = text(response)
    assert "Enter a two-letter country code such as PL, DE or CN." in page
    assert "Enter a currency code such as PLN, EUR or USD, or nothing." in page
    assert "Choose what to do with customers already here." in page
    assert "Choose one from the list." in page
    assert reload(job).status == "uploaded"


# --- Reading options ----------------------------------------------------------------------------


def test_another_delimiter_that_changes_the_headings_shows_the_new_columns(app, owner_client):
    data = csv_bytes(
        ["Имя", "Фамилия", "Эл. почта"],
        [{"Имя": "Ольга", "Фамилия": "Смирнова", "Эл. почта": "olga@example.ru"}],
        encoding="windows-1251",
        delimiter=";",
    )
    job = uploaded(owner_client, data, "клиенты.csv")
    page = text(owner_client.get(mapping_path(job)))
    assert "As detected: windows-1251" in page and "Смирнова" in page
    response = post_mapping(owner_client, job, delimiter=",")
    assert response.status_code == 422
    assert "choose the columns again" in text(response)
    assert reload(job).status == "uploaded"  # nothing saved, nothing checked
    # Back to what was detected, the columns are as before and the file checks.
    assert post_mapping(owner_client, job, delimiter="").status_code == 303
    action(owner_client, job, "start")
    assert found("Смирнова") == ["Ольга Смирнова"]


def test_a_wrong_encoding_is_reported_next_to_its_field(app, owner_client):
    data = "Imię,Nazwisko\r\nŁucja,Wąsowska\r\n".encode("windows-1250")
    job = uploaded(owner_client, data, "klienci.csv")
    assert "As detected: windows-1250" in text(owner_client.get(mapping_path(job)))
    response = post_mapping(owner_client, job, encoding="utf-8")
    assert response.status_code == 422
    page = text(response)
    field = page[page.index('<label for="encoding"') :]
    assert "is not valid utf-8 text" in field[: field.index("</div>")]
    assert reload(job).status == "uploaded"


def test_an_xlsx_file_offers_its_sheets(app, owner_client):
    data = xlsx_bytes(["Имя", "Фамилия", "Город"], [["Ольга", "Смирнова", "Москва"]])
    job = uploaded(owner_client, data, "клиенты.xlsx")
    page = text(owner_client.get(mapping_path(job)))
    assert '<option value="Клиенты">Клиенты</option>' in page
    assert 'name="encoding"' not in page
    response = post_mapping(owner_client, job, sheet="Нет такого")
    assert response.status_code == 422
    page = text(response)
    field = page[page.index('<label for="sheet"') :]
    assert "Choose one from the list." in field[: field.index("</div>")]
    assert post_mapping(owner_client, job, sheet="Клиенты").status_code == 303


# --- Saved mappings, earlier imports, cancelling ----------------------------------------------


def test_a_saved_mapping_is_preselected_for_the_next_file_with_the_same_headings(app, owner_client):
    data = csv_bytes(HEADERS + ["Remarks"], [{"First name": "Anna", "Remarks": "VIP"}])
    job = uploaded(owner_client, data, "first.csv")
    remarks = column_field(owner_client, job, "Remarks")
    assert shown_mapping(owner_client, job)[remarks] == "note"
    response = post_mapping(owner_client, job, **{remarks: "tags", "save_as": "Fair list"})
    assert response.status_code == 303
    assert SavedMapping.get().name == "Fair list"

    again = uploaded(owner_client, data, "second.csv")
    assert (
        shown_mapping(owner_client, again)[column_field(owner_client, again, "Remarks")] == "tags"
    )
    listing = text(owner_client.get("/owner/imports"))
    assert "Fair list" in listing

    token = page_token(owner_client, "/owner/imports")
    saved = SavedMapping.get()
    deleted = owner_client.post(
        f"/owner/imports/mappings/{saved.id}/delete", data={"csrf_token": token}
    )
    assert deleted.status_code == 303 and SavedMapping.select().count() == 0


def test_a_saved_mapping_can_be_applied_from_the_picker(app, owner_client):
    data = csv_bytes(HEADERS + ["Remarks"], [{"First name": "Anna", "Remarks": "VIP"}])
    first = uploaded(owner_client, data)
    remarks = column_field(owner_client, first, "Remarks")
    post_mapping(owner_client, first, **{remarks: "ignore", "save_as": "Without remarks"})
    other = uploaded(owner_client, csv_bytes(HEADERS + ["Remarks", "Extra"], [{"First name": "B"}]))
    assert (
        shown_mapping(owner_client, other)[column_field(owner_client, other, "Remarks")] == "note"
    )
    saved = SavedMapping.get()
    page = text(owner_client.get(f"{mapping_path(other)}?saved={saved.id}"))
    values = form_values(page, mapping_path(other))
    assert values[column_field(owner_client, other, "Remarks")] == "ignore"


def test_a_file_imported_before_is_pointed_out(app, owner_client):
    data = csv_bytes(HEADERS, [{"First name": "Anna", "E-mail": "anna@example.com"}])
    job = uploaded(owner_client, data)
    post_mapping(owner_client, job)
    action(owner_client, job, "start")
    again = uploaded(owner_client, data, "the same again.csv")
    assert "This file was imported before, on" in text(owner_client.get(mapping_path(again)))
    post_mapping(owner_client, again)
    action(owner_client, again, "start")
    assert Customer.select().count() == 1


def test_stopping_a_checked_import_deletes_the_file(app, owner_client):
    job = uploaded(owner_client, csv_bytes(HEADERS, [{"First name": "Anna"}]))
    post_mapping(owner_client, job)
    kept = Path(reload(job).file_path)
    assert kept.exists()
    assert "Stop: import nothing" in text(owner_client.get(f"/owner/imports/{job.id}"))
    assert action(owner_client, job, "cancel").status_code == 303
    assert reload(job).status == "cancelled" and reload(job).file_path == ""
    assert not kept.exists() and imports_folder(app) == []
    page = text(owner_client.get(f"/owner/imports/{job.id}"))
    assert "the uploaded file was deleted" in page
    assert Customer.select().count() == 0


def test_a_step_in_the_wrong_state_is_a_message_not_an_error(app, owner_client):
    job = uploaded(owner_client, csv_bytes(HEADERS, [{"First name": "Anna"}]))
    for step in ("start", "undo"):
        response = action(owner_client, job, step)
        assert response.status_code == 303
    post_mapping(owner_client, job)
    action(owner_client, job, "start")
    twice = action(owner_client, job, "start")
    assert twice.status_code == 303
    page = text(owner_client.get(twice.headers["Location"], follow_redirects=True))
    assert "no longer at a step where that can be done" in page
    assert ContactPoint.select().count() == 0 and Customer.select().count() == 1
    mapping = owner_client.get(mapping_path(job))
    assert mapping.status_code == 303  # past the mapping: shown as it is


def test_a_failed_import_says_what_happened(app, owner_client):
    job = uploaded(owner_client, csv_bytes(HEADERS, [{"First name": "Anna"}]))
    post_mapping(owner_client, job)
    ImportJob.update(status="failed", error='{"text": "RuntimeError()"}').where(
        ImportJob.id == job.id
    ).execute()
    page = text(owner_client.get(f"/owner/imports/{job.id}"))
    assert "Nothing was imported: the database is as it was before." in page
    assert "Start again" in page
    ImportJob.update(error='{"code": "decode", "params": {"row": 7, "encoding": "utf-8"}}').where(
        ImportJob.id == job.id
    ).execute()
    assert "Row 7 is not valid utf-8 text." in text(owner_client.get(f"/owner/imports/{job.id}"))


@pytest.mark.parametrize("path", ["/owner/imports/999", "/owner/imports/999/mapping"])
def test_an_unknown_import_is_404(app, owner_client, path):
    assert owner_client.get(path).status_code == 404


def test_headings_and_values_from_the_file_are_shown_as_text(app, owner_client):
    data = csv_bytes(["<b>Name</b>", "E-mail"], [{"<b>Name</b>": "<script>x()</script>"}])
    job = uploaded(owner_client, data, "<b>list.csv")
    page = text(owner_client.get(mapping_path(job)))
    assert "&lt;b&gt;Name&lt;/b&gt;" in page and "<b>Name</b>" not in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page and "<script>x()" not in page
    assert "&lt;b&gt;list.csv" in page


def test_the_steps_refuse_a_post_without_the_csrf_token(app, owner_client):
    job = uploaded(owner_client, csv_bytes(HEADERS, [{"First name": "Anna"}]))
    post_mapping(owner_client, job)
    for step in ("start", "cancel"):
        assert owner_client.post(f"/owner/imports/{job.id}/{step}").status_code == 400
    assert reload(job).status == "checked" and Customer.select().count() == 0


def test_a_check_that_breaks_unexpectedly_ends_as_failed_not_checking_for_ever(
    app, owner_client, monkeypatch
):
    job = uploaded(owner_client, csv_bytes(HEADERS, [{"First name": "Anna"}]))
    kept = Path(reload(job).file_path)

    def breaks(*args, **kwargs):
        raise OSError("the disk went away")

    monkeypatch.setattr(staging, "prepare", breaks)  # a fault no file can cause on purpose
    assert post_mapping(owner_client, job).status_code == 303
    assert reload(job).status == "failed" and not kept.exists()
    page = text(owner_client.get(f"/owner/imports/{job.id}"))
    assert "every 1s" not in page and "Start again" in page
