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


def to_excel_bytes(sheets: dict[str, pd.DataFrame], human: bool = False) -> bytes:
    """One workbook, one sheet per frame (sheet names cut to Excel's 31 characters).

    ``human=True`` (packs for people): headers and number formats from ``analytics.presentation`` (the numbers
    stay numbers, only their look is set); the default keeps machine names, like the CSV downloads."""
    from analytics import presentation

    buf = io.BytesIO()
    # strings_to_formulas=False: xlsxwriter would otherwise turn "=..." text into live formulas.
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": {"strings_to_formulas": False}}) as xw:
        for name, df in sheets.items():
            specs, per_row = None, {}
            if human:
                per_row = presentation.row_kinds(df)
                df, specs = presentation.human_frame(df)
            frame = safe_frame(df)
            for col in frame.columns:
                if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
                    frame[col] = frame[col].dt.tz_localize(None)
            sheet = str(name)[:31] or "data"
            frame.to_excel(xw, sheet_name=sheet, index=False)
            if specs:
                ws = xw.sheets[sheet]
                for i, spec in enumerate(specs.values()):
                    fmt = presentation.excel_format(spec)
                    cell = xw.book.add_format({"num_format": fmt}) if fmt else None
                    width = max(10, min(60, len(str(frame.columns[i])) + 2))
                    ws.set_column(i, i, width, cell)
                    if spec.kind in presentation.DATE_KINDS:  # pandas gives date cells a format of their own
                        for r, v in enumerate(pd.to_datetime(frame.iloc[:, i], errors="coerce"), start=1):
                            if not pd.isna(v):
                                ws.write_datetime(r, i, v.to_pydatetime(), cell)
                formats = {}  # per-row formats: one KPI per row, each value in its KPI's unit
                for machine, kinds in per_row.items():
                    i = list(sheets[name].columns).index(machine)  # human_frame keeps the column order
                    for r, (v, kind) in enumerate(zip(frame.iloc[:, i], kinds), start=1):
                        if kind not in formats:
                            fmt = presentation.excel_format(presentation.Column("", kind)) or "General"
                            formats[kind] = xw.book.add_format({"num_format": fmt})
                        if not pd.isna(v):
                            ws.write_number(r, i, float(v), formats[kind])
    return buf.getvalue()
