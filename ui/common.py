"""What every page shares: the cached read connection, cached queries, the sidebar filters, downloads.

Pages call :func:`page_setup` first; it draws the shared sidebar and returns the Filters. Building the
sidebar here (called by each page) instead of in app.py keeps pages runnable on their own in AppTest.
"""

from __future__ import annotations

import inspect
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from analytics import db, exports, kpis, scorecard
from analytics.filters import DIMENSIONS, Filters
from ui.text import md_escape


def db_path() -> Path:
    return db.resolve_db_path()


@st.cache_resource(max_entries=4, show_spinner=False)
def _reader(path: str, version: tuple) -> duckdb.DuckDBPyConnection:
    """One read-only connection per database version; a new import lands as a new version."""
    return db.open_reader(path)


def version() -> tuple:
    return db.version_key(db_path())


def con() -> duckdb.DuckDBPyConnection:
    """A cursor for this script run on the current database version."""
    return db.cursor(_reader(str(db_path()), version()))


def require_data() -> bool:
    """Show a clear message (not a traceback) when the database is missing or unreadable."""
    try:
        if as_of_default(version()) is None:  # cached per data version; a read error is raised, never cached
            st.info("The database holds no data yet. Import your files on the **Import data** page, "
                    "or build the demo company: `python -m analytics demo`.")
            return False
        return True
    except db.DatabaseError as e:
        st.error(str(e))
        return False


# ---------------------------------------------------------------- cached queries (keyed on the data version)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def dimension_values(data_version: tuple) -> dict[str, list[str]]:
    c = con()
    sql = {  # constant queries
        "families": "SELECT DISTINCT family FROM products ORDER BY 1",
        "skus": "SELECT sku FROM products ORDER BY 1",
        # the line's ship-to region when the orders carry one, else the customer's (as the fact tables)
        "regions": "SELECT DISTINCT region FROM fact_order_lines UNION SELECT DISTINCT region FROM customers ORDER BY 1",
        "segments": "SELECT DISTINCT segment FROM customers ORDER BY 1",
        "customers": "SELECT customer_id FROM customers ORDER BY 1",
        "work_centers": "SELECT DISTINCT work_center FROM products UNION SELECT DISTINCT work_center FROM capacity ORDER BY 1",
    }
    return {k: [r[0] for r in c.execute(q).fetchall() if r[0] is not None] for k, q in sql.items()}


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def as_of_default(data_version: tuple) -> date:
    return kpis.default_as_of(con())


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def forecast_sources(data_version: tuple) -> list[str]:
    """Forecast sources in the data, consensus first (the default for accuracy)."""
    found = [r[0] for r in con().execute("SELECT DISTINCT source FROM forecasts ORDER BY 1").fetchall()]
    preferred = [s for s in ("consensus", "statistical", "sales") if s in found]
    return preferred + [s for s in found if s not in preferred] or ["consensus"]


@st.cache_data(ttl=3600, max_entries=8, show_spinner=False)
def data_months(data_version: tuple) -> list[date]:
    row = con().execute("SELECT min(order_date), max(order_date) FROM orders").fetchone()
    if not row or row[0] is None:
        return []
    out, m = [], row[0].replace(day=1)
    while m <= row[1]:
        out.append(m)
        m = kpis.add_months(m, 1)
    return out


@st.cache_data(ttl=3600, max_entries=64, show_spinner="Computing the scorecard…")
def cached_scorecard(
    data_version: tuple, start: date, end: date, as_of: date, filters: Filters, lag: int, source: str,
    level: str = "sku",
) -> pd.DataFrame:
    return scorecard.scorecard(con(), start, end, as_of, filters, lag, source, level=level)


@st.cache_data(ttl=3600, max_entries=128, show_spinner="Drilling down…")
def cached_breakdown(data_version: tuple, kpi_id: str, q: kpis.Query, by: str) -> pd.DataFrame:
    return kpis.kpi_breakdown(con(), kpi_id, q, by)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def cached_tracking_signals(data_version: tuple, q: kpis.Query) -> pd.DataFrame:
    return kpis.tracking_signals(con(), q)


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def cached_promise_gap(data_version: tuple, q: kpis.Query) -> pd.DataFrame:
    return kpis.promise_gap_distribution(con(), q)


@st.cache_data(ttl=3600, max_entries=128, show_spinner=False)
def cached_read(data_version: tuple, func: str, *args, **kwargs):
    """``module:function(con, *args, **kwargs)`` of a read-only analytics function, cached per data version.

    Every argument is part of the cache key (Query and Filters are frozen dataclasses, frames are hashed by
    content), so one cached copy serves every session that asks the same question of the same data."""
    import importlib

    module, name = func.split(":")
    if not module.startswith("analytics."):
        raise ValueError(f"cached_read runs analytics functions only, not {func!r}")
    return getattr(importlib.import_module(module), name)(con(), *args, **kwargs)


