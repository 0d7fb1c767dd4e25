"""The scorecard: each KPI for a period against its target, the period before and last year, with its trend."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from analytics import kpis
from analytics.filters import Filters


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period just before [start, end] of the same length: whole months shift by months, else by days."""
    first, last = kpis.month_range(end)
    if start.day == 1 and end == last:
        n = (end.year - start.year) * 12 + end.month - start.month + 1
        return kpis.add_months(start, -n), kpis.month_range(kpis.add_months(start, -1))[1]
    days = (end - start).days + 1
    return start - timedelta(days=days), start - timedelta(days=1)


def year_earlier(start: date, end: date) -> tuple[date, date]:
    """The same period one year earlier (29 February falls back to the 28th)."""

    def back(d: date) -> date:
        try:
            return d.replace(year=d.year - 1)
        except ValueError:
            return d.replace(year=d.year - 1, day=28)

    if start.day == 1 and end == kpis.month_range(end)[1]:
        return kpis.add_months(start, -12), kpis.month_range(kpis.add_months(end.replace(day=1), -12))[1]
    return back(start), back(end)


def scorecard(
    con, start: date, end: date, as_of: date, filters: Filters = Filters(), lag: int = 1,
    source: str = "consensus", n_trend: int = 13, level: str = "sku",
) -> pd.DataFrame:
    """grain: one row per KPI, for the period [start, end] (a calendar month on the scorecard by default).

    Columns: kpi, label and definition (as this data supports them: :func:`kpis.effective_spec`; forecast KPIs
    name their ``level``), note (what moved when forecast accuracy floors at 0), unit, value, numerator, denominator, reason, target, tolerance, light,
    prev_value (the period just before, same length), last_year (the same period a year earlier),
    delta_prev, delta_year, trend (list of (month, value) for the n_trend months ending with end's month).
    Each comparison is computed from its own population, never derived from the others.
    """
    avail = kpis.data_availability(con)

    def values(a: date, b: date) -> pd.DataFrame:
        q = kpis.Query(a, b, as_of, filters, lag, source, level)
        return kpis.kpi_values(con, q, availability=avail).set_index("kpi")

    current = values(start, end)
    prev = values(*previous_period(start, end))["value"]
    last_year = values(*year_earlier(start, end))["value"]
    trend = kpis.kpi_trend(con, end.replace(day=1), kpis.Query(start, end, as_of, filters, lag, source, level),
                           n_months=n_trend, availability=avail)
    tgt = kpis.targets(con)
    specs = kpis.effective_specs(con)  # labels and definitions as this data supports them
    rows = []
    for k, spec in specs.items():
        cur = current.loc[k]
        t = trend[trend["kpi"] == k]
        series = sorted(
            (pd.Timestamp(m).date(), v) for m, v in zip(t["month"], t["value"]) if m is not None and pd.notna(m)
        )
        value = cur["value"]
        target, tol = tgt[k]
        label = spec.label + (f" ({kpis.forecast_level_label(level)})" if k in kpis.FORECAST_KPIS else "")
        rows.append({
            "kpi": k, "label": label, "definition": spec.definition, "unit": spec.unit,
            "note": kpis.floored_note(k, value, cur["numerator"], cur["denominator"]),
            "value": value, "numerator": cur["numerator"], "denominator": cur["denominator"],
            "reason": cur["reason"], "target": target, "tolerance": tol,
            "light": kpis.traffic_light(spec, value, target, tol),
            "prev_value": prev.get(k), "last_year": last_year.get(k),
            "delta_prev": _delta(value, prev.get(k)), "delta_year": _delta(value, last_year.get(k)),
            "trend": series,
        })
    return pd.DataFrame(rows)


LIGHT_WORDS = {"green": "● On target", "amber": "▲ Watch", "red": "■ Off target", "none": "○ No data",
               "unset": "○ No target"}


def scorecard_table(card: pd.DataFrame) -> pd.DataFrame:
    """The scorecard as people read it, one row per KPI: each value formatted in its KPI's own unit (as on the
    tiles), so one column can hold a % next to days. Columns: label, value, target, light, prev_value,
    delta_prev, last_year, delta_year, reason (text)."""
    rows = []
    for r in card.to_dict("records"):
        spec = kpis.SPECS[r["kpi"]]
        rows.append({
            "label": spec.label, "value": kpis.format_value(spec, r["value"]),
            "target": kpis.format_value(spec, r["target"]), "light": LIGHT_WORDS.get(r["light"], r["light"]),
            "prev_value": kpis.format_value(spec, r["prev_value"]), "delta_prev": format_delta(spec, r["delta_prev"]),
            "last_year": kpis.format_value(spec, r["last_year"]), "delta_year": format_delta(spec, r["delta_year"]),
            "reason": r["reason"] if isinstance(r["reason"], str) else None,
        })
    return pd.DataFrame(rows)


def _delta(a, b):
    if a is None or b is None or pd.isna(a) or pd.isna(b):
        return None
    return float(a) - float(b)


def format_delta(spec: kpis.KpiSpec, delta: float | None) -> str | None:
    if delta is None or pd.isna(delta):
        return None
    # No sign on a change that rounds to zero: '+0' reads as a gain (and st.metric would draw an up arrow).
    if spec.unit == kpis.RATE:
        r = round(delta * 100, 1) + 0.0  # + 0.0 turns -0.0 into 0.0
        return f"{r:+.1f} pts" if r else "0.0 pts"
    if spec.unit == kpis.POINTS:
        r = round(delta) + 0
        return f"{r:+d}" if r else "0"
    r = round(delta, 1) + 0.0
    return f"{r:+.1f}" if r else "0.0"


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
        + (f"- **When the data has no {spec.substitute[0].split('.')[1]}** (the import filled it from "
           f"{spec.substitute[1]}): shown as *{spec.substitute[2]}*. {spec.substitute[3]}\n"
           if spec.substitute and spec.definition == kpis.SPECS[spec.id].definition else "")
    )


def definitions_markdown() -> str:
    """Every KPI definition, for the README (a test keeps the README equal to this)."""
    return "\n".join(definition_markdown(s) for s in kpis.SPECS.values())
