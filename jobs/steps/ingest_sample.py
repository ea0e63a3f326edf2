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
from jobs.errors import ConfigError
from jobs.io.delta import read_table, write_run
from jobs.io.files import file_size, head_lines, list_files
from jobs.match import fuzzy, keys
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
        files = list_files(spark, path)
        heads = {f: head_lines(spark, f) for f in files}
        layouts = {f: smp.sniff_layout(f, heads[f], config.sample, config.headers) for f in files}
        groups = smp.group_by_layout(layouts)
        classified = _classify(spark, config, groups).persist(StorageLevel.MEMORY_AND_DISK)
        reasons = _gate_and_write(spark, config, run_id, classified)
        schema = _schema_fingerprint(spark, config, classified, groups, heads)
        write_run(spark, schema.withColumn("run_id", F.lit(run_id)), config.table(T.SCHEMA), run_id)
        classified.unpersist()
        parsed = reasons.pop(None)
        st["rows"] = parsed + sum(reasons.values())
        st["quarantined"] = sum(reasons.values())
    with log.stage("normalise-sample") as st:
        raw = read_table(spark, config.table(T.SAMPLE_RAW)).filter(F.col("run_id") == run_id)
        normalised = raw.transform(
            keys.with_sample_keys, config.normalise, key, config.sample.default_country
        )
        write_run(spark, normalised, config.table(T.NORMALISED), run_id)
        st["rows"] = parsed
    if config.crosscheck.fuzzy:
        with log.stage("fuzzy-sample") as st:
            rows = raw.transform(
                fuzzy.fuzzy_sample_rows,
                config.normalise,
                key,
                config.sample.default_country,
                config.matching,
            )
            write_run(spark, rows, config.table(T.SAMPLE_FUZZY), run_id)
            st["rows"] = parsed
    summary = _summary(run_id, started, path, layouts, parsed, reasons, key)
    write_run(
        spark, one_row(spark, summary, T.SAMPLE_RUNS_SCHEMA), config.table(T.SAMPLE_RUNS), run_id
    )
    return summary


def _classify(spark: SparkSession, config: Config, groups: Layouts) -> DataFrame:
    """Every physical line of every file, parsed by its file's layout or given a reason."""
    parts = []
    for layout_no, (layout, group) in enumerate(groups.items()):
        scan = smp.decode_lines(smp.tag_scan(spark.read.text(group)), config.sample.encoding)
        part = smp.classify(smp.with_line_numbers(scan), layout, config.sample.encoding)
        parts.append(part.withColumn("layout_no", F.lit(layout_no)))
    return smp.with_sample_line_numbers(reduce(DataFrame.unionByName, parts))


def _gate_and_write(
    spark: SparkSession, config: Config, run_id: str, classified: DataFrame
) -> dict[str | None, int]:
    """The sample's quality gates (exit 4 before anything is written), then sample_raw and
    sample_quarantine. Returns lines per quarantine reason, parsed lines under None."""
    reasons = {
        r.reason: r.n
        for r in classified.groupBy("reason").agg(F.count(F.lit(1)).alias("n")).collect()
    }
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
    parsed: int,
    reasons: dict,
    key: str,
) -> dict:
    """The sample_runs row: what was read, how, and what became of each line."""
    files = [
        {"name": os.path.basename(f), "bytes": file_size(f), "format": lay.kind,
         "delimiter": lay.delimiter or "", "header": lay.has_header, "mapping": dict(lay.mapping)}
        for f, lay in layouts.items()
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
        "key_fingerprint": key_fingerprint(key),
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
