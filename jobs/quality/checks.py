"""The checks the jobs call: which suites run on which view, before anything is written."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame

from jobs import log
from jobs.quality.results import skipped_results
from jobs.quality.runner import validate
from jobs.quality.suites import Suite, load_suite, load_suites, suites_dir
from jobs.quality.views import index_volume_view, sample_canonical_view, sample_raw_view
from jobs.settings import NormaliseConf

INDEX_RUN_PREFIX = "index-"


def check_sample(
    raw: DataFrame,
    conf: NormaliseConf,
    run_id: str,
    default_country: str | None = None,
    suites: Mapping[str, Suite] | None = None,
) -> list[dict[str, Any]]:
    """Parsed sample lines (sample_raw rows) -> results of the sample_raw and
    sample_normalised suites. Call before sample_raw is written."""
    suites = load_suites() if suites is None else suites
    results: list[dict[str, Any]] = []
    if "sample_raw" in suites:
        results += validate(sample_raw_view(raw), suites["sample_raw"], run_id)
    if "sample_normalised" in suites:
        canonical = sample_canonical_view(raw, conf, default_country)
        results += validate(canonical, suites["sample_normalised"], run_id)
    return results


def volume_check(
    builds: DataFrame | None,
    run_id: str,
    current: Mapping[str, int] | None = None,
    suite: Suite | None = None,
) -> list[dict[str, Any]]:
    """Index rows per field against the previous build (see `index_volume_view`); passes as
    skipped when there is nothing to compare with."""
    suite = suite or load_suite(suites_dir() / "match_index_volume.json")
    checked_at = datetime.now(timezone.utc)
    if builds is None:
        log.info("index volume not checked: no previous build", stage="quality")
        return skipped_results(suite, run_id, "no previous index build", checked_at)
    view = index_volume_view(builds, current).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        if view.limit(1).count() == 0:
            log.info("index volume not checked: no previous build", stage="quality")
            return skipped_results(suite, run_id, "no previous index build", checked_at)
        return validate(view, suite, run_id, checked_at)
    finally:
        view.unpersist()


def check_index(
    index: DataFrame,
    counts: Mapping[str, int],
    builds: DataFrame | None,
    run_id: str,
    customers: DataFrame | None = None,
    suites: Mapping[str, Suite] | None = None,
    new_rows: DataFrame | None = None,
) -> list[dict[str, Any]]:
    """A freshly built match index (not yet written), its rows per field, the index_builds
    table (None when absent) and optionally `customers_view(...)` -> results of the
    match_index, match_index_volume and warehouse_customers suites. `new_rows`: a refresh's
    rows, which the match_index suite's row rules judge alone (the rows kept were judged when
    they were written); its table rules still judge the whole `index`."""
    suites = load_suites() if suites is None else suites
    results: list[dict[str, Any]] = []
    if "match_index" in suites:
        suite = suites["match_index"]
        if new_rows is None:
            results += validate(index, suite, run_id)
        else:
            by_rows, by_table = _part(suite, True), _part(suite, False)
            results += validate(new_rows, by_rows, run_id) if by_rows.rules else []
            results += validate(index, by_table, run_id, cache=False) if by_table.rules else []
    if "match_index_volume" in suites:
        results += volume_check(builds, run_id, counts, suites["match_index_volume"])
    if customers is not None and "warehouse_customers" in suites:
        results += validate(customers, suites["warehouse_customers"], run_id)
    return results


def _part(suite: Suite, row_rules: bool) -> Suite:
    """The suite's row rules (GX map expectations), or its table rules."""
    kept = [(r, e) for r, e in zip(suite.rules, suite.expectations, strict=True)
            if r.is_map == row_rules]  # fmt: skip
    return dataclasses.replace(
        suite, rules=tuple(r for r, _ in kept), expectations=tuple(e for _, e in kept)
    )


def index_run_id(built_at: datetime) -> str:
    """Results of an index build are kept under their own run id (builds are not per run):
    pass the `built_at` that goes into the build's index_builds row."""
    return f"{INDEX_RUN_PREFIX}{built_at:%Y%m%dT%H%M%SZ}"
