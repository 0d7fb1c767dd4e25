"""One way to read a date a caller hands in (date, datetime, pandas Timestamp, numpy datetime64, ISO text)."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd


def as_date(value, what: str | None = None, *, error: type[Exception] = ValueError, allow_none: bool = False):
    """The value as a ``date``; ``None`` (or blank text) stays None when ``allow_none``; anything else raises
    ``error`` with a message naming ``what``."""
    if allow_none and (value is None or (isinstance(value, str) and not value.strip())):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    name = f"{what} must be a date" if what else f"{value!r} is not a date"
    raise error(f"{name} (expected YYYY-MM-DD)" + (f", not {value!r}." if what else ""))
