"""The jobs: each reads Delta tables (or the sample files), calls pure transforms, and writes
Delta tables keyed by run_id, so a scheduler can run them as separate tasks and re-runs
replace their own rows."""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import log, quality
from jobs import provenance as prov
from jobs import sample as smp
from jobs import verdict as rep
from jobs.errors import ConfigError, MissingTableError
from jobs.io import incremental as incr
from jobs.io.delta import (
    append,
    overwrite,
    read_source,
    read_table,
    replace_customers,
    source_snapshot,
    table_exists,
    write_run,
)
from jobs.match import exact as xc
from jobs.match import fuzzy, keys
from jobs.normalise.country import country_counts, country_section
from jobs.settings import Config

T_SAMPLE_RAW = "sample_raw"
T_QUARANTINE = "sample_quarantine"
T_NORMALISED = "sample_normalised"
T_SAMPLE_RUNS = "sample_runs"
T_INDEX = "match_index"
T_INDEX_BUILDS = "index_builds"
T_INDEX_FPS = "index_fingerprints"
INDEX_BUILDS_SCHEMA = (
    "built_at timestamp, key_fingerprint string, rows_per_field map<string,bigint>, "
    "source_snapshots map<string,string>, mode string, customers_refreshed bigint, "
    "customers bigint"
)
T_EVIDENCE = "evidence"
T_SUMMARY = "field_summary"
T_RESULTS = "crosscheck_runs"
T_BLOCKING = "blocking_diagnostics"
T_FUZZY_INDEX = "fuzzy_index"
T_SAMPLE_FUZZY = "sample_fuzzy"
T_FUZZY_EVIDENCE = "fuzzy_evidence"
T_FUZZY_BLOCKING = "fuzzy_blocking"
T_SCHEMA = "sample_schema"
T_WAREHOUSE_PROFILE = "warehouse_profile"
T_PRIOR = "prior_samples"
T_CANARY = "canary_evidence"
T_RECYCLED = "recycled_overlap"
T_PROFILE = "sample_profile"
T_DIVERGENCE = "profile_divergence"
T_PROVENANCE = "provenance_runs"
T_VERDICTS = "run_verdicts"
PROVENANCE_RUNS_SCHEMA = (
    "run_id string, claimed_records bigint, warehouse_customers bigint, canary_ids_listed bigint"
)
OVERLAP_SCHEMA = (
    "earlier_run_id string, earlier_ingested_at timestamp, field string, keys_this_run bigint, "
    "keys_seen bigint, share double"
)
COUNTS_SCHEMA = "dimension string, value string, n bigint"
HEADER_ROWS_SCHEMA = (
    "layout_no int, files array<string>, column string, header string, kind_by_header string"
)
VERDICTS_SCHEMA = "run_id string, reported_at timestamp, verdict string, evidence_verdict string"


def _blocking_action(max_per_key: int, budget: int):
    """What was done about each rule's candidate pairs, in words for the report."""
    over = F.col("candidate_pairs") > budget
    hot = F.col("hot_keys") > 0
    return (
        F.when(
            hot,
            F.concat(
                F.col("hot_keys").cast("string"),
                F.lit(
                    f" hot key(s) hitting > {max_per_key} customers each were counted but "
                    "expanded only to customers another field of the same line matches"
                ),
                F.when(
                    over, F.lit(f"; unrestricted join would exceed the pair budget {budget}")
                ).otherwise(F.lit("")),
            ),
        )
        .when(over, F.lit(f"above the pair budget {budget}: run as a broadcast semi-join"))
        .otherwise(F.lit("within budget: joined as is"))
    )


def new_run_id() -> str:
    now = datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


# The index format: raised whenever the keys a value gives or the index tables' layout change
# (normalisation rules, key or block layout). An index of another format is rebuilt whole, as
# for a new hash key: nothing reads an older layout.
INDEX_FORMAT = b"index-v3"


def key_fingerprint(key: str) -> str:
    """Identifies the hash key and the key scheme without revealing the key, so a stale
    index is caught."""
    message = b"crosscheck-key-check|" + INDEX_FORMAT
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:16]


def _hash_key(config: Config) -> str:
    key, is_demo = config.hash_key()
    if is_demo:
        log.warning(
            f"DEMO HASH KEY IN USE: set {config.hash_key_env} to a secret for real data",
            stage="setup",
        )
    return key


SAMPLE_RUNS_SCHEMA = (
    "run_id string, started_at timestamp, sample_path string, "
    "files array<struct<name:string, bytes:bigint, format:string, delimiter:string, "
    "header:boolean, mapping:map<string,string>>>, lines_read bigint, lines_parsed bigint, "
    "lines_quarantined bigint, quarantine_reasons map<string,bigint>, key_fingerprint string"
)


