"""Browser tests: a real `streamlit run` on a free loopback port, driven by playwright in Debian's Chromium."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "tests" / "e2e" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    from analytics import demo

    path = tmp_path_factory.mktemp("e2e") / "demo.duckdb"
    demo.build_demo(path, scale=0.3, seed=7, as_of=__import__("datetime").date(2026, 10, 31))
    return path


@contextlib.contextmanager
def run_server(db_path: Path, access_file: Path | None = None, address: str = "127.0.0.1"):
    """`streamlit run app.py` on a free loopback port against ``db_path``; yields the base URL.

    Without ``access_file`` the app runs in its local no-sign-in mode (a developer's ./access.toml is ignored).
    ``address``: another loopback address such as 127.0.0.2 stands in for a network address (the app only
    trusts localhost, 127.0.0.1 and ::1) without leaving the machine."""
    port = _free_port()
    env = dict(os.environ, SOP_DB=str(db_path), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
               SOP_ACCESS=str(access_file or db_path.with_name("no-access-file.toml")))
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.address", address, "--server.port", str(port), "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://{address}:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError("streamlit did not become healthy: " + proc.stdout.read().decode(errors="replace")[-2000:])
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def server(demo_db):
    with run_server(demo_db) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test and .ci/run do)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"],
        )
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    p = ctx.new_page()
    yield p
    ctx.close()


_RENDERED_JS = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    const state = app && app.getAttribute('data-test-script-state');
    return state === 'notRunning' && !document.querySelector("[data-testid='stSkeleton']")
           && !document.querySelector("[data-testid='stSpinner']")
           && !document.querySelector("[data-stale='true']");
}"""


def wait_rendered(page, timeout: float = 90_000) -> None:
    """Until the script has finished, nothing is stale or loading, and that holds for a moment
    (a rerun, e.g. the entry guard handing a deep link over to app.py, can start right after a run)."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    deadline = time.time() + timeout / 1000
    while time.time() < deadline:
        page.wait_for_function(_RENDERED_JS, timeout=timeout)
        page.wait_for_timeout(800)
        if page.evaluate(_RENDERED_JS):
            return
    raise TimeoutError("the page did not finish rendering")


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
