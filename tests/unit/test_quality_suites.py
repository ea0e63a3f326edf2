"""The suite files in expectations/ run through real GX on small Spark DataFrames: what passes,
what stops a run, what is only recorded, and that no sample value leaks into a result."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs import quality as q
from jobs.errors import ConfigError, QualityGateError
from jobs.quality.results import _num

RAW_SCHEMA = (
    "run_id string, source_file string, line_number bigint, name string, first_name string, "
    "last_name string, email string, phone string, address string, street string, "
    "house_number string, postcode string, city string, country string"
)
QUARANTINE_COLUMNS = ["run_id", "source_file", "line_number", "file_line", "reason", "raw_line"]

# (name, email, phone, country): phones known to normalise to E.164 with their country
CLEAN = [
    ("Anna Smith", "anna.smith@example.com", "+44 20 7946 0958", "GB"),
    ("Tom Baker", "tom.baker@example.co.uk", "020 7946 0958", "GB"),
    ("Bob Stone", "bob.stone@example.org", "(415) 555-0123", "US"),
    ("Jane Roe", "JRoe@Example.com", "1-415-555-0123", "US"),
    ("Jürgen Müller", "j.mueller@web.de", "0151 23456789", "DE"),
    ("Claire Petit", "claire.petit@example.fr", "06 12 34 56 78", "FR"),
    ("Luca Rossi", "luca.rossi@example.it", "347 123 4567", "IT"),
    ("Sato Yuki", "yuki.sato@example.jp", "090-1234-5678", "JP"),
    ("Kim Minjun", "minjun.kim@example.kr", "010-1234-5678", "KR"),
    ("Nikos Pappas", "nikos@example.gr", "694 660 3734", "GR"),
]


def raw_df(spark, lines):
    """sample_raw rows from (name, email, phone, country) tuples (None = field absent)."""
    rows = [
        (
            "r1",
            "sample.csv",
            i + 2,
            name,
            None,
            None,
            email,
            phone,
            None,
            None,
            None,
            None,
            None,
            country,
        )
        for i, (name, email, phone, country) in enumerate(lines)
    ]
    return spark.createDataFrame(rows, RAW_SCHEMA)


def values_of(lines) -> list[str]:
    return [v for line in lines for v in line if v and len(v) > 2]


@pytest.fixture(scope="module")
def suites():
    return q.load_suites()


def only(suites, *names):
    """Some tests need one suite: running fewer keeps the test run short."""
    return {n: suites[n] for n in names}


@pytest.fixture(scope="module")
def swapped_results(spark, norm_conf, suites):
    """Every sample suite on CLEAN with the e-mail and phone columns swapped."""
    swapped = [(name, phone, email, country) for name, email, phone, country in CLEAN]
    return q.check_sample(raw_df(spark, swapped), norm_conf, "r1", suites=suites)


def by_label(results, table, expectation, column=None):
    found = [
        r
        for r in results
        if r["table"] == table and r["expectation"] == expectation and r["column"] == column
    ]
    assert len(found) == 1, (table, expectation, column)
    return found[0]


# ---- the files themselves --------------------------------------------------------------------


def test_shipped_suites_load_with_valid_severities(suites):
    assert {
        "sample_raw",
        "sample_normalised",
        "match_index",
        "match_index_volume",
        "warehouse_customers",
    } <= set(suites)
    for suite in suites.values():
        assert suite.rules, suite.name
        for rule in suite.rules:
            assert rule.severity in q.SEVERITIES
            assert not rule.quarantine or rule.type in q.QUARANTINE_TYPES
    assert any(r.quarantine for r in suites["sample_raw"].rules)


def test_country_value_set_is_iso_alpha2(suites):
    rule = next(r for r in suites["sample_normalised"].rules if r.column == "country")
    codes = rule.kwargs["value_set"]
    assert len(codes) == len(set(codes)) == 249
    assert all(re.fullmatch("[A-Z]{2}", c) for c in codes)
    assert {"GB", "DE", "US", "JP", "KR", "GR"} <= set(codes) and "UK" not in codes


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"severity": "fatal"}, "severity must be one of"),
        ({"type": "expect_column_values_to_be_nice"}, "expect_column_values_to_be_nice"),
        ({"kwargs": {"column": "email", "regex": "@", "mostly": 1.5}}, "mostly"),
        (
            {
                "type": "expect_column_values_to_be_unique",
                "kwargs": {"column": "email"},
                "meta": {"quarantine": True},
            },
            "quarantine works only for",
        ),
    ],
)
def test_invalid_suite_file_is_one_config_line(tmp_path, change, needle):
    doc = {
        "name": "broken",
        "expectations": [
            {
                "type": "expect_column_values_to_match_regex",
                "kwargs": {"column": "email", "regex": "@"},
                **change,
            }
        ],
    }
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        q.load_suite(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and needle in message


# ---- running them ------------------------------------------------------------------------------


def test_clean_sample_passes(spark, norm_conf, suites):
    results = q.check_sample(raw_df(spark, CLEAN), norm_conf, "r1", suites=suites)
    failed = [q.describe(r) for r in results if not r["success"]]
    assert failed == []
    expected = len(suites["sample_raw"].rules) + len(suites["sample_normalised"].rules)
    assert len(results) == expected
    q.enforce(results)
    rows = by_label(results, "sample_raw", "expect_table_row_count_to_be_between")
    assert rows["observed_value"] == str(len(CLEAN))


def test_swapped_email_and_phone_columns_stop_the_run(swapped_results):
    results = swapped_results
    email = by_label(results, "sample_raw", "expect_column_values_to_match_regex", "email")
    assert email["success"] is False and email["severity"] == "critical"
    assert email["unexpected_count"] == len(CLEAN) and email["unexpected_percent"] == 100.0
    with pytest.raises(QualityGateError) as err:
        q.enforce(results)
    message = str(err.value)
    assert re.fullmatch(
        r"sample_raw: expect_column_values_to_match_regex\(email\) failed: "
        r"\d+(\.\d+)? % unexpected \(threshold \d+(\.\d+)? %\)",
        message,
    ), message
    assert message == (
        "sample_raw: expect_column_values_to_match_regex(email) failed: "
        "100 % unexpected (threshold 20 %)"
    )
    assert err.value.exit_code == 4
    stored_text = " ".join(str(v) for r in results for v in r.values())
    for value in values_of(CLEAN):
        assert value not in message and value not in stored_text


def test_warning_only_failure_is_recorded_and_does_not_stop(spark, norm_conf, suites):
    names_as_emails = [
        (email if i < 3 else name, email, phone, country)
        for i, (name, email, phone, country) in enumerate(CLEAN)
    ]
    raw = raw_df(spark, names_as_emails)
    results = q.check_sample(raw, norm_conf, "r1", suites=only(suites, "sample_raw"))
    name = by_label(results, "sample_raw", "expect_column_values_to_not_match_regex", "name")
    assert name["success"] is False and name["severity"] == "warning"
    assert name["unexpected_count"] == 3 and name["unexpected_percent"] == 30.0
    assert name["observed_value"] == "30 % unexpected (3 of 10 values)"
    assert [r for r in results if not r["success"]] == [name]
    q.enforce(results)  # warnings do not stop the run


def test_national_phones_without_a_country_warn_with_the_fix(spark, norm_conf, suites):
    # national numbers on lines that tell no country cannot become E.164: a warning, since
    # a country would make them valid. Line 2's e-mail (.co.uk) tells its country.
    no_country = [(n, e, p, None) for n, e, p, _ in CLEAN[:4]] + CLEAN[4:]
    raw = raw_df(spark, [(n, e, p.lstrip("+"), c) for n, e, p, c in no_country])
    results = q.check_sample(raw, norm_conf, "r1", suites=only(suites, "sample_normalised"))
    phone = by_label(results, "sample_normalised", "expect_column_values_to_match_regex", "phone_n")
    assert phone["success"] is True and phone["unexpected_count"] == 0
    warned = by_label(
        results, "sample_normalised", "expect_column_values_to_not_be_in_set", "phone_no_country"
    )
    assert warned["success"] is False and warned["severity"] == "warning"
    assert warned["unexpected_count"] == 3
    assert "sample.default_country" in q.describe(warned)
    q.enforce(results)  # the run goes on


def test_values_that_are_no_phone_numbers_fail_sample_normalised(spark, norm_conf, suites):
    bad = ["12", "n/a", "+12", "0000"]
    lines = [(n, e, bad[i] if i < 4 else p, c) for i, (n, e, p, c) in enumerate(CLEAN)]
    results = q.check_sample(
        raw_df(spark, lines), norm_conf, "r1", suites=only(suites, "sample_normalised")
    )
    phone = by_label(results, "sample_normalised", "expect_column_values_to_match_regex", "phone_n")
    assert phone["success"] is False and phone["unexpected_count"] == 4
    with pytest.raises(QualityGateError, match=r"^sample_normalised: .*\(phone_n\) failed: 40 %"):
        q.enforce(results)


def test_editing_mostly_in_the_suite_file_changes_the_outcome(spark, norm_conf, tmp_path):
    folder = tmp_path / "expectations"
    folder.mkdir()
    shutil.copy(q.suites_dir() / "sample_raw.json", folder / "sample_raw.json")
    broken = [
        (n, e.replace("@", " at ") if i < 3 else e, p, c) for i, (n, e, p, c) in enumerate(CLEAN)
    ]
    raw = raw_df(spark, broken)

    first = q.check_sample(raw, norm_conf, "r1", suites=q.load_suites(folder))
    email = by_label(first, "sample_raw", "expect_column_values_to_match_regex", "email")
    assert email["success"] is False and email["threshold"] == "20 %"
    with pytest.raises(QualityGateError):
        q.enforce(first)

    doc = json.loads((folder / "sample_raw.json").read_text(encoding="utf-8"))
    for exp in doc["expectations"]:
        if exp["kwargs"].get("column") == "email":
            exp["kwargs"]["mostly"] = 0.6
    (folder / "sample_raw.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")

    second = q.check_sample(raw, norm_conf, "r1", suites=q.load_suites(folder))
    email = by_label(second, "sample_raw", "expect_column_values_to_match_regex", "email")
    assert email["success"] is True and email["threshold"] == "40 %"
    q.enforce(second)


def test_missing_column_is_a_failed_check_not_a_crash(spark, tmp_path):
    doc = {
        "name": "typo",
        "meta": {"table": "sample_raw"},
        "expectations": [
            {
                "type": "expect_column_values_to_match_regex",
                "kwargs": {"column": "emial", "regex": "@"},
                "severity": "critical",
            }
        ],
    }
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    results = q.validate(raw_df(spark, CLEAN), q.load_suite(path), "r1")
    assert results[0]["success"] is False
    with pytest.raises(QualityGateError) as err:
        q.enforce(results)
    assert str(err.value) == (
        "sample_raw: expect_column_values_to_match_regex(emial) could not be evaluated: "
        "column emial not found"
    )


# ---- row-level quarantine ------------------------------------------------------------------


def test_quarantine_moves_lines_without_identifying_fields_and_counts_reconcile(spark, suites):
    lines = CLEAN[:6] + [(None, None, None, "GB"), (None, None, None, None)]
    raw = raw_df(spark, lines).withColumn(
        "city", F.when(F.col("name").isNull(), F.lit("Springfield"))
    )
    kept, quarantined = q.quality_quarantine_rows(raw, suites["sample_raw"], "r1")
    assert kept.columns == raw.columns
    assert quarantined.columns == QUARANTINE_COLUMNS
    kept_lines = {r.line_number for r in kept.collect()}
    held = quarantined.collect()
    assert len(kept_lines) + len(held) == raw.count()
    assert kept_lines.isdisjoint({r.line_number for r in held})
    assert {r.reason for r in held} == {"expect_column_values_to_be_between(identifying_fields)"}
    assert q.reason_counts(quarantined) == {
        "expect_column_values_to_be_between(identifying_fields)": 2
    }
    assert json.loads(held[0].raw_line)["city"] == "Springfield"
    all_kept, none_held = q.quality_quarantine_rows(raw, None, "r1")  # no suite file: nothing moves
    assert all_kept.count() == raw.count() and none_held.count() == 0


def test_quarantine_conditions_follow_gx_semantics(spark):
    df = spark.createDataFrame(
        [("a@b.c", 3), ("nope", 0), (None, None), ("x@y.z", 9)], "email string, n int"
    )
    rule = q.Rule(
        "expect_column_values_to_match_regex",
        {"column": "email", "regex": "@"},
        "warning",
        True,
        True,
    )
    between = q.Rule(
        "expect_column_values_to_be_between",
        {"column": "n", "min_value": 1, "max_value": 9, "strict_max": True},
        "warning",
        True,
        True,
    )
    out = df.select(
        q.unexpected_condition(rule).alias("regex"), q.unexpected_condition(between).alias("rng")
    ).collect()
    assert [r.regex for r in out] == [False, True, False, False]  # nulls are not unexpected
    assert [r.rng for r in out] == [False, True, False, True]


def test_quarantine_uses_a_raw_line_column_when_given(spark, suites):
    raw = raw_df(spark, CLEAN[:2] + [(None, None, None, None)]).withColumn(
        "raw_line", F.concat_ws(";", F.col("name"), F.col("email"))
    )
    kept, quarantined = q.quality_quarantine_rows(raw, suites["sample_raw"], "r1")
    assert "raw_line" not in kept.columns and kept.count() == 2
    assert [r.raw_line for r in quarantined.collect()] == [""]


# ---- reporting -----------------------------------------------------------------------------


def test_summary_and_markdown_hold_counts_only(swapped_results):
    quality = q.summary(swapped_results)
    json.dumps(quality)  # JSON-able
    assert {
        "table",
        "expectation",
        "column",
        "severity",
        "success",
        "observed_value",
        "unexpected_count",
        "unexpected_percent",
        "threshold",
    } <= set(quality[0])
    section = q.markdown_section(quality)
    assert section.startswith("## Data quality")
    assert "| sample_raw | expect_column_values_to_match_regex | email | critical | **FAIL** |" in (
        section
    )
    for value in values_of(CLEAN):
        assert value not in section and value not in json.dumps(quality)
    assert "No quality checks" in q.markdown_section([])


def test_number_formatting():
    assert _num(38.2) == "38.2" and _num(5.0) == "5" and _num(0.004) == "<0.01"
    assert _num(14.285999) == "14.29" and _num(7) == "7"
    assert Path(q.suites_dir()).name == "expectations"
