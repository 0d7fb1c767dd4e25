"""The KPI tile: value, target, traffic light (shape + word + colour), change vs last month and last year."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import kpis
from analytics.scorecard import format_delta

BADGE = {  # label, icon, colour: never colour alone
    "green": ("On target", ":material/check_circle:", "green"),
    "amber": ("Watch", ":material/warning:", "orange"),
    "red": ("Off target", ":material/cancel:", "red"),
    "none": ("No data", ":material/help:", "gray"),
    "unset": ("No target", ":material/flag:", "gray"),  # a target of 0 on a higher-is-better KPI: nothing to meet
}


def kpi_tile(row: dict, period_word: str = "last month") -> None:
    spec = kpis.SPECS[row["kpi"]]
    has_value = row["value"] is not None and not pd.isna(row["value"])
    trend = [v * 100 if (v is not None and spec.unit == kpis.RATE) else v for _, v in row["trend"]]
    trend = [0 if v is None or pd.isna(v) else v for v in trend]
    delta = format_delta(spec, row["delta_prev"])
    colour = "off" if spec.higher_is_better is None else ("normal" if spec.higher_is_better else "inverse")
    flat = delta is not None and not delta.startswith(("+", "-"))  # no change: no arrow, no colour
    with st.container(border=True):
        st.metric(
            row.get("label") or spec.label,
            kpis.format_value(spec, row["value"]) if has_value else "n/a",
            delta=f"{delta} vs {period_word}" if delta else None,
            delta_color="off" if flat else colour,
            delta_arrow="off" if flat else "auto",
            help=row.get("definition") or spec.definition,
            chart_data=trend if has_value and len(trend) > 1 else None,
            chart_type="line",
        )
        label, icon, badge_colour = BADGE[row["light"]]
        st.badge(label, icon=icon, color=badge_colour)
        if has_value:
            ly = format_delta(spec, row["delta_year"])
            st.caption(f"Target {kpis.format_value(spec, row['target'])}" + (f" · {ly} vs last year" if ly else ""))
            if row.get("note"):  # e.g. accuracy floored at 0: the WMAPE and absolute error that still move
                st.caption(str(row["note"]))
        else:
            st.caption(str(row["reason"]))
