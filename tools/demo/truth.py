"""The sample and its truth: which line is planted, fabricated or broken, field by field."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tools.demo.collisions import name_collisions, pair_collisions
from tools.demo.dumps import FileSpec, write_files
from tools.demo.intl import FILE_SHARES, FILES
from tools.demo.intl import render_rows as multinational_rows
from tools.demo.phones import NATIONAL_STYLES
from tools.demo.sample import FIELDS, FORMATS, render_rows, source_rows
from tools.demo.vocab import COUNTRIES, Vocab


@dataclass(frozen=True)
class SampleSpec:
    """The sample's invented lines and how it is written; planted lines come from the
    warehouse."""

    fabricated: int
    broken: int
    fuzzy_share: float
    fmt: str
    gzip: bool
    multinational: bool


def _counts(s: pd.Series) -> dict:
    return {str(k): int(v) for k, v in s.value_counts().sort_index().items()}


def write_sample(
    out: Path,
    vocab: Vocab,
    cust: dict[str, np.ndarray],
    picked: pd.DataFrame,
    addr_keys: np.ndarray,
    spec: SampleSpec,
    rng: np.random.Generator,
) -> dict:
    """Write the dump, truth.csv and truth.json; return the truth summary."""
    src = source_rows(vocab, cust, picked, addr_keys, spec.fabricated, spec.broken, rng)
    kind = src["kind"].to_numpy()
    specs, file_of, (values, status, notes) = _render(src, vocab, cust, spec, rng)
    source, number, reason = write_files(out, specs, file_of, values, kind, spec.gzip, rng)
    fab = np.flatnonzero(kind == "fabricated")
    collides = _name_collides(src, values, vocab, cust, fab, spec.multinational)
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
    summary = _summary(truth, int(collides[fab].sum()), specs, spec)
    (out / "truth.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return summary


def _render(
    src: pd.DataFrame,
    vocab: Vocab,
    cust: dict[str, np.ndarray],
    spec: SampleSpec,
    rng: np.random.Generator,
) -> tuple[list[FileSpec], np.ndarray, tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray]]]:
    """The sample's files, each line's file, and the rendered rows (values, status, notes)."""
    if spec.multinational:
        specs = list(FILES)
        file_of = rng.choice(len(specs), len(src), p=FILE_SHARES)
        has_column = np.array([len(s[2]) == 5 for s in specs])[file_of]
        rendered = multinational_rows(src, vocab, rng, spec.fuzzy_share, has_column, cust)
        return specs, file_of, rendered
    delim, ext, header = FORMATS[spec.fmt]
    specs, file_of = [(f"sample.{ext}", delim, header, False)], np.zeros(len(src), np.int64)
    return specs, file_of, render_rows(src, vocab, rng, spec.fuzzy_share)


def _name_collides(
    src: pd.DataFrame,
    values: pd.DataFrame,
    vocab: Vocab,
    cust: dict[str, np.ndarray],
    fab: np.ndarray,
    multinational: bool,
) -> pd.arrays.BooleanArray:
    """Per line, whether a fabricated line's written name is nonetheless a customer's name
    (NA on other lines)."""
    collides = pd.array([pd.NA] * len(src), dtype="boolean")
    names = values["name"].to_numpy()[fab]
    if multinational:
        collides[fab] = name_collisions(vocab, cust, names) & (names != "")
    else:
        fg, lg = src["fg"].to_numpy()[fab], src["lg"].to_numpy()[fab]
        collides[fab] = pair_collisions(vocab, cust, fg, lg) & (names != "")
    return collides


def _summary(
    truth: pd.DataFrame, fabricated_collides: int, specs: list[FileSpec], spec: SampleSpec
) -> dict:
    """truth.json: the counts a test or benchmark scores the pipeline against."""
    planted = truth[truth["kind"] == "planted"]
    exact = planted[list(FIELDS)] == "exact"
    data = truth[truth["kind"] != "broken"]
    phones = data["phone_style"][data["phone_style"] != ""]
    multinational = spec.multinational
    return {
        "format": "multinational" if multinational else spec.fmt,
        "sample": "sample" if multinational else f"sample/{specs[0][0]}" + ".gz" * spec.gzip,
        "header": all(bool(s[1]) for s in specs),
        "lines": len(truth),
        "kinds": truth["kind"].value_counts().to_dict(),
        "broken_reasons": truth["broken_reason"][truth["kind"] == "broken"]
        .value_counts()
        .to_dict(),
        "planted_exact": {f: int(exact[f].sum()) for f in FIELDS},
        "planted_fuzzy": {f: int((planted[f] == "fuzzy").sum()) for f in FIELDS},
        "planted_ge2_exact": int((exact.sum(axis=1) >= 2).sum()),
        "fabricated_name_collides": fabricated_collides,
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
