"""Forecast runs: every active SKU, every family and the total through the automatic pipeline, in parallel;
then the three levels are reconciled so that they add up (``reconcile.py``: MinT with shrinkage).

The work is spread over any ``concurrent.futures.Executor``: a local ``ProcessPoolExecutor`` by default,
or a Dask cluster's executor (``dask.distributed.Client(address).get_executor()``) with ``--dask ADDRESS``,
which is how a site with 100,000 SKUs outgrows one machine. Series travel in chunks so that process and
network overhead stay small against the model fits.

A run writes, in one transaction through :func:`analytics.db.writer` (so the dashboard keeps reading the
previous data until the new file lands):

* ``forecasts``: a ``statistical`` snapshot dated the as-of date (the reconciled mean forecast per SKU and month);
* ``forecast_runs``: one row per run (when, horizon, series, failures, seconds, executor);
* ``forecast_leaderboard``: per SKU and candidate model the backtest WMAPE, MASE, sMAPE, bias, chosen yes/no,
  fallback notes, the demand class, the reason for the choice and the lag-1 error spread (for safety stock);
* ``forecast_intervals``: the reconciled mean and 80/95% bounds per SKU, family and the total and month (model:
  the series' chosen model);
* ``forecast_base``: the same before reconciliation (each series' own forecast; a family's is its direct forecast);
* ``forecast_reconciliation``: the method, the shrinkage intensity, the number of backtest error samples, notes;
* ``forecast_backtests``: the backtest forecasts against actuals, per SKU, origin and model.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import math
import multiprocessing
import os
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from analytics import access, db, kpis

Progress = Callable[[float, str], None]
FAMILY_PREFIX = "family:"  # unique_id of a family-level series in forecast_intervals / leaderboard
TOTAL_ID = "total:all"  # unique_id of the total (all SKUs) series
RECONCILE_METHOD = "mint_shrink"  # how SKU, family and total forecasts are made coherent (forecasting/reconcile.py)
#: MinT with the family and total error variances scaled by this (reconcile.scale_aggregates), chosen on the
#: development sets of benchmarks/reconcile_eval.py (demo company, superstore), then checked on Tourism.
RECONCILE_AGGREGATE_SCALE = 0.5


# --------------------------------------------------------------------------------------- history


def demand_history(con, last_month: date, level: str = "sku") -> pd.DataFrame:
    """grain: one row per series x month: unique_id, ds (month start), y (ordered quantity, zero-filled).

    Each series runs from its first month with orders to ``last_month`` (the last complete month).
    ``level='family'`` sums the SKUs of each family (unique_id = 'family:<name>'), ``level='total'`` all SKUs
    (unique_id = 'total:all').
    """
    key = {"sku": "d.sku", "family": "'" + FAMILY_PREFIX + "' || p.family", "total": "'" + TOTAL_ID + "'"}[
        level
    ]  # constant expressions
    sql = f"""
        WITH demand AS (  -- grain: series x month with orders
            SELECT {key} AS unique_id, d.month, sum(d.qty) AS qty
            FROM fact_demand_monthly d JOIN products p USING (sku)
            WHERE d.month <= $last
            GROUP BY ALL
        ), spans AS (  -- grain: series
            SELECT unique_id, min(month) AS first_month FROM demand GROUP BY unique_id
        )
        SELECT s.unique_id, CAST(g.ds AS DATE) AS ds, coalesce(d.qty, 0) AS y
        FROM spans s,
             LATERAL (SELECT unnest(generate_series(s.first_month, $last::DATE, INTERVAL 1 MONTH)) AS ds) g
        LEFT JOIN demand d ON d.unique_id = s.unique_id AND d.month = CAST(g.ds AS DATE)
        ORDER BY s.unique_id, ds
    """
    return con.execute(sql, {"last": last_month}).df()


# --------------------------------------------------------------------------------------- workers


@dataclass
class SeriesResult:
    """What a worker sends back for one series (plain frames: cheap to pickle)."""

    unique_id: str
    ok: bool
    demand_class: str = ""
    chosen: str = ""
    reason: str = ""
    forecast: pd.DataFrame | None = None
    leaderboard: pd.DataFrame | None = None
    backtest: pd.DataFrame | None = None
    error_sigma_lag1: float = math.nan
    fallbacks: list[str] = field(default_factory=list)
    error: str = ""


#: What a planner can pick for a run: the automatic choice, or one model for every series (``models.MODEL_ALIASES``
#: but the zero forecast), with the label a screen shows.
MODEL_CHOICES: dict[str, str] = {
    "auto": "Automatic (recommended): per demand class, backtested",
    "Combo": "Combination (trimmed mean of Theta, ETS, ThetaQ, Holt-Winters, ARIMA, seasonal naive; "
    "on a strong trend the mean of ETS, ARIMA, Theta, Holt-Winters)",
    "ARIMA": "ARIMA (automatic order search)",
    "ETS": "Exponential smoothing (ETS, by AICc)",
    "DampedETS": "Exponential smoothing with a damped trend",
    "Theta": "Theta",
    "ThetaQ": "Theta on quarterly totals",
    "HoltWinters": "Holt-Winters (damped, multiplicative)",
    "SES": "Simple exponential smoothing",
    "SeasonalNaive": "Seasonal naive (same month last year)",
    "Naive": "Naive (last month)",
    "MovingAverage": "Moving average (3 months)",
    "IMAPA": "IMAPA (intermittent: temporal aggregation)",
    "ADIDA": "ADIDA (intermittent: temporal aggregation)",
    "TSB": "TSB (intermittent)",
    "SBA": "SBA (intermittent)",
    "Croston": "Croston (intermittent)",
}


def check_model(model: str | None) -> str | None:
    """None for the automatic choice ('auto', '' or None), else the alias; ValueError for an unknown one."""
    if model in (None, "", "auto"):
        return None
    if model not in MODEL_CHOICES:
        raise ValueError(f"unknown model {model!r}; choose one of: {', '.join(MODEL_CHOICES)}")
    return model


def forecast_chunk(
    chunk: list[tuple[str, np.ndarray]],
    h: int,
    n_windows: int,
    season_length: int,
    model: str | None = None,
    detail: bool = True,
) -> list[SeriesResult]:
    """Forecast a list of (unique_id, y) in one worker. Top-level so that it pickles for processes and Dask.

    ``model``: a model alias the planner picked for every series (None = the automatic choice).
    ``detail=False``: the forecast and the chosen model only (no leaderboard or backtest frames to build and send
    back; the CSV mode writes nothing else). The backtest runs either way."""
    from analytics.forecasting.auto import auto_forecast

    out = []
    for uid, y in chunk:
        try:
            r = auto_forecast(
                np.asarray(y, dtype=float),
                h,
                season_length=season_length,
                n_windows=n_windows,
                model=model,
                detail=detail,
            )
            out.append(
                SeriesResult(
                    uid,
                    True,
                    r.demand_class,
                    r.chosen,
                    r.reason,
                    r.forecast,
                    r.leaderboard,
                    r.backtest,
                    float(r.error_sigma_lag1),
                    list(r.fallbacks),
                )
            )
        except Exception as e:  # noqa: BLE001 - one bad series must not stop a run of thousands
            out.append(SeriesResult(uid, False, error=f"{type(e).__name__}: {e}"))
    return out


@contextlib.contextmanager
def _plain_main() -> Iterator[None]:
    """Spawned workers re-import the parent's ``__main__`` from its file. Inside the dashboard that is the page
    script Streamlit installed as ``__main__``, which must not run in a worker (it stops with NoSessionContext and
    the pool breaks). While the pool starts and runs, ``__main__`` is a bare module without a file."""
    main = sys.modules.get("__main__")
    if main is None or not getattr(main, "__file__", None) or getattr(main, "__spec__", None) is not None:
        yield  # `python -m analytics` (a spec: workers import by name) or no file: nothing to hide
        return
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if isinstance(sys.modules.get("__main__"), types.ModuleType) and not getattr(sys.modules["__main__"], "__file__", None):
            sys.modules["__main__"] = main


def _lower_priority(parent_nice: int | None = None) -> None:
    """Worker initializer: run $SOP_FORECAST_NICE (10) below the parent's priority. A worker forked from the
    fork server inherits the server's own lowered priority (``warmup``): only the rest is added."""
    with contextlib.suppress(OSError, ValueError):
        step = int(os.environ.get("SOP_FORECAST_NICE", "10"))
        os.nice(step if parent_nice is None else max(0, parent_nice + step - os.nice(0)))


