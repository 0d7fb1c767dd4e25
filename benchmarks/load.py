"""A summit morning: N people open the dashboard at once while a forecast run (or an import) is writing.

    python benchmarks/load.py                                   # N = 1, 10, 25; no writer, then a forecast run
    python benchmarks/load.py --sessions 1,3 --writer none,forecast,import --json /tmp/load.json
    python benchmarks/load.py --nav click                       # arrive once, then click through the sidebar
    python benchmarks/load.py --nav click --browsers 3 --think 5  # 3 Chromium tabs + N-3 protocol sessions, 5 s reading
    python benchmarks/load.py --smoke     # 1 Chromium + 1 protocol session, 2 pages, small demo, free port (make test)

Per scenario (N sessions x writer) the script copies the demo database (built once, as of 2026-10-31) to a
scratch folder, starts one `streamlit run app.py` on loopback (headless, fixed port, file watcher off) against
the copy, and drives N browser contexts of one Debian Chromium concurrently (playwright, asyncio). A session
opens every page of the app's navigation by its URL (a fresh Streamlit session each time, as a deep link or a
bookmark does) in its own shuffled order and times it from navigation start (the document's time origin) to
fully rendered: the script run finished, nothing stale, no skeleton or spinner, every visible chart drawn and
every visible table painted, and that still holds --settle seconds later (a rerun, e.g. the deep-link hand-over
to app.py, is waited for). With --nav click a session opens the app once by its URL and then moves through the
pages with the sidebar links (one Streamlit session, no reload of the app's JavaScript: lighter on the browser),
timed from the click.

Browsers or the protocol (--browsers K): a fresh Chromium tab of this app costs the machine about 4 CPU seconds
(a bare Streamlit app 1.6: its 10 MB of JavaScript), and more each when several open at once: 25 at once took 173 CPU
seconds, the slowest drawn after 82 s (benchmarks/browser_tab_cost.py). At N = 25 on the same 2 cores the figures
measure Chromium, not the app.
With --browsers K only K sessions are Chromium tabs (timed to fully drawn, as above); the other N - K speak
Streamlit's own websocket protocol, as the browser's JavaScript does: the server opens a real session for each, runs
each page's script and sends every element, and the time is from asking for the page to the end of its script run
received. Reported apart, per kind. Think time (--think S): a person reads a page before the next click, S seconds
on average; 0 (the default) clicks as soon as the page is drawn.

Before the timed sessions one session goes through every page once on the fresh server ("cold pass", shown
apart): it warms the caches the way the first user of the morning does, and records the st.error boxes a page
shows by design (the FVA verdicts) so that they are not counted as errors.

Errors: Streamlit exception blocks, error boxes that are not by design, Streamlit's "Connection error" dialog,
HTTP statuses >= 400 and failed requests, uncaught page JavaScript errors, a page whose title is not the one the
navigation promised, and loads that are not fully rendered within --timeout.

With a writer, the writer starts together with the sessions; the sessions keep looping through the pages until
the writer has finished, then do --after-passes more full passes (the new database version: cold caches). The
database file's inode is watched to time the atomic swap; the output says which page loads were in flight when
it happened (and whether the server was running that page's script then), and compares loads while the writer ran
with loads without it. A probe asks the server's /_stcore/health every 0.25 s throughout: its answer time shows
whether the server's event loop was ever blocked (during the writer, around the swap).

Each page row also gives "script p95": from the start of the page's script run to its end as the page saw it (the
server's part, transfer included); the rest of the page time is the browser loading the app and drawing charts.

Browser, server, writer and this driver all share the machine's cores (2 on the reference machine), so the
figures are pessimistic for the server; the CPU each one used is printed so that you can judge by how much.
Peak memory: the server's VmHWM (/proc/<pid>/status) and the sampled peak RSS/PSS of its process tree (children
included), the browser's sampled peak PSS over all its processes.
Target (issue 6): no errors, p95 under 3 s at 25 sessions on the 2-core machine, no page blocked by the writer.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
CHROMIUM = "/usr/bin/chromium"
DEFAULT_DB = Path("/tmp/sop_load_demo.duckdb")
AS_OF = "2026-10-31"
CLK_TCK = os.sysconf("SC_CLK_TCK")
TARGET_P95 = 3.0
PROBE_404 = re.compile(r"^/[^/]+/_stcore/(health|host-config)$")

# Notes when each script run starts (transition to "running") and when the last one finished; runs before any page
# script of every document.
OBSERVER_JS = """(() => {
  window.__stRuns = 0;
  window.__stStarts = [];
  window.__stDone = null;
  const seen = new WeakSet();
  const watch = (app) => {
    if (seen.has(app)) return;
    seen.add(app);
    // One callback can carry several changes (a cached page's run can start and end within one batch): the
    // value each change set is the next record's old value, and the attribute's current value for the last.
    new MutationObserver((records) => {
      const now = performance.now();
      const values = records.slice(1).map(r => r.oldValue);
      values.push(app.getAttribute('data-test-script-state'));
      for (const state of values) {
        if (state === 'running') { window.__stRuns += 1; window.__stStarts.push(now); }
        if (state === 'notRunning') window.__stDone = now;
      }
    }).observe(app, {attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state']});
    if (app.getAttribute('data-test-script-state') === 'running') {
      window.__stRuns += 1;
      window.__stStarts.push(performance.now());
    }
  };
  new MutationObserver(() => {
    const app = document.querySelector("[data-testid='stApp']");
    if (app) watch(app);
  }).observe(document, {childList: true, subtree: true});
})();"""

# Fully rendered: false, or the time since navigation start (ms), the number of script runs so far, when the first
# run of this load started and when the last one finished (ms since navigation start). With an argument
# {runs, t0, title} (a click in the navigation at page time t0 when `runs` script runs had started), only a new run
# counts, or the clicked page's title on screen (a run too quick for the page to show "running" is not missed: the
# pages a session clicks through always differ from the one it is on, so the old title cannot pass).
RENDERED_JS = """(after) => {
  const h1 = document.querySelector("[data-testid='stMain'] h1");
  if (after && ((window.__stRuns || 0) <= after.runs || !(window.__stDone > after.t0))
      && !(after.title && h1 && h1.innerText.trim().startsWith(after.title))) return false;
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector("[data-testid='stSkeleton'], [data-testid='stSpinner'], [data-stale='true']")) return false;
  if (!h1) return false;
  const shown = (e) => e.getClientRects().length > 0 && !e.closest('details:not([open])');  // not in a closed expander
  for (const c of document.querySelectorAll("[data-testid='stPlotlyChart']"))
    if (shown(c) && !c.querySelector('.main-svg')) return false;
  for (const d of document.querySelectorAll("[data-testid='stDataFrame']"))
    if (shown(d) && !d.querySelector('canvas')) return false;
  const first = (window.__stStarts || []).find(x => x >= (after ? after.t0 : 0));
  return {t: performance.now(), runs: window.__stRuns || 0, first: first === undefined ? null : first,
          done: window.__stDone};
}"""

INSPECT_JS = """() => {
  const texts = (s) => [...document.querySelectorAll(s)].filter(e => !e.parentElement.closest("[data-testid='stException']"))
    .map(e => e.innerText.trim().slice(0, 300));
  const dialogs = texts("[role='dialog']").filter(t => /connection error|still running|bad message/i.test(t));
  const h1 = document.querySelector("[data-testid='stMain'] h1");
  return {exceptions: texts("[data-testid='stException']").map(t => t.split('\\n')[0]), errors: texts("[data-testid='stAlertContentError']"),
          dialogs: dialogs, h1: h1 ? h1.innerText.trim() : null};
}"""

# Click the navigation link to a page (url path); returns the page time of the click, or null without such a link.
CLICK_JS = """(path) => {
  const a = [...document.querySelectorAll("[data-testid='stSidebarNav'] a[data-testid='stSidebarNavLink']")]
    .find(a => new URL(a.href).pathname.replace(/^\\/+/, '') === path);
  if (!a) return null;
  const t0 = performance.now();
  a.click();
  return t0;
}"""

NAV_JS = """() => [...document.querySelectorAll("[data-testid='stSidebarNav'] a[data-testid='stSidebarNavLink']")]
  .map(a => ({href: a.getAttribute('href'), title: a.innerText.trim().split('\\n').filter(Boolean).pop()}))"""


# ------------------------------------------------------------------------------------------------ processes


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(ppid, utime+stime ticks, starttime) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = raw[raw.rindex(")") + 2:].split()
    return int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[19])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _process_table() -> dict[int, tuple[int, int, int]]:
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            s = _stat(int(d))
            if s:
                out[int(d)] = s
    return out


def _descendants(root: int, table: dict[int, tuple[int, int, int]]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = set(), [root]
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out.add(p)
        todo.extend(children.get(p, []))
    return out


def _machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = f[3] + f[4]
    return sum(f) - idle, sum(f)


class Sampler:
    """Samples memory and CPU of the server, browser, writer and driver process groups."""

    GROUPS = ("server", "browser", "writer", "driver")

    def __init__(self, interval: float = 1.0):
        self.interval = interval
        self.server_pid: int | None = None
        self.writer_pid: int | None = None
        self.reset()

    def reset(self) -> None:
        self.peak_rss = dict.fromkeys(self.GROUPS, 0)
        self.peak_pss = dict.fromkeys(self.GROUPS, 0)
        self.ticks: dict[str, dict[tuple[int, int], int]] = {g: {} for g in self.GROUPS}
        self.base: dict[str, dict[tuple[int, int], int]] = {g: {} for g in self.GROUPS}
        self.server_hwm = 0
        self.machine0 = _machine_cpu()
        self.t0 = time.perf_counter()

    def groups(self) -> dict[str, set[int]]:
        table = _process_table()
        me = os.getpid()
        server = _descendants(self.server_pid, table) if self.server_pid else set()
        writer = _descendants(self.writer_pid, table) if self.writer_pid else set()
        mine = _descendants(me, table) - server - writer
        browser = {p for p in mine if "chrom" in _cmdline(p).split(" ")[0]}
        driver = mine - browser
        self._table = table
        return {"server": server, "browser": browser, "writer": writer, "driver": driver}

    def sample(self, baseline: bool = False) -> None:
        for g, pids in self.groups().items():
            rss = pss = 0
            for pid in pids:
                _, ticks, start = self._table.get(pid, (0, 0, 0))
                self.ticks[g][(pid, start)] = ticks
                if baseline:
                    self.base[g][(pid, start)] = ticks
                if not baseline:
                    rss += _status_kb(pid, "VmRSS")
                    pss += _pss_kb(pid)
            self.peak_rss[g] = max(self.peak_rss[g], rss)
            self.peak_pss[g] = max(self.peak_pss[g], pss)
        if self.server_pid:
            self.server_hwm = max(self.server_hwm, _status_kb(self.server_pid, "VmHWM"))

    def start(self) -> None:
        self.reset()
        self.sample(baseline=True)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.sample()

    def report(self) -> dict:
        self.sample()
        wall = time.perf_counter() - self.t0
        busy1, total1 = _machine_cpu()
        ncpu = os.cpu_count() or 1
        machine_busy = (busy1 - self.machine0[0]) / max(total1 - self.machine0[1], 1) * ncpu
        cpu = {g: sum(v - self.base[g].get(k, 0) for k, v in self.ticks[g].items()) / CLK_TCK / wall
               for g in self.GROUPS}
        return {"wall_s": wall, "cores": ncpu, "cpu_cores_used": cpu, "machine_cores_busy": machine_busy,
                "other_processes_cores": max(machine_busy - sum(cpu.values()), 0.0),
                "server_vmhwm_mb": self.server_hwm / 1024,
                "peak_rss_mb": {g: v / 1024 for g, v in self.peak_rss.items()},
                "peak_pss_mb": {g: v / 1024 for g, v in self.peak_pss.items()}}


# ------------------------------------------------------------------------------------------------ server


def build_demo(path: Path, *extra: str) -> None:
    """The demo company at ``path`` as `make run` builds it (with its first-start story), unless it exists;
    ``extra``: more arguments of `python -m analytics demo` (the smoke run: --data-only --scale 0.05)."""
    if path.exists():
        return
    print(f"building the demo database {path} (as of {AS_OF}) ...", flush=True)
    subprocess.run([PY, "-m", "analytics", "demo", "--db", str(path), "--as-of", AS_OF, *extra], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def export_import_folder(db_path: Path, folder: Path) -> Path:
    """The demo database written as a folder of Parquet files in the contract's shape (the import writer's input)."""
    import duckdb

    sys.path.insert(0, str(ROOT))
    from analytics.schema import CONTRACT

    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("ATTACH $p AS src (READ_ONLY)", {"p": str(db_path)})
    for name, table in CONTRACT.items():
        cols = ", ".join(f'"{c.name}"' for c in table.columns)
        # constant identifiers from the contract; the target path is ours
        con.execute(f"COPY (SELECT {cols} FROM src.{name}) TO '{folder / (name + '.parquet')}' (FORMAT parquet)")
    con.close()
    return folder


def _healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok"
    except OSError:
        return False


@contextlib.contextmanager
def run_server(db_path: Path, port: int, log: Path):
    """`streamlit run app.py` on 127.0.0.1:port against db_path (as tests/e2e/conftest.py does); yields (url, pid)."""
    url = f"http://127.0.0.1:{port}"
    if _healthy(url):
        raise SystemExit(f"something already answers on {url}: pick another --port")
    env = dict(os.environ, SOP_DB=str(db_path), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [PY, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
             "--server.runOnSave", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.time() + 60
        while not _healthy(url):
            if time.time() > deadline or proc.poll() is not None:
                raise RuntimeError("streamlit did not become healthy: " + log.read_text(errors="replace")[-2000:])
            time.sleep(0.3)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------------------------------------ sessions


@dataclass
class Load:
    session: int
    pass_no: int
    path: str
    title: str
    start: float  # perf_counter, for overlap with the writer
    kind: str = "browser"  # "browser": a Chromium tab, timed to fully drawn; "protocol": a websocket client
    end: float = 0.0
    seconds: float | None = None  # navigation start -> fully rendered, measured in the page
    script_seconds: float | None = None  # first script run started -> last one finished: the server's part
    script_from: float | None = None  # when the first script run started, seconds after `start`
    wall_seconds: float | None = None  # the same seen from the driver
    errors: list[str] = field(default_factory=list)
    error_boxes: list[str] = field(default_factory=list)  # st.error bodies a protocol session saw
    during_writer: bool = False
    overlaps_swap: bool = False  # the swap happened between the start of the load and the page rendered
    script_at_swap: bool = False  # ... while the server ran the page's script
    after_swap: bool = False


@dataclass
class Context:
    base: str
    pages: list[tuple[str, str]]
    args: argparse.Namespace
    by_design: dict[str, set[str]] = field(default_factory=dict)  # path -> error-box texts shown by design
    notes: collections.Counter = field(default_factory=collections.Counter)  # things seen but not counted
    writer_done: asyncio.Event | None = None
    page_hashes: dict[str, str] = field(default_factory=dict)  # url path -> page_script_hash (protocol sessions)
    by_design_protocol: dict[str, set[str]] = field(default_factory=dict)  # path -> error-box bodies by design


async def wait_rendered(page, deadline: float, settle: float, after: dict | None = None
                        ) -> tuple[float, float | None, float | None, float]:
    """Until fully rendered and still so `settle` seconds later with no new script run.

    Returns, in the page's clock, the seconds from navigation start (or the click `after` describes) to rendered,
    from the start of the first script run to the end of the last, and from navigation start to that first start;
    then the driver's perf_counter when it saw the page rendered."""
    t0 = after["t0"] if after else 0.0
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError
        handle = await page.wait_for_function(RENDERED_JS, arg=after, polling=50, timeout=left * 1000)
        first = await handle.json_value()
        seen = time.perf_counter()
        await asyncio.sleep(settle)
        again = await page.evaluate(RENDERED_JS, after)
        if again and again["runs"] == first["runs"]:
            script = (first["done"] - first["first"]) / 1000 if None not in (first["done"], first["first"]) else None
            began = (first["first"] - t0) / 1000 if first["first"] is not None else None
            return (first["t"] - t0) / 1000, script, began, seen


