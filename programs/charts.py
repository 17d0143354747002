"""Small line charts drawn on the server as inline SVG: no JavaScript and no style
attributes, so they render under the site's Content-Security-Policy (SVG presentation
attributes such as ``stroke`` are not styles). Reused by any page that charts values
over dates (the enrollment's outcome scores now, the manager's reports later).

Each chart is an image with a title and a description; pages put a table of the same
numbers beside it for anyone who cannot see it.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

LEFT, RIGHT, TOP, BOTTOM = 32, 16, 10, 44  # margins around the plot, in pixels


def num(value: float) -> str:
    """A coordinate or value as SVG text: one decimal at most, no trailing zero."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Series:
    """One line: a label, its points (date, value) and how it is drawn; ``dashes``
    tells lines apart without relying on colour."""

    label: str
    points: Sequence[tuple[datetime.date, float]]
    colour: str
    dashes: str = ""


def line_chart(
    series: Sequence[Series],
    *,
    chart_id: str,
    title: str,
    description: str,
    y_max: float,
    y_step: float,
    width: int = 520,
    height: int = 220,
) -> SafeString:
    """An SVG chart of each series over time, with axes, a y grid every ``y_step``
    from 0 to ``y_max``, the first and last dates, and a legend."""
    dates = [day for line in series for day, _ in line.points]
    if not dates:
        return SafeString("")
    first, last = min(dates), max(dates)
    span = max((last - first).days, 1)
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM

    def x(day: datetime.date) -> str:
        if first == last:
            return num(LEFT + plot_w / 2)
        return num(LEFT + (day - first).days / span * plot_w)

    def y(value: float) -> str:
        return num(TOP + plot_h - min(max(value, 0), y_max) / y_max * plot_h)

    ticks = [y_step * n for n in range(int(y_max // y_step) + 1)]
    grid = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="currentColor" '
        'stroke-opacity="0.15"/><text x="{}" y="{}" font-size="10" '
        'text-anchor="end" fill="currentColor">{}</text>',
        (
            (
                LEFT,
                y(tick),
                LEFT + plot_w,
                y(tick),
                LEFT - 4,
                num(float(y(tick)) + 3),
                num(tick),
            )
            for tick in ticks
        ),
    )
    axis_y = TOP + plot_h
    date_labels = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="10" text-anchor="{}" '
        'fill="currentColor">{}</text>',
        (
            (x(day), axis_y + 14, anchor, f"{day:%Y-%m-%d}")
            for day, anchor in (
                [(first, "middle")]
                if first == last
                else [(first, "start"), (last, "end")]
            )
        ),
    )
    lines = format_html_join(
        "",
        '<polyline points="{}" fill="none" stroke="{}" stroke-width="2" '
        'stroke-dasharray="{}"/>{}',
        (
            (
                " ".join(f"{x(day)},{y(value)}" for day, value in line.points),
                line.colour,
                line.dashes or "none",
                format_html_join(
                    "",
                    '<circle cx="{}" cy="{}" r="3" fill="{}">'
                    "<title>{}: {} on {}</title></circle>",
                    (
                        (x(day), y(value), line.colour, line.label, num(value), day)
                        for day, value in line.points
                    ),
                ),
            )
            for line in series
        ),
    )
    legend_y = axis_y + 32
    legend = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2" '
        'stroke-dasharray="{}"/><text x="{}" y="{}" font-size="11" '
        'fill="currentColor">{}</text>',
        (
            (
                LEFT + 110 * n,
                legend_y,
                LEFT + 110 * n + 20,
                legend_y,
                line.colour,
                line.dashes or "none",
                LEFT + 110 * n + 25,
                legend_y + 4,
                line.label,
            )
            for n, line in enumerate(series)
        ),
    )
    return frame(
        width,
        height,
        chart_id=chart_id,
        title=title,
        description=description,
        plot_w=plot_w,
        axis_y=axis_y,
        parts=(grid, date_labels, lines, legend),
    )


