"""Helpers the column builders share: the shipped reference data and small expression tools
that keep generated Spark plans small."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.settings import NormaliseConf, load_normalise


@lru_cache(maxsize=1)
def default_conf() -> NormaliseConf:
    """conf/normalise.yaml as shipped: the reference data of the builders called without one."""
    return load_normalise()


def blank_to_null(col: Column) -> Column:
    return F.when(F.length(col) > 0, col)


_UNIT = "\x1f"  # joins a literal list into one string: in no key, value or pattern


def lit_strings(values: Sequence[str]) -> Column:
    """A literal array<string> made in one call to the JVM (`F.lit(list)` makes one per
    element); constant folding turns it back into one literal."""
    if not values or any(_UNIT in v for v in values):
        return F.array(*[F.lit(v) for v in values]).cast("array<string>")
    return F.split(F.lit(_UNIT.join(values)), _UNIT)


def lit_ints(values: Sequence[int | None]) -> Column:
    """A literal array<int> in one call to the JVM, as `lit_strings` (None stays null)."""
    return lit_strings(["" if v is None else str(v) for v in values]).try_cast("array<int>")


def lit_map(pairs: Mapping[str, object]) -> Column:
    """A literal map<string, string> in two calls to the JVM whatever its size."""
    keys, values = [str(k) for k in pairs], [str(v) for v in pairs.values()]
    return F.map_from_arrays(lit_strings(keys), lit_strings(values))


def let(value: Column, body: Callable[[Column], Column]) -> Column:
    """`body(value)` with `value` bound to a lambda variable: however often `body` uses it, the
    expression holds it once (a nested builder that reuses its input several times would
    otherwise copy a large input into a tree too big to analyse)."""
    return F.get(F.transform(F.array(value), body), 0)


def alternation(words: tuple[str, ...]) -> str:
    """Words (as `clean_name` leaves them: no regex syntax) as one alternation, longest
    first, so "поселок городского типа" wins over "поселок"."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))
