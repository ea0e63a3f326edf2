"""The bad-input corpus, generated into a folder: each file is one way a seller's dump goes
wrong, with what ingesting it must give (data lines, quarantine reasons, a value to find)."""

from __future__ import annotations

import codecs
import gzip
import io
import json
import os
import random
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ACCENTED = ["José Müller", "Renée Dubois", "François Lefèvre", "Zoë Ångström", "Jürgen Weiß",
            "Inês Conceição", "Łukasz Nowak", "Ñaño Pérez"]  # fmt: skip
PLAIN = ["Bob Smith", "Ann Lee", "Tom Hart", "Eve Stone"]


@dataclass
class Case:
    """One file of the corpus and the outcome it must have."""

    name: str
    data: bytes
    data_lines: int  # physical lines holding data (the header excluded)
    header: bool = True
    reasons: dict[int, str] = field(default_factory=dict)  # file line -> quarantine reason
    value: tuple[str, str] | None = None  # (field, value) some parsed line must hold


def people(n: int, sep: str = ",", accented_every: int = 0) -> list[str]:
    rows = []
    for i in range(n):
        name = ACCENTED[i % len(ACCENTED)] if accented_every and i % accented_every == 0 else (
            PLAIN[i % len(PLAIN)])  # fmt: skip
        rows.append(sep.join([name, f"user{i}@example.com", f"+44 20 7946 {1000 + i}"]))
    return rows


def text(header: str | None, rows: list[str], newline: str = "\n", end: bool = True) -> str:
    lines = ([header] if header else []) + rows
    return newline.join(lines) + (newline if end else "")


def encoded_cases() -> list[Case]:
    """Byte-order marks and a legacy encoding without any declaration."""
    rows = people(20, accented_every=2)
    five = "Vorname,Nachname,E-Mail,Telefon,Stadt"
    wide_rows = [r.replace(" ", ",", 1) + ",Köln" for r in rows]
    cp1252 = people(200, ";", accented_every=1)
    cp1252 = [r if i % 13 < 3 else r.replace(ACCENTED[i % 8], PLAIN[i % 4])
              for i, r in enumerate(cp1252)]  # fmt: skip
    cp1252 = [r + (";Preis 5 € – “ok”" if i % 20 == 0 else ";") for i, r in enumerate(cp1252)]
    return [
        Case("utf16_le_bom.csv", text(five, wide_rows, "\r\n").encode("utf-16"), 20,
             value=("first_name", "Jürgen")),
        Case("utf16_be_bom.csv", codecs.BOM_UTF16_BE + text(five, wide_rows).encode("utf-16-be"),
             20, value=("last_name", "Lefèvre")),
        Case("utf32_bom.csv", text("name,email,phone", rows).encode("utf-32"), 20,
             value=("name", "José Müller")),
        Case("utf8_bom.csv", codecs.BOM_UTF8 + text("name,email,phone", [
            f"{ACCENTED[i % 8]},u{i}@example.com,+44 20 7946 {4000 + i}" for i in range(10)
        ]).encode(), 10, value=("name", "José Müller")),
        Case("legacy_cp1252.csv", text("Name;E-mail;Telefon;Notiz", cp1252, "\r\n")
             .encode("cp1252", errors="replace"), 200, value=("name", "François Lefèvre")),
    ]  # fmt: skip


def line_cases() -> list[Case]:
    """Line endings, odd bytes and lines, quoting."""
    rows = people(12)
    long_field = '"' + "x" * 1_000_000 + '"'
    escaped = '"' + 'say ""hi"" ' * 4_000 + '"'  # 44 kB of escaped quotes: one long field
    return [
        Case("crlf.csv", text("name,email,phone", rows, "\r\n").encode(), 12),
        Case("cr_only.csv", text("name,email,phone", rows, "\r").encode(), 12),
        Case("nul_bytes.csv", text("name,email,phone", [
            r.replace("Smith", "Sm\x00ith") for r in rows]).encode(), 12,
             value=("name", "Bob Smith")),
        Case("long_line.csv", text("name,email,phone", [
            *rows[:2], f"{long_field},big@example.com,+44 20 7946 0000", *rows[2:4],
            f"{escaped},esc@example.com,+44 20 7946 0001"]).encode(), 6,
             reasons={4: "line_too_long"}, value=("email", "esc@example.com")),
        Case("unclosed_quote_at_eof.csv", text("name,email,phone", [
            *rows[:3], '"Ann Lee,ann@example.com,+44 20 7946 0002'], end=False).encode(), 4,
             reasons={5: "unclosed_quote"}),
        Case("header_only.csv", b"name,email,phone\n", 0),
        Case("duplicate_headers.csv", text("email,email,name,name", [
            f"d{i}@example.com,x{i}@example.com,Ann Lee,Bob Smith" for i in range(5)]).encode(),
             5, value=("email", "d0@example.com")),
        Case("wide_500.csv", text(",".join(["email", "name", *(f"c{i}" for i in range(498))]), [
            ",".join([f"w{i}@example.com", "Tom Hart", *(str(j) for j in range(498))])
            for i in range(8)]).encode(), 8, value=("email", "w7@example.com")),
        Case("headerless.txt", text(None, [
            f"combo{i}@example.com:Person Number{i}:+44 20 7946 {2000 + i}" for i in range(30)
        ]).encode(), 30, header=False, value=("email", "combo0@example.com")),
        Case("mixed.jsonl", text(None, [
            json.dumps({"email": "j1@example.com", "name": "Ann Lee"}), '{"email": "broken',
            json.dumps({"email": "j2@example.com", "phone": "+44 20 7946 0003"}), "not json",
        ]).encode(), 4, header=False, reasons={2: "invalid_json", 4: "invalid_json"},
             value=("email", "j2@example.com")),
        Case("formulas_and_html.csv", text("E-mail,<b>Name</b>,Phone,<script>x</script>", [
            'f1@example.com,"=HYPERLINK(""http://evil.example"",""click"")",+44 20 7946 0004,'
            "<img src=x onerror=alert(1)>",
            "f2@example.com,<b>Bob</b>,=1+2,@SUM(A1:A9)",
        ]).encode(), 2, value=("email", "f1@example.com")),
        Case("Müller ñ 日本 [1] (copy).csv", text("name,email,phone", rows[:3]).encode(), 3,
             value=("email", "user0@example.com")),
    ]  # fmt: skip