async def load_page(page, ctx: Context, load: Load, problems: list[str], click: bool = False) -> Load:
    """Open a page by its URL (a new Streamlit session) or, with `click`, by its link in the sidebar navigation."""
    from playwright.async_api import Error as PlaywrightError

    problems.clear()
    deadline = load.start + ctx.args.timeout
    try:
        async with asyncio.timeout(ctx.args.timeout + 30):  # a browser call that never answers is an error too
            await _load_page(page, ctx, load, deadline, click)
    except TimeoutError:
        load.errors.append(f"the browser did not answer within {ctx.args.timeout + 30:.0f} s")
    except PlaywrightError as e:
        load.errors.append(f"browser: {str(e).splitlines()[0][:200]}")
    if not load.end:
        load.end = time.perf_counter()
    try:
        async with asyncio.timeout(30):
            seen_page = await page.evaluate(INSPECT_JS)
    except (PlaywrightError, TimeoutError) as e:
        seen_page = {"exceptions": [], "errors": [], "dialogs": [], "h1": None}
        load.errors.append(f"cannot inspect the page: {str(e).splitlines()[0][:200] if str(e) else 'timeout'}")
    load.errors += [f"exception: {t[:200]}" for t in seen_page["exceptions"]]
    load.errors += [f"connection: {t[:200]}" for t in seen_page["dialogs"]]
    design = ctx.by_design.get(load.path)
    if design is not None:
        load.errors += [f"st.error: {t[:200]}" for t in seen_page["errors"] if t not in design and "WORSE" not in t]
    if load.seconds is not None and not (seen_page["h1"] or "").startswith(load.title):
        load.errors.append(f"title {seen_page['h1']!r}, expected {load.title!r}")
    load.errors += problems
    return load


