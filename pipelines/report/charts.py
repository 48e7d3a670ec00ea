"""The page's charts: Vega-Lite specifications built with altair from a table's rows, drawn to SVG on the server
by vl-convert, so the page needs no JavaScript and no network (e-mail clients run neither).

Colours step through clearly different greys-in-disguise (dark to light blues) and lines also differ by dash and
point shape: every chart still reads when printed in black and white.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from pipelines.report.model import Chart, Column, Table
from pipelines.report.numbers import as_number, shown

# Dark-to-light, each step a clearly different lightness (readable in greyscale).
PALETTE = ["#08306b", "#4a7fb5", "#9ecae1", "#2b2b2b", "#bdbdbd", "#6a51a3"]
DASHES = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [1, 4], [12, 4]]
SHAPES = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down"]
WIDTH = 560
LABEL = "shown"  # the mark's label: the value as the table beside the chart shows it (91%, $1.2M)
FONT = "Helvetica, Arial, sans-serif"
CONFIG: dict[str, Any] = {
    "font": FONT,
    "view": {"stroke": None},
    "axis": {"labelFontSize": 11, "titleFontSize": 11, "grid": True, "gridColor": "#e6e6e6"},
    "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "bottom"},
}


def _data(table: Table, rows: list[dict[str, Any]] | None = None) -> alt.Data:
    """The table's rows (dates as ISO text: Vega-Lite reads them as dates)."""
    records = table.records() if rows is None else rows
    return alt.Data(
        values=[{k: (v.isoformat() if hasattr(v, "isoformat") else _plain(v)) for k, v in r.items()} for r in records]
    )


def _plain(value: Any) -> Any:
    """Decimal and other numbers as floats; JSON has no Decimal."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _axis_format(kind: str) -> dict[str, Any]:
    return {"rate": {"format": "~%"}, "money": {"format": "$~s"}}.get(kind, {"format": ",~s"})


def _finish(chart: alt.TopLevelMixin) -> dict[str, Any]:
    spec: dict[str, Any] = chart.to_dict()
    spec["config"] = CONFIG
    return spec


def bars(
    key: str,
    title: str,
    table: Table,
    category: str,
    value: str,
    *,
    group_by: str | None = None,
    only_nonzero: bool = False,
) -> Chart:
    """Horizontal bars, one per row, in the table's order, each labelled as the table shows its value;
    ``group_by`` puts a row's bars side by side within its category (e.g. first- and last-touch attribution);
    ``only_nonzero`` leaves out the categories with nothing to draw (the table still lists them)."""
    column = _column(table, value)
    records = [r for r in table.records() if not only_nonzero or _nonzero(r[value])]
    drawn = [{**r, LABEL: shown(r[value], column.kind)} for r in records]
    order = list(dict.fromkeys(str(r[category]) for r in drawn))
    encoding: dict[str, Any] = {
        "y": alt.Y(f"{category}:N", sort=order, title=_column(table, category).label, axis=alt.Axis(labelLimit=220)),
        "x": alt.X(f"{value}:Q", title=column.label, axis=_axis(column.kind)),
    }
    colour: Any = alt.value(PALETTE[1])
    if group_by:
        groups = list(dict.fromkeys(str(r[group_by]) for r in drawn))
        encoding["yOffset"] = alt.YOffset(f"{group_by}:N", sort=groups)
        colour = alt.Color(
            f"{group_by}:N", sort=groups, scale=alt.Scale(domain=groups, range=PALETTE[: len(groups)]), title=None
        )
    base = alt.Chart(_data(table, drawn)).encode(**encoding)
    chart = base.mark_bar(stroke="#333333", strokeWidth=0.5).encode(color=colour) + base.mark_text(
        align="left", dx=3, fontSize=10
    ).encode(text=alt.Text(f"{LABEL}:N"))
    height = max(60, 18 * len(drawn))
    return Chart(key, title, table, _finish(chart.properties(width=WIDTH - 200, height=height)))


def _nonzero(value: Any) -> bool:
    number = as_number(value)
    return number is not None and number != 0


def columns(key: str, title: str, table: Table, category: str, value: str, *, colour_by: str | None = None) -> Chart:
    """Vertical columns in the table's order (a histogram's bins, an age's buckets)."""
    order = [str(r[category]) for r in table.records()]
    colour: Any = (
        alt.Color(f"{colour_by}:N", scale=alt.Scale(range=[PALETTE[0], PALETTE[2]]), legend=alt.Legend(title=None))
        if colour_by
        else alt.value(PALETTE[1])
    )
    kind = _column(table, value).kind
    drawn = [{**r, LABEL: shown(r[value], kind)} for r in table.records()]
    base = alt.Chart(_data(table, drawn)).encode(
        x=alt.X(f"{category}:N", sort=order, title=_column(table, category).label, axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{value}:Q", title=_column(table, value).label),
    )
    chart = base.mark_bar(stroke="#333333", strokeWidth=0.5).encode(color=colour) + base.mark_text(
        dy=-6, fontSize=10
    ).encode(text=alt.Text(f"{LABEL}:N"))
    return Chart(key, title, table, _finish(chart.properties(width=WIDTH, height=180)))


def lines(key: str, title: str, table: Table, x: str, series: dict[str, str], *, kind: str = "rate") -> Chart:
    """One line per column in ``series`` (column -> legend label) over ``x`` (a month): trends."""
    long_rows = [
        {x: r[x], "series": label, "value": _plain(r[column])}
        for r in table.records()
        for column, label in series.items()
        if r[column] is not None
    ]
    labels = list(series.values())
    n = len(labels)
    chart = (
        alt.Chart(_data(table, long_rows))
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=alt.X(f"{x}:T", title=None, axis=alt.Axis(format="%b %y", tickCount="month")),
            y=alt.Y("value:Q", title=None, axis=_axis(kind)),
            color=alt.Color("series:N", sort=labels, scale=alt.Scale(domain=labels, range=PALETTE[:n]), title=None),
            strokeDash=alt.StrokeDash(
                "series:N", sort=labels, scale=alt.Scale(domain=labels, range=DASHES[:n]), title=None
            ),
            shape=alt.Shape("series:N", sort=labels, scale=alt.Scale(domain=labels, range=SHAPES[:n]), title=None),
        )
    )
    return Chart(key, title, table, _finish(chart.properties(width=WIDTH, height=220)))


