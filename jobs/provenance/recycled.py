"""Recycled samples: the keyed hashes of earlier samples, kept to tell a sample that resells
an earlier one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.settings import FIELDS, ProvenanceConf


def prior_sample_keys(sample_keys: DataFrame, run_id: str, ingested_at: datetime) -> DataFrame:
    """(line_number, field, match_key) of one run -> the rows it leaves in `prior_samples`:
    (run_id, ingested_at, field, match_key), keyed hashes only, one row per distinct key."""
    return (
        sample_keys.select("field", "match_key")
        .distinct()
        .select(
            F.lit(run_id).alias("run_id"),
            F.lit(ingested_at).cast("timestamp").alias("ingested_at"),
            "field",
            "match_key",
        )
    )


def recycled_overlap(
    sample_keys: DataFrame,
    prior: DataFrame,
    run_id: str,
    ingested_at: datetime,
    broadcast: bool = True,
) -> DataFrame:
    """This run's keys against every earlier sample's: per earlier run sharing any key and per
    field, this run's distinct keys, how many of them that run had, and the share. A run is
    never compared with itself, nor with runs ingested after it."""
    mine = (
        sample_keys.filter(F.col("match_key").isNotNull()).select("field", "match_key").distinct()
    )
    totals = mine.groupBy("field").agg(F.count(F.lit(1)).alias("keys_this_run"))
    earlier = prior.filter(
        (F.col("run_id") != run_id) & (F.col("ingested_at") < F.lit(ingested_at).cast("timestamp"))
    )
    wanted = F.broadcast(mine) if broadcast else mine
    shared = (
        earlier.join(wanted, on=["field", "match_key"], how="inner")
        .groupBy("run_id", "ingested_at", "field")
        .agg(F.countDistinct("match_key").alias("keys_seen"))
    )
    runs = shared.select("run_id", "ingested_at").distinct()
    return (
        runs.join(totals, how="cross")
        .join(shared, on=["run_id", "ingested_at", "field"], how="left")
        .select(
            F.col("run_id").alias("earlier_run_id"),
            F.col("ingested_at").alias("earlier_ingested_at"),
            "field",
            F.col("keys_this_run").cast("long").alias("keys_this_run"),
            F.coalesce(F.col("keys_seen"), F.lit(0)).cast("long").alias("keys_seen"),
            (F.coalesce(F.col("keys_seen"), F.lit(0)) / F.col("keys_this_run"))
            .cast("double")
            .alias("share"),
        )
    )


def recycled_section(
    rows: Sequence[Mapping[str, Any]],
    earlier_verdicts: Mapping[str, Mapping[str, str]],
    conf: ProvenanceConf,
) -> dict[str, Any]:
    """Per earlier sample: the share of this run's keys it held, per field and over
    `recycled_fields` together; the one with the largest share decides RECYCLED."""
    runs: dict[str, dict[str, Any]] = {}
    for r in rows:
        run = runs.setdefault(
            r["earlier_run_id"],
            {
                "run_id": r["earlier_run_id"],
                "ingested_at": _iso(r["earlier_ingested_at"]),
                "keys_this_run": {},
                "keys_seen": {},
                "share": {},
            },
        )
        run["keys_this_run"][r["field"]] = int(r["keys_this_run"])
        run["keys_seen"][r["field"]] = int(r["keys_seen"])
        run["share"][r["field"]] = round(float(r["share"]), 6)
    order = {f: i for i, f in enumerate(FIELDS)}
    for run in runs.values():
        for part in ("keys_this_run", "keys_seen", "share"):
            run[part] = dict(sorted(run[part].items(), key=lambda kv: order.get(kv[0], len(order))))
        total = sum(run["keys_this_run"].get(f, 0) for f in conf.recycled_fields)
        seen = sum(run["keys_seen"].get(f, 0) for f in conf.recycled_fields)
        run["overlap"] = round(seen / total, 6) if total else 0.0
        run["overlap_keys"] = [seen, total]
        verdict = earlier_verdicts.get(run["run_id"], {})
        run["verdict"] = verdict.get("verdict")
        run["evidence_verdict"] = verdict.get("evidence_verdict")
    ordered = sorted(
        runs.values(), key=lambda r: (-r["overlap"], r["ingested_at"] or "", r["run_id"])
    )
    best = next(
        (
            r
            for r in ordered
            if r["overlap"] >= conf.recycled_threshold
            and r["overlap_keys"][1] >= conf.recycled_min_keys
        ),
        None,
    )
    return {
        "threshold": conf.recycled_threshold,
        "fields": list(conf.recycled_fields),
        "min_keys": conf.recycled_min_keys,
        "recycled_from": best["run_id"] if best else None,
        "earlier_runs": ordered[:10],
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else (str(value) if value else None)