async def _load_page(page, ctx: Context, load: Load, deadline: float, click: bool) -> None:
    from playwright.async_api import Error as PlaywrightError

    try:
        after = None
        if click:
            runs = await page.evaluate("() => window.__stRuns || 0")
            t0 = await page.evaluate(CLICK_JS, load.path)
            if t0 is None:
                raise RuntimeError(f"no navigation link to /{load.path}")
            after = {"runs": runs, "t0": t0, "title": load.title}
        else:
            resp = await page.goto(f"{ctx.base}/{load.path}", wait_until="commit", timeout=ctx.args.timeout * 1000)
            if resp is not None and resp.status >= 400:
                load.errors.append(f"HTTP {resp.status} for the page")
        load.seconds, load.script_seconds, load.script_from, seen = await wait_rendered(
            page, deadline, ctx.args.settle, after)
        load.wall_seconds = seen - load.start
        load.end = seen
    except TimeoutError as e:
        load.errors.append(f"not rendered within {ctx.args.timeout:.0f} s")
        del e
    except PlaywrightError as e:
        load.errors.append("timeout" if "Timeout" in str(e) else f"browser: {str(e).splitlines()[0][:200]}")
    except RuntimeError as e:
        load.errors.append(str(e))


async def new_tab(browser, ctx: Context, problems: list[str]):
    bctx = await browser.new_context(viewport={"width": ctx.args.width, "height": ctx.args.height})
    await bctx.add_init_script(OBSERVER_JS)
    page = await bctx.new_page()

    def on_response(r):
        if r.status < 400:
            return
        if r.status == 404 and PROBE_404.match(r.url[len(ctx.base):]):
            ctx.notes["404 of Streamlit's base-path probe under a deep link (harmless)"] += 1
        else:
            problems.append(f"HTTP {r.status} {r.url[:120]}")

    def on_failed(r):
        failure = r.failure or ""
        if "ERR_ABORTED" in failure:  # a goto to the next page aborts what the last one still loaded
            return
        if not r.url.startswith(ctx.base):  # the machine is offline; the page does not need it to render
            host = r.url.split("/")[2] if "://" in r.url else r.url[:60]
            ctx.notes[f"request to {host} failed ({failure}): not counted, outside the app"] += 1
            return
        problems.append(f"request failed {failure} {r.url[:120]}")

    page.on("response", on_response)
    page.on("requestfailed", on_failed)
    page.on("pageerror", lambda exc: problems.append(f"page JS error: {str(exc)[:200]}"))
    return bctx, page


