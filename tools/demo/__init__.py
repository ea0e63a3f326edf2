"""Seeded demo data for crosscheck: a company warehouse and an alleged leak sample.

Value pools (names, streets, cities, postcodes) are drawn once per locale with Faker; every row
is then composed from numpy index arrays and pyarrow compute kernels, so 10M customers take
minutes. The sample mixes lines planted from the warehouse (with dump-style noise an exact
normaliser must fold), lines fabricated from the same pools, and broken lines; truth.csv says
which is which so the pipeline's verdict can be scored. By default the sample is one file with
a country column; `multinational=True` writes it as several files the way sellers do
(tools.demo.intl). Per-locale reference data lives in tools.demo.locales.

The modules, each using only those before it: locales, names, arrays, vocab (the value
pools), phones, warehouse, noise, sample (clean lines and the default rendering), intl (the
multinational rendering), collisions, dumps (the files), truth, build (`generate`), cli.
This package re-exports the names tests, benchmarks and tools use.
"""

from tools.demo.build import generate
from tools.demo.cli import main
from tools.demo.collisions import name_collisions
from tools.demo.intl import FILES
from tools.demo.locales import COUNTRY_NAMES, HOT_NAMES, PHONE
from tools.demo.names import name_key, names_match, strip_accents
from tools.demo.phones import NATIONAL_STYLES, PATTERNS, STYLES, draw_phones, format_phones
from tools.demo.sample import FIELDS, FORMATS
from tools.demo.vocab import CODES, COUNTRIES, LOCALES, Vocab
from tools.demo.vocab import cached_vocab as _vocab

__all__ = [
    "CODES",
    "COUNTRIES",
    "COUNTRY_NAMES",
    "FIELDS",
    "FILES",
    "FORMATS",
    "HOT_NAMES",
    "LOCALES",
    "NATIONAL_STYLES",
    "PATTERNS",
    "PHONE",
    "STYLES",
    "Vocab",
    "_vocab",
    "draw_phones",
    "format_phones",
    "generate",
    "main",
    "name_collisions",
    "name_key",
    "names_match",
    "strip_accents",
]
