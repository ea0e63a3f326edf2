"""DuckDB reference for the exact-match cross-check, for `make bench` to measure a ratio.

The same normalisation as jobs/normalise/, written in DuckDB SQL, over the same files
(warehouse Parquet, sample CSV), giving the same per-field "lines matched" counts. It starts
from the raw files (no prebuilt index), so it bounds from above what a single-node engine
needs for the exact part.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import yaml

CONF = Path(__file__).resolve().parent.parent / "conf" / "normalise.yaml"


def _sql_list(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _macros(conf: dict) -> list[str]:
    email = conf["email"]
    plus = _sql_list(email["plus_tag_domains"])
    dotless = _sql_list(email["dotless_domains"])
    aliases = " ".join(f"WHEN d = '{a}' THEN '{b}'" for a, b in email["domain_aliases"].items())
    abbreviations = "s"
    for pattern, repl in conf["address"]["abbreviations"].items():
        pat = pattern.replace("'", "''")
        inner = len(re.findall(r"\((?!\?)", pattern))  # capture groups inside the pattern
        rep = repl.replace("$1", "\\2")
        tail = f"\\{inner + 2}"
        abbreviations = (
            f"regexp_replace({abbreviations}, '(^| )(?:{pat})( |$)', '\\1{rep}{tail}', 'g')"
        )
    countries = ", ".join(
        f"('{k}', '{cc}', '{tp}')" for k, (cc, tp) in conf["phone_countries"].items()
    )
    return [
        f"CREATE OR REPLACE TABLE phone_cc AS SELECT * FROM (VALUES {countries}) t(country, cc, trunk)",
        "CREATE OR REPLACE MACRO fold(s) AS replace(replace(strip_accents(lower(s)), 'ς', 'σ'), 'ß', 'ss')",
        "CREATE OR REPLACE MACRO clean_name(s) AS "
        "trim(regexp_replace(fold(s), '[^\\p{L}\\p{N}]+', ' ', 'g'))",
        "CREATE OR REPLACE MACRO name_key(s) AS nullif(array_to_string("
        "list_sort(string_split(clean_name(s), ' ')), ' '), '')",
        "CREATE OR REPLACE MACRO email_dom(e) AS (SELECT CASE "
        f"{aliases} ELSE d END FROM (SELECT split_part(e, '@', 2) AS d))",
        "CREATE OR REPLACE MACRO email_key(raw) AS (SELECT CASE WHEN regexp_full_match(e, "
        "'[a-z0-9!#$%&''*+/=?^_`{|}~-]+(\\.[a-z0-9!#$%&''*+/=?^_`{|}~-]+)*@[a-z0-9]([a-z0-9-]*"
        "[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+') THEN "
        f"(CASE WHEN email_dom(e) IN ({dotless}) THEN replace(l, '.', '') ELSE l END) "
        "|| '@' || email_dom(e) END FROM (SELECT e, CASE WHEN email_dom(e) IN "
        f"({plus}) THEN split_part(split_part(e, '@', 1), '+', 1) ELSE split_part(e, '@', 1) "
        "END AS l FROM (SELECT lower(trim(raw)) AS e)))",
        "CREATE OR REPLACE MACRO phone_clean(p) AS regexp_replace(regexp_replace(regexp_replace("
        "trim(p), '(?i)\\s*(ext\\.?|x|#)\\s*[0-9]+$', ''), '\\(0\\)', '', 'g'), '[^0-9+]', '', 'g')",
        "CREATE OR REPLACE MACRO e164(c, d, cc, trunk) AS (SELECT CASE WHEN length(x) BETWEEN 8 AND 15 "
        "THEN '+' || x END FROM (SELECT CASE WHEN starts_with(c, '+') THEN d "
        "WHEN starts_with(d, '00') THEN substr(d, 3) WHEN cc IS NULL THEN NULL "
        "WHEN starts_with(d, cc) AND length(d) >= length(cc) + 9 AND NOT (trunk <> '' AND "
        "starts_with(d, trunk)) THEN d WHEN trunk <> '' AND starts_with(d, trunk) THEN "
        "cc || substr(d, length(trunk) + 1) ELSE cc || d END AS x))",
        f"CREATE OR REPLACE MACRO fold_street(x) AS (SELECT {abbreviations} "
        "FROM (SELECT clean_name(x) AS s))",
        "CREATE OR REPLACE MACRO address_key(line1, pc) AS (SELECT CASE WHEN rest <> '' AND p <> '' "
        "THEN coalesce(n, '') || '|' || rest || '|' || p END FROM (SELECT n, "
        "trim(regexp_replace(' ' || s || ' ', ' ' || coalesce(n, '#') || ' ', ' ', 'g')) AS rest, "
        "regexp_replace(upper(fold(pc)), '[^\\p{L}\\p{N}]', '', 'g') AS p FROM (SELECT s, "
        "nullif(regexp_extract(s, '(^| )([0-9]+[a-z]?)( |$)', 2), '') AS n "
        "FROM (SELECT fold_street(line1) AS s))))",
    ]


def run_reference(data: Path, threads: int = 2) -> tuple[dict[str, float], dict[str, int]]:
    """Normalise warehouse + sample in DuckDB and count sample lines matched per field.

    Returns seconds per step (`index`, `sample`, `join`, `total`) and the counts."""
    import duckdb

    conf = yaml.safe_load(CONF.read_text(encoding="utf-8"))
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    t = time.perf_counter()
    for stmt in _macros(conf):
        con.execute(stmt)
    wh = data / "warehouse"
    sample = next((data / "sample").iterdir())
    con.execute(f"""
        CREATE TABLE idx AS
        WITH c AS (SELECT c.customer_id, c.first_name || ' ' || c.last_name AS name, c.email,
                          c.phone, c.country FROM read_parquet('{wh}/customers/*.parquet') c),
             o AS (SELECT customer_id, ship_name, ship_phone, ship_line1, ship_postcode,
                          ship_country FROM read_parquet('{wh}/orders/*.parquet')),
             a AS (SELECT customer_id, line1, postcode FROM read_parquet('{wh}/addresses/*.parquet'))
        SELECT DISTINCT * FROM (
          SELECT 'email' AS field, email_key(email) AS k, customer_id FROM c
          UNION ALL SELECT 'name', name_key(name), customer_id FROM c
          UNION ALL SELECT 'name', name_key(ship_name), customer_id FROM o
          UNION ALL SELECT 'phone', e164(phone_clean(phone), regexp_replace(phone_clean(phone), '[^0-9]', '', 'g'), p.cc, p.trunk), customer_id FROM c LEFT JOIN phone_cc p USING (country)
          UNION ALL SELECT 'phone', e164(phone_clean(ship_phone), regexp_replace(phone_clean(ship_phone), '[^0-9]', '', 'g'), p.cc, p.trunk), customer_id FROM o LEFT JOIN phone_cc p ON p.country = o.ship_country
          UNION ALL SELECT 'address', address_key(line1, postcode), customer_id FROM a
          UNION ALL SELECT 'address', address_key(ship_line1, ship_postcode), customer_id FROM o
        ) WHERE k IS NOT NULL
    """)  # noqa: E501
    t_index = time.perf_counter()
    con.execute(f"""
        CREATE TABLE s AS
        SELECT row_number() OVER () AS line, * FROM read_csv('{sample}', delim=';', header=true,
            all_varchar=true, ignore_errors=true, quote='', escape='')
    """)
    cols = [r[0] for r in con.execute("DESCRIBE s").fetchall()]
    name, email, phone, addr, country = cols[1:6]
    con.execute(f"""
        CREATE TABLE sk AS
        WITH x AS (SELECT line, "{name}" AS name, "{email}" AS email, "{phone}" AS phone,
                          "{addr}" AS addr, upper(trim("{country}")) AS country FROM s)
        SELECT line, 'email' AS field, email_key(email) AS k FROM x
        UNION ALL SELECT line, 'name', name_key(name) FROM x
        UNION ALL SELECT line, 'phone', e164(phone_clean(phone), regexp_replace(phone_clean(phone), '[^0-9]', '', 'g'), p.cc, p.trunk) FROM x LEFT JOIN phone_cc p USING (country)
        UNION ALL SELECT line, 'address', address_key(trim(split_part(addr, ',', 1)),
            array_to_string(list_filter(string_split(trim(regexp_replace(
            regexp_replace(addr, '^[^,]*,?', ''), '[,;\\s]+', ' ', 'g')), ' '),
            lambda t: regexp_matches(t, '[0-9]')), '')) FROM x
    """)  # noqa: E501
    t_sample = time.perf_counter()
    rows = con.execute("""
        SELECT sk.field, count(DISTINCT sk.line) FROM sk
        JOIN (SELECT DISTINCT field, k FROM idx) i ON i.field = sk.field AND i.k = sk.k
        WHERE sk.k IS NOT NULL GROUP BY sk.field
    """).fetchall()
    end = time.perf_counter()
    seconds = {
        "index": t_index - t,
        "sample": t_sample - t_index,
        "join": end - t_sample,
        "total": end - t,
    }
    return seconds, {f: int(n) for f, n in rows}


if __name__ == "__main__":
    import json
    import sys

    secs, counts = run_reference(Path(sys.argv[1]))
    print(json.dumps({"seconds": secs, "counts": counts}))
