"""Seeded demo data for crosscheck: a company warehouse and an alleged leak sample.

Value pools (names, streets, cities, postcodes) are drawn once per locale with Faker; every row
is then composed from numpy index arrays and pyarrow compute kernels, so 10M customers take
minutes. The sample mixes lines planted from the warehouse (with dump-style noise an exact
normaliser must fold), lines fabricated from the same pools, and broken lines; truth.csv says
which is which so the pipeline's verdict can be scored. By default the sample is one file with
a country column; `multinational=True` writes it as several files the way sellers do
(jobs.demo_intl). Per-locale reference data lives in jobs.demo_locales.
"""

from __future__ import annotations

import argparse
import csv
import functools
import gzip as gzip_mod
import io
import itertools
import json
import random
import re
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from faker import Faker

from tools.demo.locales import (
    ABBREVIATIONS,
    BR_CITIES,
    DOMAINS,
    HOT_NAMES,
    HOUSE_LETTERS,
    KO_FIRST,
    KO_LAST,
    LETTERED,
    LINE2,
    LOCAL_DOMAINS,
    NATIONAL_ALT,
    PHONE,
    TR_CITIES,
    TRANSLIT,
    canon_street,
    postcode_maker,
    street_maker,
)

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
CHUNK = 1_000_000
ADDRESS = "faker.providers.address"
T0, T1 = 1420070400, 1735603200  # 2015-01-01 .. 2024-12-31, UTC seconds

# The first five are the default sample's; the multinational sample adds the last two.
STYLES = ("e164", "national", "intl", "intl00", "dashed", "national_alt", "intl_trunk")
NATIONAL_STYLES = ("national", "dashed", "national_alt")


def _patterns(country: str) -> dict[str, str]:
    cc, trunk, n, _, national, intl = PHONE[country]
    head, *rest = re.split(r"[ -]", intl)
    dashed = re.sub(r"[ ()]+", "-", national).strip("-")
    out = {
        "e164": f"+{cc}" + "d" * n,
        "national": national,
        "intl": f"+{cc} {intl}",
        "intl00": f"00{cc} ({head}) " + "-".join(rest),
        "dashed": dashed,
        "national_alt": NATIONAL_ALT.get(country, dashed),
    }
    if trunk == "0" and national.startswith("0"):  # "+44 (0) 7911 123456"
        out["intl_trunk"] = f"+{cc} (0) {intl}"
    return out


PATTERNS = {c: _patterns(c) for c in PHONE}
FORMATS = {
    "semicolon": (";", "csv", ["Nom", "Correo", "Telefon", "Adresse", "Pays"]),
    "csv": (",", "csv", ["Full Name", "E-mail", "Mobile", "Address", "Country"]),
    "tsv": ("\t", "tsv", ["Name", "E-Mail-Adresse", "Telefonnummer", "Anschrift", "Land"]),
    "pipe": ("|", "txt", ["nombre", "email", "tel", "direccion", "pais"]),
    "jsonl": (None, "jsonl", ["name", "mail", "phone_number", "addr", "country"]),
}
FIELDS = ("name", "email", "phone", "address")
BAD_BYTES = b"\xff\xfe\xfa"
_MARK = "\ue000"  # stands in for BAD_BYTES until the line is encoded
_LETTERS = re.compile(r"[^\W\d_]+")
_UNSAFE = re.compile(r'[,;|"\t\n]')
_MAIL_EXTRA = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "æ": "ae", "đ": "d", "\u0131": "i"})
_NULL = pa.scalar(None, pa.string())


def strip_accents(s: str) -> str:
    """Fold é->e, ü->u, ß->ss the way a careless exporter does (ł and friends survive)."""
    s = unicodedata.normalize("NFKD", s.replace("ß", "ss"))
    return unicodedata.normalize("NFC", "".join(c for c in s if not unicodedata.combining(c)))


def name_key(name: str) -> str:
    """Order/case/accent-insensitive name key behind the truth's name_collides column."""
    s = unicodedata.normalize("NFKD", name)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    s = s.replace("ß", "ss").replace("ı", "i")  # Turkish dotless i: AYDIN = Aydın
    return " ".join(sorted(_LETTERS.findall(s)))


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
    def names(self) -> _NameIndex:
        return _NameIndex(self)

    def pick(self, rng: np.random.Generator, field: str, loc: np.ndarray) -> np.ndarray:
        """Uniform draw of global indices, each from its row's own locale pool."""
        u = rng.random(len(loc))
        return self.off[field][loc] + (u * self.size[field][loc]).astype(np.int64)

    def take(self, field: str, idx: np.ndarray) -> pa.Array:
        return self.pa[field].take(pa.array(idx))


@functools.lru_cache(maxsize=2)
def _vocab(seed: int) -> Vocab:
    """Pools depend only on the seed; reuse them across runs in one process."""
    return Vocab(seed)


def _join(*parts, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep)


def _isin_sorted(values: np.ndarray, sorted_ref: np.ndarray) -> np.ndarray:
    """Membership via searchsorted (numpy's hash-based isin/unique are slow on int64)."""
    if not sorted_ref.size:
        return np.zeros(len(values), bool)
    pos = np.minimum(np.searchsorted(sorted_ref, values), len(sorted_ref) - 1)
    return sorted_ref[pos] == values


def _nsn(rng: np.random.Generator, country: str, n: int) -> np.ndarray:
    cc, _, length, prefixes = PHONE[country][:4]
    if cc == 1:  # NANP: area code (the country's own, if listed) and exchange never start 0/1
        area = (
            np.array([int(p) for p in prefixes])[rng.integers(0, len(prefixes), n)]
            if prefixes
            else rng.integers(200, 1000, n)
        )
        return area * 10**7 + rng.integers(200, 1000, n) * 10**4 + rng.integers(0, 10**4, n)
    tail = length - len(prefixes[0])
    head = np.array([int(p) for p in prefixes])[rng.integers(0, len(prefixes), n)]
    return head * 10**tail + rng.integers(0, 10**tail, n)


