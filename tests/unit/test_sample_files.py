"""Telling a sample file's kind and encoding from its first bytes (no Spark)."""

from __future__ import annotations

import codecs
import gzip
import random

import pytest

from jobs.errors import InputError
from jobs.sample.encoding import decode_head, detect_encoding, is_utf8, is_wide, java_name
from jobs.sample.filetype import SampleFile, head_lines, inspect_file, readable

CSV = "name;email\r\n" + "".join(f"François Lefèvre;u{i}@example.com\r\n" for i in range(40))


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (codecs.BOM_UTF8 + b"email\n", "UTF-8"),
        ("email\n".encode("utf-16"), "UTF-16"),
        (codecs.BOM_UTF16_BE + "email\n".encode("utf-16-be"), "UTF-16"),
        ("email\n".encode("utf-32"), "UTF-32"),
        ("Zoë,zoe@example.com\n".encode(), "UTF-8"),
        (b"plain,ascii\n", "UTF-8"),
        (CSV.encode("cp1252"), "windows-1252"),
    ],
)
def test_encoding_from_bom_utf8_or_detector(head, expected):
    assert detect_encoding("f.csv", head, complete=True) == expected


def test_a_few_broken_lines_leave_a_utf8_file_utf8():
    ascii_rows = b"".join(b"u%d@example.com,Ann\n" % i for i in range(40))
    assert detect_encoding("f.csv", ascii_rows + b"bad\xff\xfe,Bob\n", True) == "UTF-8"
    accented = "Zoë,z@example.com\n".encode() * 3 + b"Zo\xeb,bad\n" * 2
    assert detect_encoding("f.csv", accented, True) == "UTF-8"


def test_configured_encoding_wins_and_a_cut_character_is_still_utf8():
    assert detect_encoding("f.csv", CSV.encode("cp1252"), True, "ISO-8859-1") == "ISO-8859-1"
    cut = "Zoë".encode()[:-1]
    assert detect_encoding("f.csv", cut, complete=False) == "UTF-8"


def test_java_names_and_helpers():
    assert [java_name(c) for c in ("cp1251", "latin_1", "iso8859_15", "koi8_r")] == [
        "windows-1251", "ISO-8859-1", "ISO-8859-15", "KOI8-R"]  # fmt: skip
    assert is_utf8("auto") and is_utf8("UTF-8") and not is_utf8("windows-1252")
    assert is_wide("UTF-16") and is_wide("UTF-32") and not is_wide("UTF-8")
    assert decode_head(CSV.encode("cp1252"), "windows-1252").startswith("name;email")


def test_lines_split_as_spark_splits_them():
    assert head_lines("a\r\nb\rc\nd\n", complete=True) == ("a", "b", "c", "d")
    assert head_lines("a\nb\ncut", complete=False) == ("a", "b")
    assert head_lines("a\n\nb", complete=True) == ("a", "", "b")


def xlsx_head() -> bytes:
    return b"PK\x03\x04" + b"\x00" * 26 + b"[Content_Types].xml...xl/workbook.xml"


@pytest.mark.parametrize(
    ("name", "head", "kind"),
    [
        ("a.pdf", b"%PDF-1.7\n...", "a PDF document"),
        ("a.xlsx", xlsx_head(), "an Excel workbook (.xlsx)"),
        ("a.zip", b"PK\x03\x04" + b"\x00" * 26 + b"dump.csv", "a zip archive"),
        ("a.png", b"\x89PNG\r\n\x1a\n", "a PNG image"),
        ("a.csv", random.Random(3).randbytes(50_000), "binary data, not text"),
        ("a.csv", gzip.compress(b"email\n", mtime=0), "gzip-compressed but not named .gz"),
    ],
)
def test_files_that_are_not_text(name, head, kind):
    found = inspect_file(f"/in/{name}", head, True, "auto")
    assert found.not_text.startswith(kind) and not found.corrupt


def test_gzip_heads_are_read_and_wide_text_inside_gzip_is_refused():
    found = inspect_file("/in/a.csv.gz", gzip.compress(CSV.encode()), True, "auto")
    assert found.encoding == "UTF-8" and found.lines[1].startswith("François")
    cut = gzip.compress(CSV.encode() * 50)[:300]
    assert inspect_file("/in/a.csv.gz", cut, False, "auto").lines[0] == "name;email"
    wide = inspect_file("/in/a.csv.gz", gzip.compress(CSV.encode("utf-16")), True, "auto")
    assert wide.corrupt and "UTF-16 text inside gzip" in wide.not_text
    assert inspect_file("/in/a.csv.gz", b"email\n", True, "auto").corrupt


def test_nul_bytes_in_a_few_values_are_still_text():
    head = (CSV.replace("Lefèvre", "Lef\x00vre", 3)).encode()
    assert inspect_file("/in/a.csv", head, True, "auto").encoding == "UTF-8"


def test_what_is_refused_and_what_is_skipped():
    text, pdf = (
        SampleFile("/in/a.csv", "UTF-8", ("email",)),
        SampleFile("/in/b.pdf", not_text="PDF"),
    )
    assert readable([text, pdf], "/in") == [text]
    with pytest.raises(InputError, match="b.pdf: PDF; not read"):
        readable([pdf], "/in/b.pdf")
    with pytest.raises(InputError, match="sample in holds no text file: b.pdf"):
        readable([pdf, pdf], "/in/")
    broken = SampleFile("/in/c.csv.gz", not_text="truncated", corrupt=True)
    with pytest.raises(InputError, match="c.csv.gz: truncated"):
        readable([text, broken], "/in")
