"""Import through the browser: a bad file is rejected with file/row/column and changes nothing; good files land."""

from __future__ import annotations

from ingest_fixtures import ORDERS, write_folder

from tests.e2e.conftest import run_server, screenshot, wait_rendered


def upload(page, files):
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files([str(f) for f in files])
    wait_rendered(page)


def test_bad_file_rejected_then_good_files_imported(tmp_path, page):
    db_path = tmp_path / "import.duckdb"
    bad = write_folder(tmp_path / "bad", orders_csv=ORDERS.replace("SO1,2,C1,B2,2026-01-05,2026-01-20,2026-01-22,5,40",
                                                                   "SO1,2,C1,B2,2026-01-05,2026-01-20,2026-01-22,-5,40"))
    good = write_folder(tmp_path / "good")
    with run_server(db_path) as url:
        page.goto(f"{url}/import_data")  # a deep link as the very first request of a fresh server
        wait_rendered(page)
        # It still gets the app's navigation (not Streamlit's pages/ folder listing) and the import page.
        assert "KPI scorecard" in page.locator("[data-testid='stSidebarNav']").inner_text()
        assert page.locator("h1").first.inner_text().startswith("Import data")
        upload(page, sorted(bad.iterdir()))
        page.get_by_role("button", name="Validate and import").click()
        wait_rendered(page)
        page.get_by_text("The database was not changed").wait_for()
        problems = page.locator("[data-testid='stDataFrame']").last
        problems.scroll_into_view_if_needed()
        screenshot(page, "import_rejected")
        assert not db_path.exists(), "a rejected import must not create or change the database"

        page.goto(f"{url}/import_data")
        wait_rendered(page)
        upload(page, sorted(good.iterdir()))
        page.get_by_role("button", name="Validate and import").click()
        page.get_by_text("Imported in").wait_for(timeout=60_000)
        screenshot(page, "import_done")
    assert db_path.exists()
