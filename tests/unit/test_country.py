"""A country for every sample line: which part of the line tells it, and in what order."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from jobs import quality as q
from jobs.match import sample_lines
from jobs.normalise import clean_name, fold_name
from jobs.normalise.country import country_table
from jobs.settings import SAMPLE_FIELDS


def lines(spark, rows):
    """(country, address, phone, email) rows as parsed sample lines (other fields null)."""
    cols = ("country", "address", "phone", "email")
    data = [
        {"line_number": i + 2, **dict.fromkeys(SAMPLE_FIELDS), **dict(zip(cols, r, strict=True))}
        for i, r in enumerate(rows)
    ]
    schema = ", ".join(["line_number bigint", *[f"{f} string" for f in SAMPLE_FIELDS]])
    return spark.createDataFrame(data, schema)


def test_reference_names_fold_as_spark_folds_them(spark, norm_conf):
    """Each name in conf/countries.yaml must be looked up under the key Spark's clean_name
    gives the same text, or a line writing it is never placed."""
    raw = [n for _, names in norm_conf.countries.names for n in names]
    df = spark.createDataFrame([(n,) for n in raw], "n string")
    got = dict(df.select("n", clean_name(F.col("n")).alias("k")).collect())
    wrong = {n: (got[n], fold_name(n)) for n in raw if got[n] != fold_name(n)}
    assert wrong == {}


def test_every_listed_code_and_name_is_known(norm_conf):
    table = country_table(norm_conf.countries)
    for code, names in norm_conf.countries.names:
        assert table.names[code.lower()] == code
        assert table.names[fold_name(names[0])] == code  # the alpha-3 code
    for written, code in [("Deutschland", "DE"), ("Россия", "RU"), ("日本", "JP"),
                          ("Türkiye", "TR"), ("대한민국", "KR"), ("the netherlands", "NL"),
                          ("Ελλάδα", "GR"), ("U.K.", "GB"), ("NO", "NO")]:  # fmt: skip
        assert table.names[fold_name(written)] == code, written


CASES = [
    # (country column, address, phone, email) -> (country, source, conflict)
    (("Germany", "Hauptstr. 5, 10115 Berlin, FR", "+33 1 23 45 67 89", None), ("DE", "column", True)),
    ((None, "Hoofdstraat 12, Leiden 2235 NT, Nederland", "06-87672323", None), ("NL", "address", False)),
    ((None, "ул. Ленина 5, г. Москва 101000, RUS", "8 (922) 784-75-56", None), ("RU", "address", False)),
    ((None, "Via Roma 1, 00100 Roma, IT", None, None), ("IT", "address", False)),
    ((None, "Rue X 1, 75001 Paris, France", "+49 157 33131601", None), ("FR", "address", True)),
    ((None, "Hoofdstraat 12 2235 NT Leiden Netherlands", None, None), ("NL", "address", False)),
    ((None, "1-2-3 Shiba, Minato 105-0011, 日本", None, None), ("JP", "address", False)),
    ((None, "12 High St, London SW1A 1AA", "+44 20 7946 0958", "a@b.de"), ("GB", "phone", True)),
    ((None, None, "0049 157 33131601", None), ("DE", "phone", False)),
    ((None, None, "+1 (968) 290-5717", None), ("US", "phone", False)),
    ((None, "5 Main St, Toronto, Canada", "+1 416 555 0199", None), ("CA", "address", False)),
    ((None, None, "0157 33131601", " Jan@Web.DE "), ("DE", "email", False)),
    ((None, None, "06-87672323", "x@yahoo.co.jp"), ("JP", "email", False)),
    ((None, None, "06-87672323", "x@mail.uk"), ("GB", "email", False)),
    ((None, None, "0157 33131601", "x@startup.io"), (None, "none", False)),
    ((None, "Main Street 5, Springfield", "(968) 290-5717", "x@gmail.com"), (None, "none", False)),
    (("Atlantis", None, None, None), (None, "none", False)),
    ((None, None, None, None), (None, "none", False)),
]  # fmt: skip


def test_country_sources_in_order(spark, norm_conf):
    df = lines(spark, [c for c, _ in CASES])
    out = sample_lines.with_line_country(df, norm_conf, None)
    got = {
        r.line_number: (r.country, r.country_source, r.country_conflict)
        for r in out.select(
            "line_number", "country", "country_source", "country_conflict"
        ).collect()
    }
    assert got == {i + 2: want for i, (_, want) in enumerate(CASES)}


def test_default_country_comes_last(spark, norm_conf):
    df = lines(spark, [(None, None, "0157 33131601", None), ("PL", None, None, None)])
    out = sample_lines.with_line_country(df, norm_conf, "de").orderBy("line_number").collect()
    assert [(r.country, r.country_source) for r in out] == [("DE", "default"), ("PL", "column")]


def test_national_numbers_become_e164_with_the_address_country(spark, norm_conf):
    df = lines(
        spark,
        [
            (None, "Hauptstr. 5, Berlin 10115, Deutschland", "0157 33131601", None),
            (None, "ул. Ленина 5, Москва 101000, Россия", "8 (922) 784-75-56", None),
            (None, "5 Main St, Austin TX 73301, USA", "(968) 290-5717", None),
            (None, "Hoofdstraat 12, Leiden 2235 NT, NL", "06-87672323", None),
            (None, None, "0157 33131601", None),  # no country anywhere
            (None, None, "jan@web.de", None),  # a swapped column
            (None, None, None, None),
        ],
    )
    view = q.sample_canonical_view(df, norm_conf).orderBy("line_number").collect()
    assert [(r.phone_n, r.phone_no_country) for r in view] == [
        ("+4915733131601", False),
        ("+79227847556", False),
        ("+19682905717", False),
        ("+31687672323", False),
        (None, True),
        ("", None),
        (None, None),
    ]


@pytest.fixture(scope="module")
def multinational(spark):
    """Forty lines of six countries, phones national, the country only in the address."""
    base = [
        ("Hauptstr. {i}, Berlin 10115, Deutschland", "0157 331316{i:02d}"),
        ("ул. Ленина {i}, Москва 101000, Россия", "8 (922) 784-75-{i:02d}"),
        ("{i} Main St, Austin TX 73301, United States", "(968) 290-57{i:02d}"),
        ("Hoofdstraat {i}, Leiden 2235 NT, NL", "06-876723{i:02d}"),
        ("Via Roma {i}, 00100 Roma, Italia", "347 123 45{i:02d}"),
        ("{i} High St, London SW1A 1AA, UK", "020 7946 09{i:02d}"),
    ]
    rows = [(None, a.format(i=i), p.format(i=i), None) for i in range(1, 8) for a, p in base]
    return lines(spark, rows[:40])


def test_a_multinational_sample_passes_the_phone_gate(spark, norm_conf, multinational):
    results = q.check_sample(multinational, norm_conf, "r1", suites=q.load_suites())
    failed = [q.describe(r) for r in results if not r["success"]]
    assert failed == []
    q.enforce(results)


def test_no_country_anywhere_is_a_warning_with_the_fix(spark, norm_conf):
    rows = [(None, None, f"0157 3313160{i}", None) for i in range(10)]
    results = q.check_sample(lines(spark, rows), norm_conf, "r1", suites=q.load_suites())
    q.enforce(results)  # warnings only: the run goes on
    warned = [r for r in results if r["column"] == "phone_no_country"]
    assert len(warned) == 1 and not warned[0]["success"] and warned[0]["severity"] == "warning"
    assert warned[0]["unexpected_count"] == 10
    line = q.describe(warned[0])
    assert "10 values" in line and "sample.default_country" in line
    assert "0157" not in line
