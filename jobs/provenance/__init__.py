"""Evidence beyond matching: canary records, recycled samples, profile and schema fingerprints,
and the claimed size of the leak. Column builders, DataFrame transforms and report sections
only (the jobs in `jobs.steps` do the I/O). What leaves this package is counts, shares, hashed
keys, internal customer ids, column headers, e-mail domains, calling codes and countries seen
at least `profile_min_count` times: never a raw e-mail, phone, name or address."""

from jobs.provenance.canaries import canary_hits, canary_section
from jobs.provenance.claimed import claimed_size_section
from jobs.provenance.content import CONTENT_KINDS, CONTENT_TESTS, luhn_valid
from jobs.provenance.profile import (
    OTHER,
    bucket_counts,
    calling_code,
    compare_profiles,
    contact_columns,
    index_profile_values,
    profile_counts,
    profile_divergence,
    profile_section,
    profile_values,
)
from jobs.provenance.recycled import prior_sample_keys, recycled_overlap, recycled_section
from jobs.provenance.schema import (
    column_content,
    column_values,
    header_cells,
    header_kind,
    header_rows,
    schema_fingerprint,
    schema_section,
)

__all__ = [
    "CONTENT_KINDS",
    "CONTENT_TESTS",
    "OTHER",
    "bucket_counts",
    "calling_code",
    "canary_hits",
    "canary_section",
    "claimed_size_section",
    "column_content",
    "column_values",
    "compare_profiles",
    "contact_columns",
    "header_cells",
    "header_kind",
    "header_rows",
    "index_profile_values",
    "luhn_valid",
    "prior_sample_keys",
    "profile_counts",
    "profile_divergence",
    "profile_section",
    "profile_values",
    "recycled_overlap",
    "recycled_section",
    "schema_fingerprint",
    "schema_section",
]
