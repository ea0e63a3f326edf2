"""The steps: each reads Delta tables (or the sample files), calls pure transforms, and writes
Delta tables keyed by run_id, so a scheduler can run them as separate tasks and a re-run
replaces its own rows. The only callers of `jobs.io`."""

from jobs.steps.common import key_fingerprint, latest_run_id, new_run_id
from jobs.steps.crosscheck import run_crosscheck
from jobs.steps.ingest_sample import ingest_sample
from jobs.steps.ingest_warehouse import ingest_warehouse
from jobs.steps.report import make_report

__all__ = [
    "ingest_sample",
    "ingest_warehouse",
    "key_fingerprint",
    "latest_run_id",
    "make_report",
    "new_run_id",
    "run_crosscheck",
]
