"""PDF reports: how long each takes to make, on a fresh SQLite database (not a test).

    .venv/bin/python bench/report_bench.py [--only customer_report] [--runs 3]

Each benchmark builds its own database in a temporary folder (migrations, then the demo
generator and bulk inserts), renders its report `--runs` times and prints a table (run,
seconds, pages, bytes), then where the time of one run goes. Results are merged into
bench/results/report_bench.json under the benchmark's name.

Targets (issue 7): the customer data report for a customer with 1,000 purchases and 100
interactions in at most 2 s; the customer-base summary of 100,000 customers in at most 30 s
(its database, bench/results/base_summary-100k.db, is built once and reused).
"""

import argparse
import io
import json
import platform
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402

from portal import complaints, consent, create_app, demo, migrations, search  # noqa: E402
from portal.db import database_from_url  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import (  # noqa: E402
    Address,
    ContactPoint,
    Customer,
    Interaction,
    Location,
    Purchase,
    PurchaseLine,
)

RESULTS = ROOT / "bench" / "results" / "report_bench.json"


# --- shared ----------------------------------------------------------------------------------


def fresh_app(folder: Path):
    """The app on a new, migrated SQLite file in `folder` (its secrets generated there too)."""
    url = f"sqlite:///{folder / 'kartoteka.db'}"
    database = database_from_url(url)
    migrations.upgrade(database)
    database.close_all()
    return create_app(
        {"DATABASE_URL": url, "JOBS_IMMEDIATE": True}, instance_path=str(folder / "instance")
    )


def pdf_pages(body: bytes) -> int:
    return len(PdfReader(io.BytesIO(body)).pages)


def timed_runs(render, runs: int) -> list[dict]:
    """Call render() `runs` times: wall-clock and CPU seconds (the CPU figure shows what the
    report costs when other processes share the machine), pages and bytes of each PDF."""
    results = []
    for run in range(1, runs + 1):
        wall, cpu = time.perf_counter(), time.process_time()
        body = render()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        results.append(
            {
                "run": run,
                "seconds": wall,
                "cpu_seconds": cpu,
                "pages": pdf_pages(body),
                "bytes": len(body),
            }
        )
    return results


def print_runs(title: str, runs: list[dict]) -> None:
    print(f"\n{title}")
    print(f"{'run':>4} {'seconds':>9} {'cpu s':>7} {'pages':>6} {'bytes':>10}")
    for run in runs:
        print(
            f"{run['run']:>4} {run['seconds']:>9.3f} {run['cpu_seconds']:>7.3f}"
            f" {run['pages']:>6} {run['bytes']:>10,}"
        )


def print_steps(steps: dict[str, float]) -> None:
    print("where the time of one run goes:")
    for name, seconds in steps.items():
        print(f"  {name:<34} {seconds:>7.3f} s")


# --- customer data report --------------------------------------------------------------------

PRODUCTS = (
    ("Coffee beans 1 kg", "89.90"),
    ("Milk frother", "120.00"),
    ("Herbata zielona Sencha", "24.50"),
    ("Pierścionek złoty", "899.00"),
    ("Чай чёрный с бергамотом", "31.00"),
    ("绿茶礼盒", "158.00"),
    ("Ceramic mug, blue glaze", "39.00"),
    ("Gift card", "100.00"),
)
SUMMARIES = (
    "Asked whether the blue mugs are back in stock; promised a call when they arrive.",
    "Zapytała o zwrot pierścionka, umówiona wizyta w sklepie.",
    "Звонил уточнить часы работы в субботу.",
    "询问绿茶礼盒是否可以送货上门。",
    "Visit: picked up the order and paid the balance.",
)


