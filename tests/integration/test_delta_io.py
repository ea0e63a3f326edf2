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


def test_customers_are_replaced_in_a_table_named_by_a_relative_path(spark, tmp_path):
    """`lakehouse: lakehouse` (the default) names the indexes by relative paths: the refresh's
    Delta SQL (its table's deletion vectors) must find them as the writers do."""
    import os

    from jobs.io.delta import DELETION_VECTORS, overwrite, replace_customers

    location = os.path.relpath(tmp_path / "index")
    assert not os.path.isabs(location)
    rows = [("1", "a"), ("2", "b"), ("3", "c"), (None, "no customer")]
    overwrite(spark.createDataFrame(rows, "customer_id string, v string"), location)
    changed = spark.createDataFrame([("2",), ("4",)], "customer_id string")
    new = spark.createDataFrame([("2", "b2"), ("4", "d")], "customer_id string, v string")
    replace_customers(spark, location, changed, new)
    got = spark.read.format("delta").load(location).collect()
    assert sorted((r.customer_id or "", r.v) for r in got) == [
        ("", "no customer"),
        ("1", "a"),
        ("2", "b2"),
        ("3", "c"),
        ("4", "d"),
    ]
    table = DeltaTable.forPath(spark, str(tmp_path / "index"))
    assert table.detail().first().properties.get(DELETION_VECTORS) == "true"


def test_replaced_customers_rows_are_appended_one_file_per_partition(spark, tmp_path):
    """New rows spread over many tasks land in one file per partition of the table, not one
    per task and partition: refreshes would otherwise pile up small files."""
    from jobs.io.delta import overwrite, replace_customers

    location = str(tmp_path / "index")
    schema = "field string, customer_id string, v int"
    old = [("email", "1", 0), ("phone", "1", 0), ("email", "2", 0)]
    overwrite(spark.createDataFrame(old, schema), location, ["field"])
    before = set(spark.read.format("delta").load(location).inputFiles())
    new = [(f, str(c), c) for f in ("email", "phone") for c in range(1, 41)]  # 80 rows
    rows = spark.createDataFrame(new, schema).repartition(8)
    assert rows.rdd.getNumPartitions() == 8
    changed = spark.createDataFrame([(str(c),) for c in range(1, 41)], "customer_id string")
    replace_customers(spark, location, changed, rows)
    table = spark.read.format("delta").load(location)
    assert sorted((r.field, r.customer_id, r.v) for r in table.collect()) == sorted(new)
    assert len(set(table.inputFiles()) - before) == 2  # email and phone: one file each
