"""Phone numbers: unique E.164 numbers per country, laid out in the styles people write."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from tools.demo.arrays import isin_sorted
from tools.demo.locales import NATIONAL_ALT, PHONE
from tools.demo.vocab import COUNTRIES

# The first five are the default sample's; the multinational sample adds the last two.
STYLES = ("e164", "national", "intl", "intl00", "dashed", "national_alt", "intl_trunk")
NATIONAL_STYLES = ("national", "dashed", "national_alt")


def _patterns(country: str) -> dict[str, str]:
    cc, trunk, n, _, national, intl = PHONE[country]
    head, *rest = re.split(r"[ -]", intl)
    dashed = re.sub(r"[ ()]+", "-", national).strip("-")
    out = {
        "e164": f"+{cc}" + "d" * n,
        "national": national,
        "intl": f"+{cc} {intl}",
        "intl00": f"00{cc} ({head}) " + "-".join(rest),
        "dashed": dashed,
        "national_alt": NATIONAL_ALT.get(country, dashed),
    }
    if trunk == "0" and national.startswith("0"):  # "+44 (0) 7911 123456"
        out["intl_trunk"] = f"+{cc} (0) {intl}"
    return out


PATTERNS = {c: _patterns(c) for c in PHONE}


def _nsn(rng: np.random.Generator, country: str, n: int) -> np.ndarray:
    cc, _, length, prefixes = PHONE[country][:4]
    if cc == 1:  # NANP: area code (the country's own, if listed) and exchange never start 0/1
        area = (
            np.array([int(p) for p in prefixes])[rng.integers(0, len(prefixes), n)]
            if prefixes
            else rng.integers(200, 1000, n)
        )
        return area * 10**7 + rng.integers(200, 1000, n) * 10**4 + rng.integers(0, 10**4, n)
    tail = length - len(prefixes[0])
    head = np.array([int(p) for p in prefixes])[rng.integers(0, len(prefixes), n)]
    return head * 10**tail + rng.integers(0, 10**tail, n)


def draw_phones(
    rng: np.random.Generator, cidx: np.ndarray, exclude: np.ndarray | None = None
) -> np.ndarray:
    """E.164 numbers as int64 (the digits after '+'), unique and disjoint from `exclude`."""
    full, todo = np.zeros(len(cidx), np.int64), np.arange(len(cidx))
    banned = np.sort(exclude) if exclude is not None else np.zeros(0, np.int64)
    while todo.size:
        for c, country in enumerate(COUNTRIES):
            rows = todo[cidx[todo] == c]
            full[rows] = PHONE[country][0] * 10 ** PHONE[country][2] + _nsn(rng, country, rows.size)
        order = np.argsort(full, kind="stable")
        dup = np.zeros(len(full), bool)
        dup[order[1:][full[order][1:] == full[order][:-1]]] = True
        dup[todo] |= isin_sorted(full[todo], banned)
        todo = np.flatnonzero(dup)
    return full


def _render(nsn: np.ndarray, length: int, pattern: str) -> pa.Array:
    """Lay NSN digits into a fixed ASCII pattern ('d' = next digit) without per-row Python."""
    n = len(nsn)
    digits = (nsn[:, None] // 10 ** np.arange(length - 1, -1, -1)) % 10 + ord("0")
    cols, k = [], 0
    for ch in pattern:
        cols.append(digits[:, k] if ch == "d" else np.full(n, ord(ch)))
        k += ch == "d"
    mat = np.ascontiguousarray(np.stack(cols, axis=1).astype(np.uint8))
    offsets = np.arange(0, (n + 1) * len(pattern), len(pattern), dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(mat))


def format_phones(full: np.ndarray, cidx: np.ndarray, style: np.ndarray) -> pa.Array:
    """Format E.164 ints (see draw_phones) per row; style indexes STYLES."""
    parts, rows = [pa.array([], pa.string())], [np.zeros(0, np.int64)]
    for s, name in enumerate(STYLES):
        if not (in_style := style == s).any():
            continue
        for c, country in enumerate(COUNTRIES):
            cc, _, length = PHONE[country][:3]
            sel = np.flatnonzero(in_style & (cidx == c))
            if sel.size:
                parts.append(_render(full[sel] - cc * 10**length, length, PATTERNS[country][name]))
                rows.append(sel)
    inv = np.empty(len(full), np.int64)
    inv[np.concatenate(rows)] = np.arange(len(full))
    return pa.concat_arrays(parts).take(pa.array(inv))
