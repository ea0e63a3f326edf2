"""The verdict against chance on generated data: a sample with 2 % planted real lines among
fabricated ones built from the same name pools is a MATCH, and the report shows how many
same-record lines chance alone would give; the numbers come from the generator's truth."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import copy_lakehouse, load_report, run_cli


@pytest.fixture(scope="module")
def two_percent(intl_demo, intl_index, tmp_path_factory):
    """1,000 lines, 2 % planted, against the multinational warehouse (the same seed gives the
    same warehouse: its index is built once for both modules)."""
    from tools.demo import generate

    out = tmp_path_factory.mktemp("two_percent")
    generate(out, customers=3000, sample_lines=1000, planted_share=0.02, broken=0,
             fuzzy_share=0.3, seed=13)  # fmt: skip
    lakehouse = copy_lakehouse(intl_index, out / "lakehouse")
    code = run_cli(
        "run", lakehouse, intl_demo / "warehouse", "--sample", str(out / "sample"),
        "--run-id", "two",
    )  # fmt: skip
    truth = json.loads((out / "truth.json").read_text())
    return code, load_report(lakehouse, "two"), truth, lakehouse


def test_two_percent_planted_is_a_match_well_above_chance(two_percent):
    code, report, truth, _ = two_percent
    assert code == 0
    planted = truth["kinds"]["planted"]
    assert 15 <= planted <= 25  # 2 % of 1000 lines
    lines = report["lines"]
    assert lines["same_record_2plus"] == truth["planted_ge2_exact"]
    assert lines["same_record_expected_by_chance"] < 1.0
    assert report["verdict"]["code"] == "MATCH"
    assert f"{lines['same_record_2plus']} of 1000 parsed lines" in report["verdict"]["text"]


def test_exact_and_fuzzy_counts_split_per_field(two_percent):
    _, report, truth, _ = two_percent
    for field, f in report["fields"].items():
        assert f["lines_matched"] == f["lines_matched_exact"] + f["lines_matched_fuzzy"]
        if field != "name":  # fabricated names collide with customers' by chance
            assert f["lines_matched_exact"] == truth["planted_exact"][field]
    # planted retyped addresses are found by the fuzzy comparison, not by exact keys
    assert (
        report["fields"]["address"]["lines_matched_fuzzy"]
        >= 0.95 * truth["planted_fuzzy"]["address"]
    )
    with_fuzzy = report["lines"]["same_record_2plus_with_fuzzy"]
    assert with_fuzzy >= report["lines"]["same_record_2plus"]


def test_report_shows_the_chance_baseline(two_percent):
    _, report, _, lakehouse = two_percent
    md = (lakehouse / "reports" / "two" / "report.md").read_text()
    assert "same-record lines expected by chance alone" in md
    assert "fuzzy matches included" in md
    assert [r["rule"] for r in report["fuzzy_blocking"]]