def _runs_row(spark: SparkSession, row: dict[str, Any], schema: str | None = None) -> DataFrame:
    return spark.createDataFrame([row], schema=schema)


def latest_run_id(spark: SparkSession, config: Config) -> str:
    runs = read_table(spark, config.table(T_SAMPLE_RUNS), needed_by="choosing the latest run")
    row = runs.orderBy(F.col("started_at").desc()).select("run_id").first()
    if row is None:
        raise MissingTableError("no sample has been ingested yet: run ingest-sample first")
    return row.run_id


# ---- ingest-sample -----------------------------------------------------------------------


def ingest_sample(
    spark: SparkSession, config: Config, sample_path: str | None, run_id: str
) -> dict:
    """Sample files -> sample_raw + sample_quarantine -> sample_normalised (hashed keys)."""
    path = sample_path or config.sample.path
    if not path:
        raise ConfigError("no sample given: pass --sample PATH or set sample.path")
    hash_key = _hash_key(config)
    started = datetime.now(timezone.utc)
    with log.stage("ingest-sample", sample=os.path.basename(path.rstrip("/"))) as st:
        files = smp.list_files(spark, path)
        heads = {f: smp.head_lines(spark, f) for f in files}
        layouts = {f: smp.sniff_layout(f, heads[f], config.sample, config.headers) for f in files}
        groups = smp.group_by_layout(layouts)
        parts = []
        for layout_no, (layout, group) in enumerate(groups.items()):
            scan = smp.decode_lines(smp.tag_scan(spark.read.text(group)), config.sample.encoding)
            part = smp.classify(smp.with_line_numbers(scan), layout, config.sample.encoding)
            parts.append(part.withColumn("layout_no", F.lit(layout_no)))
        classified = parts[0]
        for part in parts[1:]:
            classified = classified.unionByName(part)
        classified = smp.with_sample_line_numbers(classified)
        classified = classified.persist(StorageLevel.MEMORY_AND_DISK)
        reasons = {
            r.reason: r.n
            for r in classified.groupBy("reason").agg(F.count(F.lit(1)).alias("n")).collect()
        }
        parsed_rows = smp.parsed_rows(classified, run_id)
        suites = quality.load_suites()
        checks = quality.check_sample(
            parsed_rows, config.normalise, run_id, config.sample.default_country, suites
        )
        quality.write_results(spark, config, run_id, checks)
        quality.enforce(checks)  # exit 4 before anything is written
        kept, held = quality.quarantine_rows(parsed_rows, suites.get("sample_raw"), run_id)
        held_reasons = quality.reason_counts(held)
        write_run(spark, kept, config.table(T_SAMPLE_RAW), run_id)
        all_held = smp.quarantine_rows(classified, run_id).unionByName(held)
        write_run(spark, all_held, config.table(T_QUARANTINE), run_id)
        schema = _schema_fingerprint(spark, config, classified, groups, heads)
        write_run(spark, schema.withColumn("run_id", F.lit(run_id)), config.table(T_SCHEMA), run_id)
        classified.unpersist()
        parsed = reasons.pop(None, 0) - sum(held_reasons.values())
        reasons.update(held_reasons)
        quarantined = sum(reasons.values())
        st["rows"] = parsed + quarantined
        st["quarantined"] = quarantined

    with log.stage("normalise-sample") as st:
        raw = read_table(spark, config.table(T_SAMPLE_RAW)).filter(F.col("run_id") == run_id)
        normalised = raw.transform(
            keys.with_sample_keys, config.normalise, hash_key, config.sample.default_country
        )
        write_run(spark, normalised, config.table(T_NORMALISED), run_id)
        st["rows"] = parsed

    if config.crosscheck.fuzzy:
        with log.stage("fuzzy-sample") as st:
            rows = raw.transform(
                fuzzy.fuzzy_sample_rows,
                config.normalise,
                hash_key,
                config.sample.default_country,
                config.matching,
            )
            write_run(spark, rows, config.table(T_SAMPLE_FUZZY), run_id)
            st["rows"] = parsed

    summary = {
        "run_id": run_id,
        "started_at": started,
        "sample_path": path,
        "files": [
            {
                "name": os.path.basename(f),
                "bytes": _size(f),
                "format": lay.kind,
                "delimiter": lay.delimiter or "",
                "header": lay.has_header,
                "mapping": dict(lay.mapping),
            }
            for f, lay in layouts.items()
        ],  # fmt: skip
        "lines_read": parsed + quarantined,
        "lines_parsed": parsed,
        "lines_quarantined": quarantined,
        "quarantine_reasons": {k: int(v) for k, v in sorted(reasons.items())},
        "key_fingerprint": key_fingerprint(hash_key),
    }
    runs_row = _runs_row(spark, summary, SAMPLE_RUNS_SCHEMA)
    write_run(spark, runs_row, config.table(T_SAMPLE_RUNS), run_id)
    return summary


