"""Every table a person sees on screen, through the one presentation layer (``analytics.presentation``).

``show_table(df)`` renames machine columns to their human headers and gives each a ``st.column_config`` from
its format kind: percentages as % with one decimal (as on the tiles), money in accounting style, units and
counts whole, days and hours with one decimal, dates as dates. The values stay numbers (sorting works);
only their look changes. Downloads (``ui.common.downloads``) keep the machine names.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from analytics import presentation as pr
from analytics.presentation import Column


def config(spec: Column):
    """The ``st.column_config`` of one Column (``label=None``: the frame's header, already human, is used)."""
    kind, help_ = spec.kind, spec.help
    number = st.column_config.NumberColumn
    if kind == pr.PERCENT:  # a fraction: 'percent' multiplies by 100; step 0.001 -> one decimal of the percentage
        return number(format="percent", step=10 ** -(spec.places + 2), help=help_)
    if kind == pr.PTS:
        return number(format="%+.1f pts", help=help_)  # values are multiplied by 100 in show_frame
    if kind == pr.MONEY:
        return number(format="accounting", step=10**-spec.places if spec.places else 1, help=help_)
    if kind in (pr.UNITS, pr.COUNT):
        return number(format="localized", step=1, help=help_)
    if kind == pr.SCORE:
        return number(format="%d", step=1, help=help_)
    if kind in (pr.DAYS, pr.HOURS, pr.DECIMAL):
        return number(format="localized", step=10**-spec.places if spec.places else 1, help=help_)
    if kind == pr.DATE:
        return st.column_config.DateColumn(format="YYYY-MM-DD", help=help_)
    if kind == pr.MONTH:
        return st.column_config.DateColumn(format="MMM YYYY", help=help_)
    if kind == pr.DATETIME:
        return st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm", help=help_)
    if kind == pr.BOOL:
        return st.column_config.CheckboxColumn(help=help_)
    return st.column_config.TextColumn(help=help_)


def show_frame(
    df: pd.DataFrame, columns: dict | None = None, order: list[str] | None = None, drop_empty: bool = True
) -> tuple[pd.DataFrame, dict]:
    """The frame and column_config that :func:`show_table` draws (for st.data_editor and tests)."""
    shown, specs = pr.human_frame(df, columns, order, drop_empty)
    for header, spec in specs.items():
        if spec.kind == pr.PTS:  # rounded as shown: the grid's accessible copy of a cell is its raw value
            shown[header] = (shown[header] * 100).round(1 if spec.decimals is None else spec.decimals)
    return shown, {h: config(s) for h, s in specs.items()}


def show_table(
    df: pd.DataFrame,
    columns: dict | None = None,
    order: list[str] | None = None,
    *,
    drop_empty: bool = True,
    height: int | str = "auto",
    key: str | None = None,
    empty: str = "Nothing to show.",
    **kwargs,
):
    """``st.dataframe`` of ``df`` with human headers and formats (see the module docstring).

    ``columns``: overrides by machine name (a Column, a kind such as ``"percent"`` or a label); ``order``: the
    columns to show, in order; ``drop_empty``: leave out columns with no value at all (a column of None says
    nothing); ``empty``: what an empty table says, in the page's words. Other keyword arguments go to
    st.dataframe (e.g. ``on_select``)."""
    if df is None or df.empty:
        st.info(empty)
        return None
    shown, cfg = show_frame(df, columns, order, drop_empty)
    kwargs.setdefault("placeholder", pr.MISSING)  # a missing value reads '–', as in the packs, not 'None'
    return st.dataframe(shown, column_config=cfg, hide_index=True, width="stretch", height=height, key=key, **kwargs)


@dataclass(frozen=True)
class Prepared:
    """A table ready to draw: the human frame as an Arrow table (``ui.common.arrow_table``) and its config."""

    data: object
    config: dict

    def __len__(self) -> int:
        return len(self.data)


def prepare(df: pd.DataFrame, columns: dict | None = None, order: list[str] | None = None,
            drop_empty: bool = True) -> Prepared:
    """What :func:`show_prepared` draws, built once (e.g. inside a cached view, so the pandas -> Arrow
    conversion is paid once)."""
    from ui.common import arrow_table

    shown, cfg = show_frame(df, columns, order, drop_empty)
    return Prepared(arrow_table(shown), cfg)


def show_prepared(prepared: Prepared, **kwargs):
    """st.dataframe of a :func:`prepare` result."""
    if len(prepared) == 0:
        st.info("Nothing to show.")
        return None
    kwargs.setdefault("placeholder", pr.MISSING)
    return st.dataframe(prepared.data, column_config=prepared.config, hide_index=True, width="stretch", **kwargs)


def edit_table(df: pd.DataFrame, columns: dict | None = None, **kwargs) -> pd.DataFrame:
    """``st.data_editor`` with human headers and formats; returns the edited frame with machine names again."""
    shown, specs = pr.human_frame(df, columns)
    back = dict(zip(shown.columns, df.columns))
    cfg = {h: config(s) for h, s in specs.items()}
    for h, c in (kwargs.pop("column_config", None) or {}).items():  # caller's extras, by machine name
        cfg[pr.resolve(df[[h]], columns)[h].header] = c
    if isinstance(kwargs.get("disabled"), (list, tuple)):
        ahead = dict(zip(df.columns, shown.columns))
        kwargs["disabled"] = [ahead.get(c, c) for c in kwargs["disabled"]]
    kwargs.setdefault("placeholder", pr.MISSING)
    edited = st.data_editor(shown, column_config=cfg, hide_index=True, width="stretch", **kwargs)
    return edited.rename(columns=back)
