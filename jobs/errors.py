"""Errors that end a job with one clear line and a documented exit code.

Messages name files, tables and settings, never data values: they reach logs and pagers.
"""

from __future__ import annotations


class CrosscheckError(Exception):
    exit_code = 70  # internal error


class ConfigError(CrosscheckError):
    exit_code = 2


class InputError(CrosscheckError):
    """The sample or a warehouse source cannot be read."""

    exit_code = 3


class QualityGateError(CrosscheckError):
    exit_code = 4


class MissingTableError(CrosscheckError):
    """A job needs a table an earlier job writes (e.g. crosscheck before ingest)."""

    exit_code = 5
