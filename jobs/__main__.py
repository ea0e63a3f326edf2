"""`python -m jobs <job> [--conf conf/pipeline.yaml] [--set key=value ...]`

Also runs as a file under spark-submit: `spark-submit jobs/__main__.py run ...`, and as one
console script per job (`crosscheck-<job>`, see pyproject.toml) for Databricks wheel tasks.
Exit codes: 0 done, 2 bad configuration, 3 unreadable input, 4 failed quality gate,
5 a table an earlier job writes is missing, 70 internal error.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.settings import Config

if __package__ in (None, ""):  # run as a file (spark-submit): make the package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

JOBS = ("ingest-sample", "ingest-warehouse", "validate", "crosscheck", "report", "run", "watch")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Every option is accepted by every job: a scheduler hands all job parameters to each task.
    Options also have `_` spellings because Databricks passes named parameters as `--key=value`."""
    parser = argparse.ArgumentParser(prog="python -m jobs", description=__doc__.split("\n")[0])
    parser.add_argument("job", choices=JOBS)
    parser.add_argument("--conf", default=None, help="pipeline YAML (default conf/pipeline.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a setting, e.g. lakehouse=/tmp/lh")  # fmt: skip
    parser.add_argument("--sample", default=None, help="sample file or folder (.gz ok)")
    parser.add_argument("--run-id", "--run_id", dest="run_id", default=None,
                        help="run id (default: new, or latest)")  # fmt: skip
    parser.add_argument("--rebuild-index", "--rebuild_index", dest="rebuild_index",
                        action="store_true", help="rebuild the match index")  # fmt: skip
    parser.add_argument("--landing", default=None,
                        help="watch: folder of sample files, each processed once")  # fmt: skip
    parser.add_argument("--claimed-records", "--claimed_records", dest="claimed_records",
                        type=_claimed, default=None, metavar="N",
                        help="crosscheck/report: record count the seller claims")  # fmt: skip
    return parser.parse_args(argv)


