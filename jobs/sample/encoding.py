"""Which text encoding a sample file is in, told per file from its first bytes: a byte-order
mark first, then UTF-8, then a maintained detector (charset-normalizer) for legacy encodings.

Dumps arrive as UTF-16 exports from Windows tools and as cp1252 or cp1251 files from old
databases; reading them all as UTF-8 quarantines every line with an accent in it.
"""

from __future__ import annotations

import codecs
import re

from jobs.errors import InputError

AUTO = "auto"

# Longest first: the UTF-32 LE mark starts with the UTF-16 LE one.
BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF8, "UTF-8"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)

# Python codec names (what the detector returns) -> Java charset names (what Spark decodes).
JAVA_NAMES = {
    "ascii": "UTF-8",
    "utf_8": "UTF-8",
    "latin_1": "ISO-8859-1",
    "koi8_r": "KOI8-R",
    "koi8_u": "KOI8-U",
    "mac_roman": "x-MacRoman",
    "mac_cyrillic": "x-MacCyrillic",
    "shift_jis": "Shift_JIS",
    "cp932": "windows-31j",
    "euc_jp": "EUC-JP",
    "gb2312": "GB18030",
    "gbk": "GB18030",
    "gb18030": "GB18030",
    "big5": "Big5",
    "cp949": "x-windows-949",
    "euc_kr": "EUC-KR",
    "cp437": "IBM437",
    "cp850": "IBM850",
    "cp866": "IBM866",
}


# On a tie, the legacy encodings most dumps are in.
PREFERRED = ("cp1252", "cp1251", "shift_jis", "gb18030")
FALLBACK = "cp1252"
MAX_BROKEN_SHARE = 0.05  # lines of invalid UTF-8 in an otherwise ASCII file: broken lines


def is_utf8(encoding: str) -> bool:
    """UTF-8 is read as is and checked line by line (`invalid_utf8`); `auto` resolves to it
    where a caller has not detected the encoding."""
    return encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf", AUTO)


def is_wide(encoding: str) -> bool:
    """UTF-16/32 text cannot be split into lines on the byte 0x0A: such files are decoded
    whole before they are split."""
    return encoding.upper().replace("_", "-").startswith(("UTF-16", "UTF-32"))


def java_name(python_codec: str) -> str | None:
    """A detector's codec name as Spark's decode spells it; None when it has no Java name."""
    name = codecs.lookup(python_codec).name.replace("-", "_")
    if name in JAVA_NAMES:
        return JAVA_NAMES[name]
    if m := re.fullmatch(r"cp(125\d)", name):
        return f"windows-{m.group(1)}"
    if m := re.fullmatch(r"iso8859_(\d+)", name):
        return f"ISO-8859-{m.group(1)}"
    return None


def bom_encoding(head: bytes) -> str | None:
    return next((enc for bom, enc in BOMS if head.startswith(bom)), None)


def valid_utf8(head: bytes, complete: bool) -> bool:
    """Whether the bytes are UTF-8; a character cut at the end of an incomplete head is fine."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def mostly_utf8(head: bytes, complete: bool) -> bool:
    """A UTF-8 file with a few broken lines is still UTF-8, and those lines are quarantined as
    `invalid_utf8`: fewer of them than lines with valid non-ASCII UTF-8, or at most
    `MAX_BROKEN_SHARE` of the lines. In a legacy file every accented line is invalid UTF-8
    and none is valid non-ASCII UTF-8."""
    lines = re.split(rb"\r\n|\r|\n", head)
    lines = lines if complete else lines[:-1]
    good = bad = 0
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            good += 1
        except UnicodeDecodeError:
            bad += 1
    filled = sum(1 for line in lines if line.strip())
    return (good > 0 and bad <= good) or bad <= MAX_BROKEN_SHARE * filled


def detect_encoding(name: str, head: bytes, complete: bool, configured: str = AUTO) -> str:
    """The Java charset to read a file with, from its first bytes. A `sample.encoding` other
    than `auto` wins. When the detector finds nothing (short or repetitive text, or no text
    at all), or names one Java lacks, it is windows-1252, which decodes every line; whether
    the result is text at all is `filetype`'s call."""
    if configured.lower() != AUTO:
        return configured
    if bom := bom_encoding(head):
        return bom
    if valid_utf8(head, complete) or mostly_utf8(head, complete):
        return "UTF-8"
    detected = detected_codec(head) or FALLBACK
    java = java_name(detected) or "windows-1252"  # a codec Java lacks: every byte read
    if is_wide(java):
        raise InputError(
            f"{name}: looks like {detected} text, which is not read without a byte-order "
            "mark; set sample.encoding"
        )
    return java


def detected_codec(head: bytes) -> str | None:
    """charset-normalizer's pick; where encodings tie on its measure of garbled text (a
    French or German cp1252 file reads as cleanly in cp1250, yet `è` becomes `č`), the
    most widespread of them."""
    from charset_normalizer import from_bytes

    matches = from_bytes(head)
    best = matches.best()
    if best is None:
        return None
    tied = [m for m in matches if m.chaos <= best.chaos]
    for preferred in PREFERRED:
        if any(preferred in m.could_be_from_charset for m in tied):
            return preferred
    return best.encoding


def decode_head(head: bytes, encoding: str) -> str:
    """The head as text, for sniffing; bytes the encoding cannot decode become U+FFFD."""
    python = "utf-8-sig" if is_utf8(encoding) else encoding
    try:
        codec = codecs.lookup(python).name
    except LookupError:
        codec = codecs.lookup(_python_alias(encoding)).name
    text = head.decode(codec, errors="replace")
    return text.lstrip("\ufeff")


def _python_alias(java: str) -> str:
    """Java charset names Python spells otherwise."""
    lowered = java.lower()
    aliases = {"x-macroman": "mac_roman", "x-maccyrillic": "mac_cyrillic",
               "windows-31j": "cp932", "x-windows-949": "cp949"}  # fmt: skip
    if lowered in aliases:
        return aliases[lowered]
    if lowered.startswith("windows-"):
        return "cp" + lowered.removeprefix("windows-")
    return "latin-1"
