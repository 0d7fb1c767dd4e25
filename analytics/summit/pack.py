"""The summit pack: one self-contained HTML file for the shared screen (and for the minutes), and an Excel file.

HTML: large type, one section per agenda step with its tables and charts, the as-of date and the versions
used in the header, the decisions and actions at the end. Every text from the data or typed by a person is
escaped with ``html.escape``; plotly figures are inline, the first one carrying the full plotly.js (no CDN,
no ``<script src=...>``: the file works offline), the rest ``include_plotlyjs=False``. plotly.js names
``https://cdn.plot.ly/un/`` as the default place to fetch map outlines (geo charts only, which the pack never
draws); the pack changes that default to a relative path so nothing in the file points at a CDN.

Excel: ``exports.to_excel_bytes`` (formula-looking text neutralised): a cover sheet (title, month, as-of,
facilitator, versions, notes), one sheet per frozen frame, the decisions and actions, the pulse.

The frozen frames are what the meeting saw; decisions, actions and the pulse are read live at export time.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from datetime import UTC, datetime

import pandas as pd
import plotly.graph_objects as go

from analytics import charts, exports, kpis
from analytics import presentation as pr
from analytics.planning import COVER, with_cover_text
from analytics.scorecard import format_delta
from analytics.summit import content, figures
from analytics.summit.decisions import actions, pulse_trend
from analytics.summit.store import AGENDA, FRAME_NAMES, Summit, load_summit, plan_label

CDN_DEFAULT = 'dflt:"https://cdn.plot.ly/un/"'
OFFLINE_DEFAULT = 'dflt:"topojson/"'
MAX_ROWS = 30
FIGURE_KINDS = {"fill_rate": "pct", "capacity_utilisation": "pct", "units_short": "units", "production_units": "units",
                "overtime_hours": "num"}

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 20px; line-height: 1.45;
       margin: 0 auto; max-width: 1500px; padding: 24px 40px; color: #111; }
h1 { font-size: 42px; margin: 0 0 8px; } h2 { font-size: 32px; margin-top: 48px; border-bottom: 3px solid #0072B2; }
h3 { font-size: 25px; margin-top: 28px; } .meta { font-size: 22px; color: #333; } .purpose { color: #444; }
table { border-collapse: collapse; margin: 12px 0 20px; font-size: 18px; }
th, td { border-bottom: 1px solid #ccc; padding: 6px 12px; text-align: left; vertical-align: top; }
th { background: #f0f4f8; } td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.light-red { color: #D55E00; font-weight: 700; } .light-amber { color: #9a6a00; font-weight: 700; }
.light-green { color: #007a5a; font-weight: 700; } .light-none, .light-unset { color: #666; }
.note { background: #fff8e1; padding: 8px 14px; border-left: 5px solid #E69F00; }
.empty { color: #666; font-style: italic; } .chart { margin: 12px 0 24px; }
nav ul.agenda { columns: 2; font-size: 19px; list-style: none; padding-left: 0; } footer { margin-top: 60px; font-size: 16px; color: #555; }
@media print { section { page-break-before: always; } body { max-width: none; } }
"""


def pack_filename(summit: Summit, ext: str) -> str:
    """The pack's file name after the summit month, e.g. 'sop-summit-2026-10.html'."""
    ext = str(ext).lstrip(".").lower()
    if not ext.isalnum():
        raise ValueError(f"Not a file extension: {ext!r}")
    return f"sop-summit-{summit.month:%Y-%m}.{ext}"


# ---------------------------------------------------------------------------- formatting


def _missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)


# The pack's short kind names, as kinds of the presentation layer (the one set of formats).
KIND = {"pct": pr.PERCENT, "pts": pr.PTS, "money": pr.MONEY, "units": pr.UNITS, "num": pr.DECIMAL, "int": pr.COUNT,
        "month": pr.MONTH, "date": pr.DATE, "bool": pr.BOOL, "text": pr.TEXT}


def fmt(v, kind: str = "text") -> str:
    """A value as shown in the pack (``presentation.format_value``; pack kinds pct, pts, money, units, num, int,
    month, date, bool, text or any presentation kind); '–' if missing."""
    return pr.format_value(v, KIND.get(kind, kind))


def _e(v) -> str:
    return html.escape(str(v), quote=True)


NUMERIC = {"pct", "pts", "money", "units", "num", "int"} | pr.NUMERIC_KINDS
Col = tuple[str, str, str]  # (column, header, format kind)