async def think(ctx: Context, rng: random.Random) -> None:
    """A person reads the page before the next click: --think seconds on average (uniform, half to one and a half)."""
    if ctx.args.think > 0:
        await asyncio.sleep(rng.uniform(0.5, 1.5) * ctx.args.think)


async def browse(ctx: Context, sid: int, rng: random.Random, loads: list[Load], passes: int | None, visit,
                 current: str | None) -> None:
    """Every page in a shuffled order, `passes` times (or until the writer is done, plus more); `visit(path, title,
    pass_no)` opens one page and returns its Load."""
    pass_no, passes_at_done = 0, None
    while True:
        order = list(ctx.pages)
        rng.shuffle(order)
        if order[0][0] == current:  # clicking the page one is on does not navigate
            order.append(order.pop(0))
        for path, title in order:
            await think(ctx, rng)
            loads.append(await visit(path, title, pass_no))
            current = path
        pass_no += 1
        if passes is not None:
            if pass_no >= passes:
                break
        else:
            if passes_at_done is None and ctx.writer_done.is_set():
                passes_at_done = pass_no
            if passes_at_done is not None and pass_no >= max(passes_at_done + ctx.args.after_passes, ctx.args.passes):
                break


async def session(browser, ctx: Context, sid: int, loads: list[Load], passes: int | None) -> None:
    """One person in a Chromium tab."""
    rng = random.Random(ctx.args.seed * 1000 + sid)
    if ctx.args.ramp:
        await asyncio.sleep(rng.uniform(0, ctx.args.ramp))
    problems: list[str] = []
    bctx, page = await new_tab(browser, ctx, problems)
    click = ctx.args.nav == "click"
    try:
        current = None
        if click:  # arrive on the default page by its URL, then move around with the sidebar
            path, title = ctx.pages[0]
            loads.append(await load_page(page, ctx, Load(sid, -1, path, title, time.perf_counter()), problems))
            current = path

        async def visit(path, title, pass_no):
            return await load_page(page, ctx, Load(sid, pass_no, path, title, time.perf_counter()), problems,
                                   click=click)

        await browse(ctx, sid, rng, loads, passes, visit, current)
    finally:
        await bctx.close()


# ------------------------------------------------------------------------------------------------ protocol sessions


