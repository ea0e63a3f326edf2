"""report.md: the report for analysts, as Markdown, from report.json's dict alone.

The report dict holds counts only, so every table here does too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from jobs.quality import markdown_section
from jobs.render.linkage import waterfall_steps
from jobs.render.safe import md_code, md_text
from jobs.verdict import exact_lines, pct

COUNTRY_SOURCE_TEXT = {
    "column": "a country column",
    "address": "the address's last part",
    "phone": "the phone's international prefix",
    "email": "the e-mail's country domain",
    "default": "sample.default_country",
    "none": "nothing (national phone numbers on them cannot be read)",
}


def field_table(report: Mapping[str, Any]) -> str:
    """The per-field table, as printed by `make run` and embedded in report.md."""
    rows = ["| field | lines with value | lines matched | match rate | exact | fuzzy | weak only "
            "| distinct keys matched |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, f in report["fields"].items():
        rows.append(
            f"| {md_text(name)} | {f['lines_with_value']} | {f['lines_matched']} | "
            f"{pct(f['match_rate'])} | {exact_lines(f)} | {f.get('lines_matched_fuzzy', 0)} | "
            f"{f.get('lines_matched_weak', 0)} | {f.get('distinct_keys_matched', 0)} |"
        )
    return "\n".join(rows)


def _md_section(title: str, header: str, align: str, rows: list[str]) -> list[str]:
    return [f"## {title}", "", header, align, *rows, ""] if rows else []


def blocking_section(blocking: list[Mapping[str, Any]]) -> list[str]:
    """Blocking diagnostics: pairs per rule and what was done about hot keys (hashes only)."""
    rows = [
        f"| {md_text(b['field'])} | {b['candidate_pairs']} | {b['expanded_pairs']} | "
        f"{b['hot_keys']} | {md_text(b['action'])} |"
        for b in blocking
    ]
    header = "| field | candidate pairs | pairs expanded | hot keys | action |"
    return _md_section("Blocking diagnostics", header, "|---|---:|---:|---:|---|", rows)


def fuzzy_blocking_section(rules: list[Mapping[str, Any]]) -> list[str]:
    """Fuzzy blocking rules: candidate pairs against the pair budget, and what was done."""
    rows = [
        f"| {md_text(r['rule'])} | {md_text(r['field'])} | {r['candidate_pairs']} | "
        f"{r['pair_budget']} | {r['pairs_run']} | {md_text(r['action'])} | {md_text(r['note'])} |"
        for r in rules
    ]
    header = "| rule | field | candidate pairs | budget | pairs run | action | note |"
    return _md_section("Fuzzy blocking", header, "|---|---|---:|---:|---:|---|---|", rows)


def evidence_list(verdict: Mapping[str, Any]) -> list[str]:
    """The verdict's evidence items, one bullet each, canary first."""
    items = verdict.get("evidence") or []
    return [
        f"- **{md_text(e['signal'])}** ({md_text(e['direction'])}): {md_text(e['text'])}"
        for e in items
    ] + ([""] if items else [])


def provenance_markdown(report: Mapping[str, Any]) -> list[str]:
    """Canaries, claimed size, earlier samples, profile and schema fingerprints (counts only),
    each section only when the report has it."""
    out: list[str] = []
    if report.get("canaries") is not None:
        out += _canaries(report["canaries"])
    if report.get("claimed_size") is not None:
        out += _claimed_size(report["claimed_size"])
    if report.get("recycled") is not None:
        out += _recycled(report["recycled"])
    if report.get("profile") is not None:
        out += _profile(report["profile"])
    sch = report.get("schema")
    if sch is not None and sch["columns"]:
        out += _schema(sch)
    return out


def _canaries(c: Mapping[str, Any]) -> list[str]:
    out = ["## Canary records", ""]
    if not c["lines"]:
        return out + [f"No line matches any of the {c['canary_ids_listed']} canary records.", ""]
    fields = ", ".join(f"{md_text(f)}: {md_text(n)}" for f, n in c["fields"].items())
    ids = ", ".join(md_text(i) for i in c["canary_ids_hit"])
    return out + [
        f"**{c['lines']} line(s) match canary records** (fields: {fields}; canary "
        f"customer ids: {ids}; lines: "
        f"{', '.join(md_text(n) for n in c['line_numbers'])}).",
        "",
    ]


def _claimed_size(claim: Mapping[str, Any]) -> list[str]:
    out = ["## Claimed size", ""]
    if claim.get("impossible") is None:
        have = claim["warehouse_customers"]
        return out + [f"No claimed size given; we hold {have} customers.", ""]
    flag = "**impossible**" if claim["impossible"] else "possible"
    return out + [
        f"- claimed records: {claim['claimed_records']}",
        f"- our customers: {claim['warehouse_customers']}",
        f"- {flag}" + (f": {claim['excess']} more than we hold" if claim["excess"] else ""),
        "",
    ]


