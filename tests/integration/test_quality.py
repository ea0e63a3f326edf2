"""Quality gates against a throwaway lakehouse: the index volume check reads index_builds,
results go to the quality_results Delta table, and the `validate` job re-checks stored tables."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pyspark.sql import functions as F

from jobs import quality as q
from jobs import tables
from jobs.errors import QualityGateError
from jobs.io.delta import append, overwrite, read_table, write_run
from jobs.settings import load_config
from jobs.steps import validate as v

BUILDS_SCHEMA = "built_at timestamp, key_fingerprint string, rows_per_field map<string,bigint>"
INDEX_SCHEMA = "field string, match_key bigint, customer_id string, source string"
RAW_SCHEMA = (
    "run_id string, source_file string, line_number bigint, name string, first_name string, "
    "last_name string, email string, phone string, address string, street string, "
    "house_number string, postcode string, city string, country string"
)
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture()
def config(tmp_path):
    lake = tmp_path / "lh"
    return load_config(
        overrides=[
            f"lakehouse={lake}",
            f"warehouse.customers.path={tmp_path / 'customers'}",
            "warehouse.addresses=",
            "warehouse.orders=",
        ]
    )


def write_builds(spark, config, *counts):
    rows = [(T0 + timedelta(days=i), "fp", dict(c)) for i, c in enumerate(counts)]
    append(spark.createDataFrame(rows, BUILDS_SCHEMA), config.table(tables.INDEX_BUILDS))
    return read_table(spark, config.table(tables.INDEX_BUILDS))


def test_index_that_lost_rows_since_the_previous_build_fails(spark, config):
    builds = write_builds(
        spark,
        config,
        {"email": 1000, "phone": 800, "name": 1000},
        {"email": 600, "phone": 800, "name": 1000},
    )
    results = q.volume_check(builds, "index-x")
    assert len(results) == 1 and results[0]["success"] is False
    assert results[0]["observed_value"] == "0.6"
    with pytest.raises(QualityGateError) as err:
        q.enforce(results)
    assert str(err.value) == (
        "match_index: expect_column_min_to_be_between(rows_ratio) failed: "
        "observed 0.6 (expected >= 0.9)"
    )


def test_volume_view_compares_new_counts_with_the_last_build(spark, config):
    builds = write_builds(spark, config, {"email": 1000, "phone": 800})
    view = q.index_volume_view(builds, {"email": 990, "address": 50})
    got = {r.field: (r.rows, r.previous_rows, r.rows_ratio) for r in view.collect()}
    assert got == {"email": (990, 1000, 0.99), "phone": (0, 800, 0.0)}  # phone vanished
    failing = q.volume_check(builds, "index-x", {"email": 990, "address": 50})
    assert failing[0]["success"] is False and failing[0]["observed_value"] == "0"
    passing = q.volume_check(builds, "index-x", {"email": 990, "phone": 790})
    assert passing[0]["success"] is True


def test_first_build_has_nothing_to_compare_and_passes(spark, config):
    assert q.volume_check(None, "index-x")[0]["observed_value"].startswith("skipped")
    builds = write_builds(spark, config, {"email": 10})
    skipped = q.volume_check(builds, "index-x")  # one build: no previous one
    assert skipped[0]["success"] is True and skipped[0]["unexpected_count"] is None


def test_check_index_validates_rows_volume_and_customers(spark, config):
    index = spark.createDataFrame(
        [("email", 1, "c1", "customers"), ("phone", 2, None, "orders"), ("bogus", 3, "c2", "x")],
        INDEX_SCHEMA,
    )
    customers = spark.createDataFrame([("c1",), ("c1",), ("c2",)], "customer_id string")
    results = q.check_index(index, {"email": 1, "phone": 1, "bogus": 1}, None, "index-x", customers)
    failed = {(r["table"], r["expectation"], r["column"]) for r in results if not r["success"]}
    assert failed == {
        ("match_index", "expect_column_values_to_be_in_set", "field"),
        ("match_index", "expect_column_values_to_not_be_null", "customer_id"),
        ("match_index", "expect_column_values_to_be_in_set", "source"),
        ("warehouse_customers", "expect_column_values_to_be_unique", "customer_id"),
    }
    with pytest.raises(QualityGateError, match=r"^match_index: expect_column_values_to_be_in_set"):
        q.enforce(results)


def test_a_refresh_judges_its_new_rows_by_row_rules_and_the_whole_index_by_table_rules(spark):
    """Rows kept from earlier builds were judged when written: a bad kept row does not fail a
    refresh again, a bad new row does; the row count is the whole index's, so a refresh that
    adds no row (its customers deleted) passes."""
    kept = spark.createDataFrame([("bogus", 1, "c1", "customers")], INDEX_SCHEMA)
    good = spark.createDataFrame([("email", 2, "c2", "customers")], INDEX_SCHEMA)
    bad = spark.createDataFrame([("email", None, "c3", "orders")], INDEX_SCHEMA)
    none = spark.createDataFrame([], INDEX_SCHEMA)

    def failed(new_rows):
        index = kept.unionByName(new_rows)
        results = q.check_index(index, {"email": 1}, None, "index-r", new_rows=new_rows)
        # the match_index suite's results (the volume check's, on rows_ratio, aside)
        rules = [r for r in results if r["table"] == "match_index" and r["column"] != "rows_ratio"]
        assert len(rules) == 5  # every rule of the suite, each judged once
        return {(r["expectation"], r["column"]) for r in rules if not r["success"]}

    assert failed(good) == set()
    assert failed(bad) == {("expect_column_values_to_not_be_null", "match_key")}
    assert failed(none) == set()
    # the table rule still sees the whole index: empty, it fails
    results = q.check_index(none, {}, None, "index-r", new_rows=none)
    assert {r["expectation"] for r in results if not r["success"]} == {
        "expect_table_row_count_to_be_between"
    }


def test_quality_results_round_trip_with_replace_per_run(spark, config):
    results = [
        {
            "run_id": "r1",
            "table": "sample_raw",
            "expectation": "expect_x",
            "column": "email",
            "severity": "critical",
            "success": False,
            "observed_value": "38.2 % unexpected",
            "unexpected_count": 382,
            "unexpected_percent": 38.2,
            "threshold": "5 %",
            "checked_at": T0,
        },
        {
            "run_id": "r1",
            "table": "sample_normalised",
            "expectation": "expect_y",
            "column": None,
            "severity": "warning",
            "success": True,
            "observed_value": "10",
            "unexpected_count": None,
            "unexpected_percent": None,
            "threshold": ">= 1",
            "checked_at": T0,
        },
    ]
    v.write_results(spark, config, "r1", results)
    v.write_results(spark, config, "r1", results)  # re-run: replaces, never duplicates
    v.write_results(spark, config, "r2", results[:1])
    stored = read_table(spark, config.table(tables.QUALITY))
    assert stored.filter(F.col("run_id") == "r1").count() == 2
    assert stored.filter(F.col("run_id") == "r2").count() == 1
    assert stored.columns == [c.split()[0] for c in tables.QUALITY_SCHEMA.split(", ")]

    # a later job of the same run writes another table: the run's other rows stay
    later = [{**results[0], "table": "match_index", "checked_at": T0 + timedelta(hours=1)}]
    v.write_results(spark, config, "r1", later)
    back = v.read_results(spark, config, "r1")
    assert [(r["table"], r["success"]) for r in back] == [
        ("sample_raw", False),
        ("sample_normalised", True),
        ("match_index", False),
    ]
    assert back[0]["observed_value"] == "38.2 % unexpected" and back[0]["unexpected_count"] == 382
    assert back[0]["checked_at"] == "2026-01-01T00:00:00+00:00"


def test_report_shows_the_index_build_in_use_not_a_rejected_one(spark, config):
    base = {
        "expectation": "expect_x",
        "column": None,
        "severity": "critical",
        "observed_value": "1",
        "unexpected_count": None,
        "unexpected_percent": None,
        "threshold": ">= 1",
    }
    in_use, rejected = T0, T0 + timedelta(days=1)
    write_builds(spark, config, {"email": 10})  # only the accepted build is recorded
    for built_at, ok in ((in_use, True), (rejected, False)):
        row = {**base, "table": "match_index", "checked_at": built_at, "success": ok}
        v.write_results(spark, config, q.index_run_id(built_at), [row])
    sample_row = {**base, "table": "sample_raw", "checked_at": T0, "success": True}
    v.write_results(spark, config, "r9", [sample_row])
    back = v.read_results(spark, config, "r9")
    assert [(r["table"], r["success"]) for r in back] == [
        ("sample_raw", True),
        ("match_index", True),
    ]
    assert [r["table"] for r in v.read_results(spark, config, "r9", with_index=False)] == [
        "sample_raw"
    ]


def test_validate_job_rechecks_stored_tables(spark, config, tmp_path):
    lines = [
        (
            "r1",
            "s.csv",
            2,
            "Anna Smith",
            None,
            None,
            "anna@example.com",
            "+44 20 7946 0958",
            None,
            None,
            None,
            None,
            None,
            "GB",
        ),
        (
            "r1",
            "s.csv",
            3,
            "Bob Stone",
            None,
            None,
            "bob@example.org",
            "(415) 555-0123",
            None,
            None,
            None,
            None,
            None,
            "US",
        ),
    ]
    write_run(
        spark, spark.createDataFrame(lines, RAW_SCHEMA), config.table(tables.SAMPLE_RAW), "r1"
    )
    index = spark.createDataFrame([("email", 1, "c1", "customers")], INDEX_SCHEMA)
    overwrite(index, config.table(tables.INDEX), partition_by=["field"])
    write_builds(spark, config, {"email": 1}, {"email": 1})
    customers = spark.createDataFrame(
        [
            ("c1", "Anna", "Smith", "anna@example.com", "+442079460958", "GB"),
            ("c2", "Bob", "Stone", "bob@example.org", "+14155550123", "US"),
        ],
        "customer_id string, first_name string, last_name string, email string, phone string, "
        "country string",
    )
    customers.write.parquet(str(tmp_path / "customers"))
    # sample_normalised runs on the same rows as sample_raw; left out to keep the test short
    suites = {n: s for n, s in q.load_suites().items() if n != "sample_normalised"}
    results = v.validate_run(spark, config, "r1", suites=suites)
    assert {r["table"] for r in results} == {"sample_raw", "match_index", "warehouse_customers"}
    assert all(r["success"] for r in results), [q.describe(r) for r in results if not r["success"]]
    stored = read_table(spark, config.table(tables.QUALITY)).filter(F.col("run_id") == "r1")
    assert stored.count() == len(results)
