"""crosscheck: the run's sample keys x the match index -> evidence, field_summary,
blocking_diagnostics and crosscheck_runs; with fuzzy matching, sample_fuzzy x fuzzy_index ->
fuzzy_evidence and fuzzy_blocking; then the provenance evidence (`steps.provenance`)."""

from __future__ import annotations

from datetime import datetime, timezone

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import log
from jobs import tables as T
from jobs.errors import ConfigError, MissingTableError
from jobs.io.delta import clear_run, read_table, table_exists, write_run
from jobs.match import exact as xc
from jobs.match import fuzzy, keys
from jobs.match.lines import blocking_action, line_counts
from jobs.settings import Config
from jobs.steps.common import one_row, run_table
from jobs.steps.linkage import write_links
from jobs.steps.provenance import write_provenance
from jobs.steps.warehouse_u import WarehouseU, warehouse_u


def run_crosscheck(
    spark: SparkSession, config: Config, run_id: str, claimed_records: int | None = None
) -> dict:
    """Sample keys x match index -> evidence + field_summary + crosscheck_runs for the run,
    then the provenance evidence (canaries, earlier samples, profile, claimed size)."""
    runs = read_table(spark, config.table(T.SAMPLE_RUNS), needed_by="crosscheck")
    run = runs.filter(F.col("run_id") == run_id).first()
    if run is None:
        raise MissingTableError(f"run {run_id} has no ingested sample: run ingest-sample first")
    builds = read_table(spark, config.table(T.INDEX_BUILDS), needed_by="crosscheck")
    last = builds.orderBy(F.col("built_at").desc()).first()
    if last is None or last.key_fingerprint != run.key_fingerprint:
        raise ConfigError(
            "the match index was built with another hash key than the sample: rebuild it "
            "(ingest-warehouse --rebuild-index) with the same key"
        )
    with log.stage("crosscheck") as st:
        u = warehouse_u(spark, config, last.built_at)
        result = _exact(spark, config, run_id, run.lines_parsed, u, st)
    write_run(spark, one_row(spark, result), config.table(T.RESULTS), run_id)
    write_provenance(spark, config, run_id, run.started_at, claimed_records, last)
    return result


def _exact(
    spark: SparkSession, config: Config, run_id: str, lines_parsed: int, u: WarehouseU, st: dict
) -> dict:
    """The exact keys' evidence and counts, then the fuzzy ones; the crosscheck_runs row."""
    cc = config.crosscheck
    normalised = run_table(spark, config, T.NORMALISED, run_id)
    index = read_table(spark, config.table(T.INDEX), needed_by="crosscheck")
    sample_keys = keys.sample_keys_long(normalised, cc.fields).persist(StorageLevel.MEMORY_AND_DISK)
    st["rows"] = n_keys = sample_keys.count()
    broadcast = n_keys <= cc.broadcast_sample_keys_max
    matched = xc.matched_index_rows(index, sample_keys, broadcast=broadcast)
    matched = matched.persist(StorageLevel.MEMORY_AND_DISK)
    line_matches = xc.with_expansion(
        xc.line_field_matches(sample_keys, xc.key_selectivity(matched)),
        cc.max_customers_per_key,
        cc.max_customers_unconfirmed,
    ).persist(StorageLevel.MEMORY_AND_DISK)
    evidence = xc.evidence_rows(line_matches, matched).withColumn("run_id", F.lit(run_id))
    write_run(spark, evidence, config.table(T.EVIDENCE), run_id)
    ev = run_table(spark, config, T.EVIDENCE, run_id)
    lines = line_counts(line_matches, xc.same_record_lines(ev)).first().asDict()
    per_customer = xc.lines_per_customer(line_matches, matched).persist()
    expected = xc.chance_same_record(per_customer, lines_parsed).first().expected
    fuzzy_counts = {"same_record_2plus_with_fuzzy": int(lines["same_record_2plus"]),
                    "same_record_expected_with_fuzzy": float(expected or 0.0)}  # fmt: skip
    fuzzy_fields = fz = payload_rows = None
    fuzzy_tables = (config.table(T.FUZZY_INDEX), config.table(T.SAMPLE_FUZZY))
    if cc.fuzzy and all(table_exists(spark, t) for t in fuzzy_tables):
        fuzzy_fields, fuzzy_counts = _fuzzy(
            spark, config, run_id, ev, line_matches, matched, per_customer, lines_parsed
        )
        fz = run_table(spark, config, T.FUZZY_EVIDENCE, run_id)
        payload_rows = (
            run_table(spark, config, T.SAMPLE_FUZZY, run_id),
            read_table(spark, config.table(T.FUZZY_INDEX)),
        )
    else:  # a re-run without fuzzy matching: the report must not show the first run's
        for table in (T.FUZZY_EVIDENCE, T.FUZZY_BLOCKING):
            clear_run(spark, config.table(table), run_id)
    links = write_links(spark, config, run_id, normalised, index, ev, fz, u, payload_rows)
    summary = xc.field_summary(normalised, line_matches, cc.fields, fuzzy_fields)
    write_run(spark, summary.withColumn("run_id", F.lit(run_id)), config.table(T.SUMMARY), run_id)
    per_customer.unpersist()
    action = blocking_action(cc.max_customers_per_key, cc.exact_pairs_flagged)
    diagnostics = xc.exact_blocking_diagnostics(line_matches, cc.max_customers_per_key)
    diagnostics = diagnostics.withColumn("action", action).withColumn("run_id", F.lit(run_id))
    write_run(spark, diagnostics, config.table(T.BLOCKING), run_id)
    for df in (sample_keys, matched, line_matches):
        df.unpersist()
    return {
        "run_id": run_id,
        "finished_at": datetime.now(timezone.utc),
        **{k: int(v) for k, v in lines.items()},
        "same_record_expected": float(expected or 0.0),
        **fuzzy_counts,
        "linked_lines": links["linked_lines"],
        "linkage_candidate_lines": links["candidate_lines"],
        "linked_by_chance": links["linked_by_chance"],
    }


