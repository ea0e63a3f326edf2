"""Per-run writes: a run the table does not hold is appended, a run it holds is replaced in
one commit (replaceWhere); other runs' rows are never touched."""

from __future__ import annotations

from delta.tables import DeltaTable

from jobs.io.delta import write_run


def rows_of(spark, run_id: str, values: list[int | None]):
    return spark.createDataFrame([(v, run_id) for v in values], "v int, run_id string")


def test_new_runs_are_appended_and_a_rerun_replaces_only_its_rows(spark, tmp_path):
    table = str(tmp_path / "evidence")
    write_run(spark, rows_of(spark, "a", [1, 2, None]), table, "a")
    write_run(spark, rows_of(spark, "b", [3]), table, "b")
    write_run(spark, rows_of(spark, "a", [4]), table, "a")

    got = spark.read.format("delta").load(table)
    assert sorted((r.run_id, r.v) for r in got.collect()) == [("a", 4), ("b", 3)]
    history = DeltaTable.forPath(spark, table).history().orderBy("version").collect()
    modes = [(h.operation, h.operationParameters.get("mode")) for h in history]
    assert modes == [("WRITE", "Overwrite"), ("WRITE", "Append"), ("WRITE", "Overwrite")]
    assert "run_id" in history[-1].operationParameters.get("predicate", "")
