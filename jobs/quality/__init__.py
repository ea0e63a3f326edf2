"""Data-quality gates: expectation suites in `expectations/` run with Great Expectations 1.x on
the DataFrames the pipeline is about to publish, with row-level quarantine for sample lines.
No I/O here: the `validate` job and the quality_results table live in `jobs.steps.validate`.
Suite files, views and privacy rules: docs/quality.md."""

from jobs.quality.checks import check_index, check_sample, index_run_id, volume_check
from jobs.quality.markdown import markdown_section
from jobs.quality.quarantine import quality_quarantine_rows, reason_counts, unexpected_condition
from jobs.quality.results import describe, enforce, sort_key, summary
from jobs.quality.runner import validate
from jobs.quality.suites import (
    QUARANTINE_TYPES,
    SEVERITIES,
    Rule,
    Suite,
    load_suite,
    load_suites,
    suites_dir,
)
from jobs.quality.views import customers_view, index_volume_view, sample_canonical_view

__all__ = [
    "QUARANTINE_TYPES",
    "SEVERITIES",
    "Rule",
    "Suite",
    "check_index",
    "check_sample",
    "customers_view",
    "describe",
    "enforce",
    "index_run_id",
    "index_volume_view",
    "load_suite",
    "load_suites",
    "markdown_section",
    "quality_quarantine_rows",
    "reason_counts",
    "sample_canonical_view",
    "sort_key",
    "suites_dir",
    "summary",
    "unexpected_condition",
    "validate",
    "volume_check",
]
