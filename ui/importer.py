"""Upload handling for the import page: uploaded files -> text frames, per-file mapping editor."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from analytics import ingest
from analytics.schema import CONTRACT
from ui.common import escape

IGNORE = "(ignore)"


def read_upload(upload) -> pd.DataFrame:
    """Read an uploaded file once per upload (kept in session state, keyed by the upload's id)."""
    cache = st.session_state.setdefault("_im_frames", {})
    if upload.file_id not in cache:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(upload.name).name
            path.write_bytes(upload.getbuffer())
            cache[upload.file_id] = ingest.read_table_file(path)
    return cache[upload.file_id]


def mapping_editor(upload, df: pd.DataFrame, saved: dict[str, dict]) -> tuple[str | None, dict[str, str | None]]:
    """Pick the contract table for a file and map its columns. Returns (table, mapping)."""
    guess = ingest.table_for_file(upload.name)
    tables = list(CONTRACT)
    table = st.selectbox(
        f"{escape(upload.name)} holds the table", tables, index=tables.index(guess) if guess else None,
        key=f"im_table_{upload.file_id}", placeholder="choose the contract table",
    )
    if table is None:
        return None, {}
    columns = [str(c) for c in df.columns]
    suggested = ingest.suggest_mapping(table, columns) | {
        k: v for k, v in saved.get(table, {}).items() if k in columns
    }
    targets = [IGNORE, *ingest.target_columns(table)]
    editor = pd.DataFrame({
        "file column": columns,
        "contract column": [suggested.get(c) or IGNORE for c in columns],
        "example": [str(df[c].dropna().iloc[0]) if df[c].notna().any() else "" for c in columns],
    })
    edited = st.data_editor(
        editor, hide_index=True, width="stretch", key=f"im_map_{upload.file_id}_{table}",
        disabled=["file column", "example"],
        column_config={"contract column": st.column_config.SelectboxColumn(options=targets, required=True)},
    )
    mapping = {r["file column"]: (None if r["contract column"] == IGNORE else r["contract column"])
               for r in edited.to_dict("records")}
    missing = [c.name for c in CONTRACT[table].columns if c.required and c.name not in mapping.values()]
    if missing:
        st.warning(f"{table}: no column mapped to {', '.join(missing)} (validation will report it unless it can be derived).")
    return table, mapping


def problems_frame(problems) -> pd.DataFrame:
    return pd.DataFrame(
        [{"file": p.file, "row": p.row, "column": p.column, "problem": p.problem} for p in problems],
        columns=["file", "row", "column", "problem"],
    )