_POOLS = {"open": 0}  # local pools open in this process (they share one fork server)
_POOLS_LOCK = threading.Lock()


@contextlib.contextmanager
def _pool_context() -> Iterator[multiprocessing.context.BaseContext]:
    """The start method of the local pool's workers.

    ``forkserver`` where the platform has one (Linux, macOS): a fresh server process (safe to start from the
    dashboard's multi-threaded process, unlike ``fork``) imports ``warmup`` - the pipeline and the models' lazy
    imports, once - and forks every worker from itself, ready to forecast. With ``spawn`` (Windows) each worker
    imports all of it again: about 2 CPU s per worker and run. When the last pool of this process closes, the
    server is stopped: no idle process stays behind, and its CPU time (and its workers') is counted as this
    process's children's (``resource.RUSAGE_CHILDREN``), as the spawned workers' was.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        yield multiprocessing.get_context("spawn")
        return
    ctx = multiprocessing.get_context("forkserver")
    with _POOLS_LOCK:
        _POOLS["open"] += 1
        ctx.set_forkserver_preload(["analytics.forecasting.warmup"])
    try:
        yield ctx
    finally:
        with _POOLS_LOCK:
            _POOLS["open"] -= 1
            if _POOLS["open"] == 0:
                from multiprocessing import forkserver

                # no public way to stop it; without this it would run (idle) until this process exits
                with contextlib.suppress(AttributeError, OSError):
                    forkserver._forkserver._stop()


def _import_probe():
    """A function the workers run to say whether they can import this package (defined inside a function, so
    cloudpickle sends it by value: a worker without ``analytics`` can still run it)."""

    def probe() -> bool:
        import importlib

        try:
            importlib.import_module("analytics.forecasting.auto")
        except ImportError:
            return False
        return True

    return probe


def package_zip(folder: str | Path) -> Path:
    """The ``analytics`` package's source as ``folder/analytics.zip`` (importable from a zip: pure Python)."""
    import zipfile

    root = Path(__file__).resolve().parents[1]  # .../analytics
    out = Path(folder) / "analytics.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(root.rglob("*.py")):
            z.write(f, Path("analytics") / f.relative_to(root))
    return out


