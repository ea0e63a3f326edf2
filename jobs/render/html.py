"""report.html: the report for people who act on it (legal, comms, on-call), from report.json's
dict alone.

One self-contained file: inline CSS, charts as inline SVG, no script, and a Content-Security-
Policy that forbids any fetch, so it opens offline and from a mail attachment. The report dict
holds counts only, and every piece of text is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

COLOURS = {"MATCH": "#b42318", "NO_MATCH": "#067647", "INCONCLUSIVE": "#b54708",
           "RECYCLED": "#6941c6"}  # fmt: skip
PLAIN = {
    "MATCH": (
        "Yes: the sample contains records of our customers.",
        "Enough lines of the sample carry an e-mail address or phone number we hold, or match "
        "one single customer on two or more details, that chance cannot explain it. Treat the "
        "claim as credible. The investigation team can list the matching customer ids from the "
        "evidence table to size the exposure.",
    ),
    "NO_MATCH": (
        "No: nothing in the sample points at our customer records.",
        "Not one e-mail address, phone number or postal address in the sample is one we hold, "
        "and no line matches one of our customers on two details. Name matches, where there are "
        "any, are what common names produce by chance. This supports saying the sample does not "
        "come from our customer data.",
    ),
    "INCONCLUSIVE": (
        "Not decided: some lines match, too few to conclude either way.",
        "Some details in the sample are ones we hold, but fewer than the thresholds for a "
        "match. Make no statement from this report alone: an analyst reviews the evidence "
        "table (which lines match which customers, on which fields) first.",
    ),
    "RECYCLED": (
        "Seen before: this sample repeats an earlier one.",
        "Most of the sample's e-mail addresses and phone numbers were already in a sample we "
        "checked earlier (named below, with its date and verdict). It is not a new leak. If "
        "that earlier sample was ours, this one still is: the evidence below says so in numbers.",
    ),
}
DIRECTION = {"for": "points at us", "against": "points away from us", "neutral": "context"}
CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 color:#1d2939;margin:0 auto;max-width:1040px;padding:24px 32px;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;
 border-bottom:1px solid #eaecf0;padding-bottom:4px}
.muted{color:#667085}.verdict{border-left:8px solid;padding:12px 18px;background:#f9fafb;
 margin:18px 0}.code{font-size:28px;font-weight:700;letter-spacing:.5px}
.headline{font-size:19px;font-weight:600;margin:4px 0 8px}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #eaecf0;border-radius:6px;
 padding:8px 14px;min-width:140px}.card b{display:block;font-size:22px}
table{border-collapse:collapse;margin:6px 0}th,td{border-bottom:1px solid #eaecf0;
 padding:4px 10px;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.fail{color:#b42318;font-weight:600}.pass{color:#067647}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return _e("" if value is None else value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return _e(value)


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: set[int]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    head = f"<tr>{head}</tr>" if any(headers) else ""
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = ' class="n"' if i in numeric else ""
            cells.append(cell if isinstance(cell, _Raw) else f"<td{cls}>{_num(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>{head}{''.join(body)}</table>"


class _Raw(str):
    """A cell already rendered (and escaped) by the caller."""


def _verdict(report: Mapping[str, Any]) -> str:
    v = report.get("verdict", {})
    code = str(v.get("code", "UNKNOWN"))
    headline, meaning = PLAIN.get(code, ("No verdict.", "The report has no verdict."))
    colour = COLOURS.get(code, "#475467")
    return (
        f'<section class="verdict" style="border-color:{colour}" id="verdict">'
        f'<div class="code" style="color:{colour}">{_e(code)}</div>'
        f'<p class="headline">{_e(headline)}</p><p>{_e(meaning)}</p>'
        f'<p class="muted">How it was decided: {_e(v.get("text", ""))}</p>'
        f"{_evidence(v.get('evidence') or [])}</section>"
    )


def _evidence(items: Sequence[Mapping[str, Any]]) -> str:
    """The verdict's evidence, canary first, each saying whether it points at us."""
    if not items:
        return ""
    rows = "".join(
        f"<li><b>{_e(i.get('signal', ''))}</b> "
        f"({_e(DIRECTION.get(str(i.get('direction')), i.get('direction', '')))}): "
        f"{_e(i.get('text', ''))}</li>"
        for i in items
    )
    return f"<ul>{rows}</ul>"


