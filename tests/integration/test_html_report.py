"""report.html from a real pipeline run: written beside report.json, self-contained, escaped,
free of personal data, and actually rendered by a browser (headless Chromium) with the verdict
and charts on screen."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from jobs.render import html as html_report
from tests.integration.conftest import PLANTED_RUN_ID, read_truth

pytestmark = pytest.mark.slow
MATCH_RED = (0xB4, 0x23, 0x18)  # html_report.COLOURS["MATCH"]


@pytest.fixture(scope="module")
def report_dir(planted_run) -> Path:
    lakehouse, code, _ = planted_run
    assert code == 0
    return lakehouse / "reports" / PLANTED_RUN_ID


@pytest.fixture(scope="module")
def browser() -> str:
    """Chromium (Debian package `chromium`); `make test` installs it, and without it these
    checks fail rather than skip."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is not installed: `make chromium` or apt-get install -y chromium")
    return path


def chromium(browser: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600"]  # fmt: skip
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=120)


def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, ...]]]:
    """Decode an 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes) into pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(b"".join(idat)), width * bpp
    prev, pixels = bytearray(stride), []
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):  # undo the PNG row filter (None, Sub, Up, Average, Paeth)
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        pixels += [tuple(line[i : i + 3]) for i in range(0, stride, bpp)]
        prev = line
    return width, height, pixels


def test_html_is_written_beside_json_from_its_dict(report_dir):
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert page == html_report.render(report)
    assert report["verdict"]["code"] == "MATCH"
    assert html_report.PLAIN["MATCH"][0] in page


def test_html_is_self_contained(report_dir):
    """Nothing to fetch: no script, no link, no external URL; charts are inline SVG (two, and
    one waterfall per example link)."""
    page = (report_dir / "report.html").read_text(encoding="utf-8").lower()
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    for banned in ("<script", "<link", "<img", "src=", "href=", "url(", "://", "@import"):
        assert banned not in page
    waterfalls = len(report.get("linkage", {}).get("examples", []))
    assert waterfalls > 0 and page.count("<svg") == 2 + waterfalls
    assert "content-security-policy" in page


def test_text_is_escaped(report_dir):
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    report["run_id"] = "<img src=x onerror=alert(1)>"
    report["inputs"]["files"][0]["name"] = "<b>leak</b>.csv"
    report["quality"] = [{"table": "sample_raw", "expectation": "a<b", "severity": "critical",
                          "success": False, "observed_value": "<i>"}]  # fmt: skip
    page = html_report.render(report)
    assert "<img" not in page and "<b>leak" not in page and "<i>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;b&gt;leak" in page
    assert "FAILED" in page and "critical: the run stopped" in page


def test_no_personal_data_in_html(report_dir, demo):
    """The planted customers' e-mails and phone numbers appear nowhere in the page."""
    import pandas as pd

    ids = {int(t["customer_id"]) for t in read_truth(demo) if t["kind"] == "planted"}
    customers = pd.read_parquet(demo / "warehouse" / "customers")
    planted = customers[customers["customer_id"].isin(ids)]
    page = (report_dir / "report.html").read_text(encoding="utf-8").lower()
    needles = {e.lower() for e in planted["email"]}
    needles |= {"".join(ch for ch in p if ch.isdigit())[-9:] for p in planted["phone"]}
    assert not {n for n in needles if n in page}


def test_browser_shows_the_verdict(report_dir, browser, tmp_path):
    done = chromium(browser, tmp_path, "--dump-dom", (report_dir / "report.html").as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'id="verdict"' in done.stdout and ">MATCH<" in done.stdout
    assert html_report.PLAIN["MATCH"][0] in done.stdout


def test_screenshot_is_not_blank(report_dir, browser, tmp_path):
    shot = tmp_path / "report.png"
    done = chromium(
        browser, tmp_path, f"--screenshot={shot}", (report_dir / "report.html").as_uri()
    )
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (1200, 1600)
    white = pixels.count((255, 255, 255))
    assert white < 0.97 * len(pixels)  # text, bars and tables cover the page
    assert len(set(pixels)) >= 50  # anti-aliased text and several chart colours
    assert pixels.count(MATCH_RED) > 500  # the verdict's colour is on screen


# Attacks that leave a mark on the page when they run: an attribute on <html>, set by a
# script element, an event handler, an SVG onload, and a script after a forged table end.
RAN = "document.documentElement.setAttribute('data-ran', 'yes')"
SCRIPTS = {
    "<script>alert(1)</script>": f"<script>{RAN}</script>",
    "<img src=x onerror=alert(1)>": f'<img src=x onerror="{RAN}"><svg onload="{RAN}">',
    "[click](javascript:alert(1))": f"</td></tr></table><script>{RAN}</script>",
}


def test_no_script_in_a_hostile_sample_runs_in_the_browser(browser, tmp_path):
    """Headers, file names, quarantine reasons and conf values carrying scripts: Chromium
    loads report.html, shows them as text, and none of them runs."""
    from tests.unit.test_report_safety import hostile_report

    text = json.dumps(hostile_report())
    for harmless, scripted in SCRIPTS.items():
        text = text.replace(json.dumps(harmless)[1:-1], json.dumps(scripted)[1:-1])
    page = tmp_path / "report.html"
    page.write_text(html_report.render(json.loads(text)), encoding="utf-8")
    done = chromium(browser, tmp_path, "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    root = done.stdout[done.stdout.index("<html") :].split(">", 1)[0]
    assert "data-ran" not in root  # no script ran
    assert 'id="verdict"' in done.stdout  # the page itself loaded and rendered
    shown = done.stdout.count("&lt;script&gt;document.documentElement.setAttribute")
    assert shown >= 5  # header, reason, file name, quality check...: shown as text