def ship_code(client) -> str:
    """Make ``analytics`` importable on every worker of a Dask cluster: the workers that cannot import it get
    this machine's copy (``client.upload_file`` of the package as a zip). Returns which workers were sent it
    ('' when all had it). The workers still need the libraries of requirements.txt (numpy, pandas, scipy,
    statsmodels) in the same versions; a worker that still cannot import it is a clear error, not a failed run."""
    import tempfile

    probe = _import_probe()
    lacking = sorted(addr for addr, ok in client.run(probe).items() if not ok)
    if not lacking:
        return ""
    with tempfile.TemporaryDirectory() as tmp:
        client.upload_file(str(package_zip(tmp)))
    still = sorted(addr for addr, ok in client.run(probe).items() if not ok)
    if still:
        raise RuntimeError(
            f"Dask workers {', '.join(still)} cannot import analytics even after it was sent to them: install the "
            "libraries of requirements.txt on the workers (same versions), or the project itself."
        )
    return f"{len(lacking)} worker(s)"


@contextlib.contextmanager
def make_executor(workers: int | None = None, dask_address: str | None = None) -> Iterator[tuple[cf.Executor, str]]:
    """A process pool on this machine, or the executor of a Dask cluster at ``dask_address``."""
    if dask_address:
        from distributed import Client

        client = Client(dask_address)
        try:
            shipped = ship_code(client)
            label = f"dask {dask_address} ({len(client.scheduler_info()['workers'])} workers)"
            yield client.get_executor(), label + (f"; analytics sent to {shipped}" if shipped else "")
        finally:
            client.close()
    else:
        n = workers or os.cpu_count() or 1
        # One BLAS thread per worker: the fits are small, and n workers x n BLAS threads oversubscribe the cores
        # (measured: statsmodels Theta fits 25 ms -> 8 ms). Spawned workers read these before numpy loads.
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
        # forkserver or spawn, not fork: the dashboard calls this from a multi-threaded server process
        # (_pool_context). Workers run at a lower CPU priority (nice 10, $SOP_FORECAST_NICE), so that people
        # using the dashboard on the same machine are served first while a run is going; on an idle machine it
        # makes no difference.
        with (
            _pool_context() as ctx,
            _plain_main(),
            cf.ProcessPoolExecutor(
                max_workers=n, mp_context=ctx, initializer=_lower_priority, initargs=(_niceness(),)
            ) as ex,
        ):
            yield ex, f"processes x{n}"