def _claimed(value: str) -> int | None:
    """A record count; empty (a job parameter left blank) means no claim."""
    value = value.strip().replace(",", "").replace("_", "")
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a record count: {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError("a record count cannot be negative")
    return number


def run_job(args: argparse.Namespace) -> dict:
    from jobs import log
    from jobs import steps as pl
    from jobs.render import html as html_report
    from jobs.render.safe import console_lines
    from jobs.session import build_session
    from jobs.settings import load_config

    config = load_config(args.conf, args.overrides)
    if args.job == "watch":
        return _watch(args, config)
    run_id = args.run_id or config.run_id
    if args.job in ("ingest-sample", "run") and not run_id:
        run_id = pl.new_run_id()
    log.set_context(job=args.job, run_id=run_id)
    spark = build_session(master=config.spark_master, conf=config.spark_conf)
    if run_id is None and args.job in ("validate", "crosscheck", "report"):
        run_id = pl.latest_run_id(spark, config)
        log.set_context(run_id=run_id)
    result: dict = {}
    if args.job in ("ingest-warehouse", "run"):
        result = pl.ingest_warehouse(spark, config, rebuild=args.rebuild_index)
    if args.job in ("ingest-sample", "run"):
        result = pl.ingest_sample(spark, config, args.sample, run_id)
    if args.job == "validate":
        from jobs import quality
        from jobs.steps.validate import validate_run

        results = validate_run(spark, config, run_id, enforce_gate=False)
        print(console_lines(quality.markdown_section(quality.summary(results))))
        quality.enforce(results)
        result = {"quality": quality.summary(results)}
    if args.job in ("crosscheck", "run"):
        result = pl.run_crosscheck(spark, config, run_id, args.claimed_records)
    if args.job in ("report", "run"):
        result = pl.make_report(spark, config, run_id, args.claimed_records)
        html_report.write_html(result, result["_dir"])
        print(report_summary(run_id, result))
    return result


def report_summary(run_id: str | None, report: Mapping[str, Any]) -> str:
    """What `report` and `run` print: the verdict, the per-field table and where the reports
    are. The verdict text quotes sample headers and values, so control characters (ANSI
    sequences included) are shown escaped."""
    from jobs.render.markdown import field_table
    from jobs.render.safe import console_lines, console_text

    v = report["verdict"]
    return "\n".join([
        "", f"run {console_text(run_id)}: {console_text(v['code'])}", console_text(v["text"]), "",
        console_lines(field_table(report)), "",
        f"report: {console_text(report['_dir'])}/report.json, report.md and report.html",
    ])  # fmt: skip


def watch_line(item: Mapping[str, Any]) -> str:
    """One processed sample of `watch`: its file name is the sender's, shown escaped."""
    from jobs.render.safe import console_text

    return console_text(
        f"{item['file']}: {item['verdict']} (run {item['run_id']}, {item['report']})"
    )


def _watch(args: argparse.Namespace, config: Config) -> dict:
    from jobs import log
    from jobs.errors import ConfigError
    from jobs.session import build_session
    from jobs.steps import watch

    if not args.landing:
        raise ConfigError("watch needs --landing PATH (the folder where samples are dropped)")
    log.set_context(job="watch")
    spark = build_session(master=config.spark_master, conf=config.spark_conf)
    outcome = watch.process_landing(spark, config, args.landing)
    for item in outcome["processed"]:
        print(watch_line(item))
    print(f"watch: {len(outcome['processed'])} processed, {len(outcome['skipped'])} already done")
    return outcome


def main(argv: list[str] | None = None) -> int:
    from jobs import log
    from jobs.errors import CrosscheckError
    from jobs.render.safe import console_text

    log.setup_logging(keep_existing=True)
    args = parse_args(argv)
    try:
        run_job(args)
    except CrosscheckError as exc:
        print(f"crosscheck {args.job}: error: {console_text(exc)}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - never dump data-bearing messages to the console
        if _no_space_left(exc):
            print(f"crosscheck {args.job}: error: {NO_SPACE}", file=sys.stderr)
            return 74
        path = _save_traceback(args)
        print(
            f"crosscheck {args.job}: internal error ({type(exc).__name__}); details kept in {path}",
            file=sys.stderr,
        )
        return 70
    return 0


NO_SPACE = (
    "no space left on a disk the job writes to (the lakehouse or Spark's local folders); "
    "Delta keeps no half-written commit: free space and run the same command again"
)


def _no_space_left(exc: BaseException | None) -> bool:
    """ENOSPC anywhere in the exception's chain, in Python or in the JVM's causes."""
    for _ in range(20):
        if exc is None:
            return False
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        if any("No space left on device" in text for text in _java_causes(exc)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _java_causes(exc: BaseException) -> list[str]:
    """The messages of a Spark error's Java exception and its causes (none for others)."""
    texts, java = [str(exc)], getattr(exc, "_origin", None) or getattr(exc, "java_exception", None)
    try:
        while java is not None and len(texts) < 20:
            texts.append(str(java.toString()))
            java = java.getCause()
    except Exception:  # noqa: BLE001 - the JVM may be gone; what was read is enough
        pass
    return texts


def _save_traceback(args: argparse.Namespace) -> str:
    """Tracebacks can quote data values: they stay inside the lakehouse, not on the console."""
    try:
        from jobs.settings import load_config

        root = load_config(args.conf, args.overrides).lakehouse
    except Exception:  # noqa: BLE001
        root = "lakehouse"
    folder = os.path.join(root.removeprefix("file:"), "_errors")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{args.job}-{os.getpid()}.log")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(traceback.format_exc())
    return path


def _entry(job: str) -> Callable[[], None]:
    """A console-script entry point for one job: arguments come from sys.argv, and a failure
    raises SystemExit so that a Databricks wheel task (which ignores return values) fails."""

    def entry() -> None:
        code = main([job, *sys.argv[1:]])
        if code:
            raise SystemExit(code)

    entry.__name__ = entry.__qualname__ = job.replace("-", "_")
    return entry


def __getattr__(name: str) -> Callable[[], None]:
    """`jobs.__main__:ingest_sample` and friends: one entry point per name in JOBS."""
    job = name.replace("_", "-")
    if job in JOBS:
        return _entry(job)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":
    sys.exit(main())
