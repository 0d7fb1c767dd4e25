"""Downloads are safe to open in Excel: formula-looking text is neutralised, numbers are not touched."""

import io

import openpyxl
import pandas as pd

from analytics import exports


def test_neutralise_formula_cells():
    assert exports.neutralise("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert exports.neutralise("+1+1") == "'+1+1"
    assert exports.neutralise("-2+3") == "'-2+3"
    assert exports.neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert exports.neutralise("\t=1") == "'\t=1"
    assert exports.neutralise("plain") == "plain"
    assert exports.neutralise(-5) == -5


def test_csv_and_excel_carry_no_live_formula():
    df = pd.DataFrame({"reason": ["=1+1", "ok"], "value": [-1.5, 2.0]})
    csv = exports.to_csv_bytes(df).decode("utf-8-sig")
    assert "'=1+1" in csv and "-1.5" in csv
    wb = openpyxl.load_workbook(io.BytesIO(exports.to_excel_bytes({"t": df})))
    ws = wb["t"]
    assert ws["A2"].value == "'=1+1" and ws["A2"].data_type == "s"
    assert ws["B2"].value == -1.5
