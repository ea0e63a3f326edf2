"""Every Delta table crosscheck writes: its name, what one row is (`ROWS`), and the schema of
those written from Python rows. `Config.table(name)` turns a name into a path or catalog name.

Per-run tables carry `run_id`, and a re-run replaces its own rows (`io.delta.write_run`); the
index tables are rebuilt or merged by ingest-warehouse."""

from __future__ import annotations

ROWS: dict[str, str] = {}


def _table(name: str, row: str) -> str:
    ROWS[name] = row
    return name


# ---- sample side (per run) ----------------------------------------------------------------
SAMPLE_RUNS = _table("sample_runs", "an ingested sample: files, line counts, key fingerprint")
SAMPLE_RAW = _table("sample_raw", "a parsed sample line, raw values")
QUARANTINE = _table("sample_quarantine", "a line that was not parsed or failed a row check")
NORMALISED = _table("sample_normalised", "a parsed line's keyed hashes and its country")
SAMPLE_FUZZY = _table("sample_fuzzy", "a line's fuzzy block entry and gram-hash payload")
SCHEMA = _table("sample_schema", "a sample column: header, content kind, whether we store it")
QUALITY = _table("quality_results", "one expectation's result on one table")
# ---- index side (rebuilt or merged by ingest-warehouse) -----------------------------------
INDEX = _table("match_index", "an exact key of a customer")
INDEX_BUILDS = _table("index_builds", "one index build: format, sources, counts")
INDEX_FPS = _table("index_fingerprints", "a customer's fingerprint over its rows")
FUZZY_INDEX = _table("fuzzy_index", "a customer value's blocks and gram hashes")
WAREHOUSE_PROFILE = _table("warehouse_profile", "bucketed counts of our customers")
LINKAGE_U = _table("linkage_u", "an index build's u of one field level, from the warehouse")
CUSTOMER_FIELDS = _table("customer_fields", "the field and part names a customer holds")
# ---- cross-check and provenance (per run) -------------------------------------------------
EVIDENCE = _table("evidence", "an exact key match of a line to a customer")
SUMMARY = _table("field_summary", "per field: lines with a value, lines matched")
RESULTS = _table("crosscheck_runs", "a run's line counts and chance baseline")
BLOCKING = _table("blocking_diagnostics", "per field: exact-key pairs, hot keys, action")
FUZZY_EVIDENCE = _table("fuzzy_evidence", "a fuzzy or weak match of a line to a customer")
FUZZY_BLOCKING = _table("fuzzy_blocking", "per fuzzy rule: blocks, pairs, what was skipped")
LINKS = _table("line_links", "a line's best customer: comparison vector, match probability")
LINKAGE_MODEL = _table("linkage_model", "a run's trained m, u and weight of one field level")
CANARY = _table("canary_evidence", "a match on a honeytoken customer")
PRIOR = _table("prior_samples", "a sample key seen in a run (for recycled samples)")
RECYCLED = _table("recycled_overlap", "per earlier run and field: shared keys")
PROFILE = _table("sample_profile", "a sample's bucketed count beside ours")
DIVERGENCE = _table("profile_divergence", "per dimension: divergence from our profile")
PROVENANCE = _table("provenance_runs", "a run's claimed size, customers, canaries listed")
VERDICTS = _table("run_verdicts", "a run's verdict, read by later samples that repeat it")
PROCESSED = _table("processed_samples", "a landing-zone file's state (watch mode)")


# ---- schemas of the tables written from Python rows ---------------------------------------
SAMPLE_RUNS_SCHEMA = (
    "run_id string, started_at timestamp, sample_path string, "
    "files array<struct<name:string, bytes:bigint, format:string, delimiter:string, "
    "header:boolean, mapping:map<string,string>, encoding:string, skipped:string>>, "
    "lines_read bigint, lines_parsed bigint, "
    "lines_quarantined bigint, quarantine_reasons map<string,bigint>, key_fingerprint string"
)
INDEX_BUILDS_SCHEMA = (
    "built_at timestamp, key_fingerprint string, rows_per_field map<string,bigint>, "
    "source_snapshots map<string,string>, mode string, customers_refreshed bigint, "
    "customers bigint, profile_at timestamp"
)
PROVENANCE_RUNS_SCHEMA = (
    "run_id string, claimed_records bigint, warehouse_customers bigint, canary_ids_listed bigint"
)
OVERLAP_SCHEMA = (
    "earlier_run_id string, earlier_ingested_at timestamp, field string, keys_this_run bigint, "
    "keys_seen bigint, share double"
)
LINKAGE_MODEL_SCHEMA = (
    "field string, level int, level_name string, m double, u double, weight double, "
    "prior double, em_iterations int"
)
LINKAGE_U_SCHEMA = (
    "built_at timestamp, levels string, field string, level string, u double, customers bigint, "
    "measured_at timestamp"
)
COUNTS_SCHEMA = "dimension string, value string, n bigint"
HEADER_ROWS_SCHEMA = (
    "layout_no int, files array<string>, column string, header string, kind_by_header string"
)
VERDICTS_SCHEMA = "run_id string, reported_at timestamp, verdict string, evidence_verdict string"
PROCESSED_SCHEMA = (
    "content_hash string, run_id string, file_name string, bytes bigint, state string, "
    "recorded_at timestamp, verdict string, error string"
)
QUALITY_SCHEMA = (
    "run_id string, table string, expectation string, column string, severity string, "
    "success boolean, observed_value string, unexpected_count bigint, "
    "unexpected_percent double, threshold string, checked_at timestamp"
)
