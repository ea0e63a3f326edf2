"""A hostile sample's headers, file names and quarantine reasons, and hostile conf values, stay
inert in report.md, report.html, console lines and JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from jobs import log
from jobs.__main__ import main, report_summary, watch_line
from jobs.errors import InputError
from jobs.render import html as html_report
from jobs.render.linkage import linkage_section
from jobs.render.markdown import to_markdown
from jobs.render.safe import console_text, md_code, md_text
from jobs.verdict import build_report
from tests.unit.test_report import RULES, fields, provenance
from tests.unit.test_report_linkage import svgs

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LINK = "[click](javascript:alert(1))"
FORMULA = '=HYPERLINK("http://x")'
BREAK = "a|b\n## injected"
ANSI = "\x1b[31mred\x1b[0m"
HOSTILE = (SCRIPT, IMG, LINK, FORMULA, BREAK, ANSI)
RAW_DANGER = ("<script", "<img", "](javascript:", "\x1b", "\x9b", "\n## injected")
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def hostile_report() -> dict:
    """A report whose every sample-borne and conf-borne text is an attack."""
    sections = provenance(never=[(h, "password") for h in HOSTILE], flagged=True)
    top = sections["profile"]["dimensions"]["email_domain"]["top"][0]
    top["value"] = SCRIPT + ANSI
    flds = {**fields(email=1), IMG: {"lines_with_value": 10, "lines_matched": 0, "match_rate": 0}}
    sample = {
        "lines_read": 1010, "lines_parsed": 1000, "lines_quarantined": 10,
        "quarantine_reasons": {h: 1 for h in HOSTILE} | {"wrong_field_count": 4},
        "countries": {"lines_by_source": {"column": 5, LINK: 2},
                      "lines_by_country": {IMG: 3}, "conflicts": 0},
    }  # fmt: skip
    lines = {"matched_any_field": 1, "same_record_2plus": 0, "matched_unique_identifier": 1}
    extra = {
        "inputs": {"files": [{"name": h + ".csv", "bytes": 10, "format": "csv"} for h in HOSTILE]},
        "quality": [{"table": "sample_raw", "expectation": SCRIPT, "column": LINK,
                     "severity": "critical", "success": False, "observed_value": ANSI,
                     "threshold": FORMULA}],
        "blocking": [{"field": IMG, "candidate_pairs": 1, "expanded_pairs": 1, "hot_keys": 0,
                      "action": BREAK}],
    }  # fmt: skip
    extra["linkage"] = hostile_linkage()
    rep = build_report("run`" + IMG, sample, flds, lines, RULES, extra, sections)
    rep["_dir"] = "/reports/" + ANSI
    return rep


def hostile_linkage() -> dict:
    """A linkage section whose field and level names (conf's) are attacks."""
    rows = [{"field": BREAK, "level": lv, "level_name": name, "m": 0.5, "u": 0.25, "weight": w,
             "prior": 0.5, "em_iterations": 1}
            for lv, name, w in ((0, LINK, -1.0), (1, SCRIPT + ANSI, 1.0))]  # fmt: skip
    links = [{"line_number": 4, "match_weight": 1.0, "match_probability": 2 / 3,
              "levels": {BREAK: 1}}]  # fmt: skip
    return linkage_section(rows, links, 0.6)


# ---- report.md -----------------------------------------------------------------------------


def test_markdown_holds_no_raw_markup_links_or_controls():
    md = to_markdown(hostile_report())
    for raw in RAW_DANGER:
        assert raw not in md, raw
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in md
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in md
    assert "\\[click\\]\\(javascript:alert\\(1\\)\\)" in md
    assert '\\=HYPERLINK\\("http\\://x"\\)' in md  # no bare URL for autolinks either
    assert "\\\\x1b\\[31mred" in md  # the ESC shown as the text \x1b


def test_markdown_values_stay_in_their_table_cell():
    md = to_markdown(hostile_report())
    assert "| 6 | a\\|b ## injected | password |" in md
    assert "| &lt;img src=x onerror=alert\\(1\\)&gt; | 1 | 1 | 0 | a\\|b ## injected |" in md
    width = None
    for line in md.split("\n"):
        if not line.startswith("|"):
            width = None
            continue
        cells = len(UNESCAPED_PIPE.findall(line))
        width = width or cells
        assert cells == width, line


def test_markdown_renders_without_html_or_links():
    mistune = pytest.importorskip("mistune")
    render = mistune.create_markdown(escape=False, plugins=["table", "strikethrough", "url"])
    page = render(to_markdown(hostile_report()))
    for raw in ("<script", "<img", 'javascript:alert(1)"', "<a ", "<h2>injected"):
        assert raw not in page, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_markdown_keeps_the_projects_own_formatting():
    sections = provenance(never=[("Passwort", "password")])
    sample = {"lines_read": 1003, "lines_parsed": 1000, "lines_quarantined": 3,
              "quarantine_reasons": {"wrong_field_count": 3}}  # fmt: skip
    lines = {"matched_any_field": 1, "same_record_2plus": 0, "matched_unique_identifier": 1}
    md = to_markdown(build_report("20250101T000000Z-abc123", sample, fields(email=1), lines,
                                  RULES, None, sections))  # fmt: skip
    assert md.startswith("# crosscheck report — run `20250101T000000Z-abc123`\n")
    assert "## Verdict: **INCONCLUSIVE**" in md
    assert "- lines quarantined: 3 (wrong_field_count: 3)" in md
    assert "| 2 | Passwort | password | password | password | 100.00 % | never_collected |" in md
    assert "| email | 1000 | 1 | 0.10 % |" in md


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("*bold* _it_ `code` ~~s~~", "\\*bold\\* \\_it\\_ \\`code\\` \\~\\~s\\~\\~"),
        ("![x](y)", "\\!\\[x\\]\\(y\\)"),
        ("{html}", "\\{html\\}"),
        (
            "see https://evil.example or www.evil.example",
            "see https\\://evil.example or www\\.evil.example",
        ),
        ("# heading", "\\# heading"),
        ("a\r\nb\tc", "a  b c"),
        ("&lt;", "&amp;lt;"),
        ("C:\\x", "C:\\\\x"),
        ("\u202eevil", "\\\\u202eevil"),
        ("never_collected", "never_collected"),
        (-1.5, "-1.5"),
        (None, ""),
    ],
)
def test_md_text(value, shown):
    assert md_text(value) == shown


