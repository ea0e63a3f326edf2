"""An executor lost in the middle of the cross-check, on a real standalone cluster (a master
and two workers): its tasks and the shuffle files it held are recomputed on the executors
left and on the one its worker starts in its place, and the run ends with the report of an
undisturbed run. `make chaos` runs it (it says which executor it killed and when)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.conftest import PLANTED_RUN_ID
from tests.integration.test_cluster import canonical, job_args
from tools import build_dist, cluster

pytestmark = [pytest.mark.slow, pytest.mark.cluster, pytest.mark.chaos]
EXECUTOR_CLASS = b"org.apache.spark.executor.CoarseGrainedExecutorBackend"


def executors(workdir: Path) -> list[int]:
    """Pids of the executor JVMs running under this cluster's worker folders."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if EXECUTOR_CLASS in cmdline and cwd.startswith(str(workdir)):
            found.append(int(proc.name))
    return sorted(found)


@pytest.fixture(scope="module")
def run_with_executor_killed(standalone, demo, tmp_path_factory):
    """The demo sample's `run` submitted to the cluster; one executor SIGKILLed a few seconds
    into the cross-check: (lakehouse, exit code, what was killed)."""
    base = tmp_path_factory.mktemp("submit_killed")
    dist = build_dist.build_pyfiles(base / "dist")[0].parent
    lakehouse = base / "lakehouse"
    small = {"spark.sql.shuffle.partitions": "4"}
    cmd = cluster.submit_command(standalone, dist, ["run", *job_args(demo, lakehouse)],
                                 java_opts=cluster.QUICK_JVM, conf=small)  # fmt: skip
    # spark-submit hands the Python driver's stderr (the job's log lines) to its stdout
    proc = subprocess.Popen(cmd, cwd=base, env=cluster.cluster_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    started, killed, printed = time.monotonic(), None, []
    for line in proc.stdout:
        printed.append(line)
        if killed is None and '"stage started"' in line and '"stage": "crosscheck"' in line:
            time.sleep(3)
            pids = executors(Path(standalone.workdir))
            assert len(pids) == 2, pids
            os.kill(pids[0], signal.SIGKILL)
            seconds = time.monotonic() - started
            killed = f"executor pid {pids[0]}, 3 s into crosscheck, {seconds:.0f} s in"
            print(f"killed {killed}")
    code = proc.wait(timeout=900)
    (base / "submit.log").write_text("".join(printed))
    assert killed is not None, f"exit {code}: " + "".join(printed[-40:])
    return lakehouse, code, "".join(printed[-40:])


def test_the_run_finishes_with_the_undisturbed_report(run_with_executor_killed, planted_run):
    lakehouse, code, tail = run_with_executor_killed
    assert code == 0, tail
    got = canonical(lakehouse / "reports" / PLANTED_RUN_ID / "report.json")
    want = canonical(planted_run[0] / "reports" / PLANTED_RUN_ID / "report.json")
    assert got == want
    assert got["verdict"]["code"] == "MATCH"


def test_the_lost_executor_was_replaced(run_with_executor_killed, standalone):
    """Its worker started another executor for the app: three executor folders in all."""
    apps = [a for a in standalone.status()["completedapps"] if a["name"] == "crosscheck"]
    assert len(apps) == 1
    workers = [Path(standalone.workdir) / f"worker-{i}" / apps[0]["id"] for i in range(2)]
    folders = [p for w in workers for p in w.iterdir()]
    assert len(folders) == 3
