"""Corrupted copies of warehouse customers, after FEBRL's corruption model: typing, OCR and
phonetic errors, swapped and missing tokens, changed house numbers and postcodes. Two or
three corruptions per record, never more than two in one value: what a retyped or scanned
dump looks like. Edits take their characters from the value itself, so they work in every
script. Also decoys: one customer's name with another's address, which belong to nobody."""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Sequence
from pathlib import Path

OCR = [("0", "o"), ("o", "0"), ("1", "l"), ("l", "1"), ("5", "s"), ("s", "5"), ("m", "rn"),
       ("rn", "m"), ("e", "c"), ("8", "b"), ("g", "q")]  # fmt: skip
PHONETIC = [("ph", "f"), ("f", "ph"), ("ck", "k"), ("ie", "y"), ("ou", "u"), ("ei", "ai"),
            ("v", "w"), ("z", "s"), ("th", "t"), ("c", "k")]  # fmt: skip


def typo(rng: random.Random, s: str) -> str:
    """One keystroke slip: a character deleted, doubled, replaced by a neighbour's, or two
    neighbours swapped."""
    if len(s) < 3:
        return s
    i = rng.randrange(1, len(s) - 1)
    kind = rng.choice(("delete", "double", "replace", "swap"))
    if kind == "delete":
        return s[:i] + s[i + 1 :]
    if kind == "double":
        return s[:i] + s[i] + s[i:]
    if kind == "replace":
        return s[:i] + s[i + 1] + s[i + 1 :]
    return s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :]


def _substitute(rng: random.Random, s: str, table: Sequence[tuple[str, str]]) -> str:
    found = [(a, b) for a, b in table if a in s]
    if not found:
        return typo(rng, s)
    a, b = rng.choice(found)
    at = [i for i in range(len(s)) if s.startswith(a, i)]
    i = rng.choice(at)
    return s[:i] + b + s[i + len(a) :]


def misspell(rng: random.Random, s: str) -> str:
    """A typing, OCR or phonetic error."""
    kind = rng.random()
    if kind < 0.6:
        return typo(rng, s)
    return _substitute(rng, s, OCR if kind < 0.8 else PHONETIC)


def _digit_changed(rng: random.Random, s: str) -> str:
    digits = [i for i, c in enumerate(s) if c.isdigit()]
    if not digits:
        return typo(rng, s)
    i = rng.choice(digits)
    return s[:i] + str((int(s[i]) + rng.randrange(1, 10)) % 10) + s[i + 1 :]


def _swapped_digits(rng: random.Random, s: str) -> str:
    pairs = [i for i in range(len(s) - 1) if s[i].isdigit() and s[i + 1].isdigit()]
    pairs = [i for i in pairs if s[i] != s[i + 1]]
    if not pairs:
        return _digit_changed(rng, s)
    i = rng.choice(pairs)
    return s[:i] + s[i + 1] + s[i] + s[i + 2 :]


def _street_words(rng: random.Random, line1: str) -> str:
    words = line1.split(" ")
    letters = [i for i, w in enumerate(words) if not any(c.isdigit() for c in w) and len(w) > 2]
    if not letters:
        return misspell(rng, line1)
    i = rng.choice(letters)
    words[i] = misspell(rng, words[i])
    return " ".join(words)


def _number(rng: random.Random, line1: str) -> str:
    words = line1.split(" ")
    numbered = [i for i, w in enumerate(words) if any(c.isdigit() for c in w)]
    if not numbered:
        return _street_words(rng, line1)
    i = rng.choice(numbered)
    if rng.random() < 0.4:
        return " ".join(w for j, w in enumerate(words) if j != i)  # the number left out
    words[i] = _digit_changed(rng, words[i])
    return " ".join(words)


Record = dict[str, str]
EDITS: dict[str, tuple[str, Callable[[random.Random, str], str]]] = {
    "first name misspelt": ("first", misspell),
    "last name misspelt": ("last", misspell),
    "first name left out": ("first", lambda rng, s: ""),
    "street misspelt": ("line1", _street_words),
    "house number changed or left out": ("line1", _number),
    "postcode digit changed": ("postcode", _digit_changed),
    "postcode digits swapped": ("postcode", _swapped_digits),
    "city misspelt": ("city", misspell),
}


def corrupted(rng: random.Random, record: Record) -> tuple[Record, list[str]]:
    """The record with two or three edits (at most two per value; a swap of the name's
    order counts as one) and their names."""
    out, done, per_value = dict(record), [], {}
    wanted = rng.choice((2, 2, 3))
    for _ in range(100):  # an edit that changes nothing (a two-letter name) is not counted
        if len(done) == wanted:
            break
        if "names swapped" not in done and out["first"] and rng.random() < 0.1:
            out["first"], out["last"] = out["last"], out["first"]
            done.append("names swapped")
            continue
        name = rng.choice(sorted(EDITS))
        key, edit = EDITS[name]
        if per_value.get(key, 0) >= 2 or not out.get(key) or name in done:
            continue
        edited = edit(rng, out[key])
        if edited != out[key]:
            out[key] = edited
            per_value[key] = per_value.get(key, 0) + 1
            done.append(name)
    return out, done


def write_sample(
    records: Sequence[Record], path: Path, decoys: int, seed: int
) -> dict[int, str | None]:
    """A CSV of a corrupted copy of each record, then `decoys` lines pairing one record's name
    with another's address; returns the truth: file line -> customer id (None for decoys)."""
    rng = random.Random(seed)
    lines = [(corrupted(rng, r)[0], r["customer_id"]) for r in records]
    for _ in range(decoys):
        a, b = rng.sample(list(records), 2)
        lines.append(({**b, "first": a["first"], "last": a["last"]}, None))
    rng.shuffle(lines)
    truth = {}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "address", "country"])
        for n, (r, customer) in enumerate(lines, start=2):  # line 1 is the header
            name = " ".join(x for x in (r["first"], r["last"]) if x)
            address = ", ".join(x for x in (r["line1"], r["city"], r["postcode"]) if x)
            w.writerow([name, address, r["country"]])
            truth[n] = customer
    return truth
