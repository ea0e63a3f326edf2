"""Data-quality gates: expectation suites kept as JSON files in `expectations/`, run with Great
Expectations (GX 1.x) on the Spark DataFrames the pipeline is about to publish.

Suite files
    Plain GX ExpectationSuite JSON: `name`, optional `notes`, `meta.table` (the label results
    and messages use) and `expectations`, each with GX's own `type`, `kwargs` (thresholds such
    as `mostly`, `min_value` live here), `severity` (GX's field: `critical` stops the run,
    `warning` and `info` are recorded and reported) and optionally `notes` and
    `meta.quarantine: true` (sample_raw only: offending lines move to sample_quarantine).
    Files are read at every run, so editing one changes the next run's outcome.

What each suite sees
    sample_raw          parsed sample lines + `identifying_fields` (see `sample_raw_view`).
    sample_normalised   the canonical `email_n`, `phone_n` and `country` that
                        `keys.with_normalised` makes just before hashing (`sample_canonical_view`).
                        They are validated in memory and never written anywhere. Checked on the
                        sample (whose lines the verdict counts) rather than on the warehouse,
                        where it would cost a second normalisation of every customer.
    match_index         the index rows before they are written.
    match_index_volume  rows per field against the previous index_builds row (`index_volume_view`).
    warehouse_customers the customers role under crosscheck's column names (`customers_view`).

Speed
    One GX run per suite with result format BASIC and `partial_unexpected_count: 0`: GX computes
    the counts of all map expectations in one aggregation pass (as with BOOLEAN_ONLY) and still
    returns them, and the empty sample of unexpected values is planned away by Spark (no job).
    The validated DataFrame is cached for its run, as the GX data source does not persist.

Row-level quarantine
    Only for expectations flagged `meta.quarantine` whose type is in QUARANTINE_TYPES (null,
    regex, value-set, range and length checks): their unexpected rows are told by a native
    Spark condition that mirrors GX's (`unexpected_condition`).

Privacy
    Results hold counts, percentages and numeric observed values only. Other observed values
    (lists, strings) are replaced by a placeholder, GX error texts are reduced to a missing
    column's name, and GX's partial_unexpected_list is asked for with size 0 (so it is always
    empty) and never stored or printed.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from jobs import log
from jobs.errors import ConfigError, QualityGateError
from jobs.io.delta import read_source, read_table, table_exists, write_run
from jobs.match import keys
from jobs.settings import EXPECTATIONS_DIR, IDENTIFYING, SAMPLE_FIELDS, Config, NormaliseConf

SUITES_DIR = EXPECTATIONS_DIR  # the checkout's expectations/, or the copy a wheel carries
SUITES_ENV = "CROSSCHECK_EXPECTATIONS"
T_QUALITY = "quality_results"
INDEX_RUN_PREFIX = "index-"
SEVERITIES = ("critical", "warning", "info")
TABLE_ORDER = ("sample_raw", "sample_normalised", "match_index", "warehouse_customers")
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}
QUALITY_SCHEMA = (
    "run_id string, table string, expectation string, column string, severity string, "
    "success boolean, observed_value string, unexpected_count bigint, "
    "unexpected_percent double, threshold string, checked_at timestamp"
)
RESULT_FIELDS = (
    "run_id", "table", "expectation", "column", "severity", "success", "observed_value",
    "unexpected_count", "unexpected_percent", "threshold", "checked_at",
)  # fmt: skip
NOT_EVALUATED = "not evaluated: "

# Row-level expectations whose unexpected rows can be told with a native Spark condition.
QUARANTINE_TYPES = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_value_lengths_to_be_between",
    }
)


# ---- suites -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite file and what crosscheck does when it fails."""

    type: str
    kwargs: Mapping[str, Any]
    severity: str
    quarantine: bool
    is_map: bool
    hint: str | None = None  # what to do when it fails (meta.hint), said with the failure

    @property
    def column(self) -> str | None:
        k = self.kwargs
        if k.get("column"):
            return str(k["column"])
        if k.get("column_list"):
            return ",".join(str(c) for c in k["column_list"])
        if k.get("column_A"):
            return f"{k['column_A']},{k.get('column_B')}"
        return None

    @property
    def label(self) -> str:
        return f"{self.type}({self.column})" if self.column else self.type


