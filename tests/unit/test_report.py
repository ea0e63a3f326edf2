"""Verdict rules and report rendering, on hand-made counts."""

from __future__ import annotations

import json

from jobs.render import html as html_report
from jobs.render.markdown import to_markdown
from jobs.settings import VerdictConf
from jobs.verdict import build_report, to_json

RULES = VerdictConf(match_same_record_rate=0.01, match_identifier_rate=0.01)


def fields(email=0, phone=0, name=0, address=0, with_value=1000):
    counts = {"email": email, "phone": phone, "name": name, "address": address}
    return {
        f: {"lines_with_value": with_value, "lines_matched": n, "match_rate": n / with_value}
        for f, n in counts.items()
    }


def report(flds, same=0, ident=0, parsed=1000):
    sample = {"lines_read": parsed + 5, "lines_parsed": parsed, "lines_quarantined": 5}
    lines = {"matched_any_field": 0, "same_record_2plus": same, "matched_unique_identifier": ident}
    return build_report("r1", sample, flds, lines, RULES)


def test_names_alone_are_no_match():
    rep = report(fields(name=240))
    assert rep["verdict"]["code"] == "NO_MATCH"
    assert "240 lines share a name" in rep["verdict"]["text"]


def test_same_record_above_threshold_is_match():
    rep = report(fields(email=30, phone=25, name=40), same=20, ident=30)
    assert rep["verdict"]["code"] == "MATCH"
    assert "20 of 1000" in rep["verdict"]["text"]


def test_few_identifier_matches_are_inconclusive():
    rep = report(fields(email=3), same=0, ident=3)
    assert rep["verdict"]["code"] == "INCONCLUSIVE"


def test_empty_sample_is_inconclusive():
    assert report(fields(), parsed=0)["verdict"]["code"] == "INCONCLUSIVE"


def test_json_and_markdown_render():
    rep = report(fields(email=30), same=20, ident=30)
    data = json.loads(to_json(rep))
    assert data["fields"]["email"]["lines_matched"] == 30
    md = to_markdown(rep)
    assert "## Verdict: **MATCH**" in md and "| email | 1000 | 30 |" in md


def test_same_record_at_chance_level_is_not_a_match():
    flds = fields(name=300, address=2)
    sample = {"lines_read": 1000, "lines_parsed": 1000, "lines_quarantined": 0}
    lines = {"matched_any_field": 300, "same_record_2plus": 12, "matched_unique_identifier": 0,
             "same_record_expected_by_chance": 10.0}  # fmt: skip
    rep = build_report("r", sample, flds, lines, RULES)
    assert rep["verdict"]["code"] == "INCONCLUSIVE"
    assert "chance alone: 10.0" in rep["verdict"]["text"]
    lines["same_record_expected_by_chance"] = 0.5
    assert build_report("r", sample, flds, lines, RULES)["verdict"]["code"] == "MATCH"


def linked_report(linked, by_chance, same=0, same_fz=0, names=0):
    """A retyped sample: few exact same-record lines, `linked` lines by the linkage model."""
    sample = {"lines_read": 1000, "lines_parsed": 1000, "lines_quarantined": 0}
    lines = {"matched_any_field": names, "same_record_2plus": same, "matched_unique_identifier": 0,
             "same_record_expected_by_chance": 0.2, "same_record_2plus_with_fuzzy": same_fz,
             "same_record_expected_with_fuzzy": 1.0, "linked": linked,
             "linked_by_chance": by_chance}  # fmt: skip
    return build_report("r", sample, fields(name=names), lines, RULES)


def test_linked_lines_well_above_their_chance_baseline_are_a_match():
    # 5 same-record lines (0.5 %) are below the 1 % rate; 400 linked lines against 3 at random
    rep = linked_report(linked=400, by_chance=3, same=5, same_fz=8, names=300)
    assert rep["verdict"]["code"] == "MATCH"
    assert "400 of 1000" in rep["verdict"]["text"] and "links 3 with" in rep["verdict"]["text"]
    assert "(record linkage): 400 of" in to_markdown(rep)
    assert "<b>400</b>lines linked to a customer" in html_report.render(rep)


def test_linked_lines_at_their_chance_baseline_are_no_match_evidence():
    # as many lines link at random as in the sample: chance, and nothing else matched
    rep = linked_report(linked=4, by_chance=4, names=300)
    assert rep["verdict"]["code"] == "NO_MATCH"
    assert "links 4 lines, as it links 4" in rep["verdict"]["text"]


def test_linked_lines_above_chance_but_below_the_rate_forbid_no_match():
    # 6 linked lines (0.6 %) where 0 link at random: not a match, and not "not a single line"
    rep = linked_report(linked=6, by_chance=0, names=300)
    assert rep["verdict"]["code"] == "INCONCLUSIVE"
    assert "linked lines 6, at random 0" in rep["verdict"]["text"]


# ---- provenance in the verdict -------------------------------------------------------------