def _schema_fingerprint(
    spark: SparkSession,
    config: Config,
    classified: DataFrame,
    groups: dict[smp.FileLayout, list[str]],
    heads: dict[str, list[str]],
) -> DataFrame:
    """Every column of the sample, known by its header (or, without one, by the sniffer's
    inference) and by what its values look like -> kind, and whether we store that kind."""
    header_rows, contents = [], []
    for layout_no, (layout, group) in enumerate(groups.items()):
        names = prov.header_cells(heads[group[0]], layout.kind, layout.delimiter, layout.has_header)
        mapped = {col: fld for fld, col in layout.mapping}
        if layout.kind == "json":
            columns = [(key, key, mapped.get(key)) for key in names or []]
        else:
            columns = [
                (str(i + 1), names[i] if names and i < len(names) else None, mapped.get(str(i)))
                for i in range(max(layout.width, 1))
            ]
        basenames = [os.path.basename(f) for f in group]
        for column, header, field in columns:
            kind = field or prov.header_kind(header, config.headers)
            header_rows.append((layout_no, basenames, column, header, kind))
        lines = classified.filter(F.col("reason").isNull() & (F.col("layout_no") == layout_no))
        values = prov.column_values(lines, layout.kind, layout.delimiter, layout.width)
        content = prov.column_content(values, config.provenance.content_min_share)
        contents.append(content.withColumn("layout_no", F.lit(layout_no)))
    content = contents[0]
    for part in contents[1:]:
        content = content.unionByName(part)
    headers = spark.createDataFrame(header_rows, HEADER_ROWS_SCHEMA)
    return prov.schema_fingerprint(headers, content, config.provenance)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return -1


# ---- ingest-warehouse ---------------------------------------------------------------------


def _role_values(roles: dict) -> list[DataFrame]:
    return [
        keys.role_values(role, df, src.columns)
        for role, (df, src) in roles.items()
        if role in keys.SOURCES
    ]


def _index_values(roles: dict, config: Config) -> dict[str, DataFrame]:
    """Per field, the roles' distinct values cleaned (`keys.index_values`), persisted: the
    exact index, the fuzzy index and the warehouse profile are made from them, so each value is
    cleaned once."""
    values = keys.index_values(_role_values(roles), config.normalise)
    return {f: v.persist(StorageLevel.MEMORY_AND_DISK) for f, v in values.items()}


def _unpersist(values: dict) -> None:
    for v in values.values():
        v.unpersist()


def _fuzzy_rows(values: dict, config: Config, hash_key: str) -> DataFrame:
    return fuzzy.fuzzy_index_of(values, hash_key, config.matching)


