"""The demo company: contract, integrity, determinism and the S&OP stories it must tell."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from analytics import db, demo
from analytics.schema import CONTRACT

AS_OF = date(2026, 9, 30)
SCALE = 0.2


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One demo database at a small scale, shared by the read-only tests."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    calls: list[tuple[float, str]] = []
    summary = demo.build_demo(path, scale=SCALE, seed=42, as_of=AS_OF, progress=lambda f, m: calls.append((f, m)))
    return path, summary, calls


@pytest.fixture(scope="module")
def con(built):
    c = db.open_reader(built[0])
    yield c
    c.close()


def one(con, sql: str, params: dict | None = None):
    return con.execute(sql, params or {}).fetchone()[0]


def _table_digest(con, table: str) -> tuple[int, int]:
    df = con.execute(f"SELECT * FROM {table} ORDER BY ALL").df()  # constant table names
    return len(df), int(pd.util.hash_pandas_object(df, index=False).sum())


# --------------------------------------------------------------------------- summary, progress, calendar


def test_summary_and_progress(built, con):
    _, summary, calls = built
    assert summary["as_of"] == AS_OF.isoformat()
    assert summary["seconds"] > 0
    for name in CONTRACT:
        assert summary["rows"][name] == one(con, f"SELECT count(*) FROM {name}"), name
        assert summary["rows"][name] > 0, name
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(isinstance(m, str) and m for _, m in calls)
    assert db.get_meta(con, "as_of") == AS_OF.isoformat()
    assert db.get_meta(con, "demo_seed") == "42"


def test_default_as_of_is_last_day_of_previous_month():
    assert demo.default_as_of(date(2026, 3, 15)) == date(2026, 2, 28)
    assert demo.default_as_of(date(2026, 1, 1)) == date(2025, 12, 31)
    assert demo.default_as_of(date(2024, 3, 31)) == date(2024, 2, 29)


def test_dimensions(con):
    assert one(con, "SELECT count(*) FROM products") == 150
    assert one(con, "SELECT count(DISTINCT family) FROM products") == 6
    assert 4 <= one(con, "SELECT count(DISTINCT work_center) FROM products") <= 5
    # each family sits mostly on one or two work centers
    assert one(con, "SELECT max(n) FROM (SELECT count(DISTINCT work_center) n FROM products GROUP BY family)") <= 2
    margins = con.execute("SELECT min((unit_price - unit_cost) / unit_price), max((unit_price - unit_cost) / unit_price) "
                          "FROM products").fetchone()
    assert 0.24 <= margins[0] and margins[1] <= 0.51
    assert one(con, "SELECT count(*) FROM customers") == round(400 * SCALE)
    assert one(con, "SELECT count(DISTINCT region) FROM customers") == 4
    assert one(con, "SELECT count(DISTINCT segment) FROM customers") == 3
    lines = one(con, "SELECT count(*) FROM orders")
    assert 100_000 * SCALE <= lines <= 150_000 * SCALE
    assert one(con, "SELECT max(line_no) FROM orders") == 5
    # line numbers run 1..n within every order
    assert one(con, "SELECT count(*) FROM (SELECT order_id FROM orders GROUP BY order_id "
                    "HAVING min(line_no) <> 1 OR max(line_no) <> count(*))") == 0
    months = one(con, "SELECT count(DISTINCT date_trunc('month', order_date)) FROM orders")
    assert months == 36


def test_customer_volume_is_pareto(con):
    top20 = one(con, """
        WITH s AS (SELECT customer_id, sum(quantity * unit_price) rev FROM orders GROUP BY 1),
             r AS (SELECT rev, row_number() OVER (ORDER BY rev DESC) rk, count(*) OVER () n FROM s)
        SELECT sum(rev) FILTER (WHERE rk <= n * 0.2) / sum(rev) FROM r""")
    assert top20 > 0.6


# --------------------------------------------------------------------------- determinism


def test_deterministic(tmp_path):
    a, b, c = tmp_path / "a.duckdb", tmp_path / "b.duckdb", tmp_path / "c.duckdb"
    demo.build_demo(a, scale=0.05, seed=7, as_of=AS_OF)
    demo.build_demo(b, scale=0.05, seed=7, as_of=AS_OF)
    demo.build_demo(c, scale=0.05, seed=8, as_of=AS_OF)
    ca, cb, cc = db.open_reader(a), db.open_reader(b), db.open_reader(c)
    try:
        for name in CONTRACT:
            assert _table_digest(ca, name) == _table_digest(cb, name), name
        assert _table_digest(ca, "orders") != _table_digest(cc, "orders")
    finally:
        for x in (ca, cb, cc):
            x.close()


# --------------------------------------------------------------------------- contract and integrity


def test_contract_types_nulls_and_non_negatives(con):
    for t in CONTRACT.values():
        cols = {r[0]: r[1] for r in con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = $t AND database_name = 'sop'",
            {"t": t.name}).fetchall()}
        assert list(cols) == list(t.column_names), t.name
        for c in t.columns:
            if not c.nullable:
                assert one(con, f"SELECT count(*) FROM {t.name} WHERE {c.name} IS NULL") == 0, (t.name, c.name)
            if c.non_negative:
                assert one(con, f"SELECT count(*) FROM {t.name} WHERE {c.name} < 0") == 0, (t.name, c.name)


def test_referential_integrity(con):
    checks = {
        "order sku": "SELECT count(*) FROM orders o ANTI JOIN products p USING (sku)",
        "order customer": "SELECT count(*) FROM orders o ANTI JOIN customers c USING (customer_id)",
        "delivery line": "SELECT count(*) FROM deliveries d ANTI JOIN orders o USING (order_id, line_no)",
        "forecast sku": "SELECT count(*) FROM forecasts f ANTI JOIN products p USING (sku)",
        "inventory sku": "SELECT count(*) FROM inventory i ANTI JOIN products p USING (sku)",
        "production sku": "SELECT count(*) FROM production w ANTI JOIN products p USING (sku)",
        "production wc": "SELECT count(*) FROM production w JOIN products p USING (sku) "
                         "WHERE w.work_center <> p.work_center",
        "capacity wc": "SELECT count(*) FROM (SELECT DISTINCT work_center FROM products) p "
                       "ANTI JOIN capacity c USING (work_center)",
        "survey customer": "SELECT count(*) FROM surveys s ANTI JOIN customers c USING (customer_id)",
        "budget family": "SELECT count(*) FROM budget b ANTI JOIN (SELECT DISTINCT family FROM products) p USING (family)",
    }
    for name, sql in checks.items():
        assert one(con, sql) == 0, name


def test_dates_and_quantities(con):
    p = {"as_of": AS_OF}
    assert one(con, "SELECT count(*) FROM orders WHERE order_date > $as_of", p) == 0
    assert one(con, "SELECT count(*) FROM deliveries WHERE delivered_date > $as_of", p) == 0
    assert one(con, "SELECT count(*) FROM deliveries d JOIN orders o USING (order_id, line_no) "
                    "WHERE d.delivered_date < o.order_date OR d.ship_date < o.order_date") == 0
    assert one(con, "SELECT count(*) FROM deliveries WHERE ship_date > delivered_date "
                    "OR delivered_date - ship_date > 5") == 0
    assert one(con, "SELECT count(*) FROM orders WHERE requested_date - order_date NOT BETWEEN 7 AND 30") == 0
    assert one(con, "SELECT count(*) FROM orders WHERE promised_date < requested_date") == 0
    assert one(con, "SELECT avg((promised_date = requested_date)::INT) FROM orders") > 0.6
    # no over-delivery
    assert one(con, """SELECT count(*) FROM orders o JOIN (
                         SELECT order_id, line_no, sum(quantity) q FROM deliveries GROUP BY ALL) d
                       USING (order_id, line_no) WHERE d.q > o.quantity""") == 0
    assert one(con, "SELECT count(*) FROM deliveries WHERE quantity <= 0") == 0
    # error codes: ~1-2 % of deliveries, from the documented list, others NULL
    err = one(con, "SELECT avg((error_code IS NOT NULL)::INT) FROM deliveries")
    assert 0.005 < err < 0.03
    codes = {r[0] for r in con.execute("SELECT DISTINCT error_code FROM deliveries WHERE error_code IS NOT NULL").fetchall()}
    assert codes == {"wrong_item", "wrong_quantity", "damaged", "documentation"}
    # most lines in one delivery, some partial, some short-shipped
    stats = con.execute("""SELECT avg((n_deliveries = 1)::INT), avg((n_deliveries > 1)::INT),
                                  avg((completion_date IS NULL AND n_deliveries > 0)::INT)
                           FROM fact_order_lines WHERE promised_date < $as_of - 60""", p).fetchone()
    assert stats[0] > 0.85 and stats[1] > 0.02 and stats[2] > 0.005
    scores = con.execute("SELECT min(score), max(score), bool_and(score = round(score)) FROM surveys").fetchone()
    assert scores[0] >= 0 and scores[1] <= 10 and scores[2]
    per_year = one(con, "SELECT count(*) / 3.0 FROM surveys")
    assert 150 <= per_year <= 600


def test_open_backlog_and_open_work_orders(con):
    p = {"as_of": AS_OF}
    backlog = one(con, """SELECT count(*) FROM fact_order_lines
                          WHERE promised_date > $as_of AND delivered_qty < quantity""", p)
    assert backlog > 50
    assert one(con, "SELECT count(*) FROM production WHERE actual_start IS NOT NULL AND actual_end IS NULL") > 0
    assert one(con, "SELECT count(*) FROM production WHERE planned_start > $as_of AND actual_start IS NULL", p) > 100
    assert one(con, "SELECT max(planned_start) FROM production") > date(2026, 11, 1)
    assert one(con, "SELECT count(*) FROM production WHERE (actual_end IS NULL) <> (produced_qty IS NULL)") == 0
    assert one(con, "SELECT count(*) FROM production WHERE actual_start > $as_of OR actual_end > $as_of", p) == 0
    assert one(con, "SELECT count(*) FROM production WHERE actual_end < actual_start "
                    "OR planned_end < planned_start OR produced_qty > planned_qty") == 0


def test_inventory_weekly_and_non_negative(con):
    assert one(con, "SELECT count(DISTINCT dayofweek(snapshot_date)) FROM inventory") == 1
    assert one(con, "SELECT min(on_hand) FROM inventory") >= 0
    weeks = one(con, "SELECT count(DISTINCT snapshot_date) FROM inventory")
    assert 150 <= weeks <= 160
    assert one(con, "SELECT count(DISTINCT sku) FROM inventory") == 150
    assert one(con, "SELECT max(snapshot_date) FROM inventory") <= AS_OF


# --------------------------------------------------------------------------- the stories


def _lag1(con) -> pd.DataFrame:
    """Lag-1 forecast vs actual per family and source, over complete history months."""
    return con.execute("""
        WITH f AS (
            SELECT sku, period, source, quantity FROM forecasts
            WHERE date_trunc('month', snapshot_date) + INTERVAL 1 MONTH = period AND period <= $last
        )
        SELECT p.family, f.source, sum(f.quantity) AS fc, sum(coalesce(a.qty, 0)) AS actual,
               sum(abs(f.quantity - coalesce(a.qty, 0))) AS abs_err
        FROM f JOIN products p USING (sku)
        LEFT JOIN fact_demand_monthly a ON a.sku = f.sku AND a.month = f.period
        GROUP BY ALL""", {"last": date(2026, 9, 1)}).df().set_index(["family", "source"])


def test_forecast_snapshots(con):
    assert one(con, "SELECT count(DISTINCT snapshot_date) FROM forecasts") == 36
    assert one(con, "SELECT max(snapshot_date) FROM forecasts") == AS_OF
    assert one(con, "SELECT count(*) FROM forecasts WHERE day(period) <> 1") == 0
    horizons = con.execute("SELECT min(n), max(n) FROM (SELECT snapshot_date, sku, source, count(*) n "
                           "FROM forecasts GROUP BY ALL)").fetchone()
    assert horizons == (18, 18)
    assert {r[0] for r in con.execute("SELECT DISTINCT source FROM forecasts").fetchall()} == {
        "statistical", "sales", "consensus"}


def test_sales_overforecasts_one_family(con):
    df = _lag1(con)
    ratio = df["fc"] / df["actual"]
    biased = demo.BIASED_FAMILY
    assert ratio[(biased, "sales")] > 1.15
    for fam in df.index.get_level_values("family").unique():
        if fam != biased:
            assert abs(ratio[(fam, "sales")] - 1) < 0.10, fam
            assert abs(ratio[(fam, "statistical")] - 1) < 0.10, fam
    # consensus sits between statistical and sales, and beats sales
    assert ratio[(biased, "statistical")] < ratio[(biased, "consensus")] < ratio[(biased, "sales")]
    err = df["abs_err"] / df["actual"]
    fams = df.index.get_level_values("family").unique()
    better = sum(err[(f, "consensus")] < err[(f, "sales")] for f in fams)
    assert better >= len(fams) - 1


def test_one_work_center_overloaded_in_peak(con):
    util = con.execute("""
        WITH l AS (
            SELECT p.work_center, date_trunc('month', w.actual_end)::DATE AS period,
                   sum(w.produced_qty * p.hours_per_unit) AS hours
            FROM production w JOIN products p USING (sku)
            WHERE w.actual_end IS NOT NULL GROUP BY ALL)
        SELECT l.work_center, l.period, l.hours / c.available_hours AS u
        FROM l JOIN capacity c USING (work_center, period)
        WHERE l.period < DATE '2026-09-01'""").df()
    peak = util.groupby("work_center")["u"].max()
    assert set(peak[peak > 1.0].index) == {demo.OVERLOADED_WC}
    assert 1.05 <= peak[demo.OVERLOADED_WC] <= 1.3
    others = util[util["work_center"] != demo.OVERLOADED_WC]
    assert 0.55 <= others["u"].mean() <= 0.85
    ow = util[util["work_center"] == demo.OVERLOADED_WC]
    in_peak = ow["period"].dt.month.isin(demo.PEAK_MONTHS)
    assert ow.loc[in_peak, "u"].mean() > max(0.95, ow.loc[~in_peak, "u"].mean() + 0.2)
    assert (ow.loc[in_peak, "u"] > 1.0).sum() >= 3
    # capacity covers the history and 18 months ahead
    assert one(con, "SELECT count(DISTINCT period) FROM capacity") == 36 + 18


def test_late_deliveries_concentrate_in_one_region(con):
    df = con.execute("""
        SELECT region, avg((completion_date IS NULL OR completion_date > promised_date)::INT) AS late,
               avg((n_deliveries > 1)::INT) AS partial
        FROM fact_order_lines WHERE promised_date <= $cut GROUP BY region""",
                     {"cut": date(2026, 8, 31)}).df().set_index("region")
    others = df.drop(index=demo.LATE_REGION)
    assert df.loc[demo.LATE_REGION, "late"] > 2 * others["late"].max()
    assert df.loc[demo.LATE_REGION, "partial"] > 2 * others["partial"].max()
    nps = con.execute("SELECT c.region, avg(s.score) FROM surveys s JOIN customers c USING (customer_id) "
                      "GROUP BY ALL").df().set_index("region").iloc[:, 0]
    assert nps[demo.LATE_REGION] < nps.drop(index=demo.LATE_REGION).min() - 0.8


def test_demand_patterns(con):
    months = con.execute("""
        WITH g AS (SELECT p.sku, m.month FROM products p,
                   (SELECT DISTINCT month FROM fact_demand_monthly) m)
        SELECT g.sku, g.month, coalesce(d.qty, 0) AS qty FROM g LEFT JOIN fact_demand_monthly d USING (sku, month)
        ORDER BY ALL""").df()
    assert months["month"].nunique() == 36
    zero_share = (months["qty"] == 0).groupby(months["sku"]).mean()
    assert (zero_share.drop([demo.LAUNCH_SKU, demo.EOL_SKU]) > 0.3).sum() >= 1
    wide = months.pivot(index="sku", columns="month", values="qty")
    launch = wide.loc[demo.LAUNCH_SKU]
    assert (launch.iloc[:-7] == 0).all() and (launch.iloc[-6:] > 0).sum() >= 5
    assert launch.iloc[-3:].sum() > 1.2 * launch.iloc[-6:-3].sum()  # ramping up
    eol = wide.loc[demo.EOL_SKU]
    assert (eol.iloc[-4:] == 0).all() and eol.iloc[:12].sum() > 0
    assert eol.iloc[:12].mean() > 2 * eol.iloc[-12:-4].mean()  # fading
    # seasonality: sofas peak in Q4, outdoor in early summer
    fam = con.execute("""SELECT p.family, month(d.month) AS moy, sum(d.qty) AS qty
                         FROM fact_demand_monthly d JOIN products p USING (sku) GROUP BY ALL""").df()
    by = fam.pivot_table(index="moy", columns="family", values="qty", aggfunc="sum")
    assert by.loc[[10, 11, 12], "Sofas & Lounge"].sum() > 1.8 * by.loc[[4, 5, 6], "Sofas & Lounge"].sum()
    assert by.loc[[5, 6, 7], "Outdoor"].sum() > 2 * by.loc[[11, 12, 1], "Outdoor"].sum()


def test_budget_covers_this_and_next_year(con):
    periods = con.execute("SELECT min(period), max(period), count(DISTINCT period), count(DISTINCT family) "
                          "FROM budget").fetchone()
    assert periods == (date(2026, 1, 1), date(2027, 12, 1), 24, 6)
    assert one(con, "SELECT min(units) FROM budget") > 0


# --------------------------------------------------------------------------- first start: the story under way


def test_first_start_months_come_from_the_data():
    # As of a month end the last complete month is that month: this month's summit reviews November, last
    # month's reviewed October on the data of 2026-10-31. Mid-month, November is not complete yet: one back.
    assert demo.first_start_months(date(2026, 11, 30)) == (date(2026, 11, 1), date(2026, 10, 1), date(2026, 10, 31))
    assert demo.first_start_months(date(2026, 11, 15)) == (date(2026, 10, 1), date(2026, 9, 1), date(2026, 9, 30))
    assert demo.first_start_months(date(2018, 3, 31)) == (date(2018, 3, 1), date(2018, 2, 1), date(2018, 2, 28))


def test_first_start_has_a_forecast_run_and_last_months_summit(tmp_path):
    """A first start finds the workbench's statistical run and last month's summit held, whose open actions this
    month's summit carries over; every date from the data (as of 2018-06-30: an old export works too)."""
    import concurrent.futures as cf

    from analytics import summit, workbench

    as_of = date(2018, 6, 30)
    path = tmp_path / "first.duckdb"
    demo.build_demo(path, scale=0.05, seed=3, as_of=as_of)
    calls: list[tuple[float, str]] = []
    with cf.ThreadPoolExecutor(2) as ex:
        made = demo.first_start(path, progress=lambda f, m: calls.append((f, m)), executor=ex)
    assert made["last_summit"]["month"] == "2018-05-01" and made["last_summit"]["as_of"] == "2018-05-31"
    assert made["forecast_run"]["snapshot_date"] == "2018-06-30" and made["forecast_run"]["failed"] == 0
    assert [f for f, _ in calls] == sorted(f for f, _ in calls) and calls[-1][0] == 1.0

    con = db.open_reader(path)
    try:
        run = workbench.latest_run(con)  # what the demand workbench shows
        assert run is not None and run["snapshot_date"].date() == as_of
        held = summit.list_summits(con)
        assert len(held) == 1
        row = held.iloc[0]
        assert (row["month"], row["as_of"]) == (date(2018, 5, 1), date(2018, 5, 31))
        assert (row["decisions"], row["actions"], row["open_actions"]) == (1, 3, 2)
        acts = summit.actions(con, int(row["summit_id"]))
        assert sorted(acts["status"].dropna()) == ["done", "in progress", "open"]
        # due dates count from the summit's data day (2018-05-31), not from today
        assert sorted(acts["due"].dropna()) == [date(2018, 6, 10), date(2018, 6, 14), date(2018, 7, 15)]
        assert len(summit.pulse_trend(con)) == 2
    finally:
        con.close()

    # This month's summit (June 2018) carries over the two open actions; the Saturday shift due 2018-06-14 is
    # overdue on its data day 2018-06-30, the South deliveries one (due 2018-07-15, in progress) is not.
    this = summit.start_summit(path, date(2018, 6, 1), "June 2018 S&OP", "Anna")
    con = db.open_reader(path)
    try:
        carried = summit.load_summit(con, this).carried_actions
    finally:
        con.close()
    assert len(carried) == 2
    overdue = dict(zip(carried["status"], carried["overdue"]))
    assert overdue == {"open": True, "in progress": False}


def test_the_cli_demo_tells_the_story_unless_data_only(tmp_path, monkeypatch):
    from analytics.__main__ import build_parser

    args = build_parser().parse_args(["demo", "--db", str(tmp_path / "x.duckdb")])
    assert args.data_only is False  # `make run` (demo --if-missing) gets the first-start story
    assert build_parser().parse_args(["demo", "--data-only"]).data_only is True


def test_a_failed_first_start_leaves_the_data_and_says_so(tmp_path, monkeypatch, capsys):
    from analytics.__main__ import main

    def broken(*a, **k):
        raise RuntimeError("no worker processes allowed here")

    monkeypatch.setattr(demo, "first_start", broken)
    path = tmp_path / "d.duckdb"
    assert main(["demo", "--db", str(path), "--scale", "0.05", "--as-of", "2026-10-31"]) == 0
    err = capsys.readouterr().err
    assert "first-start story" in err and "no worker processes allowed here" in err
    con = db.open_reader(path)
    try:
        assert one(con, "SELECT count(*) FROM orders") > 0
    finally:
        con.close()
