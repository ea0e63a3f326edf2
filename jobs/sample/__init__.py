"""Reading a breach sample: sniff each file's layout (delimiter, header, JSON),
then parse every physical line into a row or a quarantine row with a reason.

Lines are numbered as in the file (header = line 1), so on-call can point at a line, and
`lines_read = lines_parsed + lines_quarantined` holds by construction.
"""

from __future__ import annotations

import csv
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import MapType, StringType

from jobs.errors import InputError
from jobs.sample.encoding import is_utf8
from jobs.sample.headers import infer_columns, json_keys, map_columns
from jobs.settings import IDENTIFYING, SAMPLE_FIELDS, SampleConf

JSON_EXTENSIONS = (".json", ".jsonl", ".ndjson")
# Quoted fields are removed in two steps (escaped quotes, then quote to quote): an alternation
# under `*` recurses once per character in Java's regex engine and overflows the stack of an
# executor thread on a long quoted field, which ends the whole JVM.
ESCAPED_QUOTE_RE = '""'
QUOTED_FIELD_RE = '"[^"]*"'
# Longer lines are quarantined (`line_too_long`) and left out of sniffing: no record is that
# long, and Python's csv module refuses fields over 128 KiB.
MAX_LINE_CHARS = 100_000
CONTROL_CHARS_RE = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


@dataclass(frozen=True)
class FileLayout:
    """How one sample file is laid out; files with equal layouts are parsed together."""

    kind: str  # "delimited" | "json"
    delimiter: str | None
    width: int
    has_header: bool
    mapping: tuple[tuple[str, str], ...]  # field -> column position (as str) or JSON key
    encoding: str = "UTF-8"  # the Java charset the file is decoded with


def detect_delimiter(lines: Sequence[str], candidates: Sequence[str]) -> tuple[str | None, int]:
    """The candidate giving the most lines with one consistent field count (>= 2)."""
    lines = [ln for ln in lines if ln.strip()]
    best: tuple[float, int, str | None] = (0.0, 1, None)
    for delim in candidates:
        counts = [len(next(csv.reader([ln], delimiter=delim), [])) for ln in lines]
        if not counts:
            continue
        width, hits = Counter(counts).most_common(1)[0]
        if width >= 2 and (hits / len(counts), width) > best[:2]:
            best = (hits / len(counts), width, delim)
    return best[2], best[1]


def sniff_layout(
    path: str, lines: Sequence[str], conf: SampleConf, headers, encoding: str = "UTF-8"
) -> FileLayout:
    """Decide format, delimiter, header and field mapping from a file's first lines."""
    name = os.path.basename(path)
    first_too_long = bool(lines) and len(lines[0]) > MAX_LINE_CHARS
    lines = [ln if len(ln) <= MAX_LINE_CHARS else "" for ln in lines]
    first = next((ln.lstrip("\ufeff").strip() for ln in lines if ln.strip()), "")
    if not first:
        raise InputError(f"{name}: the file is empty")
    if path.lower().removesuffix(".gz").endswith(JSON_EXTENSIONS) or first.startswith("{"):
        keys = json_keys(lines)
        mapping = map_columns(keys, headers, conf.mapping)
        if not set(mapping) & set(IDENTIFYING):
            raise InputError(f"{name}: no JSON key maps to a known field; set sample.mapping")
        pairs = tuple(sorted((f, keys[pos]) for f, pos in mapping.items()))
        return FileLayout("json", None, len(keys), False, pairs, encoding)
    delim, width = detect_delimiter(lines[:50], conf.delimiters)
    rows = [next(csv.reader([ln.lstrip("\ufeff")], delimiter=delim or "\x00"), []) for ln in lines]
    rows = [r for r in rows if r]
    mapping, has_header = map_columns(rows[0], headers, conf.mapping), not first_too_long
    if first_too_long:
        mapping = {}
    if not set(mapping) & set(IDENTIFYING):
        mapping, has_header = infer_columns(rows[:200]), False
    if not set(mapping) & set(IDENTIFYING):
        raise InputError(
            f"{name}: none of its {width} columns could be mapped to a field "
            "(no known header, values of no known shape); set sample.mapping"
        )
    pairs = tuple(sorted((f, str(pos)) for f, pos in mapping.items()))
    return FileLayout("delimited", delim, width, has_header, pairs, encoding)


# ---- transforms -------------------------------------------------------------------------


