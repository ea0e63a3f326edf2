"""Transliteration and spelling skeleton of folded names.

Cyrillic and Greek are transliterated to Latin (BGN/PCGN-like and ELOT 743-like tables), then
folded to a skeleton, so that a name written in its own script and the same name romanised by
any of the common schemes hash to the same grams.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

# Applied after fold_text (lower case, Greek accents stripped, final sigma and yo folded).
CYRILLIC_MULTI = {
    "щ": "shch", "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "ю": "yu", "я": "ya",
    "ї": "yi", "є": "ye", "љ": "lj", "њ": "nj", "џ": "dz", "ђ": "dj", "ъ": "", "ь": "",
}  # fmt: skip
CYRILLIC_SINGLE = ("абвгдезийклмнопрстуфыэіґўјћ", "abvgdeziyklmnoprstufyeigujc")
GREEK_MULTI = {"ου": "ou", "θ": "th", "χ": "ch", "ψ": "ps"}
GREEK_SINGLE = ("αβγδεζηικλμνξοπρσςτυφω", "avgdeziiklmnxoprsstyfo")
SKELETON = (("ou", "u"), ("oy", "u"), ("kh", "h"), ("ph", "f"), ("ks", "x"))
NON_LATIN_RE = "[\u0370-\u03ff\u0400-\u052f]"


def transliterate(col: Column) -> Column:
    """Cyrillic and Greek letters of a folded value to Latin; other text unchanged.

    Multi-letter outputs are literal `replace`s (no regex: `regexp_replace` decodes every
    value to a Java string, ~4x the cost on these texts); the rest is one translate. Values
    without such letters (most) skip the chain."""
    out = col
    for table in (GREEK_MULTI, CYRILLIC_MULTI):
        for a, b in table.items():
            out = F.replace(out, F.lit(a), F.lit(b))
    out = F.translate(
        out, CYRILLIC_SINGLE[0] + GREEK_SINGLE[0], CYRILLIC_SINGLE[1] + GREEK_SINGLE[1]
    )
    return F.when(col.rlike(NON_LATIN_RE), out).otherwise(col)


def skeleton(col: Column) -> Column:
    """Fold spelling variants that romanisation schemes disagree on (Koyloyris/Kouloris,
    Khristos/Hristos, Yuriy/Iurii), applied to both sides alike."""
    out = col
    for a, b in SKELETON:
        out = F.replace(out, F.lit(a), F.lit(b))
    return F.translate(out, "y", "i")
