"""Value rows: one per value, its payload, signature and blocks (an array) side by side.

One builder per field, each a short chain of flat projections: per-value work (cleaning,
transliteration, gram hashes) runs once per distinct value, and the value's blocks, (rule,
block key, refine keys) per token and rule, are one array beside its payload, built in
generated code (`blocks.name_blocks`). The index stores each payload once; the sample side
expands the array into one row per block (`index.fuzzy_sample_rows`). On the index side the
rows start from `keys.index_values`, the values the exact index is made from: distinct per
customer (an order's ship-to name or address usually repeats the customer's own) and cleaned
once, the roles they came from kept as a bitmask (`sources`). On the sample side, from
`keys.cleaned` of each line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.match.birth import FIELD as BIRTH
from jobs.match.birth import birth_payload
from jobs.match.fuzzy.blocks import block_entry, name_blocks, per_token, places
from jobs.match.fuzzy.hashes import block_hash, gram_hash, refine_hash
from jobs.match.fuzzy.payloads import (
    ARROW_GRAMS,
    name_token_sets,
    signature,
    street_gram_set,
    unigram_set,
)
from jobs.match.fuzzy.schema import BLOCKS_TYPE, SIGNATURE_TYPE
from jobs.match.fuzzy.translit import skeleton, transliterate
from jobs.match.secrets import with_hash_key
from jobs.normalise import CJK_ONLY_RE, HOUSE_NUMBER_TOKEN_RE
from jobs.settings import BlockRule, MatchingConf


def _output(df: DataFrame, ids: list[str]) -> DataFrame:
    """The value rows with the final columns, those without a block dropped; on the index
    side the roles a value came from stay one bitmask, `sources` (`keys.SOURCES` order): a
    name the customer and its orders share is one row, not one per role. Evidence rows get
    their `source` back after scoring (`fuzzy_candidates`), from the few pairs that match.

    Rows without a block are dropped by a generator, not a filter: a filter would be pushed
    below the projections (computing every block key twice) and below
    `keys.field_values`'s de-duplication (cleaning every raw value twice, see
    explode_sources). The generator's input is an expression, not a column: on a column
    Spark infers the filter `size(column) > 0` itself and pushes it down all the same."""
    out = [F.col(c).alias("sources") if c == "_sources" else F.col(c) for c in ids]
    rows = df.select(*out, "field", "blocks", "payload", "sig")
    row = F.struct(*[F.col(c) for c in rows.columns])
    return rows.select(F.inline(F.when(F.size(F.col("blocks")) > 0, F.array(row))))


def _arrow_input(df: DataFrame, hash_key: str) -> DataFrame:
    """The input of a select with Arrow gram UDFs, which need no key columns: a Python UDF's
    input rows are copied, key tables included. Without Arrow UDFs the native forms run
    there, and read the key."""
    return df if ARROW_GRAMS else with_hash_key(df, hash_key)


def _name_payloads(values: DataFrame, ids: list[str], hash_key: str) -> DataFrame:
    """`keys.cleaned` names -> per name value (the name and, where kept, its romanised form)
    its tokens, payload and signature: (ids, country, _tokens, payload, sig)."""
    both = F.array(F.coalesce(F.col("name_c"), F.lit("")), F.coalesce(F.col("latin_c"), F.lit("")))
    values = values.select(
        *ids, "country", F.explode(F.array_remove(F.array_distinct(both), "")).alias("_value")
    )
    latin = values.select(
        *ids, "country", "_value", skeleton(transliterate(F.col("_value"))).alias("_latin")
    )
    tokens = latin.select(
        *ids,
        "country",
        "_value",
        F.array_remove(F.split(F.col("_latin"), " "), "").alias("_tokens"),
    )
    sets = _arrow_input(tokens, hash_key).select(
        *ids,
        "country",
        "_value",
        "_tokens",
        name_token_sets(F.col("_tokens"), "n2", hash_key).alias("_sets"),
    )
    cjk = F.when(F.col("_value").rlike(CJK_ONLY_RE), unigram_set(F.col("_value"), "n1"))
    hashed = with_hash_key(sets, hash_key).select(
        *ids, "country", "_tokens", cjk.alias("_cjk"), "_sets"
    )
    payload = F.when(F.col("_cjk").isNotNull(), F.array(F.col("_cjk"))).otherwise(F.col("_sets"))
    # The signature in a projection of its own, over the payload column: an Arrow UDF over
    # the payload expression would be handed the other UDF's output inlined.
    valued = hashed.select(*ids, "country", "_tokens", payload.alias("payload"))
    return valued.select(
        *ids, "country", "_tokens", "payload", signature(F.col("payload")).alias("sig")
    )


def _name_rows(
    values: DataFrame,
    ids: list[str],
    rules: Sequence[BlockRule],
    countries: Sequence[str] | None,
    hash_key: str,
) -> DataFrame:
    """`keys.cleaned` names -> per name value, per distinct token that has a code, per rule,
    per place: one block, refined by the initials of the value's other tokens."""
    signed = with_hash_key(_name_payloads(values, ids, hash_key), hash_key)
    # Per distinct token: its rules' codes on the flat token, refined by the initials of the
    # value's other tokens (positions cut out with slices).
    distinct = F.array_distinct(F.col("_tokens"))
    inits = F.transform(distinct, lambda t: refine_hash("name", F.substring(t, 1, 1)))
    # Tokens and initials as columns: the blocks expression reads each of them many times.
    per_value = [*ids, "payload", "sig", distinct.alias("_distinct"), inits.alias("_inits")]
    if countries is None or not any(r.per_country for r in rules):
        place = F.coalesce(F.col("country"), F.lit("")) if countries is None else F.lit("")
        placed = signed.select(*per_value, place.alias("_place"), F.lit(True).alias("_first_place"))
    else:
        exploded = signed.select(
            *per_value, F.posexplode(places(countries)).alias("_place_pos", "_place")
        )
        placed = exploded.withColumn("_first_place", F.col("_place_pos") == 0)
    blocks = name_blocks(rules, F.col("_distinct"), F.col("_inits"))
    rows = with_hash_key(placed, hash_key).select(
        *ids, F.lit("name").alias("field"), blocks.alias("blocks"), "payload", "sig"
    )
    return _output(rows, ids)


