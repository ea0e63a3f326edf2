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


def decide_verdict(report: Mapping[str, Any], rules: VerdictConf) -> dict[str, str]:
    """MATCH / NO_MATCH / INCONCLUSIVE with the numbers that decided it."""
    parsed = report["sample"]["lines_parsed"]
    fields = report["fields"]
    same = report["lines"]["same_record_2plus"]
    ident = report["lines"].get("matched_unique_identifier", 0)
    if parsed == 0:
        return {"code": "INCONCLUSIVE", "text": "No line of the sample could be parsed."}
    same_rate, ident_rate = same / parsed, ident / parsed
    chance = report["lines"].get("same_record_expected_by_chance", 0.0)
    above_chance = same > rules.chance_factor * chance
    strong = {f: fields[f]["lines_matched"] for f in fields if f != "name"}
    if (same_rate >= rules.match_same_record_rate and above_chance) or (
        ident_rate >= rules.match_identifier_rate
    ):
        return {
            "code": "MATCH",
            "text": (
                f"{same} of {parsed} parsed lines ({_pct(same_rate)}) match one of our customers "
                f"on two or more fields, where chance alone would give {chance:.1f}; {ident} lines "
                f"({_pct(ident_rate)}) carry an e-mail or phone number we hold (thresholds "
                f"{_pct(rules.match_same_record_rate)} and {_pct(rules.match_identifier_rate)}). "
                "The sample contains our customers' data."
            ),
        }
    if same == 0 and not any(strong.values()):
        names = fields.get("name", {}).get("lines_matched", 0)
        return {
            "code": "NO_MATCH",
            "text": (
                f"Not a single one of {parsed} parsed lines matches our records on e-mail, phone "
                f"or address, and no line matches one customer on two fields. "
                f"{names} lines share a name with some customer, as common names do by chance."
            ),
        }
    detail = ", ".join(f"{f}: {n}" for f, n in strong.items())
    return {
        "code": "INCONCLUSIVE",
        "text": (
            f"Some lines match ({detail}; {same} same-record lines, {_pct(same_rate)}, "
            f"chance alone: {chance:.1f}), "
            f"below the thresholds for a match ({_pct(rules.match_same_record_rate)} same-record, "
            f"{_pct(rules.match_identifier_rate)} e-mail/phone). Review the evidence table."
        ),
    }


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
    rows = ["| field | lines with value | lines matched | match rate | distinct keys matched |",
            "|---|---:|---:|---:|---:|"]  # fmt: skip
    for name, f in report["fields"].items():
        rows.append(
            f"| {name} | {f['lines_with_value']} | {f['lines_matched']} | "
            f"{_pct(f['match_rate'])} | {f.get('distinct_keys_matched', 0)} |"
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
        "## Lines",
        "",
        f"- matching at least one field: {ln['matched_any_field']}",
        f"- matching one customer on two or more fields: {ln['same_record_2plus']}",
        f"- matching on e-mail or phone: {ln.get('matched_unique_identifier', 0)}",
        f"- same-record lines expected by chance alone: "
        f"{ln.get('same_record_expected_by_chance', 0.0):.2f}",
        "",
        *blocking_section(report.get("blocking", [])),
        markdown_section(report.get("quality", [])),
        "Evidence (line numbers, fields and customer ids) is in the `evidence` Delta table "
        f"under run_id `{report['run_id']}`. This report holds counts only.",
        "",
    ]
    return "\n".join(parts)