def with_line_numbers(lines: DataFrame) -> DataFrame:
    """Physical line numbers per file, from `_metadata` block offsets and row order within
    each scan partition: no single-partition window over the data, so it scales out.

    Input: a text scan with `value`, `source_file`, `block`, `pid`, `row_id` tagged at scan
    time (see `tag_scan`). Output: `source_file`, `line_number`, `value`."""
    blocks = lines.groupBy("source_file", "block", "pid").agg(
        F.min("row_id").alias("first_id"), F.count(F.lit(1)).alias("n")
    )
    before = Window.partitionBy("source_file").orderBy("block", "pid")
    offsets = blocks.select(
        "source_file",
        "block",
        "pid",
        "first_id",
        F.coalesce(
            F.sum("n").over(before.rowsBetween(Window.unboundedPreceding, -1)), F.lit(0)
        ).alias("offset"),
    )
    return lines.join(F.broadcast(offsets), on=["source_file", "block", "pid"], how="inner").select(
        "source_file",
        (F.col("offset") + F.col("row_id") - F.col("first_id") + 1).alias("line_number"),
        "value",
    )


def tag_scan(scan: DataFrame) -> DataFrame:
    """Tag each scanned line with its file, block start, partition and row id."""
    return scan.select(
        F.col("value"),
        F.col("_metadata.file_path").alias("source_file"),
        F.col("_metadata.file_block_start").alias("block"),
        F.spark_partition_id().alias("pid"),
        F.monotonically_increasing_id().alias("row_id"),
    )


def decode_lines(lines: DataFrame, encoding: str) -> DataFrame:
    """Text is read as raw bytes; legacy encodings are decoded here, UTF-8 is checked later."""
    if is_utf8(encoding):
        return lines
    decoded = F.decode(F.col("value").cast("binary"), encoding)
    return lines.withColumn("value", decoded)


def _blank_to_null(col: Column) -> Column:
    """A field's value: control characters (NUL padding, stray escapes) dropped, trimmed."""
    trimmed = F.trim(F.regexp_replace(col, CONTROL_CHARS_RE, ""))
    return F.when(F.length(trimmed) > 0, trimmed)


def whole_file_lines(spark: SparkSession, paths: Sequence[str], encoding: str) -> DataFrame:
    """UTF-16/32 files, decoded whole and split on LF, CRLF or a lone CR: `source_file`,
    `line_number`, `value` as `with_line_numbers` gives them for line-split files."""
    files = spark.read.format("binaryFile").load(list(paths))
    text = F.regexp_replace(F.decode(F.col("content"), encoding), "^\ufeff", "")
    text = F.regexp_replace(text, r"(\r\n|\r|\n)\z", "")
    lines = files.select(
        F.col("_metadata.file_path").alias("source_file"),
        F.posexplode(F.split(text, r"\r\n|\r|\n", -1)).alias("pos", "value"),
    )
    return lines.select("source_file", (F.col("pos") + 1).alias("line_number"), "value")


def _common_reason(value: Column, check_utf8: bool) -> Column:
    """Reasons any line can have. Decoders turn bytes an encoding lacks into U+FFFD, which no
    legacy or UTF-16 file holds otherwise."""
    reason = F.when(F.lit(False), F.lit(None).cast("string"))
    if check_utf8:
        reason = reason.when(~F.is_valid_utf8(value), F.lit("invalid_utf8"))
    else:
        reason = reason.when(F.instr(value, "\ufffd") > 0, F.lit("invalid_encoding"))
    reason = reason.when(F.length(value) > MAX_LINE_CHARS, F.lit("line_too_long"))
    return reason.when(F.length(F.trim(value)) == 0, F.lit("empty"))


