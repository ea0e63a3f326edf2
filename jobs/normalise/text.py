"""Text folds: case, accents and full-width forms to one form, and the name keys built on them
(token order free, CJK names also without spaces)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.normalise.common import blank_to_null

CJK_ONLY_RE = r"^[\p{IsHan}\p{IsHangul}\p{IsHiragana}\p{IsKatakana}\s]+$"


@lru_cache(maxsize=1)
def fold_table() -> tuple[str, str]:
    """One-to-one character folds for `translate`: Latin and Greek letters to their base letter,
    full-width forms to ASCII (what NFKC would do for them), final sigma and Cyrillic yo."""
    src, dst = [], []
    ranges = [(0x00C0, 0x024F), (0x1E00, 0x1EFF), (0x0370, 0x03FF), (0x1F00, 0x1FFF)]
    for lo, hi in ranges:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            base = "".join(
                c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
            )
            if len(base) == 1 and base != ch:
                src.append(ch)
                dst.append(base)
    for cp in range(0xFF01, 0xFF5F):  # full-width ASCII
        src.append(chr(cp))
        dst.append(chr(cp - 0xFEE0))
    extra = {"\u3000": " ", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D",
             "ı": "i", "Ё": "Е", "\u00a0": " "}  # fmt: skip
    for a, b in extra.items():
        src.append(a)
        dst.append(b)
    return "".join(src), "".join(dst)


MULTI_CHAR_FOLDS = {"ß": "ss", "æ": "ae", "œ": "oe", "þ": "th", "ĳ": "ij"}
LOWER_FOLDS = ("ςё", "σе")  # after lower(): final sigma and yo, which upper case loses


def is_ascii(col: Column) -> Column:
    """True for pure ASCII text (one byte per character): no fold table needed. Most values
    are, and `translate` with a 1,000-character table costs more than this check."""
    return F.octet_length(col) == F.length(col)


def fold_text(col: Column) -> Column:
    """Lower case, accents stripped (Latin and Greek), full-width folded, other scripts kept."""
    src, dst = fold_table()
    out = F.translate(col, src, dst)
    out = F.translate(F.lower(out), *LOWER_FOLDS)
    for a, b in MULTI_CHAR_FOLDS.items():
        out = F.replace(out, F.lit(a), F.lit(b))  # literal: no regex, no Java string
    out = F.regexp_replace(out, "[\u0300-\u036f]", "")  # stray combining accents
    return F.when(is_ascii(col), F.lower(col)).otherwise(out)


def fold_name(text: str) -> str:
    """The Python twin of `normalise.clean_name` for reference data: lower case, accents
    stripped, punctuation and blanks turned into single spaces (a test holds them equal)."""
    src, dst = fold_table()
    s = text.translate(str.maketrans(src, dst)).lower()
    s = s.translate(str.maketrans(*LOWER_FOLDS))
    for a, b in MULTI_CHAR_FOLDS.items():
        s = s.replace(a, b)
    s = re.sub("[\u0300-\u036f]", "", s)
    s = "".join(" " if unicodedata.category(c)[0] in "PSZ" or c.isspace() else c for c in s)
    return " ".join(s.split())


def clean_name(col: Column) -> Column:
    """Folded (case, accents, full-width) with punctuation turned into single spaces."""
    return F.trim(F.regexp_replace(fold_text(col), r"[\p{P}\p{S}\p{Z}\s]+", " "))


def name_key(clean: Column) -> Column:
    """Tokens sorted, so order does not matter ("Müller, Jürgen" = "JURGEN MULLER"). Han, Kana
    and Hangul names too: their token boundaries are part of the name (`윤 은지` is not
    `은 윤지`). A CJK name written without a space is one token; `name_keys` gives the
    warehouse side the spaceless forms it meets."""
    return blank_to_null(F.array_join(F.array_sort(F.split(clean, " ")), " "))


def name_keys(clean: Column, latin: Column) -> Column:
    """Every exact key a warehouse name is found under: its own (`name_key`), its romanised
    form's (`first_name_latin`/`last_name_latin`: `Taro Tanaka` for 田中 太郎), and for a CJK
    or Hangul name of several tokens those tokens run together in the written and the
    reversed order (`田中太郎`, `太郎田中`), as people write them without a space."""
    tokens = F.array_remove(F.split(clean, " "), "")
    spaceless = F.when(
        clean.rlike(CJK_ONLY_RE) & (F.size(tokens) >= 2),
        F.array(F.array_join(tokens, ""), F.array_join(F.reverse(tokens), "")),
    ).otherwise(F.array(F.lit(None).cast("string")))
    keys = F.concat(F.array(name_key(clean), name_key(latin)), spaceless)
    return F.array_distinct(F.array_compact(keys))


def normalise_name(col: Column) -> Column:
    return name_key(clean_name(col))


def full_name(first: Column, last: Column) -> Column:
    return blank_to_null(F.trim(F.concat_ws(" ", first, last)))
