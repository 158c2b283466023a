"""Altair chart builders for the reports, the house theme, and the static-SVG display helper.

Every builder takes a collected frame and returns an unrendered ``alt.Chart`` (or layer / facet);
none writes files or changes its input. Apply the theme with ``chart.pipe(theme, brand)`` and
show it with ``svg(chart)``: the cell output is ``image/svg+xml`` made by vl-convert, so the HTML
works offline and the same picture serves the PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import altair as alt
import polars as pl
import vl_convert as vlc

from drawdown.params import Brand
from drawdown.reports import glossary

BAND_COLORS = {
    "over": "#c0392b",
    "healthy": "#2e8b57",
    "under": "#e08e0b",
    "not_live": "#7f8c8d",
    "paygo": "#5b7db1",
}
BAND_LABELS = {band: glossary.value("band", band) for band in BAND_COLORS}
PATTERN_COLORS = {
    "within": "#9db4c0",
    "spike": "#f1a9a0",
    "emerging": "#e06666",
    "sustained": "#c0392b",
    "over": "#d98880",
}
"""Meter months: red means past the line, deeper the longer it lasts (the band colours keep their
meaning: orange is only ever the under band)."""
SERIES_COLORS = ["#8e9aaf", "#5dade2", "#a569bd", "#48c9b0", "#c71585"]
"""Colours of series that carry no band or pattern meaning, after the brand colour: none is a
band colour, so a colour means one thing in a report, and none looks like the default brand
colour (``#1f4e79``), so no series draws like the first. They do not depend on the brand: a report
executes with a neutral brand whose colour is replaced afterwards (``reports.brand``)."""
FONT = "Liberation Sans, DejaVu Sans, Arial, Helvetica, sans-serif"
WIDTH = 640

ChartT = TypeVar("ChartT", bound=alt.TopLevelMixin)


@dataclass(frozen=True)
class Svg:
    """A chart rendered to SVG text; Jupyter shows it as ``image/svg+xml`` and nothing else."""

    text: str

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"image/svg+xml": self.text}


def svg(chart: alt.TopLevelMixin) -> Svg:
    """Render ``chart`` to static SVG with vl-convert (no browser, no network).

    The spec is not checked against the Vega-Lite JSON schema here (about 40 ms a chart, a
    quarter of a report's chart time): the builders' tests validate every chart, and vl-convert
    still rejects a spec it cannot draw.
    """
    return Svg(vlc.vegalite_to_svg(chart.to_dict(validate=False)))


def theme(chart: ChartT, brand: Brand | None = None) -> ChartT:
    """The house look: fonts, quiet axes, no frame, titles in the brand colour.

    Returns a copy of ``chart`` with its whole ``config`` set at once (each of Altair's
    ``configure_*`` calls would deep-copy the chart and its data again).
    """
    primary = (brand or Brand()).primary_color
    themed = chart.copy(deep=False)
    themed.config = alt.Config(
        font=FONT,
        background="white",
        padding=8,
        view=alt.ViewConfig(stroke=None),
        title=alt.TitleConfig(fontSize=14, anchor="start", color=primary, subtitleColor="#555"),
        axis=alt.AxisConfig(
            labelFontSize=11,
            titleFontSize=11,
            gridColor="#e6e6e6",
            domainColor="#999",
            labelLimit=220,
        ),
        legend=alt.LegendConfig(
            labelFontSize=11, titleFontSize=11, orient="bottom", labelLimit=260
        ),
        header=alt.HeaderConfig(labelFontSize=12, titleFontSize=12, labelLimit=300),
        range=alt.RangeConfig(category=[primary, *SERIES_COLORS]),
    )
    return themed


def money_axis(currency: str = "USD", **options: Any) -> alt.Axis:
    """A money axis: every label carries the currency (``$200k``, ``1.5M EUR``; ``$0``, never
    ``0k`` or ``0.2M`` alone); labels that would overlap are dropped."""
    return alt.Axis(labelExpr=money_label(currency), labelOverlap=True, **options)


def money_label(currency: str = "USD", field: str = "datum.value") -> str:
    """A Vega expression writing ``field`` as short money: up to three significant digits with
    k / M / B, the currency as ``$`` before USD or its code after any other."""
    scaled = (
        f"abs({field}) >= 1e9 ? format({field} / 1e9, '.3~r') + 'B' : "
        f"abs({field}) >= 1e6 ? format({field} / 1e6, '.3~r') + 'M' : "
        f"abs({field}) >= 1e3 ? format({field} / 1e3, '.3~r') + 'k' : "
        f"format({field}, '.3~r')"
    )
    if currency == "USD":
        return f"({field} < 0 ? '-' : '') + '$' + replace({scaled}, '-', '')"
    return f"({scaled}) + ' {_vega_text(currency)}'"


def spend_scale() -> alt.Scale:
    """A daily-spend scale that always holds 0 to 1: a line of zeros lies on the axis's foot
    (alone, its domain would be the single value 0, drawn halfway up)."""
    return alt.Scale(domain={"unionWith": [0, 1]})


def percent_axis(**options: Any) -> alt.Axis:
    """A percent axis (``0%``, ``25%``) whose overlapping labels are dropped."""
    return alt.Axis(format=".0%", labelOverlap=True, **options)


def month_axis(
    *, months: int | None = None, width: int = WIDTH, temporal: bool = True, **options: Any
) -> alt.Axis:
    """Month labels that never collide: ``Jan 26``, horizontal, one per month, or one every
    2, 3, 6 or 12 months when ``months`` of them would not fit in ``width`` pixels (a label takes
    about ``MONTH_LABEL_PX``); any label that still overlaps is dropped."""
    settings: dict[str, Any] = {
        "format": "%b %y",
        "labelAngle": 0,
        "labelOverlap": "greedy",
        "labelSeparation": 6,
        "labelFlush": False,
    }
    if temporal and months is not None:
        settings["tickCount"] = {"interval": "month", "step": month_step(months, width)}
    return alt.Axis(**(settings | options))


MONTH_LABEL_PX = 48


def month_step(months: int, width: int = WIDTH) -> int:
    """Months between two labels so that ``months`` months fit in ``width`` pixels: 1, 2, 3, 6
    or 12 (``30 months in 640 px -> 3``)."""
    room = max(1, width // MONTH_LABEL_PX)
    return next((step for step in (1, 2, 3, 6) if months / step <= room), 12)


def figure(
    chart: alt.TopLevelMixin | None, brand: Brand | None = None, *, empty: str | None = ""
) -> Svg | Note | None:
    """The themed chart as SVG, or ``empty`` as a sentence when there is no chart or the chart
    has nothing to draw (no rows in any of its data): a report never shows an empty chart.
    ``empty=None``: nothing at all (the text around it already says why)."""
    if chart is None or not _has_rows(chart):
        if empty is None:
            return None
        return Note(empty or "Nothing to chart at this date.")
    return svg(theme(chart, brand))


@dataclass(frozen=True)
class Note:
    """A sentence standing in for a chart with nothing to draw (``text/markdown``, escaped)."""

    text: str

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from drawdown.reports.inert import markdown_text

        return {"text/markdown": f"*{markdown_text(self.text)}*"}


def _has_rows(chart: alt.TopLevelMixin) -> bool:
    """Whether any data frame of ``chart`` (itself or a layer) has a row to draw."""
    frames = [getattr(chart, "data", None)]
    for part in [*getattr(chart, "layer", []), getattr(chart, "spec", None)]:
        if part is not None:
            frames.append(getattr(part, "data", None))
            frames += [getattr(layer, "data", None) for layer in getattr(part, "layer", [])]
    counted = [frame.height for frame in frames if isinstance(frame, pl.DataFrame)]
    return bool(counted) and max(counted) > 0


def _months(dates: pl.Series) -> int:
    """Calendar months spanned by ``dates`` (1 when empty)."""
    if dates.len() == 0 or dates.null_count() == dates.len():
        return 1
    first, last = dates.min(), dates.max()
    return (last.year - first.year) * 12 + last.month - first.month + 1  # type: ignore[union-attr]


def _vega_text(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def band_scale() -> alt.Scale:
    """Colour per band, in the order the legend lists them."""
    return alt.Scale(domain=list(BAND_LABELS.values()), range=list(BAND_COLORS.values()))


def band_mix_chart(mix: pl.DataFrame, *, title: str = "Band mix per segment") -> alt.Chart:
    """Stacked horizontal bars of band shares per segment (from ``report_data.band_mix``)."""
    data = mix.with_columns(
        pl.col("band").replace_strict(BAND_LABELS, default=pl.col("band")).alias("band_label"),
        pl.col("band")
        .replace_strict({band: i for i, band in enumerate(BAND_COLORS)}, default=9)
        .alias("order"),
    )
    return (
        alt.Chart(data, title=title)
        .mark_bar()
        .encode(
            y=alt.Y("segment:N", title=None, sort=None),
            x=alt.X(
                "share:Q",
                title="Share of accounts",
                axis=percent_axis(),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color("band_label:N", title="Band", scale=band_scale()),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("segment"),
                alt.Tooltip("band_label"),
                alt.Tooltip("share:Q", format=".0%"),
            ],
        )
        .properties(width=WIDTH - 120, height=alt.Step(26))
    )


BURNUP_SERIES = {
    "consumed": "Consumed",
    "linear pace": "Straight-line pace",
    "projection": "At the current pace",
}


def burnup_chart(
    burnup: pl.DataFrame,
    *,
    commit: float,
    band: str,
    currency: str = "USD",
    cone: pl.DataFrame | None = None,
) -> alt.LayerChart:
    """Consumption against commit: the running total, the straight-line pace, the projection to
    term end (dashed, in the band's colour) and the commit line (from ``report_data.burnup``);
    with ``cone`` (``report_data.forecast_cone``, rows only when the forecast exists) the
    forecast range as a shaded band."""
    names = list(BURNUP_SERIES.values())
    data = burnup.with_columns(
        pl.col("series").replace_strict(BURNUP_SERIES, default=pl.col("series"))
    )
    colors = alt.Scale(domain=names, range=["#1f4e79", "#999999", BAND_COLORS.get(band, "#555555")])
    x = alt.X("date:T", title=None, axis=month_axis(months=_months(burnup["date"])))
    lines = (
        alt.Chart(data)
        .mark_line(strokeWidth=2)
        .encode(
            x=x,
            y=alt.Y("amount:Q", title=f"Consumed ({currency})", axis=money_axis(currency)),
            color=alt.Color("series:N", title=None, scale=colors, sort=names),
            strokeDash=alt.StrokeDash(
                "series:N",
                scale=alt.Scale(domain=names, range=[[1, 0], [4, 4], [6, 3]]),
                legend=None,
            ),
        )
    )
    commit_rule = (
        alt.Chart(
            pl.DataFrame({"commit": [commit], "label": [f"Commit {_money(commit, currency)}"]})
        )
        .mark_rule(color="#333", strokeDash=[2, 2])
        .encode(y=alt.Y("commit:Q"))
    )
    label = commit_rule.mark_text(align="left", dx=4, dy=-7, color="#333", fontSize=11).encode(
        text=alt.Text("label:N"), x=alt.XValue(0)
    )
    layers: list[alt.Chart] = []
    if cone is not None and cone.height:
        layers.append(
            alt.Chart(cone)
            .mark_area(color=SERIES_COLORS[1], opacity=0.25)
            .encode(x=x, y=alt.Y("low:Q"), y2=alt.Y2("high:Q"))
        )
    title = "Consumed so far and where the term ends" + (
        " (shaded: the forecast range)" if layers else ""
    )
    return alt.layer(*layers, lines, commit_rule, label, title=title).properties(
        width=WIDTH, height=240
    )


def account_daily_chart(daily: pl.DataFrame, *, currency: str = "USD") -> alt.Chart:
    """One account's daily spend (``report_data.daily_lines`` of that account, zeros filled):
    the line spend predictability is read from."""
    return (
        alt.Chart(daily, title="Daily spend, last 90 days")
        .mark_line(strokeWidth=1.4, color="#1f4e79")
        .encode(
            x=alt.X(
                "usage_date:T",
                title=None,
                axis=month_axis(months=_months(daily["usage_date"]), format="%d %b"),
            ),
            y=alt.Y(
                "amount:Q",
                title=f"Spend a day ({currency})",
                axis=money_axis(currency),
                scale=spend_scale(),
            ),
            tooltip=[alt.Tooltip("usage_date"), alt.Tooltip("amount:Q", format=",.0f")],
        )
        .properties(width=WIDTH, height=150)
    )


def meter_months_chart(meters: pl.DataFrame) -> alt.FacetChart:
    """Monthly usage per meter against its limit; over months coloured by their mark (spike,
    emerging, sustained, over) and labelled. Expects a ``mark`` column (``report_data.meter_marks``)."""
    data = meters.with_columns(glossary.value_words("mark").alias("mark_label"))
    base = alt.Chart(data).encode(
        x=alt.X("yearmonth(month):O", title=None, axis=month_axis(temporal=False))
    )
    bars = base.mark_bar().encode(
        y=alt.Y("usage:Q", title="Units", axis=alt.Axis(format=",.3~s", labelOverlap=True)),
        color=alt.Color(
            "mark_label:N",
            title=None,
            scale=alt.Scale(
                domain=[glossary.value("mark", mark) for mark in PATTERN_COLORS],
                range=list(PATTERN_COLORS.values()),
            ),
        ),
        tooltip=[
            alt.Tooltip("meter"),
            alt.Tooltip("month"),
            alt.Tooltip("usage"),
            alt.Tooltip("limit"),
            alt.Tooltip("pct_over:Q", format="+.0%"),
        ],
    )
    limit = base.mark_tick(color="#222", thickness=2, size=28).encode(y=alt.Y("limit:Q"))
    labels = (
        base.transform_filter("datum.mark != 'within'")
        .mark_text(dy=-6, fontSize=10, color="#333")
        .encode(y=alt.Y("usage:Q"), text=alt.Text("mark_label:N"))
    )
    return (
        alt.layer(bars, limit, labels, data=data)
        .properties(width=WIDTH - 80, height=100)
        .facet(
            row=alt.Row(
                "meter:N",
                title=None,
                header=alt.Header(labelAngle=0, labelAlign="left", labelOrient="top"),
            )
        )
        .resolve_scale(y="independent")
        .properties(title="Monthly usage per meter (black tick: the monthly limit)")
    )


def daily_usage_chart(
    lines: pl.DataFrame, *, currency: str = "USD", columns: int = 2
) -> alt.FacetChart:
    """Small multiples of daily spend, one panel per account (from ``report_data.daily_lines``)."""
    return (
        alt.Chart(lines)
        .mark_line(strokeWidth=1.2)
        .encode(
            x=alt.X("usage_date:T", title=None, axis=month_axis(format="%b %d", tickCount=4)),
            y=alt.Y(
                "amount:Q",
                title=f"Daily spend ({currency})",
                axis=money_axis(currency),
                scale=spend_scale(),
            ),
        )
        .properties(width=(WIDTH - 60) // columns, height=90)
        .facet(facet=alt.Facet("account_name:N", title=None, sort=None), columns=columns)
        .resolve_scale(y="independent")
        .properties(title="Last 90 days, one panel per account, each on its own scale")
    )


def funnel_chart(funnel: pl.DataFrame) -> alt.Chart:
    """The adoption funnel: share of accounts reaching each step, grouped by segment
    (from ``report_data.adoption_funnel``)."""
    return (
        alt.Chart(funnel, title="From contract start to steady draw")
        .mark_bar()
        .encode(
            x=alt.X(
                "step:N",
                title=None,
                sort=alt.EncodingSortField("step_order"),
                axis=alt.Axis(labelAngle=0, labelLimit=150),
            ),
            xOffset=alt.XOffset("segment:N"),
            y=alt.Y(
                "share:Q",
                title="Share of accounts",
                axis=percent_axis(),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color("segment:N", title="Segment"),
            tooltip=[
                alt.Tooltip("segment"),
                alt.Tooltip("step"),
                alt.Tooltip("accounts"),
                alt.Tooltip("share:Q", format=".0%"),
            ],
        )
        .properties(width=WIDTH, height=220)
    )


def monthly_spend_chart(months: pl.DataFrame, *, currency: str = "USD") -> alt.Chart:
    """Monthly spend bars; with a ``period`` column (``report_data.spend_by_month``) the month
    so far is drawn lighter, so it is never read as a complete month."""
    color: Any = alt.ColorValue("#1f4e79")
    if "period" in months.columns:
        color = alt.Color(
            "period:N",
            title=None,
            scale=alt.Scale(domain=["complete", "so far"], range=["#1f4e79", "#a9c4de"]),
            legend=alt.Legend(
                labelExpr="datum.label == 'so far' ? 'Month so far' : 'Complete month'"
            ),
        )
    return (
        alt.Chart(months, title="Spend by month")
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):O", title=None, axis=month_axis(temporal=False)),
            y=alt.Y("amount:Q", title=f"Spend ({currency})", axis=money_axis(currency)),
            color=color,
            tooltip=[alt.Tooltip("month"), alt.Tooltip("amount:Q", format=",.0f")],
        )
        .properties(width=WIDTH, height=150)
    )


def cost_per_outcome_chart(months: pl.DataFrame, *, currency: str = "USD") -> alt.Chart:
    """Unit economics: cost per outcome by month (months without outcomes left out)."""
    data = months.filter(pl.col("cost_per_outcome").is_not_null())
    return (
        alt.Chart(data, title="Cost per outcome by month")
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "yearmonth(month):T", title=None, axis=month_axis(months=_months(data["month"]))
            ),
            y=alt.Y(
                "cost_per_outcome:Q",
                title=f"Cost per outcome ({currency})",
                scale=alt.Scale(zero=False),
                axis=money_axis(currency),
            ),
            tooltip=[alt.Tooltip("month"), alt.Tooltip("cost_per_outcome:Q", format=",.2f")],
        )
        .properties(width=WIDTH, height=180)
    )


def _money(value: float, currency: str) -> str:
    return f"${value:,.0f}" if currency == "USD" else f"{value:,.0f} {currency}"
