"""DataFrame <-> JSON text, exactly: how a summit's frozen frames are stored (table ``summit_frames``).

Each column is stored with its pandas dtype and its values, so a frame read back has the same columns, dtypes
and values as the frame that was stored (``pd.testing.assert_frame_equal`` holds). The text is strict JSON
(readable with DuckDB's json functions): NaN and infinities are written as tagged objects, dates and
timestamps as ISO text.

Object columns keep each value's type: str, bool, int and float as JSON; None as null; NaN as {"f": "nan"};
``datetime.date`` as {"date": ...}; ``datetime`` / ``pd.Timestamp`` as {"ts": ...}; tuples and lists
recursively. Anything else is stored as its text.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime

import numpy as np
import pandas as pd

_NONFINITE = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}


def _float_out(x: float):
    if math.isnan(x):
        return {"f": "nan"}
    if math.isinf(x):
        return {"f": "inf" if x > 0 else "-inf"}
    return float(x)


def _float_in(v) -> float:
    if isinstance(v, dict):
        return _NONFINITE[v["f"]]
    return float(v) if v is not None else float("nan")


def _object_out(v):
    if v is None or v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return _float_out(v)
    if isinstance(v, pd.Timestamp | datetime):
        return {"ts": v.isoformat()}
    if isinstance(v, date):
        return {"date": v.isoformat()}
    if isinstance(v, tuple):
        return {"tuple": [_object_out(x) for x in v]}
    if isinstance(v, list):
        return {"list": [_object_out(x) for x in v]}
    return str(v)


def _object_in(v):
    if not isinstance(v, dict):
        return v
    if "f" in v:
        return _NONFINITE[v["f"]]
    if "ts" in v:
        return pd.Timestamp(v["ts"])
    if "date" in v:
        return date.fromisoformat(v["date"])
    if "tuple" in v:
        return tuple(_object_in(x) for x in v["tuple"])
    return [_object_in(x) for x in v["list"]]


def _column_out(s: pd.Series) -> tuple[str, list]:
    dt = s.dtype
    if isinstance(dt, np.dtype) and dt.kind == "f":
        return "float", [_float_out(x) for x in s.tolist()]
    if isinstance(dt, np.dtype) and dt.kind in "iub":
        return "plain", s.tolist()
    if isinstance(dt, np.dtype) and dt.kind == "M" or isinstance(dt, pd.DatetimeTZDtype):
        return "datetime", [None if pd.isna(x) else pd.Timestamp(x).isoformat() for x in s]
    if isinstance(dt, np.dtype) and dt.kind == "m":
        return "timedelta", [None if pd.isna(x) else pd.Timedelta(x).isoformat() for x in s]
    if isinstance(dt, np.dtype) and dt.kind == "O":
        return "object", [_object_out(x) for x in s.tolist()]
    # extension dtypes (str, Int64, boolean, Float64, category, ...): NA as null, values as plain JSON
    return "extension", [None if (x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)))
                         else _object_out(x) for x in s.astype(object).tolist()]


def _column_in(kind: str, dtype: str, values: list) -> pd.Series:
    if kind == "float":
        return pd.Series(np.array([_float_in(v) for v in values], dtype=float)).astype(dtype)
    if kind == "plain":
        return pd.Series(np.array(values, dtype=dtype) if values else np.array([], dtype=dtype))
    if kind == "datetime":
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601")).astype(dtype)
    if kind == "timedelta":
        return pd.Series(pd.to_timedelta(pd.Series(values, dtype=object))).astype(dtype)
    if kind == "object":
        return pd.Series([_object_in(v) for v in values], dtype=object)
    return pd.Series([_object_in(v) for v in values], dtype=object).astype(dtype)


def frame_to_json(df: pd.DataFrame) -> str:
    """A frame as strict JSON text: {"n": rows, "columns": [{"name", "dtype", "kind", "values"}]}.
    The index is not kept (frames are stored with a default RangeIndex)."""
    df = df.reset_index(drop=True)
    cols = []
    for i, name in enumerate(df.columns):
        kind, values = _column_out(df.iloc[:, i])
        cols.append({"name": str(name), "dtype": str(df.iloc[:, i].dtype), "kind": kind, "values": values})
    return json.dumps({"n": len(df), "columns": cols}, allow_nan=False, separators=(",", ":"))


def frame_from_json(text: str) -> pd.DataFrame:
    """The frame :func:`frame_to_json` wrote, with the same columns, dtypes and values."""
    data = json.loads(text)
    if not data["columns"]:
        return pd.DataFrame(index=range(data["n"]))
    series = {c["name"]: _column_in(c["kind"], c["dtype"], c["values"]) for c in data["columns"]}
    return pd.DataFrame(series).reset_index(drop=True)