class Protocol:
    """One Streamlit session spoken to over its websocket (/_stcore/stream), as the browser's JavaScript does.

    The server cannot tell it from a browser tab: it opens a session, asks for a page (a rerun with the page's
    script hash, as a click in the sidebar does) and receives every element the page draws until the script run
    finishes. Nothing is drawn, so the time is the server's part of a page view: script run, serialisation and
    transfer. It reports no cached messages, so the server sends every element in full (a browser with the
    messages cached would get some as references): pessimistic for the server."""

    def __init__(self, base: str):
        self.url = base.replace("http://", "ws://", 1) + "/_stcore/stream"
        self.ws = None

    async def __aenter__(self):
        import websockets

        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=None, open_timeout=60)
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def open(self, page_hash: str, timeout: float) -> dict:
        """Ask for a page; wait for the end of its script run. Returns seconds, the pages of the navigation
        (url path -> hash), the page's title, exception messages, error-box bodies and the run's end status."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = page_hash
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        out = {"pages": {}, "exceptions": [], "errors": [], "status": None, "bytes": 0}
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.ws.recv()
                out["bytes"] += len(raw)
                fwd = ForwardMsg()
                fwd.ParseFromString(raw)
                kind = fwd.WhichOneof("type")
                if kind == "navigation":
                    out["pages"] = {p.url_pathname: p.page_script_hash for p in fwd.navigation.app_pages}
                elif kind == "page_not_found":
                    out["exceptions"].append(f"page not found: {fwd.page_not_found.page_name}")
                elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                    el = fwd.delta.new_element
                    what = el.WhichOneof("type")
                    if what == "heading" and el.heading.tag == "h1" and out.get("title") is None:
                        out["title"] = el.heading.body
                    elif what == "exception":
                        out["exceptions"].append(f"{el.exception.type}: {el.exception.message}"[:300])
                    elif what == "alert" and el.alert.format == el.alert.ERROR:
                        out["errors"].append(el.alert.body[:300])
                elif kind == "script_finished":
                    out["status"] = fwd.script_finished
                    if fwd.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        out["seconds"] = time.perf_counter() - t0
                        return out


async def protocol_visit(conn: Protocol, ctx: Context, load: Load) -> Load:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    load.kind = "protocol"
    try:
        seen = await conn.open(ctx.page_hashes.get(load.path, ""), ctx.args.timeout)
        load.seconds = load.script_seconds = seen["seconds"]
        if seen["status"] != ForwardMsg.FINISHED_SUCCESSFULLY:
            load.errors.append(f"script run ended with status {seen['status']}")
        load.errors += [f"exception: {t}" for t in seen["exceptions"]]
        if not (seen.get("title") or "").startswith(load.title):
            load.errors.append(f"title {seen.get('title')!r}, expected {load.title!r}")
        design = ctx.by_design_protocol.get(load.path)
        if design is not None:
            load.errors += [f"st.error: {t[:200]}" for t in seen["errors"] if t not in design and "WORSE" not in t]
        load.error_boxes = seen["errors"]
    except TimeoutError:
        load.errors.append(f"not rendered within {ctx.args.timeout:.0f} s")
    except Exception as e:  # a closed or broken websocket: the server dropped the session
        load.errors.append(f"websocket: {type(e).__name__}: {str(e)[:200]}")
    load.end = time.perf_counter()
    return load


async def protocol_session(ctx: Context, sid: int, loads: list[Load], passes: int | None) -> None:
    """One person as a websocket client: arrives on the default page, then moves through the pages."""
    rng = random.Random(ctx.args.seed * 1000 + sid)
    if ctx.args.ramp:
        await asyncio.sleep(rng.uniform(0, ctx.args.ramp))
    path, title = ctx.pages[0]
    try:
        async with Protocol(ctx.base) as conn:
            loads.append(await protocol_visit(conn, ctx, Load(sid, -1, path, title, time.perf_counter())))

            async def visit(path, title, pass_no):
                return await protocol_visit(conn, ctx, Load(sid, pass_no, path, title, time.perf_counter()))

            await browse(ctx, sid, rng, loads, passes, visit, path)
    except Exception as e:  # could not even connect
        load = Load(sid, -1, path, title, time.perf_counter(), kind="protocol")
        load.errors.append(f"websocket: {type(e).__name__}: {str(e)[:200]}")
        load.end = load.start
        loads.append(load)


async def protocol_cold_pass(ctx: Context) -> list[Load]:
    """Learn the pages' script hashes and the error boxes they show by design, over the protocol."""
    out = []
    async with Protocol(ctx.base) as conn:
        seen = await conn.open("", 120)
        ctx.page_hashes = {path: seen["pages"].get(path, "") for path, _ in ctx.pages}
        for path, title in ctx.pages:
            load = await protocol_visit(conn, ctx, Load(-2, 0, path, title, time.perf_counter()))
            ctx.by_design_protocol[path] = set(load.error_boxes)
            load.errors = [e for e in load.errors if not e.startswith("st.error")]
            out.append(load)
    missing = [p for p, _ in ctx.pages if p not in seen["pages"]]
    if missing:
        raise RuntimeError(f"pages the browser saw but the protocol's navigation lacks: {missing}")
    return out


async def discover_pages(browser, base: str, args) -> list[tuple[str, str]]:
    """The navigation's pages as (url path, title), read from the sidebar of the default page."""
    bctx = await browser.new_context(viewport={"width": args.width, "height": args.height})
    await bctx.add_init_script(OBSERVER_JS)
    page = await bctx.new_page()
    await page.goto(base, wait_until="commit")
    await wait_rendered(page, time.perf_counter() + 120, args.settle)
    links = await page.evaluate(NAV_JS)
    await bctx.close()
    pages = []
    for link in links:
        path = link["href"].split("://", 1)[-1].split("/", 1)[1] if "://" in link["href"] else link["href"].lstrip("/")
        pages.append((path, link["title"]))
    if not pages:
        raise RuntimeError("no navigation links found on the default page")
    return pages


# ------------------------------------------------------------------------------------------------ writer


def writer_command(kind: str, db_path: Path, import_folder: Path | None) -> list[str]:
    if kind == "forecast":
        return [PY, "-m", "analytics", "forecast", "--db", str(db_path)]
    if kind == "import":
        return [PY, "-m", "analytics", "import", "--db", str(db_path), str(import_folder)]
    raise ValueError(kind)


async def watch_swaps(db_path: Path, swaps: list[float], stop: asyncio.Event) -> None:
    ino = os.stat(db_path).st_ino
    while not stop.is_set():
        with contextlib.suppress(FileNotFoundError):
            now = os.stat(db_path).st_ino
            if now != ino:
                swaps.append(time.perf_counter())
                ino = now
        await asyncio.sleep(0.02)


