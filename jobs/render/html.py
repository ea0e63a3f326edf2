"""report.html: the report for people who act on it (legal, comms, on-call), from report.json's
dict alone.

One self-contained file: inline CSS, charts as inline SVG, no script, and a Content-Security-
Policy that forbids any fetch, so it opens offline and from a mail attachment. The report dict
holds counts only, and every piece of text is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jobs.render.charts import field_chart, same_record_chart, waterfall_chart
from jobs.render.html_kit import Raw, esc, num, table
from jobs.render.markdown import COUNTRY_SOURCE_TEXT
from jobs.verdict import pct

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


def _verdict(report: Mapping[str, Any]) -> str:
    v = report.get("verdict", {})
    code = str(v.get("code", "UNKNOWN"))
    headline, meaning = PLAIN.get(code, ("No verdict.", "The report has no verdict."))
    colour = COLOURS.get(code, "#475467")
    return (
        f'<section class="verdict" style="border-color:{colour}" id="verdict">'
        f'<div class="code" style="color:{colour}">{esc(code)}</div>'
        f'<p class="headline">{esc(headline)}</p><p>{esc(meaning)}</p>'
        f'<p class="muted">How it was decided: {esc(v.get("text", ""))}</p>'
        f"{_evidence(v.get('evidence') or [])}</section>"
    )


def _evidence(items: Sequence[Mapping[str, Any]]) -> str:
    """The verdict's evidence, canary first, each saying whether it points at us."""
    if not items:
        return ""
    rows = "".join(
        f"<li><b>{esc(i.get('signal', ''))}</b> "
        f"({esc(DIRECTION.get(str(i.get('direction')), i.get('direction', '')))}): "
        f"{esc(i.get('text', ''))}</li>"
        for i in items
    )
    return f"<ul>{rows}</ul>"


def _canaries(c: Mapping[str, Any]) -> str:
    if not c.get("lines"):
        listed = num(c.get("canary_ids_listed", 0))
        return f'<p class="muted">No line matches any of the {listed} canary records.</p>'
    fields = ", ".join(f"{f}: {n}" for f, n in (c.get("fields") or {}).items())
    return (
        f'<p class="fail">{num(c["lines"])} line(s) match canary records: decisive evidence '
        f"that the data came from our systems.</p>"
        + table(
            ["", ""],
            [["fields", fields], ["canary customer ids", ", ".join(c.get("canary_ids_hit", []))],
             ["line numbers", ", ".join(map(str, c.get("line_numbers", [])))]],
            set(),
        )
    )  # fmt: skip


def _claimed(c: Mapping[str, Any]) -> str:
    if c.get("impossible") is None:
        have = num(c.get("warehouse_customers"))
        return f'<p class="muted">No claimed size given; we hold {have} customers.</p>'
    rows = [["claimed records", c["claimed_records"]], ["our customers", c["warehouse_customers"]]]
    if c["impossible"]:
        rows.append(["more than we hold", c["excess"]])
    verdict = "Impossible for our customer records." if c["impossible"] else "Within our size."
    cls = "fail" if c["impossible"] else "pass"
    return f'<p class="{cls}">{esc(verdict)}</p>' + table(["", ""], rows, {1})


def _recycled(r: Mapping[str, Any]) -> str:
    runs = r.get("earlier_runs") or []
    if not runs:
        return '<p class="muted">No key of this sample was in an earlier sample.</p>'
    fields = sorted({f for e in runs for f in e.get("share", {})})
    rows = [
        [e["run_id"], e.get("ingested_at") or "",
         *[pct(e["share"][f]) if f in e["share"] else "" for f in fields],
         pct(e["overlap"]), e.get("verdict") or "not reported"]
        for e in runs
    ]  # fmt: skip
    note = (f"Share of this sample's distinct keys seen in each earlier sample; RECYCLED from "
            f"{pct(r['threshold'])} over {'/'.join(r['fields'])}.")  # fmt: skip
    head = ["earlier run", "ingested", *fields, "overlap", "its verdict"]
    return f'<p class="muted">{esc(note)}</p>' + table(head, rows, set(range(2, len(head) - 1)))


