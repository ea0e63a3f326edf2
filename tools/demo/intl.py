"""The multinational sample of tools.demo: several files as breach sellers write them.

One CSV with every field quoted and no country column, one semicolon file with a country
column, one tab-separated file with German headers and no country column. Countries are
written in the address (English or local name, ISO alpha-2 or alpha-3, any case) or not at
all; phones mostly in the national layout where the line tells the country; Japanese and
Korean names in their script with or without a space, or romanised; street types, house
number letters and postcodes spelled differently from the warehouse. Every such difference is
`exact` in the truth: a correct normaliser folds it.
"""

from __future__ import annotations

import random
import re

import numpy as np
import pandas as pd

from tools.demo.locales import COUNTRY_NAMES, LETTERED, flip_street
from tools.demo.noise import absent_fuzzy, fuzz_name, noisy_emails, recase, styled_names, typo
from tools.demo.phones import PATTERNS, STYLES, format_phones
from tools.demo.sample import FORMATS, blank_absent
from tools.demo.vocab import CODES, COUNTRIES, NON_LATIN, Vocab

# name, delimiter, header, every field quoted; a 5th header column is the country
FILES = (
    ("sample-leak.csv", ",", ["Full Name", "E-mail", "Tel", "Address"], True),
    ("sample-crm.csv", ";", FORMATS["semicolon"][2], False),
    ("sample-kunden.tsv", "\t", ["Name", "E-Mail-Adresse", "Telefonnummer", "Anschrift"], False),
)
FILE_SHARES = (0.45, 0.3, 0.25)

COUNTRY_FORMS = ("iso2", "iso3", "english", "local")
# phone styles (STYLES) where the line tells the country, and where it does not
TOLD_STYLES = {
    "national": 0.5,
    "national_alt": 0.12,
    "e164": 0.12,
    "intl": 0.14,
    "intl00": 0.06,
    "intl_trunk": 0.06,
}
UNTOLD_STYLES = {"e164": 0.35, "intl": 0.4, "intl00": 0.12, "intl_trunk": 0.13}
POSTCODE_FORMS = {"as_stored": 0.45, "compact": 0.25, "lower": 0.1, "compact_lower": 0.2}
HOUSE_FORMS = {"as_stored": 0.3, "spaced_upper": 0.3, "upper": 0.25, "spaced": 0.15}
_HOUSE = re.compile(r"(?<!\S)(\d+)([^\W\d_])(?!\S)")


def country_text(iso: str, form: str, u: float) -> str:
    """One way to write a country; u in [0, 1) picks the name and its case."""
    alpha3, english, local = COUNTRY_NAMES[iso]
    names = {"iso2": (iso,), "iso3": (alpha3,), "english": english, "local": local}[form]
    text = names[int(u * 7919) % len(names)]
    return text.upper() if u < 0.15 else text.lower() if u > 0.85 else text


def _draw(rng: np.random.Generator, probs: dict, n: int) -> np.ndarray:
    keys = list(probs)
    p = np.array([probs[k] for k in keys])
    return np.array(keys, dtype=object)[rng.choice(len(keys), n, p=p / p.sum())]


def _postcode(p: str, form: str) -> str:
    """1234 AB -> 1234AB, 1234 ab, 1234ab; SW1A 1AA -> sw1a1aa; 123-4567 -> 1234567."""
    if "compact" in form:
        p = re.sub(r"[\s-]", "", p)
    return p.lower() if "lower" in form else p


def _house(line1: str, form: str) -> str:
    """63a -> 63 A, 63A or 63 a (the house number's letter, where it has one)."""
    sep = " " if form.startswith("spaced") else ""
    if form == "as_stored":
        return line1
    return _HOUSE.sub(
        lambda m: m[1] + sep + (m[2].upper() if "upper" in form else m[2].lower()), line1
    )


