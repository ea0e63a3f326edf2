"""Reading a DataFrame's query plans through `explain()`, the public way to see them."""

from __future__ import annotations

import contextlib
import io

from pyspark.sql import DataFrame

SECTIONS = {
    "optimized": "== Optimized Logical Plan ==",
    "physical": "== Physical Plan ==",
}


def plan_text(df: DataFrame, section: str) -> str:
    """The `optimized` logical or the `physical` plan of `df`, as `explain(extended=True)`
    prints it."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        df.explain(extended=True)
    text = out.getvalue()
    start = text.index(SECTIONS[section]) + len(SECTIONS[section])
    ends = [text.find(h, start) for h in SECTIONS.values()]
    end = min((e for e in ends if e > start), default=len(text))
    return text[start:end]
