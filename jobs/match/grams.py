"""Keyed q-gram hashes of name and street tokens, vectorised over Arrow batches.

Why not native Spark. The grams of a token are an array, and Spark evaluates the lambdas of
higher-order functions (`transform`) interpreted, not in generated code: hashing every gram of
every token that way cost about 1.5 µs of CPU per gram, most of the fuzzy index build. Here a
whole Arrow batch is hashed at once with numpy index arithmetic (`make bench` prints the
difference, `benchmarks/bench_builders.py` the builder alone, per script). Tokens in other
scripts (CJK, Hangul, Arabic, Latin letters the fold keeps) are decoded from their UTF-8 bytes
the same way, and their grams off the two-character table hashed once per distinct gram: no
Python per token, so they cost what a Latin token costs. The values are exactly those
of `fuzzy.payloads.native_token_gram_hashes` (`fuzzy.hashes.gram_hash` on each gram); a unit
test holds the two together.

Only numpy and pyarrow here: executors import this module (it travels with the package).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SEP = "\u001f"  # cannot occur in a cleaned value
GRAM_ALPHABET = "^$abcdefghijklmnopqrstuvwxyz0123456789" + SEP
_N = len(GRAM_ALPHABET)
_POS = np.zeros(256, dtype=np.int64)  # byte -> 1-based position in the alphabet, 0: not in it
for _i, _c in enumerate(GRAM_ALPHABET):
    _POS[ord(_c)] = _i + 1


SORT_WIDTH = 64  # hashes of a token set that decide its place among its row's sets
PAD = -(1 << 40)  # below every int32: a set that is a prefix of another sorts first


@dataclass(frozen=True)
class _Batch:
    """A batch's tokens and their grams: offsets of rows into tokens and of tokens into
    hashes, and per token its CJK flag and length in characters."""

    outer: np.ndarray
    inner: np.ndarray
    values: np.ndarray
    cjk: np.ndarray
    chars: np.ndarray
    nulls: pa.Array | None


def _offsets(counts: np.ndarray) -> np.ndarray:
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _segment_ids(offsets: np.ndarray) -> np.ndarray:
    """Per element, the index of the segment (offsets[i]..offsets[i+1]) it belongs to."""
    return np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))


def _packed(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """(segment or row, int32 value) as one int64 whose order is that of the pair: one sort
    of it is many times faster than `np.lexsort` on the two columns (two stable passes)."""
    return (high.astype(np.int64) << 32) | (low.astype(np.int64) + (1 << 31))


def _distinct_sorted(
    values: np.ndarray, segment: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per segment its int32 values distinct and ascending -> (values, count per segment)."""
    key = np.sort(_packed(segment, values))
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key = key[first]
    kept = ((key & 0xFFFFFFFF) - (1 << 31)).astype(np.int32)
    return kept, np.bincount(key >> 32, minlength=n)


