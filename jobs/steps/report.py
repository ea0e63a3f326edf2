"""report: the run's Delta tables -> report.json and report.md in <reports_dir>/<run_id>/, and
the verdict into run_verdicts, where later samples that repeat this one find it."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs import log
from jobs import provenance as prov
from jobs import tables as T
from jobs import verdict as rep
from jobs.errors import MissingTableError
from jobs.io.delta import read_table, table_exists, write_run
from jobs.match.linkage import gamma
from jobs.normalise.country import country_counts, country_section
from jobs.render.linkage import EXAMPLES, linkage_section
from jobs.render.markdown import to_markdown
from jobs.settings import Config
from jobs.steps.common import one_row, run_rows, run_table
from jobs.steps.validate import read_results

FIELD_FIGURES = (
    "lines_with_value", "lines_matched", "match_rate", "distinct_keys_matched",
    "max_customers_per_key", "lines_matched_exact", "lines_matched_fuzzy", "lines_matched_weak",
)  # fmt: skip
BLOCKING_FIGURES = ("field", "candidate_pairs", "expanded_pairs", "hot_keys", "action")


def make_report(
    spark: SparkSession, config: Config, run_id: str, claimed_records: int | None = None
) -> dict:
    """Delta tables of the run -> report.json + report.md. `claimed_records` overrides the
    claim given to crosscheck."""
    with log.stage("report"):
        run = run_table(spark, config, T.SAMPLE_RUNS, run_id).first()
        res = read_table(spark, config.table(T.RESULTS), needed_by="report")
        res = res.filter(F.col("run_id") == run_id).first()
        if run is None or res is None:
            raise MissingTableError(
                f"run {run_id} has not been cross-checked yet: run crosscheck first"
            )
        extra = {
            "blocking": _blocking(spark, config, run_id),
            "fuzzy_blocking": _fuzzy_blocking(spark, config, run_id),
            "inputs": {
                "files": [{k: f[k] for k in ("name", "bytes", "format")} for f in run.files]
            },
            "quality": read_results(spark, config, run_id),
        }
        linkage = _linkage(spark, config, run_id)
        if linkage:
            extra["linkage"] = linkage
        sections = _provenance_sections(spark, config, run_id, claimed_records)
        report = rep.build_report(
            run_id,
            _sample(spark, config, run_id, run),
            _fields(spark, config, run_id),
            _lines(res),
            config.verdict,
            extra,
            sections,
        )
        v = report["verdict"]
        verdict = {"run_id": run_id, "reported_at": datetime.now(timezone.utc),
                   "verdict": v["code"], "evidence_verdict": v["evidence_code"]}  # fmt: skip
        write_run(
            spark, one_row(spark, verdict, T.VERDICTS_SCHEMA), config.table(T.VERDICTS), run_id
        )
        out = Path(config.reports_dir.removeprefix("file:")) / run_id
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(rep.to_json(report), encoding="utf-8")
        (out / "report.md").write_text(to_markdown(report), encoding="utf-8")
    report["_dir"] = str(out)
    return report


def _fields(spark: SparkSession, config: Config, run_id: str) -> dict[str, dict]:
    by_field = {r["field"]: r for r in run_rows(spark, config, T.SUMMARY, run_id)}
    fields = {f: {k: by_field[f][k] for k in FIELD_FIGURES} for f in config.crosscheck.fields}
    for figures in fields.values():
        figures["match_rate"] = round(figures["match_rate"], 6)
    return fields


def _sample(spark: SparkSession, config: Config, run_id: str, run: Any) -> dict:
    counted = [
        r.asDict() for r in country_counts(run_table(spark, config, T.NORMALISED, run_id)).collect()
    ]
    return {
        "lines_read": run.lines_read,
        "lines_parsed": run.lines_parsed,
        "lines_quarantined": run.lines_quarantined,
        "quarantine_reasons": dict(run.quarantine_reasons or {}),
        "countries": country_section(counted),
    }


def _lines(res: Any) -> dict:
    return {
        "matched_any_field": res.matched_any_field,
        "same_record_2plus": res.same_record_2plus,
        "matched_unique_identifier": res.matched_unique_identifier,
        "same_record_expected_by_chance": round(res.same_record_expected, 3),
        "same_record_2plus_with_fuzzy": res.same_record_2plus_with_fuzzy,
        "same_record_expected_with_fuzzy": round(res.same_record_expected_with_fuzzy, 3),
        "linked": getattr(res, "linked_lines", None),
        "linkage_candidates": getattr(res, "linkage_candidate_lines", None),
        "linked_by_chance": getattr(res, "linked_by_chance", None),
    }


def _linkage(spark: SparkSession, config: Config, run_id: str) -> dict:
    """The run's trained model and a few of its links explained ({} when the run has no
    model): read here, shaped by `linkage_section`."""
    model = run_rows(spark, config, T.LINKAGE_MODEL, run_id)
    if not model:
        return {}
    conf = config.matching.linkage
    links = _example_links(spark, config, run_id, sorted({r["field"] for r in model}))
    corroborated = (conf.corroborated_threshold, conf.corroborating_fields)
    return linkage_section(model, links, conf.threshold, list(conf.levels), corroborated)


def _example_links(
    spark: SparkSession, config: Config, run_id: str, fields: list[str]
) -> list[dict]:
    """The candidates for `pick_examples` among the run's linked lines, the strongest and the
    weakest: line number, weight, probability and each field's level, never the customer."""
    links = run_table(spark, config, T.LINKS, run_id).filter(F.col("linked"))
    links = links.select("line_number", "match_weight", "match_probability", *map(gamma, fields))
    weight, line = F.col("match_weight"), F.col("line_number")
    strongest = links.orderBy(weight.desc(), line).limit(1)
    weakest = links.orderBy(weight, line).limit(EXAMPLES - 1)
    return [
        {**{k: r[k] for k in ("line_number", "match_weight", "match_probability")},
         "levels": {f: r[gamma(f)] for f in fields}}
        for r in strongest.unionByName(weakest).collect()
    ]  # fmt: skip


