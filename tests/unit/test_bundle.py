"""The Databricks bundle and the wheel it deploys agree with the code, checked without the
databricks CLI: every wheel task names an entry point the wheel declares, every parameter a task
receives is accepted by the CLI, and the wheel carries conf/ and expectations/."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from itertools import pairwise
from pathlib import Path

import pytest
import tomllib
import yaml

import jobs.__main__ as cli
from tools import build_dist

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SCRIPTS = PYPROJECT["project"]["scripts"]
# sections of the Databricks pipeline YAML that legitimately differ from conf/pipeline.yaml
DEPLOYMENT_KEYS = {"lakehouse", "reports_dir", "tables_prefix", "spark", "sample", "warehouse"}


def bundle() -> dict:
    root = yaml.safe_load((ROOT / "databricks.yml").read_text())
    for pattern in root["include"]:
        for path in sorted(ROOT.glob(pattern)):
            for kind, items in yaml.safe_load(path.read_text())["resources"].items():
                root.setdefault("resources", {}).setdefault(kind, {}).update(items)
    return root


def merged(base: dict, extra: dict) -> dict:
    """A target's override laid over the top-level definition, as the bundle merges them:
    mappings key by key, job tasks by task_key, other lists replaced."""
    out = dict(base)
    for key, value in extra.items():
        if key == "tasks":
            by_key = {t["task_key"]: t for t in value}
            out[key] = [merged(t, by_key.pop(t["task_key"], {})) for t in base.get(key, [])]
            out[key] += list(by_key.values())
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = merged(base[key], value)
        else:
            out[key] = value
    return out


TARGETS = ("dev", "prod", "serverless")
CLASSIC = ("dev", "prod")


def target_job(target: str) -> dict:
    """The crosscheck job as deployed by one target."""
    b = bundle()
    override = b["targets"][target].get("resources", {}).get("jobs", {}).get("crosscheck", {})
    return merged(b["resources"]["jobs"]["crosscheck"], override)


def wheel_tasks() -> list[tuple[str, dict, dict]]:
    return [(target, job, task) for target in TARGETS for job in [target_job(target)]
            for task in job["tasks"] if "python_wheel_task" in task]  # fmt: skip


def task_id(item: tuple[str, dict, dict]) -> str:
    return f"{item[0]}-{item[2]['task_key']}"


def test_bundle_targets_include_and_schedule():
    b = bundle()
    assert b["bundle"]["name"] == "crosscheck"
    assert b["include"] == ["resources/*.yml"]
    assert b["targets"]["dev"]["mode"] == "development"  # pauses schedules
    assert b["targets"]["prod"]["mode"] == "production"
    assert b["targets"]["serverless"]["mode"] == "production"
    job = b["resources"]["jobs"]["crosscheck"]
    assert re.fullmatch(r"(\S+ ){5}\S+( \S+)?", job["schedule"]["quartz_cron_expression"])
    assert job["max_concurrent_runs"] == 1


def test_claim_tasks_run_in_pipeline_order():
    tasks = {t["task_key"]: t for t in bundle()["resources"]["jobs"]["crosscheck"]["tasks"]}
    order = ["ingest-warehouse", "has-sample", "ingest-sample", "validate", "crosscheck", "report"]
    for before, after in pairwise(order):
        assert [d["task_key"] for d in tasks[after]["depends_on"]] == [before]
    assert tasks["watch"]["depends_on"] == [{"task_key": "has-sample", "outcome": "false"}]


@pytest.mark.parametrize("item", wheel_tasks(), ids=task_id)
def test_wheel_task_entry_point_exists(item):
    _, _, task = item
    wheel = task["python_wheel_task"]
    assert wheel["package_name"] == PYPROJECT["project"]["name"]
    assert wheel["entry_point"] in SCRIPTS
    module, _, function = SCRIPTS[wheel["entry_point"]].partition(":")
    assert module == "jobs.__main__"
    if function.replace("_", "-") not in cli.JOBS:
        pytest.xfail(f"job {function!r} is not in jobs.__main__.JOBS yet")
    assert callable(getattr(cli, function))


@pytest.mark.parametrize("item", wheel_tasks(), ids=task_id)
def test_every_task_has_its_targets_compute_and_the_wheel(item):
    """Classic targets: the job cluster and the wheel as a library. Serverless: no cluster,
    an environment of the job that installs the wheel (a wheel task needs one there)."""
    target, job, task = item
    if target in CLASSIC:
        assert task["job_cluster_key"] in {c["job_cluster_key"] for c in job["job_clusters"]}
        assert [lib["whl"] for lib in task["libraries"]] == ["./dist/*.whl"]
        assert "environment_key" not in task and "environments" not in job
    else:
        assert "job_cluster_key" not in task and "libraries" not in task
        assert "job_clusters" not in job
        envs = {e["environment_key"]: e["spec"] for e in job["environments"]}
        assert "./dist/*.whl" in envs[task["environment_key"]]["dependencies"]


@pytest.mark.parametrize("item", wheel_tasks(), ids=task_id)
def test_wheel_task_parameters_are_accepted_by_the_cli(item):
    """Job parameters are pushed down to every wheel task beside its own named parameters,
    all as `--key=value`."""
    _, job, task = item
    named = {p["name"]: p["default"] for p in job.get("parameters", [])}
    named.update(task["python_wheel_task"].get("named_parameters", {}))
    argv = [f"--{key}={value}" for key, value in named.items()]
    name = SCRIPTS[task["python_wheel_task"]["entry_point"]].partition(":")[2]
    job_name = name.replace("_", "-")
    if job_name not in cli.JOBS:
        pytest.xfail(f"job {job_name!r} is not in jobs.__main__.JOBS yet")
    args = cli.parse_args([job_name, *argv])
    assert args.job == job_name
    assert args.run_id == named["run_id"] and args.sample == named["sample"]


def test_hash_key_comes_from_a_secret_scope():
    """Job cluster: an env var filled from the scope. Serverless (no cluster env vars): every
    task tells the job which secret to read."""
    for target in CLASSIC:
        for cluster in target_job(target)["job_clusters"]:
            env = cluster["new_cluster"]["spark_env_vars"]
            assert env["CROSSCHECK_HASH_KEY"] == "{{secrets/${var.secret_scope}/hash_key}}"
    for task in target_job("serverless")["tasks"]:
        if "python_wheel_task" in task:
            named = task["python_wheel_task"]["named_parameters"]
            assert named["set"] == "hash_key_secret=${var.secret_scope}/hash_key"


def test_every_variable_used_is_declared():
    declared = set(bundle()["variables"])
    texts = [(ROOT / "databricks.yml").read_text()]
    texts += [p.read_text() for p in (ROOT / "resources").glob("*.yml")]
    used = {m for text in texts for m in re.findall(r"\$\{var\.([\w-]+)\}", text)}
    assert used <= declared


def test_databricks_pipeline_conf_holds_only_deployment_settings():
    """resources/conf/pipeline.yaml extends the shipped conf with where things are; every
    other setting is the shipped one."""
    from jobs.settings import load_config

    path = ROOT / "resources" / "conf" / "pipeline.yaml"
    ours = yaml.safe_load(path.read_text())
    assert set(ours) - {"extends"} <= DEPLOYMENT_KEYS
    databricks, local = load_config(path), load_config()
    assert databricks.tables_prefix and databricks.spark_master is None
    assert databricks.warehouse["customers"].table == "main.crm.customers"
    for section in ("crosscheck", "verdict", "provenance", "normalise", "matching"):
        assert getattr(databricks, section) == getattr(local, section), section
    assert databricks.index_max_records_per_file == local.index_max_records_per_file


def test_a_conf_cannot_extend_itself(tmp_path):
    from jobs.errors import ConfigError
    from jobs.settings import load_config

    path = tmp_path / "pipeline.yaml"
    path.write_text("extends: pipeline.yaml\n")
    with pytest.raises(ConfigError, match="itself"):
        load_config(path)


def test_wheel_carries_entry_points_conf_and_expectations(tmp_path):
    wheel = build_dist.build_wheel(tmp_path / "dist")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = zf.read(f"crosscheck-{build_dist.version()}.dist-info/entry_points.txt").decode()
        requires = zf.read(f"crosscheck-{build_dist.version()}.dist-info/METADATA").decode()
    for folder, pattern in (("conf", "*.yaml"), ("expectations", "*.json")):
        for path in (ROOT / folder).glob(pattern):
            assert f"jobs/{folder}/{path.name}" in names
    scripts = dict(re.findall(r"^(\S+) = (\S+)$", meta.split("[console_scripts]")[1], re.M))
    assert scripts == SCRIPTS
    spark_lines = [line for line in requires.splitlines() if "pyspark" in line or "delta" in line]
    assert spark_lines and all('extra == "spark"' in line for line in spark_lines)

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(site), str(wheel)], check=True)  # fmt: skip
    probe = ("import jobs, jobs.settings as c; "
             "print(jobs.__file__); print(c.CONF_DIR); print(c.EXPECTATIONS_DIR); "
             "print(c.load_config().crosscheck.fields)")  # fmt: skip
    env = {"PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    out = done.stdout.splitlines()
    assert all(line.startswith(str(site)) for line in out[:3])
    assert out[3] == "('email', 'phone', 'name', 'address')"
    assert sorted(p.name for p in Path(out[2]).glob("*.json")) == sorted(
        p.name for p in (ROOT / "expectations").glob("*.json")
    )


def test_every_package_of_jobs_is_in_the_wheel():
    """A new folder under jobs/ must be listed in pyproject.toml, or the wheel and the
    spark-submit zip's users get an ImportError the checkout never shows."""
    root = Path(__file__).resolve().parents[2]
    listed = set(
        tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(root).parts)
        for p in (root / "jobs").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found - listed == set()
