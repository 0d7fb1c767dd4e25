"""Import a flat order-line export (the Superstore's 21 columns) with a mapping file: orders, products and
customers from one file, the way a new user brings a retailer's export. Prints the time per stage.

    .venv/bin/python benchmarks/import_flat.py                 # 1,000,000 lines (target: under 30 s)
    .venv/bin/python benchmarks/import_flat.py --smoke         # 20,000 lines, for `make test`
    .venv/bin/python benchmarks/import_flat.py --lines 200000 --keep /tmp/flat
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analytics import access, ingest  # noqa: E402

MAPPING = ROOT / "mappings" / "examples" / "superstore.toml"
FILE = "superstore_orders.csv"


def write_export(path: Path, lines: int, seed: int = 7) -> None:
    """A Superstore-shaped export: about 2 lines per order, 1 product in 400 carries two names."""
    rng = np.random.default_rng(seed)
    n_orders = max(1, lines // 2)
    n_customers, n_products = max(10, lines // 50), max(10, lines // 200)
    order = np.sort(rng.integers(0, n_orders, lines))
    order_day = rng.integers(0, 4 * 365, n_orders)[order]
    ship_day = order_day + rng.integers(0, 8, lines)
    cust = rng.integers(0, n_customers, n_orders)[order]
    prod = rng.integers(0, n_products, lines)
    qty = rng.integers(1, 15, lines)
    price = np.round(rng.uniform(2, 900, n_products), 2)[prod]
    discount = rng.choice([0.0, 0.0, 0.0, 0.1, 0.2], lines)
    sales = np.round(price * qty * (1 - discount), 4)
    base = np.datetime64("2014-01-03")
    order_date = pa.array(base + order_day.astype("timedelta64[D]")).cast(pa.string())
    ship = base + ship_day.astype("timedelta64[D]")
    ymd = pa.array(ship)
    ship_text = pc.binary_join_element_wise(  # day-first, no zero padding, as in the Superstore export
        pc.day(ymd).cast(pa.string()), pc.month(ymd).cast(pa.string()), pc.year(ymd).cast(pa.string()), "/")

    def text(prefix: str, values: np.ndarray, width: int = 0) -> pa.Array:
        s = pa.array(values).cast(pa.string())
        if width:
            s = pc.utf8_lpad(s, width, "0")
        return pc.binary_join_element_wise(pa.array(np.full(len(values), prefix)), s, "")

    def pick(options: list[str], index: np.ndarray) -> pa.Array:
        return pa.array(np.asarray(options, dtype=object)[index], pa.string())

    other_name = (prod % 400 == 0) & (rng.random(lines) < 0.3)
    cols = {
        "Row ID": pa.array(np.arange(1, lines + 1)).cast(pa.string()),
        "Order ID": text("CA-", order, 7),
        "Order Date": order_date,
        "Ship Date": ship_text,
        "Ship Mode": pick(["Second Class", "Standard Class", "First Class", "Same Day"], rng.integers(0, 4, lines)),
        "Customer ID": text("CG-", cust, 6),
        "Customer Name": text("Customer ", cust),
        "Segment": pick(["Consumer", "Corporate", "Home Office"], cust % 3),
        "Country": pick(["United States"], np.zeros(lines, dtype=int)),
        "City": pick(["Henderson", "Los Angeles", "Fort Lauderdale", "Seattle"], rng.integers(0, 4, lines)),
        "State": pick(["Kentucky", "California", "Florida", "Washington"], rng.integers(0, 4, lines)),
        "Postal Code": pa.array(rng.integers(10000, 99999, lines)).cast(pa.string()),
        "Region": pick(["West", "East", "Central", "South"], rng.integers(0, 4, lines)),
        "Product ID": text("FUR-CH-", prod, 8),
        "Category": pick(["Furniture", "Office Supplies", "Technology"], prod % 3),
        "Sub-Category": pick(["Chairs", "Tables", "Labels", "Phones", "Binders"], prod % 5),
        "Product Name": pc.if_else(pa.array(other_name), text("Chair model B ", prod), text("Chair ", prod)),
        "Sales": pa.array(sales).cast(pa.string()),
        "Quantity": pa.array(qty).cast(pa.string()),
        "Discount": pa.array(discount).cast(pa.string()),
        "Profit": pa.array(np.round(sales * 0.12, 4)).cast(pa.string()),
    }
    pacsv.write_csv(pa.table(cols), path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000, help="order lines in the export")
    parser.add_argument("--smoke", action="store_true", help="20,000 lines (a quick check that it still runs)")
    parser.add_argument("--keep", help="folder to write the export and database into (kept); default: a temp folder")
    args = parser.parse_args(argv)
    lines = 20_000 if args.smoke else args.lines
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="import_flat_"))
    folder = work / "export"
    folder.mkdir(parents=True, exist_ok=True)
    db_path = work / "flat.duckdb"
    db_path.unlink(missing_ok=True)
    try:
        t0 = time.perf_counter()
        write_export(folder / FILE, lines)
        size = (folder / FILE).stat().st_size
        print(f"export: {lines:,} lines, 21 columns, {size / 2**20:,.1f} MiB, written in {time.perf_counter() - t0:.1f} s")

        stages: dict[str, float] = {}
        last = [time.perf_counter(), "reading"]

        def progress(fraction: float, message: str) -> None:
            stage = ("reading" if message.startswith("reading") else "mapping" if message.startswith("mapp")
                     else "writing" if message.startswith(("writing", "rebuilding", "checking the stored", "saving"))
                     else "validating")
            now = time.perf_counter()
            stages[last[1]] = stages.get(last[1], 0.0) + now - last[0]
            last[0], last[1] = now, stage

        t1 = time.perf_counter()
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        with access.default_user(access.SYSTEM):
            report = ingest.import_folder(db_path, folder, mapping=MAPPING, progress=progress)
        seconds = time.perf_counter() - t1
        if not report.ok:
            print(report.as_text())
            return 1
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        rss = ru1.ru_maxrss / 1024
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"import with {MAPPING.relative_to(ROOT)}: {seconds:.1f} s (target 30 s for 1,000,000 lines), "
              f"{lines / seconds:,.0f} lines/s, peak RSS {rss:,.0f} MiB, database {db_path.stat().st_size / 2**20:,.1f} MiB")
        print(f"  CPU: {cpu:.1f} s (all threads; on 2 idle cores the wall time is about CPU / parallelism)")
        print("  stages: " + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()))
        print(f"  machine load average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} cores")
        print("  rows: " + ", ".join(f"{t} {n:,}" for t, n in report.rows.items()))
        print("  disagreeing keys: " + (", ".join(f"{t}.{c} {n:,}" for t, d in report.disagreements.items()
                                                   for c, n in d.items()) or "none"))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
