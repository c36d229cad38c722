"""Search finds a customer by any fragment of what staff know, in any script, on both engines."""

from decimal import Decimal

import pytest

from portal import search
from portal.models import Customer, Purchase
from tests.factories import make_customer

person = make_customer


@pytest.fixture
def people(app):
    return {
        "lukasz": person(
            "Łukasz", "Wąsowski", email="l.wasowski@poczta.example", phone="+48601555012"
        ),
        "ivan": person("Иван", "Петров", email="ivan.petrov@mail.example", phone="+79161234567"),
        "zhang": person("伟", "张", order="family_first", phone="+8613812345678", tags=["vip"]),
        "anna": person("Anna", "Smith", email="anna.smith@gmail.example", tags=["wholesale"]),
    }


def found(query):
    return [c.display_name for c in search.find(query).customers]


@pytest.mark.parametrize(
    "query, who",
    [
        ("Łukasz", "Łukasz Wąsowski"),
        ("lukasz", "Łukasz Wąsowski"),  # without diacritics
        ("LUKASZ wasow", "Łukasz Wąsowski"),
        ("owsk", "Łukasz Wąsowski"),  # the middle of a word
        ("Иван", "Иван Петров"),
        ("иван петр", "Иван Петров"),
        ("张伟", "张伟"),
        ("伟", "张伟"),  # one Chinese character from the middle of a name
        ("5550", "Łukasz Wąsowski"),  # the middle of a phone number
        ("601 555 012", "Łukasz Wąsowski"),  # with spaces
        ("601-555-012", "Łukasz Wąsowski"),  # with dashes
        ("+48 601555012", "Łukasz Wąsowski"),  # with the country code
        ("0601555012", "Łukasz Wąsowski"),  # nationally, with a trunk 0
        ("138 1234", "张伟"),
        ("ivan.pet", "Иван Петров"),  # an e-mail fragment
        ("gmail", "Anna Smith"),
        ("wholesale", "Anna Smith"),  # a tag
        ("vip", "张伟"),
    ],
)
def test_search_finds_the_customer(people, query, who):
    assert found(query) == [who]


def test_search_by_receipt_number(people):
    Purchase.create(
        customer=people["ivan"], receipt_number="R-2026-004211", total=Decimal("5"), currency="EUR"
    )
    assert found("R-2026-0042") == ["Иван Петров"]


def test_fragments_must_all_match(people):
    assert found("anna petrov") == []
    assert found("qqq") == []


def test_several_fragments_match_together_whichever_is_rarest(app, monkeypatch):
    jans = {person(f"Jan{i}", "Zielinski", email=f"jan{i}@example.com").id for i in range(6)}
    wp = person("Ewa", "Wrona", email="ewa.wrona@wp.example.com")
    elsewhere = person("Wpisany", "Nowak")  # "wp" in a name, no "exam" anywhere
    for query in ("wp exam", "exam wp", "EXAM   WP"):
        assert [c.id for c in search.find(query).customers] == [wp.id], query
    assert {c.id for c in search.find("wp").customers} == {wp.id, elsewhere.id}
    assert search.find("exam zielinski").total == 6
    monkeypatch.setattr(search, "COUNT_CAP", 2)  # every fragment common: the index intersects
    assert {c.id for c in search.find("zielinski exam").customers} == jans
    assert [c.id for c in search.find("example wrona").customers] == [wp.id]


def test_names_starting_with_the_query_come_first(app):
    person("Karol", "Annanowski")
    person("Anna", "Kowalska")
    assert found("anna") == ["Anna Kowalska", "Karol Annanowski"]


def test_query_syntax_is_never_interpreted(people):
    for hostile in ['"', "*", "anna OR ivan", "NEAR(a b)", "a' OR 1=1 --", "()", "-anna", "^"]:
        result = search.find(hostile)
        assert all(isinstance(c, search.Match) for c in result.customers)
    assert found("anna OR ivan") == []  # OR is just another fragment to match


def test_broad_queries_are_capped_not_counted(app, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 5)
    monkeypatch.setattr(search, "CANDIDATE_LIMIT", 3)
    for i in range(8):
        person(f"Adam{i}", "Nowak")
    result = search.find("nowak")
    assert len(result.customers) == 3
    assert result.total == 6 and result.total_is_capped


@pytest.mark.parametrize("recent_rows, count_rows", [(4, 6), (40, 60)])
def test_matches_are_newest_first_and_counted_whether_recent_or_old(
    app, monkeypatch, recent_rows, count_rows
):
    """PostgreSQL scans the newest customers before asking its index (windows shrunk here so
    both paths run): the answer must not depend on where the matches lie."""
    monkeypatch.setattr(search, "PG_RECENT_ROWS", recent_rows)
    monkeypatch.setattr(search, "PG_COUNT_ROWS", count_rows)
    monkeypatch.setattr(search, "CANDIDATE_LIMIT", 5)
    monkeypatch.setattr(search, "COUNT_CAP", 12)
    old_rare = person("Greta", "Quillfeather")
    broad = [person(f"Ola{i}", "Brzozowska") for i in range(9)]
    erased = person("Olaf", "Brzozowski")
    Customer.update(erased_at=Customer.created_at).where(Customer.id == erased.id).execute()
    search.refresh([erased.id])
    for i in range(10):
        person(f"Filler{i}", "Nobody")
    newest_broad = [c.id for c in reversed(broad)][:5]

    rare = search.find("quillfeath")
    assert [c.id for c in rare.customers] == [old_rare.id] and rare.total == 1
    brzoz = search.find("brzoz")  # nine live matches, one erased
    assert [c.id for c in brzoz.customers] == newest_broad
    assert brzoz.total == 9 and not brzoz.total_is_capped
    for i in range(5):
        person(f"Ola{i}b", "Brzozowska")
    assert search.find("brzoz").total == 13 and search.find("brzoz").total_is_capped


def test_index_follows_changes(app):
    maria = person("Maria", "Lindqvist")
    Customer.update(family_name="Jones", display_name="Maria Jones").where(
        Customer.id == maria.id
    ).execute()
    search.refresh([maria.id])
    assert found("jones") == ["Maria Jones"]
    assert found("lindqvist") == []
    maria.delete_instance(recursive=True)
    assert found("jones") == []


def test_erased_customers_are_not_found(people):
    Customer.update(erased_at=Customer.created_at).where(Customer.id == people["ivan"].id).execute()
    assert found("иван") == []


def test_folding_matches_what_people_type():
    assert search.fold("Łódź ŻÓŁW Straße Ёлка") == "lodz zolw strasse елка"
    assert search.words("张伟 Anna-Maria") == ["张", "伟", "anna", "maria"]
