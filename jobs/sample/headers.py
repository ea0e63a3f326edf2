"""Mapping a dump's columns onto crosscheck's fields: by header synonyms in many languages,
by an explicit mapping in conf, or, for a headerless dump, by what the values look like."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence

from jobs.settings import SAMPLE_FIELDS


def json_keys(lines: Sequence[str]) -> list[str]:
    """The keys of a JSON Lines file's objects, in first-seen order (lines that are no JSON
    object, or end in a comma as in an array dump, are read as they can be)."""
    keys: list[str] = []
    for line in lines:
        try:
            obj = json.loads(line.strip().rstrip(","))
        except ValueError:
            continue
        if isinstance(obj, dict):
            keys += [k for k in obj if k not in keys]
    return keys


def fold_header(text: str) -> str:
    """'E-Mail-Adresse ' -> 'e mail adresse'; 'Téléphone' -> 'telephone'."""
    text = unicodedata.normalize("NFKD", text.strip().lstrip("\ufeff"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[\W_]+", " ", text).strip()


def synonym_index(headers: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Folded synonym -> field; the first field listing a synonym keeps it."""
    index: dict[str, str] = {}
    for fld, words in headers.items():
        for word in words:
            index.setdefault(fold_header(word), fld)
    return index


def map_columns(
    columns: Sequence[str],
    headers: Mapping[str, Sequence[str]],
    explicit: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Field -> column position. Explicit `header: field` entries win over synonyms; a
    column already taken is not mapped twice; 'Nom' + 'Prénom' reads as last + first name."""
    explicit_folded = {fold_header(k): v for k, v in (explicit or {}).items()}
    synonyms = synonym_index(headers)
    mapping: dict[str, int] = {}
    for pos, col in enumerate(columns):
        folded = fold_header(col)
        fld = explicit_folded.get(folded) or synonyms.get(folded)
        if fld in SAMPLE_FIELDS and fld not in mapping:
            mapping[fld] = pos
    if "name" in mapping and "first_name" in mapping and "last_name" not in mapping:
        mapping["last_name"] = mapping.pop("name")
    return mapping


EMAIL_SHAPE = re.compile(r"^\s*[^@\s]+@[^@\s]+\.[a-z]{2,}\s*$", re.I)
PHONE_SHAPE = re.compile(r"^\s*\+?[\d\s().\-/]{7,20}\s*$")
NAME_SHAPE = re.compile(r"^[^\W\d_]+([ '\-.,][^\W\d_]+)+\.?$")
ADDRESS_SHAPE = re.compile(r"\d.*[^\W\d_]{2,}|[^\W\d_]{2,}.*\d")
COUNTRY_SHAPE = re.compile(r"^[A-Za-z]{2}$")


def infer_columns(rows: Sequence[Sequence[str]], min_share: float = 0.6) -> dict[str, int]:
    """Guess fields of a headerless dump from the shape of its values (first rows only)."""
    if not rows:
        return {}
    width = max(len(r) for r in rows)
    shapes = [
        ("email", EMAIL_SHAPE),
        ("phone", PHONE_SHAPE),
        ("country", COUNTRY_SHAPE),
        ("name", NAME_SHAPE),
        ("address", ADDRESS_SHAPE),
    ]
    mapping: dict[str, int] = {}
    for fld, shape in shapes:
        best, best_share = None, min_share
        for pos in range(width):
            if pos in mapping.values():
                continue
            values = [r[pos] for r in rows if pos < len(r) and r[pos].strip()]
            if not values:
                continue
            share = sum(bool(shape.search(v.strip())) for v in values) / len(values)
            if share >= best_share:
                best, best_share = pos, share
        if best is not None:
            mapping[fld] = best
    return mapping
