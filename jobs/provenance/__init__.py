"""Evidence beyond matching: canary records, recycled samples, profile and schema fingerprints,
and the claimed size of the leak.

Column builders and DataFrame transforms only (the jobs in `jobs.pipeline` do the I/O), plus
the small functions that turn their collected rows into report sections. What leaves this module
is counts, shares, hashed keys, internal customer ids, column headers, e-mail domains, calling
codes and countries seen at least `profile_min_count` times: never a raw e-mail, phone, name or
address.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import MapType, StringType

from jobs.normalise import clean_email, clean_phone, email_key, normalise_country, phone_e164
from jobs.sample.headers import fold_header, synonym_index
from jobs.settings import FIELDS, NormaliseConf, ProvenanceConf

OTHER = "(other)"  # bucket of rare profile values: never a domain, code or country
DIMENSIONS = ("email_domain", "phone_code", "country")
# Most specific first: a US SSN or an ISO date also looks like a phone number.
CONTENT_KINDS = (
    "password",
    "credit_card",
    "national_id",
    "ip_address",
    "date",
    "email",
    "phone",
)
PASSWORD_HASH_RE = (
    r"^(\$2[abxy]?\$[0-9]{2}\$[./A-Za-z0-9]{53}"  # bcrypt
    r"|\$argon2(id|i|d)\$\S+"  # argon2
    r"|\$[156]\$[^$]{1,16}\$[./A-Za-z0-9]{22,86}"  # md5-crypt, sha256/512-crypt
    r"|\{(SSHA|SHA|MD5)\}[A-Za-z0-9+/=]{20,}"  # LDAP
    r"|pbkdf2_sha256\$[0-9]+\$\S+"  # Django
    r"|[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}|[0-9a-fA-F]{128})$"  # md5/sha1/256/512
)
NATIONAL_ID_RE = (
    r"^([0-9]{3}-[0-9]{2}-[0-9]{4}"  # US social security number
    r"|[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D])$"  # UK NINO
)
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IPV4_RE = rf"^({_OCTET}\.){{3}}{_OCTET}$"
IPV6_RE = r"^[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{0,4}){2,7}$"
DATE_RE = (
    r"^((19|20)[0-9]{2}[-/.](0?[1-9]|1[0-2])[-/.](0?[1-9]|[12][0-9]|3[01])"
    r"|(0?[1-9]|[12][0-9]|3[01])[-/.](0?[1-9]|1[0-2])[-/.](19|20)[0-9]{2}"
    r"|(0?[1-9]|1[0-2])/(0?[1-9]|[12][0-9]|3[01])/(19|20)[0-9]{2})$"
)
EMAIL_SHAPE_RE = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"
PHONE_SHAPE_RE = r"^\+?[0-9\s().\-/]{7,20}$"


# ---- content kinds: Column -> Column ------------------------------------------------------


def looks_like_password_hash(col: Column) -> Column:
    """bcrypt/argon2/crypt/LDAP/Django hashes or bare md5/sha hex digests: what a credential
    dump holds, and what a shop's customer table does not."""
    return F.trim(col).rlike(PASSWORD_HASH_RE)


def luhn_valid(digits: Column) -> Column:
    """Luhn checksum of a digit string, natively: every second digit from the right doubled
    (minus 9 above 9), the sum divisible by 10."""
    reversed_digits = F.split(F.reverse(digits), "")
    weighted = F.transform(
        reversed_digits,
        lambda d, i: F.when(
            i % 2 == 1,
            F.when(d.cast("int") * 2 > 9, d.cast("int") * 2 - 9).otherwise(d.cast("int") * 2),
        ).otherwise(d.cast("int")),
    )
    total = F.aggregate(weighted, F.lit(0), lambda acc, d: acc + d)
    return total % 10 == 0


def looks_like_card_number(col: Column) -> Column:
    """13-19 digits (spaces or dashes between groups allowed) passing the Luhn check."""
    value = F.trim(col)
    digits = F.regexp_replace(value, r"[ -]", "")
    shaped = value.rlike(r"^[0-9][0-9 -]{11,24}[0-9]$") & digits.rlike(r"^[0-9]{13,19}$")
    return F.coalesce(shaped & luhn_valid(digits), F.lit(False))


def looks_like_national_id(col: Column) -> Column:
    """US social security numbers (NNN-NN-NNNN) and UK national insurance numbers."""
    return F.upper(F.trim(col)).rlike(NATIONAL_ID_RE)


def looks_like_ip(col: Column) -> Column:
    value = F.trim(col)
    return value.rlike(IPV4_RE) | value.rlike(IPV6_RE)


