"""The hash key never leaves the job: not in what it prints or logs, not in its reports, not
in Spark's event log (what the UI and the history server show: every SQL plan, the Spark
and system properties). Nor anything the key can be had from: HMAC's pads are the key XOR a
constant, and the gram prefix and gram tables let anyone hash a guessed name. The job runs
in its own process, with a key only this test knows and the event log switched on through
`SPARK_CONF_DIR`, as an operator would: once in a classic session, once under Spark Connect
(a local Connect server, where the key's relation travels to the server inside the plan).
`make chaos` runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from jobs.match import secrets
from jobs.normalise.hashing import hmac_key_bytes
from tests.integration.conftest import cli_args

pytestmark = [pytest.mark.slow, pytest.mark.chaos]
ROOT = Path(__file__).resolve().parents[2]
KEY = f"only-this-test-knows-{uuid.uuid4().hex}"
WRONG_KEY = f"another-key-{uuid.uuid4().hex}"


def _job(args: list[str], conf_dir: Path, key: str, remote: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CROSSCHECK_HASH_KEY": key, "SPARK_CONF_DIR": str(conf_dir)}
    env.pop("CROSSCHECK_SPARK_REMOTE", None)
    if remote:
        env["CROSSCHECK_SPARK_REMOTE"] = remote
    return subprocess.run(
        [sys.executable, "-m", "jobs", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=1200,
    )  # fmt: skip


@pytest.fixture(scope="module", params=["", "local[2]"], ids=["classic", "connect"])
def keyed_runs(tmp_path_factory, request):
    """A whole `run` (index build included) of a small demo under KEY, then a sample hashed
    under WRONG_KEY and its cross-check against that index: (root, the two processes'
    output, the wrong key's cross-check)."""
    from tools.demo import generate

    remote = request.param
    root = tmp_path_factory.mktemp("secrets")
    demo = root / "demo"
    generate(demo, customers=300, sample_lines=80, planted_share=0.3, broken=4, seed=11)
    conf_dir, events = root / "spark-conf", root / "events"
    conf_dir.mkdir()
    events.mkdir()
    (conf_dir / "spark-defaults.conf").write_text(
        f"spark.eventLog.enabled true\nspark.eventLog.dir file://{events}\n"
        "spark.eventLog.compress false\nspark.ui.enabled true\n"
    )
    base = [*cli_args(root / "lakehouse", demo / "warehouse"), "--sample", str(demo / "sample")]
    run = _job(["run", *base, "--run-id", "keyed"], conf_dir, KEY, remote)
    assert run.returncode == 0, run.stderr[-3000:]
    wrong_sample = _job(["ingest-sample", *base, "--run-id", "wrong"], conf_dir, WRONG_KEY, remote)
    assert wrong_sample.returncode == 0, wrong_sample.stderr[-3000:]
    wrong = _job(["crosscheck", *base, "--run-id", "wrong"], conf_dir, WRONG_KEY, remote)
    print(f"event logs: {sorted(p.name for p in events.iterdir())}")
    return root, [run, wrong_sample, wrong], wrong


def _derived(key: str) -> dict[str, str]:
    """What the key can be had from, as it would be printed (hex, any case)."""
    ipad, opad = hmac_key_bytes(key)
    return {
        "key": key,
        "key as hex": key.encode().hex(),
        "HMAC inner pad": ipad.hex(),
        "HMAC outer pad": opad.hex(),
        "gram prefix": secrets.gram_prefix(key).hex(),
    }


def _written(root: Path, runs: list[subprocess.CompletedProcess]) -> dict[str, str]:
    """Every text the runs left outside the tables: console, logs, event logs, reports."""
    texts = {f"process {i} output": r.stdout + r.stderr for i, r in enumerate(runs)}
    for path in (root / "events").rglob("*"):
        if path.is_file():
            texts[f"event log {path.name}"] = path.read_text(encoding="utf-8", errors="replace")
    for path in (root / "lakehouse").rglob("report*"):
        if path.is_file():
            texts[str(path.relative_to(root))] = path.read_text(encoding="utf-8", errors="replace")
    return texts


def test_the_event_log_holds_the_plans(keyed_runs, request):
    """The check below reads what it should: the event log has the runs' SQL plans, and
    under Connect the plans as the client sent them (with the key's relation inside)."""
    root, runs, _ = keyed_runs
    logs = "".join(t for name, t in _written(root, runs).items() if name.startswith("event"))
    assert logs.count('SparkListenerSQLExecutionStart"') >= 20
    assert "sha2" in logs and "BroadcastNestedLoopJoin" in logs  # the hashes and their key
    if "connect" in request.node.callspec.id:
        assert logs.count("SparkListenerConnectOperationStarted") >= 20
        assert "local_relation" in logs


@pytest.mark.parametrize("key", [KEY, WRONG_KEY], ids=["key", "wrong key"])
def test_no_key_material_is_written(keyed_runs, key):
    root, runs, _ = keyed_runs
    written = _written(root, runs)
    assert any(n.startswith("event log") for n in written) and any("report" in n for n in written)
    leaks = [
        (what, where)
        for what, value in _derived(key).items()
        for where, text in written.items()
        if value.lower() in text.lower()
    ]
    assert leaks == []


def test_no_gram_table_is_written(keyed_runs):
    """A few numbers of the tables may occur by chance among a log's numbers; a table
    written out would show hundreds."""
    root, runs, _ = keyed_runs
    numbers = set()
    for text in _written(root, runs).values():
        numbers.update(int(n) for n in re.findall(r"-?\d{6,10}", text))
    for tag in secrets.GRAM_TAGS:
        table = set(secrets.gram_table(tag, KEY))
        assert len(table & numbers) <= 2, tag


def test_a_sample_hashed_under_another_key_is_refused(keyed_runs):
    _, _, wrong = keyed_runs
    assert wrong.returncode == 2, wrong.stderr[-3000:]
    assert "another hash key" in wrong.stdout + wrong.stderr
