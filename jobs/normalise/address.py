"""Address keys (house number, street, postcode), postcodes and cities, and free-text addresses
split into street line, city, postcode and country."""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.normalise.common import alternation, blank_to_null, default_conf, let, lit_map
from jobs.normalise.country import normalise_country
from jobs.normalise.street import (
    HOUSE_MARKERS,
    HOUSE_NUMBER_TOKEN_RE,
    HOUSE_PARTS,
    HOUSE_SUFFIXES,
    WORD_RE,
    abbreviation_plan,
    fold_street,
)
from jobs.normalise.text import clean_name, fold_name, fold_text
from jobs.settings import NormaliseConf


def normalise_postcode(col: Column) -> Column:
    """One form for every way a postcode is written: letters and digits only, upper case, full
    width folded ("SW1A 1AA", "sw1a1aa"; "1234 ab"; "〒１２３－４５６７" -> "1234567"; "12-345" ->
    "12345"). A country prefix before a dash is dropped ("D-10115", "NL-1234 AB"), and nine
    digits (a US ZIP+4, "12345-6789") keep their first five: one side often stores the ZIP
    alone, and no other country's postcodes have nine digits."""
    pc = F.regexp_replace(
        F.upper(fold_text(col)), r"^\s*[A-Z]{1,3}\s*-\s*(?=[0-9])|[^\p{L}\p{N}]", ""
    )
    return blank_to_null(F.regexp_replace(pc, r"^([0-9]{5})[0-9]{4}$", "$1"))


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


def normalise_city(col: Column, conf: NormaliseConf | None = None) -> Column:
    """A city folded as names are (`clean_name`), without the administrative word before or
    after it (`city_prefixes`): "г. Москва", "Москва г.", "город Москва" -> "москва";
    "п. Шатура" -> "шатура"; "City of London" -> "london"; "Comune di Roma" -> "roma".
    A city that is nothing but such a word is kept as it is."""
    conf = conf or default_conf()
    c = clean_name(col)
    if not conf.city_prefixes:
        return blank_to_null(c)
    words = alternation(conf.city_prefixes)
    bare = F.regexp_replace(c, rf"^(?:{words}) (?=\S)|(?<=\S) (?:{words})$", "")
    return blank_to_null(F.when(F.length(bare) > 0, bare).otherwise(c))


_BOUNDED = r"(?<![\p{{L}}\p{{N}}])(?:{})(?![\p{{L}}\p{{N}}])"


def _country_names(conf: NormaliseConf) -> dict[str, str]:
    """conf/countries.yaml's codes and names, folded as `clean_name` folds text."""
    names = {}
    for iso, aliases in conf.countries.names:
        for name in (iso, *aliases):
            names.setdefault(fold_name(name), iso)
    return names


def address_parts(
    text: Column, country: Column | None = None, conf: NormaliseConf | None = None
) -> tuple[Column, Column, Column, Column]:
    """Free-text address -> (line1, city, postcode, country): the layouts sellers write, with
    segments separated by commas (or semicolons, new lines):

    - the last segment is the country when it names one (`countries`: English or local name,
      ISO alpha-2 or alpha-3 code), and is then part of nothing else;
    - a segment that is only a flat number ("Flat 3", "кв. 12": `flat_words`) is dropped: the
      warehouse keeps it out of the street line;
    - the street line is the first segment that is not a city with an administrative word
      (`г. Москва`, `с. Ивановка`), a region (`Московская обл.`) or the last bare number of
      four digits or more (the postcode), followed by the segments right after it that hold
      only a house number or building part (`ул. Ленина, д. 5, корп. 2`; `Calle Mayor, 7`).
      A number alone before it is its house number when a place follows (`12, rue de la
      Paix, 75002 Paris`); with only a postcode after, it is the whole street line and the
      next segment the town (`124, wantirna, 3046`);
    - the postcode is searched in the other segments, by the shape of the country named in
      the text, else of `country` (an ISO alpha-2 column; `postcodes`), else by every shape,
      most specific first (`postcode_any`); of several matches the last (`1304, berwick,
      2228`): `2235 NT` keeps its letters, `Москва 2` gives no postcode. Returned as
      written, spaces removed (`normalise_postcode` canonicalises it);
    - the city is the first other segment that is not a region, the postcode taken out, folded
      to lower case (`normalise_city` canonicalises it);
    - the country is the one the text names, else `country`.

    Text with a single segment is all street line. Sample side only: the steps are bound to
    lambda variables (`let`), which Spark evaluates without generated code."""
    parts = address_struct(text, country, conf)
    return parts["line1"], parts["city"], parts["postcode"], parts["country"]