def series_lines(key: str, title: str, table: Table, x: str, y: str, series: str) -> Chart:
    """One line per value of the ``series`` column (e.g. a source) over ``x`` (a month)."""
    names = list(dict.fromkeys(str(r[series]) for r in table.records()))
    cycle = range(len(names))
    chart = (
        alt.Chart(_data(table))
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=alt.X(f"{x}:T", title=None, axis=alt.Axis(format="%b %y", tickCount="month")),
            y=alt.Y(f"{y}:Q", title=_column(table, y).label, axis=_axis(_column(table, y).kind)),
            color=alt.Color(
                f"{series}:N",
                scale=alt.Scale(domain=names, range=[PALETTE[i % len(PALETTE)] for i in cycle]),
                title=None,
            ),
            strokeDash=alt.StrokeDash(
                f"{series}:N", scale=alt.Scale(domain=names, range=[DASHES[i % len(DASHES)] for i in cycle]), title=None
            ),
            shape=alt.Shape(
                f"{series}:N", scale=alt.Scale(domain=names, range=[SHAPES[i % len(SHAPES)] for i in cycle]), title=None
            ),
        )
    )
    return Chart(key, title, table, _finish(chart.properties(width=WIDTH, height=220)))


def _column(table: Table, name: str) -> Column:
    return next(c for c in table.columns if c.name == name)


def _axis(kind: str) -> alt.Axis:
    return alt.Axis(**_axis_format(kind))


def svg(chart: Chart) -> str:
    """The chart drawn: an ``<svg>`` element with every mark and label as vector shapes and text."""
    import vl_convert  # the renderer (a bundled Deno + Vega) loads with the report only

    drawn: str = vl_convert.vegalite_to_svg(chart.spec)
    return drawn
