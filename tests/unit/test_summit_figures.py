"""Summit figures that must not hide what they show."""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics.summit import figures


def test_equal_pulse_scores_show_both_markers():
    # Summit #1: sales 6.0, production 6.0 (equal); summit #2: sales 7.0, production 5.0.
    pulse = pd.DataFrame({
        "summit_id": [1, 1, 2, 2], "month": [date(2026, 9, 1)] * 2 + [date(2026, 10, 1)] * 2,
        "title": ["Sep"] * 2 + ["Oct"] * 2, "side": ["production", "sales"] * 2,
        "average_score": [6.0, 6.0, 5.0, 7.0], "responses": [1, 2, 1, 3],
    })
    fig = figures.pulse_figure(pulse)
    assert [t.name for t in fig.data] == ["production", "sales"]
    # Both sides sit side by side within a summit (grouped), so equal scores are two visible markers, not one.
    assert fig.layout.scattermode == "group"
    assert len({t.offsetgroup for t in fig.data}) == 2 and None not in {t.offsetgroup for t in fig.data}
    assert {t.marker.symbol for t in fig.data} == {"circle", "square"}
    assert list(fig.data[0].y) == [6.0, 5.0] and list(fig.data[1].y) == [6.0, 7.0]