def _recycled(r: Mapping[str, Any]) -> list[str]:
    out = ["## Earlier samples (recycled)", ""]
    if not r["earlier_runs"]:
        return out + ["No key of this sample was in an earlier sample.", ""]
    fields = sorted({f for e in r["earlier_runs"] for f in e["share"]})
    names = [md_text(f) for f in fields]
    out += [
        f"Share of this sample's distinct keys seen in each earlier sample; RECYCLED from "
        f"{pct(r['threshold'])} over {'/'.join(md_text(f) for f in r['fields'])} "
        f"(at least {r['min_keys']} keys).",
        "",
        "| earlier run | ingested | " + " | ".join(names) + " | overlap | its verdict |",
        "|---|---|" + "---:|" * len(fields) + "---:|---|",
    ]
    for e in r["earlier_runs"]:
        shares = " | ".join(pct(e["share"][f]) if f in e["share"] else "" for f in fields)
        out.append(
            f"| {md_text(e['run_id'])} | {md_text(e['ingested_at'])} | {shares} | "
            f"{pct(e['overlap'])} | {md_text(e['verdict'])} |"
        )
    return out + [""]


def _profile(p: Mapping[str, Any]) -> list[str]:
    out = [
        "## Profile fingerprint",
        "",
        f"Sample against our customers; values seen fewer than {p['min_count']} times are "
        f"counted as (other). Divergence: Jensen-Shannon, 0 = same, 1 = disjoint, flagged "
        f"from {p['divergence_threshold']}.",
        "",
    ]
    for dim, d in p["dimensions"].items():
        div = "n/a" if d["divergence"] is None else f"{d['divergence']:.3f}"
        flag = " **(flagged)**" if d["flagged"] else ""
        out += [
            f"### {md_text(dim)}: divergence {div}{flag}",
            "",
            "| value | sample | sample share | ours | our share |",
            "|---|---:|---:|---:|---:|",
        ]
        out += [
            f"| {md_text(t['value'])} | {t['sample_n']} | {pct(t['sample_share'])} | "
            f"{t['warehouse_n']} | {pct(t['warehouse_share'])} |"
            for t in d["top"]
        ]
        out.append("")
    return out


def _schema(sch: Mapping[str, Any]) -> list[str]:
    statuses = Counter(c["status"] for c in sch["columns"])
    counts = ", ".join(f"{md_text(str(k).replace('_', ' '))}: {n}" for k, n in statuses.items())
    out = [
        "## Schema fingerprint",
        "",
        f"Columns of the sample by kind ({counts}).",
        "",
        "| column | header | kind | by header | by content | share | status |",
        "|---|---|---|---|---|---:|---|",
    ]
    for col in sch["columns"]:
        share = "" if col["content_share"] is None else pct(col["content_share"])
        out.append(
            f"| {md_text(col['column'])} | {md_text(col['header'])} | {md_text(col['kind'])} | "
            f"{md_text(col['by_header'])} | {md_text(col['by_content'])} | {share} | "
            f"{md_text(col['status'])} |"
        )
    return out + [""]


def country_markdown(countries: Mapping[str, Any] | None) -> list[str]:
    """Where the lines' countries came from: national phone numbers are read with them."""
    if not countries:
        return []
    by_source = countries.get("lines_by_source", {})
    told = [f"{COUNTRY_SOURCE_TEXT.get(k) or md_text(k)}: {n}" for k, n in by_source.items() if n]
    per = list(countries.get("lines_by_country", {}).items())[:12]
    top = ", ".join(f"{md_text(c)} {md_text(n)}" for c, n in per)
    return [
        f"- country of each line told by: {'; '.join(told) or 'no line'}",
        f"- lines whose sources name different countries (kept as the first source says): "
        f"{countries.get('conflicts', 0)}",
        f"- lines per country: {top or 'none'}",
    ]


