"""A forecast run stores coherent forecasts: the statistical snapshot per SKU is the reconciled one, families
and the total add up to it, the base forecasts stay available, and the supply plan reads the reconciled
numbers."""

from __future__ import annotations

import concurrent.futures as cf
from datetime import date

import numpy as np
import pandas as pd

from analytics import db, workbench
from analytics import planning as pl
from analytics.forecasting import batch

AS_OF = date(2026, 3, 31)


def _run(path) -> int:
    with cf.ThreadPoolExecutor(2) as ex:
        report = batch.run_forecast(path, horizon=6, as_of=AS_OF, executor=ex)
    assert "Reconciled SKU, family and total forecasts: " in report.as_text()
    return report.run_id


def test_run_stores_reconciled_coherent_forecasts(tiny_db):
    run_id = _run(tiny_db)
    con = db.open_reader(tiny_db)
    try:
        snap = con.execute(
            "SELECT f.sku, p.family, f.period, f.quantity FROM forecasts f JOIN products p USING (sku) "
            "WHERE f.source = 'statistical' AND f.snapshot_date = $d",
            {"d": AS_OF},
        ).df()
        fc = con.execute("SELECT unique_id, period, mean FROM forecast_intervals WHERE run_id = $r", {"r": run_id}).df()
        base = con.execute("SELECT unique_id, period, mean FROM forecast_base WHERE run_id = $r", {"r": run_id}).df()
        rec = con.execute(
            "SELECT method, notes FROM forecast_reconciliation WHERE run_id = $r", {"r": run_id}
        ).fetchall()
        fam_fan = workbench.forecast_fan(con, "family", "F1", run_id)
        total_fan = workbench.forecast_fan(con, "total", None, run_id)
        base_f1 = workbench.direct_family_forecast(con, "F1", run_id)
    finally:
        con.close()
    wide = fc.pivot(index="period", columns="unique_id", values="mean")
    # the snapshot is the reconciled SKU forecast, cell by cell
    by_sku = snap.pivot(index="period", columns="sku", values="quantity")
    for sku in ("A", "B", "C"):
        np.testing.assert_allclose(by_sku[sku].to_numpy(), wide[sku].to_numpy(), rtol=1e-12)
    # SKUs sum to families, families to the total (A + B = F1, C = F2, F1 + F2 = total)
    np.testing.assert_allclose(wide["A"] + wide["B"], wide["family:F1"], rtol=1e-9)
    np.testing.assert_allclose(wide["C"], wide["family:F2"], rtol=1e-9)
    np.testing.assert_allclose(wide["family:F1"] + wide["family:F2"], wide[batch.TOTAL_ID], rtol=1e-9)
    # the base forecasts are kept for every series; the run says how it reconciled
    assert set(base["unique_id"]) == {"A", "B", "C", "family:F1", "family:F2", batch.TOTAL_ID}
    # (the tiny company's histories are too short to backtest: no residuals, so structural weights, noted)
    assert rec == [("wls_struct", "no backtest residuals: mint_shrink replaced by wls_struct")]
    # the workbench's family and total views are the same numbers
    np.testing.assert_allclose(fam_fan["mean"].to_numpy(), wide["family:F1"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(total_fan["mean"].to_numpy(), wide[batch.TOTAL_ID].to_numpy(), rtol=1e-9)
    b = base[base["unique_id"] == "family:F1"].sort_values("period")
    np.testing.assert_allclose(base_f1["mean"].to_numpy(), b["mean"].to_numpy())


def test_supply_plan_reads_the_reconciled_forecast(tiny_db, monkeypatch):
    # The tiny company's base forecasts happen to add up already; make the direct family and total forecasts
    # 50% higher than their SKUs' sum, so that reconciling must move the SKU forecasts.
    real_chunk = batch.forecast_chunk

    def incoherent_chunk(*args, **kwargs):
        out = real_chunk(*args, **kwargs)
        for r in out:
            if r.ok and (r.unique_id.startswith(batch.FAMILY_PREFIX) or r.unique_id == batch.TOTAL_ID):
                r.forecast[["mean", "lo80", "hi80", "lo95", "hi95"]] *= 1.5
        return out

    monkeypatch.setattr(batch, "forecast_chunk", incoherent_chunk)
    run_id = _run(tiny_db)
    con = db.open_reader(tiny_db)
    try:
        inputs = pl.plan_inputs(con, AS_OF, horizon=6, phase_forecast=False)
        fc = con.execute(
            "SELECT unique_id AS sku, period, mean FROM forecast_intervals WHERE run_id = $r", {"r": run_id}
        ).df()
        base = con.execute(
            "SELECT unique_id AS sku, period, mean FROM forecast_base WHERE run_id = $r", {"r": run_id}
        ).df()
    finally:
        con.close()
    d = inputs.demand[inputs.demand["demand_source"] == "statistical"].copy()
    assert len(d) >= 15  # 3 SKUs x 6 months, less the cells the tiny company's consensus snapshot covers
    d["period"] = pd.to_datetime(d["period"])
    fc["period"] = pd.to_datetime(fc["period"])
    base["period"] = pd.to_datetime(base["period"])
    m = d.merge(fc, on=["sku", "period"]).merge(base, on=["sku", "period"], suffixes=("", "_base"))
    assert len(m) == len(d)
    np.testing.assert_allclose(m["forecast_ordered"], m["mean"], rtol=1e-12)  # the reconciled numbers
    assert not np.allclose(m["forecast_ordered"], m["mean_base"])  # not the base ones
    # where the plan takes every F1 SKU from the statistical snapshot, its F1 demand is the reconciled F1
    f1 = m[m["sku"].isin(["A", "B"])].groupby("period").agg(n=("sku", "size"), qty=("forecast_ordered", "sum"))
    f1 = f1[f1["n"] == 2]
    assert len(f1)
    rec = fc[fc["sku"] == "family:F1"].set_index("period")["mean"]
    np.testing.assert_allclose(f1["qty"].to_numpy(), rec.loc[f1.index].to_numpy(), rtol=1e-9)
