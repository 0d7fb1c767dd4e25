"""`--dask` on a cluster whose workers do not have the project: the batch sends them the analytics package."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from analytics.forecasting import batch

AS_OF = date(2026, 3, 31)


@pytest.fixture()
def bare_cluster(tmp_path):
    """A scheduler and one worker as separate processes started in an empty folder, without the project on
    their path (as on machines that only have the libraries installed). Yields the scheduler's address."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    dask = [sys.executable, "-c", "import sys; from dask.__main__ import main; sys.exit(main())"]
    info = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(info)], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.time() + 60
        while not info.exists() and time.time() < deadline:
            time.sleep(0.2)
        procs.append(subprocess.Popen([*dask, "worker", "--scheduler-file", str(info), "--nthreads", "1",
                                       "--no-nanny", "--no-dashboard", "--local-directory", str(tmp_path / "w")],
                                      cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        import json

        from distributed import Client

        address = json.loads(info.read_text())["address"]
        with Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=60)
            # The precondition: the worker really cannot import analytics on its own.
            assert list(client.run(batch._import_probe()).values()) == [False]
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def test_package_zip_holds_the_source(tmp_path):
    import zipfile

    names = set(zipfile.ZipFile(batch.package_zip(tmp_path)).namelist())
    assert {"analytics/__init__.py", "analytics/forecasting/auto.py", "analytics/forecasting/batch.py"} <= names
    assert not any("__pycache__" in n for n in names)


def test_workers_without_the_project_are_sent_it(tiny_db, bare_cluster):
    report = batch.run_forecast(tiny_db, horizon=6, as_of=AS_OF, dask_address=bare_cluster)
    assert report.n_failed == 0 and report.n_series == 6, report.failures
    assert "analytics sent to 1 worker(s)" in report.executor
    # A second run finds the package there and sends nothing.
    again = batch.run_forecast(tiny_db, horizon=6, as_of=AS_OF, dask_address=bare_cluster)
    assert again.n_failed == 0 and "sent" not in again.executor


def test_the_readme_says_what_workers_need():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "--dask" in readme and "`analytics` package" in readme and "upload_file" in readme