@dataclass(frozen=True)
class Suite:
    """A suite file: the rules crosscheck acts on and the document GX is given."""

    name: str
    table: str
    path: str
    rules: tuple[Rule, ...]
    expectations: tuple[Mapping[str, Any], ...]


def suites_dir() -> Path:
    """Where suite files live: $CROSSCHECK_EXPECTATIONS, else the project's expectations/."""
    return Path(os.environ.get(SUITES_ENV) or SUITES_DIR)


def _is_map(expectation_type: str) -> bool:
    """Map expectations judge rows (counts, `mostly`); the others judge one aggregate."""
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )
    from great_expectations.expectations.registry import get_expectation_impl

    impl = get_expectation_impl(expectation_type)
    return issubclass(
        impl, (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation)
    )


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return " ".join(lines[:3]) or type(exc).__name__


def _rule(path: Path, number: int, raw: Any) -> tuple[Rule, dict[str, Any]]:
    """Check one expectation of a suite file (GX would silently drop some invalid ones)."""
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    where = f"{path}: expectation {number}"
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise ConfigError(f"{where}: needs a `type` and `kwargs`")
    kind = raw["type"]
    kwargs = raw.get("kwargs") or {}
    meta = raw.get("meta") or {}
    severity = str(raw.get("severity") or "critical").lower()
    if not isinstance(kwargs, dict) or not isinstance(meta, dict):
        raise ConfigError(f"{where} ({kind}): `kwargs` and `meta` must be objects")
    if severity not in SEVERITIES:
        raise ConfigError(f"{where} ({kind}): severity must be one of {', '.join(SEVERITIES)}")
    quarantine = meta.get("quarantine", False)
    if not isinstance(quarantine, bool):
        raise ConfigError(f"{where} ({kind}): meta.quarantine must be true or false")
    if quarantine and kind not in QUARANTINE_TYPES:
        supported = ", ".join(sorted(QUARANTINE_TYPES))
        raise ConfigError(f"{where} ({kind}): quarantine works only for {supported}")
    doc = {"type": kind, "kwargs": kwargs, "meta": meta, "severity": severity}
    if raw.get("notes"):
        doc["notes"] = raw["notes"]
    try:
        ExpectationConfiguration(**doc).to_domain_obj()
        is_map = _is_map(kind)
    except Exception as exc:  # noqa: BLE001 - GX/pydantic errors become one config line
        raise ConfigError(f"{where} ({kind}): {_first_line(exc)}") from None
    hint = meta.get("hint")
    if hint is not None and not isinstance(hint, str):
        raise ConfigError(f"{where} ({kind}): meta.hint must be text")
    return Rule(kind, kwargs, severity, quarantine, is_map, hint), doc


