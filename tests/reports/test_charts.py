"""charts.py: builders return Altair objects with the right encodings; SVG output, offline."""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise

import altair as alt
import polars as pl
import pytest

from _report_run import write_run
from drawdown.params import Brand
from drawdown.reports import charts
from drawdown.reports import data as report_data


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> report_data.RunData:
    return report_data.load_run(write_run(tmp_path_factory.mktemp("run")))


def test_band_mix_chart_colours_each_band(run: report_data.RunData) -> None:
    mix = report_data.band_mix(run["segment_summary"])
    before = mix.clone()
    spec = charts.band_mix_chart(mix).to_dict()
    assert spec["encoding"]["color"]["scale"]["range"] == list(charts.BAND_COLORS.values())
    assert mix.equals(before)


def test_burnup_chart_draws_commit_line(run: report_data.RunData) -> None:
    account = report_data.account_data(run, "A2")
    chart = charts.burnup_chart(report_data.burnup(account), commit=60000.0, band="over")
    assert isinstance(chart, alt.LayerChart)
    assert "Commit $60,000" in str(chart.to_dict())


def test_theme_uses_the_brand_colour(run: report_data.RunData) -> None:
    chart = charts.funnel_chart(report_data.adoption_funnel(run["account_health"]))
    themed = charts.theme(chart, Brand(primary_color="#123456"))
    assert themed is not chart and themed.to_dict()["config"]["title"]["color"] == "#123456"


def test_svg_is_static_and_offline(run: report_data.RunData) -> None:
    lines = report_data.daily_lines(
        run["daily_spend"], report_data.top_accounts(run["account_health"], 2), run.as_of
    )
    shown = charts.svg(charts.theme(charts.daily_usage_chart(lines)))
    assert shown._repr_mimebundle_().keys() == {"image/svg+xml"}
    assert shown.text.lstrip().startswith("<svg") and not re.search(
        r'(href|src)="https?://', shown.text
    )


def test_meter_months_chart_marks_over_months(run: report_data.RunData) -> None:
    meters = report_data.meter_marks(report_data.account_data(run, "A2"), lookback_months=3)
    assert "Sustained" in charts.svg(charts.meter_months_chart(meters)).text


def _every_chart(run: report_data.RunData) -> list[alt.TopLevelMixin]:
    health, summary = run["account_health"], run["segment_summary"]
    account = report_data.account_data(run, "A2")
    lines = report_data.daily_lines(
        run["daily_spend"], report_data.top_accounts(health, 2), run.as_of
    )
    return [
        charts.band_mix_chart(report_data.band_mix(summary)),
        charts.burnup_chart(report_data.burnup(account), commit=60000.0, band="over"),
        charts.meter_months_chart(report_data.meter_marks(account, lookback_months=3)),
        charts.daily_usage_chart(lines),
        charts.funnel_chart(report_data.adoption_funnel(health)),
        charts.monthly_spend_chart(report_data.spend_predictability(account.months, run.as_of)),
        charts.cost_per_outcome_chart(account.months),
    ]


@pytest.mark.parametrize("primary", [Brand().primary_color, "#123456"])
def test_each_series_has_its_own_colour_whatever_the_brand(
    run: report_data.RunData, primary: str
) -> None:
    # the default brand colour is also the first series colour: "All" and the first segment of
    # the adoption funnel drew alike
    chart = charts.funnel_chart(report_data.adoption_funnel(run["account_health"]))
    themed = charts.theme(chart, Brand(primary_color=primary)).to_dict()
    category = [colour.lower() for colour in themed["config"]["range"]["category"]]
    assert category[0] == primary.lower() and len(set(category)) == len(category)
    assert set(category) == {primary.lower(), *charts.SERIES_COLORS}


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def test_no_series_colour_looks_like_the_default_brand_colour() -> None:
    # "#34495e" (SMB in the sample books) drew like "All" (#1f4e79) in the adoption funnel's bars:
    # 34 apart in RGB; the other series colours are 140-180 apart
    brand = _rgb(Brand().primary_color)
    for colour in charts.SERIES_COLORS:
        distance = sum((a - b) ** 2 for a, b in zip(_rgb(colour), brand, strict=True)) ** 0.5
        assert distance > 100, colour


