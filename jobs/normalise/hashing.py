"""Keyed hashes: what the match index stores instead of identifying values.

The key's material (HMAC pads, and the gram prefix and tables of `jobs.match.secrets`) is
read from columns (named `KEY_PREFIX` + part), never written into an expression as a literal: Spark
writes every query plan, literals included, to its UI and event log. The DataFrame
transforms add those columns with `jobs.match.secrets.with_hash_key` before they hash."""

from __future__ import annotations

import hashlib

from pyspark.sql import Column
from pyspark.sql import functions as F

KEY_PREFIX = "_hash_key_"


def hmac_key_bytes(key: str) -> tuple[bytes, bytes]:
    k = key.encode("utf-8")
    if len(k) > 64:
        k = hashlib.sha256(k).digest()
    k = k.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)


def key_material(part: str) -> Column:
    """One part of the key's material (`jobs.match.secrets.SECRETS_SCHEMA`): separate
    columns, so each select carries only the parts its hashes read."""
    return F.col(KEY_PREFIX + part)


def keyed_hash(col: Column) -> Column:
    """HMAC-SHA-256 of the UTF-8 value, truncated to its first 64 bits as a signed BIGINT.

    Keyed, so the index holds no reversible PII; 64 bits keep joins fast (collision odds
    ~1e-7 at 10^7 keys per field). Needs the key's columns."""
    inner = F.unhex(F.sha2(F.concat(key_material("ipad"), F.encode(col, "UTF-8")), 256))
    mac = F.sha2(F.concat(key_material("opad"), inner), 256)
    return F.conv(F.substring(mac, 1, 16), 16, -10).cast("bigint")  # null in, null out