def _canaries(c: Mapping[str, Any]) -> str:
    if not c.get("lines"):
        listed = _num(c.get("canary_ids_listed", 0))
        return f'<p class="muted">No line matches any of the {listed} canary records.</p>'
    fields = ", ".join(f"{f}: {n}" for f, n in (c.get("fields") or {}).items())
    return (
        f'<p class="fail">{_num(c["lines"])} line(s) match canary records: decisive evidence '
        f"that the data came from our systems.</p>"
        + _table(
            ["", ""],
            [["fields", fields], ["canary customer ids", ", ".join(c.get("canary_ids_hit", []))],
             ["line numbers", ", ".join(map(str, c.get("line_numbers", [])))]],
            set(),
        )
    )  # fmt: skip


def _claimed(c: Mapping[str, Any]) -> str:
    if c.get("impossible") is None:
        have = _num(c.get("warehouse_customers"))
        return f'<p class="muted">No claimed size given; we hold {have} customers.</p>'
    rows = [["claimed records", c["claimed_records"]], ["our customers", c["warehouse_customers"]]]
    if c["impossible"]:
        rows.append(["more than we hold", c["excess"]])
    verdict = "Impossible for our customer records." if c["impossible"] else "Within our size."
    cls = "fail" if c["impossible"] else "pass"
    return f'<p class="{cls}">{_e(verdict)}</p>' + _table(["", ""], rows, {1})


def _recycled(r: Mapping[str, Any]) -> str:
    runs = r.get("earlier_runs") or []
    if not runs:
        return '<p class="muted">No key of this sample was in an earlier sample.</p>'
    fields = sorted({f for e in runs for f in e.get("share", {})})
    rows = [
        [e["run_id"], e.get("ingested_at") or "",
         *[_pct(e["share"][f]) if f in e["share"] else "" for f in fields],
         _pct(e["overlap"]), e.get("verdict") or "not reported"]
        for e in runs
    ]  # fmt: skip
    note = (f"Share of this sample's distinct keys seen in each earlier sample; RECYCLED from "
            f"{_pct(r['threshold'])} over {'/'.join(r['fields'])}.")  # fmt: skip
    head = ["earlier run", "ingested", *fields, "overlap", "its verdict"]
    return f'<p class="muted">{_e(note)}</p>' + _table(head, rows, set(range(2, len(head) - 1)))


def _profile(p: Mapping[str, Any]) -> str:
    parts = [
        f'<p class="muted">Values seen fewer than {_num(p.get("min_count"))} times are counted '
        f"as (other). Divergence: Jensen-Shannon, 0 = same as our customers, 1 = nothing in "
        f"common; flagged from {_num(p.get('divergence_threshold'))}.</p>"
    ]
    for dim, d in (p.get("dimensions") or {}).items():
        div = "n/a" if d.get("divergence") is None else f"{d['divergence']:.3f}"
        cls = "fail" if d.get("flagged") else "pass"
        parts.append(f'<p class="{cls}">{_e(dim)}: divergence {_e(div)}'
                     f'{" (flagged)" if d.get("flagged") else ""}</p>')  # fmt: skip
        rows = [[t["value"], t["sample_n"], _pct(t["sample_share"]), t["warehouse_n"],
                 _pct(t["warehouse_share"])] for t in d.get("top", [])]  # fmt: skip
        parts.append(
            _table(["value", "sample", "sample share", "ours", "our share"], rows, {1, 2, 3, 4})
        )
    return "".join(parts)


def _schema(sch: Mapping[str, Any]) -> str:
    cols = sch.get("columns") or []
    if not cols:
        return '<p class="muted">No column information recorded.</p>'
    rows = []
    for c in cols:
        status = c["status"]
        cls = "fail" if status == "never_collected" else "pass" if status == "stored" else ""
        share = "" if c.get("content_share") is None else _pct(c["content_share"])
        rows.append([c["column"], c.get("header") or "", c.get("kind") or "",
                     c.get("by_header") or "", c.get("by_content") or "", share,
                     _Raw(f'<td class="{cls}">{_e(status.replace("_", " "))}</td>')])  # fmt: skip
    head = ["column", "header", "kind", "by header", "by content", "share", "status"]
    return _table(head, rows, {5})


