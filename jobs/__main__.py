"""`python -m jobs <job> [--conf conf/pipeline.yaml] [--set key=value ...]`

Also runs as a file under spark-submit: `spark-submit jobs/__main__.py run ...`.
Exit codes: 0 done, 2 bad configuration, 3 unreadable input, 4 failed quality gate,
5 a table an earlier job writes is missing, 70 internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

if __package__ in (None, ""):  # run as a file (spark-submit): make the package importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

JOBS = ("ingest-sample", "ingest-warehouse", "crosscheck", "report", "run")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m jobs", description=__doc__.split("\n")[0])
    parser.add_argument("job", choices=JOBS)
    parser.add_argument("--conf", default=None, help="pipeline YAML (default conf/pipeline.yaml)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a setting, e.g. lakehouse=/tmp/lh")  # fmt: skip
    parser.add_argument("--sample", default=None, help="sample file or folder (.gz ok)")
    parser.add_argument("--run-id", default=None, help="run id (default: new, or latest)")
    parser.add_argument("--rebuild-index", action="store_true", help="rebuild the match index")
    return parser.parse_args(argv)


def run_job(args: argparse.Namespace) -> dict:
    from jobs import log
    from jobs import pipeline as pl
    from jobs.config import load_config
    from jobs.report import field_table
    from jobs.session import build_session

    config = load_config(args.conf, args.overrides)
    run_id = args.run_id or config.run_id
    if args.job in ("ingest-sample", "run") and not run_id:
        run_id = pl.new_run_id()
    log.set_context(job=args.job, run_id=run_id)
    spark = build_session(master=config.spark_master, conf=config.spark_conf)
    if run_id is None and args.job in ("crosscheck", "report"):
        run_id = pl.latest_run_id(spark, config)
        log.set_context(run_id=run_id)
    result: dict = {}
    if args.job in ("ingest-warehouse", "run"):
        result = pl.ingest_warehouse(spark, config, rebuild=args.rebuild_index)
    if args.job in ("ingest-sample", "run"):
        result = pl.ingest_sample(spark, config, args.sample, run_id)
    if args.job in ("crosscheck", "run"):
        result = pl.run_crosscheck(spark, config, run_id)
    if args.job in ("report", "run"):
        result = pl.make_report(spark, config, run_id)
        print(f"\nrun {run_id}: {result['verdict']['code']}\n{result['verdict']['text']}\n")
        print(field_table(result))
        print(f"\nreport: {result['_dir']}/report.json and report.md")
    return result


def main(argv: list[str] | None = None) -> int:
    from jobs import log
    from jobs.errors import CrosscheckError

    log.setup_logging(keep_existing=True)
    args = parse_args(argv)
    try:
        run_job(args)
    except CrosscheckError as exc:
        print(f"crosscheck {args.job}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - never dump data-bearing messages to the console
        path = _save_traceback(args)
        print(
            f"crosscheck {args.job}: internal error ({type(exc).__name__}); "
            f"details kept in {path}",
            file=sys.stderr,
        )
        return 70
    return 0


def _save_traceback(args: argparse.Namespace) -> str:
    """Tracebacks can quote data values: they stay inside the lakehouse, not on the console."""
    try:
        from jobs.config import load_config

        root = load_config(args.conf, args.overrides).lakehouse
    except Exception:  # noqa: BLE001
        root = "lakehouse"
    folder = os.path.join(root.removeprefix("file:"), "_errors")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{args.job}-{os.getpid()}.log")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(traceback.format_exc())
    return path


if __name__ == "__main__":
    sys.exit(main())
