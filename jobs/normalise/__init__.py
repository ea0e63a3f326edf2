"""Column builders (`Column -> Column`) that turn identifying values into match keys.

The same functions run on the sample and on the warehouse, so that a value written two ways
("Müller, Jürgen" / "JURGEN MULLER", "020 7946 0958" / "+44 20 7946 0958") gives one key.
All are native Spark expressions: no Python UDF, so they run at JVM speed everywhere.
"""

from __future__ import annotations

import hashlib
import operator
import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache, reduce

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.settings import NormaliseConf, load_normalise


@lru_cache(maxsize=1)
def default_conf() -> NormaliseConf:
    """conf/normalise.yaml as shipped: the reference data of the builders called without one."""
    return load_normalise()


EMAIL_RE = (
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"
)
# A house number as `fold_house_number` leaves it: digits, a letter or bis/ter/quater, a second
# number of a range or double number ("12-14", also "12/14"), a Russian building and structure
# part ("5к2с1"). `address_key` and the fuzzy address rows take the first such token.
HOUSE_NUMBER = r"[0-9]+(?:bis|ter|quater|\p{L})?(?:-[0-9]+\p{L}?)?(?:к[0-9]+)?(?:с[0-9]+)?"
HOUSE_NUMBER_RE = rf"^{HOUSE_NUMBER}$"
HOUSE_NUMBER_TOKEN_RE = rf"(?:^| )({HOUSE_NUMBER})(?= |$)"  # the same, as a token of a street
CJK_ONLY_RE = r"^[\p{IsHan}\p{IsHangul}\p{IsHiragana}\p{IsKatakana}\s]+$"


@lru_cache(maxsize=1)
def _fold_table() -> tuple[str, str]:
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
    src, dst = _fold_table()
    out = F.translate(col, src, dst)
    out = F.translate(F.lower(out), *LOWER_FOLDS)
    for a, b in MULTI_CHAR_FOLDS.items():
        out = F.replace(out, F.lit(a), F.lit(b))  # literal: no regex, no Java string
    out = F.regexp_replace(out, "[\u0300-\u036f]", "")  # stray combining accents
    return F.when(is_ascii(col), F.lower(col)).otherwise(out)


def fold_name(text: str) -> str:
    """The Python twin of `normalise.clean_name` for reference data: lower case, accents
    stripped, punctuation and blanks turned into single spaces (a test holds them equal)."""
    src, dst = _fold_table()
    s = text.translate(str.maketrans(src, dst)).lower()
    s = s.translate(str.maketrans(*LOWER_FOLDS))
    for a, b in MULTI_CHAR_FOLDS.items():
        s = s.replace(a, b)
    s = re.sub("[\u0300-\u036f]", "", s)
    s = "".join(" " if unicodedata.category(c)[0] in "PSZ" or c.isspace() else c for c in s)
    return " ".join(s.split())


def _blank_to_null(col: Column) -> Column:
    return F.when(F.length(col) > 0, col)


def clean_email(col: Column) -> Column:
    """Trimmed, lower-cased, full-width folded, `mailto:` and angle brackets dropped."""
    folded = F.when(is_ascii(col), col).otherwise(F.translate(col, *_fold_table()))
    e = F.lower(F.trim(folded))
    return F.regexp_replace(e, r"^(mailto:)?<?|>?$", "")


def email_key(clean: Column, conf: NormaliseConf) -> Column:
    """Canonical form of a cleaned e-mail; null when it is not a syntactically valid address."""
    local = F.substring_index(clean, "@", 1)
    domain = F.substring_index(clean, "@", -1)
    if conf.domain_aliases:
        aliases = F.create_map(*[F.lit(x) for kv in conf.domain_aliases.items() for x in kv])
        domain = F.coalesce(F.try_element_at(aliases, domain), domain)
    if conf.plus_tag_domains:
        local = F.when(
            domain.isin(*conf.plus_tag_domains), F.substring_index(local, "+", 1)
        ).otherwise(local)
    if conf.dotless_domains:
        local = F.when(
            domain.isin(*conf.dotless_domains), F.replace(local, F.lit("."), F.lit(""))
        ).otherwise(local)
    return F.when(clean.rlike(EMAIL_RE), F.concat(local, F.lit("@"), domain))