def ingest_warehouse(spark: SparkSession, config: Config, rebuild: bool = False) -> dict:
    """Warehouse roles -> the match index (field, match_key, customer_id, source).

    Unchanged sources (same Delta versions / same files) -> nothing to do. Changed sources ->
    only customers whose rows changed are normalised again and MERGEd, unless more than
    `index.full_rebuild_share` of them changed, or the hash key changed, or asked to."""
    hash_key = _hash_key(config)
    fingerprint = key_fingerprint(hash_key)
    location, builds = config.table(T_INDEX), config.table(T_INDEX_BUILDS)
    fps_location = config.table(T_INDEX_FPS)
    snapshots = {role: source_snapshot(spark, src) for role, src in config.warehouse.items()}
    last = None
    if (
        table_exists(spark, location)
        and table_exists(spark, builds)
        and table_exists(spark, fps_location)
    ):
        last = read_table(spark, builds).orderBy(F.col("built_at").desc()).first()
    full = rebuild or config.rebuild_index or last is None or last.key_fingerprint != fingerprint
    known = "unknown" not in snapshots.values()
    fuzzy_current = config.crosscheck.fuzzy and _fuzzy_index_current(spark, config)
    fuzzy_ready = not config.crosscheck.fuzzy or fuzzy_current
    unchanged = dict(_get(last, "source_snapshots") or {}) == snapshots
    if not full and known and fuzzy_ready and unchanged:
        log.info(
            "warehouse unchanged since the last index build; index kept", stage="ingest-warehouse"
        )
        if not table_exists(spark, config.table(T_WAREHOUSE_PROFILE)):  # written by older versions
            _write_warehouse_profile(spark, config)
        return {"mode": "unchanged"}
    with log.stage("ingest-warehouse") as st:
        roles = {
            role: (read_source(spark, role, src), src) for role, src in config.warehouse.items()
        }
        with log.stage("index-fingerprints") as sub:
            current = incr.customer_fingerprints(roles).persist(StorageLevel.MEMORY_AND_DISK)
            n_customers = sub["rows"] = current.count()
        changed_n = n_customers
        if not full:
            changed = incr.changed_customers(read_table(spark, fps_location), current)
            changed = changed.persist(StorageLevel.MEMORY_AND_DISK)
            changed_n = changed.count()
            full = changed_n > config.index_full_rebuild_share * max(n_customers, 1)
        if full:
            values = _index_values(roles, config)
            index = keys.keys_of(values, hash_key)
        else:
            subset = {r: (incr.restrict(df, src, changed), src) for r, (df, src) in roles.items()}
            values = _index_values(subset, config)
            new_rows = keys.keys_of(values, hash_key).persist(StorageLevel.MEMORY_AND_DISK)
            unchanged = read_table(spark, location).join(changed, on="customer_id", how="left_anti")
            index = unchanged.unionByName(new_rows)
        with log.stage("index-keys", mode="full" if full else "incremental") as sub:
            index = index.persist(StorageLevel.MEMORY_AND_DISK)
            counts = {
                r.field: r.n
                for r in index.groupBy("field").agg(F.count(F.lit(1)).alias("n")).collect()
            }
            sub["rows"] = sum(counts.values())
        built_at = datetime.now(timezone.utc)
        check_run = quality.index_run_id(built_at)
        customers_df, customers_src = roles["customers"]
        previous = read_table(spark, builds) if table_exists(spark, builds) else None
        checks = quality.check_index(
            index,
            counts,
            previous,
            check_run,
            quality.customers_view(customers_df, customers_src.columns),
        )
        quality.write_results(spark, config, check_run, checks)
        quality.enforce(checks)  # exit 4 before the index is replaced
        with log.stage("index-write"):
            if full:
                overwrite(index, location, ["field"], config.index_max_records_per_file)
                mode = "full"
            else:
                replace_customers(spark, location, changed, new_rows)
                new_rows.unpersist()
                mode = "incremental"
            index.unpersist()
        if config.crosscheck.fuzzy:
            fz_location = config.table(T_FUZZY_INDEX)
            with log.stage("fuzzy-index"):
                if full or not fuzzy_current:
                    if not full:  # the exact index was refreshed, the fuzzy one is rebuilt
                        _unpersist(values)
                        values = _index_values(roles, config)
                    fz_rows = _fuzzy_rows(values, config, hash_key)
                    overwrite(fz_rows, fz_location, ["field"], config.index_max_records_per_file)
                else:
                    fz_rows = _fuzzy_rows(values, config, hash_key)
                    replace_customers(spark, fz_location, changed, fz_rows)
        overwrite(current, fps_location)
        current.unpersist()
        # a full build's values hold every customer: the profile reads e-mail and phone there
        _write_warehouse_profile(spark, config, roles["customers"], values if full else None)
        _unpersist(values)
        st.update(rows=sum(counts.values()), mode=mode, customers_refreshed=changed_n)
    build = {
        "built_at": built_at,
        "key_fingerprint": fingerprint,
        "rows_per_field": counts,
        "source_snapshots": snapshots,
        "mode": mode,
        "customers_refreshed": changed_n,
        "customers": n_customers,
    }
    append(spark.createDataFrame([build], INDEX_BUILDS_SCHEMA), builds)
    return {"mode": mode, "rows_per_field": counts, "customers_refreshed": changed_n}


def _fuzzy_index_current(spark: SparkSession, config: Config) -> bool:
    """The fuzzy index exists with every column this version reads (an index written by an
    older version, e.g. without signatures, is rebuilt whole, not merged into)."""
    try:
        columns = read_table(spark, config.table(T_FUZZY_INDEX)).columns
    except MissingTableError:
        return False
    return set(fuzzy.INDEX_COLUMNS) <= set(columns)


def _write_warehouse_profile(
    spark: SparkSession,
    config: Config,
    customers: tuple[DataFrame, Any] | None = None,
    index_values: dict[str, DataFrame] | None = None,
) -> None:
    """Our customers' e-mail domains, calling codes and countries as bucketed counts: what
    each sample's profile is compared with. With a full build's `index_values` (persisted),
    e-mail and phone are read there instead of being cleaned again."""
    src = config.warehouse["customers"]
    df = customers[0] if customers else read_source(spark, "customers", src)
    people = df.select(
        *[
            (F.col(src.columns[c]) if c in src.columns else F.lit(None)).cast("string").alias(c)
            for c in ("email", "phone", "country")
        ]
    )
    if index_values is not None:
        bit = 1 << keys.SOURCES.index("customers")
        values = prov.index_profile_values(index_values, people, bit, config.normalise)
    else:
        values = prov.profile_values(people, config.normalise)
    counts = prov.profile_counts(values, config.provenance.profile_min_count)
    overwrite(counts, config.table(T_WAREHOUSE_PROFILE))