@dataclass(frozen=True)
class Bars:
    """One series of a bar chart: a value per category (None: no bar), and how it is
    drawn; ``pattern`` is an SVG stroke-dasharray for the bar outline, so series
    differ by more than colour."""

    label: str
    values: Sequence[float | None]
    colour: str
    pattern: str = ""


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Bars],
    *,
    chart_id: str,
    title: str,
    description: str,
    y_max: float,
    y_step: float,
    width: int = 520,
    height: int = 220,
) -> SafeString:
    """An SVG chart of grouped bars, one group per category (e.g. a month), with a y
    grid every ``y_step`` from 0 to ``y_max``, the category labels and a legend. A
    missing value draws no bar; its tooltip says the value is not shown."""
    if not categories or not series:
        return SafeString("")
    y_max = max(y_max, y_step)
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    group_w = plot_w / len(categories)
    bar_w = group_w * 0.8 / len(series)
    axis_y = TOP + plot_h

    def y(value: float) -> float:
        return TOP + plot_h - min(max(value, 0), y_max) / y_max * plot_h

    ticks = [y_step * n for n in range(int(y_max // y_step) + 1)]
    grid = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="currentColor" '
        'stroke-opacity="0.15"/><text x="{}" y="{}" font-size="10" '
        'text-anchor="end" fill="currentColor">{}</text>',
        (
            (
                LEFT,
                num(y(tick)),
                LEFT + plot_w,
                num(y(tick)),
                LEFT - 4,
                num(y(tick) + 3),
                num(tick),
            )
            for tick in ticks
        ),
    )
    # Label every category when they fit, else every n-th.
    every = max(1, round(len(categories) * 40 / plot_w))
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="10" text-anchor="middle" '
        'fill="currentColor">{}</text>',
        (
            (num(LEFT + group_w * (n + 0.5)), axis_y + 14, category)
            for n, category in enumerate(categories)
            if n % every == 0
        ),
    )
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="currentColor" '
        'stroke-width="0.5" stroke-dasharray="{}"><title>{}, {}: {}</title></rect>',
        (
            (
                num(LEFT + group_w * (n + 0.1) + bar_w * s),
                num(y(value)),
                num(max(bar_w - 1, 1)),
                num(axis_y - y(value)),
                bars_.colour,
                bars_.pattern or "none",
                bars_.label,
                category,
                num(value),
            )
            for s, bars_ in enumerate(series)
            for n, (category, value) in enumerate(
                zip(categories, bars_.values, strict=True)
            )
            if value is not None
        ),
    )
    legend_y = axis_y + 32
    legend = format_html_join(
        "",
        '<rect x="{}" y="{}" width="14" height="10" fill="{}" stroke="currentColor" '
        'stroke-width="0.5" stroke-dasharray="{}"/><text x="{}" y="{}" '
        'font-size="11" fill="currentColor">{}</text>',
        (
            (
                LEFT + 130 * n,
                legend_y - 6,
                bars_.colour,
                bars_.pattern or "none",
                LEFT + 130 * n + 19,
                legend_y + 4,
                bars_.label,
            )
            for n, bars_ in enumerate(series)
        ),
    )
    return frame(
        width,
        height,
        chart_id=chart_id,
        title=title,
        description=description,
        plot_w=plot_w,
        axis_y=axis_y,
        parts=(grid, labels, bars, legend),
    )


def frame(
    width: int,
    height: int,
    *,
    chart_id: str,
    title: str,
    description: str,
    plot_w: float,
    axis_y: float,
    parts: tuple[SafeString, SafeString, SafeString, SafeString],
) -> SafeString:
    """The ``<svg>`` of a chart: its title and description for screen readers, the
    y and x axes, and its parts (grid, axis labels, the data, the legend) in order."""
    grid, labels, data, legend = parts
    return format_html(
        '<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{}" '
        'height="{}" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title '
        '{}-desc"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>'
        '{}<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="currentColor"/>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="currentColor"/>'
        "{}{}{}</svg>",
        width,
        height,
        width,
        height,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        description,
        grid,
        LEFT,
        TOP,
        LEFT,
        axis_y,
        LEFT,
        axis_y,
        LEFT + plot_w,
        axis_y,
        labels,
        data,
        legend,
    )