def looks_like_date(col: Column) -> Column:
    """ISO, day-first and US month-first dates (years 1900-2099), no time of day."""
    return F.trim(col).rlike(DATE_RE)


def looks_like_email(col: Column) -> Column:
    return F.trim(col).rlike(EMAIL_SHAPE_RE)


def looks_like_phone(col: Column) -> Column:
    value = F.trim(col)
    return value.rlike(PHONE_SHAPE_RE) & (F.length(F.regexp_replace(value, "[^0-9]", "")) >= 7)


CONTENT_TESTS = {
    "password": looks_like_password_hash,
    "credit_card": looks_like_card_number,
    "national_id": looks_like_national_id,
    "ip_address": looks_like_ip,
    "date": looks_like_date,
    "email": looks_like_email,
    "phone": looks_like_phone,
}


# ---- schema fingerprint -------------------------------------------------------------------


def header_cells(
    lines: Sequence[str], kind: str, delimiter: str | None, has_header: bool
) -> list[str] | None:
    """A file's column headers from its first lines (driver side, the sniffed lines only):
    the header row of a delimited file, the keys of a JSON Lines file, None without a header."""
    if kind == "json":
        keys: list[str] = []
        for line in lines:
            try:
                obj = json.loads(line.strip().rstrip(","))
            except ValueError:
                continue
            if isinstance(obj, dict):
                keys += [k for k in obj if k not in keys]
        return keys
    if not has_header:
        return None
    first = next((ln for ln in lines if ln.strip()), "")
    return next(csv.reader([first.lstrip("\ufeff")], delimiter=delimiter or "\x00"), [])


def header_kind(header: str | None, headers: Mapping[str, Sequence[str]]) -> str | None:
    """The kind a header names (`conf/headers.yaml`: matched fields and the other kinds)."""
    if not header:
        return None
    return synonym_index(headers).get(fold_header(header))


def column_values(lines: DataFrame, kind: str, delimiter: str | None, width: int) -> DataFrame:
    """Parsed data lines (`value`, header already dropped) -> (column, value), one row per
    non-blank cell: a delimited file's columns by 1-based position, a JSON file's by key."""
    text = F.regexp_replace(F.col("value"), "^\ufeff", "")
    if kind == "json":
        obj = F.from_json(
            F.regexp_replace(F.trim(text), r"^\[|,$|\]$", ""), MapType(StringType(), StringType())
        )
        cells = lines.select(F.explode(obj).alias("column", "value"))
    elif delimiter and width >= 2:
        ddl = ", ".join(f"c{i} STRING" for i in range(width))
        opts = {"sep": delimiter, "quote": '"', "escape": '"', "mode": "PERMISSIVE"}
        parsed = lines.select(F.from_csv(text, ddl, opts).alias("p"))
        stack = ", ".join(f"'{i + 1}', p.c{i}" for i in range(width))
        cells = parsed.select(F.expr(f"stack({width}, {stack}) as (column, value)"))
    else:
        cells = lines.select(F.lit("1").alias("column"), text.alias("value"))
    return cells.filter(F.length(F.trim(F.col("value"))) > 0).select("column", "value")


def column_content(values: DataFrame, min_share: float) -> DataFrame:
    """(column, value) -> per column: values checked, the content kind most of its values have
    (null below `min_share`) and that share. Counts only: no value leaves this transform."""
    flags = [CONTENT_TESTS[k](F.col("value")).cast("int").alias(k) for k in CONTENT_KINDS]
    counted = (
        values.select("column", *flags)
        .groupBy("column")
        .agg(F.count(F.lit(1)).alias("values_checked"), *[F.sum(k).alias(k) for k in CONTENT_KINDS])
    )
    scored = F.array(
        *[
            F.struct(
                (F.col(k) / F.col("values_checked")).alias("share"),
                F.lit(-i).alias("priority"),
                F.lit(k).alias("kind"),
            )
            for i, k in enumerate(CONTENT_KINDS)
        ]
    )
    best = F.array_max(scored)
    return counted.select(
        "column",
        F.col("values_checked").cast("long").alias("values_checked"),
        F.when(best.getField("share") >= min_share, best.getField("kind")).alias("kind_by_content"),
        F.when(best.getField("share") >= min_share, best.getField("share"))
        .cast("double")
        .alias("content_share"),
    )