def _niceness() -> int | None:
    try:
        return os.nice(0)
    except OSError:
        return None


def run_series(
    series: list[tuple[str, np.ndarray]],
    h: int,
    executor: cf.Executor,
    *,
    n_windows: int = 3,
    season_length: int = 12,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    model: str | None = None,
    detail: bool = True,
) -> list[SeriesResult]:
    """Forecast every series on ``executor``, reporting progress as chunks complete.

    ``model``: one of ``MODEL_CHOICES`` a planner picked for every series ('auto' or None: the automatic choice).
    ``detail=False``: forecasts and chosen models only (``forecast_chunk``).
    """
    model = check_model(model)
    if not series:
        return []
    n_workers = getattr(executor, "_max_workers", 4) or 4
    size = chunk_size or max(1, min(50, math.ceil(len(series) / (n_workers * 4))))
    chunks = [series[i : i + size] for i in range(0, len(series), size)]
    futures = [executor.submit(forecast_chunk, c, h, n_windows, season_length, model, detail) for c in chunks]
    results, done = [], 0
    for fut in cf.as_completed(futures):
        part = fut.result()
        results.extend(part)
        done += len(part)
        if progress:
            progress(done / len(series), f"forecast {done:,} of {len(series):,} series")
    order = {uid: i for i, (uid, _) in enumerate(series)}
    return sorted(results, key=lambda r: order[r.unique_id])


# --------------------------------------------------------------------------------------- frames


def _month_list(first: date, n: int) -> list[date]:
    return [kpis.add_months(first, i) for i in range(n)]


