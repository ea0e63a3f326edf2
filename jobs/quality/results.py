"""Result rows of a suite run and their text: counts, shares and numbers only, never a data
value, so results can be stored, logged and reported freely."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from jobs.errors import QualityGateError
from jobs.quality.suites import SEVERITIES, Rule, Suite

TABLE_ORDER = ("sample_raw", "sample_normalised", "match_index", "warehouse_customers")
NOT_EVALUATED = "not evaluated: "


def result_row(
    rule: Rule, evr: Any, table: str, run_id: str, checked_at: datetime
) -> dict[str, Any]:
    """A GX expectation result -> one quality_results row (never a data value)."""
    res = evr.result or {}
    error = _error_text(evr.exception_info)
    unexpected = res.get("unexpected_count")
    percent = res.get("unexpected_percent")
    if error:
        observed = NOT_EVALUATED + error
    elif unexpected is not None:
        values = int(res.get("element_count") or 0) - int(res.get("missing_count") or 0)
        observed = f"{_num(percent or 0.0)} % unexpected ({unexpected} of {values} values)"
    else:
        observed = _observed(res.get("observed_value"))
    return {
        "run_id": run_id,
        "table": table,
        "expectation": rule.type,
        "column": rule.column,
        "severity": rule.severity,
        "success": bool(evr.success) and not error,
        "observed_value": observed,
        "unexpected_count": int(unexpected) if unexpected is not None else None,
        "unexpected_percent": float(percent) if percent is not None else None,
        "threshold": _threshold(rule),
        "checked_at": checked_at,
        "hint": rule.hint,
    }


def _error_text(info: Mapping[str, Any] | None) -> str | None:
    """Why GX could not evaluate: a missing column by name, anything else by kind only
    (engine messages can quote values)."""
    if not info:
        return None
    if "raised_exception" in info:
        entries = [info]
    else:
        entries = [v for v in info.values() if isinstance(v, dict)]
    messages = [str(e.get("exception_message") or "") for e in entries if e.get("raised_exception")]
    if not messages:
        return None
    for message in messages:
        found = re.search(r'column "([^"]+)" in BatchData does not exist', message)
        if found:
            return f"column {found.group(1)} not found"
    return "evaluation error"


def _num(x: Any) -> str:
    """Numbers for people: at most two decimals, no trailing zeros, tiny shares not shown as 0."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if 0 < abs(x) < 0.01:
        return "<0.01" if x > 0 else ">-0.01"
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _observed(value: Any) -> str:
    """Aggregate observed values are kept only when they are numbers."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return _num(value)
    return "(not a number: not shown)"


def _threshold(rule: Rule) -> str:
    """What the suite file allows: the unexpected share for map expectations, bounds otherwise."""
    k = rule.kwargs
    if rule.is_map:
        mostly = k.get("mostly", 1.0)
        return f"{_num(round((1 - float(mostly)) * 100, 6))} %"
    parts = []
    if k.get("min_value") is not None:
        parts.append(f"{'>' if k.get('strict_min') else '>='} {_num(k['min_value'])}")
    if k.get("max_value") is not None:
        parts.append(f"{'<' if k.get('strict_max') else '<='} {_num(k['max_value'])}")
    if k.get("value") is not None:
        parts.append(f"= {_num(k['value'])}")
    if k.get("value_set") is not None:
        parts.append(f"within a set of {len(k['value_set'])} values")
    return " and ".join(parts) or "see suite"


def describe(result: Mapping[str, Any]) -> str:
    """One line for logs and the gate error: table, expectation, observed value, threshold."""
    column = result.get("column")
    label = f"{result['expectation']}({column})" if column else result["expectation"]
    head = f"{result['table']}: {label}"
    observed = str(result["observed_value"])
    if observed.startswith(NOT_EVALUATED):
        return f"{head} could not be evaluated: {observed.removeprefix(NOT_EVALUATED)}"
    verdict = "passed" if result["success"] else "failed"
    if result.get("unexpected_percent") is not None:
        line = (
            f"{head} {verdict}: {_num(result['unexpected_percent'])} % unexpected "
            f"(threshold {result['threshold']})"
        )
        if result.get("hint") and not result["success"]:
            line += f": {result['unexpected_count']} values; {result['hint']}"
        return line
    return f"{head} {verdict}: observed {observed} (expected {result['threshold']})"


def enforce(results: Iterable[Mapping[str, Any]]) -> None:
    """Stop the run on the first failed critical expectation (exit code 4); the others are
    in the log and in quality_results."""
    for r in results:
        if r["severity"] == "critical" and not r["success"]:
            raise QualityGateError(describe(r))


def skipped_results(
    suite: Suite, run_id: str, why: str, checked_at: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "run_id": run_id,
            "table": suite.table,
            "expectation": rule.type,
            "column": rule.column,
            "severity": rule.severity,
            "success": True,
            "observed_value": f"skipped: {why}",
            "unexpected_count": None,
            "unexpected_percent": None,
            "threshold": _threshold(rule),
            "checked_at": checked_at,
        }
        for rule in suite.rules
    ]


def sort_key(result: Mapping[str, Any]) -> tuple[int, str, int, str, str]:
    table = result["table"]
    severity = result["severity"]
    return (
        TABLE_ORDER.index(table) if table in TABLE_ORDER else len(TABLE_ORDER),
        table,
        SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES),
        result["expectation"],
        result.get("column") or "",
    )


def summary(results: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """JSON-able results for report.json's `quality` list (no run id, counts only)."""
    out = []
    for r in results:
        checked = r.get("checked_at")
        pct = r.get("unexpected_percent")
        out.append(
            {
                "table": r["table"],
                "expectation": r["expectation"],
                "column": r.get("column"),
                "severity": r["severity"],
                "success": bool(r["success"]),
                "observed_value": r.get("observed_value"),
                "unexpected_count": r.get("unexpected_count"),
                "unexpected_percent": round(pct, 4) if pct is not None else None,
                "threshold": r.get("threshold"),
                "checked_at": checked.isoformat() if isinstance(checked, datetime) else checked,
            }
        )
    return out