def address_struct(
    text: Column, country: Column | None = None, conf: NormaliseConf | None = None
) -> Column:
    """`address_parts` as one struct<line1, city, postcode, country>: projected on its own and
    read field by field in the next projection, the parsing runs once per line, not once
    per part."""
    conf = conf or default_conf()
    flat = _flat_segment(conf)
    segments = F.filter(
        F.transform(F.split(text, r"[,;\n]"), lambda x: F.trim(x)),
        lambda x: (F.length(x) > 0) & ~F.coalesce(clean_name(x).rlike(flat), F.lit(False)),
    )
    given = normalise_country(country) if country is not None else F.lit(None).cast("string")
    return let(segments, lambda segs: _address_parts(segs, given, conf))


def _flat_segment(conf: NormaliseConf) -> str:
    """Regex of a cleaned segment that is only a flat number ("flat 3", "кв 12", "apt 4b",
    "502号室"): dropped before the street and the town are sought, as the warehouse keeps it
    out of the street line (line2)."""
    forms = []
    if conf.flat_words:
        forms.append(rf"(?:{alternation(conf.flat_words)}) ?[0-9]+ ?\p{{L}}?")
    if conf.flat_suffixes:
        forms.append(rf"[0-9]+ ?(?:{alternation(conf.flat_suffixes)})")
    return rf"^(?:{'|'.join(forms)})$" if forms else "^$"


def _address_parts(segments: Column, given: Column, conf: NormaliseConf) -> Column:
    """`address_parts` of the non-empty comma segments, as a struct."""
    names = lit_map(_country_names(conf))
    named = F.try_element_at(names, clean_name(F.try_element_at(segments, F.lit(-1))))
    text_country = F.when(F.size(segments) > 1, named)
    body = F.when(text_country.isNotNull(), F.slice(segments, 1, F.size(segments) - 1))
    first = F.struct(
        body.otherwise(segments).alias("body"), F.coalesce(text_country, given).alias("place")
    )
    return let(first, lambda b: _street_at(b["body"], b["place"], conf))


def _street_at(body: Column, place: Column, conf: NormaliseConf) -> Column:
    """Each segment cleaned and classified once (bare number, house number, town or region
    word), bound to a lambda variable, then the street picked from those flags."""
    prefixes = alternation(conf.city_prefixes) if conf.city_prefixes else None
    house = _house_segment(conf.abbreviations)

    def kind(c: Column) -> Column:
        city = c.rlike(rf"^(?:{prefixes}) \p{{L}}") if prefixes else F.lit(False)
        return F.struct(
            c.rlike(r"^[0-9][0-9 ]{3,}$").alias("bare"),
            F.coalesce(c.rlike(house), F.lit(False)).alias("house"),
            (city | _is_region(c, conf)).alias("named"),
        )

    kinds = F.transform(F.transform(body, clean_name), kind)
    return let(kinds, lambda k: _street_of(body, k, place, conf))


def _street_of(body: Column, kinds: Column, place: Column, conf: NormaliseConf) -> Column:
    # Only the last bare number is the postcode: one before it is a house number
    # ("1304, berwick, 2228").
    last_bare = F.array_max(F.transform(kinds, lambda k, i: F.when(k["bare"], i)))
    flags = F.transform(kinds, lambda k, i: F.coalesce(i == last_bare, F.lit(False)) | k["named"])
    first = F.array_position(flags, False)
    at = F.when(first > 0, first - 1).otherwise(F.lit(0))  # 0-based index of the street
    return let(at, lambda i: _number_lead(body, kinds, flags, place, i, conf))


def _number_lead(
    body: Column, kinds: Column, flags: Column, place: Column, at: Column, conf: NormaliseConf
) -> Column:
    """A segment holding only a house number (or a bare number that is not the postcode),
    before the street, is the street's number when a place follows the street ("12, rue de
    la paix, 75002 paris"); with only a postcode after it, the next segment is rather the
    town and the number the whole street line ("124, wantirna, 3046": no street name)."""
    shapes = "|".join(conf.postcode_any) or "[0-9]{4,9}"
    only_code = rf"^(?:[A-Z]{{1,3}} )?(?:{shapes})$"  # "NW1 6XF", "3046", "IL 62704"

    def not_code(x: Column) -> Column:
        return ~F.upper(fold_text(F.trim(x))).rlike(only_code)

    placed = F.exists(F.slice(body, at + 3, F.size(body)), not_code)
    here = F.get(kinds, at)
    lead = (
        F.coalesce(here["house"] | here["bare"], F.lit(False))
        & ~F.coalesce(F.get(flags, at + 1), F.lit(True))
        & placed
    )
    street = F.when(lead, at + 1).otherwise(at)
    return let(street, lambda s: _street_line(body, kinds["house"], place, at, s, conf))


