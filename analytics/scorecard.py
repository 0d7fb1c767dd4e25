"""The scorecard: each KPI for a month against its target, last month and last year, with its trend."""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics import kpis
from analytics.filters import Filters


def scorecard(
    con, month: date, as_of: date, filters: Filters = Filters(), lag: int = 1, source: str = "consensus",
    n_trend: int = 13,
) -> pd.DataFrame:
    """grain: one row per KPI.

    Columns: kpi, label, unit, value, numerator, denominator, reason, target, tolerance, light,
    prev_month, last_year, delta_month, delta_year, trend (list of (month, value) for n_trend months).
    One query per source for the 13-month trend; the month's values, last month and last year are read
    from that same trend (and a second query for the year-ago month), so numbers always agree.
    """
    avail = kpis.data_availability(con)
    q = kpis.Query(*kpis.month_range(month), as_of, filters, lag, source)
    current = kpis.kpi_values(con, q, availability=avail).set_index("kpi")
    trend = kpis.kpi_trend(con, month, q, n_months=n_trend, availability=avail)
    year_ago = kpis.add_months(month, -12)
    q_year = kpis.Query(*kpis.month_range(year_ago), as_of, filters, lag, source)
    last_year = kpis.kpi_values(con, q_year, availability=avail).set_index("kpi")["value"]
    prev = kpis.add_months(month, -1)
    tgt = kpis.targets(con)
    rows = []
    for k, spec in kpis.SPECS.items():
        cur = current.loc[k]
        t = trend[trend["kpi"] == k]
        series = [] if "month" not in t else [
            (pd.Timestamp(m).date(), v) for m, v in zip(t["month"], t["value"]) if m is not None and pd.notna(m)
        ]
        series.sort()
        prev_val = next((v for m, v in series if m == prev), None)
        value = cur["value"]
        target, tol = tgt[k]
        rows.append({
            "kpi": k, "label": spec.label, "unit": spec.unit,
            "value": value, "numerator": cur["numerator"], "denominator": cur["denominator"],
            "reason": cur["reason"], "target": target, "tolerance": tol,
            "light": kpis.traffic_light(spec, value, target, tol),
            "prev_month": prev_val, "last_year": last_year.get(k),
            "delta_month": _delta(value, prev_val), "delta_year": _delta(value, last_year.get(k)),
            "trend": series,
        })
    return pd.DataFrame(rows)


def _delta(a, b):
    if a is None or b is None or pd.isna(a) or pd.isna(b):
        return None
    return float(a) - float(b)


def format_delta(spec: kpis.KpiSpec, delta: float | None) -> str | None:
    if delta is None or pd.isna(delta):
        return None
    if spec.unit == kpis.RATE:
        return f"{delta * 100:+.1f} pts"
    if spec.unit == kpis.POINTS:
        return f"{delta:+.0f}"
    return f"{delta:+.1f}"


def definition_markdown(spec: kpis.KpiSpec) -> str:
    """The one written definition, as shown on screen and in the README."""
    return (
        f"**{spec.label}** (`{spec.id}`, {kpis.unit_label(spec.unit)}, "
        f"{'higher is better' if spec.higher_is_better else 'lower is better' if spec.higher_is_better is False else 'closest to target is best'})\n\n"
        f"- **Formula:** {spec.definition}\n"
        f"- **Population:** {spec.population}\n"
        f"- **Numerator:** {spec.numerator}\n"
        f"- **Denominator:** {spec.denominator}\n"
        f"- **Exclusions:** {spec.exclusions}\n"
    )


def definitions_markdown() -> str:
    """Every KPI definition, for the README (a test keeps the README equal to this)."""
    return "\n".join(definition_markdown(s) for s in kpis.SPECS.values())
