"""The packaged pipeline on a real standalone cluster (a master and two worker JVMs) gives the
same report as local mode: what spark-submit ships (the --py-files zip with conf/ and
expectations/ inside, Delta's jars with --jars) is complete, and nothing depends on running
in one process (executors only share the lakehouse folder on disk). `make chaos` runs it,
with the other tests whose jobs run in processes of their own."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import PLANTED_RUN_ID, canonical, cli_args
from tools import build_dist, cluster

pytestmark = [pytest.mark.slow, pytest.mark.cluster, pytest.mark.chaos]
RUN_ID = PLANTED_RUN_ID  # the cluster's report is compared with the shared local run's


def job_args(demo: Path, lakehouse: Path) -> list[str]:
    return [*cli_args(lakehouse, demo / "warehouse"), "--sample", str(demo / "sample"),
            "--run-id", RUN_ID]  # fmt: skip


@pytest.fixture(scope="module")
def submitted(standalone, demo, tmp_path_factory):
    """`spark-submit` of the zip + entry script from a folder outside the checkout (so `jobs`
    comes from the zip), with a lakehouse folder that driver and executors share on disk."""
    base = tmp_path_factory.mktemp("submit")
    dist = build_dist.build_pyfiles(base / "dist")[0].parent
    lakehouse = base / "lakehouse"
    args = ["run", *job_args(demo, lakehouse)]
    small = {"spark.sql.shuffle.partitions": "4"}  # two executors still share every stage
    cmd = cluster.submit_command(standalone, dist, args, java_opts=cluster.QUICK_JVM, conf=small)
    done = subprocess.run(cmd, cwd=base, env=cluster.cluster_env(), capture_output=True,
                          text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return lakehouse


def test_cluster_report_equals_local_report(submitted, planted_run):
    """The same demo sample, run in this process (the shared `planted_run`) and on the
    cluster from an empty lakehouse, gives the same report."""
    local, code, _ = planted_run
    assert code == 0
    on_cluster = canonical(submitted / "reports" / RUN_ID / "report.json")
    in_process = canonical(local / "reports" / RUN_ID / "report.json")
    assert on_cluster == in_process
    assert on_cluster["verdict"]["code"] == "MATCH"
    assert (submitted / "reports" / RUN_ID / "report.html").is_file()


def test_the_job_ran_on_the_cluster_executors(submitted, standalone):
    """The app registered with the master (so the session builder kept spark-submit's master
    instead of local[*]) and both workers ran an executor for it."""
    apps = [a for a in standalone.status()["completedapps"] if a["name"] == "crosscheck"]
    assert len(apps) == 1
    for i in range(2):
        assert (Path(standalone.workdir) / f"worker-{i}" / apps[0]["id"]).is_dir()
