"""The server-drawn SVG chart: safe under the CSP, escaped, readable without sight."""

from __future__ import annotations

import datetime
import re

from programs.charts import Series, line_chart

DAY = datetime.date(2026, 10, 1)


def chart(*series: Series) -> str:
    return str(
        line_chart(
            series,
            chart_id="c1",
            title="Scores",
            description="PHQ-9 falls",
            y_max=27,
            y_step=5,
        )
    )


def test_a_chart_is_an_svg_image_with_a_title_and_no_styles_or_scripts() -> None:
    svg = chart(
        Series("PHQ-9", [(DAY, 18), (DAY + datetime.timedelta(days=14), 9)], "#123"),
        Series("GAD-7", [(DAY, 12)], "#456", dashes="6 4"),
    )
    assert svg.startswith('<svg class="chart"') and svg.endswith("</svg>")
    assert 'role="img" aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Scores</title>' in svg
    assert "style" not in svg and "<script" not in svg
    assert not re.search(r" on\w+=", svg)  # no event handlers
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 3
    assert 'stroke-dasharray="6 4"' in svg
    assert "2026-10-01" in svg and "2026-10-15" in svg
    # x from the left margin (32) to 520 - 16; y from 176 (0, above the bottom
    # margin) to 10 (27, below the top margin): 18 -> 65.3, 9 -> 120.7.
    assert 'points="32,65.3 504,120.7"' in svg


def test_labels_are_escaped() -> None:
    svg = chart(Series("<b>x</b>", [(DAY, 3)], "#123"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg


def test_one_date_is_drawn_in_the_middle_and_no_data_draws_nothing() -> None:
    svg = chart(Series("PHQ-9", [(DAY, 10)], "#123"))
    assert 'cx="268"' in svg
    assert chart(Series("PHQ-9", [], "#123")) == ""
