"""Data audit: what is stored (row counts, date coverage), integrity checks and the import history."""

import streamlit as st

from analytics import db, ingest, presentation
from ui import common, importer
from ui.tables import show_table


@st.cache_data(ttl=3600, max_entries=8, show_spinner="Auditing the data…")
def audit(data_version: tuple, rejected_version: tuple) -> dict:
    return ingest.data_audit(common.con(), common.db_path())


filters = common.page_setup("Data audit")
if filters is not None:
    a = audit(common.version(), db.version_key(ingest.rejected_log_path(common.db_path())))
    written = presentation.format_value(a["updated_at"], presentation.DATETIME) if a["updated_at"] else "unknown"
    st.caption(f"Data version {a['data_version']} · last write {written} (UTC)")
    st.subheader("Row counts and date coverage")
    show_table(a["tables"], {"column": "Date column", "min": "First date", "max": "Last date"})
    common.downloads("data_coverage", a["tables"], key="au_tables")

    st.subheader("Integrity checks")
    checks = a["checks"].copy()
    bad = checks[~checks["ok"]]
    if bad.empty:
        st.success("All integrity checks that must be zero are zero.")
    else:
        st.error(f"{len(bad)} integrity checks failed: " + ", ".join(bad["check"]))
    checks["status"] = [("✔ ok" if ok else "✘ failed") if must else "ℹ info"
                        for ok, must in zip(checks["ok"], checks["expect_zero"])]
    show_table(checks, order=["status", "check", "count"])

    rejected = st.session_state.get("last_rejected_import")
    if rejected:
        st.subheader("Problems found in your last rejected import")
        st.caption("Files: " + ", ".join(common.escape(n) for n in rejected["names"]) + " · nothing was written")
        show_table(importer.problems_frame(rejected["report"].problems))

    st.subheader("Import history")
    history = a["imports"]
    if history.empty:
        st.info("No import recorded yet (the demo company is built directly).")
    else:
        for rec in history.to_dict("records"):
            what = (f"#{rec['import_id']}" if rec["status"] == "imported"
                    else f"✘ rejected, {rec['problem_count']:,} problems, nothing written")
            rows = f" · {rec['rows']:,} rows" if rec["status"] == "imported" else ""
            with st.expander(f"{what} · {rec['imported_at']:%Y-%m-%d %H:%M} · {rec['mode']}"
                             f" · {common.escape(rec['source'] or 'no source')}{rows}"):
                if rec["tables"]:
                    st.json(rec["tables"])
                for line in rec["notes"] + rec["problems"]:
                    st.write("- " + common.escape(line))
