"""Forecast runs: the snapshot, leaderboard and backtests they write; the same batch on a Dask cluster;
the CSV mode and its command line."""

from __future__ import annotations

import concurrent.futures as cf
import subprocess
import sys
from datetime import date

import numpy as np
import pandas as pd
import pytest

from analytics import db
from analytics.forecasting import batch

AS_OF = date(2026, 3, 31)


def _snapshot(path) -> pd.DataFrame:
    con = db.open_reader(path)
    try:
        return con.execute("SELECT sku, period, quantity FROM forecasts WHERE source = 'statistical' "
                           "AND snapshot_date = $d ORDER BY sku, period", {"d": AS_OF}).df()
    finally:
        con.close()


def test_run_writes_snapshot_leaderboard_and_intervals(tiny_db):
    with cf.ThreadPoolExecutor(2) as ex:
        report = batch.run_forecast(tiny_db, horizon=6, as_of=AS_OF, executor=ex)
    # Series: SKUs A, B, C with orders up to March (the last complete month) + families F1, F2 (direct)
    # + the total.
    assert (report.n_series, report.n_failed) == (6, 0)
    snap = _snapshot(tiny_db)
    assert sorted(snap["sku"].unique()) == ["A", "B", "C"]
    # 6 months from April 2026 (the month after the last complete month).
    assert sorted(pd.to_datetime(snap["period"]).dt.date.unique()) == [date(2026, m, 1) for m in range(4, 10)]
    assert (snap["quantity"] >= 0).all()
    con = db.open_reader(tiny_db)
    board = con.execute("SELECT unique_id, count(*) FILTER (WHERE chosen) AS chosen FROM forecast_leaderboard "
                        "GROUP BY 1 ORDER BY 1").fetchall()
    assert board == [("A", 1), ("B", 1), ("C", 1), ("family:F1", 1), ("family:F2", 1), ("total:all", 1)]
    fan = con.execute("SELECT lo95, lo80, mean, hi80, hi95 FROM forecast_intervals").fetchnumpy()
    assert (fan["lo95"] <= fan["lo80"] + 1e-9).all() and (fan["lo80"] <= fan["mean"] + 1e-9).all()
    assert (fan["mean"] <= fan["hi80"] + 1e-9).all() and (fan["hi80"] <= fan["hi95"] + 1e-9).all()
    runs = con.execute("SELECT run_id, snapshot_date, horizon, n_series FROM forecast_runs").fetchall()
    assert runs == [(1, AS_OF, 6, 6)]
    # A second run on the same day replaces the snapshot instead of doubling it.
    with cf.ThreadPoolExecutor(2) as ex:
        batch.run_forecast(tiny_db, horizon=6, as_of=AS_OF, executor=ex)
    assert len(_snapshot(tiny_db)) == len(snap)


def test_same_batch_on_a_dask_cluster(tiny_db, tmp_path):
    import distributed
    local = tmp_path / "local.duckdb"
    local.write_bytes(tiny_db.read_bytes())
    with cf.ThreadPoolExecutor(2) as ex:
        batch.run_forecast(local, horizon=6, as_of=AS_OF, executor=ex)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        report = batch.run_forecast(tiny_db, horizon=6, as_of=AS_OF, dask_address=cluster.scheduler_address)
    assert report.executor.startswith("dask ") and report.n_failed == 0
    pd.testing.assert_frame_equal(_snapshot(tiny_db), _snapshot(local))


def _series_csv(path):
    t = np.arange(36)
    seasonal = 100 + 30 * np.sin(2 * np.pi * t / 12)
    rows = [("seasonal", f"{2023 + m // 12}-{m % 12 + 1:02d}-01", round(v, 1)) for m, v in zip(t, seasonal)]
    rows += [("short", "2026-01-15", 5), ("short", "2026-03-02", 7)]  # February missing = 0
    pd.DataFrame(rows, columns=["series_id", "period", "value"]).to_csv(path, index=False)


def test_csv_mode(tmp_path):
    src, out = tmp_path / "series.csv", tmp_path / "forecasts.csv"
    _series_csv(src)
    with cf.ThreadPoolExecutor(2) as ex:
        df = batch.forecast_csv(src, out, horizon=4, executor=ex)
    assert list(df.columns) == ["series_id", "period", "model", "forecast", "lo80", "hi80", "lo95", "hi95"]
    written = pd.read_csv(out)
    assert len(written) == 8 and set(written["series_id"]) == {"seasonal", "short"}
    # The seasonal series ends in December 2025: its forecast starts January 2026; "short" ends in March 2026.
    first = written.groupby("series_id")["period"].min().to_dict()
    assert first == {"seasonal": "2026-01-01", "short": "2026-04-01"}
    assert (written["lo95"] <= written["forecast"]).all() and (written["forecast"] <= written["hi95"]).all()


def test_csv_mode_rejects_bad_rows(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("series_id,period,value\na,2026-01-01,5\na,not a date,6\n", encoding="utf-8")
    with pytest.raises(ValueError, match="row 3"):
        batch.forecast_csv(src, tmp_path / "out.csv", horizon=3)
    src.write_text("id,period,value\na,2026-01-01,5\n", encoding="utf-8")
    with pytest.raises(ValueError, match="series_id"):
        batch.forecast_csv(src, tmp_path / "out.csv", horizon=3)


def test_cli_csv_mode(tmp_path):
    src, out = tmp_path / "series.csv", tmp_path / "out.csv"
    _series_csv(src)
    res = subprocess.run([sys.executable, "-m", "analytics", "forecast", "--input", str(src), "--horizon", "3",
                          "--output", str(out), "--workers", "1"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "wrote 6 rows for 2 series" in res.stdout
    res = subprocess.run([sys.executable, "-m", "analytics", "forecast", "--input", str(src), "--horizon", "3"],
                         capture_output=True, text=True)
    assert res.returncode == 2 and "--output" in res.stderr


def test_forecast_from_inside_a_streamlit_script_does_not_rerun_the_script_in_workers(tiny_db, tmp_path, monkeypatch):
    """Streamlit installs the running page as ``__main__``; spawned workers must not import it again."""
    import sys
    import types

    from analytics.forecasting import batch

    script = tmp_path / "page.py"
    script.write_text("raise SystemExit('a page script ran inside a forecast worker')\n")
    fake = types.ModuleType("__main__")
    fake.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake)
    report = batch.run_forecast(tiny_db, 3, workers=1)
    assert report.n_series > 0 and report.n_failed == 0
    assert sys.modules["__main__"] is fake  # put back afterwards
