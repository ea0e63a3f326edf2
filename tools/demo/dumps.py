"""Sample files as dumps are: delimited or JSON lines, rows shuffled, some lines broken."""

from __future__ import annotations

import csv
import gzip as gzip_mod
import io
import json
import random
from pathlib import Path

import numpy as np
import pandas as pd

BAD_BYTES = b"\xff\xfe\xfa"
_MARK = "\ue000"  # stands in for BAD_BYTES until the line is encoded


# A sample file: name, delimiter (None: JSON lines), header, every field quoted
FileSpec = tuple[str, "str | None", list[str], bool]


def _broken_line(reason: str, vals: list[str], spec: FileSpec, r: random.Random) -> bytes:
    """A line a strict reader must reject, for the stated reason."""
    _, delim, header, quote_all = spec
    vals = [v.replace('"', "") for v in vals]
    if reason == "empty":
        return b""
    if reason == "invalid_utf8":
        vals[0] = vals[0][: len(vals[0]) // 2] + _MARK + vals[0][len(vals[0]) // 2 :]
    if delim is None:
        text = json.dumps(dict(zip(header, vals, strict=False)), ensure_ascii=False)
        text = text[: len(text) // 2] if reason == "invalid_json" else text
    elif reason == "unclosed_quote":
        text = delim.join(['"' + vals[0], *vals[1:]])
    else:
        if reason == "wrong_field_count":
            vals = [*vals, "x"] if r.random() < 0.5 else vals[:-1]
        text = _delimited([vals], delim, quote_all)[0].decode()
    return text.encode().replace(_MARK.encode(), BAD_BYTES)


def _delimited(rows, delim: str, quote_all: bool) -> list[bytes]:
    buf = io.StringIO()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    csv.writer(buf, delimiter=delim, lineterminator="\n", quoting=quoting).writerows(rows)
    return buf.getvalue().encode().split(b"\n")[:-1]


def write_files(
    out: Path,
    specs: list[FileSpec],
    file_of: np.ndarray,
    values: pd.DataFrame,
    kind: np.ndarray,
    gzip: bool,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Write each file of the sample, its rows in random order; return per row its file name,
    physical line number (a header is line 1) and broken_reason."""
    n = len(values)
    source, number = np.empty(n, dtype=object), np.zeros(n, np.int64)
    reason = np.full(n, "", dtype=object)
    r = random.Random(int(rng.integers(2**62)))
    folder = out / "sample"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("sample*"):
        old.unlink()
    for f, spec in enumerate(specs):
        name, delim, header, quote_all = spec
        rows = np.flatnonzero(file_of == f)
        vals = values.iloc[rows, : len(header)]
        good = kind[rows] != "broken"
        if delim is None:
            lines = [
                json.dumps(dict(zip(header, v, strict=False)), ensure_ascii=False).encode()
                for v in vals[good].itertuples(index=False)
            ]
        else:
            lines = _delimited(vals[good].itertuples(index=False), delim, quote_all)
        reasons = (
            ["invalid_json", "empty", "invalid_utf8"]
            if delim is None
            else ["wrong_field_count", "unclosed_quote", "invalid_utf8", "empty"]
        )
        for j, i in enumerate(np.flatnonzero(~good)):
            reason[rows[i]] = reasons[j % len(reasons)]
            lines.append(_broken_line(reason[rows[i]], list(vals.iloc[i]), spec, r))
        order = np.concatenate([np.flatnonzero(good), np.flatnonzero(~good)])
        slot = np.empty(len(rows), np.int64)
        slot[order] = rng.permutation(len(rows))  # data line index of each row
        data = np.empty(len(rows), dtype=object)
        data[slot[order]] = lines
        head = _delimited([header], delim, quote_all) if delim else []
        blob = b"\n".join(head + data.tolist()) + b"\n"
        file_name = name + (".gz" if gzip else "")
        (folder / file_name).write_bytes(gzip_mod.compress(blob, mtime=0) if gzip else blob)
        source[rows], number[rows] = file_name, slot + 1 + bool(delim)
    return source, number, reason
