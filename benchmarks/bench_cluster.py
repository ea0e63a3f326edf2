"""`make bench-cluster`: the full index build on a real standalone cluster with 1, then 2
workers of one core each: the scale-out curve, and where it stops scaling.

    python benchmarks/bench_cluster.py [--customers 1000000] [--workers 1,2]

Each point starts its own cluster (`tools/cluster.py`: a master and N worker JVMs), submits
the packaged `ingest-warehouse --rebuild-index` with spark-submit (the zip with --py-files,
Delta's jars with --jars, as a real cluster runs it), times it, and stops the cluster. The
lakehouse is a folder of its own beside the bench's data, so `make bench`'s is left alone.
The driver runs in this machine's cores too: on a 2-core machine, 2 workers share their cores
with the driver's planning, commits and broadcasts, so the curve understates a real cluster's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench import (  # noqa: E402
    PeakMemory,
    Sampler,
    StageLog,
    ensure_data,
    stage_label,
)

TARGET = 1.6  # 2 workers against 1, on the full index build


class Point(NamedTuple):
    """One spark-submit: wall s, peak JVM RSS bytes (driver + executors), the job's finished
    (sub-)stages' seconds summed by label, return code, CPU seconds of the driver (its JVM
    and Python) and of the workers' processes (executor JVMs and their Python workers)."""

    seconds: float
    jvm: int
    stages: dict[str, float]
    rc: int
    driver_cpu: float = 0.0
    worker_cpu: float = 0.0


class CpuSeconds(Sampler):
    """CPU seconds (user + system) of the processes under some roots, sampled every second:
    each process's last reading is kept, so processes that end still count (up to a second
    of their CPU may be missed)."""

    def __init__(self, roots: list[int]) -> None:
        super().__init__(1.0)
        self.roots, self.last = roots, {}

    def _sample(self) -> None:
        for root in self.roots:
            try:
                top = psutil.Process(root)
                procs = [top, *top.children(recursive=True)]
            except psutil.Error:
                continue
            for p in procs:
                try:
                    t = p.cpu_times()
                    self.last[(p.pid, p.create_time())] = t.user + t.system
                except psutil.Error:
                    pass

    @property
    def seconds(self) -> float:
        return sum(self.last.values())


def submit(cmd: list[str], env: dict[str, str], log_path: Path, workers: list[int]) -> Point:
    """Run one spark-submit, its output kept in `log_path`; the job's JSON stage lines are
    read as they come (StageLog prints each finished stage: a long run shows where it is)."""
    stage_log = StageLog()
    with PeakMemory() as mem, open(log_path, "w") as out:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)  # fmt: skip
        with CpuSeconds([proc.pid]) as driver, CpuSeconds(workers) as executors:
            for line in proc.stdout:
                out.write(line)
                stage_log.write(line)
            rc = proc.wait()
            seconds = time.perf_counter() - t
    if rc:
        print(f"spark-submit failed (rc {rc}): {log_path}", file=sys.stderr)
    stages: dict[str, float] = {}
    for r in stage_log.finished:
        stages[stage_label(r)] = stages.get(stage_label(r), 0.0) + float(r.get("seconds", 0))
    return Point(seconds, mem.jvm, stages, rc, driver.seconds, executors.seconds)


