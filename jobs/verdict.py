"""The verdict and the reports people read: report.json for machines, report.md for humans.

Inputs are counts only; nothing here ever sees a raw or hashed value.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from jobs.settings import VerdictConf

UNIQUE_IDENTIFIERS = ("email", "phone")


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def _above_chance(same: int, chance: float, parsed: int, rules: VerdictConf) -> bool:
    return same / parsed >= rules.match_same_record_rate and same > rules.chance_factor * chance


def decide_verdict(report: Mapping[str, Any], rules: VerdictConf) -> dict[str, Any]:
    """MATCH / NO_MATCH / INCONCLUSIVE / RECYCLED with the numbers that decided it.

    The matching evidence decides first (`matching_verdict`). A hit on a canary record makes
    it MATCH, stated first: canaries exist only in our warehouse. A sample whose keys were
    mostly in one earlier sample is RECYCLED, naming that run, its date and its verdict; the
    run's own evidence stays in `evidence_code` (a recycled sample of our data is still our
    data). Schema, profile and claimed-size findings are listed as supporting evidence and
    never change the code."""
    base = matching_verdict(report, rules)
    code, parts, evidence = base["code"], [], []
    canaries = report.get("canaries") or {}
    if canaries.get("lines"):
        item = _canary_evidence(canaries)
        evidence.append(item)
        parts.append(item["text"])
        code = "MATCH"
    evidence_code = code
    recycled = report.get("recycled") or {}
    if recycled.get("recycled_from"):
        item = _recycled_evidence(recycled, evidence_code)
        evidence.append(item)
        parts += [item["text"], f"On its own, this sample's evidence says {evidence_code}:"]
        code = "RECYCLED"
    parts.append(base["text"])
    supporting = supporting_evidence(report)
    if supporting:
        parts.append("Supporting evidence: " + " ".join(s["text"] for s in supporting))
    return {
        "code": code,
        "text": " ".join(parts),
        "evidence_code": evidence_code,
        "evidence": evidence + supporting,
    }


def _ids(ids: list[str], limit: int = 5) -> str:
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


def _canary_evidence(c: Mapping[str, Any]) -> dict[str, str]:
    fields = ", ".join(f"{f} ({n} line{'s' if n != 1 else ''})" for f, n in c["fields"].items())
    ids = c["canary_ids_hit"]
    return {
        "signal": "canary",
        "direction": "for",
        "text": (
            f"Canary: {c['lines']} sample line(s) match {len(ids)} of our {c['canary_ids_listed']} "
            f"canary record(s) (customer id {_ids(ids)}) on {fields}. Canary records exist only "
            "in our warehouse and were never used anywhere: this is decisive evidence that the "
            "data came from our systems."
        ),
    }


def _recycled_evidence(r: Mapping[str, Any], evidence_code: str) -> dict[str, str]:
    best = next(e for e in r["earlier_runs"] if e["run_id"] == r["recycled_from"])
    seen, total = best["overlap_keys"]
    per_field = ", ".join(f"{f} {_pct(share)}" for f, share in best["share"].items())
    earlier = best.get("evidence_verdict") or best.get("verdict")
    if earlier:
        was = f"that run's verdict was {best.get('verdict')}"
        if best.get("verdict") != earlier:
            was += f" (its own evidence: {earlier})"
    else:
        was = "that run has no verdict yet"
    ours = (
        " A recycled sample of our data is still our data, but not a new leak."
        if evidence_code == "MATCH" or earlier == "MATCH"
        else ""
    )
    return {
        "signal": "recycled",
        "direction": "neutral",
        "text": (
            f"Recycled: {_pct(best['overlap'])} of this sample's {'/'.join(r['fields'])} keys "
            f"({seen} of {total}) were already in sample run {best['run_id']}, ingested "
            f"{str(best['ingested_at'])[:10]} (threshold {_pct(r['threshold'])}; per field: "
            f"{per_field}); {was}.{ours}"
        ),
    }


DIMENSION_WORDS = {"email_domain": "e-mail domains", "phone_code": "phone calling codes",
                   "country": "countries"}  # fmt: skip


def supporting_evidence(report: Mapping[str, Any]) -> list[dict[str, str]]:
    """Schema, profile and claimed-size findings in numbers, each for or against origin."""
    out = []
    schema = report.get("schema") or {}
    columns = schema.get("columns") or []
    if columns:
        stored = [c for c in columns if c["status"] == "stored"]
        never = [c for c in columns if c["status"] == "never_collected"]
        kinds = ", ".join(sorted({c["kind"] for c in stored})) or "none"
        text = f"Schema: {len(stored)} of {len(columns)} columns are kinds we store ({kinds})"
        if never:
            text += f"; {len(never)} are kinds we never collect: " + "; ".join(
                _never_text(c) for c in never
            )
            text += ". Data we never held did not come from our systems."
        out.append(
            {"signal": "schema", "direction": "against" if never else "for", "text": text + "."}
        )
    profile = (report.get("profile") or {}).get("dimensions") or {}
    threshold = (report.get("profile") or {}).get("divergence_threshold")
    flagged = {d: p for d, p in profile.items() if p.get("flagged")}
    for dim, p in flagged.items():
        top = max((t for t in p["top"] if t["value"] != "(other)"),
                  key=lambda t: t["sample_share"] - t["warehouse_share"], default=None)  # fmt: skip
        text = (
            f"Profile: the sample's {DIMENSION_WORDS.get(dim, dim)} differ from our customers' "
            f"(Jensen-Shannon divergence {p['divergence']:.2f}, flagged from {threshold:.2f})"
        )
        if top:
            text += (
                f": {_pct(top['sample_share'])} of its values are {top['value']}, against "
                f"{_pct(top['warehouse_share'])} of ours"
            )
        out.append({"signal": "profile", "direction": "against", "text": text + "."})
    compared = {d: p for d, p in profile.items() if p.get("divergence") is not None}
    if compared and not flagged:
        worst = max(p["divergence"] for p in compared.values())
        words = ", ".join(DIMENSION_WORDS.get(d, d) for d in compared)
        text = (
            f"Profile: the sample's {words} are distributed like our customers' "
            f"(largest divergence {worst:.2f}, flagged from {threshold:.2f})."
        )
        out.append({"signal": "profile", "direction": "for", "text": text})
    claim = report.get("claimed_size") or {}
    if claim.get("impossible") is not None:
        n, have = claim["claimed_records"], claim["warehouse_customers"]
        if claim["impossible"]:
            text = (
                f"Claimed size: the seller claims {n:,} records, but we hold {have:,} customers: "
                f"impossible for our customer records, by {claim['excess']:,} "
                f"({claim['ratio']:.1f}× our customer base)."
            )
            out.append({"signal": "claimed_size", "direction": "against", "text": text})
        else:
            text = f"Claimed size: {n:,} records claimed, within our {have:,} customers."
            out.append({"signal": "claimed_size", "direction": "neutral", "text": text})
    return out


def _never_text(c: Mapping[str, Any]) -> str:
    where = f"column {c['column']}" + (f" '{c['header']}'" if c.get("header") else "")
    how = []
    if c.get("by_header"):
        how.append("by header")
    if c.get("by_content"):
        how.append(f"{_pct(c['content_share'])} of {c['values_checked']} values by content")
    return f"{c['kind']} ({where}: {', '.join(how) or 'by header'})"


def matching_verdict(report: Mapping[str, Any], rules: VerdictConf) -> dict[str, str]:
    """MATCH / NO_MATCH / INCONCLUSIVE from the matching counts alone.

    Exact keys decide first. Fuzzy matches (retyped names, reworded streets) count towards
    same-record lines only against their own chance baseline, since near-equal common names
    meet far more often by chance than equal ones."""
    parsed = report["sample"]["lines_parsed"]
    fields = report["fields"]
    ln = report["lines"]
    same = ln["same_record_2plus"]
    ident = ln.get("matched_unique_identifier", 0)
    if parsed == 0:
        return {"code": "INCONCLUSIVE", "text": "No line of the sample could be parsed."}
    same_rate, ident_rate = same / parsed, ident / parsed
    chance = ln.get("same_record_expected_by_chance", 0.0)
    same_fz = ln.get("same_record_2plus_with_fuzzy", same)
    chance_fz = ln.get("same_record_expected_with_fuzzy", chance)
    strong = {f: _exact(fields[f]) for f in fields if f != "name"}
    thresholds = (
        f"(thresholds {_pct(rules.match_same_record_rate)} same-record at more than "
        f"{rules.chance_factor:g}× chance, and {_pct(rules.match_identifier_rate)} e-mail/phone)"
    )
    if _above_chance(same, chance, parsed, rules) or ident_rate >= rules.match_identifier_rate:
        return {
            "code": "MATCH",
            "text": (
                f"{same} of {parsed} parsed lines ({_pct(same_rate)}) match one of our customers "
                f"exactly on two or more fields, where chance alone would give {chance:.1f}; "
                f"{ident} lines ({_pct(ident_rate)}) carry an e-mail or phone number we hold "
                f"{thresholds}. The sample contains our customers' data."
            ),
        }
    if same_fz > same and _above_chance(same_fz, chance_fz, parsed, rules):
        return {
            "code": "MATCH",
            "text": (
                f"{same_fz} of {parsed} parsed lines ({_pct(same_fz / parsed)}) match one of our "
                f"customers on two or more fields once retyped names and reworded addresses "
                f"count (fuzzy), where chance alone would give {chance_fz:.1f}; {same} of them "
                f"match exactly {thresholds}. The sample contains our customers' data, retyped."
            ),
        }
    fuzzy_at_chance = same_fz <= max(rules.chance_factor * chance_fz, same)
    if same == 0 and not any(strong.values()) and fuzzy_at_chance:
        names = _exact(fields.get("name", {}))
        near = sum(f.get("lines_matched_fuzzy", 0) for f in fields.values())
        return {
            "code": "NO_MATCH",
            "text": (
                f"Not a single one of {parsed} parsed lines matches our records exactly on e-mail, "
                f"phone or address, and no line matches one customer on two fields. "
                f"{names} lines share a name with some customer, as common names do by chance"
                + (
                    f"; {near} come close to a name or address (fuzzy) and {same_fz} to one "
                    f"customer on two fields, where chance alone would give {chance_fz:.1f}."
                    if near
                    else "."
                )
            ),
        }
    detail = ", ".join(f"{f}: {n}" for f, n in strong.items())
    return {
        "code": "INCONCLUSIVE",
        "text": (
            f"Some lines match ({detail}; {same} same-record lines, {_pct(same_rate)}, "
            f"chance alone: {chance:.1f}; with fuzzy matches {same_fz}, chance alone: "
            f"{chance_fz:.1f}), below the thresholds for a match {thresholds}. "
            "Review the evidence table."
        ),
    }


def _exact(field: Mapping[str, Any]) -> int:
    return field.get("lines_matched_exact", field.get("lines_matched", 0))


def build_report(
    run_id: str,
    sample: Mapping[str, int],
    fields: Mapping[str, Mapping[str, Any]],
    lines: Mapping[str, int],
    rules: VerdictConf,
    extra: Mapping[str, Any] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The report dict; `provenance` (canaries, claimed_size, recycled, profile, schema) takes
    part in the verdict, `extra` sections are only shown."""
    report: dict[str, Any] = {
        "run_id": run_id,
        "sample": dict(sample),
        "fields": {f: dict(v) for f, v in fields.items()},
        "lines": dict(lines),
        **dict(provenance or {}),
    }
    report["verdict"] = decide_verdict(report, rules)
    if extra:
        report.update(extra)
    return report