def provenance(canary_lines=0, recycled=None, never=(), flagged=False, claimed=None):
    """Report sections as the pipeline writes them, with hand-picked numbers."""
    sections = {
        "canaries": {"canary_ids_listed": 2, "lines": canary_lines,
                     "line_numbers": list(range(7, 7 + canary_lines)),
                     "fields": {"email": canary_lines} if canary_lines else {},
                     "canary_ids_hit": ["4711"] if canary_lines else []},
        "recycled": {"threshold": 0.5, "fields": ["email", "phone"], "min_keys": 10,
                     "recycled_from": None, "earlier_runs": []},
        "claimed_size": {"claimed_records": claimed, "warehouse_customers": 3000,
                         "impossible": None if claimed is None else claimed > 3000,
                         "excess": max((claimed or 0) - 3000, 0),
                         "ratio": (claimed or 0) / 3000},
        "schema": {"columns": [
            {"column": "1", "header": "Name", "kind": "name", "by_header": "name",
             "by_content": None, "content_share": None, "values_checked": 100, "status": "stored"},
            *[{"column": str(i + 2), "header": h, "kind": k, "by_header": k, "by_content": k,
               "content_share": 1.0, "values_checked": 100, "status": "never_collected"}
              for i, (h, k) in enumerate(never)]]},
        "profile": {"min_count": 5, "divergence_threshold": 0.2, "dimensions": {
            "email_domain": {"divergence": 0.45 if flagged else 0.01, "flagged": flagged,
                             "sample_values": 100, "warehouse_values": 3000,
                             "top": [{"value": "seznam.cz", "sample_n": 60, "sample_share": 0.6,
                                      "warehouse_n": 0, "warehouse_share": 0.0}]}}},
    }  # fmt: skip
    if recycled:
        run_id, overlap, verdict = recycled
        sections["recycled"]["recycled_from"] = run_id
        sections["recycled"]["earlier_runs"] = [{
            "run_id": run_id, "ingested_at": "2025-03-01T10:00:00", "share": {"email": overlap,
            "phone": overlap}, "overlap": overlap, "overlap_keys": [int(overlap * 200), 200],
            "verdict": verdict, "evidence_verdict": verdict}]  # fmt: skip
    return sections


def prov_report(flds, sections, same=0, ident=0, parsed=1000):
    sample = {"lines_read": parsed, "lines_parsed": parsed, "lines_quarantined": 0}
    lines = {
        "matched_any_field": ident,
        "same_record_2plus": same,
        "matched_unique_identifier": ident,
    }
    return build_report("r2", sample, flds, lines, RULES, None, sections)


def test_canary_hit_is_match_and_stated_first():
    rep = prov_report(fields(email=1), provenance(canary_lines=1), ident=1)
    v = rep["verdict"]
    assert v["code"] == "MATCH" and v["evidence_code"] == "MATCH"
    assert v["text"].startswith("Canary: 1 sample line(s) match 1 of our 2 canary record(s)")
    assert "customer id 4711" in v["text"] and "Some lines match" in v["text"]
    assert [e["signal"] for e in v["evidence"]][0] == "canary"
    without = prov_report(fields(email=1), provenance(), ident=1)["verdict"]
    assert without["code"] == "INCONCLUSIVE" and not without["text"].startswith("Canary")


def test_recycled_names_the_earlier_run_and_keeps_the_evidence_code():
    rep = prov_report(fields(name=240), provenance(recycled=("run-2025", 0.95, "MATCH")))
    v = rep["verdict"]
    assert v["code"] == "RECYCLED" and v["evidence_code"] == "NO_MATCH"
    assert "95.00 % of this sample's email/phone keys (190 of 200)" in v["text"]
    assert "sample run run-2025, ingested 2025-03-01" in v["text"]
    assert "that run's verdict was MATCH" in v["text"] and "still our data" in v["text"]
    assert "On its own, this sample's evidence says NO_MATCH" in v["text"]
    fabricated_again = prov_report(fields(), provenance(recycled=("run-x", 1.0, "NO_MATCH")))
    assert fabricated_again["verdict"]["code"] == "RECYCLED"
    assert "still our data" not in fabricated_again["verdict"]["text"]


def test_recycled_with_a_canary_states_the_canary_first():
    rep = prov_report(
        fields(email=1), provenance(canary_lines=1, recycled=("a", 0.8, "MATCH")), ident=1
    )
    v = rep["verdict"]
    assert v["code"] == "RECYCLED" and v["evidence_code"] == "MATCH"
    assert v["text"].index("Canary:") < v["text"].index("Recycled:")