def classify_delimited(lines: DataFrame, layout: FileLayout, check_utf8: bool) -> DataFrame:
    """Add `reason` (null when the line parses) and the mapped fields for a delimited file."""
    value = F.regexp_replace(F.col("value"), "^\ufeff", "")
    reason = _common_reason(F.col("value"), check_utf8)  # raw bytes: before any regexp
    mapping = dict(layout.mapping)
    if layout.width >= 2 and layout.delimiter:
        bounded = F.when(F.length(value) <= MAX_LINE_CHARS, value)  # no regexp on huge lines
        unescaped = F.regexp_replace(bounded, ESCAPED_QUOTE_RE, "")
        unquoted = F.regexp_replace(unescaped, QUOTED_FIELD_RE, "")
        fields_seen = F.size(F.split(unquoted, re.escape(layout.delimiter), -1))
        reason = reason.when(F.instr(unquoted, '"') > 0, F.lit("unclosed_quote"))
        reason = reason.when(fields_seen != layout.width, F.lit("wrong_field_count"))
        ddl = ", ".join(f"c{i} STRING" for i in range(layout.width))
        opts = {"sep": layout.delimiter, "quote": '"', "escape": '"', "mode": "PERMISSIVE"}
        parsed = F.from_csv(value, ddl, opts)
        columns = {f: parsed.getField(f"c{pos}") for f, pos in mapping.items()}
    else:
        columns = {f: value for f in mapping}
    out = lines.withColumn("reason", reason)
    for fld in SAMPLE_FIELDS:
        col = columns.get(fld)
        out = out.withColumn(
            fld,
            F.when(F.col("reason").isNull(), _blank_to_null(col))
            if col is not None
            else F.lit(None).cast("string"),
        )
    return out


def classify_json(lines: DataFrame, layout: FileLayout, check_utf8: bool) -> DataFrame:
    """JSON Lines (also one-object-per-line arrays): unparseable objects are quarantined."""
    value = F.regexp_replace(F.trim(F.col("value")), r"^\ufeff?\[?|,$|\]$", "")
    parsed = F.from_json(value, MapType(StringType(), StringType()))
    reason = _common_reason(F.col("value"), check_utf8)
    reason = reason.when(F.length(value) == 0, F.lit("no_record"))
    reason = reason.when(parsed.isNull(), F.lit("invalid_json"))
    mapping = dict(layout.mapping)
    out = lines.withColumn("reason", reason)
    for fld in SAMPLE_FIELDS:
        key = mapping.get(fld)
        col = _blank_to_null(F.try_element_at(parsed, F.lit(key))) if key else None
        out = out.withColumn(
            fld,
            F.when(F.col("reason").isNull(), col)
            if col is not None
            else F.lit(None).cast("string"),
        )
    return out


def classify(lines: DataFrame, layout: FileLayout, encoding: str) -> DataFrame:
    """Numbered lines of files sharing one layout -> every data line with reason + fields."""
    check_utf8 = is_utf8(encoding)
    if layout.has_header:
        lines = lines.filter(F.col("line_number") > 1)
    if layout.kind == "json":
        return classify_json(lines, layout, check_utf8)
    return classify_delimited(lines, layout, check_utf8)


def with_sample_line_numbers(lines: DataFrame) -> DataFrame:
    """Per-file line numbers -> `line_number` unique over the whole sample (files in name
    order, each one's lines after the previous file's) and `file_line`, the line in its own
    file. A one-file sample's two numbers are equal; in a folder, line 2 of two files must
    not be taken for one line when fields of a line are matched to one customer."""
    ends = lines.groupBy("source_file").agg(F.max("line_number").alias("_lines"))
    before = Window.orderBy("source_file").rowsBetween(Window.unboundedPreceding, -1)
    offsets = ends.select(
        "source_file", F.coalesce(F.sum("_lines").over(before), F.lit(0)).alias("_offset")
    )
    others = [c for c in lines.columns if c not in ("source_file", "line_number")]
    return lines.join(F.broadcast(offsets), on="source_file", how="inner").select(
        "source_file",
        (F.col("_offset") + F.col("line_number")).alias("line_number"),
        F.col("line_number").alias("file_line"),
        *others,
    )


def parsed_rows(classified: DataFrame, run_id: str) -> DataFrame:
    return classified.filter(F.col("reason").isNull()).select(
        F.lit(run_id).alias("run_id"),
        "source_file",
        "line_number",
        "file_line",
        *SAMPLE_FIELDS,
    )


def parse_quarantine_rows(classified: DataFrame, run_id: str) -> DataFrame:
    """Quarantined lines keep their raw text (inside the lakehouse only) for the fix-up."""
    return classified.filter(F.col("reason").isNotNull()).select(
        F.lit(run_id).alias("run_id"),
        "source_file",
        "line_number",
        "file_line",
        "reason",
        F.make_valid_utf8(F.col("value")).alias("raw_line"),
    )


def group_by_layout(layouts: Mapping[str, FileLayout]) -> dict[FileLayout, list[str]]:
    groups: dict[FileLayout, list[str]] = {}
    for path, layout in layouts.items():
        groups.setdefault(layout, []).append(path)
    return groups