def schema_fingerprint(headers: DataFrame, content: DataFrame, conf: ProvenanceConf) -> DataFrame:
    """Header rows (layout_no, files, column, header, kind_by_header) and per-column content
    (layout_no, column, values_checked, kind_by_content, content_share) -> one row per sample
    column with its kind and whether the company stores it, never collects it, or neither.
    A header names the kind when it is known; otherwise the content decides."""
    joined = headers.join(content, on=["layout_no", "column"], how="full")
    kind = F.coalesce(F.col("kind_by_header"), F.col("kind_by_content"))
    status = (
        F.when(kind.isin(*conf.stored_kinds), F.lit("stored"))
        .when(kind.isin(*conf.never_collected), F.lit("never_collected"))
        .when(kind.isNotNull(), F.lit("not_stored"))
        .otherwise(F.lit("unrecognised"))
    )
    return joined.select(
        F.col("layout_no").cast("int").alias("layout_no"),
        F.col("files"),
        F.col("column").cast("string").alias("column"),
        F.col("header").cast("string").alias("header"),
        F.col("kind_by_header").cast("string").alias("kind_by_header"),
        F.col("kind_by_content").cast("string").alias("kind_by_content"),
        F.col("content_share").cast("double").alias("content_share"),
        F.coalesce(F.col("values_checked"), F.lit(0)).cast("long").alias("values_checked"),
        kind.cast("string").alias("kind"),
        status.alias("status"),
    )


# ---- profile fingerprint ------------------------------------------------------------------


def calling_code(e164: Column, codes: Iterable[str]) -> Column:
    """'+44...' -> '44': the longest known country calling code (1-3 digits) the number
    starts with, by three map look-ups; "(other)" for an E.164 number of no known code."""
    known = sorted(set(codes))
    lookup = F.create_map(*[F.lit(x) for c in known for x in (c, c)])
    tries = [F.try_element_at(lookup, F.substring(e164, 2, n)) for n in (3, 2, 1)]
    return F.when(e164.isNotNull(), F.coalesce(*tries, F.lit(OTHER)))


def profile_values(
    people: DataFrame, conf: NormaliseConf, default_country: str | None = None
) -> DataFrame:
    """Rows with `email`, `phone`, `country` (raw, any may be null) -> (dimension, value):
    the e-mail domain (after the same canonicalisation as the match keys), the phone's
    country calling code and the ISO country. The local part and the number are dropped here.

    Cleaned in one projection, canonicalised in the next, as `keys.with_normalised` does, so
    each costly clean-up runs once per value and the generated code stays small."""
    cleaned = people.select(
        clean_email(F.col("email")).alias("_email"),
        clean_phone(F.col("phone")).alias("_phone"),
        normalise_country(F.coalesce(F.col("country"), F.lit(default_country))).alias("country"),
    )
    canonical = cleaned.select(
        email_key(F.col("_email"), conf).alias("_email"),
        phone_e164(F.col("_phone"), F.col("country"), conf).alias("_phone"),
        "country",
    )
    codes = (cc for cc, _ in conf.phone_countries.values())
    parts = canonical.select(
        F.substring_index(F.col("_email"), "@", -1).alias("email_domain"),
        calling_code(F.col("_phone"), codes).alias("phone_code"),
        "country",
    )
    stack = ", ".join(f"'{d}', {d}" for d in DIMENSIONS)
    return (
        parts.select(F.expr(f"stack({len(DIMENSIONS)}, {stack}) as (dimension, value)"))
        .filter(F.col("value").isNotNull())
        .select("dimension", "value")
    )


def index_profile_values(
    values: Mapping[str, DataFrame], people: DataFrame, role_bit: int, conf: NormaliseConf
) -> DataFrame:
    """`profile_values` of the customers' rows, with e-mail and phone taken from
    `keys.index_values` (already canonical there: not cleaned a second time) where the
    customers role (`role_bit` of `_sources`) holds them, and the country from the rows
    (`people`: `country`). A customers table has one row per customer, so a customer and
    value pair there is one row; a duplicated customer row is counted once."""
    own = F.col("_sources").bitwiseAND(role_bit) != 0
    codes = (cc for cc, _ in conf.phone_countries.values())
    parts = [
        values["email"]
        .filter(own)
        .select(F.substring_index(F.col("value"), "@", -1).alias("value"))
        .select(F.lit("email_domain").alias("dimension"), "value"),
        values["phone"]
        .filter(own)
        .select(calling_code(F.col("value"), codes).alias("value"))
        .select(F.lit("phone_code").alias("dimension"), "value"),
        people.select(
            F.lit("country").alias("dimension"), normalise_country(F.col("country")).alias("value")
        ),
    ]
    union = parts[0].unionByName(parts[1]).unionByName(parts[2])
    return union.filter(F.col("value").isNotNull()).select("dimension", "value")