@st.cache_resource(ttl=3600, max_entries=128, show_spinner=False)
def cached_read_figure(data_version: tuple, chart: str, func: str, *args, chart_args: tuple = (), **kwargs):
    """``charts.<chart>(cached_read(data_version, func, *args, **kwargs), *chart_args)``, built once per data
    version and question.

    The cache key is the question (a few small values), not the frame the figure is drawn from: hashing a
    frame costs more than reading the figure. Held as one shared object (st.cache_resource), not pickled:
    st.cache_data unpickles a fresh copy on every read, and unpickling a plotly Figure validates it all over
    again (~15 ms). st.plotly_chart only reads the figure, so callers pass it straight on and never change it."""
    from analytics import charts

    return getattr(charts, chart)(cached_read(data_version, func, *args, **kwargs), *chart_args)


@st.cache_resource(ttl=3600, max_entries=128, show_spinner=False)
def cached_chart(key: tuple, chart: str, _args: tuple = (), _kwargs: dict | None = None):
    """``charts.<chart>(*_args, **_kwargs)`` built once per ``key``, shared like :func:`cached_read_figure`.

    The inputs are not hashed (names with a leading underscore): ``key`` must name everything they depend on,
    typically the data version and what the page asked for (for frames read through :func:`cached_read`)."""
    from analytics import charts

    return getattr(charts, chart)(*_args, **(_kwargs or {}))


# ---------------------------------------------------------------- page frame


def entry_guard() -> None:
    """Send a page that Streamlit ran directly (not through app.py) through the entry point.

    With a folder named ``pages/``, Streamlit serves a deep link such as /data_audit from the folder
    (no navigation, no wide layout) until some session has run app.py. The page remembers where the
    user wanted to go and hands over to app.py, which runs st.navigation and switches there.
    """
    if st.session_state.get("_entry_point_ran"):
        from ui import auth

        auth.gate()  # signed in (or local mode) before anything is read; stops the script otherwise
        auth.sidebar()
        return
    for frame in inspect.stack():
        path = Path(frame.filename)
        if path.parent.name == "pages":
            st.session_state["_wanted_page"] = path.stem
            break
    st.switch_page("app.py")


def page_setup(title: str) -> Filters | None:
    """Title, shared sidebar filters; returns the Filters or None when there is no data to show."""
    entry_guard()
    st.title(title)
    if not require_data():
        return None
    return sidebar_filters()


def sidebar_filters() -> Filters:
    """The global filters. Values live in session state under ``flt_*`` and survive page changes."""
    options = dimension_values(version())
    chosen = {}
    with st.sidebar:
        st.header("Filters")
        for field, (_, label) in DIMENSIONS.items():
            key, keep = f"flt_{field}", f"_keep_flt_{field}"
            if key not in st.session_state:  # restore after a page change cleaned the widget state
                st.session_state[key] = [v for v in st.session_state.get(keep, []) if v in options[field]]
            chosen[field] = st.multiselect(label, options[field], key=key, placeholder="All")
            st.session_state[keep] = chosen[field]
        as_of = as_of_default(version())
        st.caption(f"Data as of **{as_of}** · database `{db_path().name}`")
    return Filters.from_lists(**chosen)


def filters_not_applied(filters: Filters, dims, why: str) -> None:
    """Say which sidebar filters this view cannot apply (a view cut only by ``dims``), instead of ignoring them
    silently: "Not available by region: the supply plan is made per product ..."."""
    skipped = filters.not_applied(dims)
    if skipped:
        st.info(f"Not available by {' or '.join(skipped)}: {why}", icon=":material/filter_alt_off:")


def kept(key: str, options: list) -> dict:
    """Widget arguments (key, on_change) for a widget inside a lazy tab, whose choice survives while the tab is
    closed: ``st.radio(label, options, **kept("xx_key", options))``.

    Streamlit forgets a widget's value after a run that did not draw it (as with a page change, see
    :func:`sidebar_filters`); a choice the user makes is also kept under ``_keep_<key>`` and put back when the
    widget is drawn again, if it is still one of the options."""
    keep = f"_keep_{key}"
    if key not in st.session_state and keep in st.session_state and st.session_state[keep] in options:
        st.session_state[key] = st.session_state[keep]
    return {"key": key, "on_change": _remember, "args": (key,)}


def _remember(key: str) -> None:
    st.session_state[f"_keep_{key}"] = st.session_state[key]


