"""What each file of a sample is, told from its first bytes before Spark reads it as lines: text
(and in which encoding), or a document, archive, image or other binary file.

Read as text, a PDF or random bytes become hundreds of quarantined "lines", a handful of
"parsed" ones and a NO_MATCH verdict. A file that is not text is refused when it is the
sample, and skipped with a logged line (and listed in sample_runs' files) in a folder; a
corrupt compressed file always stops the run, since its lines would be lost unseen.
"""

from __future__ import annotations

import os
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from jobs.errors import InputError
from jobs.sample.encoding import decode_head, detect_encoding, is_wide

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
EXPORT_CSV = "export it as CSV and ingest that"
MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", f"an Office document (.xls/.doc); {EXPORT_CSV}"),
    (b"BZh", "a bzip2 archive; decompress it first"),
    (b"\xfd7zXZ\x00", "an xz archive; decompress it first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive; unpack it first"),
    (b"Rar!\x1a\x07", "a RAR archive; unpack it first"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive; decompress it first"),
    (GZIP_MAGIC, "gzip inside gzip; decompress it first"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"\x7fELF", "an executable"),
)
CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")
MAX_CONTROL_SHARE = 0.02  # random bytes give ~11 %; a dump with stray NULs far below 1 %
HEAD_LINES = 200
HEAD_BYTES = 1 << 20  # read per file to tell its kind and encoding, and to sniff its layout


@dataclass(frozen=True)
class SampleFile:
    """One file of a sample: its encoding and first lines when it is text, else why not."""

    path: str
    encoding: str | None = None
    lines: tuple[str, ...] = ()
    not_text: str | None = None  # what the file is instead, e.g. "a PDF document"
    corrupt: bool = False  # refused even inside a folder

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


def gunzip_head(raw: bytes, limit: int) -> tuple[bytes, bool]:
    """Up to `limit` bytes of a gzip stream's start, and whether that is the whole stream."""
    out, data = b"", raw
    while data and len(out) < limit:
        d = zlib.decompressobj(wbits=31)
        try:
            out += d.decompress(data, limit - len(out))
        except zlib.error:
            raise InputError("corrupt gzip data") from None
        if not d.eof:
            return out, False
        data = d.unused_data
    return out, not data


def archive_kind(raw: bytes) -> str:
    """A zip by the members its first headers name: Excel and OpenDocument files are zips."""
    if b"xl/" in raw[:4096]:
        return f"an Excel workbook (.xlsx); {EXPORT_CSV}"
    if b"opendocument" in raw[:4096]:
        return f"an OpenDocument file; {EXPORT_CSV}"
    if b"word/" in raw[:4096]:
        return "a Word document"
    return "a zip archive; unpack it and ingest the folder"


def control_share(text: str) -> float:
    return len(CONTROL_RE.findall(text)) / max(len(text), 1)


def head_lines(text: str, complete: bool, n: int = HEAD_LINES) -> tuple[str, ...]:
    """Lines as Spark's text reader splits them (LF, CRLF or a lone CR); a line cut by the
    end of an incomplete head is left out."""
    lines = re.split(r"\r\n|\r|\n", text)
    if complete:
        lines = lines[:-1] if lines and lines[-1] == "" else lines
    else:
        lines = lines[:-1]
    return tuple(lines[:n])


def inspect_file(path: str, raw: bytes, raw_complete: bool, configured: str) -> SampleFile:
    """Decide from a file's first bytes (`raw`, as stored) what it is and how to read it."""
    name = os.path.basename(path)
    data, complete = raw, raw_complete
    if raw.startswith(GZIP_MAGIC):
        if not name.lower().endswith(".gz"):
            return SampleFile(path, not_text="gzip-compressed but not named .gz; rename it")
        try:
            data, complete = gunzip_head(raw, HEAD_BYTES)
        except InputError:
            return SampleFile(path, not_text="a corrupt gzip file", corrupt=True)
    elif name.lower().endswith(".gz"):
        return SampleFile(path, not_text="named .gz but not gzip-compressed", corrupt=True)
    if data.startswith(ZIP_MAGIC):
        return SampleFile(path, not_text=archive_kind(data))
    kind = next((what for magic, what in MAGIC if data.startswith(magic)), None)
    if kind:
        return SampleFile(path, not_text=kind)
    encoding = detect_encoding(name, data, complete, configured)
    if is_wide(encoding) and data is not raw:
        return SampleFile(path, not_text=f"{encoding} text inside gzip; decompress it first",
                          corrupt=True)  # fmt: skip
    text = decode_head(data, encoding)
    if control_share(text[:100_000]) > MAX_CONTROL_SHARE:
        return SampleFile(path, not_text="binary data, not text")
    return SampleFile(path, encoding, head_lines(text, complete))


def readable(files: Sequence[SampleFile], sample: str) -> list[SampleFile]:
    """The text files to read. A lone file that is not text, a corrupt file anywhere, or a
    folder without any text file ends the run with exit 3; other files are skipped."""
    for f in files:
        if f.corrupt or (f.not_text and len(files) == 1):
            raise InputError(f"{f.name}: {f.not_text}; not read")
    text = [f for f in files if not f.not_text]
    if not text:
        skipped = ", ".join(f"{f.name} ({f.not_text})" for f in files[:5])
        raise InputError(f"sample {os.path.basename(sample.rstrip('/'))} holds no text file: "
                         f"{skipped}")  # fmt: skip
    return text
