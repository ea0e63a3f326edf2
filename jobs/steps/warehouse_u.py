"""The warehouse's u-probabilities, a fixed cost of the index and not of each claim: the
exact levels' key frequencies (`linkage.exact_u`, a pass over the whole match index) and the
compared levels' random customer pairs (`linkage.measured_u`, two draws from the fuzzy index).
Measured once per index build and linkage levels into `linkage_u`, read by every claim."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import log
from jobs import tables as T
from jobs.io.delta import append, read_table, table_exists
from jobs.match import linkage as lk
from jobs.settings import Config
from jobs.steps.index_plan import refreshed_since


@dataclass(frozen=True)
class WarehouseU:
    """u per field of the exact levels, u per (field, level name) of the compared levels,
    and the customers of the largest field (the prior's denominator)."""

    exact: dict[str, float] = field(default_factory=dict)
    measured: dict[tuple[str, str], float] = field(default_factory=dict)
    customers: int = 1


def levels_fingerprint(config: Config) -> str:
    """What the measured u depends on besides the warehouse: the levels, the pairs drawn, the
    draw's seed and the name comparator's start score."""
    conf = config.matching.linkage
    text = repr((conf.fields, conf.u_pairs, conf.chance_seed, config.matching.initial_score))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _measure(spark: SparkSession, config: Config) -> WarehouseU:
    conf = config.matching.linkage
    exact = lk.exact_u(read_table(spark, config.table(T.INDEX))).collect()
    measured = {}
    fuzzy_index = config.table(T.FUZZY_INDEX)
    if config.crosscheck.fuzzy and table_exists(spark, fuzzy_index):
        measured = lk.measured_u(
            read_table(spark, fuzzy_index), conf.levels, conf.u_pairs, conf.chance_seed,
            config.matching.initial_score,
        )  # fmt: skip
    return WarehouseU(
        exact={r.field: r.u for r in exact},
        measured=measured,
        customers=max((r.customers for r in exact), default=1),
    )


def _rows(u: WarehouseU, built_at: datetime, levels: str, measured_at: datetime) -> list[dict]:
    exact = [
        {"field": f, "level": None, "u": v, "customers": u.customers} for f, v in u.exact.items()
    ]
    measured = [
        {"field": f, "level": lv, "u": v, "customers": None} for (f, lv), v in u.measured.items()
    ]
    return [
        {"built_at": built_at, "levels": levels, "measured_at": measured_at, **r}
        for r in exact + measured
    ]


def _of_rows(rows: list) -> WarehouseU:
    return WarehouseU(
        exact={r.field: r.u for r in rows if r.level is None},
        measured={(r.field, r.level): r.u for r in rows if r.level is not None},
        customers=max((r.customers or 1 for r in rows if r.level is None), default=1),
    )


def write_warehouse_u(
    spark: SparkSession, config: Config, built_at: datetime, refresh: bool = False
) -> WarehouseU:
    """Measure the u of the index built at `built_at` and append it to `linkage_u`. A
    `refresh` (incremental build) keeps the u last measured while few customers changed since
    (`_last_measured`): a few changed customers move a u of random pairs by less than its
    own sampling error, and measuring it again cost a quarter of a refresh at 1 M customers."""
    with log.stage("linkage-u") as st:
        last = _last_measured(spark, config, built_at) if refresh else None
        if last is None:
            u, measured_at = _measure(spark, config), built_at
        else:
            u, measured_at = last
            st["kept_from"] = measured_at.isoformat()
        rows = _rows(u, built_at, levels_fingerprint(config), measured_at)
        append(spark.createDataFrame(rows, T.LINKAGE_U_SCHEMA), config.table(T.LINKAGE_U))
        st["rows"] = len(rows)
    return u


def _last_measured(
    spark: SparkSession, config: Config, built_at: datetime
) -> tuple[WarehouseU, datetime] | None:
    """The u measured last for the current levels and when, if the builds since then (this
    one included) were all refreshes that together changed at most `linkage.u_refresh_share`
    of the customers; else None."""
    location = config.table(T.LINKAGE_U)
    if not table_exists(spark, location):
        return None
    # a few dozen rows per build: read in one pass, the last build's rows picked here
    stored = read_table(spark, location).filter(F.col("levels") == levels_fingerprint(config))
    rows = stored.collect()
    if not rows:
        return None
    latest = max(r.built_at for r in rows)
    rows = [r for r in rows if r.built_at == latest]
    # the u the last build kept, or measured (rows written before the column: measured then)
    measured_at = rows[0].asDict().get("measured_at") or latest
    since = refreshed_since(spark, config, measured_at, built_at)
    if since is None or since[1] is None:
        return None
    refreshed, customers = since
    if refreshed > config.matching.linkage.u_refresh_share * (customers or 1):
        return None
    return _of_rows(rows), measured_at


def warehouse_u(spark: SparkSession, config: Config, built_at: datetime) -> WarehouseU:
    """The u of the index built at `built_at` for the current levels: read from `linkage_u`,
    or measured and written there when that build or these levels have none yet."""
    location = config.table(T.LINKAGE_U)
    if table_exists(spark, location):
        rows = (
            read_table(spark, location)
            .filter(
                (F.col("built_at") == F.lit(built_at))
                & (F.col("levels") == levels_fingerprint(config))
            )
            .collect()
        )
        if rows:
            return _of_rows(rows)
    log.info("no linkage u for this index build and levels: measuring it", stage="linkage-u")
    return write_warehouse_u(spark, config, built_at)
