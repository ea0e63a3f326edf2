"""Dates of birth: one form from every national way of writing one, and record linkage's
comparison of two on keyed hashes (exact, near, or nothing)."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from jobs.match.birth import EXACT, NEAR, birth_payload, birth_score
from jobs.match.secrets import with_hash_key
from jobs.normalise import normalise_birth_date

WRITTEN = [
    ("13.10.1965", "19651013"),  # German, Russian, Polish
    ("13/10/1965", "19651013"),  # British, French, Spanish
    ("1965-10-13", "19651013"),  # ISO, a warehouse DATE cast to text
    ("1965/10/13", "19651013"),  # Japanese, Chinese
    ("1965-10-13T00:00:00", "19651013"),  # a timestamp
    ("13-10-65", "19651013"),  # two-digit year: 19yy
    ("5/1/20", "20200105"),  # under the pivot: 20yy; single-digit day and month padded
    ("19651013", "19651013"),  # eight digits, year first
    ("13101965", "19651013"),  # eight digits, day first
    ("19651310", "19651310"),  # a retyped month is kept: it is still near the stored date
    ("1 Oct 1965", None),  # a month name: not read
    ("unknown", None),
    ("", None),
    (None, None),
]


def test_every_national_form_gives_year_month_day(spark):
    df = spark.createDataFrame([(w,) for w, _ in WRITTEN], "written string")
    got = [r.n for r in df.select(normalise_birth_date(F.col("written")).alias("n")).collect()]
    assert got == [n for _, n in WRITTEN]


@pytest.mark.parametrize(
    ("a", "b", "score"),
    [
        ("19651013", "19651013", EXACT),
        ("19651013", "19651019", NEAR),  # one digit of the day
        ("19651013", "19661013", NEAR),  # one digit of the year
        ("19651013", "19615013", NEAR),  # two neighbouring digits swapped (year / month)
        ("19740164", "19740614", NEAR),  # the same across month and day
        ("19651013", "19651310", NEAR),  # day and month swapped (a month-first date)
        ("19651013", "19751113", 0.0),  # two digits apart: another date
        ("19651013", "19560131", 0.0),
        ("19651013", None, None),  # no date on one side
    ],
)
def test_dates_compare_as_exact_near_or_nothing(spark, a, b, score):
    pairs = spark.createDataFrame([(a, b)], "a string, b string")
    hashed = with_hash_key(pairs, "test-key").select(
        birth_payload(F.col("a")).alias("pa"), birth_payload(F.col("b")).alias("pb")
    )
    row = hashed.select(
        birth_score(F.col("pa"), F.col("pb")).alias("score"), F.col("pa").alias("pa")
    ).first()
    assert row.score == score
    # hashes only: the payload holds no digit run of the date
    assert a not in str(row.pa)
