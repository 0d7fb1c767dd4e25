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
    assert at.dataframe[0].proto.placeholder == "–"  # a missing number reads '–' as in the packs, not 'None'


def test_the_check_catches_a_raw_table():
    at = AppTest.from_function(_raw_app).run()
    problems = table_problems(at)
    assert any("money_impact" in p for p in problems)
    assert any("has no format" in p for p in problems)
    assert any("all None" in p for p in problems)


def _tile_app():
    from ui.tiles import kpi_tile

    trend = [("2026-08-01", 0.5), ("2026-09-01", 0.5)]
    kpi_tile({"kpi": "otif_to_promise", "value": 0.5, "target": 0.0, "light": "unset", "delta_prev": 0.0,
              "delta_year": None, "reason": None, "trend": trend})
    kpi_tile({"kpi": "nps", "value": 0.0, "target": 30.0, "light": "red", "delta_prev": 0.0,
              "delta_year": None, "reason": None, "trend": [("2026-08-01", 0.0), ("2026-09-01", 0.0)]})


def test_tiles_zero_change_and_zero_target():
    at = AppTest.from_function(_tile_app).run()
    assert not at.exception
    otif, nps = at.metric
    assert nps.value == "0" and nps.proto.delta == "0 vs last month"
    assert nps.proto.direction == nps.proto.MetricDirection.NONE  # no up arrow for no change
    assert otif.proto.delta == "0.0 pts vs last month"
    badges = [m.value for m in at.markdown]
    assert any("No target" in b for b in badges) and not any("On target" in b for b in badges)
