"""Sample data for the importer tests: a small valid folder written by hand, and a big one."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

PRODUCTS = """sku,name,family,unit_cost,unit_price,work_center,hours_per_unit
A1,Oak desk,Desks,80,150,WC-ASSEMBLY,0.5
B2,Chair,Chairs,20,45.5,WC-PAINT,0.2
C3,Lamp,Lights,5,15,WC-PAINT,0.1
"""

CUSTOMERS = """customer_id,name,region,segment
C1,Nordic Office AB,North,Retail
C2,Southern Supply,South,Wholesale
"""

# Row numbers as the user sees them: header = 1, SO1/1 = 2, SO1/2 = 3, SO2/1 = 4, SO3/1 = 5.
ORDERS = """order_id,line_no,customer_id,sku,order_date,requested_date,promised_date,quantity,unit_price
SO1,1,C1,A1,2026-01-05,2026-01-20,2026-01-22,10,140
SO1,2,C1,B2,2026-01-05,2026-01-20,2026-01-22,5,40
SO2,1,C2,C3,2026-01-10,,2026-01-25,20,
SO3,1,C2,A1,2026-02-01,2026-02-15,,4,150
"""

# D2 is a partial delivery (3 of 5), SO3 is open.
DELIVERIES = """delivery_id,order_id,line_no,ship_date,delivered_date,quantity,error_code
D1,SO1,1,2026-01-19,2026-01-21,10,
D2,SO1,2,2026-01-19,2026-01-21,3,
D3,SO2,1,2026-01-24,2026-01-26,20,damaged
"""

VALID = {
    "products.csv": PRODUCTS,
    "customers.csv": CUSTOMERS,
    "orders.csv": ORDERS,
    "deliveries.csv": DELIVERIES,
}


def write_folder(folder: Path, files: dict[str, str] | None = None, **overrides: str | None) -> Path:
    """Write the valid sample folder; ``overrides`` replace (or with None remove) files,
    given as keyword ``orders_csv="..."`` for ``orders.csv``."""
    folder.mkdir(parents=True, exist_ok=True)
    content = dict(VALID if files is None else files)
    for key, text in overrides.items():
        name = key.replace("_csv", ".csv")
        if text is None:
            content.pop(name, None)
        else:
            content[name] = text
    for name, text in content.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_big_folder(folder: Path, n_lines: int, seed: int = 1) -> Path:
    """A valid folder with ``n_lines`` order lines (about 3 lines per order) and deliveries."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_products, n_customers = 200, 500
    skus = np.char.add("SKU-", np.arange(n_products).astype(str))
    pd.DataFrame({
        "sku": skus, "name": np.char.add("Item ", np.arange(n_products).astype(str)),
        "family": np.char.add("F", (np.arange(n_products) % 7).astype(str)),
        "unit_cost": rng.uniform(1, 100, n_products).round(2), "unit_price": rng.uniform(100, 200, n_products).round(2),
        "work_center": np.char.add("WC", (np.arange(n_products) % 3).astype(str)),
        "hours_per_unit": rng.uniform(0.1, 1, n_products).round(3),
    }).to_csv(folder / "products.csv", index=False)
    cust = np.char.add("C", np.arange(n_customers).astype(str))
    pd.DataFrame({"customer_id": cust, "name": cust, "region": np.where(np.arange(n_customers) % 2, "North", "South"),
                  "segment": "Retail"}).to_csv(folder / "customers.csv", index=False)
    order_no = np.arange(n_lines) // 3
    line_no = np.arange(n_lines) % 3 + 1
    order_id = np.char.add("SO-", order_no.astype(str))
    base = np.datetime64("2024-01-01")
    order_date = base + (order_no * 730 // max(1, order_no.max() + 1)).astype("timedelta64[D]")
    qty = rng.integers(1, 50, n_lines)
    _csv(folder / "orders.csv", {
        "order_id": order_id, "line_no": line_no,
        "customer_id": cust[rng.integers(0, n_customers, n_lines)], "sku": skus[rng.integers(0, n_products, n_lines)],
        "order_date": order_date.astype(str), "requested_date": (order_date + 14).astype(str),
        "promised_date": (order_date + 16).astype(str), "quantity": qty, "unit_price": np.full(n_lines, 120.5),
    })
    delivered = rng.random(n_lines) < 0.9
    _csv(folder / "deliveries.csv", {
        "delivery_id": np.char.add("D-", np.arange(n_lines).astype(str))[delivered],
        "order_id": order_id[delivered], "line_no": line_no[delivered],
        "ship_date": (order_date + 12).astype(str)[delivered], "delivered_date": (order_date + 15).astype(str)[delivered],
        "quantity": qty[delivered], "error_code": np.full(int(delivered.sum()), ""),
    })
    return folder


def _csv(path: Path, columns: dict) -> None:
    pacsv.write_csv(pa.table({k: pa.array(v) for k, v in columns.items()}), path,
                    pacsv.WriteOptions(quoting_style="none"))