def _fuzzy(
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
    sample_rows = run_table(spark, config, T.SAMPLE_FUZZY, run_id)
    index = read_table(spark, config.table(T.FUZZY_INDEX))
    with log.stage("fuzzy-blocking") as st:
        # the sample's block keys go to every task unless the sample is too large for that
        small = sample_rows.count() <= config.crosscheck.fuzzy_broadcast_rows_max
        plan = fuzzy.plan_blocking(
            sample_rows, index, config.matching, broadcast_keys=small
        ).persist()
        n_sample = _write_blocking(spark, config, run_id, plan, st)
    with log.stage("fuzzy-candidates"):
        broadcast = n_sample <= config.crosscheck.fuzzy_broadcast_rows_max
        candidates = fuzzy.fuzzy_candidates(
            sample_rows, index, config.matching, plan=plan, broadcast_sample=broadcast
        )
        evidence = fuzzy.drop_exact(candidates, line_matches, matched)
        write_run(
            spark,
            evidence.withColumn("run_id", F.lit(run_id)),
            config.table(T.FUZZY_EVIDENCE),
            run_id,
        )
        plan.unpersist()
    fz = run_table(spark, config, T.FUZZY_EVIDENCE, run_id)
    per_field = xc.fuzzy_field_counts(exact, fz)
    same = xc.same_record_lines_with_fuzzy(exact, fz, line_matches, matched)
    same_2plus = same.filter(F.col("max_fields_same_customer") >= 2).count()
    per_customer = xc.lines_per_customer_with_fuzzy(exact_per_customer, fz)
    expected = xc.chance_same_record(per_customer, lines_parsed).first().expected
    return per_field, {
        "same_record_2plus_with_fuzzy": int(same_2plus),
        "same_record_expected_with_fuzzy": float(expected or 0.0),
    }


def _write_blocking(
    spark: SparkSession, config: Config, run_id: str, plan: fuzzy.BlockingPlan, st: dict
) -> int:
    """fuzzy_blocking for the run; returns the sample rows that will be joined."""
    blocked = plan.key_pairs.agg(
        F.sum("index_rows").alias("index_rows"),
        F.sum(F.when(~F.col("hot"), F.col("sample_rows"))).alias("sample_rows"),
    ).first()
    st["rows"] = int(blocked.index_rows or 0)  # index rows in the sample's blocks
    st["sample_rows_joined"] = n_sample = int(blocked.sample_rows or 0)
    diagnostics = plan.diagnostics.withColumn("run_id", F.lit(run_id))
    write_run(spark, diagnostics, config.table(T.FUZZY_BLOCKING), run_id)
    written = run_table(spark, config, T.FUZZY_BLOCKING, run_id)
    st["pairs_run"] = int(written.agg(F.sum("pairs_run")).first()[0] or 0)
    return n_sample
