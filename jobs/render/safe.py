"""Values from a sample (headers, file names, quarantine reasons) or from conf made inert for the
places they are shown: Markdown renderers that allow inline HTML, and terminals.

A hostile sample chooses its headers and file names; whoever opens the report or reads the
console must see them as text, never as markup, links or terminal control sequences.
"""

from __future__ import annotations

import re
from typing import Any

# Line breaks a value could use to leave its table row or line: shown as one space.
_BREAKS = re.compile("[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]")
# Other C0/C1 controls, DEL, and the bidi overrides that reorder what a reader sees.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Characters that start Markdown (or Jira wiki) links, images, code, emphasis or table cells;
# `_` only where it could open or close emphasis, so `never_collected` stays as it is; the `:`
# of `scheme://` and the `.` of `www.`, which GitHub's autolinks would turn into links.
_MD_ACTIVE = re.compile(r"[\\`*\[\](){}!|~$]|(?<![^\W_])_|_(?![^\W_])|:(?=//)|(?<=[wW]{3})\.")
# At the start of a line these open a heading, a list or a setext underline.
_MD_LEADING = ("#", "+", "-", "=")
_MD_CODE_SAFE = re.compile(r"[A-Za-z0-9.:-]+")


def _visible(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def md_text(value: Any) -> str:
    """Any value as inert Markdown text: HTML-escaped, Markdown punctuation backslash-escaped,
    kept on one line. Numbers are left as they are; None is empty."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_ACTIVE.sub(lambda m: "\\" + m.group(), text)
    if text.startswith(_MD_LEADING):
        text = "\\" + text
    text = _BREAKS.sub(" ", text)
    return _CONTROLS.sub(lambda m: "\\" + _visible(m.group()), text)


def md_code(value: Any) -> str:
    """A run id as inline code when it is plain, else as escaped text: code spans show their
    content raw, which is safe only for plain ids."""
    text = "" if value is None else str(value)
    return f"`{text}`" if _MD_CODE_SAFE.fullmatch(text) else md_text(text)


def console_text(value: Any) -> str:
    """One value for a console line: every control character (ESC of ANSI sequences, CR,
    newline, C1 controls, bidi overrides) written as a visible escape."""
    return _CONTROLS.sub(lambda m: _visible(m.group()), str(value))


def console_lines(text: str) -> str:
    """Text the project laid out in lines (tables, sections): each line made safe, the line
    breaks kept."""
    return "\n".join(console_text(line) for line in str(text).split("\n"))


def json_safe(line: str) -> str:
    """A JSON text with the controls json.dumps leaves raw (DEL, C1, bidi overrides) written as
    \\u escapes; they can only occur inside strings, so the JSON stays valid and equal."""
    return _CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", line)