def test_md_code_only_wraps_plain_ids():
    assert md_code("landing-0123abcd") == "`landing-0123abcd`"
    assert md_code("a`<b>") == "a\\`&lt;b&gt;"


# ---- report.html ---------------------------------------------------------------------------


def test_html_escapes_headers_file_names_reasons_and_conf_values():
    page = html_report.render(hostile_report())
    assert "<script>alert" not in page and "<img src=x" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 5  # header, reason, file...
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in page  # a file name
    assert "<script" not in page.lower()


def test_every_chart_is_well_formed_xml():
    """Inline SVG is XML: an ESC or a line break in a field or level name would break it or
    the label, so it is shown as the text \\x1b (\\x0a) there."""
    page = html_report.render(hostile_report())
    charts = svgs(page)
    assert len(charts) == 3  # match rates, same-record lines, one link's waterfall
    titles = [t.text for t in charts[2].iter("title")]
    shown = "a|b\\x0a## injected: <script>alert(1)</script>\\x1b[31mred\\x1b[0m"
    assert f"{shown}, +1.0000 bits" in titles


# ---- console and log -----------------------------------------------------------------------


def test_report_summary_shows_controls_escaped():
    rep = hostile_report()
    out = report_summary("run\x1b]0;title\x07", rep)
    assert "\x1b" not in out and "\x07" not in out
    assert f"run\\x1b]0;title\\x07: {rep['verdict']['code']}" in out
    assert "\\x1b[31mred" in out and "/reports/\\x1b[31mred" in out
    assert "| field | lines with value |" in out  # the table keeps its lines


def test_watch_line_escapes_the_file_name():
    item = {"file": "\x1b[2J\x9bevil.csv\nforged: MATCH", "verdict": "NO_MATCH",
            "run_id": "landing-1", "report": "/r"}  # fmt: skip
    line = watch_line(item)
    assert "\x1b" not in line and "\x9b" not in line and "\n" not in line
    assert line.startswith("\\x1b[2J\\x9bevil.csv\\x0aforged")


def test_error_line_escapes_a_hostile_file_name(monkeypatch, capsys):
    def fail(args):
        raise InputError(f"{ANSI}\x9bevil.csv: the file is empty")

    monkeypatch.setattr("jobs.__main__.run_job", fail)
    assert main(["report"]) == InputError.exit_code
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x9b" not in err
    assert "error: \\x1b[31mred\\x1b[0m\\x9bevil.csv: the file is empty" in err


@pytest.fixture()
def log_stream():
    logger = logging.getLogger("crosscheck")
    saved = list(logger.handlers)
    stream = io.StringIO()
    log.setup_logging(stream=stream)
    yield stream
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    for handler in saved:
        logger.addHandler(handler)


def test_json_log_lines_escape_every_control(log_stream):
    name = f"{ANSI}\x9b\x7f\u202eevil.csv\nforged"
    log.error("sample failed", stage="watch", file=name, error=SCRIPT)
    line = log_stream.getvalue()
    assert line.count("\n") == 1
    for raw in ("\x1b", "\x9b", "\x7f", "\u202e"):
        assert raw not in line, repr(raw)
    record = json.loads(line)
    assert record["file"] == name and record["error"] == SCRIPT


def test_console_text_escapes_c0_c1_and_del():
    assert console_text("a\x00b\x1bc\x7fd\x9be\rf") == "a\\x00b\\x1bc\\x7fd\\x9be\\x0df"
