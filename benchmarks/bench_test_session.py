"""`python -m benchmarks.bench_test_session`: what Spark's code generation costs the test suite,
whose two worker processes share the machine's two cores. Two runner processes start together;
each runs the tests' planted demo sample (3,000 customers, 600 lines, index prebuilt) twice in
one JVM, the first run with a cold JIT, the second warm, and prints both times, per setting:
Spark's defaults, a C1-only JIT, no whole-stage code generation, and expressions interpreted
(the test session's setting, `tests/conftest.py`)."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TEST_CONF = {"spark.sql.shuffle.partitions": "1", "spark.ui.enabled": "false",
             "spark.sql.adaptive.coalescePartitions.initialPartitionNum": "1"}  # fmt: skip
SETTINGS = {
    "default": {},
    "C1 only": {"spark.driver.extraJavaOptions": "-Dlog4j2.level=warn -XX:TieredStopAtLevel=1"},
    "no whole-stage codegen": {"spark.sql.codegen.wholeStage": "false"},
    "interpreted (tests)": {"spark.sql.codegen.wholeStage": "false",
                            "spark.sql.codegen.factoryMode": "NO_CODEGEN"},
}  # fmt: skip


def cli(lakehouse: Path, demo: Path, job: str, *extra: str) -> list[str]:
    wh = demo / "warehouse"
    return [job, "--set", f"lakehouse={lakehouse}",
            *[x for r in ("customers", "addresses", "orders")
              for x in ("--set", f"warehouse.{r}.path={wh}/{r}")], *extra]  # fmt: skip


def prepare(root: Path) -> None:
    """root/demo (the tests' `demo` fixture's data) and root/index (its lakehouse, index only)."""
    from jobs.__main__ import main
    from tools.demo import generate

    if not (root / "index").exists():
        generate(root / "demo", customers=3000, sample_lines=600, planted_share=0.3, broken=12,
                 seed=7)  # fmt: skip
        assert main(cli(root / "index", root / "demo", "ingest-warehouse")) == 0


def runner(root: Path, work: Path, conf: dict) -> None:
    """Two runs of the demo sample in one session; prints their seconds as JSON."""
    from jobs.__main__ import main
    from jobs.session import build_session

    build_session("bench", master="local[2]", conf={**TEST_CONF, **conf})
    seconds = []
    for i in range(2):
        lakehouse = shutil.copytree(root / "index", work / f"lh{i}")
        started = time.monotonic()
        sample = ("--sample", str(root / "demo" / "sample"), "--run-id", "planted")
        assert main(cli(lakehouse, root / "demo", "run", *sample)) == 0
        seconds.append(round(time.monotonic() - started, 1))
    print(json.dumps(seconds))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="bench_data/test_session")
    ap.add_argument("--only", choices=list(SETTINGS), nargs="+", help="run these settings only")
    ap.add_argument("--runner", nargs=2, metavar=("WORK", "CONF"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    root = Path(a.data).resolve()
    if a.runner:
        return runner(root, Path(a.runner[0]), json.loads(a.runner[1]))
    prepare(root)
    print(f"{'setting':<24}{'first run (s)':>28}{'second run (s)':>28}")
    for name in a.only or list(SETTINGS):
        conf = SETTINGS[name]
        procs = []
        for k in range(2):
            work = root / "runs" / f"{k}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            cmd = [sys.executable, "-m", "benchmarks.bench_test_session", "--data", str(root),
                   "--runner", str(work), json.dumps(conf)]  # fmt: skip
            procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                          text=True))  # fmt: skip
        times = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
        first, second = (" / ".join(str(t[i]) for t in times) for i in (0, 1))
        print(f"{name:<24}{first:>28}{second:>28}", flush=True)


if __name__ == "__main__":
    main()
