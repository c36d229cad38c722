"""Campaign sending (issue 10): how long choosing the recipients of a campaign to everyone takes,
and how many messages a second the sender delivers to a real SMTP server on loopback (not a
test).

    .venv/bin/python bench/campaign_bench.py [--customers 20000] [--messages 1000]
        [--database-url postgresql://postgres@127.0.0.1:5432/bench]

Builds a fresh database of demo customers (about half consent to e-mail marketing), then times:
the audience count the campaign page shows (included / left out), fixing the recipients (one
queued row each), and delivering `--messages` of them through aiosmtpd, once unthrottled (the
sender's own capacity: composing, the consent re-check, one SMTP conversation and two row
updates per message) and once at the settings' highest rate. Prints a table and writes
bench/results/campaign_bench-<engine>.json.
"""

import argparse
import json
import platform
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402

from portal import campaigns, create_app, demo, migrations, outbox, settings  # noqa: E402
from portal.customer_list import Filters  # noqa: E402
from portal.db import database_from_url, is_postgresql  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.message_content import Text, dump  # noqa: E402
from portal.models import ConsentPurpose, OutgoingMessage  # noqa: E402

CONTENT = dump(
    {
        "en": Text(
            "Spring at {shop_name}", "Hello {first_name}, your last visit: {last_purchase_date}."
        ),
        "pl": Text(
            "Wiosna w {shop_name}", "Dzień dobry {first_name}, ostatnio: {last_purchase_date}."
        ),
        "ru": Text(
            "Весна в {shop_name}",
            "Здравствуйте, {first_name}! Последняя покупка: {last_purchase_date}.",
        ),
        "zh": Text("{shop_name} 春季", "{first_name}，您好！上次购买：{last_purchase_date}。"),
    }
)


class Sink:
    """Counts what it receives."""

    def __init__(self):
        self.received = 0

    async def handle_DATA(self, server, session, envelope):
        self.received += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def timed(action):
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="campaign-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    database = database_from_url(url)
    migrations.upgrade(database)
    database.close_all()
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    app = create_app(
        {
            "DATABASE_URL": url,
            "JOBS_IMMEDIATE": True,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
        },
        instance_path=str(folder / "instance"),
    )
    rows = []
    with app.test_request_context():
        _, seconds = timed(lambda: demo.generate(customers=args.customers, seed=1))
        print(f"demo data: {args.customers} customers in {seconds:.0f} s")
        db.execute_sql("ANALYZE")  # fresh statistics, as autovacuum would gather in time
        engine = "postgresql" if is_postgresql(db) else "sqlite"
        purpose = ConsentPurpose.get(ConsentPurpose.code == "email_marketing")
        campaign = campaigns.save_draft(
            None,
            name="Bench",
            purpose_id=purpose.id,
            filters=Filters(),
            segment_id=None,
            content=CONTENT,
            staff_id=None,
        )
        counts, seconds = timed(lambda: campaigns.audience(campaign))
        rows.append(
            (
                "audience count (campaign page)",
                seconds,
                f"{counts.included} included, {counts.left_out} left out",
            )
        )
        recipients, seconds = timed(lambda: campaigns.fix_recipients(campaign))
        rows.append(
            (
                "fix recipients (queued rows)",
                seconds,
                f"{recipients} rows, {recipients / seconds:,.0f}/s",
            )
        )
        pending = outbox.pending_ids(OutgoingMessage.select())
        half = args.messages // 2
        delivery, seconds = timed(lambda: outbox.deliver(pending[:half], sleep=lambda _s: None))
        rows.append(
            (
                "deliver, unthrottled",
                seconds,
                f"{delivery.sent} sent, {delivery.sent / seconds:.0f} messages/s",
            )
        )
        settings.put("messages_per_minute", outbox.MAX_PER_MINUTE)
        delivery, seconds = timed(lambda: outbox.deliver(pending[half : args.messages]))
        rows.append(
            (
                f"deliver at {outbox.MAX_PER_MINUTE}/min",
                seconds,
                f"{delivery.sent} sent, {delivery.sent / seconds:.0f} messages/s",
            )
        )
    controller.stop()

    print(f"\nCampaign to everyone, {args.customers:,} customers, {engine}, {platform.node()}")
    print(f"{'step':36} {'seconds':>8}  result")
    for step, seconds, result in rows:
        print(f"{step:36} {seconds:8.2f}  {result}")
    assert sink.received == args.messages // 2 + (args.messages - args.messages // 2)
    out = ROOT / "bench" / "results" / f"campaign_bench-{engine}.json"
    out.write_text(
        json.dumps(
            {
                "customers": args.customers,
                "engine": engine,
                "steps": [{"step": s, "seconds": round(t, 3), "result": r} for s, t, r in rows],
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