def load_suite(path: str | Path) -> Suite:
    """Read and check one suite file (any error is one line naming the file)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"expectation suite not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON (line {exc.lineno})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("expectations"), list):
        raise ConfigError(f"{path}: expected an object with an `expectations` list")
    name = str(doc.get("name") or path.stem)
    meta = doc.get("meta") or {}
    checked = [_rule(path, i, raw) for i, raw in enumerate(doc["expectations"], start=1)]
    return Suite(
        name=name,
        table=str(meta.get("table") or name),
        path=str(path),
        rules=tuple(r for r, _ in checked),
        expectations=tuple(d for _, d in checked),
    )


def load_suites(directory: str | Path | None = None) -> dict[str, Suite]:
    """All suite files of a folder, by suite name; a missing file means no such checks."""
    folder = Path(directory) if directory else suites_dir()
    if not folder.is_dir():
        raise ConfigError(f"expectation suites folder not found: {folder} (set {SUITES_ENV})")
    suites = [load_suite(p) for p in sorted(folder.glob("*.json"))]
    return {s.name: s for s in suites}


# ---- views: the DataFrames the suites validate ---------------------------------------------


def sample_raw_view(raw: DataFrame) -> DataFrame:
    """Parsed lines plus `identifying_fields`: how many identifying fields each line has."""
    if "identifying_fields" in raw.columns:
        return raw
    present = [c for c in IDENTIFYING if c in raw.columns]
    count = F.lit(0)
    for c in present:
        count = count + F.col(c).isNotNull().cast("int")
    return raw.withColumn("identifying_fields", count)


def sample_canonical_view(
    raw: DataFrame, conf: NormaliseConf, default_country: str | None = None
) -> DataFrame:
    """Canonical e-mail, E.164 phone and country per line, made by the transforms that feed
    the hashes (so the check sees exactly what gets hashed). A value given but unusable is ""
    (counted as unexpected), an absent one null (not counted). `phone_no_country` is true
    for a national number on a line whose country nothing tells (null when the line has
    no such number), and such a number is not counted as unusable in `phone_n`: a country
    would make it valid. Validate it; never write it."""
    located = keys.with_line_country(raw, conf, default_country)
    parts = located.select(
        "line_number",
        F.lit(None).cast("string").alias("name"),
        F.col("email"),
        F.col("phone"),
        F.col("country"),
        F.lit(None).cast("string").alias("line1"),
        F.lit(None).cast("string").alias("postcode"),
    )
    canonical = keys.with_normalised(parts, conf)
    problems = F.col("problems")
    no_country = F.array_contains(problems, "phone_no_country")
    return canonical.select(
        "line_number",
        "country",
        F.when(F.array_contains(problems, "email_invalid"), F.lit(""))
        .otherwise(F.col("email_n"))
        .alias("email_n"),
        F.when(F.array_contains(problems, "phone_unparseable"), F.lit(""))
        .otherwise(F.col("phone_n"))
        .alias("phone_n"),
        F.when(no_country, F.lit(True))
        .when(F.col("phone_n").isNotNull(), F.lit(False))
        .alias("phone_no_country"),
    )


def customers_view(customers: DataFrame, columns: Mapping[str, str]) -> DataFrame:
    """The customers role under crosscheck's names (only the columns the role maps)."""
    wanted = [c for c in ("customer_id", "email", "phone", "country") if c in columns]
    return customers.select(*[customers[columns[c]].cast("string").alias(c) for c in wanted])


def index_volume_view(builds: DataFrame, current: Mapping[str, int] | None = None) -> DataFrame:
    """(field, rows, previous_rows, rows_ratio) per field of the previous build.

    With `current` (counts of a build not yet recorded) the previous build is the last
    index_builds row; without it, the last row is compared with the one before. A field
    that vanished has rows 0; a new field has no previous count and so no ratio."""
    latest_first = Window.orderBy(F.col("built_at").desc())
    ranked = builds.select("rows_per_field", F.row_number().over(latest_first).alias("rank"))
    previous = ranked.filter(F.col("rank") == (1 if current is not None else 2))
    if current is None:
        now = ranked.filter(F.col("rank") == 1)
    else:
        pairs = [F.lit(x) for field, n in sorted(current.items()) for x in (field, int(n))]
        counts = F.create_map(*pairs).cast("map<string,bigint>")
        now = previous.select(counts.alias("rows_per_field"))
    before = previous.select(F.explode("rows_per_field").alias("field", "previous_rows"))
    after = now.select(F.explode("rows_per_field").alias("field", "rows"))
    rows = F.coalesce(F.col("rows"), F.lit(0)).cast("bigint")
    previous_rows = F.col("previous_rows").cast("bigint")
    ratio = F.try_divide(rows.cast("double"), previous_rows.cast("double"))
    return before.join(after, on="field", how="left").select(
        "field", rows.alias("rows"), previous_rows.alias("previous_rows"), ratio.alias("rows_ratio")
    )


# ---- running a suite ------------------------------------------------------------------------


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
    df: DataFrame, suite: Suite, run_id: str, checked_at: datetime | None = None
) -> list[dict[str, Any]]:
    """Run one suite on a DataFrame: one result per expectation, counts only, in suite order."""
    import great_expectations as gx

    checked_at = checked_at or datetime.now(timezone.utc)
    rt = _runtime()
    key = f"{suite.name}-{uuid.uuid4().hex[:12]}"
    own_cache = not _is_cached(df)
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
                _result(rule, by_id[eid], suite.table, run_id, checked_at)
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


