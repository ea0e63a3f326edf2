"""Record linkage inside crosscheck: the run's exact and fuzzy evidence -> comparison vectors
-> a model trained on them (linkage_model) -> each line's best customer (line_links)."""

from __future__ import annotations

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import log
from jobs import tables as T
from jobs.io.delta import write_run
from jobs.match import linkage as lk
from jobs.settings import Config, LinkageConf
from jobs.steps.common import run_table


def _evidence(exact: DataFrame, fuzzy: DataFrame | None) -> DataFrame:
    cols = ["line_number", "field", "customer_id", "method"]
    out = exact.select(*cols, F.lit(None).cast("double").alias("score"))
    return out if fuzzy is None else out.unionByName(fuzzy.select(*cols, "score"))


def write_links(
    spark: SparkSession,
    config: Config,
    run_id: str,
    normalised: DataFrame,
    index: DataFrame,
    exact: DataFrame,
    fuzzy: DataFrame | None,
) -> dict:
    """line_links and linkage_model for the run; returns the linked-line counts, and the
    lines the same model links once each field is re-paired with other lines at random."""
    conf = config.matching.linkage
    levels = conf.levels
    with log.stage("linkage") as st:
        # read by both the run's vectors and the re-paired ones: kept, not read from Delta twice
        evidence = _evidence(exact, fuzzy).filter(F.col("field").isin(list(levels))).persist()
        candidates = evidence.filter(F.col("customer_id").isNotNull()).select("customer_id")
        line_fields = lk.line_fields_of(normalised, list(levels)).persist()
        customer_fields = lk.customer_fields_of(index, candidates).persist()
        vectors = lk.comparison_vectors(evidence, line_fields, customer_fields, levels)
        vectors = vectors.persist(StorageLevel.MEMORY_AND_DISK)
        measured = lk.exact_u(index).collect()
        prior = lk.random_pair_prior(conf, max((r.customers for r in measured), default=1))
        model = lk.train(vectors, conf, {r.field: r.u for r in measured}, prior)
        gammas = [lk.gamma(f) for f in levels]
        pick = lk.one_to_one if conf.one_to_one else lk.best_per_line
        links = pick(lk.scored_pairs(vectors, model), extra=gammas).withColumn(
            "linked", F.col("match_probability") >= conf.threshold
        )
        write_run(spark, links.withColumn("run_id", F.lit(run_id)), config.table(T.LINKS), run_id)
        write_run(spark, _model_rows(spark, model, levels, run_id), config.table(T.LINKAGE_MODEL),
                  run_id)  # fmt: skip
        vectors.unpersist()
        counts = _counts(spark, config, run_id)
        st.update(rows=counts["candidate_lines"], linked=counts["linked_lines"],
                  em_iterations=model.em_iterations)  # fmt: skip
    with log.stage("linkage-chance") as chance:
        shuffled = _repaired_vectors(normalised, evidence, line_fields, customer_fields, conf)
        at_random = pick(lk.scored_pairs(shuffled, model))
        counts["linked_by_chance"] = chance["rows"] = at_random.filter(
            F.col("match_probability") >= conf.threshold
        ).count()
        for df in (evidence, line_fields, customer_fields):
            df.unpersist()
    return counts


def _repaired_vectors(
    normalised: DataFrame,
    evidence: DataFrame,
    line_fields: DataFrame,
    customer_fields: DataFrame,
    conf: LinkageConf,
) -> DataFrame:
    """The comparison vectors once each field's evidence and presence moved to other lines."""
    moves = lk.permutations(normalised, list(conf.levels), conf.chance_seed)
    return lk.comparison_vectors(
        lk.repaired(evidence, moves), lk.repaired(line_fields, moves), customer_fields, conf.levels
    )


def _model_rows(
    spark: SparkSession, model: lk.LinkageModel, levels: dict, run_id: str
) -> DataFrame:
    names = {f: ["else", *[lv.name for lv in reversed(rules)]] for f, rules in levels.items()}
    rows = [
        {**r, "level_name": names[r["field"]][r["level"]], "prior": model.prior,
         "em_iterations": model.em_iterations}
        for r in model.rows()
    ]  # fmt: skip
    return spark.createDataFrame(rows, T.LINKAGE_MODEL_SCHEMA).withColumn("run_id", F.lit(run_id))


def _counts(spark: SparkSession, config: Config, run_id: str) -> dict:
    links = run_table(spark, config, T.LINKS, run_id)
    row = links.agg(
        F.count(F.lit(1)).alias("candidate_lines"),
        F.sum(F.col("linked").cast("int")).alias("linked_lines"),
    ).first()
    return {"candidate_lines": int(row.candidate_lines or 0),
            "linked_lines": int(row.linked_lines or 0)}  # fmt: skip
