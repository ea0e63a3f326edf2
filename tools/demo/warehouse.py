"""The company warehouse: customers, addresses and orders as Parquet, written in chunks."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tools.demo.locales import HOUSE_LETTERS, LETTERED, LINE2
from tools.demo.phones import draw_phones, format_phones
from tools.demo.vocab import CODES, COUNTRIES, NON_LATIN, NUMBER_FIRST, WEIGHTS, Vocab

CHUNK = 1_000_000
T0, T1 = 1420070400, 1735603200  # 2015-01-01 .. 2024-12-31, UTC seconds
_NULL = pa.scalar(None, pa.string())


def _join(*parts, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep)


def street_line(
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
    line1, parts = street_line(vocab, rng, loc)
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


def draw_customers(
    vocab: Vocab, rng: np.random.Generator, n: int, hot_names: int = 0
) -> dict[str, np.ndarray]:
    """Each customer's locale, name, e-mail domain, phone and sign-up time as arrays; with
    `hot_names`, that many names shared by about 1 % of the customers each."""
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
    return cust


def write_warehouse(
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