def build_customer_with_history(purchases: int = 1000, interactions: int = 100) -> Customer:
    """One customer with `purchases` purchases of 1–3 lines, `interactions` interactions,
    consent answers and a complaint, next to a few demo customers; bulk inserts, seeded."""
    rng = random.Random(7)
    demo.generate(customers=20, seed=1)  # locations, consent purposes and their wording
    customer = Customer.create(
        given_name="Łucja",
        family_name="Żółkiewska-王",
        display_name="Łucja Żółkiewska-王",
        preferred_language="pl",
        source="import",
        source_detail="loyalty-card list 2023",
    )
    ContactPoint.create(
        customer=customer,
        kind="email",
        value="lucja@example.com",
        normalized="lucja@example.com",
        is_primary=True,
    )
    Address.create(customer=customer, line1="ul. Długa 5", postal_code="00-001", city="Warszawa")
    locations = [location.id for location in Location.select(Location.id)]
    start = datetime(2021, 1, 4, 9, 30)
    with db.atomic():
        purchase_rows, line_rows = [], []
        first_id = (Purchase.select(Purchase.id).order_by(Purchase.id.desc()).scalar() or 0) + 1
        for n in range(purchases):
            lines = [rng.choice(PRODUCTS) for _ in range(rng.randint(1, 3))]
            priced = [(name, Decimal(rng.randint(1, 3)), Decimal(price)) for name, price in lines]
            for name, quantity, price in priced:
                line_rows.append(
                    {
                        "purchase": first_id + n,
                        "product": name,
                        "quantity": quantity,
                        "unit_price": price,
                        "line_total": quantity * price,
                    }
                )
            purchase_rows.append(
                {
                    "id": first_id + n,
                    "customer": customer.id,
                    "location": rng.choice(locations) if locations else None,
                    "purchased_at": start + timedelta(hours=31 * n),
                    "receipt_number": f"P-{n:06d}",
                    "total": sum(quantity * price for _, quantity, price in priced),
                    "currency": "EUR",
                    "channel": rng.choice(("store", "store", "online", "phone")),
                }
            )
        for chunk in range(0, len(purchase_rows), 500):
            Purchase.insert_many(purchase_rows[chunk : chunk + 500]).execute()
        for chunk in range(0, len(line_rows), 500):
            PurchaseLine.insert_many(line_rows[chunk : chunk + 500]).execute()
        Interaction.insert_many(
            [
                {
                    "customer": customer.id,
                    "occurred_at": start + timedelta(days=11 * n, hours=3),
                    "direction": rng.choice(("in", "out")),
                    "channel": rng.choice(("call", "email", "visit", "chat", "note")),
                    "summary": rng.choice(SUMMARIES),
                }
                for n in range(interactions)
            ]
        ).execute()
    for purpose_id, version in consent.current_versions().items():
        consent.record(
            customer.id, purpose_id, granted=True, wording_version=version, channel="paper_form"
        )
    first_purpose = min(consent.current_versions())
    consent.record(
        customer.id,
        first_purpose,
        granted=False,
        wording_version=1,
        channel="self_service",
        recorded_by_type="customer",
    )
    complaint = complaints.open_complaint(
        customer,
        subject="Pęknięta filiżanka",
        description="The cup arrived cracked.",
        channel="in_store",
        category="other",
        severity="medium",
    )
    complaints.add_reply(complaint, "We are sending a new one today.", staff_id=None)
    search.refresh([customer.id])
    return customer


def bench_customer_report(runs: int) -> dict:
    """The customer data report (issue 7): 1,000 purchases and 100 interactions in ≤ 2 s."""
    from flask import render_template
    from weasyprint import HTML

    from portal import pdf
    from portal.i18n import in_language
    from portal.reports import customer_report

    with tempfile.TemporaryDirectory() as folder:
        app = fresh_app(Path(folder))
        with app.test_request_context():
            customer = build_customer_with_history()
            language = "pl"
            customer_report.render_pdf(customer, language)  # warm-up: imports, fonts, catalog
            results = timed_runs(lambda: customer_report.render_pdf(customer, language), runs)
            print_runs(
                "customer_report: 1,000 purchases (1–3 lines), 100 interactions, Polish", results
            )

            # The same steps as customer_report.render_pdf and pdf.render, timed one by one.
            steps = {}
            started = time.perf_counter()
            with in_language(language):
                context = customer_report.context(customer, language)
            steps["collect and format (DB, Python)"] = time.perf_counter() - started
            started = time.perf_counter()
            with in_language(language):
                html = render_template(
                    f"pdf/{customer_report.TEMPLATE}",
                    document_title="bench",
                    document_language=language,
                    author="bench",
                    printed_at=datetime.now(),
                    **context,
                )
            steps["template to HTML (Jinja)"] = time.perf_counter() - started
            started = time.perf_counter()
            document = HTML(string=html, base_url=str(pdf.STATIC)).render(
                stylesheets=[pdf._stylesheet()], pdf_variant=pdf.PDF_VARIANT
            )
            steps["layout (WeasyPrint)"] = time.perf_counter() - started
            started = time.perf_counter()
            document.write_pdf(pdf_variant=pdf.PDF_VARIANT)
            steps["write PDF (WeasyPrint)"] = time.perf_counter() - started
            print_steps(steps)
        db.close_all()
    best, worst = (f(run["seconds"] for run in results) for f in (min, max))
    verdict = "OK" if worst <= 2 else "TOO SLOW"
    print(f"best {best:.3f} s, worst {worst:.3f} s (target ≤ 2 s): {verdict}")
    return {"runs": results, "steps": steps, "target_seconds": 2.0}


