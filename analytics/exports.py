"""Downloads that are safe to open in Excel: CSV and XLSX with formula-looking cells neutralised."""

from __future__ import annotations

import io

import pandas as pd

# A cell starting with one of these is run as a formula by Excel / LibreOffice (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise(value):
    """Prefix text that a spreadsheet would execute with a single quote; numbers are left alone."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    return safe_frame(df).to_csv(index=False).encode("utf-8-sig")


def to_excel_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """One workbook, one sheet per frame (sheet names cut to Excel's 31 characters)."""
    buf = io.BytesIO()
    # strings_to_formulas=False: xlsxwriter would otherwise turn "=..." text into live formulas.
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": {"strings_to_formulas": False}}) as xw:
        for name, df in sheets.items():
            frame = safe_frame(df)
            for col in frame.columns:
                if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
                    frame[col] = frame[col].dt.tz_localize(None)
            frame.to_excel(xw, sheet_name=str(name)[:31] or "data", index=False)
    return buf.getvalue()