def _result(rule: Rule, evr: Any, table: str, run_id: str, checked_at: datetime) -> dict[str, Any]:
    """A GX expectation result -> one quality_results row (never a data value)."""
    res = evr.result or {}
    error = _error_text(evr.exception_info)
    unexpected = res.get("unexpected_count")
    percent = res.get("unexpected_percent")
    if error:
        observed = NOT_EVALUATED + error
    elif unexpected is not None:
        values = int(res.get("element_count") or 0) - int(res.get("missing_count") or 0)
        observed = f"{_num(percent or 0.0)} % unexpected ({unexpected} of {values} values)"
    else:
        observed = _observed(res.get("observed_value"))
    return {
        "run_id": run_id,
        "table": table,
        "expectation": rule.type,
        "column": rule.column,
        "severity": rule.severity,
        "success": bool(evr.success) and not error,
        "observed_value": observed,
        "unexpected_count": int(unexpected) if unexpected is not None else None,
        "unexpected_percent": float(percent) if percent is not None else None,
        "threshold": _threshold(rule),
        "checked_at": checked_at,
        "hint": rule.hint,
    }


def _error_text(info: Mapping[str, Any] | None) -> str | None:
    """Why GX could not evaluate: a missing column by name, anything else by kind only
    (engine messages can quote values)."""
    if not info:
        return None
    if "raised_exception" in info:
        entries = [info]
    else:
        entries = [v for v in info.values() if isinstance(v, dict)]
    messages = [str(e.get("exception_message") or "") for e in entries if e.get("raised_exception")]
    if not messages:
        return None
    for message in messages:
        found = re.search(r'column "([^"]+)" in BatchData does not exist', message)
        if found:
            return f"column {found.group(1)} not found"
    return "evaluation error"


def _num(x: Any) -> str:
    """Numbers for people: at most two decimals, no trailing zeros, tiny shares not shown as 0."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if 0 < abs(x) < 0.01:
        return "<0.01" if x > 0 else ">-0.01"
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _observed(value: Any) -> str:
    """Aggregate observed values are kept only when they are numbers."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return _num(value)
    return "(not a number: not shown)"


def _threshold(rule: Rule) -> str:
    """What the suite file allows: the unexpected share for map expectations, bounds otherwise."""
    k = rule.kwargs
    if rule.is_map:
        mostly = k.get("mostly", 1.0)
        return f"{_num(round((1 - float(mostly)) * 100, 6))} %"
    parts = []
    if k.get("min_value") is not None:
        parts.append(f"{'>' if k.get('strict_min') else '>='} {_num(k['min_value'])}")
    if k.get("max_value") is not None:
        parts.append(f"{'<' if k.get('strict_max') else '<='} {_num(k['max_value'])}")
    if k.get("value") is not None:
        parts.append(f"= {_num(k['value'])}")
    if k.get("value_set") is not None:
        parts.append(f"within a set of {len(k['value_set'])} values")
    return " and ".join(parts) or "see suite"


def describe(result: Mapping[str, Any]) -> str:
    """One line for logs and the gate error: table, expectation, observed value, threshold."""
    column = result.get("column")
    label = f"{result['expectation']}({column})" if column else result["expectation"]
    head = f"{result['table']}: {label}"
    observed = str(result["observed_value"])
    if observed.startswith(NOT_EVALUATED):
        return f"{head} could not be evaluated: {observed.removeprefix(NOT_EVALUATED)}"
    verdict = "passed" if result["success"] else "failed"
    if result.get("unexpected_percent") is not None:
        line = (
            f"{head} {verdict}: {_num(result['unexpected_percent'])} % unexpected "
            f"(threshold {result['threshold']})"
        )
        if result.get("hint") and not result["success"]:
            line += f": {result['unexpected_count']} values; {result['hint']}"
        return line
    return f"{head} {verdict}: observed {observed} (expected {result['threshold']})"