def columns_of(df: pd.DataFrame, names: list[str], overrides: dict | None = None) -> list[Col]:
    """(column, header, kind) of ``names`` from the presentation layer (``overrides`` as in ``presentation.resolve``)."""
    present = [n for n in names if n in df.columns]
    specs = pr.resolve(df[present], overrides)
    return [(n, specs[n].header, specs[n].kind) for n in present]


def table_html(df: pd.DataFrame, cols: list[Col] | list[str], limit: int | None = MAX_ROWS,
               empty: str = "Nothing to show.", cell: Callable[[dict, str, str], tuple[str, str]] | None = None,
               overrides: dict | None = None) -> str:
    """An escaped HTML table of ``cols`` (machine names, labelled and formatted by the presentation layer, or
    (column, header, kind) triples); at most ``limit`` rows (the Excel pack has them all)."""
    if df is None or df.empty:
        return f'<p class="empty">{_e(empty)}</p>'
    if cols and isinstance(cols[0], str):
        cols = columns_of(df, cols, overrides)
    cols = [c for c in cols if c[0] in df.columns]
    head = "".join(f"<th>{_e(h)}</th>" for _, h, _ in cols)
    body = []
    shown = df if limit is None else df.head(limit)
    for rec in shown.to_dict("records"):
        tds = []
        for col, _, kind in cols:
            text, cls = cell(rec, col, kind) if cell else (fmt(rec[col], kind), "")
            cls = cls or ("n" if kind in NUMERIC else "")
            tds.append(f'<td class="{cls}">{_e(text)}</td>' if cls else f"<td>{_e(text)}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    more = "" if limit is None or len(df) <= limit else (
        f'<p class="empty">{len(df) - limit:,} more rows in the Excel pack.</p>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def pivot_html(df: pd.DataFrame, index: str, columns: str, values: str, kind: str, index_header: str,
               empty: str = "Nothing to show.") -> str:
    """A family x month style pivot as an escaped HTML table (month column headers)."""
    if df is None or df.empty:
        return f'<p class="empty">{_e(empty)}</p>'
    p = df.pivot_table(index=index, columns=columns, values=values, aggfunc="sum", dropna=False)
    p = p.sort_index().sort_index(axis=1)
    head = f"<th>{_e(index_header)}</th>" + "".join(f"<th>{_e(fmt(c, 'month'))}</th>" for c in p.columns)
    rows = "".join("<tr><td>" + _e(i) + "</td>" + "".join(f'<td class="n">{_e(fmt(v, kind))}</td>' for v in r) + "</tr>"
                   for i, r in zip(p.index, p.to_numpy().tolist()))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


# ---------------------------------------------------------------------------- sections

# The columns each agenda table shows, shared by the summit screen (ui.summit) and this pack; labels, units and
# formats come from analytics.presentation.
ACTION_COLUMNS = ["action_id", "text", "owner", "due", "status", "overdue", "summit_month"]
ACTION_LABELS = {"text": "Action", "status": "Status at the start"}
CONSENSUS_COLUMNS = ["family", "period", "previous_consensus", "consensus", "change", "change_pct", "override_cells",
                     "reasons"]
CONSENSUS_LABELS = {"consensus": "Consensus now", "change_pct": "Change %"}
SHORTAGE_COLUMNS = ["sku", "family", "period", "kind", "units_short", "value_short"]
INVENTORY_COLUMNS = ["family", "period", "projected_inventory", "safety_stock", "days_of_supply"]


def inventory_below_safety_stock(s: Summit) -> pd.DataFrame:
    """The families x months projected below their safety stock, cover as text ('no demand' where there is
    none, ``planning.with_cover_text``): the table of the screen and the HTML pack (show with ``COVER``)."""
    inv = s.inventory_vs_safety_stock
    below = inv[inv["below_safety_stock"].astype(bool)] if len(inv) else inv
    return with_cover_text(below)
SCENARIO_COLUMNS = ["name", "recommended", "strategy", "revenue", "fill_rate", "total_cost"]
EXCEPTION_COLUMNS = ["rank", "kind", "subject", "detail", "money_impact"]
DECISION_COLUMNS = ["kind", "text", "owner", "due", "status"]