def _blocking(spark: SparkSession, config: Config, run_id: str) -> list[dict]:
    """Per field of the exact cross-check, in the configured field order."""
    rows = run_rows(spark, config, T.BLOCKING, run_id)
    blocking = [
        {**{k: r[k] for k in BLOCKING_FIGURES[:-1]},
         "heaviest_keys": [k.asDict() for k in r["heaviest_keys"]], "action": r["action"]}
        for r in rows
    ]  # fmt: skip
    order = {f: i for i, f in enumerate(config.crosscheck.fields)}
    return sorted(blocking, key=lambda b: order.get(b["field"], len(order)))


def _fuzzy_blocking(spark: SparkSession, config: Config, run_id: str) -> list[dict]:
    rows = sorted(run_rows(spark, config, T.FUZZY_BLOCKING, run_id), key=lambda r: r["rule"])
    return [{**r, "heaviest_keys": [k.asDict() for k in r["heaviest_keys"]]} for r in rows]


def _provenance_sections(
    spark: SparkSession, config: Config, run_id: str, claimed: int | None
) -> dict:
    """The canaries, claimed_size, recycled, profile and schema sections (counts only)."""
    pc = config.provenance
    run = run_rows(spark, config, T.PROVENANCE, run_id)[0]
    overlap = run_rows(spark, config, T.RECYCLED, run_id)
    earlier = sorted({r["earlier_run_id"] for r in overlap})
    verdicts = {}
    if earlier and table_exists(spark, config.table(T.VERDICTS)):
        table = read_table(spark, config.table(T.VERDICTS)).filter(F.col("run_id").isin(*earlier))
        verdicts = {r.run_id: r.asDict() for r in table.collect()}
    claimed = claimed if claimed is not None else run["claimed_records"]
    profile = (
        run_rows(spark, config, T.PROFILE, run_id),
        run_rows(spark, config, T.DIVERGENCE, run_id),
    )
    hits = run_rows(spark, config, T.CANARY, run_id)
    return {
        "canaries": prov.canary_section(hits, run["canary_ids_listed"]),
        "claimed_size": prov.claimed_size_section(claimed, run["warehouse_customers"]),
        "recycled": prov.recycled_section(overlap, verdicts, pc),
        "profile": prov.profile_section(*profile, pc),
        "schema": prov.schema_section(run_rows(spark, config, T.SCHEMA, run_id)),
    }
