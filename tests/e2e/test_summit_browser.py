"""The summit on a 1920x1080 shared screen: every agenda step renders, in presentation mode, and the
exported HTML pack opens offline in Chromium with every chart drawn."""

from __future__ import annotations

import re
import shutil
from datetime import date

import pytest

from analytics import db, demand, presentation, summit
from analytics.planning import scenarios as sc
from tests.e2e.conftest import SHOTS, run_server, screenshot, wait_rendered


@pytest.fixture(scope="module")
def summit_db(demo_db, tmp_path_factory):
    path = tmp_path_factory.mktemp("summit") / "summit.duckdb"
    shutil.copyfile(demo_db, path)
    # Something for every table of the agenda: an override with its reason (the consensus changes), a saved and
    # recommended scenario (the scenarios side by side).
    demand.save_override(path, "family", "Outdoor", {date(2026, 11, 1): 15, date(2026, 12, 1): 15}, "percent",
                         "Garden centre promotion", "Anna")
    con = db.open_reader(path)
    extra = sc.Scenario("Saturday shift", "Piotr", capacity_changes=(sc.CapacityChange("WC-UPHOLSTERY", None, None,
                                                                                        hours_per_month=160),))
    result = sc.run_scenario(con, date(2026, 10, 31), 18, extra)
    con.close()
    sc.save_scenario(path, extra, result)
    sc.mark_recommended(path, "Saturday shift", by="Piotr")
    sid = summit.start_summit(path, date(2026, 10, 1), "October 2026 S&OP", "Anna")
    summit.add_decision(path, sid, "Add a Saturday shift on WC-UPHOLSTERY from November", "Piotr",
                        date(2026, 11, 30), kind="action")
    return path, sid


def test_every_agenda_step_on_a_shared_screen(summit_db, page):
    path, _ = summit_db
    with run_server(path) as url:
        page.goto(f"{url}/summit")
        wait_rendered(page)
        page.get_by_text("Presentation mode").click()
        wait_rendered(page)
        assert not page.locator("[data-testid='stSidebar']").is_visible()
        seen = []
        for i in range(10):
            heading = page.locator("h2").first.inner_text()
            assert heading.startswith(f"{i + 1}."), heading
            assert page.locator("[data-testid='stException']").count() == 0
            screenshot(page, f"summit_step_{i + 1:02d}")
            tables = page.locator("[data-testid='stTable']")
            if tables.count():  # the step's tables, in the form people read them, as large as the rest
                check_tables(page)
                tables.first.scroll_into_view_if_needed()
                screenshot(page, f"summit_step_{i + 1:02d}_table")
                seen.append(i + 1)
            if i == 4:  # the supply step says which plan it shows
                assert page.get_by_text("Plan shown: the recommended scenario 'Saturday shift'", exact=False).count()
            if i == 7:  # the exceptions: how each money figure is computed, one click away
                page.locator("[data-testid='stExpander']").first.click()
                page.wait_for_timeout(500)
                assert page.get_by_text("Money impact", exact=False).count() >= 2
                screenshot(page, "summit_step_08_money_basis")
            if i < 9:
                page.get_by_role("button", name="Next ▶").click()
                wait_rendered(page)
        assert {4, 7, 8, 10} <= set(seen), seen  # consensus changes, scenarios, exceptions, decisions


def check_tables(page) -> None:
    """The shared-screen rules for tables: text at least 22 px, human headers, no raw floats."""
    cells = page.evaluate("""() => [...document.querySelectorAll("[data-testid='stTable'] th, [data-testid='stTable'] td")]
        .map(c => { let e = c; while (e.firstElementChild) e = e.firstElementChild;  // the text itself
                    return {head: c.tagName === 'TH', text: c.innerText.trim(), size: parseFloat(getComputedStyle(e).fontSize)}; })""")
    assert cells and min(c["size"] for c in cells) >= 22, sorted({c["size"] for c in cells})
    heads = [c["text"] for c in cells if c["head"] and c["text"]]
    assert heads and not [h for h in heads if presentation.is_machine_name(h)], heads
    raw = [c["text"] for c in cells if not c["head"] and re.fullmatch(r"-?\d+\.\d{3,}", c["text"])]
    assert not raw, raw  # e.g. 3056166.6000 or 1.0000


def test_scorecard_numbers_are_large(summit_db, page):
    path, _ = summit_db
    with run_server(path) as url:
        page.goto(f"{url}/summit")
        wait_rendered(page)
        page.get_by_role("button", name="Next ▶").click()
        wait_rendered(page)
        # The size of the text itself: the innermost element under each metric value.
        sizes = page.evaluate("""() => [...document.querySelectorAll("[data-testid='stMetricValue']")].map(m => {
            let e = m; while (e.firstElementChild) e = e.firstElementChild;
            return parseFloat(getComputedStyle(e).fontSize); })""")
        assert sizes and min(sizes) >= 40, sizes


def test_html_pack_opens_offline_with_every_chart(summit_db, browser):
    path, sid = summit_db
    con = db.open_reader(path)
    html = summit.export_html(con, sid)
    SHOTS.mkdir(parents=True, exist_ok=True)
    out = SHOTS / "summit_pack.html"
    out.write_text(html, encoding="utf-8")
    expected = html.count('class="plotly-graph-div"')
    assert expected >= 5
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, offline=True)
    p = ctx.new_page()
    errors = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.goto(out.as_uri())
    p.wait_for_function(f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {expected}",
                        timeout=60_000)
    assert errors == []
    p.screenshot(path=str(SHOTS / "summit_pack.png"))
    ctx.close()
