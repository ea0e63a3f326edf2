"""Structured JSON log lines (run id, stage, rows, seconds) for schedulers and on-call.

Log only counts, names and ids: never a data value.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jobs.render.safe import json_safe

_LOGGER = logging.getLogger("crosscheck")
_CONTEXT: dict[str, Any] = {}


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            **_CONTEXT,
            "msg": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        # json.dumps escapes C0 controls (ESC included); json_safe escapes DEL, C1 and bidi
        # overrides too, which file names and messages may carry to a terminal.
        return json_safe(json.dumps(payload, ensure_ascii=False, default=str))


def silence_spark_error_echo() -> None:
    """PySpark echoes failing queries' messages to stderr; those can quote data values.
    The job reports one sanitised line instead and keeps the traceback in the lakehouse."""
    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # pragma: no cover - pyspark without the logger module
        return
    for name in ("DataFrameQueryContextLogger", "SQLQueryContextLogger"):
        PySparkLogger.getLogger(name).disabled = True


def setup_logging(stream: Any = None, keep_existing: bool = False) -> None:
    """Idempotent: one JSON handler on the `crosscheck` logger (an embedding program or a
    test may have installed its own: `keep_existing` leaves it in place)."""
    silence_spark_error_echo()
    if keep_existing and _LOGGER.handlers:
        return
    _LOGGER.setLevel(logging.INFO)
    _LOGGER.propagate = False
    for handler in list(_LOGGER.handlers):
        _LOGGER.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_JsonFormatter())
    _LOGGER.addHandler(handler)


def set_context(**fields: Any) -> None:
    _CONTEXT.update({k: v for k, v in fields.items() if v is not None})


def info(msg: str, **fields: Any) -> None:
    _LOGGER.info(msg, extra={"fields": fields})


def warning(msg: str, **fields: Any) -> None:
    _LOGGER.warning(msg, extra={"fields": fields})


def error(msg: str, **fields: Any) -> None:
    _LOGGER.error(msg, extra={"fields": fields})


@contextmanager
def stage(name: str, **fields: Any) -> Iterator[dict[str, Any]]:
    """Log the start and end of a stage with its wall time; callers add `rows` to the dict."""
    result: dict[str, Any] = {}
    info("stage started", stage=name, **fields)
    start = time.perf_counter()
    try:
        yield result
    finally:
        seconds = round(time.perf_counter() - start, 3)
        result["seconds"] = seconds
        info("stage finished", stage=name, **fields, **result)
