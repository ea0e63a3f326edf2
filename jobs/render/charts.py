"""The charts of report.html, as inline SVG: no script, nothing fetched."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobs.render.html_kit import esc, num, svg_text
from jobs.render.linkage import waterfall_steps
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
        parts.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{svg_text(name)}</text>')
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


WATERFALL = {"up": "#1570ef", "down": "#f79009", "none": "#98a2b3", "end": "#344054"}
LEFT, TOP = 56, 30  # the waterfall's plot area starts here: room for the axis and value labels


class _Scale:
    """Bits -> the y of the waterfall's plot area (`height` high, from `TOP`)."""

    def __init__(self, values: list[float], height: int = 240) -> None:
        self.hi, self.lo = max(values), min(values)
        self.height, self.bottom = height, TOP + height

    def __call__(self, v: float) -> float:
        return TOP + self.height * (self.hi - v) / ((self.hi - self.lo) or 1.0)


def _short(text: str, chars: int) -> str:
    """A label cut to its column's width; the full text stays in the bar's <title>."""
    return text if len(text) <= chars else text[: max(chars - 1, 1)] + "…"


def _waterfall_bar(
    i: int, step: tuple[str, str, float, float, float], y: _Scale, slot: int, last: bool
) -> str:
    """One term's bar, from the running total before it to the one after, its weight above
    and its field and level below; a dotted step over to the next bar."""
    label, level, w, before, after = step
    left = LEFT + i * slot
    x, bw = left + slot * 0.15, slot * 0.7
    top, bottom = y(max(before, after)), y(min(before, after))
    kind = "end" if i == 0 or last else "up" if w > 0 else "down" if w < 0 else "none"
    chars = max(slot // 7, 4)
    tip = f"{label}: {level}, {w:+.4f} bits" if level else f"{label}: {w:+.4f} bits"
    out = [
        f"<g><title>{svg_text(tip)}</title>",
        f'<rect x="{x:.1f}" y="{top:.1f}" width="{bw:.1f}" height="{max(bottom - top, 1):.1f}" '
        f'fill="{WATERFALL[kind]}"/>',
        f'<text x="{x + bw / 2:.1f}" y="{top - 4:.1f}" text-anchor="middle">{esc(f"{w:+.1f}")}'
        "</text>",
        f'<text x="{left + slot / 2:.1f}" y="{y.bottom + 16:.1f}" text-anchor="middle">'
        f"{svg_text(_short(label, chars))}</text>",
        f'<text x="{left + slot / 2:.1f}" y="{y.bottom + 30:.1f}" text-anchor="middle" '
        f'fill="#667085">{svg_text(_short(level, chars))}</text></g>',
    ]
    if not last:
        out.append(f'<line x1="{x + bw:.1f}" y1="{y(after):.1f}" x2="{x + slot:.1f}" '
                   f'y2="{y(after):.1f}" stroke="#98a2b3" stroke-dasharray="2,2"/>')  # fmt: skip
    return "".join(out)


def waterfall_chart(example: Mapping[str, Any], threshold_weight: float | None = None) -> str:
    """One link's match weight built term by term: a bar from 0 to the prior, one per field
    from the running total up (positive weight) or down (negative), and the match weight from
    0; a dashed line at the weight the threshold asks for. Names and numbers only."""
    total = float(example["match_weight"])
    steps = [*waterfall_steps(example), ("match weight", "", total, 0.0, total)]
    values = [0.0, *[v for s in steps for v in s[3:]]]
    values += [] if threshold_weight is None else [threshold_weight]
    y, n = _Scale(values), len(steps)
    slot = max(min(110, 880 // n), 60)
    width, height = LEFT + slot * n + 20, y.bottom + 62
    line = example["line_number"]
    parts = [f'<svg width="{width}" height="{height}" role="img" font-size="12" aria-label="'
             f'{svg_text(f"match weight of line {line}, term by term")}">',
             f'<line x1="{LEFT}" y1="{y(0):.1f}" x2="{width - 10}" y2="{y(0):.1f}" '
             f'stroke="#667085"/><text x="{LEFT - 6}" y="{y(0) + 4:.1f}" text-anchor="end" '
             'fill="#667085">0</text>']  # fmt: skip
    if threshold_weight is not None:
        ty = y(threshold_weight)
        # its label moves off the 0 label when the two lines are close
        ly = ty + 4 if abs(ty - y(0)) >= 14 else y(0) + (-10 if ty < y(0) else 18)
        parts.append(f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{width - 10}" y2="{ty:.1f}" '
                     'stroke="#b42318" stroke-dasharray="5,3"/>'
                     f'<text x="{LEFT - 6}" y="{ly:.1f}" text-anchor="end" fill="#b42318">'
                     f"{esc(f'{threshold_weight:+.1f}')}</text>")  # fmt: skip
    parts += [_waterfall_bar(i, s, y, slot, i == n - 1) for i, s in enumerate(steps)]
    caption = (f"line {line}: match weight {total:+.2f} bits, match probability "
               f"{float(example['match_probability']):.6g}")  # fmt: skip
    parts.append(f'<text x="{LEFT}" y="{y.bottom + 52:.1f}">{svg_text(caption)}</text></svg>')
    return "".join(parts)