def gzipped(name: str, case: Case) -> Case:
    return Case(name, gzip.compress(case.data), case.data_lines, case.header, case.reasons,
                case.value)  # fmt: skip


def write_corpus(folder: Path) -> list[Case]:
    """Every readable case in one folder (one sample, read in one run), plus a PDF that must be
    skipped and named."""
    cases = encoded_cases() + line_cases()
    cases.append(gzipped("valid.csv.gz", Case("x", text("name,email,phone", [
        f"Ann Lee,g{i}@example.com,+44 20 7946 {3000 + i}" for i in range(15)]).encode(), 15,
        value=("email", "g14@example.com"))))  # fmt: skip
    folder.mkdir(parents=True)
    for case in cases:
        (folder / case.name).write_bytes(case.data)
    (folder / "terms.pdf").write_bytes(pdf_bytes())
    return cases


def pdf_bytes() -> bytes:
    body = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nstream\n"
    return body + bytes(random.Random(5).randrange(256) for _ in range(3000)) + b"\n%%EOF\n"


def truncated_gzip(path: Path) -> Path:
    rows = text("email,name", [f"t{i}@example.com,Person {i}" for i in range(20_000)])
    data = gzip.compress(rows.encode())
    path.write_bytes(data[: len(data) // 2])
    return path


def binary_file(path: Path) -> Path:
    path.write_bytes(random.Random(11).randbytes(200_000))
    return path


def xlsx_file(path: Path) -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    path.write_bytes(buf.getvalue())
    return path


def zip_file(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("dump.csv", text("email,name", ["z1@example.com,Ann Lee"]))
    return path


def refused_cases(root: Path) -> dict[str, tuple[Path, str]]:
    """Samples that must be refused (exit 3) with one line naming the file: path, message."""
    os.makedirs(root / "only_pdf")
    (root / "only_pdf" / "scan.pdf").write_bytes(pdf_bytes())
    (root / "only_pdf" / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + pdf_bytes()[9:])
    (root / "empty.csv").write_bytes(b"")
    (root / "header_only.csv").write_bytes(b"name,email,phone\r\n")
    (root / "gzip_no_suffix.csv").write_bytes(gzip.compress(b"email\na@example.com\n"))
    (root / "not_gzip.csv.gz").write_bytes(b"email\na@example.com\n")
    utf16_gz = gzip.compress(text("email,name", ["a@example.com,Ann"]).encode("utf-16"))
    (root / "utf16.csv.gz").write_bytes(utf16_gz)
    return {
        "truncated_gzip": (truncated_gzip(root / "dump.csv.gz"), "dump.csv.gz: the gzip file is "
                           "truncated (it ends before its end-of-stream marker); not read"),
        "binary": (binary_file(root / "leak.csv"), "leak.csv: binary data, not text; not read"),
        "xlsx": (xlsx_file(root / "export.xlsx"), "export.xlsx: an Excel workbook (.xlsx); "
                 "export it as CSV and ingest that; not read"),
        "zip": (zip_file(root / "dump.zip"), "dump.zip: a zip archive; unpack it"),
        "pdf_only_folder": (root / "only_pdf", "sample only_pdf holds no text file: photo.png "
                            "(a PNG image), scan.pdf (a PDF document)"),
        "empty": (root / "empty.csv", "empty.csv: the file is empty"),
        "header_only": (root / "header_only.csv", "header_only.csv: the sample holds no data "
                        "line, only a header"),
        "gzip_without_suffix": (root / "gzip_no_suffix.csv", "gzip-compressed but not named"),
        "gz_suffix_not_gzip": (root / "not_gzip.csv.gz", "named .gz but not gzip-compressed"),
        "utf16_inside_gzip": (root / "utf16.csv.gz", "UTF-16 text inside gzip"),
    }  # fmt: skip
