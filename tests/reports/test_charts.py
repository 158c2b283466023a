"""charts.py: builders return Altair objects with the right encodings; SVG output, offline."""

from __future__ import annotations

import re

import altair as alt
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
    assert "Commit 60,000 USD" in str(chart.to_dict())


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
    assert "sustained" in charts.svg(charts.meter_months_chart(meters)).text


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
        charts.ttfbe_chart(report_data.ttfbe_trend(run["ttfbe_cohorts"]), target_days=30),
        charts.retention_chart(report_data.segment_rows(summary)),
        charts.funnel_chart(report_data.adoption_funnel(health)),
        charts.monthly_spend_chart(report_data.spend_predictability(account.months, run.as_of)),
        charts.cost_per_outcome_chart(account.months),
    ]


def test_every_themed_chart_is_valid_vega_lite(run: report_data.RunData) -> None:
    """``svg`` skips the schema check for speed; this is where every builder meets it."""
    for chart in _every_chart(run):
        charts.theme(chart, Brand(primary_color="#123456")).to_dict(validate=True)
