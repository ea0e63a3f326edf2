"""What a column's values look like (password hash, card number, national id, ...), as native
Column tests: a sample column holding what the company never collects is evidence by itself."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

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