_POSITIONS = "abcdefghijklmnopqrstuvwxyz"


def _postcode_set(postcode: Column) -> Column:
    """A postcode's characters, each hashed with its position (blanks dropped): one changed
    character keeps n-1 of n, so Dice tells a retyped digit from another postcode."""
    chars = F.split(F.regexp_replace(F.coalesce(postcode, F.lit("")), " ", ""), "")
    chars = F.filter(F.slice(chars, 1, len(_POSITIONS)), lambda c: c != "")
    return F.array_sort(
        F.transform(
            chars,
            lambda c, i: gram_hash(F.concat(F.substr(F.lit(_POSITIONS), i + 1, F.lit(1)), c), "a3"),
        )
    )


def _number_set(number: Column) -> Column:
    """The house number's hash as a set of one; empty without a number."""
    return F.when(number != "", F.array(gram_hash(number, "a4"))).otherwise(
        F.array().cast("array<int>")
    )


def _address_parts(values: DataFrame, ids: list[str]) -> DataFrame:
    """(ids, _postcode, _city tokens, _number, _code: postcode|number, _rest: the street's
    tokens but the house number)."""
    numbered = values.select(
        *ids,
        F.col("postcode").alias("_postcode"),
        F.array_remove(F.split(F.coalesce(F.col("city"), F.lit("")), " "), "").alias("_city"),
        F.col("street").alias("_street"),
        F.regexp_extract(F.col("street"), HOUSE_NUMBER_TOKEN_RE, 1).alias("_number"),
    )
    # fold_street leaves single spaces, so the only empty token is that of an empty street;
    # every token equal to the house number ("" when there is none) is dropped.
    return numbered.select(
        *ids,
        "_postcode",
        "_city",
        "_number",
        F.concat_ws("|", F.col("_postcode"), F.col("_number")).alias("_code"),
        F.array_remove(F.split(F.col("_street"), " "), F.col("_number")).alias("_rest"),
    )


