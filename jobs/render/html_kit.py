"""The pieces report.html is built from: escaped text, numbers and tables."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from jobs.render.safe import console_text


def esc(value: Any) -> str:
    """Any value as HTML text, quotes included: report values are never trusted markup."""
    return html.escape(str(value), quote=True)


def svg_text(value: Any) -> str:
    """`esc` for SVG text: SVG is XML, where control characters (ESC, C1) may not appear at
    all, so they are written as visible escapes first."""
    return esc(console_text(value))


def num(value: Any) -> str:
    """Counts with thousands separators, floats to 4 significant digits, the rest escaped."""
    if isinstance(value, bool) or value is None:
        return esc("" if value is None else value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return esc(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: set[int]) -> str:
    """A <table>; columns in `numeric` align right, Raw cells go in as they are."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    head = f"<tr>{head}</tr>" if any(headers) else ""
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = ' class="n"' if i in numeric else ""
            cells.append(cell if isinstance(cell, Raw) else f"<td{cls}>{num(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>{head}{''.join(body)}</table>"


class Raw(str):
    """A cell already rendered (and escaped) by the caller."""