def to_markdown(report: Mapping[str, Any]) -> str:
    """report.md: the verdict and its evidence first, then the counts behind it."""
    s, ln, v = report["sample"], report["lines"], report["verdict"]
    parts = [
        f"# crosscheck report — run {md_code(report['run_id'])}",
        "",
        f"## Verdict: **{md_text(v['code'])}**",
        "",
        md_text(v["text"]),
        "",
        *evidence_list(v),
        *provenance_markdown(report),
        "## Sample",
        "",
        f"- lines read: {s['lines_read']}",
        f"- lines parsed: {s['lines_parsed']}",
        f"- lines quarantined: {s['lines_quarantined']}" + _reasons(s.get("quarantine_reasons")),
        *country_markdown(s.get("countries")),
        "",
        "## Matches per field",
        "",
        field_table(report),
        "",
        "Exact: equal canonical keys. Fuzzy: a retyped, transliterated or reordered name, or a "
        "reworded street at the same postcode and house number, and no exact match on that field. "
        "Weak only: the same e-mail local part at another domain, or the same national number "
        "under another country code; never counted as a match.",
        "",
        *_lines_section(ln),
        *linkage_markdown(report.get("linkage")),
        *blocking_section(report.get("blocking", [])),
        *fuzzy_blocking_section(report.get("fuzzy_blocking", [])),
        markdown_section(report.get("quality", [])),
        "Evidence (line numbers, fields and customer ids) is in the `evidence` Delta table "
        f"under run_id {md_code(report['run_id'])}. This report holds counts only.",
        "",
    ]
    return "\n".join(parts)


def _reasons(reasons: Mapping[str, Any] | None) -> str:
    """Quarantine reasons come from the sample's files and from conf: escaped, with counts."""
    if not reasons:
        return ""
    return " (" + ", ".join(f"{md_text(k)}: {md_text(n)}" for k, n in reasons.items()) + ")"


def _lines_section(ln: Mapping[str, Any]) -> list[str]:
    return [
        "## Lines",
        "",
        f"- matching at least one field: {ln['matched_any_field']}",
        f"- matching one customer on two or more fields: {ln['same_record_2plus']}",
        f"- matching on e-mail or phone: {ln.get('matched_unique_identifier', 0)}",
        f"- same-record lines expected by chance alone: "
        f"{ln.get('same_record_expected_by_chance', 0.0):.2f}",
        f"- matching one customer on two or more fields, fuzzy matches included: "
        f"{ln.get('same_record_2plus_with_fuzzy', ln['same_record_2plus'])} "
        f"(chance alone: {ln.get('same_record_expected_with_fuzzy', 0.0):.2f})",
        *(
            [
                f"- linked to one customer with every field weighed (record linkage): "
                f"{ln['linked']} of {ln.get('linkage_candidates')} candidate lines "
                f"(with the fields re-paired at random: {ln.get('linked_by_chance')})"
            ]
            if ln.get("linked") is not None
            else []
        ),
        "",
    ]


def linkage_markdown(section: Mapping[str, Any] | None) -> list[str]:
    """The run's trained model, then a few links as the terms of their match weight, so an
    analyst sees which fields carried each one (weights in bits, field and level names only)."""
    if not section:
        return []
    out = [
        "## Record linkage",
        "",
        f"Fellegi–Sunter model trained on this run ({md_text(section['em_iterations'])} EM "
        f"iterations; 0: conf's m kept). Prior {md_text(section['prior'])}, weight "
        f"{md_text(section['prior_weight'])} bits; a line is linked from match probability "
        f"{md_text(section['threshold'])}{_corroborated(section)}. A level weighs log2(m / u); "
        "a field either side lacks weighs 0.",
        "",
        "| field | level | m | u | weight |",
        "|---|---|---:|---:|---:|",
        *[
            f"| {md_text(r['field'])} | {md_text(r['level_name'])} | {md_text(r['m'])} | "
            f"{md_text(r['u'])} | {md_text(r['weight'])} |"
            for r in section.get("model", [])
        ],
        "",
    ]
    examples = section.get("examples") or []
    if examples:
        out += ["The strongest link, then the links nearest the threshold: the prior and each "
                "field's weight add up to the match weight.", ""]  # fmt: skip
    for ex in examples:
        out += [
            f"### Line {md_text(ex['line_number'])}: match probability "
            f"{md_text(ex['match_probability'])}",
            "",
            "| term | level | weight | running total |",
            "|---|---|---:|---:|",
            *[
                f"| {md_text(label)} | {md_text(level)} | {md_text(w)} | {md_text(after)} |"
                for label, level, w, _, after in waterfall_steps(ex)
            ],
            f"| match weight | | | **{md_text(ex['match_weight'])}** |",
            "",
        ]
    return out


def _corroborated(section: Mapping[str, Any]) -> str:
    """The lower bar of links that several fields agree on, as a clause ('' when none)."""
    if section.get("corroborated_threshold") is None:
        return ""
    return (f", or from {md_text(section['corroborated_threshold'])} where "
            f"{md_text(section['corroborating_fields'])} fields or more each weigh for the "
            "customer, the prior then the share of lines linked at the first")  # fmt: skip