def draw_phones(
    rng: np.random.Generator, cidx: np.ndarray, exclude: np.ndarray | None = None
) -> np.ndarray:
    """E.164 numbers as int64 (the digits after '+'), unique and disjoint from `exclude`."""
    full, todo = np.zeros(len(cidx), np.int64), np.arange(len(cidx))
    banned = np.sort(exclude) if exclude is not None else np.zeros(0, np.int64)
    while todo.size:
        for c, country in enumerate(COUNTRIES):
            rows = todo[cidx[todo] == c]
            full[rows] = PHONE[country][0] * 10 ** PHONE[country][2] + _nsn(rng, country, rows.size)
        order = np.argsort(full, kind="stable")
        dup = np.zeros(len(full), bool)
        dup[order[1:][full[order][1:] == full[order][:-1]]] = True
        dup[todo] |= _isin_sorted(full[todo], banned)
        todo = np.flatnonzero(dup)
    return full


def _render(nsn: np.ndarray, length: int, pattern: str) -> pa.Array:
    """Lay NSN digits into a fixed ASCII pattern ('d' = next digit) without per-row Python."""
    n = len(nsn)
    digits = (nsn[:, None] // 10 ** np.arange(length - 1, -1, -1)) % 10 + ord("0")
    cols, k = [], 0
    for ch in pattern:
        cols.append(digits[:, k] if ch == "d" else np.full(n, ord(ch)))
        k += ch == "d"
    mat = np.ascontiguousarray(np.stack(cols, axis=1).astype(np.uint8))
    offsets = np.arange(0, (n + 1) * len(pattern), len(pattern), dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(mat))


def format_phones(full: np.ndarray, cidx: np.ndarray, style: np.ndarray) -> pa.Array:
    """Format E.164 ints (see draw_phones) per row; style indexes STYLES."""
    parts, rows = [pa.array([], pa.string())], [np.zeros(0, np.int64)]
    for s, name in enumerate(STYLES):
        if not (in_style := style == s).any():
            continue
        for c, country in enumerate(COUNTRIES):
            cc, _, length = PHONE[country][:3]
            sel = np.flatnonzero(in_style & (cidx == c))
            if sel.size:
                parts.append(_render(full[sel] - cc * 10**length, length, PATTERNS[country][name]))
                rows.append(sel)
    inv = np.empty(len(full), np.int64)
    inv[np.concatenate(rows)] = np.arange(len(full))
    return pa.concat_arrays(parts).take(pa.array(inv))


def _line1(
    vocab: Vocab, rng: np.random.Generator, loc: np.ndarray
) -> tuple[pa.Array, dict[str, np.ndarray]]:
    """Street and house number (1..300, some with a letter: ~15% in LETTERED locales, ~3%
    elsewhere) in the locale's usual order; also the parts (see Vocab.address_key)."""
    n = len(loc)
    share = np.where(np.isin(loc, [CODES.index(c) for c in LETTERED]), 0.15, 0.03)
    letter = np.where(rng.random(n) < share, rng.integers(1, 4, n), 0)
    letters = pa.array([x for c in CODES for x in HOUSE_LETTERS[c == "ru_RU"]])
    number = rng.integers(1, 301, n)
    house = _join(
        pa.array(number).cast(pa.string()),
        letters.take(pa.array(loc.astype(np.int64) * len(HOUSE_LETTERS[0]) + letter)),
    )
    street = vocab.pick(rng, "street", loc)
    name = vocab.take("street", street)
    first = pa.array(np.isin(loc, NUMBER_FIRST))
    line1 = pc.if_else(first, _join(house, name, sep=" "), _join(name, house, sep=" "))
    return line1, {"street": street, "house": number, "letter": letter}


def _timestamps(seconds: np.ndarray) -> pa.Array:
    return pa.array(seconds.astype("datetime64[s]")).cast(pa.timestamp("us", tz="UTC"))


def _customers(vocab: Vocab, cust: dict[str, np.ndarray], sl: slice) -> pa.Table:
    loc, fg, lg = cust["loc"][sl], cust["fg"][sl], cust["lg"][sl]
    ids = pa.array(np.arange(sl.start + 1, sl.stop + 1))
    stem = pc.if_else(
        pa.array(~np.isin(loc, NON_LATIN)),
        _join(vocab.take("first_mail", fg), vocab.take("last_mail", lg), sep="."),
        pa.scalar("user"),
    )
    email = _join(
        _join(stem, ids.cast(pa.string())), vocab.take("domain", cust["dom"][sl]), sep="@"
    )
    return pa.table(
        {
            "customer_id": ids,
            "first_name": vocab.take("first", fg),
            "last_name": vocab.take("last", lg),
            "email": email,
            "phone": format_phones(cust["phone"][sl], loc, np.where(cust["e164"][sl], 0, 1)),
            "country": pa.array(COUNTRIES).take(pa.array(loc)),
            "created_at": _timestamps(cust["created"][sl]),
            "first_name_latin": vocab.take("first_latin", fg),
            "last_name_latin": vocab.take("last_latin", lg),
        }
    )


def _addresses(
    vocab: Vocab,
    rng: np.random.Generator,
    loc: np.ndarray,
    ids: np.ndarray,
    n_addr: np.ndarray,
    first_id: int,
) -> tuple[pa.Table, np.ndarray]:
    """Address rows, and their Vocab.address_key values."""
    a_loc = pa.array(loc := np.repeat(loc, n_addr))
    k = len(loc)
    line2 = _join(
        pa.array([LINE2[c][0] for c in CODES]).take(a_loc),
        pa.array(rng.integers(1, 40, k)).cast(pa.string()),
        pa.array([LINE2[c][1] for c in CODES]).take(a_loc),
    )
    region = vocab.take("region", vocab.pick(rng, "region", loc))
    line1, parts = _line1(vocab, rng, loc)
    line2 = pc.if_else(pa.array(rng.random(k) < 0.08), line2, _NULL)
    city = vocab.take("city", vocab.pick(rng, "city", loc))
    region = pc.if_else(pa.array(rng.random(k) < 0.7), region, _NULL)
    postcode = vocab.pick(rng, "postcode", loc)
    table = pa.table(
        {
            "address_id": pa.array(np.arange(first_id, first_id + k)),
            "customer_id": pa.array(np.repeat(ids, n_addr)),
            "line1": line1,
            "line2": line2,
            "city": city,
            "region": region,
            "postcode": vocab.take("postcode", postcode),
            "country": pa.array(COUNTRIES).take(a_loc),
        }
    )
    return table, vocab.address_key(**parts, postcode=postcode)


def _orders(
    vocab: Vocab,
    rng: np.random.Generator,
    cust: dict[str, np.ndarray],
    sl: slice,
    customers: pa.Table,
    addresses: pa.Table,
    pick_addr,
    first_id: int,
) -> pa.Table:
    """~1.5 orders per customer, shipped to one of their addresses, phone in another layout."""
    loc = cust["loc"][sl]
    o_cust = np.repeat(np.arange(len(loc)), rng.poisson(1.5, len(loc)))
    o, o_loc, at = len(o_cust), loc[o_cust], pa.array(pick_addr(o_cust))
    ofg, olg = vocab.pick(rng, "first", o_loc), vocab.pick(rng, "last", o_loc)
    other = _join(vocab.take("first", ofg), vocab.take("last", olg), sep=" ")
    own = _join(customers["first_name"].take(o_cust), customers["last_name"].take(o_cust), sep=" ")
    phone = format_phones(
        cust["phone"][sl][o_cust], o_loc, np.where(cust["e164"][sl][o_cust], 1, 2)
    )
    ts = np.minimum(cust["created"][sl][o_cust] + rng.integers(0, 86400 * 900, o), T1)
    shipped_to_other = rng.random(o) < 0.1
    # names of other people the warehouse holds (gift orders): a sample line naming one of
    # them names someone in our data too
    cust.setdefault("ship_names", []).append(
        np.stack([ofg[shipped_to_other], olg[shipped_to_other]])
    )
    return pa.table(
        {
            "order_id": pa.array(np.arange(first_id, first_id + o)),
            "customer_id": customers["customer_id"].take(o_cust),
            "ship_name": pc.if_else(pa.array(shipped_to_other), other, own),
            "ship_phone": pc.if_else(pa.array(rng.random(o) < 0.1), _NULL, phone),
            **{
                f"ship_{c}": addresses[c].take(at) for c in ("line1", "city", "postcode", "country")
            },
            "order_ts": _timestamps(ts),
        }
    )


def _write_warehouse(
    out: Path,
    vocab: Vocab,
    cust: dict[str, np.ndarray],
    planted: np.ndarray,
    ss: np.random.SeedSequence,
) -> tuple[pd.DataFrame, dict[str, int], np.ndarray]:
    """Write 1M-customer chunks; return e-mail and one address of each planted customer, the
    row counts, and every address's Vocab.address_key, sorted."""
    n, picked, counts = len(cust["loc"]), [], {"addresses": 0, "orders": 0}
    addr_keys = [np.zeros(0, np.int64)]
    for name in ("customers", "addresses", "orders"):
        (out / "warehouse" / name).mkdir(parents=True, exist_ok=True)
        for old in (out / "warehouse" / name).glob("part-*.parquet"):
            old.unlink()
    starts = range(0, n, CHUNK)
    for part, start, seq in zip(itertools.count(), starts, ss.spawn(len(starts))):
        rng, sl = np.random.default_rng(seq), slice(start, min(start + CHUNK, n))
        m = sl.stop - sl.start
        customers = _customers(vocab, cust, sl)
        n_addr = 1 + (rng.random(m) < 0.2)
        a_start = np.concatenate([[0], np.cumsum(n_addr)[:-1]])

        def pick_addr(rows: np.ndarray, n_addr=n_addr, a_start=a_start, rng=rng) -> np.ndarray:
            return a_start[rows] + ((n_addr[rows] == 2) & (rng.random(len(rows)) < 0.5))

        addresses, keys = _addresses(
            vocab,
            rng,
            cust["loc"][sl],
            customers["customer_id"].to_numpy(),
            n_addr,
            counts["addresses"] + 1,
        )
        orders = _orders(
            vocab, rng, cust, sl, customers, addresses, pick_addr, counts["orders"] + 1
        )
        for name, table in (("customers", customers), ("addresses", addresses), ("orders", orders)):
            pq.write_table(table, out / "warehouse" / name / f"part-{part:05d}.parquet")
        counts["addresses"] += addresses.num_rows
        counts["orders"] += orders.num_rows
        addr_keys.append(keys)
        sel = planted[(planted > sl.start) & (planted <= sl.stop)] - 1 - sl.start
        at = pick_addr(sel)
        picked.append(
            pd.DataFrame(
                {
                    "customer_id": sel + 1 + sl.start,
                    "email": customers["email"].take(sel).to_numpy(),
                    **{c: addresses[c].take(at).to_numpy() for c in ("line1", "city", "postcode")},
                }
            )
        )
    return pd.concat(picked, ignore_index=True), counts, np.sort(np.concatenate(addr_keys))


def _typo(r: random.Random, s: str) -> str:
    """One or two letter slips (swap, drop, double) that change the folded text."""
    for _ in range(20):
        t = s
        for _ in range(r.choice((1, 1, 2))):
            pos = [i for i, c in enumerate(t) if c.isalpha() and not (i and t[i - 1].isdigit())]
            i, op = r.choice(pos), r.randrange(3)
            if op == 0 and i + 1 < len(t) and t[i + 1].isalpha():
                t = t[:i] + t[i + 1] + t[i] + t[i + 2 :]
            elif op == 1 and len(pos) > 3:
                t = t[:i] + t[i + 1 :]
            else:
                t = t[:i] + t[i] + t[i:]
        if name_key(t) != name_key(s):
            return t
    i = next(i for i, c in enumerate(s) if c.isalpha())
    return s[:i] + s[i] + s[i:]


def _fuzz_name(r: random.Random, first: str, last: str, loc: int) -> str:
    """A name a person would still read as the customer's, but an exact match would not."""
    ops = ["typo"] + ["initial"] * (loc not in NON_LATIN)
    op = r.choice(ops + ["translit"] * (CODES[loc] in ("ru_RU", "el_GR")))
    if op == "initial":
        return f"{first[0]}. {last}"
    if op == "translit":
        return " ".join(
            "".join(TRANSLIT.get(c, TRANSLIT.get(strip_accents(c), c)) for c in w.lower()).title()
            for w in (first, last)
        )
    return _typo(r, f"{first} {last}")


def _insert_dot(s: str, p: float) -> str:
    i = 1 + int(p * (len(s) - 2))
    return s if "." in s[i - 1 : i + 1] else s[:i] + "." + s[i:]


def _recase(s: pd.Series, u: np.ndarray, upper: float, lower: float) -> np.ndarray:
    return np.where(u < upper, s.str.upper(), np.where(u > 1 - lower, s.str.lower(), s))


def _absent_fuzzy(
    kind: np.ndarray, rng: np.random.Generator, fuzzy_share: float
) -> tuple[np.ndarray, np.ndarray]:
    """Which fields (FIELDS order) a line leaves out, and which a planted line corrupts."""
    n = len(kind)
    drop = np.where((rng.random(n) < 0.12) & (kind != "broken"), 1 + (rng.random(n) < 0.25), 0)
    absent = rng.random((n, 4)).argsort(1).argsort(1) < drop[:, None]
    fz, fuzzy = (kind == "planted") & (rng.random(n) < fuzzy_share), np.zeros((n, 4), bool)
    fuzzy[:, 0] = fz & ~absent[:, 0] & ((rng.random(n) < 0.6) | absent[:, 3])
    fuzzy[:, 3] = fz & ~fuzzy[:, 0] & ~absent[:, 3]
    return absent, fuzzy


def _styled_names(f: pd.Series, la: pd.Series, rng: np.random.Generator) -> pd.Series:
    """ "First Last" (sometimes recased), "LAST, First" or "last first"; some doubled blanks."""
    n = len(f)
    style = rng.choice(3, n, p=[0.6, 0.25, 0.15])
    name = pd.Series(
        np.select(
            [style == 0, style == 1],
            [f + " " + la, la.str.upper() + ", " + f],
            (la + " " + f).str.lower(),
        )
    )
    name = pd.Series(np.where(style == 0, _recase(name, rng.random(n), 0.1, 0.1), name))
    return pd.Series(np.where(rng.random(n) < 0.08, name.str.replace(" ", "  "), name))


def _noisy_emails(df: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Gmail dots, +tags and googlemail.com; some recased or padded with blanks."""
    n = len(df)
    local, dom = df["mail_local"].to_numpy(object).copy(), df["mail_domain"].to_numpy(object).copy()
    trick = np.where((dom == "gmail.com") & (rng.random(n) < 0.4), rng.integers(0, 3, n), -1)
    dots, pos = np.flatnonzero(trick == 0), rng.random(n)
    local[dots] = [_insert_dot(s, p) for s, p in zip(local[dots], pos[dots], strict=False)]
    local[trick == 1] += "+promo"
    dom[trick == 2] = "googlemail.com"
    email = _recase(pd.Series(local + "@" + dom), rng.random(n), 0.15, 0)
    return np.where(rng.random(n) < 0.1, " " + email + " ", email)


def _render_rows(
    df: pd.DataFrame, vocab: Vocab, rng: np.random.Generator, fuzzy_share: float
) -> tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """Apply dump-style noise; return the output values, a per-field status matrix and the
    truth's per-line notes on how the values were written."""
    n, loc, fg, lg = len(df), df["loc"].to_numpy(), df["fg"].to_numpy(), df["lg"].to_numpy()
    kind = df["kind"].to_numpy()
    absent, fuzzy = _absent_fuzzy(kind, rng, fuzzy_share)
    r = random.Random(int(rng.integers(2**62)))

    fold = ~np.isin(loc, NON_LATIN) & (rng.random(n) < 0.3)
    f = pd.Series(np.where(fold, vocab.obj["first_fold"][fg], vocab.obj["first"][fg]))
    la = pd.Series(np.where(fold, vocab.obj["last_fold"][lg], vocab.obj["last"][lg]))
    name = _styled_names(f, la, rng)
    for i in np.flatnonzero(fuzzy[:, 0]):
        name[i] = _fuzz_name(r, vocab.obj["first"][fg[i]], vocab.obj["last"][lg[i]], loc[i])

    email = _noisy_emails(df, rng)

    style = rng.choice([2, 1, 3, 4], n, p=[0.35, 0.35, 0.15, 0.15])  # indexes STYLES
    phone = format_phones(df["phone"].to_numpy(), loc, style).to_numpy(zero_copy_only=False)

    line1 = df["line1"].copy()
    abbr = np.isin(loc, ABBREVIATING) & (rng.random(n) < 0.5)
    short = line1[abbr]
    for pattern, repl in ABBREVIATIONS:
        short = short.str.replace(pattern, repl, regex=True)
    street_form = np.full(n, "as_stored", dtype=object)
    street_form[abbr] = np.where(
        short.to_numpy() != line1[abbr].to_numpy(), "abbreviated", "as_stored"
    )
    line1[abbr] = short
    for i in np.flatnonzero(fuzzy[:, 3]):
        line1[i] = _typo(r, line1[i])
    city, postcode = df["city"], df["postcode"]
    # "1234 AB" -> "1234AB": the default sample keeps each postcode one token with a digit (the
    # multinational one writes both)
    postcode = postcode.where(loc != CODES.index("nl_NL"), postcode.str.replace(" ", ""))
    address = pd.Series(
        np.where(
            rng.random(n) < 0.5,
            line1 + ", " + postcode + " " + city,
            line1 + ", " + city + ", " + postcode,
        )
    )
    iso = pd.Series(np.array(COUNTRIES, dtype=object)[loc])
    values = pd.DataFrame(
        {
            "name": name,
            "email": email,
            "phone": phone,
            "address": _recase(address, rng.random(n), 0.08, 0.08),
            "country": _recase(iso, rng.random(n), 0, 0.1),
        }
    )
    for j, field in enumerate(FIELDS):
        values.loc[absent[:, j], field] = ""
    status = np.where(absent, "absent", np.where(fuzzy, "fuzzy", "exact"))
    status[kind != "planted"] = "none"
    notes = {
        "country_written": np.full(n, "column", dtype=object),
        "country_form": np.full(n, "iso2", dtype=object),
        "phone_style": np.array(STYLES, dtype=object)[style],
        "name_form": np.full(n, "native", dtype=object),
        "street_form": street_form,
    }
    for note, j in (("phone_style", 2), ("name_form", 0), ("street_form", 3)):
        notes[note][absent[:, j]] = ""
    return values, status, notes


_CJK = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
)


def _solid_cjk(name: str) -> str | None:
    """The name when it is one run of Han/Kana/Hangul: a CJK name written without a space."""
    s = unicodedata.normalize("NFKC", name).strip()
    return s if _CJK.fullmatch(s) else None


def names_match(
    written: str, first: str, last: str, first_latin: str | None = None, last_latin=None
) -> bool:
    """Whether a written name is the person's: the same words in any order, case and accents
    aside (name_key); a Han/Kana/Hangul name without a space is its two words run together in
    either order (윤은지 = 윤 은지), other word boundaries differ (윤 은지 != 은 윤지); a
    romanised name counts when it is the person's romanised name (Eunji Yoon)."""
    solid = _solid_cjk(written)
    if solid is not None:
        parts = [unicodedata.normalize("NFKC", p) for p in (first, last)]
        return solid in (parts[1] + parts[0], parts[0] + parts[1])
    key = name_key(written)
    return bool(key) and (
        key == name_key(f"{first} {last}")
        or (first_latin is not None and key == name_key(f"{first_latin} {last_latin}"))
    )


NATIVE, LATIN = (("first", "last"),), (("first_latin", "last_latin"),)
SCRIPTS = NATIVE + LATIN


class _NameIndex:
    """Vocabulary (first, last) pairs by the words of their names (native or romanised), and
    CJK ones by their exact text, to find every pair a written name can be (names_match)."""

    def __init__(self, vocab: Vocab):
        self.nl = len(vocab.obj["last"])
        self.toks: dict[str, list[tuple]] = {}
        self.by: dict[str, dict] = {}
        self.exact: dict[str, dict] = {}
        for field in ("first", "last", "first_latin", "last_latin"):
            self.toks[field] = [tuple(name_key(v).split()) if v else () for v in vocab.obj[field]]
            self.by[field] = defaultdict(list)
            for g, t in enumerate(self.toks[field]):
                if t:
                    self.by[field][t].append(g)
        for field in ("first", "last"):
            self.exact[field] = defaultdict(list)
            for g, v in enumerate(vocab.obj[field]):
                if (s := _solid_cjk(v)) is not None:
                    self.exact[field][s].append(g)

    def _codes(self, firsts, lasts) -> list[int]:
        return [a * self.nl + b for a in firsts for b in lasts]

    def by_words(self, words, scripts=SCRIPTS) -> list[int]:
        """Pair codes (first * nl + last) whose words, in any order, are `words`."""
        t, out = sorted(words), []
        splits = {
            (tuple(t[i] for i in c), tuple(x for i, x in enumerate(t) if i not in c))
            for size in range(1, len(t))
            for c in itertools.combinations(range(len(t)), size)
        }
        for head, tail in splits:
            for first, last in scripts:
                firsts = self.by[first].get(head, ())
                out += self._codes(firsts, self.by[last].get(tail, ()) if firsts else ())
        return out

    def by_solid(self, s: str) -> list[int]:
        """Pair codes whose CJK names run together (either order) give `s`."""
        out = []
        for i in range(1, len(s)):
            for first, last in ((s[i:], s[:i]), (s[:i], s[i:])):
                firsts = self.exact["first"].get(first, ())
                out += self._codes(firsts, self.exact["last"].get(last, ()))
        return out


def _hits(
    owner: list[int],
    cands: list[int],
    cust: dict[str, np.ndarray],
    nl: int,
    k: int,
    ship_names: bool = True,
):
    """Which of k sample names (owner -> candidate pair codes) are a name the warehouse holds:
    a customer's own, or (`ship_names`) an order's ship-to name of another person, which the
    warehouse keeps in its own script only."""
    shipped = cust.get("ship_names", []) if ship_names else []
    others = np.concatenate([np.zeros((2, 0), np.int64), *shipped], axis=1)
    wh = np.sort(
        np.concatenate(
            [
                cust["fg"].astype(np.int64) * nl + cust["lg"],
                others[0].astype(np.int64) * nl + others[1],
            ]
        )
    )
    hit = np.zeros(k, bool)
    hit[np.asarray(owner, np.int64)[_isin_sorted(np.asarray(cands, np.int64), wh)]] = True
    return hit


def _collisions(
    vocab: Vocab, cust: dict[str, np.ndarray], fg: np.ndarray, lg: np.ndarray
) -> np.ndarray:
    """Whether each (first, last), written in its own script, names some warehouse customer
    (names_match, native or romanised).

    Per distinct sample name, every vocabulary pair with the same words is looked up among the
    warehouse's pairs, so no Python work scales with the number of customers.
    """
    ix = vocab.names
    codes = fg.astype(np.int64) * ix.nl + lg
    pairs = np.sort(codes)
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if pairs.size else pairs
    words = [ix.toks["first"][c // ix.nl] + ix.toks["last"][c % ix.nl] for c in pairs.tolist()]
    hit = _held(ix, cust, lambda k, scripts: ix.by_words(words[k], scripts), len(pairs))
    return hit[np.searchsorted(pairs, codes)]


def _held(ix, cust: dict[str, np.ndarray], lookup, k: int) -> np.ndarray:
    """Which of k names the warehouse holds: `lookup(i, scripts)` gives name i's candidate
    pair codes in those scripts; native ones are looked up among customers and ship-to
    names, romanised ones among customers only (ship-to names have no romanised form)."""
    hit = np.zeros(k, bool)
    for scripts, ships in ((NATIVE, True), (LATIN, False)):
        cands, owner = [], []
        for i in range(k):
            found = lookup(i, scripts)
            cands += found
            owner += [i] * len(found)
        hit |= _hits(owner, cands, cust, ix.nl, k, ship_names=ships)
    return hit


def name_collisions(vocab: Vocab, cust: dict[str, np.ndarray], names) -> np.ndarray:
    """Whether each written name (any script, spacing or romanisation) is some warehouse
    customer's name, by names_match's rules."""
    ix = vocab.names
    distinct = list(dict.fromkeys(names))
    solids = [_solid_cjk(name) for name in distinct]

    def lookup(i: int, scripts) -> list[int]:
        if solids[i] is not None:  # CJK run together: native script only
            return ix.by_solid(solids[i]) if scripts == NATIVE else []
        return ix.by_words(name_key(distinct[i]).split(), scripts)

    hit = _held(ix, cust, lookup, len(distinct))
    at = {name: k for k, name in enumerate(distinct)}
    return np.array([hit[at[name]] for name in names], bool)


def _source_rows(
    vocab: Vocab,
    cust: dict[str, np.ndarray],
    picked: pd.DataFrame,
    addr_keys: np.ndarray,
    n_fab: int,
    n_broken: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Clean values behind each data line: planted from the warehouse, the rest invented (an
    invented address is never one of the warehouse's, however spelled)."""
    idx = picked["customer_id"].to_numpy() - 1
    local, dom = picked["email"].str.extract(r"^(.*)@([^@]*)$").T.to_numpy()
    planted = pd.DataFrame(
        {
            "kind": "planted",
            "customer_id": picked["customer_id"],
            "loc": cust["loc"][idx],
            "fg": cust["fg"][idx],
            "lg": cust["lg"][idx],
            "phone": cust["phone"][idx],
            "mail_local": local,
            "mail_domain": dom,
            **{c: picked[c] for c in ("line1", "city", "postcode")},
        }
    )
    k = n_fab + n_broken
    loc = rng.choice(len(CODES), k, p=WEIGHTS)
    fg, lg = vocab.pick(rng, "first", loc), vocab.pick(rng, "last", loc)
    stem = np.where(
        np.isin(loc, NON_LATIN),
        "user",
        vocab.obj["first_mail"][fg] + "." + vocab.obj["last_mail"][lg],
    )
    phone = draw_phones(rng, loc, exclude=cust["phone"])
    mail_local = stem + rng.integers(10**9, 10**10, k).astype(str).astype(object)
    mail_domain = vocab.obj["domain"][vocab.pick(rng, "domain", loc)]
    line1, todo = np.empty(k, dtype=object), np.arange(k)
    postcode = np.zeros(k, np.int64)
    while todo.size:
        text, parts = _line1(vocab, rng, loc[todo])
        line1[todo] = text.to_numpy(zero_copy_only=False)
        postcode[todo] = vocab.pick(rng, "postcode", loc[todo])
        todo = todo[_isin_sorted(vocab.address_key(**parts, postcode=postcode[todo]), addr_keys)]
    invented = pd.DataFrame(
        {  # id suffix > 10^9: can never equal a warehouse e-mail
            "kind": ["fabricated"] * n_fab + ["broken"] * n_broken,
            "customer_id": None,
            "loc": loc,
            "fg": fg,
            "lg": lg,
            "phone": phone,
            "mail_local": mail_local,
            "mail_domain": mail_domain,
            "line1": line1,
            "city": vocab.obj["city"][vocab.pick(rng, "city", loc)],
            "postcode": vocab.obj["postcode"][postcode],
        }
    )
    rows = pd.concat([planted, invented], ignore_index=True)
    rows["customer_id"] = rows["customer_id"].astype("Int64")
    return rows


# A sample file: name, delimiter (None: JSON lines), header, every field quoted
FileSpec = tuple[str, "str | None", list[str], bool]


def _broken_line(reason: str, vals: list[str], spec: FileSpec, r: random.Random) -> bytes:
    """A line a strict reader must reject, for the stated reason."""
    _, delim, header, quote_all = spec
    vals = [v.replace('"', "") for v in vals]
    if reason == "empty":
        return b""
    if reason == "invalid_utf8":
        vals[0] = vals[0][: len(vals[0]) // 2] + _MARK + vals[0][len(vals[0]) // 2 :]
    if delim is None:
        text = json.dumps(dict(zip(header, vals, strict=False)), ensure_ascii=False)
        text = text[: len(text) // 2] if reason == "invalid_json" else text
    elif reason == "unclosed_quote":
        text = delim.join(['"' + vals[0], *vals[1:]])
    else:
        if reason == "wrong_field_count":
            vals = [*vals, "x"] if r.random() < 0.5 else vals[:-1]
        text = _delimited([vals], delim, quote_all)[0].decode()
    return text.encode().replace(_MARK.encode(), BAD_BYTES)


def _delimited(rows, delim: str, quote_all: bool) -> list[bytes]:
    buf = io.StringIO()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    csv.writer(buf, delimiter=delim, lineterminator="\n", quoting=quoting).writerows(rows)
    return buf.getvalue().encode().split(b"\n")[:-1]


def _write_files(
    out: Path,
    specs: list[FileSpec],
    file_of: np.ndarray,
    values: pd.DataFrame,
    kind: np.ndarray,
    gzip: bool,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Write each file of the sample, its rows in random order; return per row its file name,
    physical line number (a header is line 1) and broken_reason."""
    n = len(values)
    source, number = np.empty(n, dtype=object), np.zeros(n, np.int64)
    reason = np.full(n, "", dtype=object)
    r = random.Random(int(rng.integers(2**62)))
    folder = out / "sample"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("sample*"):
        old.unlink()
    for f, spec in enumerate(specs):
        name, delim, header, quote_all = spec
        rows = np.flatnonzero(file_of == f)
        vals = values.iloc[rows, : len(header)]
        good = kind[rows] != "broken"
        if delim is None:
            lines = [
                json.dumps(dict(zip(header, v, strict=False)), ensure_ascii=False).encode()
                for v in vals[good].itertuples(index=False)
            ]
        else:
            lines = _delimited(vals[good].itertuples(index=False), delim, quote_all)
        reasons = (
            ["invalid_json", "empty", "invalid_utf8"]
            if delim is None
            else ["wrong_field_count", "unclosed_quote", "invalid_utf8", "empty"]
        )
        for j, i in enumerate(np.flatnonzero(~good)):
            reason[rows[i]] = reasons[j % len(reasons)]
            lines.append(_broken_line(reason[rows[i]], list(vals.iloc[i]), spec, r))
        order = np.concatenate([np.flatnonzero(good), np.flatnonzero(~good)])
        slot = np.empty(len(rows), np.int64)
        slot[order] = rng.permutation(len(rows))  # data line index of each row
        data = np.empty(len(rows), dtype=object)
        data[slot[order]] = lines
        head = _delimited([header], delim, quote_all) if delim else []
        blob = b"\n".join(head + data.tolist()) + b"\n"
        file_name = name + (".gz" if gzip else "")
        (folder / file_name).write_bytes(gzip_mod.compress(blob, mtime=0) if gzip else blob)
        source[rows], number[rows] = file_name, slot + 1 + bool(delim)
    return source, number, reason


def _counts(s: pd.Series) -> dict:
    return {str(k): int(v) for k, v in s.value_counts().sort_index().items()}


def _write_sample(
    out: Path,
    vocab: Vocab,
    cust: dict[str, np.ndarray],
    picked: pd.DataFrame,
    addr_keys: np.ndarray,
    n_fab: int,
    n_broken: int,
    fuzzy_share: float,
    fmt: str,
    gzip: bool,
    multinational: bool,
    rng: np.random.Generator,
) -> dict:
    """Write the dump, truth.csv and truth.json; return the truth summary."""
    src = _source_rows(vocab, cust, picked, addr_keys, n_fab, n_broken, rng)
    kind = src["kind"].to_numpy()
    if multinational:
        from tools.demo import intl as demo_intl

        specs = list(demo_intl.FILES)
        file_of = rng.choice(len(specs), len(src), p=demo_intl.FILE_SHARES)
        has_column = np.array([len(s[2]) == 5 for s in specs])[file_of]
        values, status, notes = demo_intl.render_rows(
            src, vocab, rng, fuzzy_share, has_column, cust
        )
    else:
        delim, ext, header = FORMATS[fmt]
        specs, file_of = [(f"sample.{ext}", delim, header, False)], np.zeros(len(src), np.int64)
        values, status, notes = _render_rows(src, vocab, rng, fuzzy_share)
    source, number, reason = _write_files(out, specs, file_of, values, kind, gzip, rng)

    collides = pd.array([pd.NA] * len(src), dtype="boolean")
    fab = np.flatnonzero(kind == "fabricated")
    names = values["name"].to_numpy()[fab]
    if multinational:
        collides[fab] = name_collisions(vocab, cust, names) & (names != "")
    else:
        fg, lg = src["fg"].to_numpy()[fab], src["lg"].to_numpy()[fab]
        collides[fab] = _collisions(vocab, cust, fg, lg) & (names != "")
    for note in notes.values():
        note[kind == "broken"] = ""
    truth = pd.DataFrame(
        {
            "source_file": source,
            "line_number": number,
            "kind": kind,
            "broken_reason": reason,
            "customer_id": src["customer_id"],
            **{f: status[:, j] for j, f in enumerate(FIELDS)},
            "name_collides": collides,
            "country": np.array(COUNTRIES, dtype=object)[src["loc"].to_numpy()],
            **notes,
        }
    ).sort_values(["source_file", "line_number"])
    truth.to_csv(out / "truth.csv", index=False)
    planted = truth[truth["kind"] == "planted"]
    exact = planted[list(FIELDS)] == "exact"
    data = truth[truth["kind"] != "broken"]
    phones = data["phone_style"][data["phone_style"] != ""]
    summary = {
        "format": "multinational" if multinational else fmt,
        "sample": "sample" if multinational else f"sample/{specs[0][0]}" + ".gz" * gzip,
        "header": all(bool(s[1]) for s in specs),
        "lines": len(truth),
        "kinds": truth["kind"].value_counts().to_dict(),
        "broken_reasons": truth["broken_reason"][truth["kind"] == "broken"]
        .value_counts()
        .to_dict(),
        "planted_exact": {f: int(exact[f].sum()) for f in FIELDS},
        "planted_fuzzy": {f: int((planted[f] == "fuzzy").sum()) for f in FIELDS},
        "planted_ge2_exact": int((exact.sum(axis=1) >= 2).sum()),
        "fabricated_name_collides": int(collides[fab].sum()),
        "files": _counts(truth["source_file"]),
        "countries": _counts(data["country"]),
        "country_written": _counts(data["country_written"]),
        "countries_by_source": {
            c: _counts(g) for c, g in data.groupby("country")["country_written"]
        },
        "phone_styles": _counts(phones),
        "phone_national_share": round(float(phones.isin(NATIONAL_STYLES).mean()), 4)
        if len(phones)
        else 0.0,
    }
    (out / "truth.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return summary


def generate(
    out: Path,
    customers: int = 2000,
    sample_lines: int = 500,
    planted_share: float = 0.3,
    broken: int = 10,
    fuzzy_share: float = 0.0,
    hot_names: int = 0,
    fabricated_only: bool = False,
    seed: int = 42,
    sample_format: str = "semicolon",
    gzip: bool = False,
    multinational: bool = False,
) -> dict:
    """Write DIR/warehouse, DIR/sample and DIR/truth.*; the same arguments give the same bytes.

    multinational: the sample is several files as sellers write them (jobs.demo_intl), not
    one file of `sample_format`."""
    if sample_format not in FORMATS:
        raise ValueError(f"sample_format must be one of {sorted(FORMATS)}")
    if hot_names > len(HOT_NAMES):
        raise ValueError(f"at most {len(HOT_NAMES)} hot names")
    out = Path(out)
    s_cust, s_chunks, s_sample = np.random.SeedSequence(seed).spawn(3)
    vocab, rng, n = _vocab(seed), np.random.default_rng(s_cust), customers
    loc = rng.choice(len(CODES), n, p=WEIGHTS).astype(np.int8)
    cust = {
        "loc": loc,
        "fg": vocab.pick(rng, "first", loc),
        "lg": vocab.pick(rng, "last", loc),
        "dom": vocab.pick(rng, "domain", loc),
        "phone": draw_phones(rng, loc),
        "e164": rng.random(n) < 0.5,
        "created": rng.integers(T0, T1, n),
    }
    if hot_names:  # Latin-script customers only, so native/latin name columns stay consistent
        latin = np.flatnonzero(~np.isin(loc, NON_LATIN))
        chosen = rng.choice(
            latin, min(len(latin), hot_names * max(1, round(n * 0.01))), replace=False
        )
        for j, rows in enumerate(np.array_split(chosen, hot_names)):
            cust["fg"][rows], cust["lg"][rows] = vocab.hot["first"] + j, vocab.hot["last"] + j
    n_broken = min(broken, sample_lines)
    n_planted = 0 if fabricated_only else min(n, round(planted_share * (sample_lines - n_broken)))
    n_fab = sample_lines - n_broken - n_planted
    srng = np.random.default_rng(s_sample)
    planted_ids = np.sort(srng.choice(n, n_planted, replace=False)) + 1
    picked, counts, addr_keys = _write_warehouse(out, vocab, cust, planted_ids, s_chunks)
    truth = _write_sample(
        out,
        vocab,
        cust,
        picked,
        addr_keys,
        n_fab,
        n_broken,
        fuzzy_share,
        sample_format,
        gzip,
        multinational,
        srng,
    )
    return {
        "customers": n,
        **counts,
        "warehouse": str(out / "warehouse"),
        "sample": str(out / truth["sample"]),
        "sample_files": [str(out / "sample" / f) for f in truth["files"]],
        "truth": str(out / "truth.csv"),
        "sample_lines": truth["lines"],
        "planted": n_planted,
        "fabricated": n_fab,
        "broken": n_broken,
    }


def main(argv: list[str] | None = None) -> None:
    """CLI: `python -m tools.demo --out DIR [...]`, prints a one-line summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    for flag, default in (
        ("customers", 2000),
        ("sample-lines", 500),
        ("planted-share", 0.3),
        ("broken", 10),
        ("fuzzy-share", 0.0),
        ("hot-names", 0),
        ("seed", 42),
    ):
        ap.add_argument(f"--{flag}", type=type(default), default=default)
    ap.add_argument("--fabricated-only", action="store_true")
    ap.add_argument("--sample-format", choices=sorted(FORMATS), default="semicolon")
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument(
        "--multinational",
        action="store_true",
        help="several sample files as sellers write them: no country column in some, "
        "country names in the address, national phone layouts (--sample-format is ignored)",
    )
    a = ap.parse_args(argv)
    t0 = time.monotonic()
    s = generate(
        a.out,
        a.customers,
        a.sample_lines,
        a.planted_share,
        a.broken,
        a.fuzzy_share,
        a.hot_names,
        a.fabricated_only,
        a.seed,
        a.sample_format,
        a.gzip,
        a.multinational,
    )
    print(
        f"demo: {s['customers']} customers, {s['addresses']} addresses, {s['orders']} orders; "
        f"{s['sample']}: {s['sample_lines']} lines ({s['planted']} planted, {s['fabricated']} "
        f"fabricated, {s['broken']} broken) in {time.monotonic() - t0:.1f}s"
    )


if __name__ == "__main__":
    main()