# --- customer-base summary -------------------------------------------------------------------

SUMMARY_CUSTOMERS = 100_000
SUMMARY_DATABASE = ROOT / "bench" / "results" / "base_summary-100k.db"  # gitignored, reused


def summary_app(folder: Path):
    """The app on the 100,000-customer database, built once with the demo generator (and RFM
    tiers) and reused by later runs; delete the file to build it again."""
    url = f"sqlite:///{SUMMARY_DATABASE}"
    if not SUMMARY_DATABASE.exists():
        SUMMARY_DATABASE.parent.mkdir(parents=True, exist_ok=True)
        database = database_from_url(url)
        migrations.upgrade(database)
        database.close_all()
    app = create_app(
        {"DATABASE_URL": url, "JOBS_IMMEDIATE": True}, instance_path=str(folder / "instance")
    )
    with app.app_context():
        if Customer.select().count() < SUMMARY_CUSTOMERS:
            from portal import rfm

            started = time.perf_counter()
            demo.generate(customers=SUMMARY_CUSTOMERS, seed=1)
            rfm.compute()
            print(f"built {SUMMARY_DATABASE.name}: {time.perf_counter() - started:.1f} s")
    return app


def bench_base_summary(runs: int) -> dict:
    """The customer-base summary (issue 7): 100,000 customers in at most 30 s, as the job runs
    it (figures, PDF, file and job row)."""
    from portal import jobs, pdf
    from portal.models import ExportJob
    from portal.reports import base_summary

    results = []
    with tempfile.TemporaryDirectory() as folder:
        app = summary_app(Path(folder))
        with app.test_request_context():
            language = "en"
            base_summary.figures()  # warm-up: page cache, imports
            for run in range(1, runs + 1):
                steps, started = {}, time.perf_counter()

                def progress(percent, step, steps=steps, started=started):
                    steps[step] = time.perf_counter() - started

                data = base_summary.figures(progress)
                figures_seconds = time.perf_counter() - started
                started_pdf = time.perf_counter()
                body = pdf.render(
                    "base_summary.html",
                    title=base_summary.TITLE,
                    language=language,
                    **base_summary.page_context(data, for_print=True),
                )
                pdf_seconds = time.perf_counter() - started_pdf
                started_job = time.perf_counter()
                job = ExportJob.get_by_id(jobs.start("base_summary", language=language).id)
                job_seconds = time.perf_counter() - started_job
                assert job.status == "done", job.error
                results.append(
                    {
                        "run": run,
                        "figures_seconds": round(figures_seconds, 3),
                        "pdf_seconds": round(pdf_seconds, 3),
                        "job_seconds": round(job_seconds, 3),
                        "pages": pdf_pages(body),
                        "bytes": len(body),
                        # when each step began, in seconds from the start of figures()
                        "steps": {name: round(at, 3) for name, at in steps.items()},
                    }
                )
            customers = data["customers"]["customers"] + data["customers"]["leads"]
            purchases = data["sales"]["purchases_in_period"]
        db.close_all()

    print(
        f"\nbase_summary: {customers:,} customers and leads, {purchases:,} purchases in the "
        f"last 12 months, SQLite"
    )
    print(f"{'run':>4} {'figures s':>10} {'PDF s':>8} {'job s':>8} {'pages':>6} {'bytes':>10}")
    for run in results:
        print(
            f"{run['run']:>4} {run['figures_seconds']:>10.3f} {run['pdf_seconds']:>8.3f} "
            f"{run['job_seconds']:>8.3f} {run['pages']:>6} {run['bytes']:>10,}"
        )
    print("figures() steps of the last run (seconds from its start):")
    for name, at in results[-1]["steps"].items():
        print(f"  {name:<40} {at:>7.3f}")
    best = min(run["job_seconds"] for run in results)
    print(f"best job {best:.3f} s (target ≤ 30 s): {'OK' if best <= 30 else 'TOO SLOW'}")
    return {"runs": results, "customers": customers, "target_seconds": 30.0}


BENCHMARKS = {
    "customer_report": bench_customer_report,
    "base_summary": bench_base_summary,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for name in args.only or BENCHMARKS:
        results[name] = {
            **BENCHMARKS[name](args.runs),
            "machine": platform.platform(),
            "python": platform.python_version(),
            "measured_at": datetime.now().isoformat(timespec="seconds"),
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
