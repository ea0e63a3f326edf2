"""The report model and the verdict rules: what report.json holds and how the verdict is decided.

Inputs are counts only; nothing here ever sees a raw or hashed value. Rendering for people
(report.md, report.html) lives in jobs.render.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from jobs.settings import VerdictConf

UNIQUE_IDENTIFIERS = ("email", "phone")


def pct(x: float) -> str:
    """A share as the reports write it: 0.0123 -> "1.23 %"."""
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
    per_field = ", ".join(f"{f} {pct(share)}" for f, share in best["share"].items())
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
            f"Recycled: {pct(best['overlap'])} of this sample's {'/'.join(r['fields'])} keys "
            f"({seen} of {total}) were already in sample run {best['run_id']}, ingested "
            f"{str(best['ingested_at'])[:10]} (threshold {pct(r['threshold'])}; per field: "
            f"{per_field}); {was}.{ours}"
        ),
    }


DIMENSION_WORDS = {"email_domain": "e-mail domains", "phone_code": "phone calling codes",
                   "country": "countries"}  # fmt: skip


def supporting_evidence(report: Mapping[str, Any]) -> list[dict[str, str]]:
    """Schema, profile and claimed-size findings in numbers, each for or against origin."""
    return (
        _schema_evidence(report.get("schema") or {})
        + _profile_evidence(report.get("profile") or {})
        + _claim_evidence(report.get("claimed_size") or {})
    )


def _schema_evidence(schema: Mapping[str, Any]) -> list[dict[str, str]]:
    columns = schema.get("columns") or []
    if not columns:
        return []
    stored = [c for c in columns if c["status"] == "stored"]
    never = [c for c in columns if c["status"] == "never_collected"]
    kinds = ", ".join(sorted({c["kind"] for c in stored})) or "none"
    text = f"Schema: {len(stored)} of {len(columns)} columns are kinds we store ({kinds})"
    if never:
        text += f"; {len(never)} are kinds we never collect: " + "; ".join(
            _never_text(c) for c in never
        )
        text += ". Data we never held did not come from our systems."
    return [{"signal": "schema", "direction": "against" if never else "for", "text": text + "."}]


def _profile_evidence(profile_section: Mapping[str, Any]) -> list[dict[str, str]]:
    """One item per flagged dimension, or one saying all compared dimensions look like ours."""
    out = []
    profile = profile_section.get("dimensions") or {}
    threshold = profile_section.get("divergence_threshold")
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
                f": {pct(top['sample_share'])} of its values are {top['value']}, against "
                f"{pct(top['warehouse_share'])} of ours"
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
    return out


def _claim_evidence(claim: Mapping[str, Any]) -> list[dict[str, str]]:
    if claim.get("impossible") is None:
        return []
    n, have = claim["claimed_records"], claim["warehouse_customers"]
    if claim["impossible"]:
        text = (
            f"Claimed size: the seller claims {n:,} records, but we hold {have:,} customers: "
            f"impossible for our customer records, by {claim['excess']:,} "
            f"({claim['ratio']:.1f}× our customer base)."
        )
        return [{"signal": "claimed_size", "direction": "against", "text": text}]
    text = f"Claimed size: {n:,} records claimed, within our {have:,} customers."
    return [{"signal": "claimed_size", "direction": "neutral", "text": text}]


def _never_text(c: Mapping[str, Any]) -> str:
    where = f"column {c['column']}" + (f" '{c['header']}'" if c.get("header") else "")
    how = []
    if c.get("by_header"):
        how.append("by header")
    if c.get("by_content"):
        how.append(f"{pct(c['content_share'])} of {c['values_checked']} values by content")
    return f"{c['kind']} ({where}: {', '.join(how) or 'by header'})"


class LineCounts(NamedTuple):
    """The line counts the matching verdict weighs, each with its chance baseline."""

    parsed: int
    same: int
    ident: int
    chance: float
    same_fz: int
    chance_fz: float
    linked: int
    chance_link: float


def matching_verdict(report: Mapping[str, Any], rules: VerdictConf) -> dict[str, str]:
    """MATCH / NO_MATCH / INCONCLUSIVE from the matching counts alone.

    Exact keys decide first. Fuzzy matches (retyped names, reworded streets) count towards
    same-record lines only against their own chance baseline, since near-equal common names
    meet far more often by chance than equal ones. Lines linked by the record-level model
    (every field's agreement weighed together) count last, against what the same model links
    with the sample's fields re-paired at random."""
    parsed = report["sample"]["lines_parsed"]
    fields = report["fields"]
    ln = report["lines"]
    same = ln["same_record_2plus"]
    ident = ln.get("matched_unique_identifier", 0)
    if parsed == 0:
        return {"code": "INCONCLUSIVE", "text": "No line of the sample could be parsed."}
    chance = ln.get("same_record_expected_by_chance", 0.0)
    c = LineCounts(parsed, same, ident, chance, ln.get("same_record_2plus_with_fuzzy", same),
                   ln.get("same_record_expected_with_fuzzy", chance), ln.get("linked") or 0,
                   float(ln.get("linked_by_chance") or 0))  # fmt: skip
    strong = {f: exact_lines(fields[f]) for f in fields if f != "name"}
    thresholds = (
        f"(thresholds {pct(rules.match_same_record_rate)} same-record at more than "
        f"{rules.chance_factor:g}× chance, and {pct(rules.match_identifier_rate)} e-mail/phone)"
    )
    if _above_chance(same, chance, parsed, rules) or ident / parsed >= rules.match_identifier_rate:
        return {"code": "MATCH", "text": _match_text(c, "exact", thresholds)}
    if c.same_fz > same and _above_chance(c.same_fz, c.chance_fz, parsed, rules):
        return {"code": "MATCH", "text": _match_text(c, "fuzzy", thresholds)}
    if c.linked > max(same, c.same_fz) and _above_chance(c.linked, c.chance_link, parsed, rules):
        return {"code": "MATCH", "text": _match_text(c, "linked", thresholds)}
    fuzzy_at_chance = c.same_fz <= max(rules.chance_factor * c.chance_fz, same)
    linked_at_chance = c.linked <= max(rules.chance_factor * c.chance_link, same)
    if same == 0 and not any(strong.values()) and fuzzy_at_chance and linked_at_chance:
        unread = _mostly_unparsed(report["sample"], rules)
        if unread:
            return {"code": "INCONCLUSIVE", "text": unread}
        skipped = skipped_pairs_text(report.get("fuzzy_blocking") or [])
        text = _no_match_text(c, fields) + (f" {skipped}" if skipped else "")
        return {"code": "NO_MATCH", "text": text}
    return {"code": "INCONCLUSIVE", "text": _inconclusive_text(c, strong, thresholds)}


def _mostly_unparsed(sample: Mapping[str, Any], rules: VerdictConf) -> str | None:
    """Nothing matched, but most of the sample was never read: that proves nothing either way
    (random bytes read as text once gave a NO_MATCH)."""
    read, held = sample.get("lines_read") or 0, sample.get("lines_quarantined") or 0
    if not read or held / read <= rules.max_unparsed_share:
        return None
    reasons = sample.get("quarantine_reasons") or {}
    top = ", ".join(f"{r} {n}" for r, n in sorted(reasons.items(), key=lambda x: -x[1])[:3])
    return (
        f"No line matches our records, but {held} of {read} lines ({pct(held / read)}) could "
        f"not be parsed{f' ({top})' if top else ''}, more than "
        f"{pct(rules.max_unparsed_share)}: too little of the sample was read to say it does "
        "not come from us. Review sample_quarantine (sample.encoding, sample.mapping) and "
        "re-run with the same run id."
    )


def _match_text(c: LineCounts, rule: str, thresholds: str) -> str:
    """The MATCH sentence of the rule that decided: exact, fuzzy or linked lines."""
    n, how, baseline, rest = {
        "exact": (c.same, "match one of our customers exactly on two or more fields",
                  f"chance alone would give {c.chance:.1f}",
                  f"{c.ident} lines ({pct(c.ident / c.parsed)}) carry an e-mail or phone number "
                  "we hold"),
        "fuzzy": (c.same_fz, "match one of our customers on two or more fields once retyped "
                  "names and reworded addresses count (fuzzy)",
                  f"chance alone would give {c.chance_fz:.1f}", f"{c.same} of them match exactly"),
        "linked": (c.linked, "are linked to one of our customers when every field's agreement "
                   "is weighed together (record linkage)",
                   f"the same model links {c.chance_link:.0f} with the fields re-paired at random "
                   "across lines",
                   f"{c.same_fz} match one customer on two fields exactly or fuzzily, {c.same} "
                   "exactly"),
    }[rule]  # fmt: skip
    retyped = "" if rule == "exact" else ", retyped"
    return (
        f"{n} of {c.parsed} parsed lines ({pct(n / c.parsed)}) {how}, where {baseline}; {rest} "
        f"{thresholds}. The sample contains our customers' data{retyped}."
    )


def _no_match_text(c: LineCounts, fields: Mapping[str, Mapping[str, Any]]) -> str:
    names = exact_lines(fields.get("name", {}))
    near = sum(f.get("lines_matched_fuzzy", 0) for f in fields.values())
    return (
        f"Not a single one of {c.parsed} parsed lines matches our records exactly on e-mail, "
        f"phone or address, and no line matches one customer on two fields. "
        f"{names} lines share a name with some customer, as common names do by chance"
        + (
            f"; {near} come close to a name or address (fuzzy) and {c.same_fz} to one "
            f"customer on two fields, where chance alone would give {c.chance_fz:.1f}."
            if near
            else "."
        )
        + (
            f" The record-level model links {c.linked} lines, as it links "
            f"{c.chance_link:.0f} with the fields re-paired at random."
            if c.linked
            else ""
        )
    )


def _inconclusive_text(c: LineCounts, strong: Mapping[str, int], thresholds: str) -> str:
    detail = ", ".join(f"{f}: {n}" for f, n in strong.items())
    return (
        f"Some lines match ({detail}; {c.same} same-record lines, {pct(c.same / c.parsed)}, "
        f"chance alone: {c.chance:.1f}; with fuzzy matches {c.same_fz}, chance alone: "
        f"{c.chance_fz:.1f}; linked lines {c.linked}, at random {c.chance_link:.0f}), below the "
        f"thresholds for a match {thresholds}. "
        "Review the evidence table."
    )


def exact_lines(field: Mapping[str, Any]) -> int:
    """Lines matched on exact keys; reports from before fuzzy matching have only the total."""
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
    part in the verdict; of the `extra` sections, shown after it, only `fuzzy_blocking` is
    read by it (a NO_MATCH names the fuzzy pairs left uncompared)."""
    report: dict[str, Any] = {
        "run_id": run_id,
        "sample": dict(sample),
        "fields": {f: dict(v) for f, v in fields.items()},
        "lines": dict(lines),
        **dict(provenance or {}),
    }
    report["verdict"] = decide_verdict({**report, **(extra or {})}, rules)
    if extra:
        report.update(extra)
    return report


def skipped_pairs_text(fuzzy_blocking: Sequence[Mapping[str, Any]]) -> str | None:
    """A NO_MATCH says so when fuzzy matching left candidate pairs uncompared: a rule's hot
    blocks past its `pair_budget` (which a sample large against the index reaches first)."""
    skipped = {
        r["rule"]: int(r.get("hot_pairs") or 0)
        if r.get("action") == "skip"
        else int(r.get("skipped_subkey_pairs") or 0)
        for r in fuzzy_blocking
        if r.get("action") in ("skip", "split_skip")
    }
    total = sum(skipped.values())
    if not total:
        return None
    return (
        f"Fuzzy matching left {total:,} candidate pairs uncompared in blocks larger than their "
        f"rule's pair_budget ({', '.join(sorted(r for r, n in skipped.items() if n))}): retyped "
        "lines could hide there. Raise pair_budget in conf/matching.yaml and re-run to "
        "compare them."
    )


def to_json(report: Mapping[str, Any]) -> str:
    """report.json: key order kept, non-ASCII kept readable."""
    return json.dumps(report, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
