"""An index refresh keeps the u last measured and the warehouse profile while few customers
changed since: linkage_u, warehouse_profile and index_builds as Delta tables, written by hand
with the builds' times and refreshed counts."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

from jobs import tables as T
from jobs.settings import load_config
from jobs.steps.index_plan import Build
from jobs.steps.ingest_warehouse import _profile_kept_from
from jobs.steps.warehouse_u import _last_measured, levels_fingerprint

T0 = datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc)
BUILDS_SCHEMA = "built_at timestamp, mode string, customers_refreshed bigint, customers bigint"


def hours(n: int) -> datetime:
    return T0 + timedelta(hours=n)


def write(spark, rows, schema, path, mode="overwrite") -> None:
    df = spark.createDataFrame(rows, schema)
    df.write.format("delta").mode(mode).option("mergeSchema", "true").save(str(path))


def u_rows(built_at, measured_at, levels, name_u):
    return [
        (built_at, levels, "name", None, name_u, 1000, measured_at),
        (built_at, levels, "name", "dice_0.9", name_u / 10, None, measured_at),
    ]


def test_a_refresh_keeps_the_last_measured_u_while_few_customers_changed(spark, tmp_path):
    config = load_config(overrides=[f"lakehouse={tmp_path}"])  # u_refresh_share 0.05
    levels = levels_fingerprint(config)
    u_table, builds = tmp_path / "linkage_u", tmp_path / "index_builds"
    # measured at a full build; a first refresh of 20 customers kept it (rows of its own)
    rows = u_rows(hours(0), hours(0), levels, 0.02) + u_rows(hours(1), hours(0), levels, 0.02)
    rows += u_rows(hours(1), hours(1), "other levels", 0.5)  # measured for other levels
    write(spark, rows, T.LINKAGE_U_SCHEMA, u_table)
    done = [(hours(0), "full", 1000, 1000), (hours(1), "incremental", 20, 1000)]
    write(spark, done + [(hours(2), "incremental", 20, 1000)], BUILDS_SCHEMA, builds)

    # 40 of 1,000 customers refreshed since the measurement: 4 % <= 5 %, kept
    u, measured_at = _last_measured(spark, config, hours(2))
    assert measured_at.replace(tzinfo=None) == hours(0).astimezone().replace(tzinfo=None)
    assert u.exact == {"name": 0.02} and u.measured == {("name", "dice_0.9"): 0.002}
    assert u.customers == 1000

    # a third refresh of 20: 60 of 1,000 = 6 % > 5 %, measured again
    write(spark, [(hours(3), "incremental", 20, 1000)], BUILDS_SCHEMA, builds, "append")
    assert _last_measured(spark, config, hours(3)) is None
    # a full build since the measurement (its u lost, say): measured again
    write(spark, done + [(hours(2), "full", 1000, 1000)], BUILDS_SCHEMA, builds)
    assert _last_measured(spark, config, hours(2)) is None
    # levels never measured: measured
    other = load_config(overrides=[f"lakehouse={tmp_path}", "matching.linkage.u_pairs=100"])
    write(spark, done + [(hours(2), "incremental", 20, 1000)], BUILDS_SCHEMA, builds)
    assert _last_measured(spark, other, hours(2)) is None


def test_u_written_before_its_measurement_time_was_kept_counts_as_measured_at_its_build(
    spark, tmp_path
):
    config = load_config(overrides=[f"lakehouse={tmp_path}"])
    levels = levels_fingerprint(config)
    old_schema = T.LINKAGE_U_SCHEMA.rsplit(",", 1)[0]  # without measured_at
    rows = [r[:-1] for r in u_rows(hours(0), None, levels, 0.03)]
    write(spark, rows, old_schema, tmp_path / "linkage_u")
    builds = [(hours(0), "full", 1000, 1000), (hours(1), "incremental", 30, 1000)]
    write(spark, builds, BUILDS_SCHEMA, tmp_path / "index_builds")
    u, measured_at = _last_measured(spark, config, hours(1))
    assert u.exact == {"name": 0.03}
    assert measured_at.replace(tzinfo=None) == hours(0).astimezone().replace(tzinfo=None)
    # with 60 refreshed it is measured again
    builds[1] = (hours(1), "incremental", 60, 1000)
    write(spark, builds, BUILDS_SCHEMA, tmp_path / "index_builds")
    assert _last_measured(spark, config, hours(1)) is None


def test_a_refresh_keeps_the_warehouse_profile_while_few_customers_changed(spark, tmp_path):
    """Same rule for the profile (`provenance.profile_refresh_share`, 5 %), the build being
    planned not yet in index_builds: its own refreshed customers count too."""
    config = load_config(overrides=[f"lakehouse={tmp_path}"])
    write(spark, [("email_domain", "example.org", 900)], "dimension string, value string, n long",
          tmp_path / "warehouse_profile")  # fmt: skip
    schema = BUILDS_SCHEMA + ", profile_at timestamp"
    # the profile made at the full build, kept by a refresh of 20
    done = [(hours(0), "full", 1000, 1000, hours(0)), (hours(1), "incremental", 20, 1000, hours(0))]
    write(spark, done, schema, tmp_path / "index_builds")

    def planned(refreshed: int, full: bool = False) -> Build:
        return Build("fp", {}, full, True, None, 1000, refreshed, hours(2))

    kept = _profile_kept_from(spark, config, planned(30))  # 20 + 30 of 1,000: 5 %
    assert kept is not None
    assert kept.replace(tzinfo=None) == hours(0).astimezone().replace(tzinfo=None)
    assert _profile_kept_from(spark, config, planned(31)) is None  # 5.1 %
    assert _profile_kept_from(spark, config, planned(0, full=True)) is None
    # a build written before the column made its own profile: counted from it
    old = [(hours(0), "full", 1000, 1000), (hours(1), "incremental", 20, 1000)]
    write(spark, old, BUILDS_SCHEMA, tmp_path / "index_builds")
    kept = _profile_kept_from(spark, config, planned(50))  # only this build's 50 since
    assert kept.replace(tzinfo=None) == hours(1).astimezone().replace(tzinfo=None)
    # no profile table: made
    shutil.rmtree(tmp_path / "warehouse_profile")
    assert _profile_kept_from(spark, config, planned(1)) is None