def enforce(results: Iterable[Mapping[str, Any]]) -> None:
    """Stop the run on the first failed critical expectation (exit code 4); the others are
    in the log and in quality_results."""
    for r in results:
        if r["severity"] == "critical" and not r["success"]:
            raise QualityGateError(describe(r))


def _skipped(suite: Suite, run_id: str, why: str, checked_at: datetime) -> list[dict[str, Any]]:
    return [
        {
            "run_id": run_id,
            "table": suite.table,
            "expectation": rule.type,
            "column": rule.column,
            "severity": rule.severity,
            "success": True,
            "observed_value": f"skipped: {why}",
            "unexpected_count": None,
            "unexpected_percent": None,
            "threshold": _threshold(rule),
            "checked_at": checked_at,
        }
        for rule in suite.rules
    ]


# ---- the checks the jobs call ------------------------------------------------------------------


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
        return _skipped(suite, run_id, "no previous index build", checked_at)
    view = index_volume_view(builds, current).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        if view.limit(1).count() == 0:
            log.info("index volume not checked: no previous build", stage="quality")
            return _skipped(suite, run_id, "no previous index build", checked_at)
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
) -> list[dict[str, Any]]:
    """A freshly built match index (not yet written), its rows per field, the index_builds
    table (None when absent) and optionally `customers_view(...)` -> results of the
    match_index, match_index_volume and warehouse_customers suites."""
    suites = load_suites() if suites is None else suites
    results: list[dict[str, Any]] = []
    if "match_index" in suites:
        results += validate(index, suites["match_index"], run_id)
    if "match_index_volume" in suites:
        results += volume_check(builds, run_id, counts, suites["match_index_volume"])
    if customers is not None and "warehouse_customers" in suites:
        results += validate(customers, suites["warehouse_customers"], run_id)
    return results


def index_run_id(built_at: datetime) -> str:
    """Results of an index build are kept under their own run id (builds are not per run):
    pass the `built_at` that goes into the build's index_builds row."""
    return f"{INDEX_RUN_PREFIX}{built_at:%Y%m%dT%H%M%SZ}"


# ---- row-level quarantine ------------------------------------------------------------------


def _within(value: Column, kwargs: Mapping[str, Any]) -> Column:
    ok = F.lit(True)
    if kwargs.get("min_value") is not None:
        low = F.lit(kwargs["min_value"])
        ok = ok & ((value > low) if kwargs.get("strict_min") else (value >= low))
    if kwargs.get("max_value") is not None:
        high = F.lit(kwargs["max_value"])
        ok = ok & ((value < high) if kwargs.get("strict_max") else (value <= high))
    return ok


def unexpected_condition(rule: Rule) -> Column:
    """True on the rows GX counts as unexpected for this expectation (nulls count only for
    the null checks, as in GX)."""
    k = rule.kwargs
    col = F.col(str(k["column"]))
    if rule.type == "expect_column_values_to_not_be_null":
        return col.isNull()
    if rule.type == "expect_column_values_to_be_null":
        return col.isNotNull()
    if rule.type == "expect_column_values_to_match_regex":
        bad = ~col.rlike(k["regex"])
    elif rule.type == "expect_column_values_to_not_match_regex":
        bad = col.rlike(k["regex"])
    elif rule.type == "expect_column_values_to_be_in_set":
        bad = ~col.isin(list(k["value_set"]))
    elif rule.type == "expect_column_values_to_not_be_in_set":
        bad = col.isin(list(k["value_set"]))
    elif rule.type == "expect_column_values_to_be_between":
        bad = ~_within(col, k)
    elif rule.type == "expect_column_value_lengths_to_be_between":
        bad = ~_within(F.length(col), k)
    else:
        raise ConfigError(f"{rule.type}: no row-level quarantine for this expectation type")
    return col.isNotNull() & bad


