"""Server-drawn SVG (pyrustpipe/console/charts.py): titles and descriptions for screen readers,
bands, marks, failures, text escaped, no values handled."""

from __future__ import annotations

from pyrustpipe.console.charts import series_chart, sparkline


def test_series_chart_parts() -> None:
    svg = series_chart(
        "Rows <per> day",
        ["2026-01-01", "2026-01-02", "2026-01-03"],
        [10, None, 30],
        low=[None, 5, 6],
        high=[None, 15, 16],
        marks=[2],
        bad=[2],
    )
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "Rows &lt;per&gt; day" in svg and "<per>" not in svg
    assert 'class="band"' in svg and 'class="mark"' in svg and 'class="bad"' in svg
    assert "3 points from 2026-01-01 to 2026-01-03; last 30" in svg


def test_empty_and_flat_series() -> None:
    assert "no values" in series_chart("x", [], [])
    assert "polyline" in series_chart("x", ["a", "b"], [1, 1], percent=True)
    assert 'aria-label="trend"' in sparkline([None, 1, 1], "trend")