def _cards(report: Mapping[str, Any]) -> str:
    s, ln = report.get("sample", {}), report.get("lines", {})
    items = [
        ("lines in the sample", s.get("lines_read")),
        ("lines read as records", s.get("lines_parsed")),
        ("lines set aside (unreadable)", s.get("lines_quarantined")),
        ("lines matching any field", ln.get("matched_any_field")),
        ("lines matching one customer on 2+ fields", ln.get("same_record_2plus")),
        ("lines with our e-mail or phone", ln.get("matched_unique_identifier")),
    ]
    cards = "".join(f'<div class="card"><b>{_num(n)}</b>{_e(label)}</div>' for label, n in items)
    return f'<div class="cards">{cards}</div>'


def _nice_max(x: float) -> float:
    for top in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0):
        if x <= top:
            return top
    return 1.0


def _field_chart(fields: Mapping[str, Mapping[str, Any]]) -> str:
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
                     f"{_e(_pct(top * i / 4))}</text>")  # fmt: skip
    for i, (name, rate, f, chance_rate) in enumerate(rows):
        y = 4 + i * (bar_h + gap)
        w = width * min(rate, top) / top
        parts.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{_e(name)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#1570ef"/>')
        matched, total = _num(f.get("lines_matched", 0)), _num(f.get("lines_with_value", 0))
        label = f"{matched} of {total} ({_pct(rate)})"
        if f.get("lines_matched_fuzzy"):
            label += f" (fuzzy: {_num(f['lines_matched_fuzzy'])})"
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 16}">{_e(label)}</text>')
        if chance_rate is not None:
            cx = left + width * min(chance_rate, top) / top
            parts.append(f'<line x1="{cx:.1f}" y1="{y - 3}" x2="{cx:.1f}" y2="{y + bar_h + 3}" '
                         'stroke="#101828" stroke-width="2" stroke-dasharray="3,2"/>')  # fmt: skip
    parts.append("</svg>")
    legend = ""
    if any(c is not None for *_, c in rows):
        legend = '<p class="muted">Dashed tick: the match rate expected by chance alone.</p>'
    return "".join(parts) + legend


def _same_record_chart(report: Mapping[str, Any]) -> str:
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
        share = _pct(n / parsed) if parsed else "-"
        svg.append(f'<rect x="0" y="{40 + 22 * i}" width="12" height="12" fill="{colour}"/>')
        svg.append(f'<text x="18" y="{51 + 22 * i}">{_e(f"{label}: {n:,} lines ({share})")}</text>')
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


def _quality(results: Sequence[Mapping[str, Any]]) -> str:
    if not results:
        return '<p class="muted">No data-quality results in this report.</p>'
    failed = [r for r in results if not r.get("success")]
    critical = [r for r in failed if r.get("severity") == "critical"]
    rows = sorted(
        results, key=lambda r: (bool(r.get("success")), str(r.get("severity")) != "critical")
    )
    body = []
    for r in rows:
        ok = bool(r.get("success"))
        status = _Raw(f'<td class="{"pass" if ok else "fail"}">{"passed" if ok else "FAILED"}</td>')
        body.append([status, r.get("table", ""), r.get("expectation", ""), r.get("severity", ""),
                     r.get("observed_value", "")])  # fmt: skip
    stopped = f" ({len(critical)} critical: the run stopped)" if critical else ""
    summary = f"{len(results)} checks, {len(failed)} failed{stopped}."
    cls = "fail" if failed else "pass"
    table = _table(["status", "table", "expectation", "severity", "observed"], body, set())
    return f'<p class="{cls}">{_e(summary)}</p>{table}'


def _blocking(blocking: Any) -> str:
    """Per field: candidate pairs, pairs expanded, hot keys and what was done about them. The
    heaviest keys are hashes: they stay in report.json."""
    if not (isinstance(blocking, list) and all(isinstance(b, Mapping) for b in blocking)):
        return _generic(blocking)
    keys = [k for k in dict.fromkeys(k for b in blocking for k in b)
            if all(not isinstance(b.get(k), (list, Mapping)) for b in blocking)]  # fmt: skip
    numeric = {i for i, k in enumerate(keys) if all(_is_number(b.get(k)) for b in blocking)}
    rows = ([b.get(k, "") for k in keys] for b in blocking)
    return _table([k.replace("_", " ") for k in keys], rows, numeric)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _generic(value: Any) -> str:
    """Blocking diagnostics and other optional sections whose shape may grow: a mapping becomes
    a two-column table, a list of mappings a table with their keys as columns."""
    if isinstance(value, Mapping):
        rows = [[k, _Raw(f"<td>{_generic(v)}</td>") if isinstance(v, (Mapping, list)) else v]
                for k, v in value.items()]  # fmt: skip
        return _table(["", ""], rows, {1})
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        keys = list(dict.fromkeys(k for v in value for k in v))
        return _table(keys, ([v.get(k, "") for k in keys] for v in value), set())
    if isinstance(value, list):
        return ", ".join(_num(v) for v in value)
    return _num(value)


