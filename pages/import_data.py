"""Import data: upload files, map columns to the contract, validate, then import in one transaction."""

import streamlit as st

from analytics import db, ingest
from analytics.schema import contract_markdown
from ui import auth, common, importer
from ui.tables import show_table

common.entry_guard()
st.title("Import data")
st.write("Upload one file per table (CSV, Excel or Parquet). Nothing is written until every file passes "
         "validation; then all files land together in one transaction.")
with st.expander("The data contract (columns, keys, one example row per table)"):
    st.markdown(contract_markdown())

try:
    sources = ingest.list_sources(common.con()) if common.db_path().exists() else []
except db.DatabaseError as e:
    st.error(common.escape(e))
    sources = []
c1, c2 = st.columns(2)
source = c1.selectbox("Source system (its saved column mapping is applied)", sources, index=None,
                      accept_new_options=True, key="im_source", placeholder="e.g. SAP export (type a new name)")
mode = c2.radio("Mode", ["replace", "upsert"], horizontal=True, key="im_mode", captions=[
    "the files become the data; tables without a file are emptied (the forecast history is kept)",
    "rows are added, or replace the stored row with the same key",
])
saved = ingest.load_mappings(common.con(), source) if source and source in sources else {}

uploads = st.file_uploader("Files", type=["csv", "xlsx", "parquet"], accept_multiple_files=True, key="im_files")
frames, names, mappings, read_problems = {}, {}, {}, []
for upload in uploads or []:
    known = ingest.table_for_file(upload.name) is not None
    with st.expander(f"{common.escape(upload.name)}: column mapping", expanded=not known):
        try:
            df = importer.read_upload(upload)
        except ingest.ReadError as e:
            st.error(common.escape(e))
            read_problems.append(str(e))
            continue
        st.caption(f"{common.escape(upload.name)}: {len(df):,} rows, {len(df.columns)} columns")
        table, mapping = importer.mapping_editor(upload, df, saved)
        if table is None:
            continue
        if table in frames:
            st.error(f"Two files hold the table {table}: keep one.")
            read_problems.append(table)
            continue
        frames[table], names[table], mappings[table] = ingest.apply_mapping(df, mapping), upload.name, mapping

if frames and not read_problems:
    remember = st.checkbox("Remember these column mappings for this source system", value=bool(source),
                           disabled=not source, key="im_remember")
    validate_col, import_col = st.columns(2)
    if validate_col.button("Validate only", key="im_validate"):
        existing = db.open_reader(common.db_path()) if mode == "upsert" and common.db_path().exists() else None
        result = ingest.validate(frames, names, mode, existing)
        if result.ok:
            st.success("No problems found. " + " ".join(common.escape(n) for n in result.notes))
        else:
            st.error(f"{result.problem_count:,} problems: nothing would be imported.")
            show_table(importer.problems_frame(result.problems))
    if not auth.can("import"):
        auth.explain_refusal("import")
    if import_col.button("Validate and import", type="primary", key="im_import", disabled=not auth.can("import")):
        bar = st.progress(0.0, text="Starting…")
        report = ingest.import_frames(common.db_path(), frames, names, mode=mode, source=source or None,
                                      progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m),
                                      user=auth.user())
        if report.ok:
            if remember and source:
                for table, mapping in mappings.items():
                    ingest.save_mapping(common.db_path(), source, table, mapping, user=auth.user())
            st.success(f"Imported in {report.seconds:.1f} s: "
                       + ", ".join(f"{t} {n:,} rows" for t, n in report.rows.items()))
            st.cache_data.clear()
            st.session_state[common.BACKFILL_OFFER] = True
        else:
            st.session_state["last_rejected_import"] = {"names": sorted(names.values()), "report": report}
            st.error(f"Not imported: {report.problem_count:,} problems. The database was not changed.")
            show_table(importer.problems_frame(report.problems))
            common.downloads("import_problems", importer.problems_frame(report.problems), key="im_prob")
        for note in report.notes:
            st.info(common.escape(note))
common.offer_backfill("im_backfill")