def _profile(p: Mapping[str, Any]) -> str:
    parts = [
        f'<p class="muted">Values seen fewer than {num(p.get("min_count"))} times are counted '
        f"as (other). Divergence: Jensen-Shannon, 0 = same as our customers, 1 = nothing in "
        f"common; flagged from {num(p.get('divergence_threshold'))}.</p>"
    ]
    for dim, d in (p.get("dimensions") or {}).items():
        div = "n/a" if d.get("divergence") is None else f"{d['divergence']:.3f}"
        cls = "fail" if d.get("flagged") else "pass"
        parts.append(f'<p class="{cls}">{esc(dim)}: divergence {esc(div)}'
                     f'{" (flagged)" if d.get("flagged") else ""}</p>')  # fmt: skip
        rows = [[t["value"], t["sample_n"], pct(t["sample_share"]), t["warehouse_n"],
                 pct(t["warehouse_share"])] for t in d.get("top", [])]  # fmt: skip
        parts.append(
            table(["value", "sample", "sample share", "ours", "our share"], rows, {1, 2, 3, 4})
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
        share = "" if c.get("content_share") is None else pct(c["content_share"])
        rows.append([c["column"], c.get("header") or "", c.get("kind") or "",
                     c.get("by_header") or "", c.get("by_content") or "", share,
                     Raw(f'<td class="{cls}">{esc(status.replace("_", " "))}</td>')])  # fmt: skip
    head = ["column", "header", "kind", "by header", "by content", "share", "status"]
    return table(head, rows, {5})


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
    if ln.get("linked") is not None:
        items.append(("lines linked to a customer, all fields weighed", ln.get("linked")))
        items.append(
            ("lines linked with the fields re-paired at random", ln.get("linked_by_chance"))
        )
    cards = "".join(f'<div class="card"><b>{num(n)}</b>{esc(label)}</div>' for label, n in items)
    return f'<div class="cards">{cards}</div>'


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
        status = Raw(f'<td class="{"pass" if ok else "fail"}">{"passed" if ok else "FAILED"}</td>')
        body.append([status, r.get("table", ""), r.get("expectation", ""), r.get("severity", ""),
                     r.get("observed_value", "")])  # fmt: skip
    stopped = f" ({len(critical)} critical: the run stopped)" if critical else ""
    summary = f"{len(results)} checks, {len(failed)} failed{stopped}."
    cls = "fail" if failed else "pass"
    checks = table(["status", "table", "expectation", "severity", "observed"], body, set())
    return f'<p class="{cls}">{esc(summary)}</p>{checks}'


def _blocking(blocking: Any) -> str:
    """Per field: candidate pairs, pairs expanded, hot keys and what was done about them. The
    heaviest keys are hashes: they stay in report.json."""
    if not (isinstance(blocking, list) and all(isinstance(b, Mapping) for b in blocking)):
        return _generic(blocking)
    keys = [k for k in dict.fromkeys(k for b in blocking for k in b)
            if all(not isinstance(b.get(k), (list, Mapping)) for b in blocking)]  # fmt: skip
    numeric = {i for i, k in enumerate(keys) if all(_is_number(b.get(k)) for b in blocking)}
    rows = ([b.get(k, "") for k in keys] for b in blocking)
    return table([k.replace("_", " ") for k in keys], rows, numeric)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _generic(value: Any) -> str:
    """Blocking diagnostics and other optional sections whose shape may grow: a mapping becomes
    a two-column table, a list of mappings a table with their keys as columns."""
    if isinstance(value, Mapping):
        rows = [[k, Raw(f"<td>{_generic(v)}</td>") if isinstance(v, (Mapping, list)) else v]
                for k, v in value.items()]  # fmt: skip
        return table(["", ""], rows, {1})
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        keys = list(dict.fromkeys(k for v in value for k in v))
        return table(keys, ([v.get(k, "") for k in keys] for v in value), set())
    if isinstance(value, list):
        return ", ".join(num(v) for v in value)
    return num(value)


def _linkage(section: Mapping[str, Any] | None) -> str:
    """The run's trained model, then a few links drawn as waterfalls: which fields carried
    each line to its customer, and by how much (names and numbers only); "" without one."""
    if not section:
        return ""
    rows = [[r["field"], r["level_name"], r["m"], r["u"], r["weight"]]
            for r in section.get("model", [])]  # fmt: skip
    examples = section.get("examples") or []
    note = (f"Trained on this run ({section.get('em_iterations')} EM iterations; 0: conf's m "
            f"kept). A level weighs log2(m / u) bits; a field either side lacks weighs 0. "
            f"The prior, {section.get('prior')}, weighs {section.get('prior_weight')} bits. A "
            f"line is linked from match probability {section.get('threshold')} (dashed red "
            f"line){_corroborated(section)}.")  # fmt: skip
    parts = ["<h2>Record linkage</h2>", f'<p class="muted">{esc(note)}</p>',
             table(["field", "level", "m", "u", "weight (bits)"], rows, {2, 3, 4})]  # fmt: skip
    if examples:
        parts.append("<h3>Example links</h3><p>The strongest link, then the links nearest the "
                     "threshold: from the prior, each field's weight takes the line up (blue) or "
                     "down (orange) to its match weight.</p>")  # fmt: skip
    parts += [waterfall_chart(ex, section.get("threshold_weight")) for ex in examples]
    return "".join(parts)


def _inputs(report: Mapping[str, Any]) -> str:
    files = report.get("inputs", {}).get("files", [])
    if not files:
        return '<p class="muted">No input files recorded.</p>'
    keys = ["name", "bytes", "format"]
    keys += [k for k in dict.fromkeys(k for f in files for k in f) if k not in keys]
    return table(keys, ([f.get(k, "") for k in keys] for f in files), {1})


def _countries(countries: Mapping[str, Any] | None) -> str:
    """Where each line's country came from (national phones are read with it)."""
    if not countries:
        return ""
    rows = [
        [COUNTRY_SOURCE_TEXT.get(k, k), n] for k, n in countries.get("lines_by_source", {}).items()
    ]
    rows.append(["sources naming different countries", countries.get("conflicts", 0)])
    per = list(countries.get("lines_by_country", {}).items())
    return (
        "<h3>Country of each line, told by</h3>"
        + table(["source", "lines"], rows, {1})
        + (table(["country", "lines"], per, {1}) if per else "")
    )


def render(report: Mapping[str, Any]) -> str:
    """The whole page as one string."""
    run_id = report.get("run_id", "")
    s = report.get("sample", {})
    reasons = s.get("quarantine_reasons") or {}
    sections = [
        f'<h1>Does this sample come from us?</h1><p class="muted">crosscheck run {esc(run_id)}</p>',
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
        field_chart(report.get("fields", {})),
        "<h2>Same-record matches</h2>",
        "<p>A line matching one customer on two or more fields (e.g. e-mail and address) is the "
        "strongest evidence: unrelated data almost never does that.</p>",
        same_record_chart(report),
        _linkage(report.get("linkage")),
        "<h2>Sample</h2>",
        table(["set-aside reason", "lines"], sorted(reasons.items()), {1})
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
        f"in the <code>evidence</code> Delta table under run id {esc(run_id)}.</p>",
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>crosscheck {esc(run_id)}: {esc(report.get('verdict', {}).get('code', ''))}</title>"
        f"<style>{CSS}</style></head><body>{''.join(sections)}</body></html>\n"
    )


def write_html(report: Mapping[str, Any], out_dir: str | Path) -> Path:
    """Write report.html into `out_dir` (beside report.json) and return its path."""
    path = Path(str(out_dir).removeprefix("file:")) / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(report), encoding="utf-8")
    return path


def _corroborated(section: Mapping[str, Any]) -> str:
    """The lower bar of links that several fields agree on, as a clause ('' when none)."""
    if section.get("corroborated_threshold") is None:
        return ""
    return (
        f", or from {section['corroborated_threshold']} where "
        f"{section['corroborating_fields']} fields or more each weigh for the customer, "
        "the prior then the share of lines linked at the first"
    )