def _get(row: Any, name: str) -> Any:
    return row[name] if row is not None and name in row.__fields__ else None


# ---- crosscheck ---------------------------------------------------------------------------


def _fuzzy_crosscheck(
    spark: SparkSession,
    config: Config,
    run_id: str,
    exact: DataFrame,
    line_matches: DataFrame,
    matched: DataFrame,
    exact_per_customer: DataFrame,
    lines_parsed: int,
) -> tuple[DataFrame, dict]:
    """Fuzzy names/addresses and weak e-mail/phone levels -> fuzzy_evidence + fuzzy_blocking.

    Returns per-field counts of lines matched only this way, and the same-record count and its
    chance baseline once fuzzy matches join the exact ones."""
    sample_rows = read_table(spark, config.table(T_SAMPLE_FUZZY))
    sample_rows = sample_rows.filter(F.col("run_id") == run_id)
    index = read_table(spark, config.table(T_FUZZY_INDEX))
    with log.stage("fuzzy-blocking") as st:
        plan = fuzzy.plan_blocking(sample_rows, index, config.matching).persist()
        blocked = plan.key_pairs.agg(
            F.sum("index_rows").alias("index_rows"),
            F.sum(F.when(~F.col("hot"), F.col("sample_rows"))).alias("sample_rows"),
        ).first()
        st["rows"] = int(blocked.index_rows or 0)  # index rows in the sample's blocks
        st["sample_rows_joined"] = n_sample = int(blocked.sample_rows or 0)
        diagnostics = plan.diagnostics.withColumn("run_id", F.lit(run_id))
        write_run(spark, diagnostics, config.table(T_FUZZY_BLOCKING), run_id)
        st["pairs_run"] = int(
            read_table(spark, config.table(T_FUZZY_BLOCKING))
            .filter(F.col("run_id") == run_id)
            .agg(F.sum("pairs_run"))
            .first()[0]
            or 0
        )
    with log.stage("fuzzy-candidates"):
        candidates = fuzzy.fuzzy_candidates(
            sample_rows,
            index,
            config.matching,
            plan=plan,
            broadcast_sample=n_sample <= config.crosscheck.fuzzy_broadcast_rows_max,
        )
        evidence = fuzzy.drop_exact(candidates, line_matches, matched).withColumn(
            "run_id", F.lit(run_id)
        )
        write_run(spark, evidence, config.table(T_FUZZY_EVIDENCE), run_id)
        plan.unpersist()
    fz = read_table(spark, config.table(T_FUZZY_EVIDENCE)).filter(F.col("run_id") == run_id)
    per_field = xc.fuzzy_field_counts(exact, fz)
    same = xc.same_record_lines_with_fuzzy(exact, fz, line_matches, matched)
    same_2plus = same.filter(F.col("max_fields_same_customer") >= 2).count()
    per_customer = xc.lines_per_customer_with_fuzzy(exact_per_customer, fz)
    expected = xc.chance_same_record(per_customer, lines_parsed).first().expected
    return per_field, {
        "same_record_2plus_with_fuzzy": int(same_2plus),
        "same_record_expected_with_fuzzy": float(expected or 0.0),
    }