def normalise_email(col: Column, conf: NormaliseConf) -> Column:
    return email_key(clean_email(col), conf)


def email_problem(clean: Column) -> Column:
    """Why a cleaned e-mail value gives no key: null when fine or absent."""
    return F.when((F.length(clean) > 0) & ~clean.rlike(EMAIL_RE), F.lit("email_invalid"))


def normalise_country(col: Column) -> Column:
    """ISO 3166 alpha-2 upper case; anything else is null."""
    c = F.upper(F.trim(col))
    c = F.when(c == "UK", F.lit("GB")).otherwise(c)
    return F.when(c.rlike("^[A-Z]{2}$"), c)


def clean_phone(col: Column) -> Column:
    """Digits, with a leading `+` kept; a leading label (`tel:`), extensions and the `(0)` trunk
    hint of international numbers (`+44 (0)20 ...`) removed."""
    raw = F.trim(F.when(is_ascii(col), col).otherwise(F.translate(col, *_fold_table())))
    raw = F.regexp_replace(raw, r"^[^0-9+]+", "")
    raw = F.regexp_replace(raw, r"(?i)\s*(ext\.?|x|#)\s*[0-9]+$", "")
    raw = F.regexp_replace(raw, r"\(0\)", "")
    return F.regexp_replace(raw, r"(?!^\+)[^0-9]", "")


def _lit_map(pairs: Mapping[str, object]) -> Column:
    return F.create_map(*[F.lit(x) for kv in pairs.items() for x in kv])


def _lengths(lengths: tuple[int, ...]) -> str:
    r"""Regex of a digit string of one of these lengths, to the end: `(?:\d{9}|\d{10})$`."""
    return "(?:" + "|".join(rf"\d{{{n}}}" for n in sorted(set(lengths))) + ")$"


@lru_cache(maxsize=8)
def _phone_rules(
    countries: tuple[tuple[str, str, str], ...],
    lengths: tuple[tuple[str, tuple[int, ...]], ...],
    patterns: tuple[tuple[str, str], ...],
    idds: tuple[tuple[str, str], ...],
) -> dict[str, str]:
    """The reading of `phone_e164` as regexps over `<country>:<calling code>:<digits>`
    (`+<digits>` once read as international), each applied once to every number: one pass
    per step, the country's branch picked by its prefix, instead of per-country look-ups
    repeated in a large expression. Built from `phone_countries` and `phone_numbering`."""
    length_of = dict(lengths)
    pattern_of = dict(patterns)
    by_code: dict[str, tuple[str, set[int]]] = {}
    for country, cc, trunk in countries:
        old = by_code.setdefault(cc, (trunk, set()))
        by_code[cc] = (old[0], old[1] | set(length_of.get(country, ())))

    def trunk_then(trunk: str, possible: tuple[int, ...] | set[int]) -> str:
        """The trunk prefix, taken only when a possible national number follows it."""
        return f"{trunk}(?={_lengths(tuple(possible))})" if trunk and possible else ""

    own_idd = [rf"{k}:[0-9]*:{re.escape(p)}(?=[1-9])" for k, p in idds]
    with_code = []
    national = []
    for country, cc, trunk in countries:
        possible = length_of.get(country, ())
        rest = cc + (f"(?>{trunk_then(trunk, possible)})?" if trunk and possible else "")
        tests = []
        if possible:
            tests.append(rf"\d{{{max(possible) + 1},}}$")  # too long to be national
            long = tuple(n for n in possible if n >= 9)
            if long:
                tests.append(rest + _lengths(long))  # a full national number after the code
        if country in pattern_of:
            p = pattern_of[country]
            tests.append(rf"(?!(?:{p})$){rest}(?:{p})$")  # only the part after it is national
        if tests:
            with_code.append(rf"{country}:{cc}:(?={cc})(?={'|'.join(tests)})")
        if trunk and possible:
            national.append(rf"({country}:{cc}:){trunk_then(trunk, possible)}")
    after_code = [
        rf"({cc}){trunk_then(trunk, possible)}"
        for cc, (trunk, possible) in sorted(by_code.items())
        if trunk and possible
    ]
    return {
        "international": rf"^(?:[A-Z]*:[0-9]*:(?:\+|00(?=[1-9]))|{'|'.join(own_idd or ['(?!)'])})",
        "with_code": rf"^(?:{'|'.join(with_code or ['(?!)'])})",
        "national": rf"^(?:{'|'.join(national or ['(?!)'])})",
        "national_to": "".join(f"${i + 1}" for i in range(len(national))),
        "after_code": rf"^\+(?:{'|'.join(after_code or ['(?!)'])})",
        "after_code_to": "+" + "".join(f"${i + 1}" for i in range(len(after_code))),
    }


