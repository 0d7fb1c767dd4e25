"""The import page's helpers: uploads kept per session, the mapping file's editor (draft, presets, saved source
systems, an uploaded .toml), and the import report shown in words."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from analytics import ingest
from analytics.ingest import presets
from ui.common import escape
from ui.tables import show_table

TOML_KEY = "im_toml"


def read_upload(upload) -> pd.DataFrame:
    """Read an uploaded file once per upload (kept in session state, keyed by the upload's id)."""
    cache = st.session_state.setdefault("_im_frames", {})
    if upload.file_id not in cache:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(upload.name).name
            path.write_bytes(upload.getbuffer())
            cache[upload.file_id] = ingest.read_table_file(path)
    return cache[upload.file_id]


def headers(uploads) -> tuple[dict[str, list[str]], list[str]]:
    """{file name: header} of the uploaded files, and the read errors (one line each)."""
    out, errors = {}, []
    for upload in uploads or []:
        try:
            out[Path(upload.name).name] = [str(c) for c in read_upload(upload).columns]
        except ingest.ReadError as e:
            errors.append(str(e))
    return out, errors


def inbox() -> Path | None:
    """The server folder an admin may import from instead of uploading (``SOP_IMPORT_DIR``): for exports larger
    than the upload limit, or dropped there by a scheduled ERP job."""
    d = os.environ.get("SOP_IMPORT_DIR")
    return Path(d) if d and Path(d).is_dir() else None


def folder_headers(folder: Path) -> tuple[dict[str, list[str]], list[str]]:
    """{file name: header} of the data files in a server folder (read once per file version)."""
    cache = st.session_state.setdefault("_im_inbox", {})
    out, errors = {}, []
    for f in sorted(folder.iterdir()):
        if not f.is_file() or f.name.startswith((".", "~$")) or f.suffix.lower() not in ingest.FILE_EXTENSIONS:
            continue
        key = (str(f), f.stat().st_mtime_ns, f.stat().st_size)
        if key not in cache:
            try:
                cache[key] = ingest.read_source(f).columns
            except ingest.ReadError as e:
                cache[key] = str(e)
        if isinstance(cache[key], str):
            errors.append(cache[key])
        else:
            out[f.name] = cache[key]
    return out, errors


def upload_folder(uploads) -> Path:
    """The uploaded files written to one folder for this session (rewritten when the uploads change)."""
    key = tuple(sorted((u.file_id, u.name) for u in uploads))
    held = st.session_state.get("_im_folder")
    if held is None or held[0] != key or not Path(held[1]).is_dir():
        folder = Path(tempfile.mkdtemp(prefix="sop-import-"))
        for u in uploads:
            (folder / Path(u.name).name).write_bytes(u.getbuffer())
        st.session_state["_im_folder"] = (key, str(folder))
    return Path(st.session_state["_im_folder"][1])


def _set_toml(text: str) -> None:
    st.session_state[TOML_KEY] = text


def editor_starters(files: dict[str, list[str]], saved_text: str | None, name: str, toml_upload) -> None:
    """Buttons that fill the editor: a draft from the files' headers, a preset their headers match, the saved
    source system, an uploaded mapping file. A draft fills an empty editor by itself (and follows new uploads
    until someone edits it)."""
    draft = ingest.draft_mapping(files, name or "my export").to_toml() if files else ""
    auto = st.session_state.get("_im_auto")
    if files and st.session_state.get(TOML_KEY, "") in ("", auto) and not saved_text:
        _set_toml(draft)
        st.session_state["_im_auto"] = draft
    if toml_upload is not None and st.session_state.get("_im_toml_file") != toml_upload.file_id:
        st.session_state["_im_toml_file"] = toml_upload.file_id
        _set_toml(toml_upload.getvalue().decode("utf-8-sig", errors="replace"))
    cols = st.columns(3)
    cols[0].button("Draft from the files", key="im_draft", disabled=not files, on_click=_set_toml, args=(draft,),
                   help="contract columns matched to the files' columns by name and synonyms")
    if saved_text:
        cols[1].button(f"Load saved: {escape(name)}", key="im_load_saved", on_click=_set_toml, args=(saved_text,))
    for i, (preset, assignment) in enumerate(presets.suggest_presets(files)):
        text = presets.apply_preset(preset.mapping(), assignment).to_toml()
        cols[2].button(f"Use preset: {preset.label}", key=f"im_preset_{i}", on_click=_set_toml, args=(text,),
                       help="these files' headers match it: " + ", ".join(assignment.values()))


def parse(text: str) -> tuple[ingest.MappingFile | None, str | None]:
    if not text.strip():
        return None, None
    try:
        return ingest.parse_mapping(text), None
    except ingest.MappingError as e:
        return None, str(e)


def mapping_frame(m: ingest.MappingFile) -> pd.DataFrame:
    """The mapping as a table a person reads: one row per contract column (machine names; see MAPPING_LABELS)."""
    rows = []
    for t in m.tables:
        if t.sql is not None:
            rows.append({"table": t.table, "contract_column": "(all)", "source": "SQL query"})
        for c, v in t.columns:
            rows.append({"table": t.table, "contract_column": c,
                         "source": f"{t.source}: {v}" if not v.lstrip().startswith("=") else f"expression {v}"})
    return pd.DataFrame(rows, columns=["table", "contract_column", "source"])


MAPPING_LABELS = {"table": "Table", "contract_column": "Contract column", "source": "From"}


def file_name(m: ingest.MappingFile | None) -> str:
    return (re.sub(r"[^0-9A-Za-z]+", "_", m.name).strip("_").lower() if m and m.name else "mapping") + ".toml"


def problems_frame(problems) -> pd.DataFrame:
    return pd.DataFrame(
        [{"file": p.file, "row": p.row, "column": p.column, "problem": p.problem} for p in problems],
        columns=["file", "row", "column", "problem"],
    )


def show_report(report: ingest.ImportReport, imported: bool) -> None:
    """The outcome in words: rows, problems (file, row, column), source columns not used, disagreeing keys, notes."""
    rows = ", ".join(f"{t} {n:,} rows" for t, n in report.rows.items())
    if report.ok:
        st.success((f"Imported in {report.seconds:.1f} s: " if imported else "No problems found; would import: ")
                   + rows)
    else:
        st.error(f"Not imported: {report.problem_count:,} problems. The database was not changed.")
        show_table(problems_frame(report.problems))
    for f, cols in report.unmapped.items():
        st.info(f"{escape(f)}: {len(cols)} source columns not used (no mapping entry names them): "
                + ", ".join(escape(c) for c in cols))
    for t, d in report.disagreements.items():
        if d:
            st.info(f"{t}: keys whose rows disagreed, per column (the most frequent value is kept): "
                    + ", ".join(f"{c} {n:,}" for c, n in d.items()))
    with st.expander(f"Notes ({len(report.notes)}): what was detected, derived or defaulted"):
        for note in report.notes:
            st.write("- " + escape(note))