def quarantine_rows(
    raw: DataFrame, suite: Suite | None, run_id: str
) -> tuple[DataFrame, DataFrame]:
    """Parsed lines -> (kept lines, quarantined lines) for the suite's expectations marked
    `meta.quarantine` (none without a suite). Every line lands in exactly one of the two, so
    lines_read = lines_parsed + lines_quarantined still holds; the reason is the first failing
    expectation's label. Quarantined lines have sample_quarantine's columns; their raw_line is
    the input's `raw_line` column when present, else the mapped fields as JSON.

    Supported expectation types: see QUARANTINE_TYPES; all lines that fail are moved,
    whatever the expectation's `mostly` (which only decides whether the run may go on)."""
    rules = [r for r in suite.rules if r.quarantine] if suite else []
    columns = [c for c in raw.columns if c != "raw_line"]
    reason = F.lit(None).cast("string")
    for rule in reversed(rules):
        reason = F.when(unexpected_condition(rule), F.lit(rule.label)).otherwise(reason)
    tagged = sample_raw_view(raw).withColumn("_quality_reason", reason)
    if "raw_line" in raw.columns:
        raw_line = F.col("raw_line")
    else:
        fields = [c for c in SAMPLE_FIELDS if c in raw.columns]
        raw_line = F.to_json(F.struct(*[F.col(c) for c in fields]))
    kept = tagged.filter(F.col("_quality_reason").isNull()).select(*columns)
    file_line = F.col("file_line") if "file_line" in raw.columns else F.col("line_number")
    quarantined = tagged.filter(F.col("_quality_reason").isNotNull()).select(
        F.lit(run_id).alias("run_id"),
        "source_file",
        "line_number",
        file_line.alias("file_line"),
        F.col("_quality_reason").alias("reason"),
        raw_line.alias("raw_line"),
    )
    return kept, quarantined


def reason_counts(quarantined: DataFrame) -> dict[str, int]:
    """Quarantined lines per reason, to add to sample_runs' quarantine_reasons."""
    rows = quarantined.groupBy("reason").agg(F.count(F.lit(1)).alias("n")).collect()
    return {r.reason: int(r.n) for r in rows}


# ---- results: Delta table, report.json, report.md ---------------------------------------------


def _row(result: Mapping[str, Any], run_id: str) -> dict[str, Any]:
    return {**{k: result.get(k) for k in RESULT_FIELDS}, "run_id": run_id}


def write_results(
    spark: SparkSession, config: Config, run_id: str, results: Sequence[Mapping[str, Any]]
) -> None:
    """Store results in quality_results, replacing this run's rows for the tables checked
    (rows of other tables of the run are kept, so jobs can write their checks separately)."""
    if not results:
        return
    location = config.table(T_QUALITY)
    rows = [_row(r, run_id) for r in results]
    tables = sorted({r["table"] for r in rows})
    if table_exists(spark, location):
        others = (
            read_table(spark, location)
            .filter((F.col("run_id") == run_id) & ~F.col("table").isin(*tables))
            .collect()
        )
        rows = [o.asDict() for o in others] + rows
    write_run(spark, spark.createDataFrame(rows, QUALITY_SCHEMA), location, run_id)


def _sort_key(result: Mapping[str, Any]) -> tuple[int, str, int, str, str]:
    table = result["table"]
    severity = result["severity"]
    return (
        TABLE_ORDER.index(table) if table in TABLE_ORDER else len(TABLE_ORDER),
        table,
        SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES),
        result["expectation"],
        result.get("column") or "",
    )


