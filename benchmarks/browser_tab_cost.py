"""What one fresh Chromium tab of the dashboard costs the machine, alone and when K tabs open at once.

    python benchmarks/browser_tab_cost.py                 # K = 1, 5, 10 tabs opened at the same moment
    python benchmarks/browser_tab_cost.py --tabs 1,25
    python benchmarks/browser_tab_cost.py --smoke     # 1 tab, a small demo, a free port (make test)

Why: benchmarks/load.py runs its Chromium sessions on the same cores as the server. If one fresh tab of the
app costs the browser several CPU seconds, then N tabs opened at once need N times that before the slowest is
drawn, whatever the server does, and the load figures measure the browser. This script gives the figure.

One `streamlit run` on loopback against a copy of the demo database (the load benchmark's, as of 2026-10-31);
its caches are warmed by one tab first (not counted). Then K browser contexts (fresh profiles: no HTTP cache)
open the default page (the KPI scorecard) at the same moment; each is timed from navigation start to fully
rendered as load.py defines it. Printed per K: each tab's time, the wall time, the CPU seconds the whole
machine was busy (all processes: browser, server, driver) and that per tab, and the browser's and the
server's share.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # noqa: E402  (the load benchmark: server, rendered check, process accounting)


def _tree_seconds(root: int) -> float:
    table = load._process_table()
    return sum(table[p][1] for p in load._descendants(root, table) if p in table) / load.CLK_TCK


def _browser_seconds() -> float:
    """CPU seconds of every Chromium process that is a child of this script's tree (the playwright browser)."""
    table = load._process_table()
    mine = load._descendants(os.getpid(), table)
    return sum(table[p][1] for p in mine if "chrom" in load._cmdline(p).split(" ")[0]) / load.CLK_TCK


async def burst(browser, url: str, k: int, width: int, height: int) -> tuple[list[float], float]:
    """K fresh tabs open the default page at once: their times, and the browser's CPU seconds once all are drawn
    (read before the tabs close, since a closed tab's renderer process and its CPU count are gone)."""
    async def one() -> float:
        ctx = await browser.new_context(viewport={"width": width, "height": height})
        await ctx.add_init_script(load.OBSERVER_JS)
        page = await ctx.new_page()
        await page.goto(url + "/", wait_until="commit")
        seconds, *_ = await load.wait_rendered(page, time.perf_counter() + 600, 0.0)
        return seconds

    contexts_before = len(browser.contexts)
    try:
        times = list(await asyncio.gather(*(one() for _ in range(k))))
        return times, _browser_seconds()
    finally:
        for ctx in browser.contexts[contexts_before:]:
            await ctx.close()


async def main_async(args) -> None:
    from playwright.async_api import async_playwright

    scratch = Path(tempfile.mkdtemp(prefix="sop_tabcost_"))
    try:
        db = scratch / "sop.duckdb"
        if args.smoke:
            load.build_demo(db, "--data-only", "--scale", "0.05")
        else:
            load.build_demo(load.DEFAULT_DB)
            shutil.copyfile(load.DEFAULT_DB, db)
        with load.run_server(db, args.port, scratch / "streamlit.log") as (url, server_pid):
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(
                    executable_path=load.CHROMIUM,
                    args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
                await burst(browser, url, 1, args.width, args.height)  # warms the server's caches
                print(f"{'tabs':>4}  {'slowest s':>9}  {'median s':>8}  {'wall s':>6}  {'machine cpu-s':>13}  "
                      f"{'per tab':>7}  {'browser cpu-s':>13}  {'server cpu-s':>12}")
                for k in args.tabs:
                    m0, b0, s0, t0 = load._machine_cpu()[0], _browser_seconds(), _tree_seconds(server_pid), \
                        time.perf_counter()
                    times, b1 = await burst(browser, url, k, args.width, args.height)
                    wall = time.perf_counter() - t0
                    machine = (load._machine_cpu()[0] - m0) / load.CLK_TCK
                    browser_s, server_s = b1 - b0, _tree_seconds(server_pid) - s0
                    times.sort()
                    print(f"{k:>4}  {times[-1]:>9.1f}  {times[len(times) // 2]:>8.1f}  {wall:>6.1f}  {machine:>13.1f}  "
                          f"{machine / k:>7.1f}  {browser_s:>13.1f}  {server_s:>12.1f}", flush=True)
                await browser.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"{os.cpu_count()} cores. Machine cpu-s: every process on the machine (browser, server, this driver).")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tabs", default="1,5,10", help="tabs opened at once, per round (default 1,5,10)")
    ap.add_argument("--port", type=int, default=8598)
    ap.add_argument("--width", type=int, default=1440)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--smoke", action="store_true", help="1 tab on a small demo (scale 0.05), a free port")
    args = ap.parse_args()
    if args.smoke:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            args.port = sock.getsockname()[1]
        args.tabs = "1"
    args.tabs = [int(x) for x in args.tabs.split(",")]
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
