"""ingest-sample: sample files -> sample_raw + sample_quarantine -> sample_normalised (keyed
hashes) and sample_fuzzy (block entries), after the sample's quality gates."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from functools import reduce

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import log, quality
from jobs import provenance as prov
from jobs import sample as smp
from jobs import tables as T
from jobs.errors import ConfigError, InputError
from jobs.io.delta import clear_run, read_table, write_run
from jobs.io.files import (
    file_size,
    gzip_problem,
    head_bytes,
    list_files,
    read_failures,
    spark_paths,
)
from jobs.match import fuzzy, sample_lines
from jobs.sample import filetype
from jobs.sample.encoding import is_wide
from jobs.settings import Config
from jobs.steps.common import hash_key, key_fingerprint, one_row
from jobs.steps.validate import write_results

Layouts = dict[smp.FileLayout, list[str]]


def ingest_sample(
    spark: SparkSession, config: Config, sample_path: str | None, run_id: str
) -> dict:
    """Sample files -> sample_raw + sample_quarantine -> sample_normalised (hashed keys)."""
    path = sample_path or config.sample.path
    if not path:
        raise ConfigError("no sample given: pass --sample PATH or set sample.path")
    key = hash_key(config)
    started = datetime.now(timezone.utc)
    with log.stage("ingest-sample", sample=os.path.basename(path.rstrip("/"))) as st:
        heads, layouts, skipped = _layouts(spark, config, path)
        groups = smp.group_by_layout(layouts)
        classified = _classify(spark, groups).persist(StorageLevel.MEMORY_AND_DISK)
        with read_failures():
            reasons = _gate_and_write(spark, config, run_id, classified, path)
        schema = _schema_fingerprint(spark, config, classified, groups, heads)
        write_run(spark, schema.withColumn("run_id", F.lit(run_id)), config.table(T.SCHEMA), run_id)
        classified.unpersist()
        parsed = reasons.pop(None)
        st["rows"] = parsed + sum(reasons.values())
        st["quarantined"] = sum(reasons.values())
    raw = read_table(spark, config.table(T.SAMPLE_RAW)).filter(F.col("run_id") == run_id)
    # Both the exact keys and the fuzzy rows are made from the lines' parts: parsed once.
    parts = raw.transform(
        sample_lines.sample_parts, config.normalise, config.sample.default_country
    )
    parts = parts.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        with log.stage("normalise-sample") as st:
            normalised = parts.transform(sample_lines.sample_keys, config.normalise, key)
            write_run(spark, normalised, config.table(T.NORMALISED), run_id)
            st["rows"] = parsed
        if config.crosscheck.fuzzy:
            with log.stage("fuzzy-sample") as st:
                rows = parts.transform(
                    fuzzy.fuzzy_rows_of_parts, config.normalise, key, config.matching
                )
                write_run(spark, rows, config.table(T.SAMPLE_FUZZY), run_id)
                st["rows"] = parsed
        else:
            clear_run(spark, config.table(T.SAMPLE_FUZZY), run_id)
    finally:
        parts.unpersist()
    fingerprint = key_fingerprint(key, config.matching.rules)
    summary = _summary(run_id, started, path, layouts, skipped, parsed, reasons, fingerprint)
    write_run(
        spark, one_row(spark, summary, T.SAMPLE_RUNS_SCHEMA), config.table(T.SAMPLE_RUNS), run_id
    )
    return summary


def _layouts(
    spark: SparkSession, config: Config, path: str
) -> tuple[dict[str, list[str]], dict[str, smp.FileLayout], list[filetype.SampleFile]]:
    """Each text file's first lines and layout; the files that are not text, skipped and
    logged (or the run refused, see `filetype.readable`)."""
    inspected = [_inspect(spark, f, config) for f in list_files(spark, path)]
    text_files = filetype.readable(inspected, path)
    skipped = [f for f in inspected if f.not_text]
    for f in skipped:
        log.warning(f"{f.name} skipped: {f.not_text}", stage="ingest-sample")
    heads = {f.path: list(f.lines) for f in text_files}
    layouts = {
        f.path: smp.sniff_layout(f.path, heads[f.path], config.sample, config.headers,
                                 f.encoding or "UTF-8")
        for f in text_files
    }  # fmt: skip
    return heads, layouts, skipped


def _inspect(spark: SparkSession, path: str, config: Config) -> filetype.SampleFile:
    """What a file is and how to read it, from its first bytes; a .gz file read to its end."""
    raw, complete = head_bytes(spark, path, filetype.HEAD_BYTES)
    found = filetype.inspect_file(path, raw, complete, config.sample.encoding)
    if not found.not_text and path.lower().endswith(".gz"):
        problem = gzip_problem(path)
        if problem:
            return filetype.SampleFile(path, not_text=problem, corrupt=True)
    return found


def _classify(spark: SparkSession, groups: Layouts) -> DataFrame:
    """Every physical line of every file, parsed by its file's layout or given a reason."""
    parts = []
    for layout_no, (layout, group) in enumerate(groups.items()):
        if is_wide(layout.encoding):
            lines = smp.whole_file_lines(spark, spark_paths(group), layout.encoding)
        else:
            scan = spark.read.text(spark_paths(group))
            scan = smp.decode_lines(smp.tag_scan(scan), layout.encoding)
            lines = smp.with_line_numbers(scan)
        part = smp.classify(lines, layout, layout.encoding)
        parts.append(part.withColumn("layout_no", F.lit(layout_no)))
    return smp.with_sample_line_numbers(reduce(DataFrame.unionByName, parts))


