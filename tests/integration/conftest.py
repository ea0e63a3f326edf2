"""Generated demo data and a helper that runs jobs through the real CLI entry point."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from jobs.__main__ import main


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """A small warehouse plus a planted sample (30 % planted lines, broken lines)."""
    from tools.demo import generate

    out = tmp_path_factory.mktemp("demo")
    generate(out, customers=3000, sample_lines=600, planted_share=0.3, broken=12, seed=7)
    return out


@pytest.fixture(scope="session")
def fabricated(tmp_path_factory, demo):
    """The same warehouse seed with a sample of fabricated lines only."""
    from tools.demo import generate

    out = tmp_path_factory.mktemp("fabricated")
    generate(out, customers=3000, sample_lines=400, fabricated_only=True, broken=0, seed=7)
    return out


PLANTED_RUN_ID = "planted"


@pytest.fixture(scope="session")
def planted_run(demo, tmp_path_factory):
    """One `run` of the CLI on the demo sample, shared by every module that only reads its
    outputs: (lakehouse, exit code, what it logged)."""
    import io
    import logging

    from jobs import log

    lakehouse = tmp_path_factory.mktemp("lakehouse")
    stream = io.StringIO()
    log.setup_logging(stream)
    try:
        code = run_planted(lakehouse, demo)
    finally:
        log.setup_logging()
        logging.getLogger("crosscheck").handlers.clear()
    return lakehouse, code, stream.getvalue()


def run_planted(lakehouse: Path, demo: Path) -> int:
    sample = str(demo / "sample")
    return run_cli(
        "run", lakehouse, demo / "warehouse", "--sample", sample, "--run-id", PLANTED_RUN_ID
    )


def read_truth(folder: Path) -> list[dict]:
    with open(folder / "truth.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def cli_args(lakehouse: Path, warehouse: Path) -> list[str]:
    return [
        "--set", f"lakehouse={lakehouse}",
        "--set", f"warehouse.customers.path={warehouse}/customers",
        "--set", f"warehouse.addresses.path={warehouse}/addresses",
        "--set", f"warehouse.orders.path={warehouse}/orders",
    ]  # fmt: skip


def run_cli(job: str, lakehouse: Path, warehouse: Path, *extra: str) -> int:
    return main([job, *cli_args(lakehouse, warehouse), *extra])


def load_report(lakehouse: Path, run_id: str) -> dict:
    return json.loads((lakehouse / "reports" / run_id / "report.json").read_text())


def find_leaks(texts: dict[str, str], needles: set[str]) -> set[tuple[str, str]]:
    """(where, value) for every planted value that appears as a whole token in a text."""
    return {
        (where, n)
        for where, text in texts.items()
        for n in needles
        if re.search(rf"(?<![\w@.+]){re.escape(n)}(?![\w@])", text)
    }
