"""A date of birth as record linkage compares it: keyed hashes of the date and of its near
variants, never the date.

`normalise.birth.normalise_birth_date` gives eight digits, year first. Two of them are
"near" when one digit differs, two neighbouring digits are swapped, or day and month are
swapped; each such pair shares a variant hash: the date with the one digit at position k
left out (tagged k), with the two digits at k, k+1 put in order (tagged k), with day and
month put in order. The payload is [[date hash], sorted variant hashes]: the comparison
reads an overlap of two int arrays, as it does for gram sets.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.match.secrets import prefix_hash

FIELD = "date_of_birth"
BIRTH_PAYLOAD = "date_of_birth_payload"  # sample_normalised's column: the line's payload
TAG = "b"
DIGITS = 8
EXACT, NEAR = 1.0, 0.5  # the scores of the two agreements (conf/matching.yaml levels)


def _variants(d: Column) -> list[Column]:
    def cut(start: int, length: int) -> Column:
        return F.substring(d, start + 1, length) if length > 0 else F.lit("")

    out = [F.concat(F.lit(f"d{k}:"), cut(0, k), cut(k + 1, DIGITS - k - 1)) for k in range(DIGITS)]
    for k in range(DIGITS - 1):
        a, b = cut(k, 1), cut(k + 1, 1)
        both = F.concat(F.least(a, b), F.greatest(a, b))
        out.append(F.concat(F.lit(f"t{k}:"), cut(0, k), both, cut(k + 2, DIGITS - k - 2)))
    month, day = cut(4, 2), cut(6, 2)
    out.append(F.concat(F.lit("s:"), cut(0, 4), F.least(month, day), F.greatest(month, day)))
    return out


def birth_payload(date: Column) -> Column:
    """A normalised date ("YYYYMMDD") -> [[its hash], its variants' hashes, sorted]; null for
    a null date. Needs the key's columns (`secrets.with_hash_key`)."""
    exact = F.array(prefix_hash(F.concat(F.lit("="), date), TAG))
    near = F.array_sort(F.array(*[prefix_hash(v, TAG) for v in _variants(date)]))
    return F.when(date.isNotNull(), F.array(exact, near))


def birth_score(s: Column, i: Column) -> Column:
    """Two payloads -> EXACT when the dates agree, NEAR when they are near, else 0; null
    when a side has none."""
    return (
        F.when(F.arrays_overlap(s[0], i[0]), F.lit(EXACT))
        .when(F.arrays_overlap(s[1], i[1]), F.lit(NEAR))
        .when(s.isNotNull() & i.isNotNull(), F.lit(0.0))
    )
