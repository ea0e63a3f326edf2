"""Where conf/ and expectations/ are, and reading YAML with errors that name the file."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import zipfile
import zipimport
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from jobs.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # jobs/


@cache
def resource_dir(name: str) -> Path:
    """Where the `conf` or `expectations` folder is, however the package was installed.

    A wheel carries them as package data (`jobs/conf`), a checkout has them at its top level,
    and spark-submit's `--py-files` zip holds them as `jobs/<name>/` members: those are
    unpacked once per process, because the YAML and JSON readers need real files.
    """
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    loader = globals().get("__loader__")
    if isinstance(loader, zipimport.zipimporter):
        return _unzip(loader.archive, f"jobs/{name}/")
    return PACKAGE_DIR.parent / name  # missing everywhere: the reader names this path


def _unzip(archive: str, prefix: str) -> Path:
    target = Path(tempfile.mkdtemp(prefix="crosscheck-"))
    atexit.register(shutil.rmtree, target, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        members = [m for m in zf.namelist() if m.startswith(prefix) and not m.endswith("/")]
        zf.extractall(target, members)
    return target / prefix


CONF_DIR = resource_dir("conf")
EXPECTATIONS_DIR = resource_dir("expectations")


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `a.b.c=value` overrides; values are parsed as YAML (numbers, booleans, lists)."""
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        node = raw
        parts = key.split(".")
        if key.startswith("spark.conf.") and len(parts) > 3:  # Spark keys contain dots
            parts = ["spark", "conf", key.removeprefix("spark.conf.")]
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"--set {key}: {part} is not a section")
            node = child
        node[parts[-1]] = yaml.safe_load(value) if value != "" else None
    return raw