def test_every_themed_chart_is_valid_vega_lite(run: report_data.RunData) -> None:
    """``svg`` skips the schema check for speed; this is where every builder meets it."""
    for chart in _every_chart(run):
        charts.theme(chart, Brand(primary_color="#123456")).to_dict(validate=True)


def _tick_labels(chart: alt.TopLevelMixin) -> list[str]:
    return re.findall(r">([^<]{1,16})</text>", charts.svg(chart).text)


@pytest.mark.parametrize(
    ("currency", "expected"),
    [("USD", ["$0", "$100k", "$200k"]), ("EUR", ["0 EUR", "100k EUR", "200k EUR"])],
)
def test_money_axis_labels_carry_the_currency(currency: str, expected: list[str]) -> None:
    # 0 and 250,000: every tick label names the currency, none reads "0k" or "0.2M"
    frame = pl.DataFrame({"x": ["a", "b"], "v": [0.0, 250000.0]})
    chart = (
        alt.Chart(frame)
        .mark_bar()
        .encode(x="x:N", y=alt.Y("v:Q", title=None, axis=charts.money_axis(currency)))
    )
    labels = _tick_labels(chart)
    assert set(expected) <= set(labels) and "0k" not in labels


def test_a_day_line_with_no_spend_draws_zero_at_the_foot_of_its_axis() -> None:
    # an account that spent nothing drew its flat line halfway up a panel whose only label,
    # "$0", sat in the middle of the axis; the axis now always holds 0 to 1 at least
    days = pl.date_range(date(2026, 9, 1), date(2026, 9, 30), eager=True)
    zeros = pl.DataFrame({"usage_date": days, "amount": [0.0] * days.len()})
    lines = zeros.with_columns(pl.lit("Zephyr").alias("account_name"))
    for chart in (charts.account_daily_chart(zeros), charts.daily_usage_chart(lines)):
        labels = _tick_labels(chart)
        assert "$0" in labels and "$1" in labels


def test_month_axis_never_draws_overlapping_labels() -> None:
    # 36 months on a 200-pixel axis: labels that would collide are dropped
    months = pl.date_range(date(2024, 1, 1), date(2026, 12, 1), "1mo", eager=True)
    frame = pl.DataFrame({"month": months, "v": [1.0] * months.len()})
    axis = charts.month_axis(months=36, width=200)
    chart = (
        alt.Chart(frame)
        .mark_line()
        .encode(x=alt.X("month:T", title=None, axis=axis), y=alt.Y("v:Q", title=None))
        .properties(width=200)
    )
    shown = re.findall(
        r'translate\(([\d.]+),15\)[^>]*opacity="1">[A-Z][a-z]{2} \d\d<', charts.svg(chart).text
    )
    positions = sorted(float(x) for x in shown)
    assert len(positions) >= 2
    assert min(b - a for a, b in pairwise(positions)) >= 40


@pytest.mark.parametrize(("months", "width", "step"), [(12, 640, 1), (30, 640, 3), (36, 200, 12)])
def test_month_step_fits_the_labels_in_the_width(months: int, width: int, step: int) -> None:
    assert charts.month_step(months, width) == step


def test_figure_is_a_sentence_when_the_chart_has_no_rows() -> None:
    empty = alt.Chart(pl.DataFrame({"v": []}, schema={"v": pl.Float64})).mark_bar()
    shown = charts.figure(empty, empty="No spend yet.")
    assert isinstance(shown, charts.Note) and shown.text == "No spend yet."


def test_figure_draws_a_chart_with_rows() -> None:
    chart = alt.Chart(pl.DataFrame({"v": [1.0]})).mark_bar().encode(y="v:Q")
    assert isinstance(charts.figure(chart), charts.Svg)
