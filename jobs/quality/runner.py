"""Running a suite with Great Expectations 1.x on a Spark DataFrame: one GX run per suite, the
DataFrame cached for that run only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import DataFrame

from jobs import log
from jobs.errors import ConfigError
from jobs.quality.results import describe, result_row
from jobs.quality.suites import Suite

RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}


@dataclass
class _Runtime:
    context: Any
    batch_definition: Any


@lru_cache(maxsize=1)
def _runtime() -> _Runtime:
    """One ephemeral GX context per process: a Spark data source that does not persist the
    DataFrame (caching is done here, and undone), one asset, one whole-DataFrame batch."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    project = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
    )
    context = gx.get_context(mode="ephemeral", project_config=project)
    source = context.data_sources.add_spark(name="crosscheck", persist=False)
    asset = source.add_dataframe_asset(name="dataframe")
    return _Runtime(context, asset.add_batch_definition_whole_dataframe("whole_dataframe"))


def _is_cached(df: DataFrame) -> bool:
    level = df.storageLevel
    return level.useMemory or level.useDisk


def validate(
    df: DataFrame,
    suite: Suite,
    run_id: str,
    checked_at: datetime | None = None,
    cache: bool = True,
) -> list[dict[str, Any]]:
    """Run one suite on a DataFrame: one result per expectation, counts only, in suite order.
    The DataFrame is cached for the suite's metrics unless it is or `cache` is False (a large
    input only a table rule or two reads: a scan each costs less than materialising it)."""
    import great_expectations as gx

    checked_at = checked_at or datetime.now(timezone.utc)
    rt = _runtime()
    key = f"{suite.name}-{uuid.uuid4().hex[:12]}"
    own_cache = cache and not _is_cached(df)
    data = df.persist(StorageLevel.MEMORY_AND_DISK) if own_cache else df
    try:
        gx_suite = rt.context.suites.add(
            gx.ExpectationSuite(name=key, expectations=[dict(e) for e in suite.expectations])
        )
        if len(gx_suite.expectations) != len(suite.rules):
            raise ConfigError(
                f"{suite.path}: GX accepted {len(gx_suite.expectations)} of "
                f"{len(suite.rules)} expectations"
            )
        rules = {e.id: rule for e, rule in zip(gx_suite.expectations, suite.rules, strict=True)}
        definition = rt.context.validation_definitions.add(
            gx.ValidationDefinition(name=key, data=rt.batch_definition, suite=gx_suite)
        )
        with log.stage("quality", table=suite.table, suite=suite.name) as st:
            outcome = definition.run(
                batch_parameters={"dataframe": data}, result_format=dict(RESULT_FORMAT)
            )
            by_id = {evr.expectation_config.id: evr for evr in outcome.results}
            results = [
                result_row(rule, by_id[eid], suite.table, run_id, checked_at)
                for eid, rule in rules.items()
            ]
            st["expectations"] = len(results)
            st["failed"] = sum(not r["success"] for r in results)
    finally:
        if own_cache:
            data.unpersist()
        for store in (rt.context.validation_definitions, rt.context.suites):
            try:
                store.delete(key)
            except Exception:  # noqa: BLE001 - not added when an earlier step failed
                pass
    for r in results:
        if not r["success"]:
            log.warning(describe(r), stage="quality", severity=r["severity"])
    return results
