"""The summit on a 1920x1080 shared screen: every agenda step renders, in presentation mode, and the
exported HTML pack opens offline in Chromium with every chart drawn."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from analytics import db, summit
from tests.e2e.conftest import SHOTS, run_server, screenshot, wait_rendered


@pytest.fixture(scope="module")
def summit_db(demo_db, tmp_path_factory):
    path = tmp_path_factory.mktemp("summit") / "summit.duckdb"
    shutil.copyfile(demo_db, path)
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
        for i in range(10):
            heading = page.locator("h2").first.inner_text()
            assert heading.startswith(f"{i + 1}."), heading
            assert page.locator("[data-testid='stException']").count() == 0
            screenshot(page, f"summit_step_{i + 1:02d}")
            if i < 9:
                page.get_by_role("button", name="Next ▶").click()
                wait_rendered(page)


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