def _names(
    df: pd.DataFrame, vocab: Vocab, cust: dict[str, np.ndarray], rng: np.random.Generator
) -> tuple[pd.Series, np.ndarray]:
    """Written names and their form: `native` (the stored script, spaced), `native_nospace`
    (윤은지, 田中太郎), `romanised` (Taro Tanaka, TANAKA Taro, Eunji Yoon) or, on some
    invented Korean lines, `native_resplit`: a customer's syllables with other word
    boundaries (윤 은지 -> 은 윤지), a different name."""
    n, loc, fg, lg = len(df), df["loc"].to_numpy(), df["fg"].to_numpy(), df["lg"].to_numpy()
    code = np.array(CODES, dtype=object)[loc]
    cjk = np.isin(code, ["ja_JP", "ko_KR"])
    u = rng.random(n)
    romanised = cjk & (u < np.where(code == "ja_JP", 0.4, 0.25))
    nospace = cjk & ~romanised & (rng.random(n) < 0.5)
    fold = ~np.isin(loc, NON_LATIN) & (rng.random(n) < 0.3)
    f = pd.Series(np.where(fold, vocab.obj["first_fold"][fg], vocab.obj["first"][fg]))
    la = pd.Series(np.where(fold, vocab.obj["last_fold"][lg], vocab.obj["last"][lg]))
    name = styled_names(f, la, rng)
    fl = pd.Series(vocab.obj["first_latin"][fg]).fillna("")
    ll = pd.Series(vocab.obj["last_latin"][lg]).fillna("")
    style = rng.choice(3, n, p=[0.5, 0.3, 0.2])  # Taro Tanaka, TANAKA Taro, Tanaka Taro
    roman = np.select(
        [style == 0, style == 1], [fl + " " + ll, ll.str.upper() + " " + fl], ll + " " + fl
    )
    native = np.where(nospace, la + f, la + " " + f)  # family name first
    name = np.where(romanised, roman, np.where(cjk, native, name))
    form = np.where(romanised, "romanised", np.where(nospace, "native_nospace", "native"))
    form = form.astype(object)
    korean = np.flatnonzero(cust["loc"] == CODES.index("ko_KR"))
    resplit = np.flatnonzero(
        (df["kind"].to_numpy() != "planted") & (code == "ko_KR") & (rng.random(n) < 0.3)
    )
    if korean.size and resplit.size:
        who = korean[rng.integers(0, korean.size, resplit.size)]
        for i, c in zip(resplit, who, strict=True):
            first, last = vocab.obj["first"][cust["fg"][c]], vocab.obj["last"][cust["lg"][c]]
            name[i], form[i] = f"{first[0]} {last}{first[1:]}", "native_resplit"
    return pd.Series(name, dtype=object), form


def render_rows(
    df: pd.DataFrame,
    vocab: Vocab,
    rng: np.random.Generator,
    fuzzy_share: float,
    has_column: np.ndarray,
    cust: dict[str, np.ndarray],
) -> tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """Values as sellers write them; per-field status matrix; the truth's per-line notes."""
    loc, fg, lg = df["loc"].to_numpy(), df["fg"].to_numpy(), df["lg"].to_numpy()
    kind = df["kind"].to_numpy()
    absent, fuzzy = absent_fuzzy(kind, rng, fuzzy_share)
    r = random.Random(int(rng.integers(2**62)))

    name, name_form = _names(df, vocab, cust, rng)
    for i in np.flatnonzero(fuzzy[:, 0]):
        name[i] = fuzz_name(r, vocab.obj["first"][fg[i]], vocab.obj["last"][lg[i]], loc[i])
        name_form[i] = "native"
    email = noisy_emails(df, rng)
    address, street_form = _addresses(df, rng, r, fuzzy[:, 3])
    address, column, written, country_form = _countries(
        address, loc, ~absent[:, 3], has_column, rng
    )
    style, phone = _phones(df, written != "none", rng)

    values = pd.DataFrame(
        {"name": name, "email": email, "phone": phone, "address": address, "country": column}
    )
    notes = {
        "country_written": written,
        "country_form": country_form,
        "phone_style": style.astype(object),
        "name_form": name_form,
        "street_form": street_form,
    }
    return blank_absent(values, notes, absent, fuzzy, kind)


