"""The pipeline under Spark Connect (Databricks serverless and shared clusters give Python no
SparkContext, no py4j handles, no RDDs) gives the same report as the classic session: the
CLI runs in a process of its own with CROSSCHECK_SPARK_REMOTE=local[2], which starts a real
Connect server (Delta's extension, catalog and jars) in that process, and its client speaks
to it over gRPC only. The demo index is the shared one, so the Connect run reads the tables a
classic run wrote, and its report is compared with the shared classic run's (`planted_run`).
Then, in the same process, the index is refreshed under Connect for a few changed customers:
the incremental build's MERGE (Delta SQL under Connect) must leave the rows a classic build
gives.

The local server listens on Spark Connect's default port, 15002: one such run at a time.
`make chaos` runs it (a job in a process of its own, like the cluster's), after `make test`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import functions as F

from tests.conftest import TEST_SPARK_CONF
from tests.integration.conftest import (
    PLANTED_RUN_ID,
    canonical,
    cli_args,
    copy_lakehouse,
    index_rows,
)

pytestmark = [pytest.mark.slow, pytest.mark.chaos]

# The CLI's `main` (the run, then the index refresh), then the Connect alternatives of
# `jobs.io.compat` (listing and reading remote files with the binaryFile source) on the sample
# as a file:// URL, all in one session.
DRIVER = """
import json, sys
from jobs.__main__ import main
code = main(sys.argv[3:])
refresh = json.loads(sys.argv[2])
refresh_exit = main(refresh) if code == 0 else None
from jobs.io import compat
from jobs.session import build_session
spark = build_session()
folder = sys.argv[1]
files = compat.list_remote_files(spark, "file://" + folder)
heads = [list(compat.remote_head_bytes(spark, f, 64)) for f in files]
print(json.dumps({"connect": compat.is_connect(spark), "files": files,
                  "refresh_exit": refresh_exit,
                  "heads": [[h.decode("latin-1"), whole] for h, whole in heads]}))
sys.exit(code)
"""
MOVED = 3  # customers whose e-mail becomes the next customers' e-mail


def changed_warehouse(demo: Path, dest: Path) -> dict[str, str]:
    """A copy of the demo warehouse in which the first MOVED customers with an e-mail take the
    e-mails of the next MOVED: {changed customer id: customer id whose e-mail it now has}."""
    shutil.copytree(demo / "warehouse", dest)
    customers = pd.read_parquet(dest / "customers")
    with_email = customers.index[customers["email"].notna()][: 2 * MOVED]
    takers, givers = with_email[:MOVED], with_email[MOVED:]
    customers.loc[takers, "email"] = customers.loc[givers, "email"].to_numpy()
    shutil.rmtree(dest / "customers")
    (dest / "customers").mkdir()
    customers.to_parquet(dest / "customers" / "part-00000.parquet", index=False)
    ids = customers["customer_id"].astype(str)
    return dict(zip(ids[takers], ids[givers], strict=True))


def connect_env() -> dict[str, str]:
    env = dict(os.environ, CROSSCHECK_SPARK_REMOTE="local[2]", PYSPARK_PYTHON=sys.executable)
    env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return env


@pytest.fixture(scope="module")
def connect_run(demo, demo_index, tmp_path_factory):
    """(lakehouse, finished process, the changed customers) of `run` on the demo sample under
    Connect, from a copy of the shared index, with the test session's small-data settings;
    then `ingest-warehouse` on the changed warehouse in the same session."""
    base = tmp_path_factory.mktemp("connect")
    lakehouse = copy_lakehouse(demo_index, base / "lakehouse")
    moved = changed_warehouse(demo, base / "warehouse")
    conf = {**TEST_SPARK_CONF, "spark.driver.memory": "2g"}
    sets = [a for k, v in conf.items() for a in ("--set", f"spark.conf.{k}={v}")]
    args = ["run", *cli_args(lakehouse, demo / "warehouse"), "--sample", str(demo / "sample"),
            "--run-id", PLANTED_RUN_ID, *sets]  # fmt: skip
    refresh = ["ingest-warehouse", *cli_args(lakehouse, base / "warehouse"), *sets]
    cmd = [sys.executable, "-c", DRIVER, str(demo / "sample"), json.dumps(refresh), *args]
    done = subprocess.run(cmd, cwd=base, env=connect_env(), capture_output=True, text=True,
                          timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return lakehouse, done, moved


def test_connect_report_equals_classic_report(connect_run, planted_run):
    """Same data, same run id: the Connect run's report is the classic run's."""
    lakehouse, _, _ = connect_run
    classic, code, _ = planted_run
    assert code == 0
    on_connect = canonical(lakehouse / "reports" / PLANTED_RUN_ID / "report.json")
    assert on_connect == canonical(classic / "reports" / PLANTED_RUN_ID / "report.json")
    assert on_connect["verdict"]["code"] == "MATCH"
    assert (lakehouse / "reports" / PLANTED_RUN_ID / "report.html").is_file()


def test_the_run_used_a_connect_session(connect_run):
    """The job logged its Connect session, and nothing it or the server wrote to the console
    is a traceback or a failed request."""
    _, done, _ = connect_run
    logged = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert any(e["msg"] == "spark connect session" for e in logged)
    assert "Traceback" not in done.stderr
    assert "ErrorUtils" not in done.stderr


def test_remote_files_are_listed_and_read_through_connect(connect_run, demo):
    """compat's Connect alternatives (the binaryFile source) list the sample folder's files
    and read their first bytes as stored, as the local reads do."""
    from jobs.io.files import head_bytes, list_files

    found = json.loads(connect_run[1].stdout.strip().splitlines()[-1])
    assert found["connect"] is True
    local = list_files(None, str(demo / "sample"))
    assert [f.removeprefix("file:") for f in found["files"]] == local
    expected = [head_bytes(None, f, 64) for f in local]
    assert [(h.encode("latin-1"), whole) for h, whole in found["heads"]] == expected


def test_an_incremental_refresh_under_connect_leaves_the_rows_of_a_classic_build(
    connect_run, demo_index, spark
):
    """MOVED customers took other customers' e-mails: the refresh under Connect was
    incremental for exactly them, and the index is the classic build's with each changed
    customer's e-mail row now the giver's key."""
    lakehouse, done, moved = connect_run
    assert json.loads(done.stdout.strip().splitlines()[-1])["refresh_exit"] == 0
    logged = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    build = [e for e in logged if e["msg"] == "stage finished" and e["stage"] == "ingest-warehouse"]
    assert (build[-1]["mode"], build[-1]["customers_refreshed"]) == ("incremental", MOVED)

    classic = index_rows(spark, demo_index)
    emails = {(r[2], r[1]) for r in classic if r[0] == "email" and r[3] == "customers"}
    expected = {r for r in classic if not (r[0] == "email" and r[2] in moved)}
    expected |= {("email", key, taker, "customers") for taker, giver in moved.items()
                 for who, key in emails if who == giver}  # fmt: skip
    assert len(expected - classic) >= MOVED
    assert index_rows(spark, lakehouse) == expected
    builds = spark.read.format("delta").load(str(lakehouse / "index_builds"))
    assert builds.filter(F.col("mode") == "incremental").count() == 1
