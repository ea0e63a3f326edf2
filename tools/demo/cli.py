"""Seeded demo data for crosscheck: a company warehouse and an alleged leak sample.

`python -m tools.demo --out DIR [...]`; `--help` lists the sizes and formats.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tools.demo.build import generate
from tools.demo.sample import FORMATS


def main(argv: list[str] | None = None) -> None:
    """CLI: `python -m tools.demo --out DIR [...]`, prints a one-line summary."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    for flag, default in (
        ("customers", 2000),
        ("sample-lines", 500),
        ("planted-share", 0.3),
        ("broken", 10),
        ("fuzzy-share", 0.0),
        ("hot-names", 0),
        ("seed", 42),
    ):
        ap.add_argument(f"--{flag}", type=type(default), default=default)
    ap.add_argument("--fabricated-only", action="store_true")
    ap.add_argument("--sample-format", choices=sorted(FORMATS), default="semicolon")
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument(
        "--multinational",
        action="store_true",
        help="several sample files as sellers write them: no country column in some, "
        "country names in the address, national phone layouts (--sample-format is ignored)",
    )
    a = ap.parse_args(argv)
    t0 = time.monotonic()
    s = generate(
        a.out,
        a.customers,
        a.sample_lines,
        a.planted_share,
        a.broken,
        a.fuzzy_share,
        a.hot_names,
        a.fabricated_only,
        a.seed,
        a.sample_format,
        a.gzip,
        a.multinational,
    )
    print(
        f"demo: {s['customers']} customers, {s['addresses']} addresses, {s['orders']} orders; "
        f"{s['sample']}: {s['sample_lines']} lines ({s['planted']} planted, {s['fabricated']} "
        f"fabricated, {s['broken']} broken) in {time.monotonic() - t0:.1f}s"
    )
