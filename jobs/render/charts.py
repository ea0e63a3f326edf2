"""The charts of report.html, as inline SVG: no script, nothing fetched."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobs.render.html_kit import esc, num
from jobs.verdict import pct


def _nice_max(x: float) -> float:
    for top in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0):
        if x <= top:
            return top
    return 1.0


def field_chart(fields: Mapping[str, Mapping[str, Any]]) -> str:
    """Horizontal bars of each field's match rate; a dashed tick marks the rate expected by
    chance when the report has one (`chance_expected`: lines, like `lines_matched`)."""
    rows = []
    for name, f in fields.items():
        with_value = f.get("lines_with_value") or 0
        chance = f.get("chance_expected")
        chance_rate = chance / with_value if chance is not None and with_value else None
        rows.append((name, float(f.get("match_rate") or 0), f, chance_rate))
    top = _nice_max(max([r for _, r, _, _ in rows] + [c or 0 for *_, c in rows] + [0.0]))
    left, width, bar_h, gap = 90, 560, 22, 12
    height = 30 + len(rows) * (bar_h + gap)
    parts = [
        f'<svg width="{left + width + 260}" height="{height}"'
        ' role="img" aria-label="match rate per field" font-size="13">'
    ]
    for i in range(5):
        x = left + width * i / 4
        parts.append(
            f'<line x1="{x:.0f}" y1="0" x2="{x:.0f}" y2="{height - 24}" stroke="#eaecf0"/>'
        )
        parts.append(f'<text x="{x:.0f}" y="{height - 8}" text-anchor="middle" fill="#667085">'
                     f"{esc(pct(top * i / 4))}</text>")  # fmt: skip
    for i, (name, rate, f, chance_rate) in enumerate(rows):
        y = 4 + i * (bar_h + gap)
        w = width * min(rate, top) / top
        parts.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{esc(name)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#1570ef"/>')
        matched, total = num(f.get("lines_matched", 0)), num(f.get("lines_with_value", 0))
        label = f"{matched} of {total} ({pct(rate)})"
        if f.get("lines_matched_fuzzy"):
            label += f" (fuzzy: {num(f['lines_matched_fuzzy'])})"
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 16}">{esc(label)}</text>')
        if chance_rate is not None:
            cx = left + width * min(chance_rate, top) / top
            parts.append(f'<line x1="{cx:.1f}" y1="{y - 3}" x2="{cx:.1f}" y2="{y + bar_h + 3}" '
                         'stroke="#101828" stroke-width="2" stroke-dasharray="3,2"/>')  # fmt: skip
    parts.append("</svg>")
    legend = ""
    if any(c is not None for *_, c in rows):
        legend = '<p class="muted">Dashed tick: the match rate expected by chance alone.</p>'
    return "".join(parts) + legend


def same_record_chart(report: Mapping[str, Any]) -> str:
    """One stacked bar of the parsed lines: same-record (2+ fields of one customer), some field
    matched, nothing matched; a dashed tick where chance alone would put same-record lines."""
    parsed = report.get("sample", {}).get("lines_parsed") or 0
    ln = report.get("lines", {})
    same = ln.get("same_record_2plus", 0)
    some = max(ln.get("matched_any_field", 0) - same, 0)
    chance = ln.get("same_record_expected_by_chance")
    parts = [("one customer on 2+ fields", same, "#b42318"),
             ("some field, not one customer on 2+", some, "#fdb022"),
             ("no field", max(parsed - same - some, 0), "#d0d5dd")]  # fmt: skip
    width, height, x = 800, 40 + 22 * len(parts), 0.0
    svg = [f'<svg width="{width + 10}" height="{height}" role="img"'
           ' aria-label="lines by kind of match" font-size="13">']  # fmt: skip
    for i, (label, n, colour) in enumerate(parts):
        w = width * n / parsed if parsed else 0
        svg.append(f'<rect x="{x:.1f}" y="3" width="{w:.1f}" height="24" fill="{colour}"/>')
        x += w
        share = pct(n / parsed) if parsed else "-"
        svg.append(f'<rect x="0" y="{40 + 22 * i}" width="12" height="12" fill="{colour}"/>')
        svg.append(
            f'<text x="18" y="{51 + 22 * i}">{esc(f"{label}: {n:,} lines ({share})")}</text>'
        )
    if chance is not None and parsed:
        cx = width * min(chance / parsed, 1.0)
        svg.append(f'<line x1="{cx:.1f}" y1="0" x2="{cx:.1f}" y2="30" stroke="#101828" '
                   'stroke-width="2" stroke-dasharray="3,2"/>')  # fmt: skip
    svg.append("</svg>")
    note = ""
    if chance is not None:
        note = (f'<p class="muted">Chance alone would give about {float(chance):,.1f} same-record '
                f"lines (dashed tick): that many could be coincidences.</p>")  # fmt: skip
    return "".join(svg) + note
