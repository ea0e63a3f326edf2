"""Dump-style noise: the slips, recasings and respellings a breach seller's export carries."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from tools.demo.locales import TRANSLIT
from tools.demo.names import name_key, strip_accents
from tools.demo.vocab import CODES, NON_LATIN


def typo(r: random.Random, s: str) -> str:
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


def fuzz_name(r: random.Random, first: str, last: str, loc: int) -> str:
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
    return typo(r, f"{first} {last}")


def _insert_dot(s: str, p: float) -> str:
    i = 1 + int(p * (len(s) - 2))
    return s if "." in s[i - 1 : i + 1] else s[:i] + "." + s[i:]


def recase(s: pd.Series, u: np.ndarray, upper: float, lower: float) -> np.ndarray:
    """Upper-case where u < upper, lower-case where u > 1 - lower: exports differ in case."""
    return np.where(u < upper, s.str.upper(), np.where(u > 1 - lower, s.str.lower(), s))


def absent_fuzzy(
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


def styled_names(f: pd.Series, la: pd.Series, rng: np.random.Generator) -> pd.Series:
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
    name = pd.Series(np.where(style == 0, recase(name, rng.random(n), 0.1, 0.1), name))
    return pd.Series(np.where(rng.random(n) < 0.08, name.str.replace(" ", "  "), name))


def noisy_emails(df: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Gmail dots, +tags and googlemail.com; some recased or padded with blanks."""
    n = len(df)
    local, dom = df["mail_local"].to_numpy(object).copy(), df["mail_domain"].to_numpy(object).copy()
    trick = np.where((dom == "gmail.com") & (rng.random(n) < 0.4), rng.integers(0, 3, n), -1)
    dots, pos = np.flatnonzero(trick == 0), rng.random(n)
    local[dots] = [_insert_dot(s, p) for s, p in zip(local[dots], pos[dots], strict=False)]
    local[trick == 1] += "+promo"
    dom[trick == 2] = "googlemail.com"
    email = recase(pd.Series(local + "@" + dom), rng.random(n), 0.15, 0)
    return np.where(rng.random(n) < 0.1, " " + email + " ", email)
