"""Warm-up of the forecast pool's fork server (``batch.make_executor``); importing this module does the work.

The pool's workers are forked from one server process (multiprocessing's ``forkserver``), which imports this
module first. It loads the pipeline and forecasts two small series (one smooth, one intermittent) with
``auto_forecast``, so that everything the models import lazily on their first fit (statsmodels, scipy.optimize,
scipy.signal: about 1 CPU s on top of the 0.8 s of pandas and scipy) is loaded once, in the server. A spawned
worker paid all of it itself: about 2 CPU s per worker and run, as much as 100 intermittent series cost to
forecast. Nothing here may stop the server: a failure only means the workers import what they need themselves.
"""

from __future__ import annotations

import contextlib
import os


def warm() -> None:
    """Forecast a smooth and an intermittent series once (results thrown away)."""
    import numpy as np

    import analytics.forecasting.batch  # noqa: F401 - what the workers unpickle their task from
    from analytics.forecasting.auto import auto_forecast

    t = np.arange(36)
    auto_forecast(100.0 + 20.0 * np.sin(2 * np.pi * t / 12) + t, 6)
    auto_forecast(np.where(t % 3 == 0, 2.0 + t % 5, 0.0), 6)


# The server runs at the workers' lower CPU priority ($SOP_FORECAST_NICE, see batch._lower_priority).
with contextlib.suppress(OSError, ValueError):
    os.nice(int(os.environ.get("SOP_FORECAST_NICE", "10")))
with contextlib.suppress(Exception):  # a warm-up must never stop the server
    warm()
