"""Per-customer fingerprints: which customers an incremental refresh normalises again."""

from __future__ import annotations

from jobs.io import incremental as incr
from jobs.settings import SourceConf

CUSTOMERS = SourceConf(columns={"customer_id": "id", "email": "mail"})
ORDERS = SourceConf(columns={"customer_id": "cid", "order_id": "oid", "name": "ship"})


def _fps(spark, customers: list[tuple], orders: list[tuple]) -> dict:
    roles = {
        "customers": (spark.createDataFrame(customers, "id long, mail string"), CUSTOMERS),
        "orders": (spark.createDataFrame(orders, "cid long, oid string, ship string"), ORDERS),
    }
    return {r.customer_id: r.fp for r in incr.customer_fingerprints(roles).collect()}


BASE_C = [(1, "a@x.org"), (2, "b@x.org"), (3, None)]
BASE_O = [(1, "o1", "Ann"), (1, "o2", "Ann B"), (2, "o3", None), (4, "o4", "Dee")]


def test_fingerprints_name_exactly_the_changed_customers(spark):
    base = _fps(spark, BASE_C, BASE_O)
    assert set(base) == {"1", "2", "3", "4"}  # a customer with orders only is one too
    assert len(set(base.values())) == 4
    # Rows in another order: nothing changed.
    assert _fps(spark, BASE_C[::-1], BASE_O[::-1]) == base
    # Customer 1's second order renamed, customer 2's e-mail gone (None), customer 3 gets an
    # order, an identical copy of customer 4's order: 1, 2, 3 and 4 changed, nobody else.
    changed_o = [(1, "o1", "Ann"), (1, "o2", "Anne B"), (2, "o3", None), (4, "o4", "Dee")]
    changed_o += [(3, "o5", "Cy"), (4, "o4", "Dee")]
    after = _fps(spark, [(1, "a@x.org"), (2, None), (3, None)], changed_o)
    assert {c for c in base if after.get(c) != base[c]} == {"1", "2", "3", "4"}
    # Only customer 2's e-mail changes: only customer 2.
    only_2 = _fps(spark, [(1, "a@x.org"), (2, "b2@x.org"), (3, None)], BASE_O)
    assert {c for c in base if only_2[c] != base[c]} == {"2"}


def test_a_value_moved_to_another_role_changes_the_fingerprint(spark):
    """The role is part of each row's hash: the same text in another role is another row."""
    same = SourceConf(columns={"customer_id": "cid", "order_id": "oid", "name": "ship"})
    df = spark.createDataFrame([(7, "x", "Eve")], "cid long, oid string, ship string")
    as_orders = incr.customer_fingerprints({"orders": (df, same)}).first().fp
    as_addresses = incr.customer_fingerprints({"addresses": (df, same)}).first().fp
    assert as_orders != as_addresses


def test_changed_customers_between_two_fingerprint_sets(spark):
    prev = spark.createDataFrame([("1", 10), ("2", 20), ("3", 30)], "customer_id string, fp long")
    cur = spark.createDataFrame([("1", 10), ("2", 21), ("4", 40)], "customer_id string, fp long")
    got = {r.customer_id for r in incr.changed_customers(prev, cur).collect()}
    assert got == {"2", "3", "4"}  # changed, removed, added