def result_frames(
    results: list[SeriesResult],
    history: dict[str, list[date]],
    first_period: date,
    run_id: int,
    snapshot_date: date,
    reconciled: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Turn worker results into the rows of the run's tables (periods as dates).

    With ``reconciled`` (unique_id, step, mean, lo80, hi80, lo95, hi95 from ``reconcile.reconcile_run``),
    ``forecast_intervals`` holds the reconciled numbers of the series it covers and ``forecast_base`` the
    engine's own (base) forecasts of every series."""
    # Each piece is concatenated once over all series and its columns added as whole arrays: a copy and a few
    # column assignments per series cost more (3.4 ms per series) than forecasting an intermittent one.
    ok = [r for r in results if r.ok]
    cols_i = ["unique_id", "period", "model", "mean", "lo80", "hi80", "lo95", "hi95"]
    cols_b = [
        "unique_id",
        "model",
        "wmape",
        "mase",
        "smape",
        "bias",
        "chosen",
        "notes",
        "demand_class",
        "reason",
        "error_sigma_lag1",
    ]
    cols_t = ["unique_id", "cutoff_period", "period", "step", "model", "forecast", "y"]
    ids = np.array([r.unique_id for r in ok], dtype=object)
    if ok:
        fc = pd.concat([r.forecast for r in ok], ignore_index=True)
        lens = [len(r.forecast) for r in ok]
        horizon = np.concatenate([np.arange(n) for n in lens])
        fan = pd.DataFrame(
            {
                "unique_id": np.repeat(ids, lens),
                "step": fc["step"].to_numpy(),
                "period": np.array(_month_list(first_period, max(lens)), dtype=object)[horizon],
                **{c: fc[c].to_numpy() for c in ["mean", "lo80", "hi80", "lo95", "hi95"]},
                "model": np.repeat(np.array([r.chosen for r in ok], dtype=object), lens),
            }
        )
        b = pd.concat([r.leaderboard for r in ok], ignore_index=True)
        lens = [len(r.leaderboard) for r in ok]
        chosen = b["chosen"].to_numpy(dtype=bool)
        b["unique_id"] = np.repeat(ids, lens)
        b["demand_class"] = np.repeat(np.array([r.demand_class for r in ok], dtype=object), lens)
        b["reason"] = np.where(chosen, np.repeat(np.array([r.reason for r in ok], dtype=object), lens), "")
        b["error_sigma_lag1"] = np.where(chosen, np.repeat([r.error_sigma_lag1 for r in ok], lens), np.nan)
        board = b[cols_b]
    else:
        fan = pd.DataFrame(columns=[*cols_i, "step"])
        board = pd.DataFrame(columns=cols_b)
    with_bt = [r for r in ok if r.backtest is not None and len(r.backtest)]
    if with_bt:
        bt = pd.concat([r.backtest for r in with_bt], ignore_index=True)
        cut_dates, cut_months = [], []
        for r in with_bt:  # the cutoff is an index into the series' own months
            cut = r.backtest["cutoff"].to_numpy(dtype=np.int64)
            months = np.array(history[r.unique_id], dtype=object)
            cut_dates.append(months[cut])
            cut_months.append(np.array([d.year * 12 + d.month - 1 for d in months], dtype=np.int64)[cut])
        period = np.concatenate(cut_months) + bt["step"].to_numpy(dtype=np.int64)  # kpis.add_months, as months
        uniq, at = np.unique(period, return_inverse=True)
        bt["cutoff_period"] = np.concatenate(cut_dates)
        bt["period"] = np.array([date(m // 12, m % 12 + 1, 1) for m in uniq.tolist()], dtype=object)[at]
        bt["unique_id"] = np.repeat(np.array([r.unique_id for r in with_bt], dtype=object),
                                    [len(r.backtest) for r in with_bt])
        backtests = bt[cols_t]
    else:
        backtests = pd.DataFrame(columns=cols_t)
    base = fan[cols_i].copy()
    if reconciled is not None and len(reconciled):
        bounds = ["mean", "lo80", "hi80", "lo95", "hi95"]
        fan = fan.merge(reconciled[["unique_id", "step", *bounds]], on=["unique_id", "step"], how="left",
                        suffixes=("", "_rec"))
        has = fan["mean_rec"].notna()
        for col in bounds:
            fan.loc[has, col] = fan.loc[has, col + "_rec"]
    out = {"forecast_intervals": fan[cols_i], "forecast_leaderboard": board, "forecast_backtests": backtests}
    if reconciled is not None:
        out["forecast_base"] = base
    for name, df in out.items():
        df.insert(0, "run_id", run_id)
        if name in ("forecast_intervals", "forecast_base"):
            df.insert(1, "snapshot_date", snapshot_date)
    return out


# --------------------------------------------------------------------------------------- the run


@dataclass
class RunReport:
    run_id: int
    snapshot_date: date
    horizon: int
    n_series: int
    n_failed: int
    seconds: float
    executor: str
    failures: list[str]
    reconciliation: str = ""  # how SKU, family and total forecasts were made coherent

    def as_text(self) -> str:
        lines = [
            f"Forecast run #{self.run_id}: snapshot {self.snapshot_date}, horizon {self.horizon} months, "
            f"{self.n_series:,} series in {self.seconds:.1f} s on {self.executor}; {self.n_failed} failed."
        ]
        if self.reconciliation:
            lines.append(f"  {self.reconciliation}")
        lines += [f"  failed: {f}" for f in self.failures[:20]]
        return "\n".join(lines)


@access.requires("forecast")
def run_forecast(
    db_path: str | Path | None = None,
    horizon: int = 18,
    *,
    as_of: date | None = None,
    workers: int | None = None,
    dask_address: str | None = None,
    executor: cf.Executor | None = None,
    n_windows: int = 3,
    progress: Progress | None = None,
    model: str | None = None,
) -> RunReport:
    """Forecast every active SKU and every family, then write the snapshot, leaderboard and backtests.

    ``model``: a model a planner picked for every series (``MODEL_CHOICES``; None or 'auto': the automatic choice).
    """
    model = check_model(model)
    t0 = time.perf_counter()
    path = db.resolve_db_path(db_path)
    reader = db.open_reader(path)
    try:
        as_of = as_of or kpis.default_as_of(reader)
        if as_of is None:
            raise db.DatabaseError("The database holds no orders to forecast from.")
        last_month = kpis.last_complete_month(as_of)
        hist = pd.concat([demand_history(reader, last_month, level) for level in ("sku", "family", "total")])
        family_of = dict(reader.execute("SELECT sku, family FROM products").fetchall())
    finally:
        reader.close()
    series, months = [], {}
    for uid, g in hist.groupby("unique_id", sort=True):
        series.append((str(uid), g["y"].to_numpy(dtype=float)))
        months[str(uid)] = [pd.Timestamp(d).date() for d in g["ds"]]
    if progress:
        progress(0.0, f"{len(series):,} series to forecast")

    def go(ex: cf.Executor, label: str) -> tuple[list[SeriesResult], str]:
        return run_series(series, horizon, ex, n_windows=n_windows, progress=progress, model=model), label

    if executor is not None:
        results, label = go(executor, type(executor).__name__)
    else:
        with make_executor(workers, dask_address) as (ex, label):
            results, label = go(ex, label)
    failures = [f"{r.unique_id}: {r.error}" for r in results if not r.ok]
    first_period = kpis.add_months(last_month, 1)
    if progress:
        progress(0.98, "reconciling SKU, family and total forecasts")
    from analytics.forecasting.reconcile import reconcile_run

    reconciled, rec_info = reconcile_run(results, family_of, months, total_id=TOTAL_ID, family_prefix=FAMILY_PREFIX,
                                         method=RECONCILE_METHOD, aggregate_scale=RECONCILE_AGGREGATE_SCALE)
    if progress:
        progress(0.99, "writing the snapshot, leaderboard and backtests")
    with db.writer(path) as con:
        run_id = int(con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM forecast_runs").fetchall()[0][0])
        access.note(target=f"forecast run {run_id}", after={"series": len(results), "failed": len(failures),
                                                            "horizon": horizon, "snapshot_date": str(as_of),
                                                            "model": model or "auto"})
        frames = result_frames(results, months, first_period, run_id, as_of, reconciled)
        frames["forecast_reconciliation"] = pd.DataFrame([{
            "run_id": run_id, "method": rec_info["method"], "shrinkage": rec_info["lambda"],
            "residual_samples": rec_info["n_samples"],
            "notes": "; ".join([f"family and total error variances x{rec_info['aggregate_scale']:g}"] * (
                rec_info["aggregate_scale"] != 1.0) + rec_info["notes"])}])
        fc = frames["forecast_intervals"]
        sku_rows = fc[fc["unique_id"].isin(family_of)]  # the statistical snapshot: reconciled SKU forecasts
        snapshot = pd.DataFrame(
            {
                "snapshot_date": as_of,
                "sku": sku_rows["unique_id"],
                "period": sku_rows["period"],
                "source": "statistical",
                "quantity": sku_rows["mean"].astype(float),
            }
        )
        con.execute("DELETE FROM forecasts WHERE source = 'statistical' AND snapshot_date = $d", {"d": as_of})
        con.register("snapshot_rows", snapshot)
        con.execute("INSERT INTO forecasts SELECT snapshot_date, sku, period, source, quantity FROM snapshot_rows")
        for name, df in frames.items():  # constant table names
            con.register("run_rows", df)
            con.execute(f"INSERT INTO {name} SELECT * FROM run_rows")  # constant table name
            con.unregister("run_rows")
        seconds = time.perf_counter() - t0
        con.execute(
            "INSERT INTO forecast_runs VALUES ($id, $at, $snap, $h, $n, $failed, $s, $ex, $notes)",
            {
                "id": run_id,
                "at": datetime.now(UTC).replace(tzinfo=None),
                "snap": as_of,
                "h": horizon,
                "n": len(series),
                "failed": len(failures),
                "s": seconds,
                "ex": label,
                "notes": json.dumps(failures[:100]),
            },
        )
    if progress:
        progress(1.0, f"snapshot {as_of} written")
    shrink = "" if rec_info["lambda"] is None else (
        f", shrinkage {rec_info['lambda']:.2f} from {rec_info['n_samples']} backtest error samples")
    rec_text = f"Reconciled SKU, family and total forecasts: {rec_info['method']}{shrink}" + "".join(
        f"; {n}" for n in rec_info["notes"])
    return RunReport(run_id, as_of, horizon, len(series), len(failures), time.perf_counter() - t0, label, failures,
                     rec_text)


def backfill_month_ends(con, n: int, as_of: date | None = None) -> list[date]:
    """The last ``n`` month-ends on or before ``as_of`` (default: the data's as-of date) that have orders on or
    before them, oldest first."""
    as_of = as_of or kpis.default_as_of(con)
    if as_of is None or n < 1:
        return []
    first_order = con.execute("SELECT min(order_date) FROM orders").fetchall()[0][0]
    last = kpis.last_complete_month(as_of)
    ends = [kpis.month_range(kpis.add_months(last, -k))[1] for k in range(n)][::-1]
    return [e for e in ends if first_order is not None and first_order <= e]


@dataclass
class BackfillReport:
    runs: list[RunReport]
    skipped: list[str]

    def as_text(self) -> str:
        lines = [f"Backfill: {len(self.runs)} statistical snapshot(s) written, each from the orders up to its date."]
        lines += [f"  {r.snapshot_date}: run #{r.run_id}, {r.n_series:,} series, {r.n_failed} failed, "
                  f"{r.seconds:.1f} s" for r in self.runs]
        lines += [f"  skipped {s}" for s in self.skipped]
        return "\n".join(lines)


@access.requires("forecast")
def backfill(
    db_path: str | Path | None,
    n: int,
    horizon: int = 18,
    *,
    as_of: date | None = None,
    replace: bool = False,
    workers: int | None = None,
    dask_address: str | None = None,
    executor: cf.Executor | None = None,
    progress: Progress | None = None,
    model: str | None = None,
) -> BackfillReport:
    """Statistical snapshots as of each of the last ``n`` month-ends (:func:`backfill_month_ends`), oldest first.

    Each run sees only the months up to its own month-end (:func:`run_forecast` reads the history up to the
    last complete month of its as-of date), so forecast accuracy and value added can be measured right after a
    first import. Month-ends that already have a statistical snapshot are skipped unless ``replace``.
    """
    path = db.resolve_db_path(db_path)
    reader = db.open_reader(path)
    try:
        ends = backfill_month_ends(reader, n, as_of)
        have = {r[0] for r in reader.execute(
            "SELECT DISTINCT snapshot_date FROM forecasts WHERE source = 'statistical'").fetchall()}
    finally:
        reader.close()
    skipped = [f"{e}: a statistical snapshot exists" for e in ends if e in have and not replace]
    todo = [e for e in ends if replace or e not in have]
    runs: list[RunReport] = []
    shown = [0.0]  # a run's own progress may step back (series done, then reconciling): the bar does not

    def go(ex: cf.Executor) -> None:
        for i, end in enumerate(todo):
            def step(f: float, m: str, i=i, end=end) -> None:
                shown[0] = max(shown[0], (i + min(f, 1.0)) / len(todo))
                if progress:
                    progress(shown[0], f"as of {end} ({i + 1}/{len(todo)}): {m}")
            runs.append(run_forecast(path, horizon, as_of=end, executor=ex, progress=step, model=model))

    if todo:
        if executor is not None:
            go(executor)
        else:
            with make_executor(workers, dask_address) as (ex, _label):
                go(ex)
    if progress:
        progress(1.0, f"{len(runs)} snapshot(s) written")
    return BackfillReport(runs, skipped)


# --------------------------------------------------------------------------------------- CSV mode


def _month_start(month: int) -> date:
    """The first day of a month counted from January 1970 (pandas' monthly period ordinal)."""
    return date(1970 + month // 12, month % 12 + 1, 1)


#: Column names ``forecast --input`` also accepts (case-insensitive) for series_id, period and value, so that a
#: file in statsforecast's long format (unique_id, ds, y) or a plain export (sku, date, quantity) needs no editing.
CSV_COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "series_id": ("series_id", "unique_id", "id", "series", "sku", "item", "item_id", "product"),
    "period": ("period", "ds", "date", "month", "time"),
    "value": ("value", "y", "qty", "quantity", "demand", "sales", "units"),
}


def _csv_columns(columns: list[str], source: object) -> dict[str, str]:
    """Rename map from the file's columns to series_id, period, value (``CSV_COLUMN_ALIASES``); ValueError
    naming what is missing or ambiguous."""
    lower: dict[str, list[str]] = {}
    for c in columns:
        lower.setdefault(c.strip().lower(), []).append(c)
    rename, problems = {}, []
    for target, aliases in CSV_COLUMN_ALIASES.items():
        found = [c for a in aliases for c in lower.get(a, [])]
        if not found:
            problems.append(f"no {target} column (accepted: {', '.join(aliases)})")
        elif len(found) > 1 and found[0].strip().lower() != target:
            problems.append(f"{target}: more than one candidate column ({', '.join(found)}); rename one")
        else:
            rename[found[0]] = target
    if problems:
        raise ValueError(f"{source}: " + "; ".join(problems))
    return rename


def _csv_series(raw: pd.DataFrame, numbered: bool = False) -> tuple[list[tuple[str, np.ndarray]], dict[str, int]]:
    """(series_id, monthly history) sorted by id, gaps between months as 0, and the month after each series'
    last one (months since January 1970, or the next period number when ``numbered``). ``raw``: series_id
    (str), period (datetime, or int month numbers when ``numbered``), value (number); values of the same
    series and month are added (in file order)."""
    if numbered:
        month = raw["period"].to_numpy(dtype=np.int64)
    else:
        month = (raw["period"].dt.year.to_numpy() - 1970) * 12 + raw["period"].dt.month.to_numpy() - 1
    sums = raw.assign(month=month).groupby(["series_id", "month"], sort=True)["value"].sum()
    ids = sums.index.get_level_values(0)
    months = sums.index.get_level_values(1).to_numpy(dtype=np.int64)
    values = sums.to_numpy(dtype=float)
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    series, firsts = [], {}
    for a, b in zip(starts.tolist(), ends.tolist()):
        first, last = months[a], months[b - 1]
        y = np.zeros(last - first + 1)
        y[months[a:b] - first] = values[a:b]
        sid = str(ids[a])
        series.append((sid, y))
        firsts[sid] = int(last) + 1
    return series, firsts


def forecast_csv(
    input_path: str | Path,
    output_path: str | Path,
    horizon: int,
    *,
    workers: int | None = None,
    dask_address: str | None = None,
    executor: cf.Executor | None = None,
    progress: Progress | None = None,
    model: str | None = None,
) -> pd.DataFrame:
    """Forecast monthly series from a long CSV (series_id, period, value) into a CSV with
    series_id, period, model, forecast, lo80, hi80, lo95, hi95. Gaps between months count as 0, and so do
    empty values. Other column names are accepted (``CSV_COLUMN_ALIASES``: unique_id, ds, y as statsforecast
    writes them; sku, date, quantity). ``period``: a date (any day of the month), or whole numbers 1, 2, 3
    ... counting months, in which case the output numbers its months on from each series' last.
    ``model``: as :func:`run_forecast` (None: the automatic choice)."""
    model = check_model(model)
    raw = pd.read_csv(input_path, dtype=str, keep_default_na=False)
    raw = raw.rename(columns=_csv_columns(list(raw.columns), input_path))
    text = raw["period"].str.strip()
    numbered = bool(len(text)) and bool(text.str.fullmatch(r"[+-]?\d+").all())
    if numbered:  # periods numbered 1, 2, 3 ... (statsforecast's integer ds): consecutive months
        raw["period"] = pd.to_numeric(text)
    else:
        raw["period"] = pd.to_datetime(text, errors="coerce")
    values = pd.to_numeric(raw["value"].str.strip().replace("", "0"), errors="coerce")
    bad = raw[raw["period"].isna() | values.isna()]
    if len(bad):
        row = int(bad.index[0]) + 2
        col = "period" if pd.isna(bad["period"].iloc[0]) else "value"
        what = "a date (e.g. 2024-01 or 2024-01-31) or a month number" if col == "period" else "a number"
        raise ValueError(f"{input_path} row {row}, column {col}: {bad[col].iloc[0]!r} is not {what}")
    raw["value"] = values
    series, firsts = _csv_series(raw, numbered)
    if executor is not None:
        results = run_series(series, horizon, executor, progress=progress, model=model, detail=False)
    else:
        with make_executor(workers, dask_address) as (ex, _):
            results = run_series(series, horizon, ex, progress=progress, model=model, detail=False)
    for r in results:
        if not r.ok:
            raise RuntimeError(f"series {r.unique_id}: {r.error}")
    cols = ["series_id", "period", "model", "forecast", "lo80", "hi80", "lo95", "hi95"]
    if not results:
        out = pd.DataFrame(columns=cols)
    else:
        # one frame for every series at once (a frame per series cost more than the IMAPA fits behind it)
        steps = np.arange(horizon)
        month = np.concatenate([firsts[r.unique_id] + steps for r in results])
        dates = {m: m if numbered else _month_start(m) for m in np.unique(month).tolist()}
        bounds = ["mean", "lo80", "hi80", "lo95", "hi95"]  # -> forecast, lo80, ... (column by column: cheaper)
        values = np.concatenate([np.column_stack([r.forecast[c].to_numpy() for c in bounds]) for r in results])
        out = pd.DataFrame(
            {
                "series_id": np.repeat(np.array([r.unique_id for r in results], dtype=object), horizon),
                "period": np.array([dates[m] for m in month.tolist()], dtype=object),
                "model": np.repeat(np.array([r.chosen for r in results], dtype=object), horizon),
                **{c: values[:, i] for i, c in enumerate(cols[3:])},
            }
        )
    out.to_csv(output_path, index=False)
    return out