def run_crosscheck(
    spark: SparkSession, config: Config, run_id: str, claimed_records: int | None = None
) -> dict:
    """Sample keys x match index -> evidence + field_summary + crosscheck_runs for the run,
    then the provenance evidence (canaries, earlier samples, profile, claimed size)."""
    cc = config.crosscheck
    runs = read_table(spark, config.table(T_SAMPLE_RUNS), needed_by="crosscheck")
    run = runs.filter(F.col("run_id") == run_id).first()
    if run is None:
        raise MissingTableError(f"run {run_id} has no ingested sample: run ingest-sample first")
    builds = read_table(spark, config.table(T_INDEX_BUILDS), needed_by="crosscheck")
    last = builds.orderBy(F.col("built_at").desc()).first()
    if last is None or last.key_fingerprint != run.key_fingerprint:
        raise ConfigError(
            "the match index was built with another hash key than the sample: rebuild it "
            "(ingest-warehouse --rebuild-index) with the same key"
        )
    with log.stage("crosscheck") as st:
        normalised = read_table(spark, config.table(T_NORMALISED)).filter(F.col("run_id") == run_id)
        index = read_table(spark, config.table(T_INDEX), needed_by="crosscheck")
        sample_keys = keys.sample_keys_long(normalised, cc.fields).persist(
            StorageLevel.MEMORY_AND_DISK
        )
        n_keys = sample_keys.count()
        matched = xc.matched_index_rows(
            index, sample_keys, broadcast=n_keys <= cc.broadcast_sample_keys_max
        )
        matched = matched.persist(StorageLevel.MEMORY_AND_DISK)
        selectivity = xc.key_selectivity(matched)
        line_matches = xc.with_expansion(
            xc.line_field_matches(sample_keys, selectivity),
            cc.max_customers_per_key,
            cc.max_customers_unconfirmed,
        ).persist(StorageLevel.MEMORY_AND_DISK)
        evidence = xc.evidence_rows(line_matches, matched)
        write_run(
            spark, evidence.withColumn("run_id", F.lit(run_id)), config.table(T_EVIDENCE), run_id
        )
        ev = read_table(spark, config.table(T_EVIDENCE)).filter(F.col("run_id") == run_id)
        same = xc.same_record_lines(ev)
        lines = (
            line_matches.groupBy("line_number")
            .agg(F.max(F.col("field").isin("email", "phone").cast("int")).alias("ident"))
            .join(same, on="line_number", how="full")
            .agg(
                F.count(F.col("ident")).alias("matched_any_field"),
                F.coalesce(F.sum("ident"), F.lit(0)).alias("matched_unique_identifier"),
                F.count(F.when(F.col("max_fields_same_customer") >= 2, 1)).alias(
                    "same_record_2plus"
                ),
            )
            .first()
            .asDict()
        )
        per_customer = xc.lines_per_customer(line_matches, matched).persist()
        expected = xc.chance_same_record(per_customer, run.lines_parsed).first().expected
        fuzzy_counts = {"same_record_2plus_with_fuzzy": int(lines["same_record_2plus"]),
                        "same_record_expected_with_fuzzy": float(expected or 0.0)}  # fmt: skip
        fuzzy_fields = None
        fuzzy_tables = (config.table(T_FUZZY_INDEX), config.table(T_SAMPLE_FUZZY))
        if cc.fuzzy and all(table_exists(spark, t) for t in fuzzy_tables):
            fuzzy_fields, fuzzy_counts = _fuzzy_crosscheck(
                spark, config, run_id, ev, line_matches, matched, per_customer, run.lines_parsed
            )
        summary = xc.field_summary(normalised, line_matches, cc.fields, fuzzy_fields)
        write_run(
            spark, summary.withColumn("run_id", F.lit(run_id)), config.table(T_SUMMARY), run_id
        )
        per_customer.unpersist()
        diagnostics = xc.exact_blocking_diagnostics(
            line_matches, cc.max_customers_per_key
        ).withColumn("action", _blocking_action(cc.max_customers_per_key, cc.pair_budget))
        write_run(
            spark, diagnostics.withColumn("run_id", F.lit(run_id)), config.table(T_BLOCKING), run_id
        )
        for df in (sample_keys, matched, line_matches):
            df.unpersist()
        st["rows"] = n_keys
    result = {
        "run_id": run_id,
        "finished_at": datetime.now(timezone.utc),
        **{k: int(v) for k, v in lines.items()},
        "same_record_expected": float(expected or 0.0),
        **fuzzy_counts,
    }
    write_run(spark, _runs_row(spark, result), config.table(T_RESULTS), run_id)
    _provenance(spark, config, run_id, run.started_at, claimed_records, last)
    return result


def _canary_ids(spark: SparkSession, config: Config) -> DataFrame:
    pc = config.provenance
    ids = spark.createDataFrame([(i,) for i in pc.canary_ids], "customer_id string")
    if pc.canary_table:
        table = read_table(spark, pc.canary_table, needed_by="provenance.canary_table")
        listed = table.select(F.col("customer_id").cast("string").alias("customer_id"))
        ids = ids.unionByName(listed)
    return ids.distinct()


