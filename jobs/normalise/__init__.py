"""Column builders (`Column -> Column`) that turn identifying values into match keys.

The same functions run on the sample and on the warehouse, so that a value written two ways
("Müller, Jürgen" / "JURGEN MULLER", "020 7946 0958" / "+44 20 7946 0958") gives one key.
All are native Spark expressions: no Python UDF, so they run at JVM speed everywhere.
"""

from jobs.normalise.address import (
    address_key,
    address_parts,
    address_struct,
    normalise_address,
    normalise_city,
    normalise_postcode,
    split_address,
)
from jobs.normalise.birth import normalise_birth_date
from jobs.normalise.country import normalise_country
from jobs.normalise.email import clean_email, email_key, email_problem, normalise_email
from jobs.normalise.hashing import keyed_hash
from jobs.normalise.phone import clean_phone, normalise_phone, phone_e164
from jobs.normalise.street import (
    HOUSE_NUMBER_TOKEN_RE,
    abbreviation_plan,
    fold_house_number,
    fold_street,
    regexp_guard,
)
from jobs.normalise.text import (
    CJK_ONLY_RE,
    clean_name,
    fold_name,
    full_name,
    name_key,
    name_keys,
    normalise_name,
)

__all__ = [
    "CJK_ONLY_RE",
    "HOUSE_NUMBER_TOKEN_RE",
    "abbreviation_plan",
    "address_key",
    "address_parts",
    "address_struct",
    "clean_email",
    "clean_name",
    "clean_phone",
    "email_key",
    "email_problem",
    "fold_house_number",
    "fold_name",
    "fold_street",
    "full_name",
    "keyed_hash",
    "name_key",
    "name_keys",
    "normalise_address",
    "normalise_birth_date",
    "normalise_city",
    "normalise_country",
    "normalise_email",
    "normalise_name",
    "normalise_phone",
    "normalise_postcode",
    "phone_e164",
    "regexp_guard",
    "split_address",
]
