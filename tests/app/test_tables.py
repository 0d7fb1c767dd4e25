"""ui.tables.show_table: human headers and a format on every number column, checked the way pages are."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.app.human_tables import table_problems


def _table_app():
    import pandas as pd

    from ui.tables import show_table

    show_table(
        pd.DataFrame(
            {
                "money_impact": [3056166.6],
                "fill_rate": [1.0],
                "mad": [22.1667],
                "reason": [None],
                "period": ["2026-10-01"],
                "odd_thing": [1.5],
            }
        )
    )


def _raw_app():
    import pandas as pd
    import streamlit as st

    st.dataframe(pd.DataFrame({"money_impact": [3056166.6], "reason": [None]}))


def test_show_table_passes_the_checks():
    at = AppTest.from_function(_table_app).run()
    assert not at.exception
    assert table_problems(at) == []
    df = at.dataframe[0].value
    assert list(df.columns) == ["Money impact", "Fill rate", "MAD (units)", "Month", "Odd thing"]


def test_the_check_catches_a_raw_table():
    at = AppTest.from_function(_raw_app).run()
    problems = table_problems(at)
    assert any("money_impact" in p for p in problems)
    assert any("has no format" in p for p in problems)
    assert any("all None" in p for p in problems)