def _provenance(
    spark: SparkSession,
    config: Config,
    run_id: str,
    ingested_at: datetime,
    claimed: int | None,
    build: Any,
) -> None:
    """canary_evidence, recycled_overlap (then this run's keys into prior_samples),
    sample_profile, profile_divergence and provenance_runs for the run."""
    pc, run_col = config.provenance, F.lit(run_id)
    with log.stage("provenance") as st:
        evidence = read_table(spark, config.table(T_EVIDENCE)).filter(F.col("run_id") == run_id)
        canaries = _canary_ids(spark, config).persist()
        n_canaries = canaries.count()
        hits = prov.canary_hits(evidence, canaries, pc.canary_fields)
        write_run(spark, hits.withColumn("run_id", run_col), config.table(T_CANARY), run_id)
        canaries.unpersist()

        normalised = read_table(spark, config.table(T_NORMALISED)).filter(F.col("run_id") == run_id)
        sample_keys = keys.sample_keys_long(normalised, config.crosscheck.fields)
        sample_keys = sample_keys.persist(StorageLevel.MEMORY_AND_DISK)
        n_keys = sample_keys.count()
        prior_location = config.table(T_PRIOR)
        if table_exists(spark, prior_location):
            prior = read_table(spark, prior_location)
            broadcast = n_keys <= config.crosscheck.broadcast_sample_keys_max
            overlap = prov.recycled_overlap(sample_keys, prior, run_id, ingested_at, broadcast)
        else:
            overlap = spark.createDataFrame([], OVERLAP_SCHEMA)
        write_run(spark, overlap.withColumn("run_id", run_col), config.table(T_RECYCLED), run_id)
        mine = prov.prior_sample_keys(sample_keys, run_id, ingested_at)
        write_run(spark, mine, prior_location, run_id)
        sample_keys.unpersist()

        raw = read_table(spark, config.table(T_SAMPLE_RAW)).filter(F.col("run_id") == run_id)
        located = keys.with_line_country(raw, config.normalise, config.sample.default_country)
        people = located.select("email", "phone", "country")
        values = prov.profile_values(people, config.normalise)
        counts = prov.profile_counts(values, 1).persist()  # not bucketed yet: never stored
        wh_location = config.table(T_WAREHOUSE_PROFILE)
        if table_exists(spark, wh_location):
            warehouse = read_table(spark, wh_location)
        else:
            warehouse = spark.createDataFrame([], COUNTS_SCHEMA)
        bucketed = prov.bucket_counts(counts, pc.profile_min_count)
        comparison = prov.compare_profiles(bucketed, warehouse).withColumn("run_id", run_col)
        write_run(spark, comparison, config.table(T_PROFILE), run_id)
        divergence = prov.profile_divergence(counts, warehouse).withColumn("run_id", run_col)
        write_run(spark, divergence, config.table(T_DIVERGENCE), run_id)
        counts.unpersist()

        customers = _warehouse_customers(spark, config, build)
        row = {"run_id": run_id, "claimed_records": claimed, "warehouse_customers": int(customers),
               "canary_ids_listed": int(n_canaries)}  # fmt: skip
        row_df = _runs_row(spark, row, PROVENANCE_RUNS_SCHEMA)
        write_run(spark, row_df, config.table(T_PROVENANCE), run_id)
        st["rows"] = n_keys


def _warehouse_customers(spark: SparkSession, config: Config, build: Any) -> int:
    """Customers in the warehouse at the index build `build` (its `index_builds` row, counted
    then); an index built by an older version without that count is counted here."""
    counted = _get(build, "customers")
    if counted is not None:
        return int(counted)
    index = read_table(spark, config.table(T_INDEX))
    return int(index.agg(F.countDistinct("customer_id").alias("n")).first().n)


# ---- report -------------------------------------------------------------------------------


def _rows(spark: SparkSession, config: Config, name: str, run_id: str) -> list[dict]:
    """A per-run table's rows for the run, as dicts ([] when the table is not there yet)."""
    if not table_exists(spark, config.table(name)):
        return []
    df = read_table(spark, config.table(name)).filter(F.col("run_id") == run_id).drop("run_id")
    return [r.asDict() for r in df.collect()]


def _provenance_sections(
    spark: SparkSession, config: Config, run_id: str, claimed: int | None
) -> dict:
    """The canaries, claimed_size, recycled, profile and schema sections (counts only)."""
    pc = config.provenance
    runs = _rows(spark, config, T_PROVENANCE, run_id)
    if not runs:  # cross-checked by an older version: nothing to add
        return {}
    run = runs[0]
    overlap = _rows(spark, config, T_RECYCLED, run_id)
    earlier = sorted({r["earlier_run_id"] for r in overlap})
    verdicts = {}
    if earlier and table_exists(spark, config.table(T_VERDICTS)):
        table = read_table(spark, config.table(T_VERDICTS)).filter(F.col("run_id").isin(*earlier))
        verdicts = {r.run_id: r.asDict() for r in table.collect()}
    claimed = claimed if claimed is not None else run["claimed_records"]
    profile = (_rows(spark, config, T_PROFILE, run_id), _rows(spark, config, T_DIVERGENCE, run_id))
    hits = _rows(spark, config, T_CANARY, run_id)
    return {
        "canaries": prov.canary_section(hits, run["canary_ids_listed"]),
        "claimed_size": prov.claimed_size_section(claimed, run["warehouse_customers"]),
        "recycled": prov.recycled_section(overlap, verdicts, pc),
        "profile": prov.profile_section(*profile, pc),
        "schema": prov.schema_section(_rows(spark, config, T_SCHEMA, run_id)),
    }


