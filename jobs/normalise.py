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
from collections.abc import Mapping
from functools import lru_cache, reduce

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.config import NormaliseConf

EMAIL_RE = (
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"
)
HOUSE_NUMBER_RE = r"^[0-9]+[a-z]?$"
HOUSE_NUMBER_TOKEN_RE = r"(?:^| )([0-9]+[a-z]?)(?= |$)"  # the same, as a token of a street
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
    """Digits, with a leading `+` kept; extensions and the `(0)` trunk hint removed."""
    raw = F.trim(F.when(is_ascii(col), col).otherwise(F.translate(col, *_fold_table())))
    raw = F.regexp_replace(raw, r"(?i)\s*(ext\.?|x|#)\s*[0-9]+$", "")
    raw = F.regexp_replace(raw, r"\(0\)", "")
    return F.regexp_replace(raw, r"(?!^\+)[^0-9]", "")


def phone_e164(clean: Column, country: Column, conf: NormaliseConf) -> Column:
    """E.164 (`+<country code><national number>`) from a cleaned number, using the record's
    country for numbers written in national form. Null when no country can be told or the
    length is impossible for E.164."""
    digits = F.translate(clean, "+", "")  # clean_phone leaves digits and a leading "+" only
    pairs = conf.phone_countries.items()
    codes = F.create_map(*[F.lit(x) for k, (cc, _) in pairs for x in (k, cc)])
    trunks = F.create_map(*[F.lit(x) for k, (_, tp) in pairs for x in (k, tp)])
    cc = F.try_element_at(codes, country)
    trunk = F.coalesce(F.try_element_at(trunks, country), F.lit(""))
    has_trunk = (F.length(trunk) > 0) & digits.startswith(trunk)
    national = F.when(has_trunk, F.substring(digits, F.length(trunk) + 1, 99)).otherwise(digits)
    e164 = (
        F.when(clean.startswith("+"), digits)
        .when(digits.startswith("00"), F.substring(digits, 3, 99))
        .when(cc.isNull(), F.lit(None))
        .when(
            digits.startswith(cc) & (F.length(digits) >= F.length(cc) + 9) & ~has_trunk,
            digits,
        )
        .otherwise(F.concat(cc, national))
    )
    return F.when(F.length(e164).between(8, 15), F.concat(F.lit("+"), e164))


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
    return _blank_to_null(F.regexp_replace(F.upper(fold_text(col)), r"[^\p{L}\p{N}]", ""))


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
        words = [a for a in alternatives if WORD_RE.fullmatch(a)]
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
    """`clean_name` turns punctuation, symbols and blanks into spaces between words: a
    literal holding one never occurs inside a cleaned word."""
    return not any(unicodedata.category(c)[0] in "PSZ" or c.isspace() for c in literal)


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


def fold_street(col: Column, abbreviations: Mapping[str, str]) -> Column:
    """Street line folded: punctuation to spaces, abbreviations per language to one form.

    The regexp rules run only on streets that hold one of their literals (`regexp_guard`):
    a rule cannot match without one, so neither can the rules after it. The street is
    referenced three times; Spark evaluates that common expression once per row."""
    s = clean_name(col)
    words, regexps = abbreviation_plan(tuple(abbreviations.items()))
    regexps, literals = regexp_guard(regexps)
    if words:
        table = F.create_map(*[F.lit(x) for kv in words for x in kv])
        tokens = F.transform(F.split(s, " "), lambda t: F.coalesce(F.try_element_at(table, t), t))
        s = F.array_join(tokens, " ")
    folded = s
    for pattern, repl in regexps:
        folded = F.regexp_replace(folded, rf"(?<=^| )(?:{pattern})(?= |$)", repl)
    if not regexps or literals is None:
        return folded
    found = reduce(operator.or_, [s.contains(x) for x in literals])
    return F.when(found, folded).otherwise(s)


def address_key(street: Column, postcode: Column) -> Column:
    """Key = house number | street | postcode from a folded street and a normalised postcode;
    null without a street or a postcode. The house number is the first token that looks like
    one (`12`, `12a`); every token equal to it is dropped from the street part."""
    number = F.regexp_extract(street, HOUSE_NUMBER_TOKEN_RE, 1)  # "" when there is none
    rest = F.array_join(F.array_remove(F.split(street, " "), number), " ")
    key = F.concat_ws("|", number, rest, postcode)
    return F.when((F.length(rest) > 0) & postcode.isNotNull(), key)


def normalise_address(line1: Column, postcode: Column, conf: NormaliseConf) -> Column:
    return address_key(fold_street(line1, conf.abbreviations), normalise_postcode(postcode))


def split_address(text: Column) -> tuple[Column, Column]:
    """Free-text address -> (line1, postcode): the first comma segment is the street line;
    tokens of the remaining segments that contain a digit form the postcode."""
    line1 = F.trim(F.substring_index(text, ",", 1))
    rest = F.regexp_replace(text, r"^[^,]*,?", "")
    rest_tokens = F.split(F.trim(F.regexp_replace(rest, r"[,;\s]+", " ")), " ")
    postcode = F.array_join(F.filter(rest_tokens, lambda x: x.rlike("[0-9]")), "")
    return line1, _blank_to_null(postcode)


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
