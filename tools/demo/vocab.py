"""The generator's locales and its vocabulary: every field's values, drawn once per locale with
Faker, which rows then refer to by index."""

from __future__ import annotations

import functools
import itertools
import re

import numpy as np
import pyarrow as pa
from faker import Faker

from tools.demo.locales import (
    BR_CITIES,
    DOMAINS,
    HOT_NAMES,
    HOUSE_LETTERS,
    KO_FIRST,
    KO_LAST,
    LOCAL_DOMAINS,
    TR_CITIES,
    canon_street,
    postcode_maker,
    street_maker,
)
from tools.demo.names import NameIndex, strip_accents

LOCALES = (
    ("en_GB", "GB", 0.15),
    ("en_US", "US", 0.15),
    ("de_DE", "DE", 0.12),
    ("fr_FR", "FR", 0.10),
    ("es_ES", "ES", 0.10),
    ("it_IT", "IT", 0.08),
    ("pl_PL", "PL", 0.06),
    ("ru_RU", "RU", 0.08),
    ("el_GR", "GR", 0.06),
    ("ja_JP", "JP", 0.05),
    ("ko_KR", "KR", 0.05),
    ("nl_NL", "NL", 0.05),
    ("tr_TR", "TR", 0.05),
    ("en_CA", "CA", 0.04),
    ("pt_BR", "BR", 0.05),
)
CODES = [c for c, _, _ in LOCALES]
COUNTRIES = [c for _, c, _ in LOCALES]
WEIGHTS = np.array([w for _, _, w in LOCALES]) / sum(w for _, _, w in LOCALES)
NON_LATIN = np.array([CODES.index(c) for c in ("ru_RU", "el_GR", "ja_JP", "ko_KR")])
NUMBER_FIRST = np.array([CODES.index(c) for c in ("en_GB", "en_US", "fr_FR", "en_CA")])
ABBREVIATING = np.array([CODES.index(c) for c in ("en_GB", "en_US", "de_DE", "en_CA")])
ADDRESS = "faker.providers.address"
_UNSAFE = re.compile(r'[,;|"\t\n]')
_MAIL_EXTRA = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "æ": "ae", "đ": "d", "\u0131": "i"})


def _draw(fn, n: int) -> list:
    """Distinct results of n Faker calls, minus any that a delimited dump would have to quote."""
    return [
        v
        for v in dict.fromkeys(fn() for _ in range(n))
        if isinstance(v, tuple) or (v.strip() and not _UNSAFE.search(v))
    ]


def _locale_pools(loc: str, seed: int) -> dict[str, list]:
    """Draw each field's values once; rows later only index into these lists."""
    fk = Faker(loc)
    fk.seed_instance(seed)
    if loc in ("ja_JP", "ko_KR"):  # (native, latin) pairs
        if loc == "ja_JP":
            fp, lp = _draw(fk.first_name_pair, 1000), _draw(fk.last_name_pair, 1000)
            fp, lp = [(p[0], p[2]) for p in fp], [(p[0], p[2]) for p in lp]
        else:
            fp, lp = ([p.split() for p in names.split(",")] for names in (KO_FIRST, KO_LAST))
        names = [[p[i] for p in pairs] for i in (0, 1) for pairs in (fp, lp)]
    else:
        first, last = _draw(fk.first_name, 2000), _draw(fk.last_name, 2000)
        names = [first, last, [None] * len(first), [None] * len(last)]
    city, region = fk.city, fk.administrative_unit
    if loc in ("tr_TR", "pt_BR"):  # Faker has no tr_TR addresses; pt_BR's cities are made up
        city = functools.partial(fk.random_element, TR_CITIES if loc == "tr_TR" else BR_CITIES)
        region = city if loc == "tr_TR" else region
    if loc == "it_IT":  # Faker's list comes out of a set: its order changes with the hash seed
        city = functools.partial(fk.random_element, sorted(fk.provider(ADDRESS).cities))
    return dict(
        zip(("first", "last", "first_latin", "last_latin"), names, strict=False),
        street=_draw(street_maker(loc, fk), 1500),
        city=_draw(city, 1000),
        region=_draw(region, 300),
        postcode=[p for p in _draw(postcode_maker(loc, fk), 2000) if re.search(r"\d", p)],
        domain=DOMAINS + list(LOCAL_DOMAINS[loc]) * 3,
    )


class Vocab:
    """All locales' pools flattened per field; a row refers to a value by global index."""

    def __init__(self, seed: int):
        pools = [_locale_pools(loc, seed + i) for i, loc in enumerate(CODES)]
        self.obj: dict[str, np.ndarray] = {}
        self.off: dict[str, np.ndarray] = {}
        self.size: dict[str, np.ndarray] = {}
        self.hot: dict[str, int] = {}  # global index of the first hot name, per field
        for field in pools[0]:
            values = list(itertools.chain.from_iterable(p[field] for p in pools))
            self.size[field] = np.array([len(p[field]) for p in pools])
            self.off[field] = np.concatenate([[0], np.cumsum(self.size[field])[:-1]])
            if field in ("first", "last"):
                self.hot[field] = len(values)
                values += [h[field == "last"] for h in HOT_NAMES]
            elif field in ("first_latin", "last_latin"):
                values += [None] * len(HOT_NAMES)
            self.obj[field] = np.array(values, dtype=object)
        for field in ("first", "last"):
            self.obj[f"{field}_fold"] = np.array(
                [strip_accents(v) for v in self.obj[field]], dtype=object
            )
            self.obj[f"{field}_mail"] = np.array(
                [
                    re.sub("[^a-z]", "", strip_accents(v.translate(_MAIL_EXTRA)).lower())
                    for v in self.obj[field]
                ],
                dtype=object,
            )
        self.pa = {k: pa.array(v, pa.string()) for k, v in self.obj.items()}
        # street and postcode ids equal for two spellings of one value (address collisions)
        ids: dict[str, int] = {}
        self.street_key = np.array(
            [
                ids.setdefault(canon_street(v, code), len(ids))
                for code, p in zip(CODES, pools, strict=True)
                for v in p["street"]
            ],
            np.int64,
        )
        ids = {}
        self.postcode_key = np.array(
            [
                ids.setdefault(re.sub(r"[\s-]", "", v).upper(), len(ids))
                for v in self.obj["postcode"]
            ],
            np.int64,
        )
        self.postcode_keys = len(ids)

    def address_key(
        self, street: np.ndarray, house: np.ndarray, letter: np.ndarray, postcode: np.ndarray
    ) -> np.ndarray:
        """One int64 per (street, house number, letter, postcode), spelling-insensitive."""
        k = (self.street_key[street] * 301 + house) * len(HOUSE_LETTERS[0]) + letter
        return k * self.postcode_keys + self.postcode_key[postcode]

    @functools.cached_property
    def names(self) -> NameIndex:
        """Built on first use: only the truth's name collisions need it."""
        return NameIndex(self.obj)

    def pick(self, rng: np.random.Generator, field: str, loc: np.ndarray) -> np.ndarray:
        """Uniform draw of global indices, each from its row's own locale pool."""
        u = rng.random(len(loc))
        return self.off[field][loc] + (u * self.size[field][loc]).astype(np.int64)

    def take(self, field: str, idx: np.ndarray) -> pa.Array:
        """The values at global indices, as an Arrow array for the compute kernels."""
        return self.pa[field].take(pa.array(idx))


@functools.lru_cache(maxsize=2)
def cached_vocab(seed: int) -> Vocab:
    """Pools depend only on the seed; reuse them across runs in one process."""
    return Vocab(seed)
