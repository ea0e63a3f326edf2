"""The sample's lines before they are written: clean values behind each line (planted from the
warehouse or invented), and the default single-file rendering of them."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from tools.demo.arrays import isin_sorted
from tools.demo.locales import ABBREVIATIONS
from tools.demo.noise import absent_fuzzy, fuzz_name, noisy_emails, recase, styled_names, typo
from tools.demo.phones import STYLES, draw_phones, format_phones
from tools.demo.vocab import ABBREVIATING, CODES, COUNTRIES, NON_LATIN, WEIGHTS, Vocab
from tools.demo.warehouse import street_line

FORMATS = {
    "semicolon": (";", "csv", ["Nom", "Correo", "Telefon", "Adresse", "Pays"]),
    "csv": (",", "csv", ["Full Name", "E-mail", "Mobile", "Address", "Country"]),
    "tsv": ("\t", "tsv", ["Name", "E-Mail-Adresse", "Telefonnummer", "Anschrift", "Land"]),
    "pipe": ("|", "txt", ["nombre", "email", "tel", "direccion", "pais"]),
    "jsonl": (None, "jsonl", ["name", "mail", "phone_number", "addr", "country"]),
}
FIELDS = ("name", "email", "phone", "address")


def source_rows(
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
    planted = _planted_rows(cust, picked)
    invented = _invented_rows(vocab, cust, addr_keys, n_fab, n_broken, rng)
    rows = pd.concat([planted, invented], ignore_index=True)
    rows["customer_id"] = rows["customer_id"].astype("Int64")
    return rows


def _planted_rows(cust: dict[str, np.ndarray], picked: pd.DataFrame) -> pd.DataFrame:
    idx = picked["customer_id"].to_numpy() - 1
    local, dom = picked["email"].str.extract(r"^(.*)@([^@]*)$").T.to_numpy()
    return pd.DataFrame(
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


def _invented_rows(
    vocab: Vocab,
    cust: dict[str, np.ndarray],
    addr_keys: np.ndarray,
    n_fab: int,
    n_broken: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Fabricated and broken lines' values: phones and e-mails no customer has, addresses
    redrawn until no warehouse address has the same key."""
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
    line1, postcode = _unheld_streets(vocab, rng, loc, addr_keys)
    return pd.DataFrame(
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


def _unheld_streets(
    vocab: Vocab, rng: np.random.Generator, loc: np.ndarray, addr_keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Street lines and postcode indices whose address key is in no warehouse address."""
    k = len(loc)
    line1, todo = np.empty(k, dtype=object), np.arange(k)
    postcode = np.zeros(k, np.int64)
    while todo.size:
        text, parts = street_line(vocab, rng, loc[todo])
        line1[todo] = text.to_numpy(zero_copy_only=False)
        postcode[todo] = vocab.pick(rng, "postcode", loc[todo])
        todo = todo[isin_sorted(vocab.address_key(**parts, postcode=postcode[todo]), addr_keys)]
    return line1, postcode


def render_rows(
    df: pd.DataFrame, vocab: Vocab, rng: np.random.Generator, fuzzy_share: float
) -> tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """Apply dump-style noise; return the output values, a per-field status matrix and the
    truth's per-line notes on how the values were written."""
    n, loc = len(df), df["loc"].to_numpy()
    absent, fuzzy = absent_fuzzy(df["kind"].to_numpy(), rng, fuzzy_share)
    r = random.Random(int(rng.integers(2**62)))
    name = _names(df, vocab, rng, r, fuzzy[:, 0])
    email = noisy_emails(df, rng)
    style = rng.choice([2, 1, 3, 4], n, p=[0.35, 0.35, 0.15, 0.15])  # indexes STYLES
    phone = format_phones(df["phone"].to_numpy(), loc, style).to_numpy(zero_copy_only=False)
    address, street_form = _addresses(df, rng, r, fuzzy[:, 3])
    iso = pd.Series(np.array(COUNTRIES, dtype=object)[loc])
    values = pd.DataFrame(
        {
            "name": name,
            "email": email,
            "phone": phone,
            "address": recase(address, rng.random(n), 0.08, 0.08),
            "country": recase(iso, rng.random(n), 0, 0.1),
        }
    )
    notes = {
        "country_written": np.full(n, "column", dtype=object),
        "country_form": np.full(n, "iso2", dtype=object),
        "phone_style": np.array(STYLES, dtype=object)[style],
        "name_form": np.full(n, "native", dtype=object),
        "street_form": street_form,
    }
    return blank_absent(values, notes, absent, fuzzy, df["kind"].to_numpy())


def _names(
    df: pd.DataFrame, vocab: Vocab, rng: np.random.Generator, r: random.Random, fuzzy: np.ndarray
) -> pd.Series:
    """Names in a dump's styles, accents folded on some lines; `fuzzy` lines retyped."""
    n, loc, fg, lg = len(df), df["loc"].to_numpy(), df["fg"].to_numpy(), df["lg"].to_numpy()
    fold = ~np.isin(loc, NON_LATIN) & (rng.random(n) < 0.3)
    f = pd.Series(np.where(fold, vocab.obj["first_fold"][fg], vocab.obj["first"][fg]))
    la = pd.Series(np.where(fold, vocab.obj["last_fold"][lg], vocab.obj["last"][lg]))
    name = styled_names(f, la, rng)
    for i in np.flatnonzero(fuzzy):
        name[i] = fuzz_name(r, vocab.obj["first"][fg[i]], vocab.obj["last"][lg[i]], loc[i])
    return name


def _addresses(
    df: pd.DataFrame, rng: np.random.Generator, r: random.Random, fuzzy: np.ndarray
) -> tuple[pd.Series, np.ndarray]:
    """One-field addresses, street types abbreviated on some lines, `fuzzy` streets retyped;
    also each line's street form for the truth."""
    n, loc = len(df), df["loc"].to_numpy()
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
    for i in np.flatnonzero(fuzzy):
        line1[i] = typo(r, line1[i])
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
    return address, street_form


def blank_absent(
    values: pd.DataFrame,
    notes: dict[str, np.ndarray],
    absent: np.ndarray,
    fuzzy: np.ndarray,
    kind: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray]]:
    """Empty the fields a line leaves out, in its values and its notes; the per-field status
    matrix (absent, fuzzy, exact; none on lines not planted)."""
    for j, field in enumerate(FIELDS):
        values.loc[absent[:, j], field] = ""
    status = np.where(absent, "absent", np.where(fuzzy, "fuzzy", "exact"))
    status[kind != "planted"] = "none"
    for note, j in (("phone_style", 2), ("name_form", 0), ("street_form", 3)):
        notes[note][absent[:, j]] = ""
    return values, status, notes
