"""Phone keys: E.164 from a number written in national or international form, read as
libphonenumber reads it, by a few regex passes instead of per-country look-ups."""

from __future__ import annotations

import re
from functools import lru_cache

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.normalise.common import lit_map
from jobs.normalise.text import fold_table, is_ascii
from jobs.settings import NormaliseConf


def clean_phone(col: Column) -> Column:
    """Digits, with a leading `+` kept; a leading label (`tel:`), extensions and the `(0)` trunk
    hint of international numbers (`+44 (0)20 ...`) removed."""
    raw = F.trim(F.when(is_ascii(col), col).otherwise(F.translate(col, *fold_table())))
    raw = F.regexp_replace(raw, r"^[^0-9+]+", "")
    raw = F.regexp_replace(raw, r"(?i)\s*(ext\.?|x|#)\s*[0-9]+$", "")
    raw = F.regexp_replace(raw, r"\(0\)", "")
    return F.regexp_replace(raw, r"(?!^\+)[^0-9]", "")


def _lengths(lengths: tuple[int, ...]) -> str:
    r"""Regex of a digit string of one of these lengths, to the end: `(?:\d{9}|\d{10})$`."""
    return "(?:" + "|".join(rf"\d{{{n}}}" for n in sorted(set(lengths))) + ")$"


@lru_cache(maxsize=8)
def _phone_rules(
    countries: tuple[tuple[str, str, str], ...],
    lengths: tuple[tuple[str, tuple[int, ...]], ...],
    patterns: tuple[tuple[str, str], ...],
    idds: tuple[tuple[str, str], ...],
) -> dict[str, str]:
    """The reading of `phone_e164` as regexps over `<country>:<calling code>:<digits>`
    (`+<digits>` once read as international), each applied once to every number: one pass
    per step, the country's branch picked by its prefix, instead of per-country look-ups
    repeated in a large expression. Built from `phone_countries` and `phone_numbering`."""
    length_of = dict(lengths)
    pattern_of = dict(patterns)
    by_code: dict[str, tuple[str, set[int]]] = {}
    for country, cc, trunk in countries:
        old = by_code.setdefault(cc, (trunk, set()))
        by_code[cc] = (old[0], old[1] | set(length_of.get(country, ())))

    def trunk_then(trunk: str, possible: tuple[int, ...] | set[int]) -> str:
        """The trunk prefix, taken only when a possible national number follows it."""
        return f"{trunk}(?={_lengths(tuple(possible))})" if trunk and possible else ""

    own_idd = [rf"{k}:[0-9]*:{re.escape(p)}(?=[1-9])" for k, p in idds]
    with_code = []
    national = []
    for country, cc, trunk in countries:
        possible = length_of.get(country, ())
        rest = cc + (f"(?>{trunk_then(trunk, possible)})?" if trunk and possible else "")
        tests = []
        if possible:
            tests.append(rf"\d{{{max(possible) + 1},}}$")  # too long to be national
            long = tuple(n for n in possible if n >= 9)
            if long:
                tests.append(rest + _lengths(long))  # a full national number after the code
        if country in pattern_of:
            p = pattern_of[country]
            tests.append(rf"(?!(?:{p})$){rest}(?:{p})$")  # only the part after it is national
        if tests:
            with_code.append(rf"{country}:{cc}:(?={cc})(?={'|'.join(tests)})")
        if trunk and possible:
            national.append(rf"({country}:{cc}:){trunk_then(trunk, possible)}")
    after_code = [
        rf"({cc}){trunk_then(trunk, possible)}"
        for cc, (trunk, possible) in sorted(by_code.items())
        if trunk and possible
    ]
    return {
        "international": rf"^(?:[A-Z]*:[0-9]*:(?:\+|00(?=[1-9]))|{'|'.join(own_idd or ['(?!)'])})",
        "with_code": rf"^(?:{'|'.join(with_code or ['(?!)'])})",
        "national": rf"^(?:{'|'.join(national or ['(?!)'])})",
        "national_to": "".join(f"${i + 1}" for i in range(len(national))),
        "after_code": rf"^\+(?:{'|'.join(after_code or ['(?!)'])})",
        "after_code_to": "+" + "".join(f"${i + 1}" for i in range(len(after_code))),
    }


def phone_e164(clean: Column, country: Column, conf: NormaliseConf) -> Column:
    """E.164 (`+<country code><national number>`) from a cleaned number, using the record's
    country for numbers written in national form. Null when no country can be told or the
    length is impossible for E.164.

    The reading follows libphonenumber's (`phonenumbers.parse` with the record's country):
    `+`, `00` or the country's own international prefix (`011`, `810`) start an
    international number; a national trunk prefix (`0`, `8`, `06`) is dropped where a
    possible national number follows it, also after the calling code (`+44 (0)20`,
    `+33 06...`); a number written without `+` but starting with the calling code is read as
    international when it is too long to be national, when only the part after the code
    matches the country's national number pattern, or (unlike libphonenumber, for
    `4915733131601`) when that part is a possible national number of 9 digits or more.
    `00` starts an international number also where the country dials another prefix (US,
    JP, RU ...: libphonenumber reads `0044...` there as national)."""
    rules = _phone_rules(
        tuple((k, cc, trunk) for k, (cc, trunk) in conf.phone_countries.items()),
        tuple(conf.phone_lengths.items()),
        tuple(conf.phone_patterns.items()),
        tuple(conf.phone_idd.items()),
    )
    codes = lit_map({k: cc for k, (cc, _) in conf.phone_countries.items()})
    # "<country>:<calling code>:<number>": each step below reads and rewrites it once
    code = F.try_element_at(codes, country)
    t = F.concat(
        F.coalesce(country, F.lit("")), F.lit(":"), F.coalesce(code, F.lit("")), F.lit(":"), clean
    )
    t = F.regexp_replace(t, rules["international"], "+")
    t = F.regexp_replace(t, rules["with_code"], "+")
    t = F.regexp_replace(t, rules["national"], rules["national_to"])
    t = F.regexp_replace(t, r"^[A-Z]*:([0-9]+):", "+$1")
    t = F.regexp_replace(t, rules["after_code"], rules["after_code_to"])
    return F.regexp_substr(t, F.lit(r"^\+[0-9]{8,15}$"))


def normalise_phone(col: Column, country: Column, conf: NormaliseConf) -> Column:
    return phone_e164(clean_phone(col), country, conf)
