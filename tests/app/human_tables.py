"""Checks that every table a page draws reads like a report: human headers, every number column formatted."""

from __future__ import annotations

import json

import pandas as pd
from streamlit.testing.v1 import AppTest

from analytics import presentation


def table_problems(at: AppTest) -> list[str]:
    """What is wrong with the tables on ``at``'s page: snake_case or machine headers, float columns shown
    without a number format (raw floats), cells that read 'None'."""
    problems = []
    for i, el in enumerate(at.dataframe):
        df = el.value
        cfg = json.loads(el.proto.columns or "{}")
        for col in df.columns:
            shown = cfg.get(str(col), {}).get("label") or col  # the header a person sees
            if isinstance(shown, str) and presentation.is_machine_name(shown):
                problems.append(f"dataframe {i}: machine header {shown!r}")
            if pd.api.types.is_float_dtype(df[col]) and not (cfg.get(str(col), {}).get("type_config") or {}).get(
                "format"
            ):
                problems.append(f"dataframe {i}: float column {col!r} has no format")
            if df[col].dtype == object and df[col].map(lambda v: v is None or v == "None").all() and len(df):
                problems.append(f"dataframe {i}: column {col!r} is all None")
    for i, el in enumerate(at.table):
        df = el.value
        for col in df.columns:
            if isinstance(col, str) and presentation.is_machine_name(col.replace("\\_", "_")):
                problems.append(f"table {i}: machine header {col!r}")
            if pd.api.types.is_float_dtype(df[col]):
                problems.append(f"table {i}: raw float column {col!r}")
    return problems


def assert_human_tables(at: AppTest, at_least: int = 0) -> None:
    shown = len(at.dataframe) + len(at.table)
    assert shown >= at_least, f"expected at least {at_least} tables, found {shown}"
    problems = table_problems(at)
    assert not problems, "\n".join(problems)
