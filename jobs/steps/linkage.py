"""Record linkage inside crosscheck: the run's exact and fuzzy evidence -> comparison vectors
-> a model trained on them (linkage_model) -> each line's best customer (line_links)."""

from __future__ import annotations

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import log
from jobs import tables as T
from jobs.io.delta import read_table, table_exists, write_run
from jobs.match import linkage as lk
from jobs.settings import FIELDS, Config, LinkageConf
from jobs.steps.common import run_table
from jobs.steps.warehouse_u import WarehouseU


def _evidence(exact: DataFrame, fuzzy: DataFrame | None) -> DataFrame:
    """Both matchers' rows (the fuzzy matcher keeps a line's `near` candidates of a rule only
    where they are few: `fuzzy.candidates`)."""
    cols = ["line_number", "field", "customer_id", "method"]
    out = exact.select(*cols, F.lit(None).cast("double").alias("score"))
    if fuzzy is None:
        return out
    return out.unionByName(fuzzy.select(*cols, "score"))


def _compared(
    config: Config,
    normalised: DataFrame,
    index: DataFrame,
    evidence: DataFrame,
    payload_rows: tuple[DataFrame, DataFrame] | None,
    held: DataFrame | None = None,
    broadcast_lines: bool = False,
    every_mask: bool = False,
) -> tuple[DataFrame, DataFrame, DataFrame]:
    """(evidence, line fields, customers' `held_mask`) of every field in the linkage levels: the
    matchers' evidence, its address rows as parts, and each candidate pair's fields compared
    on the payloads (`payload_rows`: the run's sample_fuzzy rows and the fuzzy index).
    `held`: the index build's `customer_fields`, read for the candidates' masks instead of
    both indexes (with `payload_rows` only: it holds the payloads' parts).
    `broadcast_lines`: the lines' payloads are sent whole to the pairs (`compared_pairs`).
    `every_mask`: every customer's mask is read from `held`, not its candidates' only
    (`LinkageConf.reads_every_mask`): the vectors' left join keeps the candidates."""
    levels = config.matching.linkage.levels
    fields = [*levels, *[p for f in levels for p in lk.parts_of(levels[f])]]
    keyed = [f for f in FIELDS if f"{f}_key" in normalised.columns]
    candidates = evidence.filter(F.col("customer_id").isNotNull())
    wanted = candidates.select("customer_id").distinct()
    line_fields = lk.line_fields_of(normalised, keyed)
    rows = evidence.unionByName(lk.address_evidence_parts(evidence))
    lines = line_fields.unionByName(lk.address_presence(line_fields, "line_number"))
    customer_index = None  # the candidates' fuzzy index rows

    def of_candidates(df: DataFrame) -> DataFrame:
        return df.join(wanted, on="customer_id", how="left_semi")

    if payload_rows is not None:
        if held is None:  # the candidates' held fields are made from their index rows
            customer_index = of_candidates(payload_rows[1])
        compared, parts = _payload_scores(
            config, normalised, candidates, payload_rows, broadcast_lines
        )
        rows = rows.unionByName(compared)
        lines = lines.unionByName(parts)

    def kept(df: DataFrame) -> DataFrame:
        return df.filter(F.col("field").isin(fields))

    rows = lk.without_silent_zeros(kept(rows), levels)
    if held is not None and payload_rows is not None:
        masks = lk.names_mask(held if every_mask else of_candidates(held), levels)
    else:  # what customer_fields holds, made for the candidates from both indexes
        customers = lk.customer_field_rows(of_candidates(index), customer_index)
        masks = lk.held_mask(kept(customers), "customer_id", levels)
    # the lines' fields move in the chance baseline; the customers' are read twice as masks
    return rows, kept(lines).distinct(), masks


def _payload_scores(
    config: Config,
    normalised: DataFrame,
    candidates: DataFrame,
    payload_rows: tuple[DataFrame, DataFrame],
    broadcast_lines: bool,
) -> tuple[DataFrame, DataFrame]:
    """(the candidate pairs' compared evidence, the address parts and dates the lines hold):
    each pair's fields compared on both sides' payloads (`compare.compared_pairs`)."""
    levels = config.matching.linkage.levels
    sample_rows, fuzzy_index = payload_rows
    pairs = lk.settled_pairs(candidates, levels)
    # a line's date is in sample_normalised whether or not it made a block
    births = lk.line_birth_payloads(normalised)
    line_p = lk.payloads(sample_rows, "line_number", ("name", "address")).unionByName(births)
    # the whole index: the join with the pairs keeps the candidates' rows, and a semi-join
    # first would shuffle them twice (4 GB at 10 M customers)
    customer_p = lk.payloads(fuzzy_index, "customer_id", distinct=False)
    floors, settles = lk.score_floors(levels), lk.name_settled_at(levels)
    initial = config.matching.initial_score
    compared = lk.compared_pairs(
        pairs, line_p, customer_p, initial, floors, broadcast_lines, settles
    )
    # the parts a line holds, read off its rows as they are: `line_p`'s distinct values would
    # be made again here, hashing every payload
    addresses = lk.payloads(sample_rows, "line_number", ("address",), distinct=False)
    return compared, lk.part_presence(addresses.unionByName(births), "line_number")


