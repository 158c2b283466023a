"""narrative.py: sentences from the numbers, and every data string escaped."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from _report_run import EVIL_NAME, write_run
from drawdown.errors import ParamsError
from drawdown.metrics import periods
from drawdown.params import Brand, Guidelines
from drawdown.reports import data as report_data
from drawdown.reports import narrative


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> report_data.RunData:
    return report_data.load_run(write_run(tmp_path_factory.mktemp("run")))


def test_escape_turns_html_into_text() -> None:
    escaped = narrative.escape(EVIL_NAME)
    assert "<" not in escaped and html.unescape(escaped) == EVIL_NAME


@pytest.mark.parametrize("text", ["*bold*", "[link](x)", "# head", "a_b", "https://x.example"])
def test_escape_shows_markdown_as_its_text_without_backslashes(text: str) -> None:
    rendered = markdown2html_mistune(narrative.escape(text))
    assert rendered == f"<p>{html.escape(text, quote=False)}</p>\n"


@pytest.mark.parametrize(("value", "text"), [(1234.5, "$1,234"), (-20.0, "-$20"), (None, "—")])
def test_money(value: float | None, text: str) -> None:
    assert narrative.money(value) == text


def test_money_in_another_currency() -> None:
    assert narrative.money(1000.0, "EUR") == "1,000 EUR"


def test_header_escapes_the_title(run: report_data.RunData) -> None:
    text = narrative.header(f"Review: {EVIL_NAME}", Brand(), run.as_of).text
    assert "<script>" not in text and "30 April 2026" in text


def test_header_inlines_a_local_logo(tmp_path: Path, run: report_data.RunData) -> None:
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert (
        'src="data:image/png;base64,'
        in narrative.header("T", Brand(logo=str(logo)), run.as_of).text
    )


def _prep_points(run: report_data.RunData, account_id: str, guidelines: Guidelines) -> str:
    account = report_data.account_data(run, account_id)
    comparison, quarter = report_data.quarter_comparison(account)
    quarter = report_data.quarter_with_unit_cost(quarter)
    return narrative.prep_talking_points(account, quarter, comparison, guidelines).text


@pytest.mark.parametrize(
    ("account_id", "point"),
    [("A4", "- Usage: on pay-as-you-go terms"), ("A5", "- Usage: no billable usage yet")],
)
def test_prep_usage_point_goes_on_in_lower_case(
    run: report_data.RunData, account_id: str, point: str
) -> None:
    # "Usage: On pay-as-you-go terms, …": the review's sentence pasted after a label
    assert point in _prep_points(run, account_id, Guidelines())


def test_prep_talking_points_lead_with_outcomes_of_named_complete_quarters(
    run: report_data.RunData,
) -> None:
    text = _prep_points(run, "A1", Guidelines(lead_with="outcomes", avoid="jargon"))
    # Jan-Mar 2026: 1150 + 1200 + 1250 = 3600 outcomes
    assert text.startswith("- Open with results: 3,600 outcomes in Jan–Mar 2026")


def test_prep_talking_points_raise_the_overage_first_when_the_guidelines_avoid_surprise_bills(
    run: report_data.RunData,
) -> None:
    text = html.unescape(_prep_points(run, "A2", Guidelines(lead_with="usage")))
    lines = text.splitlines()
    assert lines[0].startswith("- Usage: 117% of the $60,000 commit")
    # a sentence says "is 50% over", not "is +50% over" (the sign belongs in a table)
    assert lines[1].startswith(
        "- Raise the overage now, not on the invoice: api_calls is 50% over its limit,"
    )
    case = report_data.account_data(run, "A2").case
    assert html.unescape(narrative.case_line(case)).startswith("api_calls 50% over its limit (")


def test_prep_talking_points_apply_the_tone_and_never_echo_the_guidelines(
    run: report_data.RunData,
) -> None:
    guidelines = Guidelines(tone="<b>Plain</b> and calm.", avoid="Surprise invoices.")
    text = _prep_points(run, "A2", guidelines)
    assert "Plain" not in text and "Surprise invoices" not in text and "Tone" not in text


def test_prep_next_action_is_the_artifacts_with_owner_reason_and_renewal(
    run: report_data.RunData,
) -> None:
    text = html.unescape(narrative.prep_next_action(report_data.account_data(run, "A2")).text)
    assert text.startswith("**Next action: Open the conversation**, owner Dana (CSM). api_calls")
    assert text.endswith("**Renewal in 61 days** (the term ends on 30 Jun 2026).")


def test_prep_next_action_without_an_owner_names_the_missing_role(
    run: report_data.RunData,
) -> None:
    text = narrative.prep_next_action(report_data.account_data(run, "A4")).text
    assert "**, no CSM named to own it." in text and "owner no" not in text


def test_prep_facts_state_the_case_warnings_and_budget(run: report_data.RunData) -> None:
    budget = report_data.account_budget(run, "A1")
    text = html.unescape(narrative.prep_facts(report_data.account_data(run, "A1"), budget).text)
    # A1: budget 12000 a month, alert at 90%, 88% used (10500 of 12000)
    assert "$12,000 a month since 01 Aug 2025, alert at 90%; 88% used this month" in text
    assert "below the alert" in text and "Spike" not in text and "(spike)" in text
    assert "no budget set" in narrative.prep_facts(report_data.account_data(run, "A2"), None).text


@pytest.mark.parametrize(
    ("account_id", "question"),
    [
        ("A5", "What stands between you and the first production workflow?"),
        ("A3", "What changed in the last four weeks"),
        ("A2", "Is the growth on api"),
    ],
)
def test_questions_to_ask_follow_the_account(
    run: report_data.RunData, account_id: str, question: str
) -> None:
    text = html.unescape(narrative.questions_to_ask(report_data.account_data(run, account_id)).text)
    assert question in text and 2 <= text.count("\n- ") + 1 <= 4


def test_renewal_choice_names_the_cheapest_with_its_saving_and_the_date(
    run: report_data.RunData,
) -> None:
    account = report_data.account_data(run, "A2")
    options = report_data.renewal_options(run.get("renewal_scenarios"), "A2")
    text = narrative.renewal_choice(account, options).text
    # 94900 for a commit sized to the forecast against 129800 renewing as is: 34900 less
    assert text.startswith("The contract renews on 01 July 2026.")
    assert "**expand the commit to the forecast**, $94,900 ($34,900 less than renew as is" in text


def test_no_renewal_option_for_a_not_live_account_is_a_sentence(run: report_data.RunData) -> None:
    account = report_data.account_data(run, "A5")
    options = report_data.renewal_options(run.get("renewal_scenarios"), "A5")
    text = narrative.renewal_choice(account, options).text
    assert "first workflow comes first" in text


def test_review_summary_states_outcomes_unit_cost_commit_and_renewal(
    run: report_data.RunData,
) -> None:
    account = report_data.account_data(run, "A1")
    comparison, quarter = report_data.quarter_comparison(account)
    text = narrative.review_summary(
        account, report_data.quarter_with_unit_cost(quarter), comparison, "USD"
    ).text
    assert text.startswith("In Jan–Mar 2026, Acme Corp recorded 3,600 outcomes at $")
    assert text.endswith("The term ends on 30 June 2026.")


def test_month_to_date_is_never_compared(run: report_data.RunData) -> None:
    mtd = {"label": "1–15 Apr 2026", "month": "April 2026", "amount": 4950.0, "days_left": 15}
    text = narrative.month_to_date({**mtd, "projection": 9900.0}).text
    assert text == (
        "**April 2026 so far** (1–15 Apr 2026): $4,950; at the current run rate, $9,900 by the "
        "month's end (15 days left)."
    )


def test_changes_summary_counts_every_kind(run: report_data.RunData) -> None:
    changes = run["changes"]
    text = narrative.changes_summary(
        report_data.change_counts(changes), report_data.previous_as_of(changes)
    ).text
    assert text == (
        "**Since the previous run (as of 23 Apr 2026):** new cases 1, escalated 0, resolved 1, "
        "went live 0, band changes 1, burn changes 1."
    )


def test_changes_summary_without_an_earlier_run_says_what_it_compares_with(
    run: report_data.RunData,
) -> None:
    # a first run compares with its own book recomputed a week earlier: there was no previous run
    changes = run["changes"]
    text = narrative.changes_summary(
        report_data.change_counts(changes), report_data.previous_as_of(changes), with_run=False
    ).text
    assert text.startswith(
        "**Since the book a week earlier (as of 23 Apr 2026; no earlier run to compare with):** "
        "new cases 1,"
    )


def _trend(*rows: tuple) -> pl.DataFrame:
    """rows: (cohort_month, live_accounts, median_ttfbe_days)."""
    return pl.DataFrame(
        rows, schema=["cohort_month", "live_accounts", "median_ttfbe_days"], orient="row"
    )


@pytest.mark.parametrize(
    ("account_id", "words"), [("A4", "On pay-as-you-go terms"), ("A5", "No billable usage yet")]
)
def test_commit_sentence_handles_paygo_and_not_live(
    run: report_data.RunData, account_id: str, words: str
) -> None:
    assert narrative.commit_sentence(report_data.account_data(run, account_id)).startswith(words)


def test_unowned_steps_escape_the_account(run: report_data.RunData) -> None:
    text = narrative.unowned_steps(run["overage_cases"]).text
    assert "<script>" not in text and EVIL_NAME in html.unescape(text)
    assert "no owner for expansion" in text


def test_no_word_on_owners_without_cases(run: report_data.RunData) -> None:
    assert narrative.unowned_steps(run["overage_cases"].clear()) is None
    owned = run["overage_cases"].with_columns(
        pl.lit([], pl.List(pl.String)).alias("missing_owners")
    )
    assert narrative.unowned_steps(owned).text.startswith("Every case names an owner")


def test_markdown_is_shown_as_markdown_only() -> None:
    assert narrative.note("x")._repr_mimebundle_() == {"text/markdown": "*x*"}


def test_unowned_steps_list_the_first_and_count_the_rest(run: report_data.RunData) -> None:
    unowned = report_data.unowned_cases(run["overage_cases"])
    many = pl.concat([unowned] * 40).with_columns(
        pl.format("Account {}", pl.int_range(pl.len())).alias("account_name")
    )
    text = narrative.unowned_steps(many, rows=25).text
    # 40 unowned cases, 25 listed: Account 0 .. Account 24, then a line for the other 15
    assert "**Account 24**" in text and "Account 25" not in text
    assert "and 15 more" in text and "exports/accounts.xlsx (sheet Cases)" in text


# --- files named by params: the logo (docs/reliability.md#guarantees) ---

SVG_WITH_SCRIPT = (
    '<?xml version="1.0"?>\n<!-- brand -->\n<svg xmlns="http://www.w3.org/2000/svg">'
    '<script>alert(document.cookie)</script><circle r="4"/></svg>'
)


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0....", "image/jpeg"),
        (SVG_WITH_SCRIPT.encode(), "image/svg+xml"),
    ],
)
def test_a_logo_is_read_by_its_bytes_not_its_name(tmp_path: Path, content: bytes, kind: str):
    path = tmp_path / "logo.txt"
    path.write_bytes(content)
    assert narrative.logo_image(str(path)) == (kind, content)


def test_an_svg_logo_is_embedded_as_an_image_so_its_scripts_never_run(tmp_path: Path):
    path = tmp_path / "logo.svg"
    path.write_text(SVG_WITH_SCRIPT)
    html = narrative._logo(str(path))
    assert html.startswith('<img src="data:image/svg+xml;base64,')
    assert "<script" not in html and "<svg" not in html


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"root:x:0:0:root:/root:/bin/bash\n", "is not a PNG, JPEG or SVG image"),
        (b"-----BEGIN OPENSSH PRIVATE KEY-----\n", "is not a PNG, JPEG or SVG image"),
        (b"<html><svg></svg></html>", "is not a PNG, JPEG or SVG image"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * (1 << 20), "is larger than 1,048,576 bytes"),
    ],
    ids=["passwd", "key", "html", "too_large"],
)
def test_a_logo_that_is_not_an_image_is_refused(tmp_path: Path, content: bytes, reason: str):
    path = tmp_path / "logo.png"
    path.write_bytes(content)
    with pytest.raises(ParamsError, match=reason) as caught:
        narrative.logo_image(str(path))
    assert caught.value.exit_code == 2
    assert "root:x" not in str(caught.value) and "BEGIN" not in str(caught.value)


@pytest.mark.parametrize("name", ["missing.png", "."])
def test_a_logo_that_is_no_file_is_refused(tmp_path: Path, name: str):
    with pytest.raises(ParamsError, match="is not a file"):
        narrative.logo_image(str(tmp_path / name))


def _figures_with(run: report_data.RunData, **current: float) -> pl.DataFrame:
    figures = report_data.headline_figures(run)
    for measure, value in current.items():
        figures = figures.with_columns(
            pl.when(pl.col("measure") == measure)
            .then(pl.lit(value, pl.Float64))
            .otherwise(pl.col("current"))
            .alias("current")
        )
    return figures


def test_headline_value_past_the_line_unchanged_reads_unchanged(
    run: report_data.RunData,
) -> None:
    # a book with no case a month ago and none now read "+$0 on a month earlier ($0)"
    figures = report_data.headline_figures(run)
    before = figures.filter(pl.col("measure") == "overage_amount")["previous"].item()
    rows = narrative.headline_rows(
        report_data.monthly_consumption(run["daily_spend"], run.as_of),
        _figures_with(run, overage_amount=before),
        {"healthy": 5},
        None,
    )
    against = dict(zip(rows["figure"], rows["against"], strict=True))
    assert against["Value past the line (overconsumption)"].startswith(
        "unchanged on a month earlier ("
    )


def test_headline_retention_without_a_year_earlier_says_why_there_is_no_figure(
    run: report_data.RunData,
) -> None:
    # a book younger than a year showed GRR "—" beside "no figure a month earlier"
    figures = report_data.headline_figures(run).with_columns(
        pl.when(pl.col("measure").is_in(["grr", "nrr"]))
        .then(None)
        .otherwise(pl.col("current"))
        .alias("current")
    )
    rows = narrative.headline_rows(
        report_data.monthly_consumption(run["daily_spend"], run.as_of), figures, {}, None
    )
    against = dict(zip(rows["figure"], rows["against"], strict=True))
    assert against["Gross revenue retention (GRR)"] == "no account spent in the year-earlier window"
    assert against["Net revenue retention (NRR)"] == "no account spent in the year-earlier window"


def test_track_record_states_the_pooled_back_test(tmp_path) -> None:
    from _report_run import write_run
    from drawdown.reports import data as report_data

    run = report_data.load_run(write_run(tmp_path))
    text = narrative.track_record(report_data.forecast_record(run)).text
    # pooled row: 9 accounts, 80% inside the band, 6.0% against 11.0% for the run-rate line
    assert "9 account forecasts" in text and "80% of accounts" in text
    assert (
        "6.0% against 11.0%" in text and "05 Feb, 05 Mar and 02 Apr" in text
    )  # A − 84, − 56, − 28
    # it sits under the section of that name: no bold lead repeating the heading
    assert text.startswith("Over the forecasts made on")
    # which one a reader should trust: a 40-account book's forecast missed by 13.5% against 7.4%
    assert text.endswith("for the straight run-rate line: the forecast did better.")
    worse = report_data.forecast_record(run) | {"mdape_p50": 0.135, "mdape_run_rate": 0.074}
    assert narrative.track_record(worse).text.endswith(": the run-rate line did better.")
    even = report_data.forecast_record(run) | {"mdape_p50": 0.0741, "mdape_run_rate": 0.0744}
    assert narrative.track_record(even).text.endswith("for the straight run-rate line.")


def test_reset_rows_say_why_a_pending_item_cannot_be_measured() -> None:
    tracker = pl.DataFrame(
        {
            "item_id": ["two_workflow_ladder", "csm_books"],
            "week": ["2", "1"],
            "due_date": [date(2026, 1, 14), date(2026, 1, 7)],
            "item": ["two-workflow adoption ladder", "usage-health metrics published to every CSM"],
            "measured_as": ["", ""],
            "measured": [None, 0.5],
            "target": [0.5, 1.0],
            "status": ["pending", "late"],
        }
    )
    rows = narrative.reset_rows(tracker)
    assert rows["where"].to_list() == [
        "Cannot be measured yet: no account that started since the reset has reached day 60.",
        "50% of CSMs with an active account have their CSM book (target 100%).",
    ]
    assert rows["status_label"].to_list() == ["pending", "late"]


# a tie (paying overage and expanding both $1,035,032): the other option is "the same", not
# "$0 less"
def test_renewal_choice_on_a_tie_says_the_same(run: report_data.RunData) -> None:
    account = report_data.account_data(run, "A2")
    options = pl.DataFrame(
        {
            "option": ["Renew as is, paying overage", "Expand the commit to the forecast"],
            "commit": [1_000_000.0, 1_035_031.55],
            "cost": [1_035_031.55, 1_035_031.55],
            "over_cheapest": [0.0, 0.0],
            "is_cheapest": [True, False],
            "renewal_date": [date(2026, 7, 1)] * 2,
        }
    )
    text = narrative.renewal_choice(account, options).text
    assert "$1,035,032 (the same as expand the commit to the forecast)." in text


def _shown(md: narrative.Md) -> str:
    """The text a reader sees in the rendered Markdown."""
    rendered = markdown2html_mistune(md.text)
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


def test_risks_and_wins_name_the_accounts_with_one_full_stop() -> None:
    items = [
        report_data.Item("of commit left unused", 669_000, 11, ("Willow Health", "Quarry Inc.")),
        report_data.Item("renewing under their commit", 195_000, 2, ("Tidewater", "Quarry Inc.")),
        report_data.Item("with usage falling", 290_000, 1, ("Willow Payments SA",)),
    ]
    shown = _shown(narrative.items_list("Top three risks", items))
    assert (
        "$669k of commit left unused — 11 accounts: Willow Health, Quarry Inc. and 9 more." in shown
    )
    assert "$195k renewing under their commit — 2 accounts: Tidewater, Quarry Inc.\n" in shown
    assert "$290k with usage falling — 1 account: Willow Payments SA." in shown
    assert ".." not in shown


def test_a_name_with_its_own_full_stop_ends_the_sentence() -> None:
    health = pl.DataFrame(
        {
            "account_id": ["A1", "A2"],
            "account_name": ["Willow Health", "Quarry Inc."],
            "is_smooth": [False, False],
            "account_value": [100.0, 50.0],
        }
    )
    uneven = _shown(narrative.smoothness(health.select("account_id"), health, 0.5))
    healthy = _shown(narrative.healthy_line(health))
    assert uneven.strip().endswith("Willow Health, Quarry Inc.")
    assert healthy.strip().endswith("the largest: Willow Health, Quarry Inc.")
    assert narrative.names_ending(["Willow Health"]) == "Willow Health."


def test_a_review_states_one_renewal_date(run: report_data.RunData) -> None:
    # renewal_scenarios' renewal_date is term_end + 1 day: the summary must not call the term's
    # last day the renewal
    account = report_data.account_data(run, "A2")
    comparison, quarter = report_data.quarter_comparison(account)
    summary = narrative.review_summary(
        account, report_data.quarter_with_unit_cost(quarter), comparison, "USD"
    ).text
    options = narrative.renewal_choice(
        account, report_data.renewal_options(run.get("renewal_scenarios"), "A2")
    ).text
    prep = narrative.prep_next_action(account).text + _prep_points(run, "A2", Guidelines())
    stated = set(re.findall(r"renews on ([0-9]{2} [A-Z][a-z]+ [0-9]{4})", summary + options + prep))
    assert stated == {"01 July 2026"}
    # the prep sheet counts the days to the term's end and says so
    assert "Renewal in 61 days (the term ends on 30 Jun 2026)" in html.unescape(prep)
    assert not re.search(r"Renewal in [0-9]+ days\*?\*? \([0-9]", html.unescape(prep))


def test_the_healthy_line_says_what_puts_an_account_there() -> None:
    health = pl.DataFrame(
        {"account_name": ["Willow Health", "Kestrel"], "account_value": [100.0, 50.0]}
    )
    two = _shown(narrative.healthy_line(health)).strip()
    one = _shown(narrative.healthy_line(health.head(1))).strip()
    # fewer than the healthy band when a healthy account has a case or a warning
    assert two.startswith(
        "2 accounts ($150 of annual value) have no case, no early warning and no band off "
        "target: they need nothing but a steady hand"
    )
    assert one.startswith("1 account ($100 of annual value) has no case, no early warning and no")
    assert "it needs nothing" in one


@pytest.mark.parametrize("window", [28, 14])
def test_without_recent_usage_the_outlook_names_the_run_rate_window(
    run: report_data.RunData, window: int
) -> None:
    account = report_data.account_data(run, "A1")
    silent = dataclasses.replace(account, health={**account.health, "exhaustion_date": None})
    text = narrative.forecast_status(silent, pl.DataFrame(), "USD", run_rate_days=window).text
    assert text == (
        f"No usage in the last {window} days: no date is forecast for the commit to run out."
    )


def test_headline_retention_is_not_compared_with_a_partial_year_earlier(
    run: report_data.RunData,
) -> None:
    gap = report_data.RetentionGap(
        periods.Period(date(2025, 1, 31), date(2025, 4, 30)), date(2025, 4, 22)
    )
    rows = narrative.headline_rows(
        report_data.monthly_consumption(run["daily_spend"], run.as_of),
        report_data.headline_figures(run),
        {"healthy": 5},
        None,
        retention_gap=gap,
    )
    against = dict(zip(rows["figure"], rows["against"], strict=True))
    caveat = (
        "not comparable: the year-earlier window (31 Jan–30 Apr 2025) holds 9 of its 90 days; "
        "the spend starts on 22 Apr 2025"
    )
    assert against["Gross revenue retention (GRR)"] == caveat
    assert against["Net revenue retention (NRR)"] == caveat
    assert narrative.retention_note(gap) == (
        "GRR and NRR are not comparable: the year-earlier window (31 Jan–30 Apr 2025) holds 9 of "
        "its 90 days; the spend starts on 22 Apr 2025."
    )


def _cohorts(medians: list[float], mature: list[bool], live: list[int]) -> pl.DataFrame:
    months = [date(2026, month, 1) for month in range(1, len(medians) + 1)]
    return pl.DataFrame(
        {
            "cohort_month": months,
            "accounts": live,
            "live_accounts": live,
            "median_ttfbe_days": medians,
            "mature": mature,
        }
    ).with_columns((pl.col("mature") & (pl.col("live_accounts") >= 5)).alias("claimable"))


def test_ttfbe_claim_names_every_recent_cohort_it_leaves_out() -> None:
    cohorts = _cohorts([9.0, 8.0, 6.0, 3.0, 2.0], [True, True, True, False, False], [9, 9, 9, 7, 1])
    text = narrative.ttfbe_claim(cohorts, 5, 14).text
    assert "the March 2026 cohort (9 live accounts) took a median 6 days against 8" in text
    assert (
        "The April 2026 (7 live accounts) and May 2026 (1 live account) cohorts are too recent"
    ) in text


def test_ttfbe_claim_says_unchanged_when_the_medians_are_equal() -> None:
    cohorts = _cohorts([0.0, 0.0, 0.0], [True, True, True], [9, 9, 9])
    assert (
        "Time to first billable event is **unchanged**"
        in narrative.ttfbe_claim(cohorts, 5, 14).text
    )


@pytest.mark.parametrize(
    ("live", "point"),
    [
        (0, "No workflow is recorded as live: ask which ones carry the usage."),
        (1, "One workflow carries all the usage: propose the second one."),
        (2, None),
    ],
)
def test_prep_adoption_point_follows_the_workflows_live(
    run: report_data.RunData, live: int, point: str | None
) -> None:
    account = report_data.account_data(run, "A1")
    account = dataclasses.replace(account, health={**account.health, "workflows_live": live})
    comparison, quarter = report_data.quarter_comparison(account)
    quarter = report_data.quarter_with_unit_cost(quarter)
    text = narrative.prep_talking_points(account, quarter, comparison, Guidelines()).text
    adoption = [line for line in text.splitlines() if "workflow" in line]
    assert adoption == ([f"- {point}"] if point else [])


def test_prep_early_warnings_are_in_lower_case_after_the_first(run: report_data.RunData) -> None:
    account = report_data.account_data(run, "A1")
    warned = ["zero_streak", "renewal_risk"]
    account = dataclasses.replace(account, health={**account.health, "early_warnings": warned})
    text = narrative.prep_facts(account, None).text
    assert "**Early warnings:** Days without usage, renewal risk." in text


def test_ttfbe_claim_without_a_claimable_cohort_names_only_the_recent_ones() -> None:
    cohorts = _cohorts([8.0, 7.0, 3.0], [True, True, False], [2, 1, 1])
    text = narrative.ttfbe_claim(cohorts, 5, 14).text
    assert text.startswith("Too few cohorts are large and mature enough")
    assert "January" not in text and "February" not in text
    assert text.endswith(
        "The March 2026 cohort (1 live account) is too recent (accounts that started in it have not all had 14 days): nothing is claimed on it."
    )


@pytest.mark.parametrize(
    ("exhaustion", "point"),
    [
        (
            date(2026, 6, 1),
            "- Say it before the bill does: at this pace the commit runs out on 01 Jun 2026, "
            "before the term ends.",
        ),
        (
            date(2026, 4, 2),
            "- Say it before the bill does: the commit ran out on 02 Apr 2026; usage since then is "
            "billed as overage until the term ends.",
        ),
    ],
)
def test_prep_overage_point_tells_a_commit_that_ran_out_in_the_past_tense(
    run: report_data.RunData, exhaustion: date, point: str
) -> None:
    account = report_data.account_data(run, "A1")  # no case; as of 30 Apr 2026
    health = {
        **account.health,
        "exhaustion_date": exhaustion,
        "exhausts_before_term_end": True,
        "commit_amount": 100_000.0,
    }
    account = dataclasses.replace(account, health=health, case=None)
    comparison, quarter = report_data.quarter_comparison(account)
    quarter = report_data.quarter_with_unit_cost(quarter)
    text = narrative.prep_talking_points(account, quarter, comparison, Guidelines()).text
    assert point in text.splitlines()


def test_absent_tables_are_named_with_what_reads_them() -> None:
    assert narrative.absent_tables_line(()) is None
    assert narrative.absent_tables_line(("workflows", "budgets")).text == (
        "The source has no workflows or budgets table: workflows live and the two-workflow "
        "stage read 0 for every account, and no account has a budget or alert."
    )


def test_the_clinic_says_why_no_account_has_two_workflows() -> None:
    assert narrative.no_workflows_note(("outcomes",), 60) is None
    assert html.unescape(narrative.no_workflows_note(("workflows",), 60).text) == (
        "*The source has no workflows table: no account can show a workflow live, so every live "
        "account more than 60 days in counts as stuck without two workflows.*"
    )


@pytest.mark.parametrize(
    ("accounts", "under", "names", "sentence"),
    [
        (
            1,
            0,
            (),
            "**1 account renews in the next 90 days** ($960,000 committed); it is not under its commit.",
        ),
        (
            1,
            1,
            ("Acme",),
            "**1 account renews in the next 90 days** ($960,000 committed); it is under its commit (Acme).",
        ),
        (
            3,
            0,
            (),
            "**3 accounts renew in the next 90 days** ($960,000 committed); none of them under its commit.",
        ),
        (
            3,
            1,
            ("Acme",),
            "**3 accounts renew in the next 90 days** ($960,000 committed); 1 of them under its commit (Acme).",
        ),
        (
            3,
            2,
            ("Acme", "Bolt"),
            "**3 accounts renew in the next 90 days** ($960,000 committed); 2 of them under their commit (Acme, Bolt).",
        ),
    ],
)
def test_story_renewals_agree_in_number(
    accounts: int, under: int, names: tuple[str, ...], sentence: str
) -> None:
    churn = report_data.Churn(0, 0.0, periods.Period(date(2025, 8, 18), date(2025, 11, 15)))
    renewals = report_data.Renewals(90, accounts, 960_000.0, under, names)
    assert narrative.story(None, churn, renewals).text.endswith(sentence)


@pytest.mark.parametrize(
    ("cohort", "first_spend", "sentence"),
    [
        (
            0,
            date(2024, 11, 30),
            "The spend starts on 30 Nov 2024, after the year-earlier window (18 Aug–15 Nov 2023): "
            "churn cannot be counted yet.",
        ),
        (0, date(2022, 1, 1), "No account spent in 18 Aug–15 Nov 2023, so none can have churned."),
        (4, date(2022, 1, 1), "No account that spent a year ago has stopped spending."),
    ],
)
def test_story_says_why_no_account_churned(cohort: int, first_spend: date, sentence: str) -> None:
    # as of 15 Mar 2025 on a book whose spend starts on 30 Nov 2024, the story said "No account
    # that spent a year ago has stopped spending": no account could have
    prior = periods.Period(date(2023, 8, 18), date(2023, 11, 15))
    churn = report_data.Churn(0, 0.0, prior, cohort, first_spend)
    renewals = report_data.Renewals(90, 0, 0.0, 0, ())
    assert sentence in narrative.story(None, churn, renewals).text


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (-0.16, "down 16% on"),
        (0.12, "up 12% on"),
        (0.004, "unchanged on"),
        (-0.004, "unchanged on"),
    ],
)
def test_unit_cost_change_reads_unchanged_when_it_rounds_to_zero(
    run: report_data.RunData, change: float, words: str
) -> None:
    account = report_data.account_data(run, "A1")
    comparison, quarter = report_data.quarter_comparison(account)
    quarter = report_data.quarter_with_unit_cost(quarter).with_columns(
        pl.when(pl.col("measure") == "Cost per outcome")
        .then(pl.lit(change))
        .otherwise(pl.col("change"))
        .alias("change")
    )
    previous = comparison.previous.label
    summary = narrative.review_summary(account, quarter, comparison, "USD").text
    points = narrative.prep_talking_points(account, quarter, comparison, Guidelines()).text
    assert f"({words} {previous})" in summary and f"({words} {previous})" in points
    assert "+0%" not in summary + points and " 0% on" not in summary + points


def test_prep_facts_say_a_quarter_that_rounds_to_no_change_is_unchanged(
    run: report_data.RunData,
) -> None:
    account = report_data.account_data(run, "A1")
    steady = dataclasses.replace(account, action={**account.action, "consumption_change": 0.003})
    text = narrative.prep_facts(steady, None).text
    assert "consumed (unchanged on the quarter before)." in text
    grown = dataclasses.replace(account, action={**account.action, "consumption_change": 0.25})
    assert "consumed (up 25% on the quarter before)." in narrative.prep_facts(grown, None).text


def test_prep_facts_give_the_amount_before_a_more_than_tenfold_rise(
    run: report_data.RunData,
) -> None:
    # a term that began at the end of the quarter before: 20 then 49,272, "up 243338%"
    account = report_data.account_data(run, "A1")
    action = {
        **account.action,
        "consumption_last_quarter": 49_272.0,
        "consumption_prior_quarter": 20.25,
        "consumption_change": 2432.19,
    }
    text = narrative.prep_facts(dataclasses.replace(account, action=action), None).text
    assert "$49,272 consumed ($20 the quarter before)." in text and "%" not in text.split("\n")[0]


@pytest.mark.parametrize(
    ("counts", "sentence"),
    [
        (
            {"not_live": 3, "live": 11, "two_workflows": 0},
            "**14 accounts are stuck**: 3 not live more than 14 days after their contract "
            "started, 11 live without two workflows more than 60 days in, and none with two "
            "workflows for over 28 days whose draw is not yet steady.",
        ),
        (
            {"not_live": 1, "live": 0, "two_workflows": 0},
            "**1 account is stuck**: 1 not live more than 14 days after their contract started, "
            "none live without two workflows more than 60 days in, and none with two workflows "
            "for over 28 days whose draw is not yet steady.",
        ),
    ],
)
def test_stuck_line_says_none_and_agrees_in_number(counts: dict[str, int], sentence: str) -> None:
    # a young book's clinic read "… and 0 with two workflows for over 28 days …"
    assert narrative.stuck_line(counts, 14, 60, 28).text == sentence
