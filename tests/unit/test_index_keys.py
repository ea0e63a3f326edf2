"""The exact match index from warehouse roles: one row per (field, key, customer, source), the
same keys the sample side makes, whatever form or role a value comes in."""

from __future__ import annotations

import hashlib
import hmac

from jobs.match import keys

KEY = "index-test-key"

CUSTOMER_COLUMNS = {
    "customer_id": "id",
    "first_name": "first",
    "last_name": "last",
    "email": "mail",
    "phone": "tel",
    "country": "cc",
}
CUSTOMERS = [
    # id, first, last, mail, tel, cc
    ("c1", "María", "García", "Maria.Garcia@Example.com", "612 345 678", "ES"),
    ("c2", "John", "Smith", "not-an-email", None, "GB"),
    ("c3", None, None, None, None, None),  # nothing usable: no row at all
    (None, "Ghost", "Row", "ghost@example.com", None, "GB"),  # no customer id: dropped
]
ADDRESS_COLUMNS = {"customer_id": "id", "line1": "street", "postcode": "zip", "country": "cc"}
ADDRESSES = [
    ("c1", "Calle Mayor 12", "28001", "ES"),
    ("c2", "10 Downing Street", "SW1A 2AA", "GB"),
    ("c2", "10 Downing St.", "sw1a2aa", "GB"),  # the same address written another way
    ("c2", None, "SW1A 2AA", "GB"),  # no street: no key
]
ORDER_COLUMNS = {
    "customer_id": "id",
    "name": "ship_name",
    "phone": "ship_tel",
    "line1": "ship_street",
    "postcode": "ship_zip",
    "country": "ship_cc",
}
ORDERS = [
    ("c1", "GARCIA, Maria", "+34 612 345 678", "Calle Mayor 12", "28001", "ES"),
    ("c1", "Maria Garcia", "+34612345678", "Calle Mayor 12", "28001", "ES"),  # repeats
    ("c1", "Maria Garcia", "+34612345678", "Calle Mayor 12", "28001", "ES"),  # exact repeat
    ("c2", "Jane Smith", "020 7946 0958", "10 Downing Street", "SW1A 2AA", "GB"),
]


def hashed(value: str) -> int:
    digest = int(hmac.new(KEY.encode(), value.encode(), hashlib.sha256).hexdigest()[:16], 16)
    return digest - (1 << 64) if digest >= (1 << 63) else digest


def build(spark, norm_conf):
    customers = spark.createDataFrame(
        CUSTOMERS, "id string, first string, last string, mail string, tel string, cc string"
    )
    addresses = spark.createDataFrame(ADDRESSES, "id string, street string, zip string, cc string")
    orders = spark.createDataFrame(
        ORDERS,
        "id string, ship_name string, ship_tel string, ship_street string, ship_zip string, "
        "ship_cc string",
    )
    values = [
        keys.role_values("customers", customers, CUSTOMER_COLUMNS),
        keys.role_values("addresses", addresses, ADDRESS_COLUMNS),
        keys.role_values("orders", orders, ORDER_COLUMNS),
    ]
    return keys.index_keys(values, norm_conf, KEY)


def test_index_rows_per_field_key_customer_and_source(spark, norm_conf):
    got = sorted(tuple(r) for r in build(spark, norm_conf).collect())
    expected = sorted(
        (field, hashed(value), customer, source)
        for field, value, customer, source in [
            ("email", "maria.garcia@example.com", "c1", "customers"),
            ("phone", "+34612345678", "c1", "customers"),
            ("phone", "+34612345678", "c1", "orders"),  # two forms in orders, one row
            ("name", "garcia maria", "c1", "customers"),
            ("name", "garcia maria", "c1", "orders"),  # "GARCIA, Maria" and "Maria Garcia"
            ("address", "12|c mayor|28001", "c1", "addresses"),
            ("address", "12|c mayor|28001", "c1", "orders"),
            ("name", "john smith", "c2", "customers"),
            ("address", "10|downing st|SW1A2AA", "c2", "addresses"),  # two forms, one row
            ("address", "10|downing st|SW1A2AA", "c2", "orders"),
            ("name", "jane smith", "c2", "orders"),
            ("phone", "+442079460958", "c2", "orders"),
        ]
    )
    assert got == expected


def test_index_keys_equal_the_sample_sides_keys(spark, norm_conf):
    """A value keyed on the index side and the same value on a sample line meet."""
    lines = spark.createDataFrame(
        [("r", "f", 1, "maria garcia", "maria.garcia@example.com", "0034612345678", "ES",
          "C/ Mayor 12", "28001")],
        "run_id string, source_file string, line_number int, name string, email string, "
        "phone string, country string, line1 string, postcode string",
    )  # fmt: skip
    sample = keys.with_normalised(lines, norm_conf).first()
    index = {(r.field, r.match_key) for r in build(spark, norm_conf).collect()}
    for field in ("email", "phone", "name", "address"):
        assert (field, hashed(sample[f"{field}_n"])) in index
