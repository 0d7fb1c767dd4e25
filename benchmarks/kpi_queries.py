"""Time every KPI query for one month at 1 million and 10 million order lines.

    python benchmarks/kpi_queries.py                     # builds (or reuses) /tmp/sop_bench_*.duckdb
    python benchmarks/kpi_queries.py --lines 1000000     # one size only
    python benchmarks/kpi_queries.py --smoke             # a small demo in a temporary folder (seconds; make test)

Prints, per database size, the seconds per KPI for the last complete month (median of --repeat warm runs,
and the first run), the whole scorecard (17 KPIs + 13-month trends), and a drill-down by customer.
Target (issue 2): each KPI for one month under 0.3 s at 1 million lines, under 2 s at 10 million, 2 cores.
The databases are built as the command line does (``access.SYSTEM``, the CLI's admin).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics import access, db, demo, kpis  # noqa: E402
from analytics.scorecard import scorecard  # noqa: E402

BASE_LINES = None  # order lines at scale 1, measured on first build


def ensure_db(lines: int, folder: Path) -> Path:
    path = folder / f"sop_bench_{lines}.duckdb"
    if path.exists():
        return path
    global BASE_LINES
    if BASE_LINES is None:
        probe = folder / "sop_bench_probe.duckdb"
        if not probe.exists():
            demo.build_demo(probe, scale=1.0, seed=42, user=access.SYSTEM)
        con = db.open_reader(probe)
        BASE_LINES = con.execute("SELECT count(*) FROM orders").fetchone()[0]
        con.close()
    scale = lines / BASE_LINES
    t = time.perf_counter()
    demo.build_demo(path, scale=scale, seed=42, user=access.SYSTEM)
    print(f"built {path} (scale {scale:.2f}) in {time.perf_counter() - t:.1f} s", flush=True)
    return path


def timed(fn, repeat: int) -> tuple[float, float]:
    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return first, statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, action="append", help="order lines (default: 1,000,000 and 10,000,000)")
    ap.add_argument("--folder", default="/tmp", help="where the benchmark databases live")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--smoke", action="store_true", help="a small demo (scale 0.05) in a temporary folder, one repeat")
    args = ap.parse_args(argv)
    if args.smoke:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "sop_bench_smoke.duckdb"
            demo.build_demo(path, scale=0.05, seed=42, user=access.SYSTEM)
            measure(path, 1)
        return 0
    for lines in args.lines or [1_000_000, 10_000_000]:
        measure(ensure_db(lines, Path(args.folder)), args.repeat)
    return 0


def measure(path: Path, repeat: int) -> None:
    """Print the timings of every KPI, the scorecard and a drill-down on the database at ``path``."""
    con = db.open_reader(path)
    n = con.execute("SELECT count(*) FROM orders").fetchone()[0]
    as_of = kpis.default_as_of(con)
    month = kpis.last_complete_month(as_of)
    q = kpis.Query(*kpis.month_range(month), as_of)
    avail = kpis.data_availability(con)
    print(f"\n== {n:,} order lines, {path.stat().st_size / 1e6:,.0f} MB, month {month:%Y-%m}, as of {as_of}")
    print(f"{'KPI':<36}{'first s':>10}{'median s':>10}  value")
    worst = 0.0
    for k in kpis.KPI_IDS:
        first, med = timed(lambda k=k: kpis.kpi_values(con, q, (k,), availability=avail), repeat)
        worst = max(worst, med)
        val = kpis.kpi_values(con, q, (k,), availability=avail)["value"].iloc[0]
        print(f"{k:<36}{first:>10.3f}{med:>10.3f}  {kpis.format_value(kpis.SPECS[k], val)}")
    target = 0.3 if n <= 2_000_000 else 2.0
    print(f"slowest KPI median {worst:.3f} s (target < {target} s): {'OK' if worst < target else 'MISSED'}")
    first, med = timed(lambda: kpis.kpi_values(con, q, availability=avail), repeat)
    print(f"{f'all {len(kpis.KPI_IDS)} KPIs, one month':<36}{first:>10.3f}{med:>10.3f}")
    first, med = timed(lambda: scorecard(con, q.start, q.end, as_of), max(1, repeat // 2))
    print(f"{'scorecard (every KPI + 13-month trend)':<36}{first:>10.3f}{med:>10.3f}")
    first, med = timed(lambda: kpis.kpi_breakdown(con, "otif_to_promise", q, "customer_id"), repeat)
    print(f"{'OTIF drill-down by customer':<36}{first:>10.3f}{med:>10.3f}")
    con.close()


if __name__ == "__main__":
    raise SystemExit(main())