def _gate_and_write(
    spark: SparkSession, config: Config, run_id: str, classified: DataFrame, sample: str
) -> dict[str | None, int]:
    """The sample's quality gates (exit 4 before anything is written), then sample_raw and
    sample_quarantine. Returns lines per quarantine reason, parsed lines under None."""
    reasons = {
        r.reason: r.n
        for r in classified.groupBy("reason").agg(F.count(F.lit(1)).alias("n")).collect()
    }
    if not reasons:
        name = os.path.basename(sample.rstrip("/"))
        raise InputError(f"{name}: the sample holds no data line, only a header")
    parsed_rows = smp.parsed_rows(classified, run_id)
    suites = quality.load_suites()
    checks = quality.check_sample(
        parsed_rows, config.normalise, run_id, config.sample.default_country, suites
    )
    write_results(spark, config, run_id, checks)
    quality.enforce(checks)
    kept, held = quality.quality_quarantine_rows(parsed_rows, suites.get("sample_raw"), run_id)
    held_reasons = quality.reason_counts(held)
    write_run(spark, kept, config.table(T.SAMPLE_RAW), run_id)
    all_held = smp.parse_quarantine_rows(classified, run_id).unionByName(held)
    write_run(spark, all_held, config.table(T.QUARANTINE), run_id)
    parsed = reasons.pop(None, 0) - sum(held_reasons.values())
    return {**reasons, **held_reasons, None: parsed}


def _summary(
    run_id: str,
    started: datetime,
    path: str,
    layouts: dict[str, smp.FileLayout],
    skipped: list[filetype.SampleFile],
    parsed: int,
    reasons: dict,
    fingerprint: str,
) -> dict:
    """The sample_runs row: what was read, how, and what became of each line."""
    files = [
        {"name": os.path.basename(f), "bytes": file_size(f), "format": lay.kind,
         "delimiter": lay.delimiter or "", "header": lay.has_header, "mapping": dict(lay.mapping),
         "encoding": lay.encoding, "skipped": None}
        for f, lay in layouts.items()
    ] + [
        {"name": f.name, "bytes": file_size(f.path), "format": "skipped", "delimiter": "",
         "header": False, "mapping": {}, "encoding": None, "skipped": f.not_text}
        for f in skipped
    ]  # fmt: skip
    quarantined = sum(reasons.values())
    return {
        "run_id": run_id,
        "started_at": started,
        "sample_path": path,
        "files": files,
        "lines_read": parsed + quarantined,
        "lines_parsed": parsed,
        "lines_quarantined": quarantined,
        "quarantine_reasons": {k: int(v) for k, v in sorted(reasons.items())},
        "key_fingerprint": fingerprint,
    }


def _schema_fingerprint(
    spark: SparkSession,
    config: Config,
    classified: DataFrame,
    groups: Layouts,
    heads: dict[str, list[str]],
) -> DataFrame:
    """Every column of the sample, known by its header (or, without one, by the sniffer's
    inference) and by what its values look like -> kind, and whether we store that kind."""
    header_rows, contents = [], []
    for layout_no, (layout, group) in enumerate(groups.items()):
        basenames = [os.path.basename(f) for f in group]
        header_rows += prov.header_rows(
            layout_no, layout, basenames, heads[group[0]], config.headers
        )
        lines = classified.filter(F.col("reason").isNull() & (F.col("layout_no") == layout_no))
        values = prov.column_values(lines, layout.kind, layout.delimiter, layout.width)
        content = prov.column_content(values, config.provenance.content_min_share)
        contents.append(content.withColumn("layout_no", F.lit(layout_no)))
    content = reduce(DataFrame.unionByName, contents)
    headers = spark.createDataFrame(header_rows, T.HEADER_ROWS_SCHEMA)
    return prov.schema_fingerprint(headers, content, config.provenance)