def _address_rows(
    values: DataFrame, ids: list[str], rules: Sequence[BlockRule], hash_key: str
) -> DataFrame:
    """`keys.cleaned` addresses -> postcode + house number as the block; refined by the
    street tokens' initials. The payload: the street line (number removed) as one gram set,
    token order ignored (what the block's `dice` compares), then the postcode's positional
    characters, the house number and the city's grams (what record linkage compares part
    by part)."""
    rest = _address_parts(values, ids)
    grams = _arrow_input(rest, hash_key).select(
        *ids,
        "_postcode",
        "_number",
        "_code",
        "_rest",
        "_city",
        street_gram_set(F.col("_rest"), "a2", hash_key).alias("_street_set"),
        street_gram_set(F.col("_city"), "a5", hash_key).alias("_city_set"),
    )
    hashed = with_hash_key(grams, hash_key).select(
        *ids,
        "_code",
        "_number",
        "_rest",
        "_city",
        # a postcode with a street or a house number: "16, bacchus marsh, 6019" still has
        # parts to compare (the block's Dice then finds no street, so no fuzzy evidence)
        (
            F.col("_postcode").isNotNull()
            & ((F.size(F.col("_rest")) > 0) | (F.col("_number") != ""))
        ).alias("_usable"),
        F.array_distinct(
            F.transform(F.col("_rest"), lambda t: refine_hash("address", F.substring(t, 1, 1)))
        ).alias("_initials"),
        F.array(
            F.col("_street_set"),
            _postcode_set(F.col("_postcode")),
            _number_set(F.col("_number")),
            F.col("_city_set"),
        ).alias("payload"),
    )
    # The signature in a projection of its own: once per value.
    signed = hashed.select(
        *ids,
        "_code",
        "_number",
        "_rest",
        "_city",
        "_usable",
        "_initials",
        "payload",
        signature(F.col("payload")).alias("sig"),
    )
    blocks = F.concat(*[_address_blocks(r) for r in rules])
    rows = with_hash_key(signed, hash_key).select(
        *ids, F.lit("address").alias("field"), blocks.alias("blocks"), "payload", "sig"
    )
    return _output(rows, ids)


def _address_blocks(rule: BlockRule) -> Column:
    """An address's blocks under `rule`: postcode + house number, once; or, per street token
    of at least `rule.length` characters (not a number), its first `rule.length` characters
    with the house number or with as many of the city's first letters, so a retyped postcode
    or house number still meets."""
    initials = F.col("_initials")
    if rule.key == "postcode_number":
        return block_entry(rule, block_hash(rule.name, F.col("_code")), initials, F.col("_usable"))
    town = F.substring(F.try_element_at(F.col("_city"), F.lit(1)), 1, rule.length)
    other = F.col("_number") if rule.key == "street_number" else F.coalesce(town, F.lit(""))

    def entries(tok: Column, _: Column | int) -> Column:
        keep = (F.length(tok) >= rule.length) & ~tok.rlike("^[0-9]") & (other != "")
        key = block_hash(rule.name, F.substring(tok, 1, rule.length), other)
        return block_entry(rule, key, initials, keep)

    return per_token(F.array_distinct(F.col("_rest")), entries)


def _value_payload(value: Column, tag: str) -> Column:
    """[[hash of the whole value]] or [[]]: lets `differs` tell another value from the same."""
    return F.array(F.array_compact(F.array(gram_hash(value, tag))))


def _weak_rows(
    values: DataFrame,
    ids: list[str],
    rules: Sequence[BlockRule],
    hash_key: str,
    part: Callable[[BlockRule], tuple[Column, Column]],
    value: str,
    tag: str,
) -> DataFrame:
    """Weak-level rows: blocked on a part of the value (`part(rule)` -> (block, usable)),
    the payload the whole value."""
    entries = []
    for rule in rules:
        block, usable = part(rule)
        entries.append(block_entry(rule, block_hash(rule.name, block), None, usable))
    rows = with_hash_key(values, hash_key).select(
        *ids,
        F.lit(rules[0].field).alias("field"),
        F.concat(*entries).alias("blocks"),
        _value_payload(F.col(value), tag).alias("payload"),
        F.lit(None).cast(SIGNATURE_TYPE).alias("sig"),  # `differs` needs no bound
    )
    return _output(rows, ids)


