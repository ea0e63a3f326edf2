"""`make dist`: what crosscheck ships as.

- the wheel (`pip wheel`): the `jobs` package with conf/ and expectations/ as package data and
  one console script per job, for Databricks wheel tasks and `pip install`;
- for spark-submit, which takes `.py`/`.zip` in `--py-files` but not wheels: a zip of the same
  package tree (jobs/, jobs/conf, jobs/expectations) and a small entry script beside it.

Usage: python tools/build_dist.py [--out dist] [--no-wheel]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENTRY_NAME = "crosscheck_submit.py"
ENTRY = '''"""spark-submit entry point; the `jobs` package comes from the --py-files zip.

spark-submit --master spark://HOST:7077 --jars <Delta jars> --py-files crosscheck-<version>.zip \\
    crosscheck_submit.py run --sample PATH --set lakehouse=PATH
"""

import sys

from jobs.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
'''
# package data: (folder in the checkout, folder in the package, file pattern)
DATA = (("conf", "jobs/conf", "*.yaml"), ("expectations", "jobs/expectations", "*.json"))


def version() -> str:
    """The project's version from pyproject.toml (tomllib is not in Python 3.10)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    return re.search(r'^version\s*=\s*"([^"]+)"', text, re.MULTILINE).group(1)


def build_pyfiles(out: Path) -> tuple[Path, Path]:
    """Write crosscheck-<version>.zip and the entry script into `out`; return both paths."""
    out.mkdir(parents=True, exist_ok=True)
    archive = out / f"crosscheck-{version()}.zip"
    members = [
        (p, f"jobs/{p.relative_to(ROOT / 'jobs').as_posix()}")
        for p in sorted((ROOT / "jobs").rglob("*.py"))
    ]
    for src, dest, pattern in DATA:
        members += [(p, f"{dest}/{p.name}") for p in sorted((ROOT / src).glob(pattern))]
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, name in members:
            zf.write(path, name)
    entry = out / ENTRY_NAME
    entry.write_text(ENTRY, encoding="utf-8")
    return archive, entry


def build_wheel(out: Path) -> Path:
    """Build the wheel with the environment's setuptools (no download), return its path."""
    out.mkdir(parents=True, exist_ok=True)
    build = ROOT / "build"
    shutil.rmtree(build, ignore_errors=True)  # stale build/lib copies would end up in the wheel
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
           "--quiet", "--wheel-dir", str(out), str(ROOT)]  # fmt: skip
    subprocess.run(cmd, check=True, cwd=ROOT)
    shutil.rmtree(build, ignore_errors=True)
    return out / f"crosscheck-{version()}-py3-none-any.whl"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--no-wheel", action="store_true", help="only the spark-submit files")
    args = parser.parse_args(argv)
    built = list(build_pyfiles(args.out))
    if not args.no_wheel:
        built.append(build_wheel(args.out))
    for path in built:
        print(path)


if __name__ == "__main__":
    main()