def phone_e164(clean: Column, country: Column, conf: NormaliseConf) -> Column:
    """E.164 (`+<country code><national number>`) from a cleaned number, using the record's
    country for numbers written in national form. Null when no country can be told or the
    length is impossible for E.164.

    The reading follows libphonenumber's (`phonenumbers.parse` with the record's country):
    `+`, `00` or the country's own international prefix (`011`, `810`) start an
    international number; a national trunk prefix (`0`, `8`, `06`) is dropped where a
    possible national number follows it, also after the calling code (`+44 (0)20`,
    `+33 06...`); a number written without `+` but starting with the calling code is read as
    international when it is too long to be national, when only the part after the code
    matches the country's national number pattern, or (unlike libphonenumber, for
    `4915733131601`) when that part is a possible national number of 9 digits or more.
    `00` starts an international number also where the country dials another prefix (US,
    JP, RU ...: libphonenumber reads `0044...` there as national)."""
    rules = _phone_rules(
        tuple((k, cc, trunk) for k, (cc, trunk) in conf.phone_countries.items()),
        tuple(conf.phone_lengths.items()),
        tuple(conf.phone_patterns.items()),
        tuple(conf.phone_idd.items()),
    )
    codes = _lit_map({k: cc for k, (cc, _) in conf.phone_countries.items()})
    # "<country>:<calling code>:<number>": each step below reads and rewrites it once
    code = F.try_element_at(codes, country)
    t = F.concat(
        F.coalesce(country, F.lit("")), F.lit(":"), F.coalesce(code, F.lit("")), F.lit(":"), clean
    )
    t = F.regexp_replace(t, rules["international"], "+")
    t = F.regexp_replace(t, rules["with_code"], "+")
    t = F.regexp_replace(t, rules["national"], rules["national_to"])
    t = F.regexp_replace(t, r"^[A-Z]*:([0-9]+):", "+$1")
    t = F.regexp_replace(t, rules["after_code"], rules["after_code_to"])
    return F.regexp_substr(t, F.lit(r"^\+[0-9]{8,15}$"))


def normalise_phone(col: Column, country: Column, conf: NormaliseConf) -> Column:
    return phone_e164(clean_phone(col), country, conf)


def clean_name(col: Column) -> Column:
    """Folded (case, accents, full-width) with punctuation turned into single spaces."""
    return F.trim(F.regexp_replace(fold_text(col), r"[\p{P}\p{S}\p{Z}\s]+", " "))


def name_key(clean: Column) -> Column:
    """Tokens sorted, so order does not matter ("Müller, Jürgen" = "JURGEN MULLER"). Han, Kana
    and Hangul names too: their token boundaries are part of the name (`윤 은지` is not
    `은 윤지`). A CJK name written without a space is one token; `name_keys` gives the
    warehouse side the spaceless forms it meets."""
    return _blank_to_null(F.array_join(F.array_sort(F.split(clean, " ")), " "))


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
    return _blank_to_null(F.trim(F.concat_ws(" ", first, last)))