def profile_counts(values: DataFrame, min_count: int) -> DataFrame:
    """(dimension, value) -> (dimension, value, n); values seen fewer than `min_count` times
    are counted as "(other)", so a rare personal domain cannot single anyone out."""
    counts = values.groupBy("dimension", "value").agg(F.count(F.lit(1)).alias("n"))
    return bucket_counts(counts, min_count)


def bucket_counts(counts: DataFrame, min_count: int) -> DataFrame:
    """(dimension, value, n) -> the same with values under `min_count` merged into "(other)"."""
    bucket = F.when(F.col("n") >= min_count, F.col("value")).otherwise(F.lit(OTHER))
    return (
        counts.select("dimension", bucket.alias("value"), "n")
        .groupBy("dimension", "value")
        .agg(F.sum("n").cast("long").alias("n"))
        .select("dimension", "value", "n")
    )


def _shares(counts: DataFrame, prefix: str) -> DataFrame:
    totals = counts.groupBy("dimension").agg(F.sum("n").alias("_total"))
    return counts.join(totals, on="dimension", how="inner").select(
        "dimension",
        "value",
        F.col("n").cast("long").alias(f"{prefix}_n"),
        (F.col("n") / F.col("_total")).cast("double").alias(f"{prefix}_share"),
    )


def compare_profiles(sample: DataFrame, warehouse: DataFrame) -> DataFrame:
    """Bucketed counts of both sides -> (dimension, value, sample_n, sample_share, warehouse_n,
    warehouse_share), zeros where a side lacks the value."""
    joined = _shares(sample, "sample").join(
        _shares(warehouse, "warehouse"), on=["dimension", "value"], how="full"
    )
    return joined.select(
        "dimension",
        "value",
        F.coalesce(F.col("sample_n"), F.lit(0)).cast("long").alias("sample_n"),
        F.coalesce(F.col("sample_share"), F.lit(0.0)).alias("sample_share"),
        F.coalesce(F.col("warehouse_n"), F.lit(0)).cast("long").alias("warehouse_n"),
        F.coalesce(F.col("warehouse_share"), F.lit(0.0)).alias("warehouse_share"),
    )


def profile_divergence(sample: DataFrame, warehouse: DataFrame) -> DataFrame:
    """Jensen-Shannon divergence (base 2: 0 = same distribution, 1 = disjoint) per dimension.

    `warehouse` holds bucketed counts; `sample` holds the sample's counts before bucketing
    (an aggregate that is never stored), so each sample value lands exactly where the
    warehouse counts it: under its own name, or in "(other)" with the warehouse's rare values
    and the values we do not hold at all."""
    known = warehouse.filter(F.col("value") != OTHER).select(
        "dimension", "value", F.lit(True).alias("_known")
    )
    mapped = (
        sample.join(known, on=["dimension", "value"], how="left")
        .select(
            "dimension",
            F.when(F.col("_known"), F.col("value")).otherwise(F.lit(OTHER)).alias("value"),
            "n",
        )
        .groupBy("dimension", "value")
        .agg(F.sum("n").alias("n"))
    )
    p = _shares(mapped, "p")
    q = _shares(warehouse, "q")
    both = p.join(q, on=["dimension", "value"], how="full").select(
        "dimension",
        F.coalesce(F.col("p_share"), F.lit(0.0)).alias("p"),
        F.coalesce(F.col("q_share"), F.lit(0.0)).alias("q"),
        F.coalesce(F.col("p_n"), F.lit(0)).alias("p_n"),
        F.coalesce(F.col("q_n"), F.lit(0)).alias("q_n"),
    )
    m = (F.col("p") + F.col("q")) / 2

    def term(x: Column) -> Column:
        return F.when(x > 0, x * F.log2(x / m)).otherwise(F.lit(0.0))

    return (
        both.groupBy("dimension")
        .agg(
            (F.sum(term(F.col("p"))) / 2 + F.sum(term(F.col("q"))) / 2).alias("divergence"),
            F.sum("p_n").cast("long").alias("sample_values"),
            F.sum("q_n").cast("long").alias("warehouse_values"),
        )
        .filter((F.col("sample_values") > 0) & (F.col("warehouse_values") > 0))
        .select(
            "dimension",
            F.greatest(F.least(F.col("divergence"), F.lit(1.0)), F.lit(0.0))
            .cast("double")
            .alias("divergence"),
            "sample_values",
            "warehouse_values",
        )
    )