async def probe_health(port: int, probes: list[tuple[float, float]], stop: asyncio.Event) -> None:
    """GET /_stcore/health every 0.25 s: (time sent, seconds to answer) -- is the server's event loop ever blocked?"""
    while not stop.is_set():
        t = time.perf_counter()
        try:
            reader, wr = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
            wr.write(b"GET /_stcore/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            await wr.drain()
            await asyncio.wait_for(reader.read(), 30)
            wr.close()
            probes.append((t, time.perf_counter() - t))
        except (OSError, TimeoutError):
            probes.append((t, float("inf")))
        await asyncio.sleep(0.25)


async def run_writer(cmd: list[str], log: Path, sampler: Sampler, info: dict, done: asyncio.Event) -> None:
    t = time.perf_counter()
    info["start"] = t
    with open(log, "wb") as out:
        proc = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        sampler.writer_pid = proc.pid
        info["rc"] = await proc.wait()
    info["end"] = time.perf_counter()
    info["seconds"] = info["end"] - t
    tail = [ln.strip() for ln in log.read_text(errors="replace").replace("\r", "\n").splitlines() if ln.strip()]
    info["last_lines"] = tail[-3:]
    done.set()


# ------------------------------------------------------------------------------------------------ scenario


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def stats(loads: list[Load]) -> dict:
    times = [x.seconds for x in loads if x.seconds is not None]
    script = [x.script_seconds for x in loads if x.script_seconds is not None]
    return {"n": len(loads), "p50": pct(times, 0.5), "p95": pct(times, 0.95), "max": max(times, default=float("nan")),
            "errors": sum(1 for x in loads if x.errors), "script_p95": pct(script, 0.95)}


async def run_scenario(browser, args, n: int, writer: str, src_db: Path, import_folder: Path | None,
                       scratch: Path, port: int) -> dict:
    work = scratch / f"n{n}_{writer}"
    work.mkdir()
    db_path = work / "sop.duckdb"
    shutil.copyfile(src_db, db_path)
    sampler = Sampler(args.sample_interval)
    load_before = os.getloadavg()
    print(f"\n=== {n} session(s), writer: {writer} · load average {load_before[0]:.2f} "
          f"{load_before[1]:.2f} {load_before[2]:.2f}", flush=True)
    t_phase = time.perf_counter()
    with run_server(db_path, port, work / "streamlit.log") as (base, pid):
        sampler.server_pid = pid
        pages = await discover_pages(browser, base, args)
        if args.pages:
            pages = pages[: args.pages]
        ctx = Context(base, pages, args)
        print(f"server up and {len(pages)} pages found in {time.perf_counter() - t_phase:.1f} s; cold pass ...",
              flush=True)
        # the cold pass: the first user of the morning; also learns the error boxes the pages show by design
        cold: list[Load] = []
        problems: list[str] = []
        bctx, page = await new_tab(browser, ctx, problems)
        for path, title in pages:
            ctx.by_design.pop(path, None)
            load = await load_page(page, ctx, Load(-1, 0, path, title, time.perf_counter()), problems)
            cold.append(load)
            ctx.by_design[path] = set((await page.evaluate(INSPECT_JS))["errors"])
        await bctx.close()
        k = n if args.browsers is None else min(args.browsers, n)
        if k < n:
            cold += await protocol_cold_pass(ctx)
        print(f"cold pass done in {sum(x.end - x.start for x in cold):.1f} s; {n} session(s) start ({k} in Chromium,"
              f" {n - k} over the protocol)" + (f" with the {writer} writer" if writer != "none" else ""), flush=True)

        loads: list[Load] = []
        swaps: list[float] = []
        winfo: dict = {}
        stop = asyncio.Event()
        ctx.writer_done = asyncio.Event()
        sampler.start()
        probes: list[tuple[float, float]] = []
        bg = [asyncio.create_task(sampler.run()), asyncio.create_task(watch_swaps(db_path, swaps, stop)),
              asyncio.create_task(probe_health(port, probes, stop))]
        if writer != "none":
            bg.append(asyncio.create_task(run_writer(writer_command(writer, db_path, import_folder),
                                                     work / "writer.log", sampler, winfo, ctx.writer_done)))
        t0 = time.perf_counter()
        passes = args.passes if writer == "none" else None
        await asyncio.gather(*(session(browser, ctx, i, loads, passes) if i < k else
                               protocol_session(ctx, i, loads, passes) for i in range(n)))
        elapsed = time.perf_counter() - t0
        if writer != "none":
            await ctx.writer_done.wait()
        stop.set()
        res = sampler.report()
        for task in bg:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*bg)
    load_after = os.getloadavg()

    if writer != "none":
        for x in loads:
            x.during_writer = x.end >= winfo["start"] and x.start <= winfo["end"]
            x.overlaps_swap = any(x.start <= s <= x.end for s in swaps)
            if x.script_from is not None and x.script_seconds is not None:
                a = x.start + x.script_from
                x.script_at_swap = any(a <= s <= a + x.script_seconds for s in swaps)
            x.after_swap = bool(swaps) and x.start > swaps[0]
    health = {"all": [d for _, d in probes]}
    if writer != "none":
        health["during_writer"] = [d for t, d in probes if winfo["start"] <= t <= winfo["end"]]
        health["around_swap"] = [d for t, d in probes if any(abs(t - s) <= 1.0 for s in swaps)]
    health = {k: {"n": len(v), "p50": pct(v, 0.5), "p95": pct(v, 0.95), "max": max(v, default=float("nan"))}
              for k, v in health.items()}
    return {"sessions": n, "browsers": k, "writer": writer, "health_probe_s": health, "pages": [p for p, _ in pages], "elapsed_s": elapsed,
            "load_average_before": load_before, "load_average_after": load_after, "resources": res,
            "writer_info": {k: (v - t0 if k in ("start", "end") else v) for k, v in winfo.items()},
            "swaps_s": [s - t0 for s in swaps],
            "notes": dict(ctx.notes), "cold": [asdict(x) for x in cold], "loads": [asdict(x) for x in loads],
            "summary": summarise(loads, cold, pages, writer)}