def _set_order(values: np.ndarray, inner: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Order of the sets (`inner` offsets into `values`, none empty) by row, then
    lexicographic within a row, as Spark's `array_sort` orders arrays: a sort on each set's
    first hash, and a full comparison only for the rows where two sets share it."""
    key = _packed(row, values[inner[:-1]])
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    tied = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(tied) == 0:
        return order
    # Rows are contiguous and ascending both before and after the sort: the tied rows' sets
    # take the same positions in `order` as in the input.
    idx = np.flatnonzero(np.isin(row, np.unique(row[order[tied]])))
    order[idx] = idx[_lex_order(values, inner, idx, row)]
    return order


def _lex_order(values: np.ndarray, inner: np.ndarray, idx: np.ndarray, row: np.ndarray):
    """The sets `idx` sorted by row, then lexicographically: a sort on (row, hash 1, 2, ...)
    with a pad below every hash, so a prefix sorts first. Sets longer than SORT_WIDTH are
    ordered on their first SORT_WIDTH hashes only (never seen in a real name)."""
    lengths = np.diff(inner)[idx]
    width = int(min(max(lengths.max(initial=0), 1), SORT_WIDTH))
    col = np.arange(width)
    inside = col[None, :] < lengths[:, None]
    matrix = np.full((len(idx), width), PAD, dtype=np.int64)
    matrix[inside] = values[(inner[idx][:, None] + col[None, :])[inside]]
    return np.lexsort([*(matrix[:, k] for k in reversed(range(width))), row[idx]])


def _gather(values: np.ndarray, offsets: np.ndarray, order: np.ndarray):
    """Segments taken in `order` -> (values, offsets)."""
    lengths = np.diff(offsets)[order]
    new = _offsets(lengths)
    seg = _segment_ids(new)
    return values[offsets[order][seg] + np.arange(new[-1]) - new[seg]], new


def _nested(outer, inner, values, nulls) -> pa.Array:
    inner_list = pa.ListArray.from_arrays(pa.array(inner, pa.int32()), pa.array(values, pa.int32()))
    return pa.ListArray.from_arrays(pa.array(outer, pa.int32()), inner_list, mask=nulls)


def sha_gram_hash(gram: str, tag: str, prefix: bytes) -> int:
    """SHA-256 of (secret prefix, tag, gram), first 4 bytes as a signed int."""
    digest = hashlib.sha256(prefix + f"{tag}{SEP}{gram}".encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


def py_token_grams(token: str, cjk: bool) -> list[str]:
    """The grams of one token, as `fuzzy.payloads.native_token_gram_hashes` makes them: the
    bigrams of "^token$" then the letters (SEP + letter); a CJK token its letters only."""
    padded = f"^{token}$"
    bigrams = [] if cjk else [padded[i : i + 2] for i in range(len(padded) - 1)]
    letters = [SEP + c for c in token] or [SEP]  # Spark splits "" into [""]
    return bigrams + letters


# A gram of the slow path as one int64: first character's code point << 21 | the second's, or
# _NONE for a gram of one character (the letter gram of an empty token: SEP alone).
_SHIFT = 21
_NONE = (1 << _SHIFT) - 1
_CARET, _DOLLAR, _SEP = ord("^"), ord("$"), ord(SEP)


def _unpack(key: int) -> str:
    second = key & _NONE
    return chr(key >> _SHIFT) + ("" if second == _NONE else chr(second))


def _code_points(raw: np.ndarray, start: np.ndarray, end: np.ndarray):
    """UTF-8 tokens (byte ranges of `raw`) -> (code points, token of each, count per token),
    decoded by index arithmetic (Arrow strings are valid UTF-8)."""
    span = end - start
    boff = _offsets(span)
    tok = _segment_ids(boff)
    at = start[tok] + np.arange(boff[-1]) - boff[tok]
    padded = np.concatenate([raw, np.zeros(3, dtype=np.uint8)]).astype(np.int64)
    b0 = padded[at]
    lead = (b0 & 0xC0) != 0x80
    at, b0, tok = at[lead], b0[lead], tok[lead]
    b1, b2, b3 = (padded[at + k] & 0x3F for k in (1, 2, 3))
    cp = np.where(
        b0 < 0x80,
        b0,
        np.where(
            b0 < 0xE0,
            ((b0 & 0x1F) << 6) | b1,
            np.where(
                b0 < 0xF0,
                ((b0 & 0x0F) << 12) | (b1 << 6) | b2,
                ((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3,
            ),
        ),
    )
    return cp, tok, np.bincount(tok, minlength=len(start))


def _slow_gram_keys(raw: np.ndarray, start: np.ndarray, end: np.ndarray, cjk: np.ndarray):
    """The grams of `py_token_grams` for tokens off the fast path (empty, non-ASCII, CJK),
    packed as int64 keys in gram order -> (keys, grams per token): bigrams of "^token$"
    (none for a CJK token), then SEP + each character (SEP alone for an empty token)."""
    cp, tok, chars = _code_points(raw, start, end)
    n = len(start)
    bigrams = np.where(cjk, 0, chars + 1)
    letters = np.maximum(chars, 1)
    out = _offsets(bigrams + letters)
    keys = np.empty(out[-1], dtype=np.int64)
    rank = np.arange(len(cp)) - _offsets(chars)[tok]
    # "^token$" of every token, then its bigrams for the tokens that have them
    poff = _offsets(chars + 2)
    seq = np.empty(poff[-1], dtype=np.int64)
    seq[poff[:-1]], seq[poff[1:] - 1] = _CARET, _DOLLAR
    seq[poff[tok] + 1 + rank] = cp
    which = np.repeat(np.arange(n), bigrams)
    k = np.arange(len(which)) - _offsets(bigrams)[which]
    first = poff[which] + k
    keys[out[which] + k] = (seq[first] << _SHIFT) | seq[first + 1]
    keys[out[tok] + bigrams[tok] + rank] = (_SEP << _SHIFT) | cp
    empty = np.flatnonzero(chars == 0)
    keys[out[empty] + bigrams[empty]] = (_SEP << _SHIFT) | _NONE
    return keys, bigrams + letters


# Grams off the two-character table (non-Latin letters, CJK characters) repeat across values:
# each hasher keeps up to this many of their hashes instead of a SHA-256 per occurrence.
MEMO_SIZE = 1 << 18


class GramHasher:
    """Hashes of token grams for one tag, from the table of two-character grams over
    `GRAM_ALPHABET` (the common case) and SHA-256 for the rest."""

    def __init__(self, tag: str, prefix: bytes, table: np.ndarray) -> None:
        self.tag, self.prefix = tag, prefix
        self.table = np.asarray(table, dtype=np.int32)
        self._known = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int32))

    def one(self, gram: str) -> int:
        """One gram's hash: the scalar form the batches are held to."""
        if len(gram) == 2 and gram[0] in GRAM_ALPHABET and gram[1] in GRAM_ALPHABET:
            i, j = GRAM_ALPHABET.index(gram[0]), GRAM_ALPHABET.index(gram[1])
            return int(self.table[i * _N + j])
        return sha_gram_hash(gram, self.tag, self.prefix)

    def token_hashes(self, tokens: pa.Array, cjk: pa.Array | None = None) -> pa.Array:
        """list<string> tokens (and list<bool> CJK flags, null: none) -> list<list<int32>>:
        per token its gram hashes, in gram order."""
        b = self._batch(tokens, cjk)
        return _nested(b.outer, b.inner, b.values, b.nulls)

    def token_sets(self, tokens: pa.Array, cjk: pa.Array | None = None) -> pa.Array:
        """A name's payload: per token its start gram then its other grams distinct and sorted
        (a Latin one-letter token, an initial, keeps its start gram only); the token sets in
        ascending order (lexicographic, as Spark's `array_sort` orders arrays)."""
        b = self._batch(tokens, cjk)
        n = len(b.inner) - 1
        token = _segment_ids(b.inner)
        rest = np.ones(len(b.values), dtype=bool)
        rest[b.inner[:-1]] = False  # the start gram leads, whatever its value
        rest &= ~np.repeat((b.chars == 1) & ~b.cjk, np.diff(b.inner))
        kept, counts = _distinct_sorted(b.values[rest], token[rest], n)
        inner = _offsets(counts + 1)
        values = np.empty(inner[-1], dtype=np.int32)
        values[inner[:-1]] = b.values[b.inner[:-1]]
        seg = _segment_ids(_offsets(counts))
        values[inner[seg] + 1 + np.arange(len(kept)) - _offsets(counts)[seg]] = kept
        values, inner = _gather(values, inner, _set_order(values, inner, _segment_ids(b.outer)))
        return _nested(b.outer, inner, values, b.nulls)

    def value_set(self, tokens: pa.Array, cjk: pa.Array | None = None) -> pa.Array:
        """A street's payload: the gram hashes of all its tokens, distinct and sorted."""
        b = self._batch(tokens, cjk)
        rows = len(b.outer) - 1
        row = np.repeat(_segment_ids(b.outer), np.diff(b.inner))
        kept, counts = _distinct_sorted(b.values, row, rows)
        mask = b.nulls
        return pa.ListArray.from_arrays(
            pa.array(_offsets(counts), pa.int32()), pa.array(kept, pa.int32()), mask=mask
        )

    def _batch(self, tokens: pa.Array, cjk: pa.Array | None) -> _Batch:
        if isinstance(tokens, pa.ChunkedArray):
            tokens = tokens.combine_chunks()
        counts = tokens.value_lengths().fill_null(0).to_numpy(zero_copy_only=False)
        flat = tokens.flatten()  # the tokens of non-null rows, in order
        flags = np.zeros(len(flat), dtype=bool)
        if cjk is not None:
            cjk = cjk.combine_chunks() if isinstance(cjk, pa.ChunkedArray) else cjk
            f = cjk.flatten().fill_null(False).to_numpy(zero_copy_only=False)
            present = np.repeat(cjk.is_valid().to_numpy(zero_copy_only=False), counts)
            flags[present] = f
        values, inner = self._grams(flat, flags)
        chars = pc.utf8_length(flat).to_numpy(zero_copy_only=False)
        nulls = tokens.is_null()
        return _Batch(
            _offsets(counts), inner, values, flags, chars, nulls if nulls.true_count else None
        )

    def _grams(self, flat: pa.Array, cjk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat tokens -> (all gram hashes, offsets per token)."""
        n = len(flat)
        offsets = np.frombuffer(flat.buffers()[1], dtype=np.int32)
        offsets = offsets[flat.offset : flat.offset + n + 1]
        data = flat.buffers()[2]
        raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
        start, end = offsets[:-1].astype(np.int64), offsets[1:].astype(np.int64)
        length = end - start
        # Fast tokens: non-empty, every byte in the alphabet (so ASCII: bytes are characters).
        bad = np.concatenate([[0], np.cumsum(_POS[raw] == 0)])
        fast = (length > 0) & (bad[end] == bad[start]) & ~cjk
        slow = np.flatnonzero(~fast)
        keys, slow_count = _slow_gram_keys(raw, start[slow], end[slow], cjk[slow])
        count = 2 * length + 1
        count[slow] = slow_count
        inner = _offsets(count)
        values = np.empty(inner[-1], dtype=np.int32)
        self._fill_fast(values, inner, raw, start, length, np.flatnonzero(fast))
        if len(slow):
            at = np.repeat(inner[slow], slow_count)
            values[at + np.arange(len(keys)) - np.repeat(_offsets(slow_count)[:-1], slow_count)] = (
                self._key_hashes(keys)
            )
        return values, inner

    def _key_hashes(self, keys: np.ndarray) -> np.ndarray:
        """Hashes of grams packed by `_slow_gram_keys`: from the table when both characters
        are in it, else SHA-256 once per distinct gram and worker (`_memo`)."""
        uniq, back = np.unique(keys, return_inverse=True)
        first, second = uniq >> _SHIFT, uniq & _NONE
        in_table = (second != _NONE) & (first < 256) & (second < 256)
        pos1, pos2 = _POS[np.minimum(first, 255)], _POS[np.minimum(second, 255)]
        in_table &= (pos1 > 0) & (pos2 > 0)
        out = np.empty(len(uniq), dtype=np.int32)
        out[in_table] = self.table[(pos1[in_table] - 1) * _N + pos2[in_table] - 1]
        rest = np.flatnonzero(~in_table)
        out[rest] = self._memo(uniq[rest])
        return out[back.ravel()]

    def _memo(self, keys: np.ndarray) -> np.ndarray:
        """SHA-256 hashes of distinct packed grams; each worker keeps up to MEMO_SIZE of them
        (sorted keys, searched in bulk), so a gram seen before costs no Python."""
        known, hashes = self._known
        at = np.minimum(np.searchsorted(known, keys), max(len(known) - 1, 0))
        hit = known[at] == keys if len(known) else np.zeros(len(keys), dtype=bool)
        out = np.empty(len(keys), dtype=np.int32)
        out[hit] = hashes[at[hit]]
        new = keys[~hit]
        made = [sha_gram_hash(_unpack(k), self.tag, self.prefix) for k in new.tolist()]
        made = np.array(made, dtype=np.int32)
        out[~hit] = made
        if len(new):
            if len(known) + len(new) > MEMO_SIZE:
                known, hashes = known[:0], hashes[:0]
            merged = np.concatenate([known, new])
            order = np.argsort(merged, kind="stable")
            self._known = (merged[order], np.concatenate([hashes, made])[order])
        return out

    def _fill_fast(
        self, values: np.ndarray, inner: np.ndarray, raw: np.ndarray, start, length, idx
    ) -> None:
        """Bigrams of "^token$" then SEP+letter for each fast token, by index arithmetic."""
        if len(idx) == 0:
            return
        ln, st, out = length[idx], start[idx], inner[idx]
        padded_len = ln + 2
        pad_start = np.zeros(len(idx), dtype=np.int64)
        np.cumsum(padded_len[:-1], out=pad_start[1:])
        total = int(padded_len.sum())
        tok = np.repeat(np.arange(len(idx)), padded_len)
        j = np.arange(total) - pad_start[tok]  # position in "^token$"
        char = np.clip(st[tok] + j - 1, 0, max(len(raw) - 1, 0))
        pos = np.where(j == 0, _POS[ord("^")], np.where(j == ln[tok] + 1, _POS[ord("$")], 0))
        inside = (j > 0) & (j <= ln[tok])
        pos[inside] = _POS[raw[char[inside]]]
        first = np.flatnonzero(j <= ln[tok])  # a bigram starts at every position but the last
        values[out[tok[first]] + j[first]] = self.table[(pos[first] - 1) * _N + pos[first + 1] - 1]
        letters = np.flatnonzero(inside)
        sep = _POS[ord(SEP)] - 1
        where = out[tok[letters]] + ln[tok[letters]] + j[letters]  # after the L+1 bigrams
        values[where] = self.table[sep * _N + pos[letters] - 1]


SIG_BITS = 128  # per set: two 64-bit words, bit (hash & 127)


def _or_segments(bits: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per segment the bitwise OR of its values (0 for an empty segment)."""
    out = np.zeros(len(offsets) - 1, dtype=np.uint64)
    starts = offsets[:-1]
    full = np.flatnonzero(np.diff(offsets) > 0)
    if len(full):
        out[full] = np.bitwise_or.reduceat(bits, starts[full])
    return out


def signatures(payload: pa.Array) -> pa.Array:
    """list<list<int32>> gram sets -> list<int64> per row: [lo, hi] of each set in order. A
    set's 128-bit signature has bit (hash & 127) set for each of its hashes, so a bit of x's
    signature missing from y's proves a gram of x missing from y: |x ∩ y| <= |x| -
    popcount(sig x & ~sig y), known without reading either set."""
    if isinstance(payload, pa.ChunkedArray):
        payload = payload.combine_chunks()
    sets = payload.flatten()
    per_set = sets.value_lengths().fill_null(0).to_numpy(zero_copy_only=False)
    values = sets.flatten().to_numpy(zero_copy_only=False).astype(np.int64)
    bit = (values & (SIG_BITS - 1)).astype(np.uint64)
    one = np.left_shift(np.uint64(1), bit & np.uint64(63))
    high = bit >= 64
    set_offsets = _offsets(per_set)
    out = np.empty(2 * len(per_set), dtype=np.uint64)
    out[0::2] = _or_segments(np.where(high, np.uint64(0), one), set_offsets)
    out[1::2] = _or_segments(np.where(high, one, np.uint64(0)), set_offsets)
    sets_per_row = payload.value_lengths().fill_null(0).to_numpy(zero_copy_only=False)
    nulls = payload.is_null()
    return pa.ListArray.from_arrays(
        pa.array(2 * _offsets(sets_per_row), pa.int32()),
        pa.array(out.view(np.int64), pa.int64()),
        mask=nulls if nulls.true_count else None,
    )
