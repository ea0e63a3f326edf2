"""Schema fingerprint: each sample column's kind, by header or else by content, and whether the
company stores it, never collects it, or neither."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import MapType, StringType

from jobs.provenance.content import CONTENT_KINDS, CONTENT_TESTS
from jobs.sample.headers import fold_header, json_keys, synonym_index
from jobs.settings import ProvenanceConf


def header_cells(
    lines: Sequence[str], kind: str, delimiter: str | None, has_header: bool
) -> list[str] | None:
    """A file's column headers from its first lines (driver side, the sniffed lines only):
    the header row of a delimited file, the keys of a JSON Lines file, None without a header."""
    if kind == "json":
        return json_keys(lines)
    if not has_header:
        return None
    first = next((ln for ln in lines if ln.strip()), "")
    return next(csv.reader([first.lstrip("\ufeff")], delimiter=delimiter or "\x00"), [])


def header_kind(header: str | None, headers: Mapping[str, Sequence[str]]) -> str | None:
    """The kind a header names (`conf/headers.yaml`: matched fields and the other kinds)."""
    if not header:
        return None
    return synonym_index(headers).get(fold_header(header))


def header_rows(
    layout_no: int,
    layout: Any,
    basenames: list[str],
    head: Sequence[str],
    headers: Mapping[str, Sequence[str]],
) -> list[tuple]:
    """One layout's columns as `HEADER_ROWS_SCHEMA` rows (layout_no, files, column, header,
    kind): a delimited file's columns by 1-based position, a JSON file's by key; the kind is
    the mapped field, else the kind its header names."""
    names = header_cells(head, layout.kind, layout.delimiter, layout.has_header)
    mapped = {col: fld for fld, col in layout.mapping}
    if layout.kind == "json":
        columns = [(key, key, mapped.get(key)) for key in names or []]
    else:
        columns = [
            (str(i + 1), names[i] if names and i < len(names) else None, mapped.get(str(i)))
            for i in range(max(layout.width, 1))
        ]
    return [
        (layout_no, basenames, column, header, field or header_kind(header, headers))
        for column, header, field in columns
    ]


def column_values(lines: DataFrame, kind: str, delimiter: str | None, width: int) -> DataFrame:
    """Parsed data lines (`value`, header already dropped) -> (column, value), one row per
    non-blank cell: a delimited file's columns by 1-based position, a JSON file's by key."""
    text = F.regexp_replace(F.col("value"), "^\ufeff", "")
    if kind == "json":
        obj = F.from_json(
            F.regexp_replace(F.trim(text), r"^\[|,$|\]$", ""), MapType(StringType(), StringType())
        )
        cells = lines.select(F.explode(obj).alias("column", "value"))
    elif delimiter and width >= 2:
        ddl = ", ".join(f"c{i} STRING" for i in range(width))
        opts = {"sep": delimiter, "quote": '"', "escape": '"', "mode": "PERMISSIVE"}
        parsed = lines.select(F.from_csv(text, ddl, opts).alias("p"))
        stack = ", ".join(f"'{i + 1}', p.c{i}" for i in range(width))
        cells = parsed.select(F.expr(f"stack({width}, {stack}) as (column, value)"))
    else:
        cells = lines.select(F.lit("1").alias("column"), text.alias("value"))
    return cells.filter(F.length(F.trim(F.col("value"))) > 0).select("column", "value")


def column_content(values: DataFrame, min_share: float) -> DataFrame:
    """(column, value) -> per column: values checked, the content kind most of its values have
    (null below `min_share`) and that share. Counts only: no value leaves this transform."""
    flags = [CONTENT_TESTS[k](F.col("value")).cast("int").alias(k) for k in CONTENT_KINDS]
    counted = (
        values.select("column", *flags)
        .groupBy("column")
        .agg(F.count(F.lit(1)).alias("values_checked"), *[F.sum(k).alias(k) for k in CONTENT_KINDS])
    )
    scored = F.array(
        *[
            F.struct(
                (F.col(k) / F.col("values_checked")).alias("share"),
                F.lit(-i).alias("priority"),
                F.lit(k).alias("kind"),
            )
            for i, k in enumerate(CONTENT_KINDS)
        ]
    )
    best = F.array_max(scored)
    return counted.select(
        "column",
        F.col("values_checked").cast("long").alias("values_checked"),
        F.when(best.getField("share") >= min_share, best.getField("kind")).alias("kind_by_content"),
        F.when(best.getField("share") >= min_share, best.getField("share"))
        .cast("double")
        .alias("content_share"),
    )


def schema_fingerprint(headers: DataFrame, content: DataFrame, conf: ProvenanceConf) -> DataFrame:
    """Header rows (layout_no, files, column, header, kind_by_header) and per-column content
    (layout_no, column, values_checked, kind_by_content, content_share) -> one row per sample
    column with its kind and whether the company stores it, never collects it, or neither.
    A header names the kind when it is known; otherwise the content decides."""
    joined = headers.join(content, on=["layout_no", "column"], how="full")
    kind = F.coalesce(F.col("kind_by_header"), F.col("kind_by_content"))
    status = (
        F.when(kind.isin(*conf.stored_kinds), F.lit("stored"))
        .when(kind.isin(*conf.never_collected), F.lit("never_collected"))
        .when(kind.isNotNull(), F.lit("not_stored"))
        .otherwise(F.lit("unrecognised"))
    )
    return joined.select(
        F.col("layout_no").cast("int").alias("layout_no"),
        F.col("files"),
        F.col("column").cast("string").alias("column"),
        F.col("header").cast("string").alias("header"),
        F.col("kind_by_header").cast("string").alias("kind_by_header"),
        F.col("kind_by_content").cast("string").alias("kind_by_content"),
        F.col("content_share").cast("double").alias("content_share"),
        F.coalesce(F.col("values_checked"), F.lit(0)).cast("long").alias("values_checked"),
        kind.cast("string").alias("kind"),
        status.alias("status"),
    )


def schema_section(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Columns of the sample with their kind and status, and the totals per status."""
    columns = [
        {
            "files": list(r["files"] or []),
            "column": r["column"],
            "header": r["header"],
            "kind": r["kind"],
            "by_header": r["kind_by_header"],
            "by_content": r["kind_by_content"],
            "content_share": None
            if r["content_share"] is None
            else round(float(r["content_share"]), 6),
            "values_checked": int(r["values_checked"]),
            "status": r["status"],
        }
        for r in sorted(rows, key=lambda r: (r["layout_no"] or 0, _column_order(r["column"])))
    ]
    counts = {
        s: sum(c["status"] == s for c in columns)
        for s in ("stored", "never_collected", "not_stored", "unrecognised")
    }
    return {"columns": columns, "counts": counts}


def _column_order(column: str | None) -> tuple[int, str]:
    return (int(column), "") if column and column.isdigit() else (10**6, column or "")