def summary(results: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """JSON-able results for report.json's `quality` list (no run id, counts only)."""
    out = []
    for r in results:
        checked = r.get("checked_at")
        pct = r.get("unexpected_percent")
        out.append(
            {
                "table": r["table"],
                "expectation": r["expectation"],
                "column": r.get("column"),
                "severity": r["severity"],
                "success": bool(r["success"]),
                "observed_value": r.get("observed_value"),
                "unexpected_count": r.get("unexpected_count"),
                "unexpected_percent": round(pct, 4) if pct is not None else None,
                "threshold": r.get("threshold"),
                "checked_at": checked.isoformat() if isinstance(checked, datetime) else checked,
            }
        )
    return out


def read_results(
    spark: SparkSession, config: Config, run_id: str, with_index: bool = True
) -> list[dict[str, Any]]:
    """The run's stored results, plus those of the index build in use (the last index_builds
    row; a rejected build never got one), as `summary` rows."""
    location = config.table(T_QUALITY)
    if not table_exists(spark, location):
        return []
    run_ids = [run_id]
    builds = config.table("index_builds")
    if with_index and table_exists(spark, builds):
        last = read_table(spark, builds).agg(F.max(F.unix_micros(F.col("built_at"))).alias("us"))
        built_at = _utc(last.first().us)
        if built_at is not None:
            run_ids.append(index_run_id(built_at))
    picked = (
        read_table(spark, location)
        .filter(F.col("run_id").isin(*run_ids))
        .withColumn("checked_at_us", F.unix_micros(F.col("checked_at")))
    )
    rows = []
    for row in picked.collect():
        r = row.asDict()
        r["checked_at"] = _utc(r.pop("checked_at_us"))
        rows.append(r)
    return summary(sorted(rows, key=_sort_key))


def _utc(micros: int | None) -> datetime | None:
    """Timestamps back from Spark as UTC, whatever the driver's local time zone."""
    if micros is None:
        return None
    return datetime.fromtimestamp(micros / 1_000_000, tz=timezone.utc)


def _cell(text: Any) -> str:
    return "" if text is None else str(text).replace("|", "\\|")


def markdown_section(quality: Sequence[Mapping[str, Any]]) -> str:
    """The `## Data quality` section of report.md from report.json's `quality` list."""
    if not quality:
        return "## Data quality\n\nNo quality checks were recorded for this run.\n"
    failed = [q for q in quality if not q["success"]]
    by_severity = {s: sum(q["severity"] == s for q in failed) for s in SEVERITIES}
    head = f"{len(quality)} checks, {len(failed)} failed"
    if failed:
        head += " (" + ", ".join(f"{n} {s}" for s, n in by_severity.items() if n) + ")"
    lines = [
        "## Data quality",
        "",
        head + ". Observed values are counts and shares only.",
        "",
        "| table | expectation | column | severity | result | observed | threshold |",
        "|---|---|---|---|---|---|---|",
    ]
    for q in quality:
        result = "pass" if q["success"] else "**FAIL**"
        lines.append(
            f"| {_cell(q['table'])} | {_cell(q['expectation'])} | {_cell(q.get('column'))} | "
            f"{q['severity']} | {result} | {_cell(q.get('observed_value'))} | "
            f"{_cell(q.get('threshold'))} |"
        )
    return "\n".join(lines) + "\n"


# ---- the `validate` job --------------------------------------------------------------------


def validate_run(
    spark: SparkSession,
    config: Config,
    run_id: str,
    suites: Mapping[str, Suite] | None = None,
    enforce_gate: bool = True,
) -> list[dict[str, Any]]:
    """Re-check what is stored: the run's sample_raw (both sample suites), the match index
    with its last two builds, and the warehouse customers. Results are written under the
    run id; critical failures then raise."""
    suites = load_suites() if suites is None else suites
    results: list[dict[str, Any]] = []
    raw = read_table(spark, config.table("sample_raw"), needed_by="validate").filter(
        F.col("run_id") == run_id
    )
    results += check_sample(raw, config.normalise, run_id, config.sample.default_country, suites)
    index_location = config.table("match_index")
    builds_location = config.table("index_builds")
    if table_exists(spark, index_location):
        index = read_table(spark, index_location)
        if "match_index" in suites:
            results += validate(index, suites["match_index"], run_id)
        if "match_index_volume" in suites:
            builds = None
            if table_exists(spark, builds_location):
                builds = read_table(spark, builds_location)
            results += volume_check(builds, run_id, None, suites["match_index_volume"])
    if "warehouse_customers" in suites:
        role = config.warehouse["customers"]
        customers = customers_view(read_source(spark, "customers", role), role.columns)
        results += validate(customers, suites["warehouse_customers"], run_id)
    write_results(spark, config, run_id, results)
    if enforce_gate:
        enforce(results)
    return results