def to_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def field_table(report: Mapping[str, Any]) -> str:
    """The per-field table, as printed by `make run` and embedded in report.md."""
    rows = ["| field | lines with value | lines matched | match rate | exact | fuzzy | weak only "
            "| distinct keys matched |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, f in report["fields"].items():
        rows.append(
            f"| {name} | {f['lines_with_value']} | {f['lines_matched']} | "
            f"{_pct(f['match_rate'])} | {_exact(f)} | {f.get('lines_matched_fuzzy', 0)} | "
            f"{f.get('lines_matched_weak', 0)} | {f.get('distinct_keys_matched', 0)} |"
        )
    return "\n".join(rows)


def _md_section(title: str, header: str, align: str, rows: list[str]) -> list[str]:
    return [f"## {title}", "", header, align, *rows, ""] if rows else []


def blocking_section(blocking: list[Mapping[str, Any]]) -> list[str]:
    """Blocking diagnostics: pairs per rule and what was done about hot keys (hashes only)."""
    rows = [
        f"| {b['field']} | {b['candidate_pairs']} | {b['expanded_pairs']} | "
        f"{b['hot_keys']} | {b['action']} |"
        for b in blocking
    ]
    header = "| field | candidate pairs | pairs expanded | hot keys | action |"
    return _md_section("Blocking diagnostics", header, "|---|---:|---:|---:|---|", rows)


def fuzzy_blocking_section(rules: list[Mapping[str, Any]]) -> list[str]:
    """Fuzzy blocking rules: candidate pairs against the pair budget, and what was done."""
    rows = [
        f"| {r['rule']} | {r['field']} | {r['candidate_pairs']} | {r['pair_budget']} | "
        f"{r['pairs_run']} | {r['action']} | {r['note']} |"
        for r in rules
    ]
    header = "| rule | field | candidate pairs | budget | pairs run | action | note |"
    return _md_section("Fuzzy blocking", header, "|---|---|---:|---:|---:|---|---|", rows)


def _cell(value: Any) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def evidence_list(verdict: Mapping[str, Any]) -> list[str]:
    """The verdict's evidence items, one bullet each, canary first."""
    items = verdict.get("evidence") or []
    return [f"- **{e['signal']}** ({e['direction']}): {e['text']}" for e in items] + (
        [""] if items else []
    )


def provenance_markdown(report: Mapping[str, Any]) -> list[str]:
    """Canaries, claimed size, earlier samples, profile and schema fingerprints (counts only)."""
    out: list[str] = []
    c = report.get("canaries")
    if c is not None:
        out += ["## Canary records", ""]
        if c["lines"]:
            fields = ", ".join(f"{f}: {n}" for f, n in c["fields"].items())
            out += [
                f"**{c['lines']} line(s) match canary records** (fields: {fields}; canary "
                f"customer ids: {', '.join(c['canary_ids_hit'])}; lines: "
                f"{', '.join(map(str, c['line_numbers']))}).",
                "",
            ]
        else:
            out += [f"No line matches any of the {c['canary_ids_listed']} canary records.", ""]
    claim = report.get("claimed_size")
    if claim is not None:
        out += ["## Claimed size", ""]
        if claim.get("impossible") is None:
            out += [f"No claimed size given; we hold {claim['warehouse_customers']} customers.", ""]
        else:
            flag = "**impossible**" if claim["impossible"] else "possible"
            out += [
                f"- claimed records: {claim['claimed_records']}",
                f"- our customers: {claim['warehouse_customers']}",
                f"- {flag}" + (f": {claim['excess']} more than we hold" if claim["excess"] else ""),
                "",
            ]
    r = report.get("recycled")
    if r is not None:
        out += ["## Earlier samples (recycled)", ""]
        if not r["earlier_runs"]:
            out += ["No key of this sample was in an earlier sample.", ""]
        else:
            fields = sorted({f for e in r["earlier_runs"] for f in e["share"]})
            out += [
                f"Share of this sample's distinct keys seen in each earlier sample; RECYCLED from "
                f"{_pct(r['threshold'])} over {'/'.join(r['fields'])} "
                f"(at least {r['min_keys']} keys).",
                "",
                "| earlier run | ingested | " + " | ".join(fields) + " | overlap | its verdict |",
                "|---|---|" + "---:|" * len(fields) + "---:|---|",
            ]
            for e in r["earlier_runs"]:
                shares = " | ".join(_pct(e["share"][f]) if f in e["share"] else "" for f in fields)
                out.append(
                    f"| {_cell(e['run_id'])} | {_cell(e['ingested_at'])} | {shares} | "
                    f"{_pct(e['overlap'])} | {_cell(e['verdict'])} |"
                )
            out.append("")
    p = report.get("profile")
    if p is not None:
        out += [
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
                f"### {dim}: divergence {div}{flag}",
                "",
                "| value | sample | sample share | ours | our share |",
                "|---|---:|---:|---:|---:|",
            ]
            out += [
                f"| {_cell(t['value'])} | {t['sample_n']} | {_pct(t['sample_share'])} | "
                f"{t['warehouse_n']} | {_pct(t['warehouse_share'])} |"
                for t in d["top"]
            ]
            out.append("")
    sch = report.get("schema")
    if sch is not None and sch["columns"]:
        statuses = Counter(c["status"] for c in sch["columns"])
        counts = ", ".join(f"{k.replace('_', ' ')}: {n}" for k, n in statuses.items())
        out += [
            "## Schema fingerprint",
            "",
            f"Columns of the sample by kind ({counts}).",
            "",
            "| column | header | kind | by header | by content | share | status |",
            "|---|---|---|---|---|---:|---|",
        ]
        for col in sch["columns"]:
            share = "" if col["content_share"] is None else _pct(col["content_share"])
            out.append(
                f"| {_cell(col['column'])} | {_cell(col['header'])} | {_cell(col['kind'])} | "
                f"{_cell(col['by_header'])} | {_cell(col['by_content'])} | {share} | "
                f"{col['status']} |"
            )
        out.append("")
    return out


COUNTRY_SOURCE_TEXT = {
    "column": "a country column",
    "address": "the address's last part",
    "phone": "the phone's international prefix",
    "email": "the e-mail's country domain",
    "default": "sample.default_country",
    "none": "nothing (national phone numbers on them cannot be read)",
}


def country_markdown(countries: Mapping[str, Any] | None) -> list[str]:
    """Where the lines' countries came from: national phone numbers are read with them."""
    if not countries:
        return []
    by_source = countries.get("lines_by_source", {})
    told = [f"{COUNTRY_SOURCE_TEXT.get(k, k)}: {n}" for k, n in by_source.items() if n]
    top = ", ".join(f"{c} {n}" for c, n in list(countries.get("lines_by_country", {}).items())[:12])
    return [
        f"- country of each line told by: {'; '.join(told) or 'no line'}",
        f"- lines whose sources name different countries (kept as the first source says): "
        f"{countries.get('conflicts', 0)}",
        f"- lines per country: {top or 'none'}",
    ]


def to_markdown(report: Mapping[str, Any]) -> str:
    from jobs.quality import markdown_section

    s, ln, v = report["sample"], report["lines"], report["verdict"]
    parts = [
        f"# crosscheck report — run `{report['run_id']}`",
        "",
        f"## Verdict: **{v['code']}**",
        "",
        v["text"],
        "",
        *evidence_list(v),
        *provenance_markdown(report),
        "## Sample",
        "",
        f"- lines read: {s['lines_read']}",
        f"- lines parsed: {s['lines_parsed']}",
        f"- lines quarantined: {s['lines_quarantined']}"
        + (
            " (" + ", ".join(f"{k}: {n}" for k, n in s.get("quarantine_reasons", {}).items()) + ")"
            if s.get("quarantine_reasons")
            else ""
        ),
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
        "",
        *blocking_section(report.get("blocking", [])),
        *fuzzy_blocking_section(report.get("fuzzy_blocking", [])),
        markdown_section(report.get("quality", [])),
        "Evidence (line numbers, fields and customer ids) is in the `evidence` Delta table "
        f"under run_id `{report['run_id']}`. This report holds counts only.",
        "",
    ]
    return "\n".join(parts)
