"""E-mail keys: one canonical address for the spellings a mailbox has (case, plus tags, dots,
domain aliases); null for what is not an address."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from jobs.normalise.common import lit_map
from jobs.normalise.text import fold_table, is_ascii
from jobs.settings import NormaliseConf

EMAIL_RE = (
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"
)


def clean_email(col: Column) -> Column:
    """Trimmed, lower-cased, full-width folded, `mailto:` and angle brackets dropped."""
    folded = F.when(is_ascii(col), col).otherwise(F.translate(col, *fold_table()))
    e = F.lower(F.trim(folded))
    return F.regexp_replace(e, r"^(mailto:)?<?|>?$", "")


def email_key(clean: Column, conf: NormaliseConf) -> Column:
    """Canonical form of a cleaned e-mail; null when it is not a syntactically valid address."""
    local = F.substring_index(clean, "@", 1)
    domain = F.substring_index(clean, "@", -1)
    if conf.domain_aliases:
        aliases = lit_map(conf.domain_aliases)
        domain = F.coalesce(F.try_element_at(aliases, domain), domain)
    if conf.plus_tag_domains:
        local = F.when(
            domain.isin(*conf.plus_tag_domains), F.substring_index(local, "+", 1)
        ).otherwise(local)
    if conf.dotless_domains:
        local = F.when(
            domain.isin(*conf.dotless_domains), F.replace(local, F.lit("."), F.lit(""))
        ).otherwise(local)
    return F.when(clean.rlike(EMAIL_RE), F.concat(local, F.lit("@"), domain))


def normalise_email(col: Column, conf: NormaliseConf) -> Column:
    return email_key(clean_email(col), conf)


def email_problem(clean: Column) -> Column:
    """Why a cleaned e-mail value gives no key: null when fine or absent."""
    return F.when((F.length(clean) > 0) & ~clean.rlike(EMAIL_RE), F.lit("email_invalid"))