class _Figures:
    """Figures to inline: the first carries plotly.js, the rest do not."""

    def __init__(self) -> None:
        self.count = 0

    def html(self, fig: go.Figure | None) -> str:
        if fig is None:
            return ""
        first = self.count == 0
        self.count += 1
        out = fig.to_html(full_html=False, include_plotlyjs=first, include_mathjax=False,
                          config={"displaylogo": False, "responsive": True})
        if first:
            out = out.replace(CDN_DEFAULT, OFFLINE_DEFAULT).replace("cdn.plot.ly", "cdn.plot\\x2ely")
        return f'<div class="chart">{out}</div>'


def _scorecard_cell(rec: dict, col: str, kind: str) -> tuple[str, str]:
    spec = kpis.SPECS[rec["kpi"]]
    if col == "light":
        return charts.LIGHT_SYMBOLS.get(rec["light"], rec["light"]), f"light-{rec['light']}"
    if col in ("value", "target", "prev_value", "last_year"):
        return kpis.format_value(spec, rec[col]), "n"
    if col in ("delta_prev", "delta_year"):
        return format_delta(spec, rec[col]) or "–", "n"
    return fmt(rec[col], kind), ""


def comparison_frame(s: Summit) -> pd.DataFrame:
    """The scenarios side by side as people read them (``presentation.comparison_text``), the recommended one
    marked ★."""
    recommended = set(s.scenarios.loc[s.scenarios["recommended"].astype(bool), "name"]) if len(s.scenarios) else set()
    return pr.comparison_text(s.scenario_comparison, recommended)


