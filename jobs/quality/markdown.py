"""The `## Data quality` section of report.md."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jobs.quality.suites import SEVERITIES
from jobs.render.safe import md_text


def _cell(text: Any) -> str:
    """Table and column names come from conf and expectation suites: shown as inert text."""
    return md_text(text)


def markdown_section(quality: Sequence[Mapping[str, Any]]) -> str:
    """The `## Data quality` section of report.md from report.json's `quality` list."""
    if not quality:
        return "## Data quality\n\nNo quality checks were recorded for this run.\n"
    failed = [q for q in quality if not q["success"]]
    by_severity = {s: sum(q["severity"] == s for q in failed) for s in SEVERITIES}
    head = f"{len(quality)} checks, {len(failed)} failed"
    if failed:
        head += " (" + ", ".join(f"{n} {s}" for s, n in by_severity.items() if n) + ")"
    lines = [
        "## Data quality",
        "",
        head + ". Observed values are counts and shares only.",
        "",
        "| table | expectation | column | severity | result | observed | threshold |",
        "|---|---|---|---|---|---|---|",
    ]
    for q in quality:
        result = "pass" if q["success"] else "**FAIL**"
        lines.append(
            f"| {_cell(q['table'])} | {_cell(q['expectation'])} | {_cell(q.get('column'))} | "
            f"{_cell(q['severity'])} | {result} | {_cell(q.get('observed_value'))} | "
            f"{_cell(q.get('threshold'))} |"
        )
    return "\n".join(lines) + "\n"
