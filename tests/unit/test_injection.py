"""Hostile input (issue 6): SQL-injection-looking text through every filter and text input of the analytics.

Reads: each filter value and text key reaches SQL as a parameter, so a hostile value matches nothing (the
result equals the result of a plain value that matches nothing), raises only a clear ValueError when it is
not a valid value, and never changes a table. Writes: every text a person types is saved and read back
verbatim (or refused with a ValueError when too long), and the rest of the database is untouched.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import shutil
from datetime import date

import pandas as pd
import pytest

from analytics import access, db, demand, ingest, kpis, scorecard, workbench
from analytics import planning as pl
from analytics import summit as sm
from analytics.filters import DIMENSIONS, Filters
from analytics.forecasting import batch
from analytics.planning import requests as rq
from analytics.schema import LOAD_ORDER
from analytics.summit.decisions import STATUSES
from tests.conftest import TINY_ROWS, write_rows

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
AS_OF = date(2026, 3, 31)
NOTHING = "no such value"

UNICODE_QUOTES = "\u2018A\u2019 \u201cB\u201d \u2032 \uff07 OR 1=1"  # curly quotes, prime, full-width apostrophe
CONTROL = "A\tB\x0bC\x0cD\x1bE[31m\x07F\x7fG\u202eH"  # control characters (no NUL)
MARKUP = "<script>alert(1)</script> **bold** [x](javascript:alert(1)) =cmd|' /C calc'!A0"
LONG = "x" * 10_000
ALL_QUOTES = "' OR 1=1 -- '); DROP TABLE orders; -- \" OR \"\"=\" \\' % _ \u2018\u2019\u201c\u201d\t\x1b\x7f"
HOSTILE = [
    "' OR 1=1 --",
    "'); DROP TABLE orders; --",
    "A'; DELETE FROM products; SELECT '",
    "A' UNION SELECT sku, name, family FROM products --",
    '" OR ""="',
    '"; DROP TABLE "products"; --',
    "\\'",
    "\\",
    "%",
    "_",
    "%A%",
    "A_",
    "*",
    "?",
    "$1",
    "$start",
    ":name",
    "/* */ OR /* */ 1=1",
    UNICODE_QUOTES,
    CONTROL,
    MARKUP,
    ALL_QUOTES,
    LONG,
]
# Writes are slower (a database copy each): the values the issue names, one mixing every quote, markup, 10k.
WRITE_VALUES = ["' OR 1=1 --", "'); DROP TABLE orders; --", '" OR ""="', "\\'", "%", "_", UNICODE_QUOTES, CONTROL,
                ALL_QUOTES, MARKUP, LONG]

# A product, customer and family whose names are full of quotes and wildcards: a legitimate value with quotes
# must match exactly itself (and "%" / "_" must not match it as LIKE wildcards would).
ODD_SKU, ODD_FAMILY, ODD_CUSTOMER = "Q'1", "O'Brien % \"_\"", "C'3; --"
ODD_ROWS = {
    "products": [(ODD_SKU, "It's <b>bold</b>", ODD_FAMILY, 3.0, 6.0, "W1", 0.5)],
    "customers": [(ODD_CUSTOMER, "Mc'Donald\"s", "West'", "Retail")],
    "orders": [("O9", 1, ODD_CUSTOMER, ODD_SKU, "2026-03-02", "2026-03-12", "2026-03-12", 4, 6.0)],
    "deliveries": [("D9", "O9", 1, "2026-03-11", "2026-03-12", 4, None)],
    "forecasts": [("2026-02-25", ODD_SKU, "2026-03-01", "consensus", 5)],
}


def _rows() -> dict[str, list[tuple]]:
    rows = {t: list(v) for t, v in TINY_ROWS.items()}
    for t, extra in ODD_ROWS.items():
        rows[t] = rows.get(t, []) + extra
    return rows


def counts(path) -> dict[str, int]:
    """Row count of every table of the database (a dropped or emptied table shows here)."""
    con = db.open_reader(path)
    try:
        names = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}  # names from the catalog
    finally:
        con.close()


@pytest.fixture(scope="module")
def base_db(tmp_path_factory):
    """The tiny company plus an odd-named product, after a forecast run, with a saved plan, scenario, summit,
    request and column mapping, so every read below has rows it could wrongly return."""
    path = tmp_path_factory.mktemp("injection") / "base.duckdb"
    with access.default_user(access.SYSTEM):
        write_rows(path, _rows())
        with cf.ThreadPoolExecutor(2) as ex:
            batch.run_forecast(path, horizon=12, as_of=AS_OF, executor=ex)
        con = db.open_reader(path)
        plan = pl.make_plan(pl.plan_inputs(con, AS_OF, 6), "chase", pl.PlanSettings())
        baseline = pl.run_scenario(con, AS_OF, 6, pl.Scenario("Base"))
        con.close()
        pl.save_plan(path, plan, "Plan one", "anna")
        pl.save_scenario(path, baseline.scenario, baseline)
        sid = sm.start_summit(path, MARCH, "March S&OP", "Anna", as_of=AS_OF)
        sm.add_decision(path, sid, "Keep the policy", kind="decision")
        rq.create_request(path, "A", 10, date(2026, 4, 15), "Sam", "C1")
        ingest.save_mapping(path, "ERP", "products", {"Item": "sku"})
    return {"path": path, "plan": plan, "baseline": baseline, "summit_id": sid}


@pytest.fixture(scope="module")
def con(base_db):
    c = db.open_reader(base_db["path"])
    yield c
    c.close()


@pytest.fixture()
def copy_db(base_db, tmp_path):
    """A private copy of the base database for one write test."""
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(base_db["path"], path)
    return path


def q(filters: Filters = Filters(), **kw) -> kpis.Query:
    return kpis.Query(MARCH, AS_OF, AS_OF, filters, **kw)


def same(a, b) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    else:
        assert a == b


# ------------------------------------------------------------------------------------------------ reads

FILTERED_READS = {  # (con, query, data availability) -> result
    "kpi_values": lambda c, qq, a: kpis.kpi_values(c, qq, availability=a),
    "kpi_values_by_family_month": lambda c, qq, a: kpis.kpi_values(c, qq, by=("family", "month"), availability=a),
    "kpi_breakdown": lambda c, qq, a: kpis.kpi_breakdown(c, "otif_to_promise", qq, "customer_id", availability=a),
    "kpi_trend": lambda c, qq, a: kpis.kpi_trend(c, MARCH, qq, n_months=3, availability=a),
    "tracking_signals": lambda c, qq, a: kpis.tracking_signals(c, qq),
    "promise_gap_distribution": lambda c, qq, a: kpis.promise_gap_distribution(c, qq),
    "forecast_pairs": lambda c, qq, a: kpis.forecast_pairs(c, qq),
    "scorecard": lambda c, qq, a: scorecard.scorecard(c, qq.start, qq.end, qq.as_of, qq.filters),
    "fva_stairstep": lambda c, qq, a: demand.fva_stairstep(c, qq, lags=(1,)),
    "fva_stairstep_by_family": lambda c, qq, a: demand.fva_stairstep(c, qq, lags=(1,), by="family"),
    "fva_by_reason": lambda c, qq, a: demand.fva_by_reason(c, qq),
    "accuracy_by_lag": lambda c, qq, a: demand.accuracy_by_lag(c, qq, lags=(1, 2)),
    "bias_exceptions": lambda c, qq, a: demand.bias_exceptions(c, qq),
}
ONE_BY_ONE = ("kpi_values", "forecast_pairs", "promise_gap_distribution")  # cheap: each hostile value alone too
EVERY_FIELD = ("kpi_values", "forecast_pairs", "promise_gap_distribution", "fva_stairstep")  # the others: two


@pytest.mark.parametrize("read", list(FILTERED_READS))
def test_every_filter_takes_hostile_values_as_data(base_db, con, read):
    fn, avail = FILTERED_READS[read], kpis.data_availability(con)
    before = counts(base_db["path"])
    for field in DIMENSIONS if read in EVERY_FIELD else ("families", "customers"):
        nothing = fn(con, q(Filters(**{field: (NOTHING,)})), avail)
        # All hostile values at once in this one filter, then (for the cheap reads, on a product and an order
        # dimension) one at a time.
        same(fn(con, q(Filters(**{field: tuple(HOSTILE)})), avail), nothing)
        if read in ONE_BY_ONE and field == "families":
            for value in HOSTILE:
                same(fn(con, q(Filters(**{field: (value,)})), avail), nothing)
    assert counts(base_db["path"]) == before


def test_the_no_match_result_is_not_trivial(con):
    """The reads above do return rows without the filter: a hostile value that leaked into the SQL would show."""
    assert kpis.kpi_values(con, q())["value"].notna().sum() > 5
    assert len(kpis.forecast_pairs(con, q())) and len(kpis.promise_gap_distribution(con, q()))
    assert kpis.kpi_values(con, q(Filters(families=(NOTHING,))))["value"].notna().sum() < 5


def test_a_value_with_quotes_and_wildcards_matches_exactly_itself(con):
    odd = kpis.kpi_breakdown(con, "otif_to_promise", q(Filters(families=(ODD_FAMILY,))), "sku")
    assert odd.dropna(subset=["value"])["sku"].tolist() == [ODD_SKU]
    by_customer = kpis.kpi_breakdown(con, "otif_to_promise", q(Filters(customers=(ODD_CUSTOMER,))), "customer_id")
    assert by_customer.dropna(subset=["value"])["customer_id"].tolist() == [ODD_CUSTOMER]
    for wildcard in ("%", "_", "O'Brien%", "O_Brien % \"_\""):
        got = kpis.kpi_breakdown(con, "otif_to_promise", q(Filters(families=(wildcard,))), "sku")
        assert got["value"].isna().all(), wildcard


@pytest.mark.parametrize("bad", [(1,), (None,), "F1", ("F1", 2.5), (b"F1",), 5])
def test_a_filter_value_that_is_not_text_is_a_clear_value_error(bad):
    with pytest.raises(ValueError, match="filter"):
        Filters(families=bad)


def test_unknown_kpi_or_breakdown_is_a_value_error_before_any_sql(con):
    for value in HOSTILE:
        with pytest.raises(ValueError, match="Unknown KPI or breakdown"):
            kpis.kpi_breakdown(con, "otif_to_promise", q(), value)
        with pytest.raises(ValueError, match="Unknown KPI or breakdown"):
            kpis.kpi_values(con, q(), (value,))
        with pytest.raises(ValueError, match="by must be one of"):
            demand.fva_stairstep(con, q(), by=value)


def test_forecast_source_and_lag_parameters(con):
    ids, avail = ("forecast_accuracy", "forecast_bias"), kpis.data_availability(con)
    nothing = kpis.kpi_values(con, q(source=NOTHING), ids, availability=avail)
    nothing_lag = demand.accuracy_by_lag(con, q(), lags=(1,), source=NOTHING)
    assert kpis.kpi_values(con, q(), ids, availability=avail)["value"].notna().all()
    for value in HOSTILE:
        same(kpis.kpi_values(con, q(source=value), ids, availability=avail), nothing)
        same(demand.accuracy_by_lag(con, q(), lags=(1,), source=value), nothing_lag)
        with pytest.raises(ValueError):
            kpis.kpi_values(con, q(lag=value), ids, availability=avail)


def test_workbench_and_history_keys(base_db, con):
    run = int(workbench.latest_run(con)["run_id"])
    before = counts(base_db["path"])
    reads = {
        "history_sku": lambda v: workbench.history(con, "sku", v, MARCH),
        "history_family": lambda v: workbench.history(con, "family", v, MARCH),
        "fan_sku": lambda v: workbench.forecast_fan(con, "sku", v, run),
        "fan_family": lambda v: workbench.forecast_fan(con, "family", v, run),
        "past_snapshots_key": lambda v: workbench.past_snapshots(con, "sku", v, "consensus", AS_OF),
        "past_snapshots_source": lambda v: workbench.past_snapshots(con, "sku", "A", v, AS_OF),
        "current_snapshot_key": lambda v: workbench.current_snapshot(con, "family", v, "consensus"),
        "current_snapshot_source": lambda v: workbench.current_snapshot(con, "sku", "A", v),
        "direct_family": lambda v: workbench.direct_family_forecast(con, v, run),
        "leaderboard": lambda v: workbench.leaderboard(con, v, run),
        "backtests_uid": lambda v: workbench.backtests(con, v, run),
        "backtests_model": lambda v: workbench.backtests(con, "A", run, model=v),
        "override_history_sku": lambda v: demand.override_history(con, sku=v),
        "override_history_family": lambda v: demand.override_history(con, family=v),
        "list_requests_sku": lambda v: rq.list_requests(con, sku=v),
        "load_mappings": lambda v: ingest.load_mappings(con, v),
    }
    assert len(workbench.history(con, "sku", "A", MARCH)) and len(workbench.forecast_fan(con, "sku", "A", run))
    assert len(workbench.leaderboard(con, "A", run)) and len(rq.list_requests(con, sku="A"))
    for name, fn in reads.items():
        nothing = fn(NOTHING)
        for value in HOSTILE:
            try:
                same(fn(value), nothing)
            except AssertionError as e:
                raise AssertionError(f"{name} with {value[:40]!r}") from e
    assert counts(base_db["path"]) == before


def test_unknown_names_are_value_errors(base_db, con):
    plan, before = base_db["plan"], counts(base_db["path"])
    inputs = pl.plan_inputs(con, AS_OF, 3)
    for value in HOSTILE:
        with pytest.raises(ValueError):
            demand.base_forecast(con, value, "sku", AS_OF)
        with pytest.raises(ValueError):
            demand.base_forecast(con, "A", value, AS_OF)
        with pytest.raises(ValueError):
            demand.plan_override(con, "sku", value, {APRIL: 5}, "units", AS_OF)
        with pytest.raises(ValueError):
            demand.plan_override(con, "sku", "A", {APRIL: 5}, value, AS_OF)
        with pytest.raises(ValueError):
            rq.list_requests(con, status=value)
        with pytest.raises(pl.PlanningError):
            pl.load_plan(con, value)
        with pytest.raises(ValueError):
            pl.load_scenario(con, value)
        with pytest.raises(pl.PlanningError):
            pl.available_to_promise(con, plan, value, 10, date(2026, 4, 20))
        with pytest.raises(ValueError):
            pl.make_plan(inputs, value)
    assert counts(base_db["path"]) == before


def test_scenario_names_of_unknown_things_are_value_errors(base_db, con):
    before, inputs = counts(base_db["path"]), pl.plan_inputs(con, AS_OF, 3)
    for value in HOSTILE:
        short = value[:80]  # names are at most 100 characters (the 10k text is refused by length)
        for scenario in (pl.Scenario("s", demand_changes=[pl.DemandChange(short, None, None, 10)]),
                         pl.Scenario("s", promotions=[pl.Promotion(short, "2026-05", 5)]),
                         pl.Scenario("s", capacity_changes=[pl.CapacityChange(short, None, None, hours_per_month=8)]),
                         pl.Scenario("s", lost_customers=[short])):
            with pytest.raises(ValueError):
                pl.run_scenario(con, scenario=scenario, inputs=inputs)
    assert counts(base_db["path"]) == before


# ------------------------------------------------------------------------------------------------ writes

CONTRACT_TABLES = set(LOAD_ORDER)


def check_unchanged(before: dict, after: dict, changed: set[str]) -> None:
    """Every table is still there; only ``changed`` (and the audit log / meta) may have other row counts."""
    assert set(after) >= set(before), set(before) - set(after)
    allowed = changed | {"audit_log", "meta"}
    assert {t: n for t, n in after.items() if t not in allowed} == {t: n for t, n in before.items() if t not in allowed}
    assert all(after[t] == before[t] for t in CONTRACT_TABLES - changed if t in before)


def saves(write, read, value: str, limit: int | None = None) -> None:
    """``write(value)`` then ``read()`` gives the value back verbatim; over ``limit`` characters: ValueError."""
    if limit is not None and len(value) > limit:
        with pytest.raises(ValueError):
            write(value)
        return
    write(value)
    got = read()
    assert got == value, (value[:60], str(got)[:60])


def test_override_reason_and_user_are_saved_verbatim(copy_db):
    before = counts(copy_db)
    for i, value in enumerate(WRITE_VALUES):
        def write(v, i=i):  # a different quantity each time, so every save changes the cell
            assert demand.save_override(copy_db, "sku", "A", {APRIL: 20 + i}, "units", v, v,
                                        snapshot_date=AS_OF, start_from="consensus") == 1

        def read():
            c = db.open_reader(copy_db)
            top = demand.override_history(c, sku="A").iloc[0]
            c.close()
            assert top["created_by"] == top["reason"]
            return top["reason"]

        saves(write, read, value)
    check_unchanged(before, counts(copy_db), {"forecasts", "forecast_overrides"})


def test_scenario_name_author_and_notes_are_saved_verbatim(base_db, copy_db):
    before, result = counts(copy_db), base_db["baseline"]
    for value in WRITE_VALUES:
        def write(v):
            scenario = pl.Scenario(v, author=v[:100], notes=v[:500])
            pl.save_scenario(copy_db, scenario, dataclasses.replace(result, scenario=scenario))
            pl.mark_recommended(copy_db, v, by=v[:100])

        def read():
            c = db.open_reader(copy_db)
            row = pl.list_scenarios(c).iloc[0]
            loaded = pl.load_scenario(c, row["name"])
            recommended = pl.recommended_scenario(c)
            c.close()
            assert row["author"] == row["name"][:100] and row["notes"] == row["name"][:500]
            assert loaded.scenario.name == row["name"] == recommended
            return row["name"]

        saves(write, read, value, limit=100)
    check_unchanged(before, counts(copy_db), {"plan_scenarios", "plan_versions", "plan_lines", "plan_products",
                                              "plan_capacity"})


def test_plan_name_and_author_are_saved_verbatim(base_db, copy_db):
    before = counts(copy_db)
    for value in WRITE_VALUES:
        def write(v):
            pl.save_plan(copy_db, base_db["plan"], v, v)

        def read():
            c = db.open_reader(copy_db)
            listed = pl.list_plans(c).sort_values("plan_id").iloc[-1]
            loaded = pl.load_plan(c, listed["name"])
            c.close()
            assert listed["author"] == listed["name"]
            assert len(loaded.lines) == len(base_db["plan"].lines)
            return listed["name"]

        saves(write, read, value)
    check_unchanged(before, counts(copy_db), {"plan_versions", "plan_lines", "plan_products", "plan_capacity"})


def test_summit_decision_action_note_and_pulse_note_are_saved_verbatim(base_db, copy_db):
    sid, before = base_db["summit_id"], counts(copy_db)
    action_id = sm.add_decision(copy_db, sid, "Follow up", owner="Anna", due=date(2026, 4, 30), kind="action")
    for i, value in enumerate(WRITE_VALUES):
        def decide(v):
            sm.add_decision(copy_db, sid, v, owner=v[:100], kind="decision", by=v[:100])

        def note(v, i=i):
            sm.update_action(copy_db, action_id, STATUSES[i % 2], note=v, by=v[:100])

        def pulse(v):
            sm.record_pulse(copy_db, sid, "sales", 6, note=v, by=v[:100])

        def read_all():
            c = db.open_reader(copy_db)
            done = sm.actions(c, sid).set_index("action_id")
            pulse_note = c.execute("SELECT note FROM summit_pulse ORDER BY pulse_id DESC LIMIT 1").fetchone()[0]
            c.close()
            decision = done.iloc[-1]
            assert decision["owner"] == decision["text"][:100] == decision["created_by"]
            assert done.loc[action_id, "last_note"] == pulse_note == decision["text"]
            return decision["text"]

        if len(value) > 1000:
            for write in (decide, note, pulse):
                with pytest.raises(ValueError):
                    write(value)
            continue
        decide(value), note(value), pulse(value)
        assert read_all() == value
    check_unchanged(before, counts(copy_db), {"summit_actions", "summit_action_log", "summit_pulse"})


def test_summit_title_and_facilitator_are_saved_verbatim(copy_db):
    before = counts(copy_db)
    for value in (ALL_QUOTES + " " + MARKUP, LONG):  # a summit start freezes its content: seconds each
        def start(v):
            sm.start_summit(copy_db, MARCH, v, v[:100], as_of=AS_OF)

        def read():
            c = db.open_reader(copy_db)
            listed = sm.list_summits(c).sort_values("summit_id").iloc[-1]
            s = sm.load_summit(c, int(listed["summit_id"]))
            c.close()
            assert s.title == listed["title"] and s.facilitator == s.title[:100]
            return s.title

        saves(start, read, value, limit=200)
    check_unchanged(before, counts(copy_db), {"summits", "summit_frames"})


def test_request_texts_are_saved_verbatim(copy_db):
    before = counts(copy_db)
    for value in WRITE_VALUES:
        if len(value) > 500:
            with pytest.raises(ValueError):
                rq.create_request(copy_db, "A", 10, date(2026, 4, 15), "Sam", "C1", flexibility=value)
            rid = rq.create_request(copy_db, "A", 10, date(2026, 4, 15), "Sam", "C1")
            with pytest.raises(ValueError):
                rq.answer_request(copy_db, rid, "decline", value, "Pat")
            continue
        rid = rq.create_request(copy_db, "A", 10, date(2026, 4, 15), value[:100], "C1", flexibility=value)
        rq.answer_request(copy_db, rid, "decline", value, value[:100])
        c = db.open_reader(copy_db)
        row = rq.list_requests(c).set_index("request_id").loc[rid]
        c.close()
        assert row["flexibility"] == row["answer_note"] == value
        assert row["requested_by"] == row["answered_by"] == value[:100]
    check_unchanged(before, counts(copy_db), {"production_requests"})


def test_mapping_source_name_is_saved_verbatim(copy_db):
    before = counts(copy_db)
    for value in WRITE_VALUES:
        def write(v):
            ingest.save_mapping(copy_db, v, "products", {v[:50]: "sku", "Name": "name"})

        def read(v=value):
            c = db.open_reader(copy_db)
            sources, saved = ingest.list_sources(c), ingest.load_mappings(c, v)
            c.close()
            assert saved == {"products": {v[:50]: "sku", "Name": "name"}}
            return next(s for s in sources if s == v)

        saves(write, read, value)
    check_unchanged(before, counts(copy_db), {"column_mappings"})


def test_target_values_must_be_finite_numbers(copy_db):
    before = counts(copy_db)
    for bad in ["' OR 1=1 --", ALL_QUOTES, None, float("nan"), float("inf"), object()]:
        with pytest.raises(ValueError):
            kpis.save_targets(copy_db, {"nps": (bad, 5.0)})
        with pytest.raises(ValueError):
            kpis.save_targets(copy_db, {"nps": (30.0, bad)})
    for kpi in (ALL_QUOTES, MARKUP):
        with pytest.raises(ValueError, match="unknown KPI"):
            kpis.save_targets(copy_db, {kpi: (1.0, 0.1)})
    check_unchanged(before, counts(copy_db), set())
    kpis.save_targets(copy_db, {"nps": ("35", 5)})  # numbers as text are numbers
    c = db.open_reader(copy_db)
    assert kpis.targets(c)["nps"] == (35.0, 5.0)
    c.close()


# ------------------------------------------------------------------------------------------------ display


def test_html_pack_escapes_every_typed_text(base_db, copy_db):
    sid = base_db["summit_id"]
    text = "<script>alert(1)</script> <img src=x onerror=alert(2)> &amp; **bold**"
    sm.add_decision(copy_db, sid, text, owner="<b>Owner</b>", kind="decision")
    sm.record_pulse(copy_db, sid, "sales", 5, note=text)
    c = db.open_reader(copy_db)
    page = sm.export_html(c, sid)
    c.close()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(2)&gt; &amp;amp; **bold**" in page
    assert "<script>alert(1)" not in page and "<img src=x" not in page and "<b>Owner</b>" not in page
    assert "&lt;b&gt;Owner&lt;/b&gt;" in page


def test_chart_labels_from_the_data_are_plain_text():
    from analytics import charts
    from analytics.summit import figures

    name = "<b>F</b> <a href='javascript:alert(1)'>x</a> & co"
    bias = pd.DataFrame({"family": [name], "bias": [0.1]})
    fig = figures.bias_figure(bias)
    assert list(fig.data[0].y) == ["&lt;b&gt;F&lt;/b&gt; &lt;a href='javascript:alert(1)'&gt;x&lt;/a&gt; &amp; co"]
    fan = charts.forecast_fan_figure(f"SKU {name}", pd.DataFrame({"month": [], "actual": []}), None)
    assert "<b>" not in fan.layout.title.text and "&lt;b&gt;F" in fan.layout.title.text


def test_md_escape_leaves_no_markdown_or_html():
    from ui.common import escape, md_escape

    text = "<script>alert(1)</script> **bold** [x](javascript:alert(1)) =cmd|' /C calc'!A0 $x$ :red[y] &lt;\n# h"
    out = md_escape(text)
    assert "\n" not in out and escape(text) == out
    # Every ASCII punctuation character is backslash-escaped; letters, digits and spaces are kept.
    unescaped = [ch for i, ch in enumerate(out) if not ch.isalnum() and not ch.isspace() and ch != "\\"
                 and out[i - 1] != "\\"]
    assert unescaped == []
    assert out.replace("\\", "") == text.replace("\\", "").replace("\n", " ")
    assert md_escape("Sofas and Lounge 12") == "Sofas and Lounge 12"