def _comparison_html(s: Summit) -> str:
    frame = comparison_frame(s)
    if frame.empty:
        return ""
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    rows = "".join("<tr><td>" + _e(r[0]) + "</td>" + "".join(f'<td class="n">{_e(v)}</td>' for v in r[1:]) + "</tr>"
                   for r in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _sections(s: Summit, figs: _Figures) -> dict[str, str]:
    """HTML body of each agenda step, by step key."""
    out: dict[str, str] = {}
    out["actions"] = table_html(
        s.carried_actions, ACTION_COLUMNS, limit=None, overrides=ACTION_LABELS,
        empty="No open actions from earlier summits.")
    tiles = s.scorecard[s.scorecard["tile"].astype(bool)] if len(s.scorecard) else s.scorecard
    out["scorecard"] = table_html(
        tiles, [("light", "Light", "text"), ("label", "KPI", "text"), ("value", "Month", "text"),
                ("target", "Target", "text"), ("prev_value", "Month before", "text"),
                ("delta_prev", "Change", "text"), ("last_year", "Last year", "text"),
                ("delta_year", "vs last year", "text"), ("reason", "Note", "text")],
        limit=None, cell=_scorecard_cell, empty="No KPI could be computed for the month.")
    parts = []
    for rec in s.misses.to_dict("records"):
        parts.append(f"<h3>{_e(rec['rank'])}. {_e(rec['label'])}</h3><p>{_e(rec['explanation'])}</p>")
        parts.append(figs.html(figures.scorecard_trend_figure(s.scorecard_trend, s.scorecard, rec["kpi"])))
        parts.append(figs.html(figures.miss_breakdown_figure(s.miss_breakdowns, s.scorecard, rec["kpi"])))
    out["misses"] = "".join(parts) or '<p class="empty">Every KPI is on target.</p>'
    verdicts = "".join(f"<li>{_e(v)}</li>" for v in s.fva_verdicts.get("verdict", pd.Series(dtype=object)))
    out["demand"] = (
        figs.html(figures.demand_actuals_figure(s.demand_actuals))
        + "<h3>Forecast accuracy by family and month (lag 1, consensus)</h3>"
        + pivot_html(s.demand_actuals, "family", "month", "accuracy", "pct", "Family", "No forecast to score.")
        + "<h3>Bias by family</h3>" + figs.html(figures.bias_figure(s.bias_by_family))
        + table_html(s.bias_by_family, ["family", "actual", "forecast", "bias", "accuracy", "direction"])
        + "<h3>How the consensus changed, and why</h3>" + figs.html(figures.consensus_change_figure(s.consensus_changes))
        + table_html(s.consensus_changes, CONSENSUS_COLUMNS, limit=None, overrides=CONSENSUS_LABELS,
                     empty="No consensus forecast for the next months.")
        + "<h3>Forecast value added</h3>" + figs.html(figures.fva_figure(s.fva))
        + (f"<ul>{verdicts}</ul>" if verdicts else '<p class="empty">No forecast value added to report.</p>'))
    overloaded = s.capacity_load[s.capacity_load["overloaded"].astype(bool)] if "overloaded" in s.capacity_load else None
    below = inventory_below_safety_stock(s)
    plan = s.versions.get("plan") or {}
    story = content.overload_story(s.unconstrained_load, plan.get("strategy"))
    out["supply"] = (
        f"<p><b>{_e(content.plan_statement(plan))}</b></p>" + "".join(f"<p>{_e(t)}</p>" for t in story)
        + figs.html(figures.capacity_figure(s.capacity_load)) + "<h3>Overloaded work-center months</h3>"
        + table_html(overloaded, ["work_center", "period", "load_hours", "available_hours", "utilisation",
                                  "top_contributors"], empty="No work center is overloaded in the next months.")
        + "<h3>Projected inventory against safety stock</h3>"
        + figs.html(figures.inventory_figure(s.inventory_vs_safety_stock))
        + table_html(below, INVENTORY_COLUMNS, overrides={"days_of_supply": COVER},
                     empty="Every family stays at or above its safety stock.")
        + "<h3>Shortages</h3>"
        + table_html(s.shortages, SHORTAGE_COLUMNS + ["projected_inventory", "safety_stock"],
                     empty="No SKU is projected below 0 or below its safety stock."))
    out["gaps"] = (
        "<h3>Demand against supply</h3>" + figs.html(figures.gap_figure(s.demand_supply_gap))
        + pivot_html(s.demand_supply_gap, "family", "period", "gap_units", "units", "Supply - demand (units)",
                     "No plan.")
        + pivot_html(s.demand_supply_gap, "family", "period", "gap_value", "money", "Supply - demand (money)",
                     "No plan.")
        + "<h3>Revenue against budget</h3>" + figs.html(figures.budget_figure(s.revenue_vs_budget))
        + pivot_html(s.revenue_vs_budget, "family", "month", "gap_revenue", "money", "Revenue - budget",
                     "No budget rows."))
    stale = [b for b in s.scenarios.get("basis", pd.Series(dtype=object)).dropna()
             if b != content.CURRENT_BASIS]
    out["scenarios"] = "".join(f"<p>{_e(b)}</p>" for b in stale) + (
        table_html(s.scenarios, ["position"] + SCENARIO_COLUMNS + ["author", "notes"], overrides={"name": "Scenario"},
                   empty="No scenario is saved.")
        + _comparison_html(s))
    out["exceptions"] = figs.html(figures.exceptions_figure(s.exceptions)) + table_html(
        s.exceptions, EXCEPTION_COLUMNS + ["impact_basis"], empty="No exceptions.")
    out["team"] = (
        figs.html(figures.promise_figure(s.promise_gap_trend, s.promise_kept_rate))
        + "<h3>Mean promise gap (days)</h3>"
        + pivot_html(s.promise_gap_trend, "family", "month", "mean_gap_days", "num", "Family", "No promised lines.")
        + "<h3>Promises kept</h3>"
        + pivot_html(s.promise_kept_rate, "family", "month", "kept_rate", "pct", "Family", "No promised lines.")
        + "<h3>Requests from sales to production (made before the summit started)</h3>"
        + table_html(s.request_stats, ["requests", "open", "accepted", "proposed", "declined",
                                       "median_hours_to_answer"], empty="Not part of this summit's snapshot."))
    return out


def _header(s: Summit) -> str:
    v, plan = s.versions, s.versions.get("plan") or {}
    rows = [("Month under review", f"{s.month:%Y-%m}"), ("Data as of", str(s.as_of)),
            ("Facilitator", s.facilitator or "–"), ("Started", f"{pd.Timestamp(s.created_at):%Y-%m-%d %H:%M} UTC"),
            ("Statistical forecast snapshot", v.get("statistical_snapshot") or "none"),
            ("Consensus forecast snapshot", v.get("consensus_snapshot") or "none"),
            ("Forecast run", f"#{v['forecast_run_id']} ({v.get('forecast_run_snapshot')})"
             if v.get("forecast_run_id") is not None else "none"),
            ("Plan", plan_label(plan) + (f", {plan.get('strategy')}, from {plan.get('first_period')}"
                                         if plan.get("first_period") else "")),
            ("Data version", str(s.data_version))]
    figs = plan.get("key_figures") or {}
    rows += [(f"Plan: {k.replace('_', ' ')}", fmt(val, FIGURE_KINDS.get(k, "money"))) for k, val in figs.items()]
    table = "".join(f"<tr><th>{_e(a)}</th><td>{_e(b)}</td></tr>" for a, b in rows)
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in s.notes)
    return (f"<header><h1>{_e(s.title)}</h1><p class=\"meta\">S&amp;OP summit for {_e(f'{s.month:%B %Y}')} · "
            f"data as of {_e(s.as_of)}</p><table>{table}</table>{notes}</header>")