def escape(text) -> str:
    """User-typed text shown in markdown is escaped (:func:`md_escape`)."""
    return md_escape(text)


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def downloads(name: str, df: pd.DataFrame, key: str) -> None:
    """CSV and Excel download buttons for a table (cells neutralised against formula injection). The CSV keeps
    the machine names (for other programs); the Excel file is for people: human headers and number formats
    (``analytics.presentation``), the numbers still numbers."""
    # The files are built when the button is clicked (a callable runs on its own thread), not on every page
    # run: building an Excel file costs far more than drawing the page, and most visits download nothing.
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button("⬇ CSV", lambda: exports.to_csv_bytes(df), f"{name}.csv", "text/csv", key=f"{key}_csv",
                       on_click="ignore")
    c2.download_button("⬇ Excel", lambda: exports.to_excel_bytes({name: df}, human=True), f"{name}.xlsx", XLSX_MIME,
                       key=f"{key}_xlsx", on_click="ignore")


def run_forecast_button(key: str) -> None:
    """Start a statistical forecast run from the app, with a progress bar; pages show it when it lands."""
    from analytics.forecasting import batch
    from ui import auth

    model = st.selectbox("Model", list(batch.MODEL_CHOICES), format_func=batch.MODEL_CHOICES.get,
                         key=f"{key}_model", disabled=not auth.can("forecast"),
                         help="Automatic: each SKU's demand class decides (the combination for smooth demand, "
                         "IMAPA for intermittent), every candidate backtested for the leaderboard. Or one model "
                         "for every SKU and family (items with no recent demand still get zero).")
    if st.button("Run the statistical forecast now", key=key, disabled=not auth.can("forecast"),
                 help="Forecasts every active SKU and family; the dashboard keeps working and shows the new "
                 "snapshot when it lands. A copy of the database is kept first (Audit log & backups page)."):
        bar = st.progress(0.0, text="Starting the forecast run…")
        report = batch.run_forecast(db_path(), progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m),
                                    user=auth.user(), model=model)
        st.cache_data.clear()
        st.success(report.as_text())


BACKFILL_OFFER = "_backfill_offer"  # session flag: an import just landed, offer forecast history


def offer_backfill(key: str, always: bool = False) -> None:
    """After an import: offer statistical snapshots as of the last N month-ends (``batch.backfill``), so forecast
    accuracy and value added work from the first day. Shown while the session flag ``BACKFILL_OFFER`` is set
    (or ``always``: a page that has no forecast history to show)."""
    from analytics.forecasting import batch
    from ui import auth

    if not (always or st.session_state.get(BACKFILL_OFFER)):
        return
    with st.container(border=True):
        st.markdown("**Forecast history.** Forecast accuracy and value added compare forecasts made in the past "
                    "with what was then ordered; a first import has none. Make statistical snapshots as of each of "
                    "the last month-ends, each from the orders before it only.")
        c1, c2 = st.columns([1, 3])
        n = c1.number_input("Month-ends", 1, 24, 6, key=f"{key}_n")
        if not auth.can("forecast"):
            auth.explain_refusal("forecast")
        if c2.button(f"Make {n} months of forecast history", key=f"{key}_go", disabled=not auth.can("forecast"),
                     help="One statistical run per month-end, oldest first (a few minutes on a large catalogue). "
                     "Month-ends that already have a statistical snapshot are skipped."):
            bar = st.progress(0.0, text="Starting…")
            report = batch.backfill(db_path(), int(n), progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0),
                                                                                        text=m), user=auth.user())
            st.session_state[BACKFILL_OFFER] = False
            st.cache_data.clear()
            st.success(escape(report.as_text()).replace("\n", "  \n"))


def verdicts(sentences: list[str], show_better: bool = True) -> None:
    """FVA verdicts in two boxes: what made the forecast worse (red) and what made it better (green)."""
    worse = [s for s in sentences if "WORSE" in s]
    better = [s for s in sentences if "WORSE" not in s]
    if worse:
        st.error("\n".join(f"- {escape(s)}" for s in worse))
    if better and show_better:
        st.success("\n".join(f"- {escape(s)}" for s in better))


def arrow_table(df: pd.DataFrame):
    """``df`` as the Arrow table st.dataframe would make of it (same bytes on the wire, same look).

    For display tables that are cached and shown on every view: st.dataframe serialises a pyarrow.Table
    directly, so the pandas -> Arrow conversion (~10 ms for a few thousand rows) is paid once, not per view.
    A frame Arrow cannot take as it is stays a frame (st.dataframe then applies its own fixes)."""
    import pyarrow as pa

    try:
        return pa.Table.from_pandas(df)
    except (pa.ArrowException, OverflowError):
        return df
