"""Verdict rules and report rendering, on hand-made counts."""

from __future__ import annotations

import json

from jobs.config import VerdictConf
from jobs.report import build_report, to_json, to_markdown

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