def _addresses(
    df: pd.DataFrame, rng: np.random.Generator, r: random.Random, fuzzy: np.ndarray
) -> tuple[pd.Series, np.ndarray]:
    """Street type flipped, house letter and postcode respelled, `fuzzy` streets retyped;
    also each line's street form for the truth."""
    n, code = len(df), np.array(CODES, dtype=object)[df["loc"].to_numpy()]
    line1, street_form = df["line1"].to_numpy(object).copy(), np.full(n, "as_stored", object)
    for i in np.flatnonzero(rng.random(n) < 0.5):
        line1[i], street_form[i] = flip_street(line1[i], code[i])
    house_form = _draw(rng, HOUSE_FORMS, n)
    for i in np.flatnonzero(np.isin(code, LETTERED)):
        line1[i] = _house(line1[i], house_form[i])
    for i in np.flatnonzero(fuzzy):
        line1[i] = typo(r, line1[i])
    pc_form = _draw(rng, POSTCODE_FORMS, n)
    postcode = np.array([_postcode(p, f) for p, f in zip(df["postcode"], pc_form, strict=True)])
    city = df["city"].to_numpy(object)
    layout = rng.random(n) < 0.5
    address = pd.Series(
        np.where(layout, line1 + ", " + city + " " + postcode, line1 + ", " + postcode + " " + city)
    )
    return address, street_form


def _countries(
    address: pd.Series,
    loc: np.ndarray,
    has_address: np.ndarray,
    has_column: np.ndarray,
    rng: np.random.Generator,
) -> tuple[pd.Series, list[str], np.ndarray, np.ndarray]:
    """The country as a last address segment on some lines and in the column where the file
    has one; the address with it, the column, and where and how each line writes it."""
    n, iso = len(loc), np.array(COUNTRIES, dtype=object)[loc]
    segment = has_address & (rng.random(n) < np.where(has_column, 0.3, 0.8))
    seg_form = np.array(COUNTRY_FORMS, dtype=object)[rng.choice(4, n, p=[0.2, 0.15, 0.35, 0.3])]
    col_form = np.array(COUNTRY_FORMS, dtype=object)[rng.choice(4, n, p=[0.6, 0.1, 0.15, 0.15])]
    u_seg, u_col = rng.random(n), rng.random(n)
    seg = [country_text(c, f, u) for c, f, u in zip(iso, seg_form, u_seg, strict=True)]
    address = pd.Series(np.where(segment, address + ", " + pd.Series(seg, dtype=object), address))
    address = recase(address, rng.random(n), 0.05, 0.05)
    column = [country_text(c, f, u) for c, f, u in zip(iso, col_form, u_col, strict=True)]
    written = np.where(has_column, "column", np.where(segment, "address", "none")).astype(object)
    country_form = np.where(has_column, col_form, np.where(segment, seg_form, "")).astype(object)
    return address, column, written, country_form


def _phones(
    df: pd.DataFrame, told: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Phone styles and numbers: national layouts only where the line tells the country."""
    n, loc = len(df), df["loc"].to_numpy()
    style = np.where(told, _draw(rng, TOLD_STYLES, n), _draw(rng, UNTOLD_STYLES, n))
    trunk_ok = np.array(["intl_trunk" in PATTERNS[c] for c in COUNTRIES])[loc]
    style[(style == "intl_trunk") & ~trunk_ok] = "intl"
    index = np.array([STYLES.index(s) for s in style])
    phone = format_phones(df["phone"].to_numpy(), loc, index).to_numpy(zero_copy_only=False)
    return style, phone