def _is_region(clean: Column, conf: NormaliseConf) -> Column:
    if not conf.region_words:
        return F.lit(False)
    return clean.rlike(rf"(?:^| )(?:{alternation(conf.region_words)})(?: |$)")


def _house_segment(abbreviations: Mapping[str, str]) -> str:
    """Regex of a cleaned segment that holds only a house number or building part, written
    any way the abbreviation rules fold to the house-number words ("д. 5", "No: 12", "7",
    "12-14", "корп. 2", "5 bis"). A bare number of four digits or more is rather a
    postcode."""
    words, _ = abbreviation_plan(tuple(abbreviations.items()))
    folded = dict(words)

    def spelt(canonical: tuple[str, ...]) -> str:
        written = {w for w, v in folded.items() if v in canonical} | set(canonical)
        return alternation(tuple(w for w in written if WORD_RE.fullmatch(w)))

    def number(digits: str) -> str:
        suffix = "|".join(HOUSE_SUFFIXES)
        return rf"[0-9]{digits}(?: ?(?:{suffix}|\p{{L}}))?(?: [0-9]{digits}\p{{L}}?)?"

    part = rf"(?:{spelt(HOUSE_PARTS)}) ?[0-9]+"
    markers = spelt(HOUSE_MARKERS)
    return rf"^(?:(?:{markers}) {number('{1,5}')}|{number('{1,3}')})(?: ?{part})*$|^{part}$"


def _street_line(
    body: Column, houses: Column, place: Column, start: Column, at: Column, conf: NormaliseConf
) -> Column:
    """The street line: segments `start` (a leading house number) to `at` (the street), and
    the house-number or building-part segments right after it (`houses`: per segment,
    whether it is one); the rest for the place."""
    after1, after2 = F.get(body, at + 1), F.get(body, at + 2)
    more1 = F.coalesce(F.get(houses, at + 1), F.lit(False))
    more2 = more1 & F.coalesce(F.get(houses, at + 2), F.lit(False))
    lead = F.when(start < at, F.get(body, start))
    street = F.concat_ws(" ", lead, F.get(body, at))
    line1 = F.concat_ws(", ", street, F.when(more1, after1), F.when(more2, after2))
    last = at + F.when(more2, 2).when(more1, 1).otherwise(0)
    rest = F.filter(body, lambda x, i: (i < start) | (i > last))
    parts = F.struct(line1.alias("line1"), rest.alias("rest"))
    return let(parts, lambda s: _postcode_and_city(s["line1"], s["rest"], place, conf))


def _postcode_and_city(line1: Column, rest: Column, place: Column, conf: NormaliseConf) -> Column:
    text = F.upper(fold_text(F.array_join(rest, " , ")))
    return let(text, lambda t: _postcode_in(t, line1, rest, place, conf))


def _postcode_in(
    text: Column, line1: Column, rest: Column, place: Column, conf: NormaliseConf
) -> Column:
    shapes = [_last_match(text, F.lit(_BOUNDED.format(p))) for p in conf.postcode_any]
    written = F.coalesce(*shapes) if shapes else F.lit(None).cast("string")
    if conf.postcodes:
        own = lit_map({k: _BOUNDED.format(v) for k, v in conf.postcodes.items()})
        shape = F.try_element_at(own, place)
        written = F.coalesce(F.when(shape.isNotNull(), _last_match(text, shape)), written)

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
            blank_to_null(line1).alias("line1"),
            F.get(cities, 0).alias("city"),
            blank_to_null(F.regexp_replace(code, r"[\s〒]+", "")).alias("postcode"),
            place.alias("country"),
        )

    return let(written, parts)


def _last_match(text: Column, pattern: Column) -> Column:
    """The last match: a postcode ends the place ("1304, berwick, 2228"; a house number of
    the postcode's shape comes first)."""
    return F.try_element_at(F.regexp_extract_all(text, pattern, F.lit(0)), F.lit(-1))


def split_address(
    text: Column, country: Column | None = None, conf: NormaliseConf | None = None
) -> tuple[Column, Column]:
    """Free-text address -> (line1, postcode): `address_parts` without the city and country.
    `country` (ISO alpha-2) picks its postcode shape; without it, or when the text names a
    country, the text's own is used, else every shape is tried."""
    line1, _, postcode, _ = address_parts(text, country, conf)
    return line1, postcode