def on_cluster(
    args: argparse.Namespace, workers: int, data: Path, lakehouse: Path, dist: Path
) -> tuple[Point, Point | None]:
    """On a fresh cluster of `workers` 1-core workers: the full index build, then (unless
    --no-claim) a `run` of the bench's sample on that index: the claim as on-call runs it."""
    from tools import cluster

    wh = data / "warehouse"
    common = ["--set", f"lakehouse={lakehouse}",
              *[a for role in ("customers", "addresses", "orders")
                for a in ("--set", f"warehouse.{role}.path={wh}/{role}")]]  # fmt: skip
    conf = {
        "spark.cores.max": str(workers),
        "spark.executor.memory": args.executor_memory,
        "spark.sql.shuffle.partitions": str(args.shuffle_partitions),
    }
    work = Path(args.data) / f"cluster_w{workers}"
    started = cluster.start(work, workers=workers, cores=1, memory=args.executor_memory,
                            pin=True)  # fmt: skip
    env = cluster.cluster_env()
    try:
        jobs = {"build": ["ingest-warehouse", "--rebuild-index", *common]}
        if not args.no_claim:
            sample = ["--sample", str(data / "sample"), "--run-id", f"bench-cluster-w{workers}"]
            jobs["claim"] = ["run", *common, *sample]
        out = {}
        for name, job in jobs.items():
            cmd = cluster.submit_command(started, dist, job, conf=conf,
                                         driver_memory=args.driver_memory)  # fmt: skip
            out[name] = submit(cmd, env, work / f"{name}.log", started.pids[1:])
            print(f"{workers} worker(s): {name} {out[name].seconds:.1f} s (rc {out[name].rc}), "
                  f"peak JVM RSS {out[name].jvm / 2**30:.2f} GiB", flush=True)  # fmt: skip
            if out[name].rc:
                break
    finally:
        cluster.stop(started.pids)
    return out["build"], out.get("claim")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--workers", default="1,2", help="comma list of worker counts")
    parser.add_argument("--data", default="bench_data")
    parser.add_argument("--executor-memory", default="6g", help="per 1-core worker")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    parser.add_argument("--no-claim", action="store_true", help="the index build only")
    args = parser.parse_args()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from tools.build_dist import build_pyfiles

    lines = max(args.customers // 10, 1000)
    data = ensure_data(Path(args.data), args.customers, lines).resolve()
    lakehouse = (Path(args.data) / f"lakehouse_cluster_c{args.customers}").resolve()
    dist = build_pyfiles(Path(args.data) / "cluster_dist")[0].parent
    builds, claims = {}, {}
    for n in (int(x) for x in args.workers.split(",")):
        builds[n], claim = on_cluster(args, n, data, lakehouse, dist)
        if builds[n].rc or (claim and claim.rc):
            return builds[n].rc or claim.rc
        if claim:
            claims[n] = claim
    print_curve(f"index build, {args.customers:,} customers", builds, TARGET)
    if claims:
        print_curve(f"claim (`run` on the built index), {lines:,} lines", claims)
    return 0


def print_curve(title: str, points: dict[int, Point], target: float | None = None) -> None:
    """Wall and speed-up per worker count, then each sub-stage's speed-up: the stages that do
    not scale are where a bigger cluster stops helping."""
    counts = sorted(points)
    base = points[counts[0]].seconds
    print(f"\n{title}, standalone cluster of 1-core workers")
    print(f"{'workers':>8}{'wall s':>10}{'speed-up':>10}{'JVM GiB':>9}{'driver CPU s':>14}"
          f"{'workers CPU s':>15}{'cores busy':>12}")  # fmt: skip
    for n in counts:
        p = points[n]
        busy = (p.driver_cpu + p.worker_cpu) / p.seconds
        print(f"{n:>8}{p.seconds:>10.1f}{base / p.seconds:>10.2f}{p.jvm / 2**30:>9.2f}"
              f"{p.driver_cpu:>14.0f}{p.worker_cpu:>15.0f}{busy:>12.2f}")  # fmt: skip
    print(f"(cores busy: CPU seconds of driver and workers per wall second; this machine has "
          f"{os.cpu_count()}, and the driver runs on them too)")  # fmt: skip
    if len(counts) > 1:
        last = points[counts[-1]].seconds
        aim = f" (target >= {target})" if target else ""
        print(f"{counts[-1]} workers / {counts[0]}: {base / last:.2f}{aim}")
    heads = "".join(f"{f'{n} w s':>9}" for n in counts)
    print(f"\n{'sub-stage':<36}{heads}{'speed-up':>10}")
    first, final = points[counts[0]].stages, points[counts[-1]].stages
    for name in first:
        cells = "".join(f"{points[n].stages.get(name, 0.0):>9.1f}" for n in counts)
        up = first[name] / final[name] if final.get(name) else 0.0
        print(f"  {name:<34}{cells}{up:>10.2f}")


if __name__ == "__main__":
    sys.exit(main())
