"""Factories with sensible defaults: make_customer(**overrides) and friends."""

from portal import search
from portal.models import ContactPoint, Customer, CustomerTag, Tag


def make_customer(
    given="Anna", family="Nowak", *, order="given_first", email=None, phone=None, tags=(), **fields
):
    """A customer with optional e-mail (normalised lower-case), E.164 phone and tags, indexed for search."""
    shown = f"{family}{given}" if order == "family_first" else f"{given} {family}"
    customer = Customer.create(
        given_name=given, family_name=family, name_order=order, display_name=shown, **fields
    )
    if email:
        ContactPoint.create(
            customer=customer, kind="email", value=email, normalized=email.lower(), is_primary=True
        )
    if phone:
        ContactPoint.create(
            customer=customer, kind="phone", value=phone, normalized=phone, is_primary=True
        )
    for name in tags:
        CustomerTag.create(customer=customer, tag=Tag.get_or_create(name=name)[0])
    search.refresh([customer.id])
    return customer