def _email_rows(
    values: DataFrame, ids: list[str], rules: Sequence[BlockRule], hash_key: str
) -> DataFrame:
    """`keys.cleaned` e-mails -> blocked on the local part with dots and +tags dropped, so
    the same mailbox name at another domain meets."""
    local = values.select(
        *ids,
        F.col("value").alias("_email_n"),
        F.replace(
            F.substring_index(F.substring_index(F.col("value"), "@", 1), "+", 1),
            F.lit("."),
            F.lit(""),
        ).alias("_local"),
    )

    def part(rule: BlockRule) -> tuple[Column, Column]:
        return F.col("_local"), F.length(F.col("_local")) >= rule.min_length

    return _weak_rows(local, ids, rules, hash_key, part, "_email_n", "e")


def _phone_rows(
    values: DataFrame, ids: list[str], rules: Sequence[BlockRule], hash_key: str
) -> DataFrame:
    """`keys.cleaned` phones -> blocked on the last `digits` digits: the national number
    whatever the country code says."""
    keyed = values.select(
        *ids,
        F.translate(F.col("phone_c"), "+", "").alias("_digits"),  # clean_phone: digits and "+"
        F.col("value").alias("_phone_n"),
    )

    def part(rule: BlockRule) -> tuple[Column, Column]:
        digits = F.col("_digits")
        tail = F.substring(digits, -rule.digits, rule.digits)
        return tail, F.length(digits) >= rule.digits

    return _weak_rows(keyed, ids, rules, hash_key, part, "_phone_n", "p")


def _birth_rows(
    values: DataFrame, ids: list[str], rules: Sequence[BlockRule], hash_key: str
) -> DataFrame:
    """`keys.cleaned` dates of birth -> one row per date, blocked on the date with each
    initial of the name beside it (a retyped or replaced surname still meets through the
    first name's initial). Rows without a block are kept: record linkage reads the payload of
    every candidate customer's date, whichever field made the pair."""
    names = F.concat_ws(" ", F.col("name_c"), F.col("latin_c"))
    latin = values.select(*ids, "value", skeleton(transliterate(names)).alias("_latin"))
    tokens = F.array_remove(F.split(F.col("_latin"), " "), "")
    inits = F.array_distinct(F.transform(tokens, lambda t: F.substring(t, 1, 1)))

    def entries(initial: Column, _: Column | int) -> Column:
        return F.concat(
            *[
                block_entry(rule, block_hash(rule.name, F.col("value"), initial), None,
                            initial.isNotNull())
                for rule in rules
            ]
        )  # fmt: skip

    blocks = per_token(inits, entries) if rules else F.array().cast(BLOCKS_TYPE)
    return with_hash_key(latin.filter(F.col("value").isNotNull()), hash_key).select(
        *[F.col(c).alias("sources") if c == "_sources" else F.col(c) for c in ids],
        F.lit(BIRTH).alias("field"),
        blocks.alias("blocks"),
        birth_payload(F.col("value")).alias("payload"),
        F.lit(None).cast(SIGNATURE_TYPE).alias("sig"),
    )


def value_rows(
    values: Mapping[str, DataFrame],
    ids: list[str],
    hash_key: str,
    matching: MatchingConf,
    countries: Sequence[str] | None,
) -> DataFrame | None:
    """`keys.cleaned` values per field -> one row per value with its blocks under every
    rule (ids, field, blocks, payload, sig); None without rules. `countries`: the sample
    side's known countries (`blocks.places`); None on the index side."""
    out = []
    if rules := matching.for_field("name"):
        out.append(_name_rows(values["name"], ids, rules, countries, hash_key))
    builders = {"address": _address_rows, "email": _email_rows, "phone": _phone_rows}
    for field, build in builders.items():
        if rules := matching.for_field(field):
            out.append(build(values[field], ids, rules, hash_key))
    if BIRTH in values and (matching.for_field(BIRTH) or BIRTH in matching.linkage.levels):
        out.append(_birth_rows(values[BIRTH], ids, matching.for_field(BIRTH), hash_key))
    if not out:
        return None
    rows = out[0]
    for more in out[1:]:
        rows = rows.unionByName(more)
    return rows