def write_links(
    spark: SparkSession,
    config: Config,
    run_id: str,
    normalised: DataFrame,
    index: DataFrame,
    exact: DataFrame,
    fuzzy: DataFrame | None,
    u: WarehouseU,
    payload_rows: tuple[DataFrame, DataFrame] | None = None,
) -> dict:
    """line_links and linkage_model for the run; returns the linked-line counts, and the
    lines the same model links once each field is re-paired with other lines at random.
    `u`: the warehouse's u of the index build (`steps.warehouse_u`).
    `payload_rows`: (the run's sample_fuzzy rows, the fuzzy index), when fuzzy matching ran:
    every candidate pair's names and address parts are then compared, and the candidates'
    held fields read from the index build's `customer_fields` when it has one."""
    conf = config.matching.linkage
    levels = conf.levels
    held = _held_fields(spark, config, payload_rows)
    lines = normalised.count()
    small, every_mask = conf.broadcasts(lines), conf.reads_every_mask(lines, u.customers)
    with log.stage("linkage", broadcast_lines=small, every_mask=every_mask) as st:
        sides = (normalised, index, _evidence(exact, fuzzy), payload_rows, held)
        evidence, line_fields, customer_fields = _compared(config, *sides, small, every_mask)
        # kept: the run's vectors and the re-paired ones read them, neither compares again
        best, line_fields, customer_fields = (
            df.persist(StorageLevel.MEMORY_AND_DISK)
            for df in (lk.best_levels(evidence, levels), line_fields, customer_fields)
        )
        vectors = lk.vectors_of(best, line_fields, customer_fields, levels, small)
        vectors = vectors.persist(StorageLevel.MEMORY_AND_DISK)
        prior = lk.random_pair_prior(conf, u.customers)
        model = lk.train(vectors, conf, u.exact, prior, u.measured if payload_rows else None)
        gammas = [lk.gamma(f) for f in levels]
        pick = lk.one_to_one if conf.one_to_one else lk.best_per_line
        picked = pick(lk.scored_pairs(vectors, model), extra=gammas).persist()
        confident = picked.filter(F.col("match_probability") >= conf.threshold).count()
        share = lk.sample_share(confident, lines, conf)
        links = picked.withColumn("linked", lk.linked(model, conf, share))
        write_run(spark, links.withColumn("run_id", F.lit(run_id)), config.table(T.LINKS), run_id)
        picked.unpersist()
        write_run(spark, _model_rows(spark, model, levels, run_id), config.table(T.LINKAGE_MODEL),
                  run_id)  # fmt: skip
        vectors.unpersist()
        counts = _counts(spark, config, run_id)
        st.update(rows=counts["candidate_lines"], linked=counts["linked_lines"],
                  em_iterations=model.em_iterations, share=float(f"{share:.3g}"))  # fmt: skip
    with log.stage("linkage-chance") as chance:
        shuffled = _repaired_vectors(
            normalised, best, line_fields, customer_fields, conf, model, share, small
        )
        at_random = pick(lk.scored_pairs(shuffled, model), extra=gammas)
        counts["linked_by_chance"] = chance["rows"] = at_random.filter(
            lk.linked(model, conf, share)
        ).count()
        for df in (best, line_fields, customer_fields):
            df.unpersist()
    return counts


def _held_fields(
    spark: SparkSession, config: Config, payload_rows: tuple[DataFrame, DataFrame] | None
) -> DataFrame | None:
    """The index build's `customer_fields`, where payloads are compared and a build wrote it."""
    name = config.table(T.CUSTOMER_FIELDS)
    return read_table(spark, name) if payload_rows and table_exists(spark, name) else None


def _repaired_vectors(
    normalised: DataFrame,
    best: DataFrame,
    line_fields: DataFrame,
    customer_fields: DataFrame,
    conf: LinkageConf,
    model: lk.LinkageModel,
    share: float,
    broadcast_lines: bool = False,
) -> DataFrame:
    """The comparison vectors once each field's evidence and presence moved to other lines
    (`best`: the pairs' `best_levels`), of the re-paired pairs that can link (`may_link`):
    only the fields at some level move where a pair with none cannot link."""
    if not lk.levelless_may_link(model, conf, share):
        best = lk.levelled_fields(best, conf.levels)
    moves = lk.field_moves(normalised, conf.levels, conf.chance_seed)
    return lk.vectors_of(
        lk.repaired_levels(best, moves, conf.levels).filter(lk.may_link(model, conf, share)),
        lk.repaired(line_fields, moves),
        customer_fields,
        conf.levels,
        broadcast_lines,
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
