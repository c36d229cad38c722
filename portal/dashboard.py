"""Figures for the staff dashboard."""

from datetime import datetime

from peewee import fn

from . import complaints
from .models import Customer, Purchase, utcnow


def overview(now: datetime | None = None) -> dict:
    """Counts of customers and leads, this month's sales, open and overdue complaints, newest customers."""
    now = now or utcnow()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    active = Customer.active()
    month = Purchase.select(fn.COUNT(Purchase.id), fn.COALESCE(fn.SUM(Purchase.total), 0)).where(
        Purchase.purchased_at >= month_start
    )
    purchases_this_month, revenue_this_month = month.scalar(as_tuple=True)
    return {
        "customers": active.where(Customer.purchase_count > 0).count(),
        "leads": active.where(Customer.purchase_count == 0).count(),
        "purchases_this_month": purchases_this_month,
        "revenue_this_month": revenue_this_month,
        "complaints": complaints.open_counts(now),
        "newest": list(active.order_by(Customer.created_at.desc()).limit(8)),
    }