def export_html(con, summit_id: int) -> str:
    """The summit pack as ONE self-contained HTML document (rules: module docstring)."""
    s = load_summit(con, summit_id)
    figs = _Figures()
    sections = _sections(s, figs)
    # The step titles carry their number ("1. Actions ..."): a plain list, not an <ol> that numbers them again.
    nav = "".join(f'<li><a href="#{_e(step.key)}">{_e(step.title)}</a></li>' for step in AGENDA)
    body = [_header(s), f'<nav><h2>Agenda</h2><ul class="agenda">{nav}<li><a href="#decisions">10. Decisions and '
                        "actions</a></li></ul></nav>"]
    for step in AGENDA:
        body.append(f'<section id="{_e(step.key)}"><h2>{_e(step.title)}</h2><p class="purpose">{_e(step.purpose)}</p>'
                    f"{sections[step.key]}</section>")
    decided = actions(con, summit_id)
    pulse = pulse_trend(con)
    body.append(
        '<section id="decisions"><h2>10. Decisions and actions</h2>'
        + table_html(decided, DECISION_COLUMNS + ["source_detail", "last_note"], limit=None,
                     overrides={"text": "What"}, empty="No decisions or actions recorded yet.")
        + "<h3>Collaboration pulse</h3>" + figs.html(figures.pulse_figure(pulse))
        + table_html(pulse, ["month", "title", "side", "average_score", "responses"], limit=None,
                     overrides={"month": "Summit month", "title": "Summit"}, empty="No pulse answers yet.")
        + "</section>")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body.append(f"<footer>Summit #{_e(s.summit_id)}: agenda content frozen at the start of the summit (data as of "
                f"{_e(s.as_of)}); decisions, actions and the pulse as of this export ({_e(stamp)}).</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(s.label)}</title><style>{CSS}</style></head><body>" + "".join(body) + "</body></html>")


def export_excel(con, summit_id: int) -> bytes:
    """The summit pack as an .xlsx workbook: a cover sheet, one sheet per frozen frame, decisions and actions,
    the pulse (``exports.to_excel_bytes``: formula-looking text is neutralised)."""
    s = load_summit(con, summit_id)
    v, plan = s.versions, s.versions.get("plan") or {}
    cover = [("Title", s.title), ("Month", f"{s.month:%Y-%m}"), ("As of", str(s.as_of)),
             ("Facilitator", s.facilitator or ""), ("Started (UTC)", str(s.created_at)), ("Summit id", s.summit_id),
             ("Data version", s.data_version),
             ("Statistical forecast snapshot", v.get("statistical_snapshot") or "none"),
             ("Consensus forecast snapshot", v.get("consensus_snapshot") or "none"),
             ("Forecast run id", v.get("forecast_run_id") if v.get("forecast_run_id") is not None else "none"),
             ("Plan", plan_label(plan)), ("Plan strategy", plan.get("strategy") or ""),
             ("Plan first month", plan.get("first_period") or "")]
    cover += [(f"Plan {k.replace('_', ' ')}", val) for k, val in (plan.get("key_figures") or {}).items()]
    cover += [(f"Note {i}", n) for i, n in enumerate(s.notes, start=1)]
    sheets = {"Cover": pd.DataFrame(cover, columns=["field", "value"]).astype({"value": object})}
    for name in FRAME_NAMES:
        frame = s.frames()[name]
        if name == "inventory_vs_safety_stock":
            frame = with_cover_text(frame)  # 'no demand', not an empty cell, where a family has no demand
        sheets[SHEET_NAMES.get(name, pr.humanize(name))] = (
            frame if len(frame.columns) else pd.DataFrame({"note": ["nothing to show"]}))
    sheets["Decisions and actions"] = actions(con, summit_id)
    sheets["Collaboration pulse"] = pulse_trend(con)
    return exports.to_excel_bytes(sheets, human=True)  # human headers and number formats; the numbers stay numbers


SHEET_NAMES = {"fva": "Forecast value added", "fva_verdicts": "FVA verdicts", "inventory_vs_safety_stock":
               "Inventory vs safety stock", "demand_supply_gap": "Demand vs supply", "revenue_vs_budget":
               "Revenue vs budget"}