def normalise_postcode(col: Column) -> Column:
    """One form for every way a postcode is written: letters and digits only, upper case, full
    width folded ("SW1A 1AA", "sw1a1aa"; "1234 ab"; "〒１２３－４５６７" -> "1234567"; "12-345" ->
    "12345"). A country prefix before a dash is dropped ("D-10115", "NL-1234 AB"), and nine
    digits (a US ZIP+4, "12345-6789") keep their first five: one side often stores the ZIP
    alone, and no other country's postcodes have nine digits."""
    pc = F.regexp_replace(
        F.upper(fold_text(col)), r"^\s*[A-Z]{1,3}\s*-\s*(?=[0-9])|[^\p{L}\p{N}]", ""
    )
    return _blank_to_null(F.regexp_replace(pc, r"^([0-9]{5})[0-9]{4}$", "$1"))


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
        *[
            x
            for n, pairs in sorted(by_length.items())
            for x in (F.lit(n), F.create_map(*[F.lit(y) for kv in pairs for y in kv]))
        ]
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
    (`_let`) that the next step reads as often as it needs: the expression stays a chain, not
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
            return _let(_guarded(s, suffixes), lambda x: fold_house_number(x, abbreviations))

        return _let(with_phrases(mapped), numbers) if phrases else numbers(mapped)

    return _let(word_map(clean), the_rest)


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


def address_key(street: Column, postcode: Column) -> Column:
    """Key = house number | street | postcode from a folded street and a normalised postcode;
    null without a street or a postcode. The house number is the first token that looks like
    one (`12`, `12a`, `12-14`, `5к2`: `HOUSE_NUMBER`); every token equal to it is dropped
    from the street part."""
    number = F.regexp_extract(street, HOUSE_NUMBER_TOKEN_RE, 1)  # "" when there is none
    rest = F.array_join(F.array_remove(F.split(street, " "), number), " ")
    key = F.concat_ws("|", number, rest, postcode)
    return F.when((F.length(rest) > 0) & postcode.isNotNull(), key)


def normalise_address(line1: Column, postcode: Column, conf: NormaliseConf) -> Column:
    return address_key(fold_street(line1, conf.abbreviations), normalise_postcode(postcode))


def _alternation(words: tuple[str, ...]) -> str:
    """Words (as `clean_name` leaves them: no regex syntax) as one alternation, longest
    first, so "поселок городского типа" wins over "поселок"."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


def normalise_city(col: Column, conf: NormaliseConf | None = None) -> Column:
    """A city folded as names are (`clean_name`), without the administrative word before or
    after it (`city_prefixes`): "г. Москва", "Москва г.", "город Москва" -> "москва";
    "п. Шатура" -> "шатура"; "City of London" -> "london"; "Comune di Roma" -> "roma".
    A city that is nothing but such a word is kept as it is."""
    conf = conf or default_conf()
    c = clean_name(col)
    if not conf.city_prefixes:
        return _blank_to_null(c)
    words = _alternation(conf.city_prefixes)
    bare = F.regexp_replace(c, rf"^(?:{words}) (?=\S)|(?<=\S) (?:{words})$", "")
    return _blank_to_null(F.when(F.length(bare) > 0, bare).otherwise(c))


_BOUNDED = r"(?<![\p{{L}}\p{{N}}])(?:{})(?![\p{{L}}\p{{N}}])"


def _country_names(conf: NormaliseConf) -> dict[str, str]:
    """conf/countries.yaml's codes and names, folded as `clean_name` folds text."""
    names = {}
    for iso, aliases in conf.countries.names:
        for name in (iso, *aliases):
            names.setdefault(fold_name(name), iso)
    return names


def _let(value: Column, body: Callable[[Column], Column]) -> Column:
    """`body(value)` with `value` bound to a lambda variable: however often `body` uses it, the
    expression holds it once (a nested builder that reuses its input several times would
    otherwise copy a large input into a tree too big to analyse)."""
    return F.get(F.transform(F.array(value), body), 0)