def summarise(loads: list[Load], cold: list[Load], pages, writer: str) -> dict:
    out = {"overall": stats(loads), "cold": stats([x for x in cold if x.kind == "browser"]),
           "kinds": {}, "pages": {}}
    for kind in ("browser", "protocol"):
        mine = [x for x in loads if x.kind == kind]
        if mine:
            out["kinds"][kind] = stats(mine)
            out["pages"][kind] = {p: stats([x for x in mine if x.path == p]) for p, _ in pages}
    if writer != "none":
        out["during_writer"] = stats([x for x in loads if x.during_writer])
        out["without_writer"] = stats([x for x in loads if not x.during_writer])
        out["after_swap"] = stats([x for x in loads if x.after_swap])
        out["overlapping_swap"] = stats([x for x in loads if x.overlaps_swap])
        out["script_at_swap"] = stats([x for x in loads if x.script_at_swap])
    return out


def fmt(v: float) -> str:
    return "   -  " if v != v else f"{v:6.2f}"


KIND_TITLES = {"browser": "Chromium sessions: time to fully drawn",
               "protocol": "protocol sessions: time from asking for the page to its script run finished and received"}


def print_scenario(r: dict) -> None:
    s = r["summary"]
    titles = {x["path"]: x["title"] for x in r["cold"]}
    cold = {x["path"]: x["seconds"] for x in r["cold"] if x["kind"] == "browser"}
    for kind, pages in s["pages"].items():
        print(f"{KIND_TITLES[kind]}")
        print(f"{'page':<34}{'n':>5}{'p50 s':>8}{'p95 s':>8}{'max s':>8}{'errors':>8}{'cold s':>8}{'script p95':>11}")
        for path, st in pages.items():
            c = cold.get(path)
            print(f"{titles.get(path, path):<34}{st['n']:>5}{fmt(st['p50']):>8}{fmt(st['p95']):>8}{fmt(st['max']):>8}"
                  f"{st['errors']:>8}{fmt(c if c is not None else float('nan')):>8}{fmt(st['script_p95']):>11}")
        o = s["kinds"][kind]
        print(f"{'ALL PAGES':<34}{o['n']:>5}{fmt(o['p50']):>8}{fmt(o['p95']):>8}{fmt(o['max']):>8}{o['errors']:>8}"
              f"{fmt(s['cold']['max']):>8}{fmt(o['script_p95']):>11}")
    print("  cold: the first user's pass in Chromium on the fresh server (ALL PAGES: its max); script p95: from the "
          "start of the script run to its end\n  as the page saw it (the server's part, with the transfer); the rest "
          "is the browser loading the app and drawing the page")
    if r["writer"] != "none":
        w = r["writer_info"]
        print(f"writer {r['writer']}: rc {w.get('rc')}, ran {w.get('seconds', float('nan')):.1f} s "
              f"(from {w.get('start', 0):.1f} s to {w.get('end', 0):.1f} s of the run); atomic swap(s) at "
              + (", ".join(f"{t:.1f} s" for t in r["swaps_s"]) or "none seen"))
        said = [ln for ln in w.get("last_lines", []) if re.search(r"OK in|Forecast run|rror|failed", ln)]
        for line in (said or w.get("last_lines", []))[-1:]:
            print(f"  writer said: {line[:160]}")
        for key, label in (("during_writer", "loads while the writer ran"), ("without_writer", "loads without it"),
                           ("after_swap", "loads started after the swap"),
                           ("overlapping_swap", "loads in flight at the swap"),
                           ("script_at_swap", "... with the script running then")):
            st = s[key]
            print(f"  {label:<32} n {st['n']:>4}  p50 {fmt(st['p50'])}  p95 {fmt(st['p95'])}  "
                  f"max {fmt(st['max'])}  errors {st['errors']}  script p95 {fmt(st['script_p95'])}")
    for key, st in r["health_probe_s"].items():
        print(f"server /_stcore/health answer time, {key.replace('_', ' ')}: n {st['n']}  p50 {fmt(st['p50'])}  "
              f"p95 {fmt(st['p95'])}  max {fmt(st['max'])} s")
    res = r["resources"]
    cpu = res["cpu_cores_used"]
    print(f"CPU over {res['wall_s']:.0f} s, in cores of {res['cores']}: server {cpu['server']:.2f}, browser "
          f"{cpu['browser']:.2f}, writer {cpu['writer']:.2f}, driver (this script + playwright) {cpu['driver']:.2f}; "
          f"other processes on the machine {res['other_processes_cores']:.2f}")
    print("  (browser, server and writer share the same cores: the page times are pessimistic for the server)")
    print(f"memory: server VmHWM {res['server_vmhwm_mb']:.0f} MB (main process); sampled peak of the server tree "
          f"RSS {res['peak_rss_mb']['server']:.0f} MB / PSS {res['peak_pss_mb']['server']:.0f} MB; browser "
          f"(all Chromium processes) PSS {res['peak_pss_mb']['browser']:.0f} MB / RSS {res['peak_rss_mb']['browser']:.0f}"
          f" MB; writer RSS {res['peak_rss_mb']['writer']:.0f} MB")
    for note, count in r["notes"].items():
        print(f"  note: {count} x {note}")
    la = r["load_average_after"]
    print(f"load average after: {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}; scenario took {r['elapsed_s']:.0f} s")
    bad = [x for x in r["loads"] + r["cold"] if x["errors"]]
    for x in bad[:10]:
        who = "cold pass" if x["session"] < 0 else f"session {x['session']}"
        print(f"  ERROR {x['path'] or '(default)'} ({who}, {fmt(x['seconds'] or float('nan')).strip()} s): "
              + "; ".join(x["errors"]).replace("\n", " / ")[:300])
    if len(bad) > 10:
        print(f"  ... and {len(bad) - 10} more loads with errors (see --json)")