# ---- canaries and recycled samples --------------------------------------------------------


def canary_hits(evidence: DataFrame, canaries: DataFrame, fields: Sequence[str]) -> DataFrame:
    """Evidence rows (line_number, field, customer_id, ...) that point at a canary customer:
    records that exist only in the warehouse, so any hit means the data came from us."""
    ids = canaries.select(F.col("customer_id").cast("string").alias("customer_id")).distinct()
    return (
        evidence.filter(F.col("customer_id").isNotNull() & F.col("field").isin(*fields))
        .join(ids, on="customer_id", how="inner")
        .select("line_number", "field", "customer_id", "source")
    )


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


# ---- report sections (collected rows -> dicts of counts) ----------------------------------


def canary_section(hits: Sequence[Mapping[str, Any]], canaries_listed: int) -> dict[str, Any]:
    """Lines, fields and canary ids hit (internal ids, fine to report), first lines first."""
    lines = sorted({h["line_number"] for h in hits})
    fields: dict[str, set] = {}
    for h in hits:
        fields.setdefault(h["field"], set()).add(h["line_number"])
    return {
        "canary_ids_listed": int(canaries_listed),
        "lines": len(lines),
        "line_numbers": lines[:20],
        "fields": {f: len(v) for f, v in sorted(fields.items())},
        "canary_ids_hit": sorted({str(h["customer_id"]) for h in hits}),
    }


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


def profile_section(
    comparison: Sequence[Mapping[str, Any]],
    divergence: Sequence[Mapping[str, Any]],
    conf: ProvenanceConf,
) -> dict[str, Any]:
    """Per dimension: divergence, whether it is flagged, and the sample's top values with
    their share here and among our customers (values seen >= `profile_min_count` times)."""
    out: dict[str, Any] = {
        "min_count": conf.profile_min_count,
        "divergence_threshold": conf.divergence_threshold,
        "dimensions": {},
    }
    by_dim = {d["dimension"]: d for d in divergence}
    for dim in DIMENSIONS:
        rows = [r for r in comparison if r["dimension"] == dim and r["sample_n"] > 0]
        if not rows and dim not in by_dim:
            continue
        rows.sort(key=lambda r: (r["value"] == OTHER, -r["sample_n"], r["value"]))
        d = by_dim.get(dim)
        div = round(float(d["divergence"]), 6) if d else None
        out["dimensions"][dim] = {
            "divergence": div,
            "flagged": div is not None and div >= conf.divergence_threshold,
            "sample_values": int(d["sample_values"]) if d else sum(r["sample_n"] for r in rows),
            "warehouse_values": int(d["warehouse_values"]) if d else 0,
            "top": [
                {
                    "value": r["value"],
                    "sample_n": int(r["sample_n"]),
                    "sample_share": round(float(r["sample_share"]), 6),
                    "warehouse_n": int(r["warehouse_n"]),
                    "warehouse_share": round(float(r["warehouse_share"]), 6),
                }
                for r in rows[: conf.profile_top_n]
            ],
        }
    return out


def schema_section(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Columns of the sample with their kind and status, and the totals per status."""
    columns = [
        {
            "files": list(r["files"] or []),
            "column": r["column"],
            "header": r["header"],
            "kind": r["kind"],
            "by_header": r["kind_by_header"],
            "by_content": r["kind_by_content"],
            "content_share": None
            if r["content_share"] is None
            else round(float(r["content_share"]), 6),
            "values_checked": int(r["values_checked"]),
            "status": r["status"],
        }
        for r in sorted(rows, key=lambda r: (r["layout_no"] or 0, _column_order(r["column"])))
    ]
    counts = {
        s: sum(c["status"] == s for c in columns)
        for s in ("stored", "never_collected", "not_stored", "unrecognised")
    }
    return {"columns": columns, "counts": counts}


def _column_order(column: str | None) -> tuple[int, str]:
    return (int(column), "") if column and column.isdigit() else (10**6, column or "")


def claimed_size_section(claimed: int | None, warehouse_customers: int | None) -> dict[str, Any]:
    """The seller's claimed record count against our distinct customers: more is impossible
    (for customer records; say by how much)."""
    out: dict[str, Any] = {"claimed_records": claimed, "warehouse_customers": warehouse_customers}
    if claimed is None or warehouse_customers is None:
        out["impossible"] = None
        return out
    excess = claimed - warehouse_customers
    out["impossible"] = excess > 0
    out["excess"] = max(excess, 0)
    out["ratio"] = round(claimed / warehouse_customers, 6) if warehouse_customers else None
    return out
