"""The presentation layer: labels, units and formats of machine columns (analytics.presentation)."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest

from analytics import exports, kpis
from analytics import presentation as pr


def test_the_audit_findings_read_like_a_report():
    # Seen on the summit screen: money_impact 3,056,166.6000, fill_rate 1.0000, mad 22.1667.
    assert pr.label("money_impact") == "Money impact"
    assert pr.format_value(3_056_166.6, pr.column("money_impact").kind) == "3,056,167"
    assert pr.label("fill_rate") == "Fill rate"
    assert pr.format_value(1.0, pr.column("fill_rate").kind) == "100.0%"
    assert pr.label("mad") == "MAD (units)"
    assert pr.format_value(22.1667, pr.column("mad").kind) == "22.2"


def test_percent_matches_the_tiles():
    spec = kpis.SPECS["otif_to_promise"]
    for v in (0.7291, 0.0, 1.0, 0.12345):
        assert pr.format_value(v, pr.PERCENT) == kpis.format_value(spec, v)


def test_formats_of_each_kind():
    assert pr.format_value(-50_076.4, pr.MONEY) == "(50,076)"
    assert pr.format_value(-0.4, pr.MONEY) == "0"  # rounds to nothing: no '(0)'
    assert pr.format_value(33.15, pr.UNITS) == "33"
    assert pr.format_value(1234.0, pr.COUNT) == "1,234"
    assert pr.format_value(0.0, pr.SCORE) == "0"  # NPS: no '+0'
    assert pr.format_value(12, pr.SCORE) == "+12"
    assert pr.format_value(-0.0004, pr.PTS) == "0.0 pts"  # no sign on zero
    assert pr.format_value(0.025, pr.PTS) == "+2.5 pts"
    assert pr.format_value(3.25, pr.DAYS) == "3.2"  # banker's rounding of 3.25 is fine: one decimal
    assert pr.format_value(date(2026, 10, 1), pr.MONTH) == "Oct 2026"
    assert pr.format_value(pd.Timestamp("2026-10-31 14:05:09"), pr.DATETIME) == "2026-10-31 14:05"
    assert pr.format_value(None, pr.MONEY) == pr.MISSING
    assert pr.format_value(float("nan"), pr.PERCENT) == pr.MISSING
    assert pr.format_value(True, pr.BOOL) == "yes"


def test_header_carries_the_unit_when_the_cell_does_not():
    assert pr.label("load_hours") == "Load (h)"
    assert pr.label("mean_gap_days") == "Mean promise gap (days)"
    assert pr.label("fill_rate") == "Fill rate"  # the cell says %


def test_unknown_columns_get_a_human_label_and_a_kind_from_their_type():
    df = pd.DataFrame({"days_late": [1.5], "n_lines": [3], "when": [date(2026, 1, 2)], "who": ["x"]})
    specs = pr.resolve(df)
    assert specs["days_late"] == pr.Column("Days late", pr.DECIMAL)
    assert specs["n_lines"].kind == pr.COUNT
    assert specs["when"].kind == pr.DATE
    assert specs["who"].kind == pr.TEXT


def test_overrides_by_kind_label_or_column():
    df = pd.DataFrame({"value": [0.7291], "kpi": ["otif_to_promise"]})
    specs = pr.resolve(df, {"value": "percent", "kpi": "Measure"})
    assert specs["value"].kind == pr.PERCENT and specs["kpi"].label == "Measure"
    over = pr.kpi_columns(kpis.SPECS["otif_to_promise"])
    assert over["value"].header == "OTIF to promise" and over["value"].kind == pr.PERCENT
    assert over["target"].kind == pr.PERCENT


def test_every_kpi_unit_has_a_kind():
    for spec in kpis.SPECS.values():
        assert pr.kpi_kind(spec) in pr.KINDS
        assert spec.unit in pr.KPI_UNIT_KINDS


def test_human_frame_keeps_values_renames_and_rounds_units():
    df = pd.DataFrame({"sku": ["A"], "quantity": [33.15], "fill_rate": [0.5], "reason": [None]})
    out, specs = pr.human_frame(df, drop_empty=True)
    assert list(out.columns) == ["SKU", "Units", "Fill rate"]  # the empty 'reason' column is left out
    assert out["Units"].iloc[0] == 33 and out["Fill rate"].iloc[0] == 0.5
    assert specs["Fill rate"].kind == pr.PERCENT


def test_duplicate_headers_are_made_unique():
    df = pd.DataFrame({"month": [date(2026, 1, 1)], "period": [date(2026, 2, 1)]})
    out, _ = pr.human_frame(df)
    assert list(out.columns) == ["Month", "Month (2)"]


def test_text_frame_formats_every_cell():
    df = pd.DataFrame({"money_impact": [3_056_166.6], "fill_rate": [1.0], "reason": [None]})
    out = pr.text_frame(df)
    assert out.iloc[0].tolist() == ["3,056,167", "100.0%", ""]


def test_machine_names_are_recognised():
    assert pr.is_machine_name("money_impact") and pr.is_machine_name("mad") and pr.is_machine_name("kpi")
    assert not pr.is_machine_name("Money impact") and not pr.is_machine_name("SKU") and not pr.is_machine_name("#")


def test_every_registry_header_is_human():
    for name, spec in pr.COLUMNS.items():
        assert not pr.is_machine_name(spec.header), (name, spec.header)


def test_excel_human_headers_and_number_formats():
    openpyxl = pytest.importorskip("openpyxl")
    df = pd.DataFrame({"money_impact": [3_056_166.6], "fill_rate": [0.7291], "period": [date(2026, 10, 1)]})
    wb = openpyxl.load_workbook(io.BytesIO(exports.to_excel_bytes({"x": df}, human=True)))
    ws = wb["x"]
    assert [c.value for c in ws[1]] == ["Money impact", "Fill rate", "Month"]
    assert ws["A2"].value == pytest.approx(3_056_166.6) and ws["A2"].number_format == "#,##0;(#,##0)"
    assert ws["B2"].number_format == "0.0%"
    assert ws["C2"].number_format == "mmm yyyy"
    # the machine export keeps machine names
    wb = openpyxl.load_workbook(io.BytesIO(exports.to_excel_bytes({"x": df})))
    assert [c.value for c in wb["x"][1]] == ["money_impact", "fill_rate", "period"]


def test_scenario_comparison_reads_per_row():
    comp = pd.DataFrame([
        {"kpi": "revenue", "label": "Revenue", "unit": "money", "higher_is_better": True, "baseline": 1000.0,
         "Shift": 1200.4, "Shift delta": 200.4},
        {"kpi": "total_cost", "label": "Total cost", "unit": "money", "higher_is_better": False, "baseline": 500.0,
         "Shift": 480.0, "Shift delta": -20.0},
        {"kpi": "fill_rate", "label": "Fill rate", "unit": "share", "higher_is_better": True, "baseline": 0.95,
         "Shift": 0.95, "Shift delta": 0.0},
    ])
    out = pr.comparison_text(comp, recommended=["Shift"])
    assert list(out.columns) == ["KPI", "Baseline", "Shift ★ recommended", "Shift: change"]
    assert out.values.tolist() == [["Revenue", "1,000", "1,200", "+200"], ["Total cost", "500", "480", "-20"],
                                   ["Fill rate", "95.0%", "95.0%", "0.0 pts"]]