async def main_async(args) -> list[dict]:
    from playwright.async_api import async_playwright

    # kill -USR1 <pid>: print where every session is waiting (for a run that seems stuck)
    asyncio.get_running_loop().add_signal_handler(
        signal.SIGUSR1, lambda: [t.print_stack(limit=20, file=sys.stderr) for t in asyncio.all_tasks()])
    src = Path(args.db) if args.db else DEFAULT_DB
    if not args.db:
        build_demo(src)
    scratch = Path(tempfile.mkdtemp(prefix="sop_load_"))
    results = []
    try:
        folder = export_import_folder(src, scratch / "import") if "import" in args.writer else None
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--no-first-run", "--disable-sync"],
            )
            try:
                for n in args.sessions:
                    for writer in args.writer:
                        r = await run_scenario(browser, args, n, writer, src, folder, scratch, args.port)
                        print_scenario(r)
                        results.append(r)
            finally:
                await browser.close()
    finally:
        if args.keep:
            print(f"scratch files kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", default="1,10,25", help="concurrent browser sessions per scenario (default 1,10,25)")
    ap.add_argument("--writer", default="none,forecast", help="none, forecast, import (default none,forecast)")
    ap.add_argument("--db", help=f"database to copy for each scenario (default: the demo, built at {DEFAULT_DB})")
    ap.add_argument("--port", type=int, default=8599, help="loopback port of the server (default 8599)")
    ap.add_argument("--passes", type=int, default=2, help="passes over all pages per session (default 2); with a "
                    "writer, at least this many and until the writer is done")
    ap.add_argument("--after-passes", type=int, default=1, help="full passes after the writer finished (default 1)")
    ap.add_argument("--nav", choices=["url", "click"], default="url",
                    help="url: open every page by its URL, a new Streamlit session each time (deep link, bookmark); "
                    "click: open the app once, then click through the sidebar navigation (default url)")
    ap.add_argument("--settle", type=float, default=0.8, help="seconds a page must stay rendered (default 0.8)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds before a page load counts as an error")
    ap.add_argument("--ramp", type=float, default=0, help="sessions start at random within this many seconds")
    ap.add_argument("--browsers", type=int, default=None,
                    help="how many of the N sessions are Chromium tabs; the others speak Streamlit's websocket "
                         "protocol (default: all are Chromium tabs)")
    ap.add_argument("--think", type=float, default=0,
                    help="seconds a person reads a page before the next click, on average (uniform from half to one "
                         "and a half times this; default 0: click as soon as the page is drawn)")
    ap.add_argument("--width", type=int, default=1440)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--seed", type=int, default=1, help="seed of the page orders")
    ap.add_argument("--sample-interval", type=float, default=1.0, help="seconds between memory/CPU samples")
    ap.add_argument("--json", help="write every load and the summaries to this file")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder (server and writer logs)")
    ap.add_argument("--pages", type=int, help="only the first N pages of the navigation")
    ap.add_argument("--smoke", action="store_true",
                    help="a quick check: 2 sessions (1 Chromium, 1 protocol), 2 pages, 1 pass, no writer, a small demo "
                         "(scale 0.05) in a temporary folder, a free port")
    args = ap.parse_args()
    smoke_dir = None
    if args.smoke:
        import socket

        smoke_dir = Path(tempfile.mkdtemp(prefix="sop_load_smoke_"))
        args.db = str(smoke_dir / "demo.duckdb")
        build_demo(Path(args.db), "--data-only", "--scale", "0.05")
        args.sessions, args.browsers, args.writer, args.passes, args.pages = "2", 1, "none", 1, args.pages or 2
        args.timeout = max(args.timeout, 180.0)  # a check that it works, not of speed: a busy machine is no error
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            args.port = sock.getsockname()[1]
    try:
        results = run(ap, args)
    finally:
        if smoke_dir is not None:
            shutil.rmtree(smoke_dir, ignore_errors=True)
    errors = sum(o["errors"] for r in results for o in r["summary"]["kinds"].values())
    if args.smoke and errors:
        raise SystemExit(f"smoke run: {errors} page load(s) with errors")


def run(ap: argparse.ArgumentParser, args: argparse.Namespace) -> list[dict]:
    args.sessions = [int(x) for x in args.sessions.split(",") if x.strip()]
    args.writer = [x.strip() for x in args.writer.split(",") if x.strip()]
    bad = set(args.writer) - {"none", "forecast", "import"}
    if bad:
        ap.error(f"unknown writer(s): {', '.join(sorted(bad))}")
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: install Debian's chromium (make chromium)")

    la = os.getloadavg()
    how = "a click in the sidebar" if args.nav == "click" else "navigation start (the page opened by its URL)"
    print(f"{os.cpu_count()} cores, load average {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}; browser, server and writer "
          f"share them, so the times are pessimistic.\nTime = {how} to fully rendered, measured in the page."
          + (f" Think time {args.think:g} s on average between pages." if args.think else ""))
    results = asyncio.run(main_async(args))

    print("\n=== summary (target: no errors, p95 < 3 s at 25 sessions, no page blocked by the writer)")
    print(f"{'sessions':>8}  {'of them':<20}{'writer':<9}{'loads':>6}{'p50 s':>8}{'p95 s':>8}{'max s':>8}"
          f"{'errors':>8}{'in flight at swap':>19}{'server peak MB':>16}{'browser PSS MB':>16}  verdict")
    for r in results:
        swap = r["summary"].get("overlapping_swap")
        busy = r["summary"].get("script_at_swap", {}).get("n", 0)
        at_swap = "-" if not swap else f"{swap['n']} ({busy} in script)" if swap["n"] else "0"
        res = r["resources"]
        for kind, o in r["summary"]["kinds"].items():
            k = r["browsers"] if kind == "browser" else r["sessions"] - r["browsers"]
            who = f"{k} {'in Chromium' if kind == 'browser' else 'protocol'}"
            print(f"{r['sessions']:>8}  {who:<20}{r['writer']:<9}{o['n']:>6}{fmt(o['p50']):>8}{fmt(o['p95']):>8}"
                  f"{fmt(o['max']):>8}{o['errors']:>8}{at_swap:>19}"
                  f"{max(res['server_vmhwm_mb'], res['peak_rss_mb']['server']):>16.0f}"
                  f"{res['peak_pss_mb']['browser']:>16.0f}  "
                  + ("ok" if o["errors"] == 0 and o["p95"] < TARGET_P95
                     else f"MISS (errors, or p95 >= {TARGET_P95:.0f} s)"))
    if args.json:
        Path(args.json).write_text(json.dumps({"argv": sys.argv[1:], "cores": os.cpu_count(), "scenarios": results},
                                              indent=1, default=str))
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