def address_parts(
    text: Column, country: Column | None = None, conf: NormaliseConf | None = None
) -> tuple[Column, Column, Column, Column]:
    """Free-text address -> (line1, city, postcode, country): the layouts sellers write, with
    segments separated by commas (or semicolons, new lines):

    - the last segment is the country when it names one (`countries`: English or local name,
      ISO alpha-2 or alpha-3 code), and is then part of nothing else;
    - the street line is the first segment that is not a city with an administrative word
      (`г. Москва`, `с. Ивановка`), a region (`Московская обл.`) or a bare postcode, followed
      by the segments right after it that hold only a house number or building part
      (`ул. Ленина, д. 5, корп. 2`; `Calle Mayor, 7`);
    - the postcode is searched in the other segments, by the shape of the country named in
      the text, else of `country` (an ISO alpha-2 column; `postcodes`), else by every shape,
      most specific first (`postcode_any`): `2235 NT` keeps its letters, `Москва 2` gives no
      postcode. Returned as written, spaces removed (`normalise_postcode` canonicalises it);
    - the city is the first other segment that is not a region, the postcode taken out, folded
      to lower case (`normalise_city` canonicalises it);
    - the country is the one the text names, else `country`.

    Text with a single segment is all street line. Sample side only: the steps are bound to
    lambda variables (`_let`), which Spark evaluates without generated code."""
    conf = conf or default_conf()
    segments = F.filter(
        F.transform(F.split(text, r"[,;\n]"), lambda x: F.trim(x)), lambda x: F.length(x) > 0
    )
    given = normalise_country(country) if country is not None else F.lit(None).cast("string")
    parts = _let(segments, lambda segs: _address_parts(segs, given, conf))
    return parts["line1"], parts["city"], parts["postcode"], parts["country"]


def _address_parts(segments: Column, given: Column, conf: NormaliseConf) -> Column:
    """`address_parts` of the non-empty comma segments, as a struct."""
    names = _lit_map(_country_names(conf))
    named = F.try_element_at(names, clean_name(F.try_element_at(segments, F.lit(-1))))
    text_country = F.when(F.size(segments) > 1, named)
    body = F.when(text_country.isNotNull(), F.slice(segments, 1, F.size(segments) - 1))
    first = F.struct(
        body.otherwise(segments).alias("body"), F.coalesce(text_country, given).alias("place")
    )
    return _let(first, lambda b: _street_at(b["body"], b["place"], conf))


def _street_at(body: Column, place: Column, conf: NormaliseConf) -> Column:
    prefixes = _alternation(conf.city_prefixes) if conf.city_prefixes else None

    def is_not_street(c: Column) -> Column:
        bare_code = c.rlike(r"^[0-9][0-9 ]{3,}$")
        city = c.rlike(rf"^(?:{prefixes}) \p{{L}}") if prefixes else F.lit(False)
        return bare_code | city | _is_region(c, conf)

    flags = F.transform(F.transform(body, clean_name), is_not_street)
    first = F.array_position(flags, False)
    at = F.when(first > 0, first - 1).otherwise(F.lit(0))  # 0-based index of the street
    return _let(at, lambda i: _street_line(body, place, i, conf))


def _is_region(clean: Column, conf: NormaliseConf) -> Column:
    if not conf.region_words:
        return F.lit(False)
    return clean.rlike(rf"(?:^| )(?:{_alternation(conf.region_words)})(?: |$)")


def _house_segment(abbreviations: Mapping[str, str]) -> str:
    """Regex of a cleaned segment that holds only a house number or building part, written
    any way the abbreviation rules fold to the house-number words ("д. 5", "No: 12", "7",
    "12-14", "корп. 2", "5 bis"). A bare number of four digits or more is rather a
    postcode."""
    words, _ = abbreviation_plan(tuple(abbreviations.items()))
    folded = dict(words)

    def spelt(canonical: tuple[str, ...]) -> str:
        written = {w for w, v in folded.items() if v in canonical} | set(canonical)
        return _alternation(tuple(w for w in written if WORD_RE.fullmatch(w)))

    def number(digits: str) -> str:
        suffix = "|".join(HOUSE_SUFFIXES)
        return rf"[0-9]{digits}(?: ?(?:{suffix}|\p{{L}}))?(?: [0-9]{digits}\p{{L}}?)?"

    part = rf"(?:{spelt(HOUSE_PARTS)}) ?[0-9]+"
    markers = spelt(HOUSE_MARKERS)
    return rf"^(?:(?:{markers}) {number('{1,5}')}|{number('{1,3}')})(?: ?{part})*$|^{part}$"


