"""Summit mode: the monthly S&OP meeting on a shared screen.

    store       start_summit (freeze the agenda's content in one db.writer transaction), load_summit -> Summit,
                list_summits, AGENDA (the steps and the frozen frames each shows)
    content     what each agenda step shows (scorecard, biggest misses, demand and supply review, gaps,
                scenarios) and the summit's plan
    ranking     exceptions(con, month, as_of, plan) ranked by money impact, each with its impact_basis
    team        promise_gap_trend, promise_kept_rate: sales and production, one team
    decisions   add_decision, update_action, open_actions, actions, record_pulse, pulse_trend
    figures     frames -> plotly figures
    pack        export_html (one offline HTML file), export_excel, pack_filename
    codec       frames <-> JSON, exactly (how frozen frames are stored)

Typical use::

    summit_id = start_summit(path, date(2026, 10, 1), "October S&OP", "Anna")
    con = db.open_reader(path)
    s = load_summit(con, summit_id)          # the numbers as frozen, whatever was imported since
    s.scorecard, s.misses, s.exceptions      # one frame per agenda step (see AGENDA)
    add_decision(path, summit_id, "Add a Saturday shift in WC-METAL", "Piotr", date(2026, 11, 15),
                 kind="action", source_exception="overload:WC-METAL")
    Path(pack_filename(s, "html")).write_text(export_html(con, summit_id), encoding="utf-8")

Nothing here imports streamlit.
"""

from __future__ import annotations

from analytics.summit.decisions import (
    KINDS,
    SIDES,
    STATUSES,
    actions,
    add_decision,
    open_actions,
    pulse_trend,
    record_pulse,
    update_action,
)
from analytics.summit.pack import export_excel, export_html, pack_filename
from analytics.summit.ranking import exceptions
from analytics.summit.store import AGENDA, FRAME_NAMES, AgendaStep, Summit, list_summits, load_summit, start_summit
from analytics.summit.team import promise_gap_trend, promise_kept_rate

__all__ = [
    "AGENDA", "FRAME_NAMES", "KINDS", "SIDES", "STATUSES", "AgendaStep", "Summit", "actions", "add_decision",
    "exceptions", "export_excel", "export_html", "list_summits", "load_summit", "open_actions", "pack_filename",
    "promise_gap_trend", "promise_kept_rate", "pulse_trend", "record_pulse", "start_summit", "update_action",
]