def _inputs(report: Mapping[str, Any]) -> str:
    files = report.get("inputs", {}).get("files", [])
    if not files:
        return '<p class="muted">No input files recorded.</p>'
    keys = ["name", "bytes", "format"]
    keys += [k for k in dict.fromkeys(k for f in files for k in f) if k not in keys]
    return _table(keys, ([f.get(k, "") for k in keys] for f in files), {1})


def _countries(countries: Mapping[str, Any] | None) -> str:
    """Where each line's country came from (national phones are read with it)."""
    if not countries:
        return ""
    from jobs.verdict import COUNTRY_SOURCE_TEXT

    rows = [
        [COUNTRY_SOURCE_TEXT.get(k, k), n] for k, n in countries.get("lines_by_source", {}).items()
    ]
    rows.append(["sources naming different countries", countries.get("conflicts", 0)])
    per = list(countries.get("lines_by_country", {}).items())
    return (
        "<h3>Country of each line, told by</h3>"
        + _table(["source", "lines"], rows, {1})
        + (_table(["country", "lines"], per, {1}) if per else "")
    )


def render(report: Mapping[str, Any]) -> str:
    """The whole page as one string."""
    run_id = report.get("run_id", "")
    s = report.get("sample", {})
    reasons = s.get("quarantine_reasons") or {}
    sections = [
        f'<h1>Does this sample come from us?</h1><p class="muted">crosscheck run {_e(run_id)}</p>',
        _verdict(report),
        _cards(report),
    ]
    if report.get("canaries") is not None:
        sections += ["<h2>Canary records</h2>", _canaries(report["canaries"])]
    if report.get("claimed_size") is not None:
        sections += ["<h2>Claimed size</h2>", _claimed(report["claimed_size"])]
    if report.get("recycled") is not None:
        sections += ["<h2>Earlier samples (recycled)</h2>", _recycled(report["recycled"])]
    if report.get("profile") is not None:
        sections += ["<h2>Profile fingerprint</h2>", _profile(report["profile"])]
    if report.get("schema") is not None:
        sections += ["<h2>Schema fingerprint</h2>", _schema(report["schema"])]
    sections += [
        "<h2>Matches per field</h2>",
        _field_chart(report.get("fields", {})),
        "<h2>Same-record matches</h2>",
        "<p>A line matching one customer on two or more fields (e.g. e-mail and address) is the "
        "strongest evidence: unrelated data almost never does that.</p>",
        _same_record_chart(report),
        "<h2>Sample</h2>",
        _table(["set-aside reason", "lines"], sorted(reasons.items()), {1})
        if reasons
        else '<p class="muted">Every line was readable.</p>',
        _countries(s.get("countries")),
        "<h2>Data-quality checks</h2>",
        _quality(report.get("quality") or []),
    ]
    if report.get("blocking"):
        sections += ["<h2>Blocking diagnostics</h2>", _blocking(report["blocking"])]
    sections += [
        "<h2>Inputs of this run</h2>",
        _inputs(report),
        f'<p class="muted">This report holds counts only. Which lines match which customers is '
        f"in the <code>evidence</code> Delta table under run id {_e(run_id)}.</p>",
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>crosscheck {_e(run_id)}: {_e(report.get('verdict', {}).get('code', ''))}</title>"
        f"<style>{CSS}</style></head><body>{''.join(sections)}</body></html>\n"
    )


def write_html(report: Mapping[str, Any], out_dir: str | Path) -> Path:
    """Write report.html into `out_dir` (beside report.json) and return its path."""
    path = Path(str(out_dir).removeprefix("file:")) / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path
