"""The verdict and the reports people read: report.json for machines, report.md for humans.

Inputs are counts only; nothing here ever sees a raw or hashed value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jobs.config import VerdictConf

UNIQUE_IDENTIFIERS = ("email", "phone")


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


def _above_chance(same: int, chance: float, parsed: int, rules: VerdictConf) -> bool:
    return same / parsed >= rules.match_same_record_rate and same > rules.chance_factor * chance


def decide_verdict(report: Mapping[str, Any], rules: VerdictConf) -> dict[str, str]:
    """MATCH / NO_MATCH / INCONCLUSIVE with the numbers that decided it.

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
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "run_id": run_id,
        "sample": dict(sample),
        "fields": {f: dict(v) for f, v in fields.items()},
        "lines": dict(lines),
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


def blocking_section(blocking: list[Mapping[str, Any]]) -> list[str]:
    """Blocking diagnostics: pairs per rule and what was done about hot keys (hashes only)."""
    if not blocking:
        return []
    rows = ["## Blocking diagnostics", "",
            "| field | candidate pairs | pairs expanded | hot keys | action |",
            "|---|---:|---:|---:|---|"]  # fmt: skip
    for b in blocking:
        rows.append(
            f"| {b['field']} | {b['candidate_pairs']} | {b['expanded_pairs']} | "
            f"{b['hot_keys']} | {b['action']} |"
        )
    return [*rows, ""]


def fuzzy_blocking_section(rules: list[Mapping[str, Any]]) -> list[str]:
    """Fuzzy blocking rules: candidate pairs against the pair budget, and what was done."""
    if not rules:
        return []
    rows = ["## Fuzzy blocking", "",
            "| rule | field | candidate pairs | budget | pairs run | action | note |",
            "|---|---|---:|---:|---:|---|---|"]  # fmt: skip
    for r in rules:
        rows.append(
            f"| {r['rule']} | {r['field']} | {r['candidate_pairs']} | {r['pair_budget']} | "
            f"{r['pairs_run']} | {r['action']} | {r['note']} |"
        )
    return [*rows, ""]


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
