"""Street lines folded to one form: abbreviations per language and house numbers, however the
two sides wrote them."""

from __future__ import annotations

import operator
import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache, reduce

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.normalise.common import default_conf, let, lit_map
from jobs.normalise.text import clean_name

# A house number as `fold_house_number` leaves it: digits, a letter or bis/ter/quater, a second
# number of a range or double number ("12-14", also "12/14"), a Russian building and structure
# part ("5к2с1"). `address_key` and the fuzzy address rows take the first such token.
HOUSE_NUMBER = r"[0-9]+(?:bis|ter|quater|\p{L})?(?:-[0-9]+\p{L}?)?(?:к[0-9]+)?(?:с[0-9]+)?"
HOUSE_NUMBER_RE = rf"^{HOUSE_NUMBER}$"
HOUSE_NUMBER_TOKEN_RE = rf"(?:^| )({HOUSE_NUMBER})(?= |$)"  # the same, as a token of a street
WORD_RE = re.compile(r"[^\\.^$|?*+()\[\]{}]+")  # an alternative without regex syntax


def _apply_rules(word: str, rules: tuple[tuple[str, str], ...]) -> str:
    """What the rules, applied in order as whole-word regexps, make of one word."""
    for pattern, repl in rules:
        m = re.fullmatch("(?:" + pattern.replace(r"\p{L}", r"[^\W\d_]") + ")", word)
        if m:
            word = m.expand(re.sub(r"\$(\d)", r"\\\1", repl))
    return word


@lru_cache(maxsize=8)
def abbreviation_plan(
    rules: tuple[tuple[str, str], ...],
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """Whole-word rules -> (plain word -> its final form, the alternatives left as regexps).

    Each rule replaces whole space-separated words, so a plain-word alternative is a token
    lookup: all of them become one map, each word mapped to what the whole rule list makes
    of it. Only alternatives with regex syntax (suffixes like `(\\p{L}*)strasse`) stay
    regexps. One pass over the tokens instead of a regex pass per rule: the street fold was
    the index build's hottest code."""
    plain: list[str] = []
    regexps = []
    for pattern, repl in rules:
        alternatives = pattern.split("|") if "(" not in pattern else [pattern]
        words = [a for a in alternatives if WORD_RE.fullmatch(a) and " " not in a]
        plain += words
        rest = [a for a in alternatives if a not in words]
        if rest:
            regexps.append(("|".join(rest), repl))
    table = {w: _apply_rules(w, rules) for w in dict.fromkeys(plain)}
    return tuple((w, v) for w, v in table.items() if v != w), tuple(regexps)


_LEADING_LETTERS = r"(\p{L}*)"
_ESCAPED = re.compile(r"\\(\W)")


def _literals(pattern: str) -> tuple[str, ...] | None:
    """Strings one of which a match of `pattern` contains, for the simple shapes the
    abbreviation rules take (`word|word`, `(\\p{L}*)(?:word|word)`); None otherwise."""
    while pattern.startswith(_LEADING_LETTERS):
        pattern = pattern[len(_LEADING_LETTERS) :]
    if pattern.startswith("(?:") and pattern.endswith(")") and "(" not in pattern[3:]:
        pattern = pattern[3:-1]
    out = []
    for alternative in pattern.split("|"):
        if not WORD_RE.fullmatch(_ESCAPED.sub("", alternative)):  # regex syntax besides escapes
            return None
        out.append(_ESCAPED.sub(r"\1", alternative))
    return tuple(out)


def _can_survive_cleaning(literal: str) -> bool:
    """`clean_name` turns punctuation, symbols and blanks into single spaces between words: a
    literal holding one, other than one space between two words ("p za"), never occurs in a
    cleaned street."""
    words = literal.split(" ")
    return all(
        w and not any(unicodedata.category(c)[0] in "PSZ" or c.isspace() for c in w) for w in words
    )


@lru_cache(maxsize=8)
def regexp_guard(
    regexps: tuple[tuple[str, str], ...],
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...] | None]:
    """Of the regexps `abbreviation_plan` leaves, those that can match a cleaned street, and
    the literals one of which a street must contain for any of them to match (None: no such
    guard, apply them always). Most streets contain none, and the regexps (whole-word
    lookarounds, a leading `\\p{L}*`) cost more than the rest of the fold together."""
    kept, literals = [], []
    for pattern, repl in regexps:
        found = _literals(pattern)
        if found is None:
            return regexps, None
        found = tuple(x for x in found if _can_survive_cleaning(x))
        if found:
            kept.append((pattern, repl))
            literals += found
    return tuple(kept), tuple(dict.fromkeys(literals))


def _guarded(s: Column, regexps: tuple[tuple[str, str], ...]) -> Column:
    """Whole-word regexp rules applied to `s`, only where it holds one of their literals."""
    regexps, literals = regexp_guard(regexps)
    folded = s
    for pattern, repl in regexps:
        folded = F.regexp_replace(folded, rf"(?<=^| )(?:{pattern})(?= |$)", repl)
    if not regexps or literals is None:
        return folded
    found = reduce(operator.or_, [s.contains(x) for x in literals])
    return F.when(found, folded).otherwise(s)


def _word_table(words: tuple[tuple[str, str], ...]) -> Column | None:
    """Word -> its form, as a map per word length: a map look-up compares the key with every
    entry in turn, and a token is compared only with the words of its own length."""
    if not words:
        return None
    by_length: dict[int, list[tuple[str, str]]] = {}
    for word, form in words:
        by_length.setdefault(len(word), []).append((word, form))
    return F.create_map(
        *[x for n, pairs in sorted(by_length.items()) for x in (F.lit(n), lit_map(dict(pairs)))]
    )


