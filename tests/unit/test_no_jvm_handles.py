"""Spark Connect (Databricks serverless and shared clusters) gives Python no SparkContext, no
py4j handles and no RDDs: only `jobs.io.compat` may reach them, each use beside its Connect
alternative. Attribute names are read from the syntax tree, so a comment or a docstring that
names them does not count, and neither does `.rddish` or `sparkContextual`."""

from __future__ import annotations

import ast
from pathlib import Path

JOBS = Path(__file__).resolve().parents[2] / "jobs"
COMPAT = JOBS / "io" / "compat.py"
JVM_HANDLES = frozenset({"_jvm", "_jsc", "_jdf", "sparkContext", "rdd"})


def jvm_handles(path: Path) -> list[str]:
    """`line: name` for each attribute, name or imported name that is a JVM handle, in line
    order."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.alias):
            name = node.asname or node.name.rsplit(".", 1)[-1]
        else:
            continue
        if name in JVM_HANDLES:
            found.append((node.lineno, name))
    return [f"{line}: {name}" for line, name in sorted(found)]


def test_only_the_compat_module_uses_jvm_handles():
    offenders = {
        str(path.relative_to(JOBS.parent)): uses
        for path in sorted(JOBS.rglob("*.py"))
        if path != COMPAT and (uses := jvm_handles(path))
    }
    assert offenders == {}, f"move these to {COMPAT.name} with a Spark Connect alternative"


def test_the_scan_finds_the_compat_modules_uses():
    """The compat module's own uses are found: the scan above could fail."""
    names = {use.split(": ")[1] for use in jvm_handles(COMPAT)}
    assert {"_jvm", "_jsc", "sparkContext"} <= names


def test_the_scan_reads_code_not_text(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        '"""df.rdd in a docstring."""\n'
        "# spark._jvm in a comment\n"
        "rows = df.rdd.map(len)\n"
        "from pyspark import SparkContext as sparkContext\n"
        "frame = df._jdf\n"
        "text = 'spark._jsc'\n"
        "ok = df.rddish\n"
    )
    assert jvm_handles(probe) == ["3: rdd", "4: sparkContext", "5: _jdf"]
