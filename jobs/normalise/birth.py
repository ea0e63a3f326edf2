"""Dates of birth as eight digits, year first: the one form both sides are compared in.

Dumps write a date of birth in every national order and separator ("13.10.1965",
"1965-10-13", "13/10/65", "19651013", a timestamp). The digits are kept as they stand,
without checking that they make a calendar date: a retyped month ("19651310") is still one
digit or one swap away from the stored date, and record linkage scores it that way. A date
written month first ("10/13/1965") reads as day first here; linkage's day/month swap level
finds it again.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

_SEP = r"[-/. ]+"
# year first: 1965-10-13, 1965/10/13, 1965.10.13 (time of day after it ignored)
_YMD_RE = rf"^(\d{{4}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,2}})(?:\D.*)?$"
# day first: 13.10.1965, 13/10/1965, 13-10-65
_DMY_RE = rf"^(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d{{4}}|\d{{2}})(?:\D.*)?$"
_DIGITS8_RE = r"^\d{8}$"
_DMY8 = ((5, 4), (3, 2), (1, 2))  # "13101965": year, month, day at these (position, length)
PIVOT_YEAR = 30  # a two-digit year under this is 20yy, else 19yy


def _two(part: Column) -> Column:
    return F.lpad(part, 2, "0")


def _year(part: Column) -> Column:
    short = F.length(part) == 2
    century = F.when(part < F.lit(f"{PIVOT_YEAR:02d}"), F.lit("20")).otherwise(F.lit("19"))
    return F.when(short, F.concat(century, part)).otherwise(part)


def normalise_birth_date(value: Column) -> Column:
    """A date of birth as written (string, date or timestamp) -> "YYYYMMDD", or null when it
    has no day, month and year. Eight bare digits are year first when they start with 19 or
    20, else day first ("13101965")."""
    text = F.trim(value.cast("string"))
    digits = F.regexp_replace(text, r"\s+", "")
    ymd = [F.regexp_extract(text, _YMD_RE, k) for k in (1, 2, 3)]
    dmy = [F.regexp_extract(text, _DMY_RE, k) for k in (1, 2, 3)]
    year_first = digits.rlike(r"^(19|20)\d{6}$")
    return (
        F.when(text.rlike(_YMD_RE), F.concat(ymd[0], _two(ymd[1]), _two(ymd[2])))
        .when(text.rlike(_DMY_RE), F.concat(_year(dmy[2]), _two(dmy[1]), _two(dmy[0])))
        .when(digits.rlike(_DIGITS8_RE) & year_first, digits)
        .when(digits.rlike(_DIGITS8_RE), F.concat(*[F.substring(digits, p, n) for p, n in _DMY8]))
    )