def fold_street(col: Column, abbreviations: Mapping[str, str]) -> Column:
    """Street line folded: punctuation to spaces, abbreviations per language to one form,
    house numbers to one form (`fold_house_number`).

    The plain words of the rules become one map lookup per token; rules with regex syntax
    (suffixes) run after it, only on streets that hold one of their literals (`regexp_guard`):
    a rule cannot match without one, so neither can the rules after it. Rules of several words
    ("p za", from "P.za") belong before the word map: the map runs on the cleaned street, and
    only where its result holds such a rule's words (as the map leaves them) is it run again,
    on the street with those rules applied. Each step's result is bound to a lambda variable
    (`let`) that the next step reads as often as it needs: the expression stays a chain, not
    a tree that copies the map at every reference, and each step runs once per row."""
    clean = clean_name(col)
    words, regexps = abbreviation_plan(tuple(abbreviations.items()))
    phrases, literals = regexp_guard(tuple(r for r in regexps if " " in r[0]))
    suffixes = tuple(r for r in regexps if " " not in r[0])
    table = _word_table(words)

    def word_map(s: Column) -> Column:
        if table is None:
            return s
        tokens = F.transform(
            F.split(s, " "),
            lambda t: F.coalesce(F.try_element_at(F.try_element_at(table, F.length(t)), t), t),
        )
        return F.array_join(tokens, " ")

    def with_phrases(mapped: Column) -> Column:
        folded = clean
        for pattern, repl in phrases:
            folded = F.regexp_replace(folded, rf"(?<=^| )(?:{pattern})(?= |$)", repl)
        if literals is None:
            return word_map(folded)
        word_of = dict(words)
        signs = {" ".join(word_of.get(w, w) for w in x.split(" ")) for x in literals}
        found = reduce(operator.or_, [mapped.contains(x) for x in sorted(signs)])
        return F.when(found, word_map(folded)).otherwise(mapped)

    def the_rest(mapped: Column) -> Column:
        def numbers(s: Column) -> Column:
            return let(_guarded(s, suffixes), lambda x: fold_house_number(x, abbreviations))

        return let(with_phrases(mapped), numbers) if phrases else numbers(mapped)

    return let(word_map(clean), the_rest)


# Canonical words of the abbreviation rules that the house-number step reads (conf/normalise.yaml
# folds "No:", "Nr.", "nº", "дом" ... onto them).
HOUSE_MARKERS = ("no", "д")  # before a number: dropped
HOUSE_PARTS = ("к", "с")  # after a number: корпус, строение, joined to it
HOUSE_SUFFIXES = ("bis", "ter", "quater")  # after a number: joined to it
_NUM = r"(?<=^| )([0-9]+"
_HOUSE_GUARD = (
    rf"(?:^| )(?:{'|'.join(HOUSE_MARKERS)}) [0-9]"
    rf"|[0-9]\p{{L}}? (?:[{''.join(HOUSE_PARTS)}] ?)?[0-9]"
    rf"|[0-9] (?:{'|'.join(HOUSE_SUFFIXES)}|\p{{L}})(?: |$)"
)


def fold_house_number(street: Column, abbreviations: Mapping[str, str] | None = None) -> Column:
    """House numbers of a folded street (single spaces; abbreviations already folded) to one
    form, however the two sides wrote them: a marker before the number is dropped ("No: 12",
    "д. 5" -> "12", "5"); building parts are joined ("5 к 2", "д.5 к.2", "5 корп. 2" ->
    "5к2"); a letter or bis/ter/quater is joined ("63 a", "63-a", "63A" -> "63a"; "12 bis"
    -> "12bis"); two numbers in a row are a range or double number ("12-14", "12/14" ->
    "12-14").

    A single letter that the abbreviations fold a street word to ("c" calle, "r" rue) is not
    joined when a word follows it: "12 r de la paix" keeps its street. Runs only on streets
    where one of these can apply (one regex test): most have a bare number."""
    abbreviations = default_conf().abbreviations if abbreviations is None else abbreviations
    street_letters = "".join(sorted({v for v in abbreviations.values() if len(v) == 1}))
    letter = rf"[\p{{L}}&&[^{street_letters}]]" if street_letters else r"\p{L}"
    suffix = "|".join(HOUSE_SUFFIXES)
    markers = "|".join(HOUSE_MARKERS)
    korpus, stroenie = HOUSE_PARTS
    s = F.regexp_replace(street, rf"(?<=^| )(?:{markers}) (?=[0-9])", "")
    s = F.regexp_replace(s, rf"{_NUM}\p{{L}}?) {korpus} ?([0-9]+)(?= |$)", f"$1{korpus}$2")
    s = F.regexp_replace(
        s, rf"{_NUM}\p{{L}}?(?:{korpus}[0-9]+)?) {stroenie} ?([0-9]+)(?= |$)", f"$1{stroenie}$2"
    )
    s = F.regexp_replace(s, rf"{_NUM}) ({suffix}|\p{{L}}(?=$)|{letter}(?= \p{{L}}))(?= |$)", "$1$2")
    s = F.regexp_replace(s, rf"{_NUM}(?:{suffix}|\p{{L}})?) ([0-9]+\p{{L}}?)(?= |$)", "$1-$2")
    return F.when(street.rlike(_HOUSE_GUARD), s).otherwise(street)
