"""Expectation suites: GX ExpectationSuite JSON files in `expectations/`, checked when read so
that a mistake in one is a config error naming the file, not a silently dropped expectation."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs.errors import ConfigError
from jobs.settings import EXPECTATIONS_DIR

SUITES_DIR = EXPECTATIONS_DIR  # the checkout's expectations/, or the copy a wheel carries
SUITES_ENV = "CROSSCHECK_EXPECTATIONS"
SEVERITIES = ("critical", "warning", "info")

# Row-level expectations whose unexpected rows can be told with a native Spark condition.
QUARANTINE_TYPES = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_value_lengths_to_be_between",
    }
)


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite file and what crosscheck does when it fails."""

    type: str
    kwargs: Mapping[str, Any]
    severity: str
    quarantine: bool
    is_map: bool
    hint: str | None = None  # what to do when it fails (meta.hint), said with the failure

    @property
    def column(self) -> str | None:
        k = self.kwargs
        if k.get("column"):
            return str(k["column"])
        if k.get("column_list"):
            return ",".join(str(c) for c in k["column_list"])
        if k.get("column_A"):
            return f"{k['column_A']},{k.get('column_B')}"
        return None

    @property
    def label(self) -> str:
        return f"{self.type}({self.column})" if self.column else self.type


@dataclass(frozen=True)
class Suite:
    """A suite file: the rules crosscheck acts on and the document GX is given."""

    name: str
    table: str
    path: str
    rules: tuple[Rule, ...]
    expectations: tuple[Mapping[str, Any], ...]


def suites_dir() -> Path:
    """Where suite files live: $CROSSCHECK_EXPECTATIONS, else the project's expectations/."""
    return Path(os.environ.get(SUITES_ENV) or SUITES_DIR)


def _is_map(expectation_type: str) -> bool:
    """Map expectations judge rows (counts, `mostly`); the others judge one aggregate."""
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )
    from great_expectations.expectations.registry import get_expectation_impl

    impl = get_expectation_impl(expectation_type)
    return issubclass(
        impl, (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation)
    )


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return " ".join(lines[:3]) or type(exc).__name__


def _rule(path: Path, number: int, raw: Any) -> tuple[Rule, dict[str, Any]]:
    """Check one expectation of a suite file (GX would silently drop some invalid ones)."""
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    where = f"{path}: expectation {number}"
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise ConfigError(f"{where}: needs a `type` and `kwargs`")
    kind = raw["type"]
    kwargs = raw.get("kwargs") or {}
    meta = raw.get("meta") or {}
    severity = str(raw.get("severity") or "critical").lower()
    if not isinstance(kwargs, dict) or not isinstance(meta, dict):
        raise ConfigError(f"{where} ({kind}): `kwargs` and `meta` must be objects")
    if severity not in SEVERITIES:
        raise ConfigError(f"{where} ({kind}): severity must be one of {', '.join(SEVERITIES)}")
    quarantine = meta.get("quarantine", False)
    if not isinstance(quarantine, bool):
        raise ConfigError(f"{where} ({kind}): meta.quarantine must be true or false")
    if quarantine and kind not in QUARANTINE_TYPES:
        supported = ", ".join(sorted(QUARANTINE_TYPES))
        raise ConfigError(f"{where} ({kind}): quarantine works only for {supported}")
    doc = {"type": kind, "kwargs": kwargs, "meta": meta, "severity": severity}
    if raw.get("notes"):
        doc["notes"] = raw["notes"]
    try:
        ExpectationConfiguration(**doc).to_domain_obj()
        is_map = _is_map(kind)
    except Exception as exc:  # noqa: BLE001 - GX/pydantic errors become one config line
        raise ConfigError(f"{where} ({kind}): {_first_line(exc)}") from None
    hint = meta.get("hint")
    if hint is not None and not isinstance(hint, str):
        raise ConfigError(f"{where} ({kind}): meta.hint must be text")
    return Rule(kind, kwargs, severity, quarantine, is_map, hint), doc


def load_suite(path: str | Path) -> Suite:
    """Read and check one suite file (any error is one line naming the file)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"expectation suite not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON (line {exc.lineno})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("expectations"), list):
        raise ConfigError(f"{path}: expected an object with an `expectations` list")
    name = str(doc.get("name") or path.stem)
    meta = doc.get("meta") or {}
    checked = [_rule(path, i, raw) for i, raw in enumerate(doc["expectations"], start=1)]
    return Suite(
        name=name,
        table=str(meta.get("table") or name),
        path=str(path),
        rules=tuple(r for r, _ in checked),
        expectations=tuple(d for _, d in checked),
    )


def load_suites(directory: str | Path | None = None) -> dict[str, Suite]:
    """All suite files of a folder, by suite name; a missing file means no such checks."""
    folder = Path(directory) if directory else suites_dir()
    if not folder.is_dir():
        raise ConfigError(f"expectation suites folder not found: {folder} (set {SUITES_ENV})")
    suites = [load_suite(p) for p in sorted(folder.glob("*.json"))]
    return {s.name: s for s in suites}