def _street_line(body: Column, place: Column, at: Column, conf: NormaliseConf) -> Column:
    house = _house_segment(conf.abbreviations)

    def is_house(x: Column) -> Column:
        return F.coalesce(clean_name(x).rlike(house), F.lit(False))

    after1, after2 = F.get(body, at + 1), F.get(body, at + 2)
    more1 = is_house(after1)
    more2 = more1 & is_house(after2)
    line1 = F.concat_ws(", ", F.get(body, at), F.when(more1, after1), F.when(more2, after2))
    last = at + F.when(more2, 2).when(more1, 1).otherwise(0)
    rest = F.filter(body, lambda x, i: (i < at) | (i > last))
    street = F.struct(line1.alias("line1"), rest.alias("rest"))
    return _let(street, lambda s: _postcode_and_city(s["line1"], s["rest"], place, conf))


def _postcode_and_city(line1: Column, rest: Column, place: Column, conf: NormaliseConf) -> Column:
    text = F.upper(fold_text(F.array_join(rest, " , ")))
    return _let(text, lambda t: _postcode_in(t, line1, rest, place, conf))


def _postcode_in(
    text: Column, line1: Column, rest: Column, place: Column, conf: NormaliseConf
) -> Column:
    shapes = [F.regexp_substr(text, F.lit(_BOUNDED.format(p))) for p in conf.postcode_any]
    written = F.coalesce(*shapes) if shapes else F.lit(None).cast("string")
    if conf.postcodes:
        own = _lit_map({k: _BOUNDED.format(v) for k, v in conf.postcodes.items()})
        shape = F.try_element_at(own, place)
        written = F.coalesce(F.when(shape.isNotNull(), F.regexp_substr(text, shape)), written)

    def parts(code: Column) -> Column:
        def city_of(x: Column) -> Column:
            up = F.upper(fold_text(x))
            bare = F.when(code.isNull(), up).otherwise(F.replace(up, code, F.lit("")))
            return F.when(~_is_region(clean_name(x), conf), F.lower(F.trim(bare)))

        cities = F.filter(
            F.transform(rest, city_of),
            lambda x: (F.length(x) > 0) & ~x.rlike(r"^[0-9 -]+$"),
        )
        return F.struct(
            _blank_to_null(line1).alias("line1"),
            F.get(cities, 0).alias("city"),
            _blank_to_null(F.regexp_replace(code, r"[\s〒]+", "")).alias("postcode"),
            place.alias("country"),
        )

    return _let(written, parts)


def split_address(
    text: Column, country: Column | None = None, conf: NormaliseConf | None = None
) -> tuple[Column, Column]:
    """Free-text address -> (line1, postcode): `address_parts` without the city and country.
    `country` (ISO alpha-2) picks its postcode shape; without it, or when the text names a
    country, the text's own is used, else every shape is tried."""
    line1, _, postcode, _ = address_parts(text, country, conf)
    return line1, postcode


def hmac_key_bytes(key: str) -> tuple[bytes, bytes]:
    k = key.encode("utf-8")
    if len(k) > 64:
        k = hashlib.sha256(k).digest()
    k = k.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)


def keyed_hash(col: Column, key: str) -> Column:
    """HMAC-SHA-256 of the UTF-8 value, truncated to its first 64 bits as a signed BIGINT.

    Keyed, so the index holds no reversible PII; 64 bits keep joins fast (collision odds
    ~1e-7 at 10^7 keys per field)."""
    ipad, opad = hmac_key_bytes(key)
    inner = F.unhex(F.sha2(F.concat(F.unhex(F.lit(ipad.hex())), F.encode(col, "UTF-8")), 256))
    mac = F.sha2(F.concat(F.unhex(F.lit(opad.hex())), inner), 256)
    return F.conv(F.substring(mac, 1, 16), 16, -10).cast("bigint")  # null in, null out
