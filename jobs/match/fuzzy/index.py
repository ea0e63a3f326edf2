"""The fuzzy index (one row per warehouse value) and the sample's fuzzy rows (one per block).

The index keeps a value's payload once with all its blocks, since a name meets its blocks
through each token and rule; the sample side is small, so its rows are expanded per block
when they are made, and the index's when it is read (`index_blocks`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.match.birth import FIELD as BIRTH
from jobs.match.fuzzy.rows import value_rows
from jobs.match.fuzzy.schema import BLOCKS_TYPE, INDEX_COLUMNS, PAYLOAD_TYPE, SIGNATURE_TYPE
from jobs.match.keys import cleaned, index_values
from jobs.match.sample_lines import sample_parts
from jobs.settings import FIELDS, MatchingConf, NormaliseConf, load_matching


def fuzzy_index(
    values: Sequence[DataFrame],
    conf: NormaliseConf,
    hash_key: str,
    matching: MatchingConf | None = None,
) -> DataFrame:
    """`role_values` of every role -> the fuzzy index (field, customer_id, sources, blocks,
    payload, sig): hashes only, one row per value. Write it partitioned by field.
    `matching` defaults to conf/matching.yaml."""
    return fuzzy_index_of(index_values(values, conf), hash_key, matching)


def fuzzy_index_of(
    values: Mapping[str, DataFrame], hash_key: str, matching: MatchingConf | None = None
) -> DataFrame:
    """`keys.index_values` -> the fuzzy index: the exact index (`keys.keys_of`) is made from
    the same cleaned values, so a build that persists them cleans each value once."""
    matching = matching or load_matching()
    rows = value_rows(values, ["customer_id", "_sources"], hash_key, matching, None)
    if rows is None:
        schema = (
            f"field string, customer_id string, sources int, blocks {BLOCKS_TYPE}, "
            f"payload {PAYLOAD_TYPE}, sig {SIGNATURE_TYPE}"
        )
        return next(iter(values.values())).sparkSession.createDataFrame([], schema)
    return rows.select(*INDEX_COLUMNS)


def fuzzy_sample_rows(
    parsed: DataFrame,
    conf: NormaliseConf,
    hash_key: str,
    default_country: str | None = None,
    matching: MatchingConf | None = None,
) -> DataFrame:
    """sample_raw rows -> `fuzzy_rows_of_parts` of their `sample_lines.sample_parts`."""
    parts = sample_parts(parsed, conf, default_country)
    return fuzzy_rows_of_parts(parts, conf, hash_key, matching)


def fuzzy_rows_of_parts(
    parts: DataFrame,
    conf: NormaliseConf,
    hash_key: str,
    matching: MatchingConf | None = None,
) -> DataFrame:
    """`sample_lines.sample_parts` -> (run_id, line_number, field, rule, block_key, refine_keys,
    payload, sig).

    Lines without a country (and no default) meet name blocks of every country known to
    `phone_countries`, since their names cannot be placed. `matching` defaults to
    conf/matching.yaml."""
    matching = matching or load_matching()
    ids = ["run_id", "line_number"]
    lines = parts.withColumn("name_latin", F.lit(None).cast("string"))
    countries = sorted(conf.phone_countries)
    dated = matching.for_field(BIRTH) and BIRTH in parts.columns  # blocked on the date too
    fields = [*FIELDS, BIRTH] if dated else FIELDS
    values = {f: cleaned(lines, f, conf, ids) for f in fields}
    rows = value_rows(values, ids, hash_key, matching, countries)
    if rows is None:
        schema = (
            "run_id string, line_number bigint, field string, rule string, block_key bigint, "
            f"refine_keys array<bigint>, payload {PAYLOAD_TYPE}, sig {SIGNATURE_TYPE}"
        )
        return parts.sparkSession.createDataFrame([], schema)
    return rows.select(*ids, "field", F.inline("blocks"), "payload", "sig")


def index_blocks(index_rows: DataFrame, *columns: str) -> DataFrame:
    """The index's values, one row per block entry: (rule, block_key, refine_keys) after
    `columns`. The index keeps a value's payload once with all its blocks (a name meets its
    blocks through each token and rule); the cross-check expands them as it reads."""
    return index_rows.select(*columns, F.inline("blocks"))