def test_schema_profile_and_claim_are_supporting_evidence_only():
    sections = provenance(never=[("Passwort", "password")], flagged=True, claimed=1_000_000)
    rep = prov_report(fields(name=240), sections)
    v = rep["verdict"]
    assert v["code"] == "NO_MATCH"
    assert (
        "1 are kinds we never collect: password (column 2 'Passwort': by header, "
        "100.00 % of 100 values by content)" in v["text"]
    )
    assert "60.00 % of its values are seznam.cz, against 0.00 % of ours" in v["text"]
    assert "claims 1,000,000 records, but we hold 3,000 customers: impossible" in v["text"]
    assert "by 997,000" in v["text"]
    assert {e["signal"]: e["direction"] for e in v["evidence"]} == {
        "schema": "against", "profile": "against", "claimed_size": "against",
    }  # fmt: skip
    calm = prov_report(fields(name=240), provenance(claimed=10))["verdict"]["evidence"]
    assert {e["signal"]: e["direction"] for e in calm} == {
        "schema": "for", "profile": "for", "claimed_size": "neutral",
    }  # fmt: skip


def test_provenance_sections_render_in_markdown_and_html():
    from jobs.render.html import render

    sections = provenance(canary_lines=1, recycled=("a", 0.8, "MATCH"),
                          never=[("Passwort", "password")],
                          flagged=True, claimed=5000)  # fmt: skip
    rep = prov_report(fields(email=1), sections, ident=1)
    md = to_markdown(rep)
    order = ["## Verdict: **RECYCLED**", "## Canary records", "## Claimed size",
             "## Earlier samples (recycled)", "## Profile fingerprint", "## Schema fingerprint",
             "## Matches per field"]  # fmt: skip
    assert [md.index(h) for h in order] == sorted(md.index(h) for h in order)
    assert "| a | 2025-03-01T10:00:00 | 80.00 % | 80.00 % | 80.00 % | MATCH |" in md
    assert "| 2 | Passwort | password | password | password | 100.00 % | never_collected |" in md
    page = render(rep)
    assert page.count("<svg") == 2 and ">RECYCLED<" in page
    heads = ["Canary records", "Claimed size", "Earlier samples (recycled)", "Profile fingerprint",
             "Schema fingerprint", "Matches per field"]  # fmt: skip
    assert [page.index(f"<h2>{h}</h2>") for h in heads] == sorted(
        page.index(f"<h2>{h}</h2>") for h in heads
    )
    assert "never collected" in page and "Impossible for our customer records." in page


def test_mostly_unparsed_sample_is_never_no_match():
    sample = {"lines_read": 1615, "lines_parsed": 24, "lines_quarantined": 1591,
              "quarantine_reasons": {"invalid_utf8": 1500, "wrong_field_count": 91}}  # fmt: skip
    lines = {"matched_any_field": 0, "same_record_2plus": 0, "matched_unique_identifier": 0}
    rep = build_report("r", sample, fields(with_value=24), lines, RULES)
    assert rep["verdict"]["code"] == "INCONCLUSIVE"
    text = rep["verdict"]["text"]
    assert "1591 of 1615 lines" in text and "invalid_utf8 1500" in text
    sample.update(lines_parsed=1000, lines_quarantined=615)
    assert build_report("r", sample, fields(), lines, RULES)["verdict"]["code"] == "NO_MATCH"


def blocking_row(rule, action, hot_pairs=0, skipped_subkey_pairs=0):
    return {"rule": rule, "action": action, "hot_pairs": hot_pairs,
            "skipped_subkey_pairs": skipped_subkey_pairs}  # fmt: skip


def test_no_match_says_how_many_fuzzy_pairs_were_left_uncompared():
    """Hot blocks past a rule's pair budget are skipped (rule `skip`) or split with sub-keys
    skipped (`split_skip`): a NO_MATCH then names them, a MATCH does not need to."""
    sample = {"lines_read": 1005, "lines_parsed": 1000, "lines_quarantined": 5}
    lines = {"matched_any_field": 0, "same_record_2plus": 0, "matched_unique_identifier": 0}
    blocking = [blocking_row("name_prefix", "split_skip", 9_000, skipped_subkey_pairs=700),
                blocking_row("street_number", "skip", hot_pairs=500),
                blocking_row("email_local", "run"),
                blocking_row("phone_tail", "split", hot_pairs=40)]  # fmt: skip
    extra = {"fuzzy_blocking": blocking}
    text = build_report("r", sample, fields(), lines, RULES, extra)["verdict"]["text"]
    assert "left 1,200 candidate pairs uncompared" in text
    assert "(name_prefix, street_number)" in text
    within = [blocking_row("email_local", "run"), blocking_row("phone_tail", "split", 40)]
    text = build_report("r", sample, fields(), lines, RULES, {"fuzzy_blocking": within})
    assert text["verdict"]["code"] == "NO_MATCH"
    assert "uncompared" not in text["verdict"]["text"]
    matched = {**lines, "same_record_2plus": 300}
    rep = build_report("r", sample, fields(email=300), matched, RULES, extra)
    assert rep["verdict"]["code"] == "MATCH" and "uncompared" not in rep["verdict"]["text"]
