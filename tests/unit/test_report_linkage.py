"""The report's record-linkage section on a hand-made model: the model table, example links
whose terms add up to their match weight, and their Markdown tables and SVG waterfalls.

The model's weights are whole bits so every sum is exact: prior 0.2 = log2(0.2 / 0.8) = -2;
email else -3, exact +3; name else -2, dice_0.8 +1, exact +4."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from jobs.render import html as html_report
from jobs.render.charts import WATERFALL, waterfall_chart
from jobs.render.linkage import linkage_section, pick_examples, waterfall_steps
from jobs.render.markdown import to_markdown
from tests.unit.test_report import fields, report

HOSTILE = "<script>alert(1)</script>\x1b[31m|x"


def model_rows(name_exact: str = "exact") -> list[dict]:
    """linkage_model rows as Delta gives them back: in no particular order."""
    rows = [("email", 0, "else", 0.1, 0.8, -3.0), ("name", 2, name_exact, 0.6, 0.0375, 4.0),
            ("email", 1, "exact", 0.9, 0.1125, 3.0), ("name", 0, "else", 0.2, 0.8, -2.0),
            ("name", 1, "dice_0.8", 0.2, 0.1, 1.0)]  # fmt: skip
    return [
        {"field": f, "level": lv, "level_name": n, "m": m, "u": u, "weight": w, "prior": 0.2,
         "em_iterations": 7}
        for f, lv, n, m, u, w in rows
    ]  # fmt: skip


def link(line: int, email: int | None, name: int | None, weight: float) -> dict:
    """A line_links row as the report reads it, a customer id included to show it is dropped."""
    return {"line_number": line, "customer_id": f"C-47{line:02d}", "match_weight": weight,
            "match_probability": 1 / (1 + 2**-weight),
            "levels": {"email": email, "name": name}}  # fmt: skip


LINKS = [
    link(7, 1, 1, 2.0),  # -2 + 3 + 1
    link(3, -1, 2, 2.0),  # -2 + 0 (email missing) + 4
    link(9, 0, 2, -1.0),  # -2 - 3 + 4
    link(12, 1, 2, 5.0),  # -2 + 3 + 4
    link(5, None, 0, -4.0),  # -2 + 0 (email not recorded) - 2
]


def section(**kw) -> dict:
    return linkage_section(model_rows(**kw), LINKS, 0.8, order=("name", "email"))


def test_strongest_link_first_then_the_weakest_ties_by_line_number():
    assert [r["line_number"] for r in pick_examples(LINKS, 3)] == [12, 5, 9]
    assert [r["line_number"] for r in pick_examples(LINKS, 5)] == [12, 5, 9, 3, 7]
    assert [r["line_number"] for r in pick_examples(reversed(LINKS), 5)] == [12, 5, 9, 3, 7]
    assert pick_examples([], 5) == [] and pick_examples(LINKS, 0) == []


def test_model_table_in_conf_order_best_level_first():
    sec = section()
    assert [(r["field"], r["level_name"], r["weight"]) for r in sec["model"]] == [
        ("name", "exact", 4.0), ("name", "dice_0.8", 1.0), ("name", "else", -2.0),
        ("email", "exact", 3.0), ("email", "else", -3.0),
    ]  # fmt: skip
    assert sec["model"][0] == {"field": "name", "level": 2, "level_name": "exact", "m": 0.6,
                               "u": 0.0375, "weight": 4.0}  # fmt: skip
    assert (sec["prior"], sec["prior_weight"], sec["em_iterations"]) == (0.2, -2.0, 7)
    assert (sec["threshold"], sec["threshold_weight"]) == (0.8, 2.0)  # log2(0.8 / 0.2)


def test_each_example_adds_up_to_its_match_weight():
    examples = section()["examples"]
    assert [e["line_number"] for e in examples] == [12, 5, 9, 3, 7]
    for e in examples:
        assert e["prior_weight"] + sum(t["weight"] for t in e["fields"]) == e["match_weight"]
    assert examples[0] == {
        "line_number": 12, "match_probability": 0.969697, "match_weight": 5.0,
        "prior_weight": -2.0,
        "fields": [{"field": "name", "level": 2, "level_name": "exact", "weight": 4.0},
                   {"field": "email", "level": 1, "level_name": "exact", "weight": 3.0}],
    }  # fmt: skip


def test_else_weighs_against_missing_and_unrecorded_weigh_nothing():
    examples = section()["examples"]
    by_line = {e["line_number"]: {t["field"]: t for t in e["fields"]} for e in examples}
    assert by_line[9]["email"] == {"field": "email", "level": 0, "level_name": "else",
                                   "weight": -3.0}  # fmt: skip
    missing = {"field": "email", "level": -1, "level_name": "missing", "weight": 0.0}
    assert by_line[3]["email"] == missing and by_line[5]["email"] == missing
    # a level the model does not hold weighs nothing, as in the weight the link was scored with
    odd = linkage_section(model_rows(), [link(1, 1, 9, 1.0)], 0.8)["examples"][0]
    assert {t["field"]: t["level_name"] for t in odd["fields"]} == {"email": "exact",
                                                                    "name": "missing"}  # fmt: skip


def test_rounded_terms_still_add_up_to_the_match_weight():
    """Three fields of 0.00004 bits each, prior 0.5 (0 bits): each rounds to 0.0000 alone, their
    sum 0.00012 to 0.0001. The terms are steps between rounded running totals (0.00004 ->
    0.0000, 0.00008 -> 0.0001, 0.00012 -> 0.0001), so the shown terms add up to 0.0001."""
    rows = [{"field": f, "level": lv, "level_name": n, "m": 0.5, "u": 0.5, "weight": w,
             "prior": 0.5, "em_iterations": 0}
            for f in "abc" for lv, n, w in ((0, "else", -1.0), (1, "exact", 0.00004))]  # fmt: skip
    one = {"line_number": 1, "match_weight": 0.00012, "match_probability": 0.5,
           "levels": {"a": 1, "b": 1, "c": 1}}  # fmt: skip
    ex = linkage_section(rows, [one], 0.5, order="abc")["examples"][0]
    assert [t["weight"] for t in ex["fields"]] == [0.0, 0.0001, 0.0]
    assert (ex["prior_weight"], ex["match_weight"]) == (0.0, 0.0001)
    assert [s[4] for s in waterfall_steps(ex)] == [0.0, 0.0, 0.0001, 0.0001]


def test_no_customer_id_in_the_section():
    text = json.dumps(section())
    assert "customer_id" not in text and "C-47" not in text


def test_no_model_no_section():
    assert linkage_section([], LINKS, 0.95) == {}
    assert linkage_section(model_rows(), [], 0.95)["examples"] == []
    rep = report(fields(email=3), ident=3)
    assert "Record linkage" not in to_markdown(rep)
    assert "Record linkage" not in html_report.render(rep) and "<svg" in html_report.render(rep)


def test_waterfall_steps_run_from_the_prior_to_the_match_weight():
    steps = waterfall_steps(section()["examples"][2])  # line 9
    assert steps == [("prior", "", -2.0, 0.0, -2.0), ("name", "exact", 4.0, -2.0, 2.0),
                     ("email", "else", -3.0, 2.0, -1.0)]  # fmt: skip


def linkage_report(**kw) -> dict:
    rep = report(fields(email=30), same=20, ident=30)
    rep["linkage"] = section(**kw)
    return rep


def test_markdown_shows_the_model_and_each_example_as_a_table():
    md = to_markdown(linkage_report())
    assert md.index("## Lines") < md.index("## Record linkage")
    assert "| name | exact | 0.6 | 0.0375 | 4.0 |" in md
    assert "| email | else | 0.1 | 0.8 | -3.0 |" in md
    assert "Prior 0.2, weight -2.0 bits" in md and "match probability 0.8." in md
    line12 = md[md.index("### Line 12: match probability 0.969697") :].split("\n\n")[1]
    assert line12.split("\n")[2:] == [
        "| prior |  | -2.0 | -2.0 |",
        "| name | exact | 4.0 | 2.0 |",
        "| email | exact | 3.0 | 5.0 |",
        "| match weight | | | **5.0** |",
    ]
    assert md.count("### Line ") == 5


def test_markdown_escapes_a_level_name():
    md = to_markdown(linkage_report(name_exact=HOSTILE))
    assert "<script" not in md and "\x1b" not in md
    shown = "&lt;script&gt;alert\\(1\\)&lt;/script&gt;\\\\x1b\\[31m\\|x"
    assert f"| name | {shown} | 0.6 | 0.0375 | 4.0 |" in md


def svgs(page: str) -> list[ET.Element]:
    """Every inline SVG of a page, parsed as XML: a markup error fails here."""
    return [ET.fromstring(s) for s in re.findall(r"<svg\b.*?</svg>", page, flags=re.S)]


def test_html_draws_one_waterfall_per_example():
    page = html_report.render(linkage_report())
    charts = svgs(page)
    assert len(charts) == 2 + 5 and "<h2>Record linkage</h2>" in page
    assert page.index("<h2>Same-record matches</h2>") < page.index("<h2>Record linkage</h2>")
    assert "<td>dice_0.8</td>" in page
    line12 = charts[2]
    assert "line 12" in line12.get("aria-label")
    texts = [t.text for t in line12.iter("text")]
    assert "line 12: match weight +5.00 bits, match probability 0.969697" in texts
    assert ["+4.0", "name", "exact"] == texts[texts.index("+4.0") :][:3]


@pytest.mark.parametrize(
    ("example", "bars"),
    [
        # line 12 over -2..5 bits (240 px for 7, from y 30): the prior from 0 down to -2, name
        # -2 up to 2, email 2 up to 5, then the match weight from 0 to 5
        (0, [("end", 201.4, 68.6), ("up", 132.9, 137.1), ("up", 30.0, 102.9),
             ("end", 30.0, 171.4)]),
        # line 9 over -2..2 (60 px a bit): the prior 0 down to -2, name -2 up to 2, email else
        # 2 down to -1, the match weight from 0 to -1
        (2, [("end", 150.0, 120.0), ("up", 30.0, 240.0), ("down", 30.0, 180.0),
             ("end", 150.0, 60.0)]),
    ],
)  # fmt: skip
def test_waterfall_bars_step_from_the_prior_to_the_match_weight(example, bars):
    sec = section()
    chart = ET.fromstring(waterfall_chart(sec["examples"][example], sec["threshold_weight"]))
    colour = {c: k for k, c in WATERFALL.items()}
    got = [(colour[r.get("fill")], float(r.get("y")), float(r.get("height")))
           for r in chart.iter("rect")]  # fmt: skip
    assert got == bars


def test_waterfall_labels_are_escaped_and_well_formed():
    rep = linkage_report(name_exact=HOSTILE)
    page = html_report.render(rep)
    assert "<script" not in page and "&lt;script&gt;" in page
    chart = svgs(page)[2]
    titles = [t.text for t in chart.iter("title")]
    assert "name: <script>alert(1)</script>\\x1b[31m|x, +4.0000 bits" in titles
    labels = [t.text for t in chart.iter("text")]
    assert "<script>alert(…" in labels  # cut to the column, whole in the title