def make_report(
    spark: SparkSession, config: Config, run_id: str, claimed_records: int | None = None
) -> dict:
    """Delta tables of the run -> report.json + report.md in <reports_dir>/<run_id>/, and the
    verdict into run_verdicts, where later samples that repeat this one find it.
    `claimed_records` overrides the claim given to crosscheck."""
    with log.stage("report"):
        run = (
            read_table(spark, config.table(T_SAMPLE_RUNS)).filter(F.col("run_id") == run_id).first()
        )
        res = (
            read_table(spark, config.table(T_RESULTS), needed_by="report")
            .filter(F.col("run_id") == run_id)
            .first()
        )
        if run is None or res is None:
            raise MissingTableError(
                f"run {run_id} has not been cross-checked yet: run crosscheck first"
            )
        rows = (
            read_table(spark, config.table(T_SUMMARY)).filter(F.col("run_id") == run_id).collect()
        )
        by_field = {r.field: r for r in rows}
        fields = {
            f: {
                "lines_with_value": by_field[f].lines_with_value,
                "lines_matched": by_field[f].lines_matched,
                "match_rate": round(by_field[f].match_rate, 6),
                "distinct_keys_matched": by_field[f].distinct_keys_matched,
                "max_customers_per_key": by_field[f].max_customers_per_key,
                "lines_matched_exact": by_field[f].lines_matched_exact,
                "lines_matched_fuzzy": by_field[f].lines_matched_fuzzy,
                "lines_matched_weak": by_field[f].lines_matched_weak,
            }
            for f in config.crosscheck.fields
        }
        normalised = read_table(spark, config.table(T_NORMALISED))
        counted = []
        if "country_source" in normalised.columns:  # ingested by an older version: none
            this_run = normalised.filter(F.col("run_id") == run_id)
            counted = [r.asDict() for r in country_counts(this_run).collect()]
        sample = {
            "lines_read": run.lines_read,
            "lines_parsed": run.lines_parsed,
            "lines_quarantined": run.lines_quarantined,
            "quarantine_reasons": dict(run.quarantine_reasons or {}),
            "countries": country_section(counted),
        }
        lines = {
            "matched_any_field": res.matched_any_field,
            "same_record_2plus": res.same_record_2plus,
            "matched_unique_identifier": res.matched_unique_identifier,
            "same_record_expected_by_chance": round(res.same_record_expected, 3),
            "same_record_2plus_with_fuzzy": res.same_record_2plus_with_fuzzy,
            "same_record_expected_with_fuzzy": round(res.same_record_expected_with_fuzzy, 3),
        }
        blocking = [
            {
                "field": b.field,
                "candidate_pairs": b.candidate_pairs,
                "expanded_pairs": b.expanded_pairs,
                "hot_keys": b.hot_keys,
                "heaviest_keys": [k.asDict() for k in b.heaviest_keys],
                "action": b.action,
            }
            for b in read_table(spark, config.table(T_BLOCKING))
            .filter(F.col("run_id") == run_id)
            .collect()
        ]
        order = {f: i for i, f in enumerate(config.crosscheck.fields)}
        blocking.sort(key=lambda b: order.get(b["field"], len(order)))
        fuzzy_blocking = []
        if table_exists(spark, config.table(T_FUZZY_BLOCKING)):
            rules = read_table(spark, config.table(T_FUZZY_BLOCKING)).filter(
                F.col("run_id") == run_id
            )
            fuzzy_blocking = [
                {**r.asDict(), "heaviest_keys": [k.asDict() for k in r.heaviest_keys]}
                for r in rules.drop("run_id").orderBy("rule").collect()
            ]
        inputs = {
            "files": [{"name": f.name, "bytes": f.bytes, "format": f.format} for f in run.files]
        }
        extra = {
            "blocking": blocking,
            "fuzzy_blocking": fuzzy_blocking,
            "inputs": inputs,
            "quality": quality.read_results(spark, config, run_id),
        }
        sections = _provenance_sections(spark, config, run_id, claimed_records)
        report = rep.build_report(run_id, sample, fields, lines, config.verdict, extra, sections)
        v = report["verdict"]
        verdict = {"run_id": run_id, "reported_at": datetime.now(timezone.utc),
                   "verdict": v["code"], "evidence_verdict": v["evidence_code"]}  # fmt: skip
        verdict_row = _runs_row(spark, verdict, VERDICTS_SCHEMA)
        write_run(spark, verdict_row, config.table(T_VERDICTS), run_id)
        out = Path(config.reports_dir.removeprefix("file:")) / run_id
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(rep.to_json(report), encoding="utf-8")
        (out / "report.md").write_text(rep.to_markdown(report), encoding="utf-8")
    report["_dir"] = str(out)
    return report
