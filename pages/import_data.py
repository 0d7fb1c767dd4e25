"""Import data: upload files, build the mapping file (TOML) in the editor, save it, validate, then import in one
transaction. The same mapping file works on the command line: python -m analytics import FOLDER --mapping m.toml"""

import streamlit as st

from analytics import db, ingest
from analytics.schema import contract_markdown
from ui import auth, common, importer
from ui.tables import show_table

common.entry_guard()
st.title("Import data")
st.write("Upload your export files (CSV, Excel or Parquet), then say in the mapping which file and column feeds "
         "each table of the data contract. Only the orders are required; nothing is written until every file "
         "passes validation, and then everything lands together in one transaction.")
with st.expander("The data contract (columns, keys, what happens when a column is missing)"):
    st.markdown(contract_markdown())

try:
    exists = common.db_path().exists()
    sources = ingest.list_sources(common.con()) if exists else []
except db.DatabaseError as e:
    st.error(common.escape(e))
    exists, sources = False, []
c1, c2 = st.columns(2)
source = c1.selectbox("Source system (a saved mapping)", sources, index=None, accept_new_options=True,
                      key="im_source", placeholder="e.g. SAP export (type a new name)")
mode = c2.radio("Mode", ["replace", "upsert"], horizontal=True, key="im_mode", captions=[
    "the files become the data; tables without a file are emptied (the forecast history is kept)",
    "rows are added, or replace the stored row with the same key",
])
saved_text = ingest.saved_mapping_text(common.con(), source) if source and source in sources and exists else None

inbox = importer.inbox()
use_inbox = inbox is not None and st.toggle(f"Use the files in the server folder {common.escape(inbox)}",
                                            key="im_use_inbox")
uploads = None if use_inbox else st.file_uploader("Files", type=["csv", "xlsx", "parquet"],
                                                  accept_multiple_files=True, key="im_files")
files, read_errors = importer.folder_headers(inbox) if use_inbox else importer.headers(uploads)
for e in read_errors:
    st.error(common.escape(e))
for name, cols in files.items():
    st.caption(f"{common.escape(name)}: {len(cols)} columns: " + ", ".join(common.escape(c) for c in cols[:40]))

st.subheader("Mapping")
toml_upload = st.file_uploader("Or upload a mapping file", type=["toml"], key="im_toml_upload")
importer.editor_starters(files, saved_text, source or "", toml_upload)
text = st.text_area("Mapping file (TOML): `contract column = \"source column\"`, or `= SQL expression`, or "
                    "`sql = \"\"\"SELECT ...\"\"\"` for a whole table", key=importer.TOML_KEY, height=340)
mapping, error = importer.parse(text)
if error:
    st.error(common.escape(error))
elif mapping is not None:
    show_table(importer.mapping_frame(mapping), importer.MAPPING_LABELS)

d1, d2 = st.columns(2)
d1.download_button("Download the mapping file", text or "", file_name=importer.file_name(mapping),
                   mime="application/toml", key="im_download", disabled=mapping is None)
if not auth.can("mapping"):
    auth.explain_refusal("mapping")
elif d2.button("Save as source system", key="im_save", disabled=mapping is None or not (mapping and mapping.name)):
    ingest.save_mapping_file(common.db_path(), text, user=auth.user())
    st.success(f"Saved the mapping as source system {common.escape(mapping.name)} (before any import).")
    st.cache_data.clear()

if files and mapping is not None and not read_errors:
    folder = inbox if use_inbox else importer.upload_folder(uploads)
    validate_col, import_col = st.columns(2)
    if validate_col.button("Validate only", key="im_validate"):
        importer.show_report(ingest.preview_mapped(common.db_path(), folder, mapping, mode), imported=False)
    if not auth.can("import"):
        auth.explain_refusal("import")
    if import_col.button("Validate and import", type="primary", key="im_import", disabled=not auth.can("import")):
        bar = st.progress(0.0, text="Starting…")
        report = ingest.import_folder(common.db_path(), folder, mode=mode, mapping=mapping,
                                      progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m),
                                      user=auth.user())
        if report.ok:
            st.cache_data.clear()
            st.session_state[common.BACKFILL_OFFER] = True
        else:
            st.session_state["last_rejected_import"] = {"names": sorted(files), "report": report}
            common.downloads("import_problems", importer.problems_frame(report.problems), key="im_prob")
        importer.show_report(report, imported=True)
common.offer_backfill("im_backfill")
