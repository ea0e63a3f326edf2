"""A real Spark standalone cluster on 127.0.0.1, started from the pyspark package (which has no
start-master.sh): one master and N workers as separate JVMs, so jobs run the way they do on a
cluster (executors in other processes, code shipped with --py-files, jars with --jars).

    python tools/cluster.py up [--workers 2]     # prints the master URL, keeps state in .cluster/
    python tools/cluster.py submit -- run --sample demo_data/sample ...
    python tools/cluster.py down

Each daemon runs in its own process group and is stopped through the pids recorded at start,
never by name.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `jobs` and `tools` importable
    sys.path.insert(0, str(ROOT))

from jobs.session import cached_jars  # noqa: E402
from tools.build_dist import ENTRY_NAME, build_pyfiles, version  # noqa: E402

STATE_DIR = ROOT / ".cluster"
# JVM options for short runs on a small machine: the C1 compiler only and the serial GC halve
# the CPU a minutes-long job spends warming up (long jobs want the defaults).
QUICK_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


@dataclass
class Cluster:
    master_url: str
    ui_url: str
    workdir: str
    pids: list[int] = field(default_factory=list)

    def status(self) -> dict:
        with urllib.request.urlopen(f"{self.ui_url}/json/", timeout=5) as resp:
            return json.load(resp)


def spark_home() -> Path:
    if os.environ.get("SPARK_HOME"):
        return Path(os.environ["SPARK_HOME"])
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cluster_env(python: str = sys.executable, java_opts: str = "") -> dict[str, str]:
    """Environment for daemons and spark-submit: executors run this environment's python, and
    no PYTHONPATH leaks the checkout into a job that should run from its zip."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(SPARK_HOME=str(spark_home()), SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=python,
               PYSPARK_DRIVER_PYTHON=python, SPARK_NO_DAEMONIZE="1")  # fmt: skip
    if java_opts:
        env["SPARK_DAEMON_JAVA_OPTS"] = java_opts
    return env


def _daemon(args: list[str], log: Path, env: dict[str, str], cpus: set[int] | None = None) -> int:
    """Start one daemon; `cpus`: the only CPUs it and what it starts (executor JVMs, their
    Python workers) may run on, since affinity is inherited."""
    cmd = [str(spark_home() / "bin" / "spark-class"), *args]
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, cwd=log.parent, preexec_fn=pin)  # fmt: skip
    return proc.pid


def _wait(cluster: Cluster, workers: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = cluster.status()
            alive = [w for w in state.get("workers", []) if w.get("state") == "ALIVE"]
            if state.get("status") == "ALIVE" and len(alive) >= workers:
                return
        except OSError:
            pass
        time.sleep(0.5)
    stop(cluster.pids)
    raise RuntimeError(f"cluster not up after {timeout:.0f}s; logs in {cluster.workdir}")


def start(workdir: Path, workers: int = 2, cores: int = 1, memory: str = "1g",
          timeout: float = 120, java_opts: str = "", pin: bool = False) -> Cluster:  # fmt: skip
    """Start a master and `workers` workers on free ports; return once all are registered.
    `pin`: worker i runs on this machine's CPUs i*cores .. (i+1)*cores-1 only (a scale-out
    measurement: otherwise a "1-core" worker's JVM threads and Python workers use every CPU)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = cluster_env(java_opts=java_opts)
    port, ui = free_port(), free_port()
    cluster = Cluster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{ui}", str(workdir))
    master = [MASTER_CLASS, "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui)]
    cluster.pids.append(_daemon(master, workdir / "master.log", env))
    for i in range(workers):
        work = workdir / f"worker-{i}"
        work.mkdir(exist_ok=True)
        worker = [WORKER_CLASS, "--host", "127.0.0.1", "--cores", str(cores),
                  "--memory", memory, "--webui-port", str(free_port()),
                  "--work-dir", str(work), cluster.master_url]  # fmt: skip
        cpus = {(i * cores + c) % os.cpu_count() for c in range(cores)} if pin else None
        cluster.pids.append(_daemon(worker, workdir / f"worker-{i}.log", env, cpus))
    _wait(cluster, workers, timeout)
    return cluster


def _is_ours(pid: int) -> bool:
    """A recorded pid still running one of the Spark daemons (pids get reused)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return MASTER_CLASS.encode() in cmdline or WORKER_CLASS.encode() in cmdline


def stop(pids: list[int], grace: float = 15) -> None:
    """SIGTERM each daemon's process group (the JVM and anything it started), then SIGKILL."""
    live = [p for p in pids if _is_ours(p)]
    _signal(live, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while live and time.monotonic() < deadline:
        live = [p for p in live if _is_ours(p)]
        time.sleep(0.2)
    _signal(live, signal.SIGKILL)


def _signal(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        try:
            os.killpg(pid, sig)  # the daemon leads its own group (start_new_session)
        except ProcessLookupError:
            pass


def submit_command(
    cluster: Cluster,
    dist: Path,
    job_args: list[str],
    java_opts: str = "",
    conf: dict[str, str] | None = None,
    driver_memory: str = "1g",
) -> list[str]:
    """spark-submit of the packaged pipeline: Delta's cached jars with --jars, the package zip
    with --py-files; Delta's SQL extension and catalog are set by jobs.session. `conf`: more
    Spark settings (small test data wants few shuffle partitions), over the defaults here."""
    jars = cached_jars()
    if not jars:
        raise RuntimeError("no cached Delta jars: run `make jars` first")
    jvm = []
    if java_opts:
        jvm = ["--driver-java-options", java_opts,
               "--conf", f"spark.executor.extraJavaOptions={java_opts}"]  # fmt: skip
    return [
        str(spark_home() / "bin" / "spark-submit"),
        "--master", cluster.master_url,
        "--deploy-mode", "client",
        "--driver-memory", driver_memory,
        *jvm,
        "--conf", "spark.executor.memory=1g",
        "--conf", "spark.executor.cores=1",
        "--conf", "spark.cores.max=2",
        "--conf", "spark.ui.enabled=false",
        *[arg for k, v in (conf or {}).items() for arg in ("--conf", f"{k}={v}")],
        "--jars", ",".join(jars),
        "--py-files", str(dist / f"crosscheck-{version()}.zip"),
        str(dist / ENTRY_NAME),
        *job_args,
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("up", "down", "status", "submit"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("job_args", nargs="*", help="after --: the job's arguments (submit)")
    args = parser.parse_args(argv)
    state_file = STATE_DIR / "state.json"
    saved = Cluster(**json.loads(state_file.read_text())) if state_file.exists() else None
    if args.action == "up":
        if saved and any(_is_ours(p) for p in saved.pids):
            print(f"already up: {saved.master_url} (ui {saved.ui_url})")
            return 0
        cluster = start(STATE_DIR / "work", workers=args.workers)
        state_file.write_text(json.dumps(asdict(cluster)))
        print(f"up: {cluster.master_url} (ui {cluster.ui_url}); `make cluster-down` stops it")
    elif saved is None:
        print("no cluster started here (make cluster-up)", file=sys.stderr)
        return 1
    elif args.action == "down":
        stop(saved.pids)
        state_file.unlink()
        print("down")
    elif args.action == "status":
        print(json.dumps(saved.status(), indent=2))
    else:
        build_pyfiles(ROOT / "dist")
        cmd = submit_command(saved, ROOT / "dist", args.job_args)
        return subprocess.run(cmd, env=cluster_env()).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
