"""Names as the truth compares them: folded keys, CJK names run together, and an index of the
vocabulary's (first, last) pairs by the words a written name can be made of."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

_LETTERS = re.compile(r"[^\W\d_]+")


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


_CJK = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
)


def solid_cjk(name: str) -> str | None:
    """The name when it is one run of Han/Kana/Hangul: a CJK name written without a space."""
    s = unicodedata.normalize("NFKC", name).strip()
    return s if _CJK.fullmatch(s) else None


def names_match(
    written: str,
    first: str,
    last: str,
    first_latin: str | None = None,
    last_latin: str | None = None,
) -> bool:
    """Whether a written name is the person's: the same words in any order, case and accents
    aside (name_key); a Han/Kana/Hangul name without a space is its two words run together in
    either order (윤은지 = 윤 은지), other word boundaries differ (윤 은지 != 은 윤지); a
    romanised name counts when it is the person's romanised name (Eunji Yoon)."""
    solid = solid_cjk(written)
    if solid is not None:
        parts = [unicodedata.normalize("NFKC", p) for p in (first, last)]
        return solid in (parts[1] + parts[0], parts[0] + parts[1])
    key = name_key(written)
    return bool(key) and (
        key == name_key(f"{first} {last}")
        or (first_latin is not None and key == name_key(f"{first_latin} {last_latin}"))
    )


# Column pairs (first, last) a name is written in: the native script, or romanised
Scripts = tuple[tuple[str, str], ...]
NATIVE, LATIN = (("first", "last"),), (("first_latin", "last_latin"),)
SCRIPTS = NATIVE + LATIN


class NameIndex:
    """Vocabulary (first, last) pairs by the words of their names (native or romanised), and
    CJK ones by their exact text, to find every pair a written name can be (names_match)."""

    def __init__(self, obj: Mapping[str, np.ndarray]):
        self.nl = len(obj["last"])
        self.toks: dict[str, list[tuple]] = {}
        self.by: dict[str, dict] = {}
        self.exact: dict[str, dict] = {}
        for field in ("first", "last", "first_latin", "last_latin"):
            self.toks[field] = [tuple(name_key(v).split()) if v else () for v in obj[field]]
            self.by[field] = defaultdict(list)
            for g, t in enumerate(self.toks[field]):
                if t:
                    self.by[field][t].append(g)
        for field in ("first", "last"):
            self.exact[field] = defaultdict(list)
            for g, v in enumerate(obj[field]):
                if (s := solid_cjk(v)) is not None:
                    self.exact[field][s].append(g)

    def _codes(self, firsts, lasts) -> list[int]:
        return [a * self.nl + b for a in firsts for b in lasts]

    def by_words(self, words: Sequence[str], scripts: Scripts = SCRIPTS) -> list[int]:
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
