"""Narrative text for the reports, drafted from the numbers: pure functions returning Markdown.

Every string that comes from the data (account names, owners, meters, segments) goes through
``escape`` first (``inert.markdown_text``), so an account named ``<script>…</script>``, ``**x**``
or ``https://…`` renders as exactly that text under any Markdown renderer. ``Md`` wraps the
result so a notebook cell shows it as ``text/markdown``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from pathlib import Path
from typing import Any

import polars as pl

from drawdown.errors import ParamsError
from drawdown.metrics import periods
from drawdown.params import Brand, Guidelines, quote
from drawdown.reports import glossary
from drawdown.reports.data import (
    CASES_FILE,
    LIST_ROWS,
    AccountData,
    Churn,
    Item,
    Renewals,
    RetentionGap,
    SegmentMove,
    changes_lead,
    counts_text,
    unowned_cases,
)
from drawdown.reports.inert import markdown_text


@dataclass(frozen=True)
class Md:
    """Markdown text; Jupyter shows it as ``text/markdown`` only."""

    text: str

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        # a dollar sign as its character reference: no renderer reads "$84 … $4" as math
        return {"text/markdown": self.text.replace("$", "&#36;")}


def joined(*parts: Md | None) -> Md:
    """Several Markdown blocks as one cell output (a heading kept with its first paragraph, so a
    page never ends on a heading alone); None and empty parts are left out."""
    return Md("\n\n".join(part.text for part in parts if part is not None and part.text))


def escape(value: Any) -> str:
    """Data text shown as exactly that text in Markdown and HTML, on one line
    (``inert.markdown_text``)."""
    return markdown_text(value)


def money(value: float | None, currency: str = "USD") -> str:
    """``1234.5`` -> ``$1,235`` for USD, ``1,235 EUR`` otherwise; ``—`` for null."""
    if value is None:
        return "—"
    sign = "-" if value < 0 else ""
    amount = f"{abs(value):,.0f}"
    return f"{sign}${amount}" if currency == "USD" else f"{sign}{amount} {currency}"


def pct(value: float | None, *, signed: bool = False) -> str:
    """``0.256`` -> ``26%`` (``+26%`` when signed); ``—`` for null."""
    if value is None:
        return "—"
    return f"{value:+.0%}" if signed else f"{value:.0%}"


def change_on(change: float, before: str) -> str:
    """A relative change against a named period: ``down 16% on May–Jul 2026``, ``up 12% on …``,
    or ``unchanged on …`` when it rounds to 0%."""
    if round(abs(change) * 100) == 0:
        return f"unchanged on {before}"
    return f"{'down' if change < 0 else 'up'} {pct(abs(change))} on {before}"


def header(title: str, brand: Brand, as_of: date, subtitle: str | None = None) -> Md:
    """The report's title block: the vendor's logo (inlined when a local file) and name, the title
    and the as-of date."""
    lines = [
        f"{brand_line(brand)} · as of {as_of:%d %B %Y}",
        "",
        f"# {escape(title)}",
    ]
    if subtitle:
        lines += ["", f"*{escape(subtitle)}*"]
    return Md("\n".join(lines))


def brand_line(brand: Brand) -> str:
    """The vendor's logo (inlined when a local file) and name, in bold, as Markdown."""
    return f"{_logo(brand.logo)}**{escape(brand.vendor_name)}**"


def section(title: str, text: str | None = None) -> Md:
    """A section heading with an optional sentence under it (both escaped)."""
    return Md(f"## {escape(title)}" + (f"\n\n{escape(text)}" if text else ""))


def note(text: str) -> Md:
    """A plain sentence (escaped), e.g. to say a section has nothing to show."""
    return Md(f"*{escape(text)}*")


def book_state(figures: pl.DataFrame) -> Md | None:
    """A sentence for a book the headline figures cannot describe (``report_data.headline_figures``):
    no account under contract on as_of, or no account with a commit; None otherwise."""
    value = {row["measure"]: row["current"] for row in figures.iter_rows(named=True)}
    if not value.get("accounts"):
        return Md(
            "No account has a contract covering this date (it precedes every contract, or every "
            "contract has ended): there is no commit, band or case to report yet."
        )
    if not value.get("commit_total"):
        return Md(
            "Every account is pay-as-you-go: none has a commit, so no commit band or burn applies."
        )
    return None


def listed(items: Sequence[str], last: str = " and ") -> str:
    """Items in a sentence: joined by commas, the last one by ``last`` ("A, B and C")."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])}{last}{items[-1]}"


def names_ending(names: list[str]) -> str:
    """Names that end a sentence, escaped and joined, with the sentence's full stop unless the
    last name brings its own ("Quarry Payments Inc.")."""
    listed = ", ".join(escape(name) for name in names)
    return listed if names and names[-1].endswith(".") else f"{listed}."


def smoothness(lines: pl.DataFrame, health: pl.DataFrame, smooth_cv_max: float) -> Md:
    """Which of the top accounts draw smoothly (cv_28d ≤ smooth_cv_max) and which do not."""
    shown = health.filter(pl.col("account_id").is_in(lines["account_id"].unique().implode()))
    uneven = shown.filter(~pl.col("is_smooth").fill_null(False))["account_name"].to_list()
    if not uneven:
        return Md(
            f"All {shown.height} top accounts draw smoothly (28-day variation ≤ {smooth_cv_max:.0%})."
        )
    return Md(
        f"Uneven daily draw (28-day variation above {smooth_cv_max:.0%} or no usage): "
        + names_ending(uneven)
    )


# --- the customer review ---


def review_summary(
    account: AccountData, quarter: pl.DataFrame, comparison: periods.Comparison, currency: str
) -> Md:
    """The customer review's opening: outcomes and their unit cost in the last complete quarter
    (``report_data.quarter_with_unit_cost``), against the quarter before only on a non-zero
    base; where the commit stands; and the day the term ends. Quarters are named."""
    health = account.health
    by = {row["measure"]: row for row in quarter.iter_rows(named=True)}
    name = escape(health["account_name"])
    outcomes, unit = by["Outcomes"], by["Cost per outcome"]
    current, previous = comparison.current.label, comparison.previous.label
    sentences = []
    if outcomes["current"]:
        sentence = f"In {current}, {name} recorded {outcomes['current']:,.0f} outcomes"
        if unit["current"] is not None:
            sentence += f" at {unit_money(unit['current'], currency)} each"
        if unit["change"] is not None:
            sentence += f" ({change_on(unit['change'], previous)})"
        sentences.append(sentence + ".")
    elif health["first_billable_date"] is not None:
        spent = by["Consumption"]["current"]
        sentences.append(f"In {current}, {name} consumed {money(spent, currency)}.")
    sentences.append(commit_sentence(account, currency))
    if health["commit_amount"]:
        # the term's last day, not the renewal: renewal_scenarios renews the day after
        sentences.append(f"The term ends on {health['term_end']:%d %B %Y}.")
    return Md(" ".join(sentences))


def usage_heading(account: AccountData) -> Md:
    """The usage section's heading: against the commit, or plain usage for pay-as-you-go."""
    return section("Usage against commit" if account.health["commit_amount"] else "Usage")


def commit_sentence(account: AccountData, currency: str = "USD") -> str:
    """Usage against commit in one sentence a customer reads (no codes): used, term gone,
    where the term ends at the current pace and the band in words."""
    health = account.health
    if not health["commit_amount"]:
        return (
            f"On pay-as-you-go terms, {money(health['account_value'], currency)} was spent over "
            f"the last year."
        )
    if health["band"] == "not_live":
        return (
            f"No billable usage yet: {money(health['commit_amount'], currency)} is committed "
            f"from {health['term_start']:%d %b %Y} to {health['term_end']:%d %b %Y}."
        )
    band = glossary.value("band", health["band"]).lower()
    return (
        f"{pct(health['utilization'])} of the {money(health['commit_amount'], currency)} commit "
        f"is used with {pct(health['elapsed_fraction'])} of the term gone; at the current pace "
        f"the term ends at {pct(health['projected_utilization'])} of the commit ({band})."
    )


def forecast_status(
    account: AccountData, cone: pl.DataFrame, currency: str = "USD", *, run_rate_days: int
) -> Md:
    """The commit's outlook: the exhaustion forecast, and the forecast range at term end when
    ``report_data.forecast_cone`` has one (shown only when the forecast artifact exists).
    ``run_rate_days`` is the run's ``bands.run_rate_window_days``: without usage in it the run
    rate is 0 and no exhaustion date is forecast."""
    health = account.health
    if not health["commit_amount"] or health["band"] == "not_live":
        return Md("")
    exhaustion = health["exhaustion_date"]
    if exhaustion is None:
        text = (
            f"No usage in the last {run_rate_days} days: no date is forecast for the commit to "
            "run out."
        )
    elif exhaustion <= account.as_of:
        text = (
            f"The commit ran out on **{exhaustion:%d %b %Y}**; usage since then is billed as "
            f"overage until the term ends on {health['term_end']:%d %b %Y}."
        )
    elif health["exhausts_before_term_end"]:
        text = (
            f"At the current pace the commit runs out on **{exhaustion:%d %b %Y}**, before the "
            f"term ends on {health['term_end']:%d %b %Y}; usage after that is billed as overage."
        )
    else:
        text = f"At the current pace the commit lasts past the term end ({health['term_end']:%d %b %Y})."
    if cone.height > 1:
        last = cone.row(-1, named=True)
        text += (
            f" Forecast range on {last['date']:%d %b %Y}: {money(last['low'], currency)} to "
            f"{money(last['high'], currency)} consumed (eight times in ten inside)."
        )
    return Md(text)


def meters_summary(meters: pl.DataFrame) -> Md:
    """One line per meter over its limit in the months shown (``report_data.meter_marks``):
    how many months over, the latest one and by how much, and its pattern in words."""
    over = meters.filter(pl.col("mark") != "within")
    if meters.height == 0:
        return note("No meter of this account has a contractual limit.")
    if not (meters["usage"].fill_null(0) > 0).any():
        limits = meters.sort("month").group_by("meter", maintain_order=True).last()
        named = "; ".join(
            f"{escape(row['meter'])} {row['limit']:,.0f} a month"
            for row in limits.iter_rows(named=True)
        )
        return Md(f"No metered usage yet. Limits: {named}.")
    if over.height == 0:
        return Md(
            f"Every metered month of the last {meters['month'].n_unique()} is within its limit."
        )
    lines = []
    for meter in over["meter"].unique(maintain_order=True).to_list():
        mine = over.filter(pl.col("meter") == meter).sort("month")
        last = mine.row(-1, named=True)
        mark = glossary.value("mark", last["mark"]).lower()
        lines.append(
            f"- **{escape(meter)}**: over its limit in {mine.height} month"
            f"{'s' if mine.height != 1 else ''}; latest {last['month']:%b %Y}, "
            f"{pct(last['pct_over'], signed=True)} ({mark})."
        )
    return Md("\n".join(lines))


def workflows_adoption(account: AccountData) -> Md:
    """Workflows live now and at 90 and 180 days, and the adoption stage in words."""
    health = account.health
    stage = glossary.value("adoption_stage", health["adoption_stage"])
    live = health["workflows_live"] or 0
    if health["first_billable_date"] is None:
        started = health["first_contract_start"]
        days = (account.as_of - started).days if started else None
        return Md(
            "**No workflow live yet**"
            + (
                f": the contract started on {started:%d %b %Y}, {days} days ago."
                if started
                else "."
            )
        )
    history = [
        f"{health[key]} at {days} days"
        for key, days in (("workflows_at_90d", 90), ("workflows_at_180d", 180))
        if health[key] is not None
    ]
    since = (
        f"; first billable day {health['first_billable_date']:%d %b %Y}"
        if health["first_billable_date"]
        else "; no billable usage yet"
    )
    return Md(
        f"**{live} workflow{'s' if live != 1 else ''} live**"
        + (f" ({', '.join(history)})" if history else "")
        + f"{since}. Adoption stage: **{stage}**."
    )


def spend_predictability(account: AccountData, variation: float | None) -> Md:
    """Predictability in words: the 28-day daily variation (cv_28d) and the month-to-month
    variation of complete months (``report_data.spend_variation``)."""
    if account.health["first_billable_date"] is None:
        return note("No billable usage yet: spend predictability starts with the first workflow.")
    cv = account.health["cv_28d"]
    parts = []
    if cv is not None:
        smooth = "smooth" if account.health["is_smooth"] else "uneven"
        parts.append(
            f"Daily spend over the last 28 days is {smooth} (it varies by {pct(cv)} day to day)."
        )
    parts.append(predictability(variation).text)
    return Md(" ".join(parts))


def renewal_choice(account: AccountData, options: pl.DataFrame, currency: str = "USD") -> Md:
    """The renewal options (``report_data.renewal_options``) in a sentence: the renewal date,
    the cheapest option with its saving against each other one; a sentence instead for an
    account that is not live or is on pay-as-you-go."""
    health = account.health
    if health["band"] == "not_live":
        return note(
            "No renewal option is priced before the first billable usage: the first workflow "
            "comes first."
        )
    if not health["commit_amount"]:
        return note("Pay-as-you-go: there is no commit to renew.")
    if options.height == 0:
        return note("No renewal option is priced for this account yet.")
    cheapest = options.row(0, named=True)
    when = f"The contract renews on {cheapest['renewal_date']:%d %B %Y}. "
    name = escape(cheapest["option"].lower())
    if options.height == 1:
        return Md(
            when + f"At the forecast usage the next term costs {money(cheapest['cost'], currency)} "
            f"({name}); no other option is cheaper."
        )
    others = "; ".join(
        _saving(row["over_cheapest"], escape(row["option"].lower()), currency)
        for row in options.slice(1).iter_rows(named=True)
    )
    return Md(
        when + f"Cheapest over the next term at the forecast usage: **{name}**, "
        f"{money(cheapest['cost'], currency)} ({others})."
    )


def _saving(over_cheapest: float, option: str, currency: str) -> str:
    """What the cheapest saves against ``option``; "the same as" when that rounds to nothing."""
    amount = money(over_cheapest, currency)
    return (
        f"the same as {option}"
        if amount == money(0.0, currency)
        else f"{amount} less than {option}"
    )


def unit_money(value: float | None, currency: str = "USD") -> str:
    """Money per unit: two decimals under 100 (``$0.30``), whole above; ``—`` for null."""
    if value is None or abs(value) >= 100:
        return money(value, currency)
    amount = f"{abs(value):,.2f}"
    sign = "-" if value < 0 else ""
    return f"{sign}${amount}" if currency == "USD" else f"{sign}{amount} {currency}"


# --- the internal prep sheet ---


def prep_next_action(account: AccountData) -> Md:
    """The next action, its owner and reason (``account_actions``), and the renewal in days and
    as a date."""
    action, health = account.action, account.health
    role = glossary.value("owner_role", action["owner_role"])
    owner = (
        f"owner {escape(action['owner'])} ({role})"
        if action["owner"]
        else f"no {role} named to own it"
    )
    renewal = action["days_to_renewal"]
    renews = (
        f"**Renewal in {renewal} days** (the term ends on {health['term_end']:%d %b %Y})."
        if renewal is not None and health["term_end"]
        else "**No renewal date** (pay-as-you-go)."
    )
    return Md(
        f"**Next action: {glossary.value('next_action', action['next_action'])}**, "
        f"{owner}. {escape(action['reason'])}\n\n{renews}"
    )


TENFOLD = 9.0
"""A change above this (+900%: more than tenfold, as from the few days of a term begun at the end
of the quarter before) is told as the amount before, not as a percentage nobody can read."""


def prep_facts(account: AccountData, budget: dict[str, Any] | None, currency: str = "USD") -> Md:
    """The prep sheet's facts as a short list: band and burn, early warnings, the case and its
    status, the technical counterpart, and budget and alert status (``budget``: the account's
    row of ``account_budgets``, None without one)."""
    health, case = account.health, account.case
    words = [glossary.value("warning", w) for w in health["early_warnings"] or []]
    warnings = words[:1] + [word.lower() for word in words[1:]]
    action = account.action
    last, prior = action["consumption_last_quarter"], action["consumption_prior_quarter"]
    change = action["consumption_change"]
    quarter = f"- **Last complete quarter:** {money(last, currency)} consumed" + (
        f" ({change_on(change, 'the quarter before')})."
        if change is not None and change <= TENFOLD
        else f" ({money(prior, currency)} the quarter before)."
    )
    lines = [
        quarter,
        f"- **Band:** {glossary.value('band', health['band'])}"
        + (f"; burn {glossary.value('burn', health['burn']).lower()}" if health["burn"] else "")
        + f"; annual value {money(health['account_value'], currency)}.",
        f"- **Early warnings:** {', '.join(warnings) if warnings else 'none'}.",
        "- **Case:** " + (case_line(case, currency) if case else "no meter over its limit."),
        "- **Technical counterpart:** "
        + (
            escape(health["technical_counterpart"])
            if health["technical_counterpart"]
            else "none named"
        )
        + ".",
        f"- **Budget and alerts:** {budget_line(budget, currency)}",
    ]
    return Md("\n".join(lines))


def case_line(case: dict[str, Any], currency: str = "USD") -> str:
    """The overconsumption case in one line: meter, pattern, how far over, value past the line,
    triage and status in words."""
    status = (
        glossary.value("status", case["status"]) if case["status"] else "no conversation recorded"
    )
    return (
        f"{escape(case['meter'])} {pct(case['pct_over'])} over its limit "
        f"({glossary.value('pattern', case['pattern']).lower()}), "
        f"{money(case['overage_amount'], currency)} past the line; triage "
        f"{glossary.value('triage', case['triage']).lower()}; status: {status.lower()}."
    )


def budget_line(budget: dict[str, Any] | None, currency: str = "USD") -> str:
    """Budget and alert status in words from the account's ``account_budgets`` row."""
    if budget is None or budget.get("monthly_budget") is None:
        return "no budget set: suggest one with an alert before the next invoice."
    line = (
        f"{money(budget['monthly_budget'], currency)} a month since "
        f"{budget['enabled_date']:%d %b %Y}, alert at {pct(budget['alert_threshold_pct'])}"
    )
    used = budget.get("budget_used")
    if used is None:
        return line + "."
    state = "alert reached" if budget.get("alert_reached") else "below the alert"
    return line + f"; {pct(used)} used this month ({state})."


RENEWAL_TALK_DAYS = 120
"""A renewal this close is a talking point (and a question) on the prep sheet."""


def prep_talking_points(
    account: AccountData,
    quarter: pl.DataFrame,
    comparison: periods.Comparison,
    guidelines: Guidelines,
    currency: str = "USD",
) -> Md:
    """Three to five talking points drafted from the numbers with the guidelines applied:
    ``lead_with`` (outcomes or usage) orders them; when ``avoid`` names surprise invoices,
    overage or the bill, any overage ahead (a case, or a commit that runs out before the term
    ends) is raised first with its amount and date; the tone is the wording's, not a line."""
    health = account.health
    by = {row["measure"]: row for row in quarter.iter_rows(named=True)}
    current, previous = comparison.current.label, comparison.previous.label
    points: dict[str, str] = {}
    outcomes, unit = by["Outcomes"], by["Cost per outcome"]
    if outcomes["current"]:
        text = f"Open with results: {outcomes['current']:,.0f} outcomes in {current}"
        if unit["change"] is not None and unit["current"] is not None:
            text += (
                f", each costing {unit_money(unit['current'], currency)} "
                f"({change_on(unit['change'], previous)})"
            )
        points["outcomes"] = text + "."
    usage = commit_sentence(account, currency)
    points["usage"] = f"Usage: {usage[:1].lower()}{usage[1:]}"
    overage = _overage_point(account, currency)
    if overage:
        points["overage"] = overage
    live = health["workflows_live"] or 0
    if health["band"] == "not_live":
        points["adoption"] = "Agree the first production workflow and a date for it."
    elif live == 0:
        points["adoption"] = "No workflow is recorded as live: ask which ones carry the usage."
    elif live == 1:
        points["adoption"] = "One workflow carries all the usage: propose the second one."
    renewal = account.action["days_to_renewal"]
    if health["commit_amount"] and renewal is not None and 0 <= renewal <= RENEWAL_TALK_DAYS:
        points["renewal"] = (
            f"Renewal in {renewal} days (the term ends on {health['term_end']:%d %b %Y}): agree "
            "the renewal option and its timeline in this meeting."
        )
    if health["early_warnings"]:
        points["warning"] = (
            "Ask about the warning signs before the numbers: "
            + ", ".join(glossary.value("warning", w).lower() for w in health["early_warnings"])
            + "."
        )
    lead = "outcomes" if guidelines.lead_with.strip().lower().startswith("outcome") else "usage"
    order = [lead, "overage"] if _avoids_surprise_bills(guidelines) else [lead]
    ordered = [points.pop(key) for key in order if key in points] + list(points.values())
    return Md("\n".join(f"- {point}" for point in ordered[:5]))


def questions_to_ask(account: AccountData) -> Md:
    """Two to four questions for the meeting, chosen from the account's situation."""
    health, case = account.health, account.case
    warnings = set(health["early_warnings"] or [])
    questions = []
    if health["band"] == "not_live":
        questions.append("What stands between you and the first production workflow?")
    if "usage_drop" in warnings or "zero_streak" in warnings:
        questions.append("What changed in the last four weeks: a project paused, a team moved?")
    if case:
        questions.append(
            f"Is the growth on {escape(case['meter'])} planned to continue, and which projects drive it?"
        )
    if health["burn"] == "too_fast" and not case:
        questions.append("Is the faster usage planned, or could caching or routing cut it?")
    if health["burn"] == "too_slow":
        questions.append("Which workflow is next, and what data or access does it need?")
    if (health["workflows_live"] or 0) <= 1 and health["band"] != "not_live":
        questions.append("Which other team has work this could take on?")
    if (
        health["remaining_days"] is not None
        and health["remaining_days"] <= RENEWAL_TALK_DAYS
        and health["commit_amount"]
    ):
        questions.append("Who signs the renewal, and when does procurement need the proposal?")
    questions.append("What outcome would make the next quarter a success for you?")
    return Md("\n".join(f"- {question}" for question in questions[:4]))


def _overage_point(account: AccountData, currency: str) -> str | None:
    health, case = account.health, account.case
    if case:
        return (
            f"Raise the overage now, not on the invoice: {escape(case['meter'])} is "
            f"{pct(case['pct_over'])} over its limit, "
            f"{money(case['overage_amount'], currency)} past the line."
        )
    exhaustion = health["exhaustion_date"]
    if not (health["commit_amount"] and health["exhausts_before_term_end"] and exhaustion):
        return None
    if exhaustion <= account.as_of:
        return (
            f"Say it before the bill does: the commit ran out on {exhaustion:%d %b %Y}; usage "
            "since then is billed as overage until the term ends."
        )
    return (
        f"Say it before the bill does: at this pace the commit runs out on "
        f"{exhaustion:%d %b %Y}, before the term ends."
    )


def _avoids_surprise_bills(guidelines: Guidelines) -> bool:
    text = guidelines.avoid.lower()
    return any(word in text for word in ("surprise", "invoice", "overage", "bill"))


def unowned_steps(cases: pl.DataFrame, rows: int = LIST_ROWS) -> Md | None:
    """Call out the first ``rows`` of the ``cases`` with a step no one owns
    (``report_data.unowned_cases``, in rank order) and say how many more there are and where
    they all are; None without cases."""
    if cases.height == 0:
        return None
    unowned = unowned_cases(cases)
    if unowned.height == 0:
        return Md(
            "Every case names an owner for detection, the first conversation and the expansion."
        )
    lines = [
        f"- **{escape(row['account_name'])}**: no owner for "
        + " and ".join(escape(step.replace("_", " ")) for step in row["missing_owners"])
        for row in unowned.head(rows).iter_rows(named=True)
    ]
    if unowned.height > rows:
        lines.append(
            f"- … and {unowned.height - rows:,} more: every case and its missing owners are in "
            f"the run folder's `{CASES_FILE}`."
        )
    return Md(
        "**Unowned steps.** These cases have a step with no name against it:\n\n" + "\n".join(lines)
    )


def customer_line(account: AccountData) -> str:
    """The customer review's subtitle (escaped by ``header``): the contract and the customer's
    CSM, nothing internal."""
    health = account.health
    kind = (
        "pay-as-you-go"
        if not health["commit_amount"]
        else f"contract {health['term_start']:%d %b %Y} to {health['term_end']:%d %b %Y}"
    )
    csm = f" · your customer success manager: {health['csm_owner']}" if health["csm_owner"] else ""
    return kind[:1].upper() + kind[1:] + csm


def account_line(account: AccountData) -> str:
    """One plain line naming the account's segment, contract and owners (escaped by ``header``)."""
    health = account.health
    kind = (
        "pay-as-you-go"
        if not health["commit_amount"]
        else f"term {health['term_start']:%d %b %Y} to {health['term_end']:%d %b %Y}"
    )
    return (
        f"{health['segment']} · {kind} · CSM {health['csm_owner'] or 'unassigned'} · "
        f"AE {health['ae_owner'] or 'unassigned'}"
    )


def month_to_date(mtd: dict[str, Any], currency: str = "USD") -> Md:
    """As-of's month so far beside its projection (``report_data.month_to_date``): never
    compared with a complete month."""
    if not mtd["days_left"]:
        return Md(f"**{mtd['month']}**, to its last day: {money(mtd['amount'], currency)}.")
    return Md(
        f"**{mtd['month']} so far** ({mtd['label']}): {money(mtd['amount'], currency)}; at the "
        f"current run rate, {money(mtd['projection'], currency)} by the month's end "
        f"({mtd['days_left']} days left)."
    )


def changes_summary(counts: dict[str, int] | None, since: date | None, with_run: bool = True) -> Md:
    """What changed since the previous run (or, not ``with_run``, since the book a week earlier),
    in counts (``report_data.change_counts``): the line the clinic and the digest lead with."""
    if counts is None:
        return note("No comparison with a previous run is available for this run.")
    lead = changes_lead(f"{since:%d %b %Y}" if since else None, with_run)
    return Md(f"**{lead}:** {counts_text(counts)}.")


def predictability(variation: float | None) -> Md:
    """Spend predictability in words from the month-to-month coefficient of variation."""
    if variation is None:
        return note("Fewer than two complete months of spend: predictability cannot be judged yet.")
    verdict = (
        "predictable"
        if variation <= 0.15
        else "moderately variable"
        if variation <= 0.35
        else "volatile"
    )
    return Md(f"Monthly spend is **{verdict}**: it varies by {pct(variation)} month to month.")


def _logo(logo: str | None) -> str:
    if not logo:
        return ""
    kind, data = logo_image(logo)
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img src="data:{kind};base64,{encoded}" alt="logo" style="height:28px;vertical-align:middle;margin-right:8px">'


LOGO_MAX_BYTES = 1 << 20
"""Largest logo file read (1 MiB)."""


def logo_image(logo: str) -> tuple[str, bytes]:
    """The logo file ``report.brand.logo`` names, as (media type, bytes), read only when it is a
    regular file of at most ``LOGO_MAX_BYTES`` whose bytes are a PNG, JPEG or SVG image (magic
    bytes, whatever its name); else ParamsError (exit 2). The reports embed it as a data: URI in
    an ``<img>``, where an SVG's scripts never run (docs/reliability.md#guarantees)."""
    path = Path(logo).expanduser()
    refused = f"report.brand.logo: {quote(logo)}"
    if not path.is_file():
        raise ParamsError(f"{refused} is not a file; it accepts a PNG, JPEG or SVG image file")
    try:
        with path.open("rb") as handle:
            data = handle.read(LOGO_MAX_BYTES + 1)
    except OSError as exc:
        raise ParamsError(f"{refused} cannot be read ({exc.strerror})") from None
    if len(data) > LOGO_MAX_BYTES:
        raise ParamsError(f"{refused} is larger than {LOGO_MAX_BYTES:,} bytes")
    kind = _image_kind(data)
    if kind is None:
        raise ParamsError(f"{refused} is not a PNG, JPEG or SVG image (by its bytes)")
    return kind, data


def _image_kind(data: bytes) -> str | None:
    """The media type the leading bytes declare: PNG, JPEG or SVG (UTF-8 text whose first
    element, after an XML declaration, comments or a doctype, is ``<svg``); else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    try:
        text = data.decode("utf-8").lstrip("\ufeff \t\r\n")
    except UnicodeDecodeError:
        return None
    prolog = re.match(r"^(?:<\?xml[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>]*>|\s+)*<svg[\s>]", text, re.S)
    return "image/svg+xml" if prolog else None


# --- the executive review's first page ---


def short_money(value: float | None, currency: str = "USD") -> str:
    """``3787328`` -> ``$3.8M``, ``189001`` -> ``$189k``, ``950`` -> ``$950``; ``—`` for null."""
    if value is None:
        return "—"
    size = abs(value)
    text = (
        f"{size / 1e6:.1f}M"
        if size >= 1e6
        else f"{size / 1e3:.0f}k"
        if size >= 1e4
        else f"{size / 1e3:.1f}k"
        if size >= 1e3
        else f"{size:.0f}"
    )
    sign = "-" if value < 0 else ""
    return f"{sign}${text}" if currency == "USD" else f"{sign}{text} {currency}"


def items_list(title: str, items: list[Item], currency: str = "USD", empty: str = "None.") -> Md:
    """A numbered list of risks or wins (``report_data.risks`` / ``wins``): the money in bold,
    what it is, and the accounts behind it."""
    if not items:
        return Md(f"**{escape(title)}.** {escape(empty)}")
    lines = []
    for number, item in enumerate(items, 1):
        more = item.accounts - len(item.names)
        behind = (
            ", ".join(escape(name) for name in item.names) + f" and {more:,} more."
            if more > 0
            else names_ending(list(item.names))
        )
        count = f"{item.accounts:,} account{'s' if item.accounts != 1 else ''}"
        lines.append(
            f"{number}. **{short_money(item.amount, currency)}** {escape(item.what)} — {count}: {behind}"
        )
    return Md(f"**{escape(title)}**\n\n" + "\n".join(lines))


def headline_rows(
    consumption: pl.DataFrame,
    figures: pl.DataFrame,
    bands_now: dict[str, int],
    bands_before: dict[str, int] | None,
    currency: str = "USD",
    retention_gap: RetentionGap | None = None,
) -> pl.DataFrame:
    """The first page's headline figures as text: figure, now, against (what it is compared
    with). Consumption: the last complete month against the month before and a year before
    (``report_data.monthly_consumption``); value past the line, GRR and NRR against a month
    earlier (``report_data.headline_figures``), or, with a ``retention_gap``, why GRR and NRR
    are not comparable; accounts by band against a month earlier."""
    month = {row["period"]: row for row in consumption.iter_rows(named=True)}
    last = month["last_month"]

    def against(key: str) -> str | None:
        base = month[key]
        if not base["amount"]:
            return None
        return (
            f"{pct(last['amount'] / base['amount'] - 1, signed=True)} on {base['label']} "
            f"({short_money(base['amount'], currency)})"
        )

    value = {row["measure"]: row for row in figures.iter_rows(named=True)}

    def points(measure: str) -> str:
        if retention_gap is not None:
            return f"not comparable: {retention_caveat(retention_gap)}"
        now, before = value[measure]["current"], value[measure]["previous"]
        if now is None:  # null only without prior revenue (docs/metrics.md#retention)
            return "no account spent in the year-earlier window"
        if before is None:
            return "no figure a month earlier"
        change = round((now - before) * 100)
        unit = "point" if abs(change) == 1 else "points"
        return (
            f"{change:+d} {unit} on a month earlier" if change else "unchanged on a month earlier"
        )

    overage = value["overage_amount"]
    if overage["previous"] is None or overage["current"] is None:
        overage_against = "no figure a month earlier"
    else:
        change = overage["current"] - overage["previous"]
        shown = short_money(abs(change), currency)
        sign = "+" if change > 0 else "-"
        moved = "unchanged" if shown == short_money(0, currency) else f"{sign}{shown}"
        overage_against = (
            f"{moved} on a month earlier ({short_money(overage['previous'], currency)})"
        )
    bands = " · ".join(
        f"{count:,} {BAND_WORDS[band]}" for band, count in bands_now.items() if count
    )
    band_moves = (
        ", ".join(
            f"{BAND_WORDS[band]} {bands_now[band] - bands_before.get(band, 0):+d}"
            for band in bands_now
            if bands_now[band] != bands_before.get(band, 0)
        )
        or "no change"
        if bands_before is not None
        else None
    )
    rows = [
        (
            f"Consumption revenue, {last['label']}",
            money(last["amount"], currency),
            "; ".join(text for text in (against("month_before"), against("year_before")) if text)
            or "no earlier month to compare with",
        ),
        (
            "Value past the line (overconsumption)",
            money(overage["current"], currency),
            overage_against,
        ),
        ("Gross revenue retention (GRR)", pct(value["grr"]["current"]), points("grr")),
        ("Net revenue retention (NRR)", pct(value["nrr"]["current"]), points("nrr")),
        (
            "Accounts by band",
            bands,
            f"{band_moves} on a month earlier" if band_moves else "no figure a month earlier",
        ),
    ]
    return pl.DataFrame(rows, schema=["figure", "now", "against"], orient="row")


def retention_caveat(gap: RetentionGap) -> str:
    """Why GRR and NRR mislead with a ``gap``: how little of the year-earlier window the data
    holds."""
    return (
        f"the year-earlier window ({gap.prior.label}) holds {gap.covered_days} of its "
        f"{gap.prior.days} days; the spend starts on {gap.first_spend.day} "
        f"{gap.first_spend:%b %Y}"
    )


def retention_note(gap: RetentionGap | None) -> str | None:
    """The segment table's note on GRR and NRR with a ``gap``; None without one."""
    return None if gap is None else f"GRR and NRR are not comparable: {retention_caveat(gap)}."


def _renewals_under(renewals: Renewals) -> str:
    """How many of the renewing accounts are under their commit, named."""
    names = (
        f" ({', '.join(escape(name) for name in renewals.names_under)})"
        if renewals.names_under
        else ""
    )
    if renewals.accounts == 1:
        return (
            f"; it is under its commit{names}" if renewals.under else "; it is not under its commit"
        )
    if not renewals.under:
        return "; none of them under its commit"
    their = "its" if renewals.under == 1 else "their"
    return f"; {renewals.under:,} of them under {their} commit{names}"


BAND_WORDS = {
    "healthy": "healthy",
    "under": "under",
    "over": "over",
    "not_live": "not live",
    "paygo": "pay-as-you-go",
}


def story(
    move: SegmentMove | None,
    churn: Churn,
    renewals: Renewals,
    currency: str = "USD",
) -> Md:
    """The first page's story in three sentences: the segment that moved most, the accounts
    churned, and those renewing soon (how many under their commit)."""
    sentences = []
    if move is not None:
        against = (
            f" against {pct(move.grr_all)} for the whole book" if move.grr_all is not None else ""
        )
        change = round((move.grr - move.grr_before) * 100) if move.grr_before is not None else None
        before = (
            f", {change:+d} point{'s' if abs(change) != 1 else ''} on a month earlier"
            if change
            else ", unchanged on a month earlier"
            if change == 0
            else ""
        )
        sentences.append(
            f"**{escape(move.segment)}** has the lowest gross retention: {pct(move.grr)}{against}"
            f"{before}; {move.under:,} of its {move.accounts:,} accounts are under their commit."
        )
    if churn.accounts:
        sentences.append(
            f"**{churn.accounts:,} account{'s' if churn.accounts != 1 else ''} churned**: "
            f"{'they' if churn.accounts != 1 else 'it'} spent {money(churn.lost, currency)} in "
            f"{churn.prior.label} and nothing in the last 90 days."
        )
    else:
        sentences.append(_no_churn(churn))
    if renewals.accounts:
        sentences.append(
            f"**{renewals.accounts:,} account{' renews' if renewals.accounts == 1 else 's renew'} "
            f"in the next {renewals.days} days** ({money(renewals.commit, currency)} committed)"
            f"{_renewals_under(renewals)}."
        )
    else:
        sentences.append(f"No account renews in the next {renewals.days} days.")
    return Md(" ".join(sentences))


def _no_churn(churn: Churn) -> str:
    """Why no account churned: none stopped, none spent in the year-earlier window, or the book's
    spend starts after it."""
    if churn.cohort != 0:
        return "No account that spent a year ago has stopped spending."
    if churn.first_spend is None:
        return "The book has no spend yet: churn cannot be counted."
    if churn.first_spend > churn.prior.last:
        return (
            f"The spend starts on {churn.first_spend:%d %b %Y}, after the year-earlier window "
            f"({churn.prior.label}): churn cannot be counted yet."
        )
    return f"No account spent in {churn.prior.label}, so none can have churned."


def healthy_line(healthy: pl.DataFrame, currency: str = "USD") -> Md:
    """The healthy group (``report_data.briefing_groups``) in one sentence: how many, their annual
    value, what puts them there (no case, no early warning, no band off target: fewer than the
    healthy band when a healthy account has a case or a warning), the largest three."""
    if healthy.height == 0:
        return note("No account is in the healthy group.")
    largest = names_ending(healthy["account_name"].head(3).to_list())
    one = healthy.height == 1
    return Md(
        f"{healthy.height:,} account{'' if one else 's'} "
        f"({money(float(healthy['account_value'].sum()), currency)} of annual value) "
        f"{'has' if one else 'have'} no case, no early warning and no band off target: "
        f"{'it needs' if one else 'they need'} nothing but a steady hand; the largest: {largest}"
    )


def crossing_line(crossing: pl.DataFrame) -> Md:
    """How many meters are forecast to cross their limit before the month closes."""
    if crossing.height == 0:
        return Md("No meter is forecast to cross its limit before the month closes.")
    accounts = crossing["account_id"].n_unique()
    return Md(
        f"**{crossing.height:,} meter{'s' if crossing.height != 1 else ''} at {accounts:,} "
        f"account{'s' if accounts != 1 else ''} will cross {'their limits' if crossing.height != 1 else 'its limit'} "
        "before the month closes** at the forecast median: cases to raise before the bill does."
    )


def warnings_line(counts: dict[str, int], accounts: int) -> Md:
    """Early warnings counted per account: how many accounts, and how many show each warning."""
    if not accounts:
        return Md("No account shows an early warning.")
    each = ", ".join(f"{name.replace('_', ' ')} {count:,}" for name, count in counts.items())
    return Md(
        f"**{accounts:,} account{'s show' if accounts != 1 else ' shows'} an early warning** "
        f"(accounts per warning: {each}; an account can show more than one)."
    )


RESET_WORDS = {
    "csm_books": ("{m:.0%} of CSMs with an active account have their CSM book", "target 100%"),
    "onboarding_ttfbe": (
        "new accounts took a median {m:.0f} days to their first billable event",
        "target at most {t:.0f} days",
    ),
    "two_workflow_ladder": (
        "{m:.0%} of new accounts past day 60 had two workflows live by day 60",
        "target {t:.0%}",
    ),
    "budgets_alerts": (
        "{m:.0%} of new accounts and the ten largest have a budget with alerts",
        "target 100%",
    ),
    "value_reviews": ("{m:.0f} value reviews held since the reset began", "target {t:.0f}"),
    "usage_clinic": ("a usage clinic was held in {m:.0%} of weeks 5–8 so far", "target every week"),
    "technical_counterparts": (
        "{m:.0%} of strategic accounts have a technical counterpart",
        "target 100%",
    ),
    "comp_weights": (
        "{m:.0%} of variable pay rides on retention, adoption depth and stability",
        "target {t:.0%}",
    ),
}
"""Each reset item's measure in words (``m`` measured, ``t`` target)."""
RESET_PENDING = {
    "csm_books": "no active account names a CSM",
    "onboarding_ttfbe": "no account that started since the reset is live yet",
    "two_workflow_ladder": "no account that started since the reset has reached day 60",
    "budgets_alerts": "no new or top-ten account to measure",
    "usage_clinic": "week 5 has not begun",
    "technical_counterparts": "no account is strategic",
}
"""Why a ``pending`` item cannot be measured yet."""
RESET_STATUS = {
    "done": "done",
    "on_track": "on track",
    "late": "late",
    "not_started": "not started",
    "pending": "pending",
}


def reset_rows(tracker: pl.DataFrame) -> pl.DataFrame:
    """The reset tracker in plain words: week, item, where it stands (the measure against its
    target, or why it cannot be measured yet), due, status."""
    rows = []
    for row in tracker.iter_rows(named=True):
        share = row["target"] is not None and row["target"] <= 1
        words, target = RESET_WORDS.get(
            row["item_id"],
            ("measured {m:.0%}", "target {t:.0%}")
            if share
            else ("measured {m:,.0f}", "target {t:,.0f}"),
        )
        if row["measured"] is None:
            where = "Cannot be measured yet: " + RESET_PENDING.get(
                row["item_id"], "nothing to measure yet"
            )
        else:
            where = (
                words.format(m=row["measured"], t=row["target"])
                + f" ({target.format(t=row['target'])})"
            )
            where = where[0].upper() + where[1:]
        rows.append(
            (
                f"Week {row['week']}",
                row["item"][0].upper() + row["item"][1:],
                where + ".",
                f"{row['due_date']:%d}\u00a0{row['due_date']:%b}",
                RESET_STATUS.get(row["status"], row["status"]),
                row["status"],
            )
        )
    return pl.DataFrame(
        rows, schema=["week", "item", "where", "due", "status_label", "status"], orient="row"
    )


def ttfbe_claim(cohorts: pl.DataFrame, min_group: int, target_days: int) -> Md:
    """Is time to first billable event getting shorter? Only cohorts that are ``claimable``
    (``report_data.ttfbe_cohort_table``: mature and with at least ``min_group`` live accounts)
    are compared; the latest claimable one against the mean of those before it. The cohorts
    after it are named, with why nothing is claimed on them."""
    claimable = cohorts.filter(pl.col("claimable"))
    caveat = "".join(
        f" {_cohorts_left_out(list(rows), reason, min_group, target_days)}"
        for reason, rows in groupby(_trailing_unclaimable(cohorts), key=_left_out_reason)
    )
    if claimable.height < 2:
        return Md(
            "Too few cohorts are large and mature enough to say whether time to first billable "
            f"event is falling (at least {min_group} live accounts each)." + caveat
        )
    latest = claimable.row(-1, named=True)
    before = float(claimable.head(claimable.height - 1)["median_ttfbe_days"].mean())
    now = latest["median_ttfbe_days"]
    direction = "shorter" if now < before else "longer" if now > before else "unchanged"
    return Md(
        f"Time to first billable event is **{direction}**: the {latest['cohort_month']:%B %Y} "
        f"cohort ({_live(latest)}) took a median {now:.0f} days against {before:.0f} for the "
        f"{claimable.height - 1} mature cohort{'s' if claimable.height > 2 else ''} before it "
        f"with at least {min_group} live accounts." + caveat
    )


def _trailing_unclaimable(cohorts: pl.DataFrame) -> list[dict[str, Any]]:
    """The cohorts after the latest claimable one, oldest first; when none is claimable (the
    claim already says too few are), only the latest ones that are too recent."""
    rows = cohorts.rows(named=True)
    claimable = [index for index, row in enumerate(rows) if row["claimable"]]
    if claimable:
        return rows[claimable[-1] + 1 :]
    mature = [index for index, row in enumerate(rows) if row["mature"]]
    return rows[mature[-1] + 1 :] if mature else rows


def _left_out_reason(row: dict[str, Any]) -> str:
    return "small" if row["mature"] else "recent"


def _cohorts_left_out(
    rows: list[dict[str, Any]], reason: str, min_group: int, target_days: int
) -> str:
    """One sentence on the cohorts left out for one reason, such as: The April 2026 (7 live
    accounts) and May 2026 (1 live account) cohorts are too recent (…): nothing is claimed on
    them."""
    if len(rows) == 1:
        only = rows[0]
        subject, them = f"The {only['cohort_month']:%B %Y} cohort ({_live(only)}) is", "it"
    else:
        months = [f"{row['cohort_month']:%B %Y} ({_live(row)})" for row in rows]
        subject = f"The {listed(months)} cohorts are"
        them = "them"
    why = (
        f"too recent (accounts that started in {them} have not all had {target_days} days)"
        if reason == "recent"
        else f"too small (under {min_group} live accounts)"
    )
    return f"{subject} {why}: nothing is claimed on {them}."


def _live(row: dict[str, Any]) -> str:
    n = row["live_accounts"]
    return f"{n} live account{'s' if n != 1 else ''}"


def coverage_text(coverage: dict[str, dict[str, float]], currency: str = "USD") -> Md:
    """Usage the metrics could not count (``report_data.data_coverage``), in money where a
    price exists, and the rows rejected."""
    parts = []
    for kind, words in (
        ("unrated", "usage on a meter with no price"),
        ("out_of_contract", "usage on days no contract covers"),
    ):
        entry = coverage[kind]
        if not entry["rows"]:
            parts.append(f"No {words}.")
            continue
        amount = (
            f"worth {money(entry['amount'], currency)}"
            if "amount" in entry
            else "not in money: no price applies to it"
        )
        parts.append(
            f"{words[0].upper()}{words[1:]}: {entry['rows']:,.0f} rows at {entry['accounts']:,.0f} "
            f"account{'s' if entry['accounts'] != 1 else ''} ({entry['quantity']:,.0f} units), "
            f"{amount}; it is left out of every figure."
        )
    rejected = coverage["rejected"]
    parts.append(
        "Rows rejected on reading: "
        + ", ".join(f"{table} {count:,.0f}" for table, count in rejected.items())
        + "."
        if rejected
        else "No input row was rejected."
    )
    return Md(" ".join(parts))


def track_record(record: dict[str, Any] | None) -> Md:
    """The forecast track record in one sentence, for the section of that name
    (``report_data.forecast_record``): how often the actual 28 days fell inside the forecast's
    10–90% band, and the median error of the forecast against the straight run-rate line, with
    the one that did better when they differ as shown (to a tenth of a percent)."""
    if record is None:
        return note("No forecast track record is available in this run.")
    made = record.get("made") or []
    when = (
        f"the forecasts made on {listed([f'{day:%d %b}' for day in made])}"
        if made
        else "the back-tested forecasts"
    )
    forecast, run_rate = f"{record['mdape_p50']:.1%}", f"{record['mdape_run_rate']:.1%}"
    better = ""
    if forecast != run_rate:
        closer = record["mdape_p50"] < record["mdape_run_rate"]
        better = f": the {'forecast' if closer else 'run-rate line'} did better"
    return Md(
        f"Over {when} ({record['accounts']:,} account forecasts of the "
        f"next {record['horizon_days']} days), the actual consumption fell inside the forecast's "
        f"10–90% band for {pct(record['coverage_p10_p90'])} of accounts (80% is the aim); the "
        f"median forecast missed by {forecast} against {run_rate} for the straight run-rate "
        f"line{better}."
    )


ABSENT_TABLE_EFFECTS = {
    "workflows": "workflows live and the two-workflow stage read 0 for every account",
    "outcomes": "no cost per outcome can be shown",
    "activities": "no case has a status and the reset's activity items count none",
    "budgets": "no account has a budget or alert",
}
"""What reads each optional table, said when the source lacks it."""


def absent_tables_line(absent: Sequence[str]) -> Md | None:
    """The optional tables the source lacks (``report_data.absent_tables``) and what is empty
    for it; None when it holds them all."""
    if not absent:
        return None
    effects = [ABSENT_TABLE_EFFECTS[table] for table in absent]
    return Md(f"The source has no {listed(absent, ' or ')} table: {listed(effects, ', and ')}.")


# --- the usage clinic ---


def no_workflows_note(absent: Sequence[str], ladder_day: int) -> Md | None:
    """Why no account has two workflows live, when the source has no workflows table."""
    if "workflows" not in absent:
        return None
    return note(
        "The source has no workflows table: no account can show a workflow live, so every live "
        f"account more than {ladder_day} days in counts as stuck without two workflows."
    )


def funnel_line(funnel: pl.DataFrame, target_days: int) -> Md:
    """The funnel in one sentence: how many of the contract starts reached each step, and the
    median days to the first billable event against the target."""
    step = {row["step"]: row for row in funnel.iter_rows(named=True)}
    first = step["First billable event"]
    two = step["Two workflows live"]
    total = step["Contract start"]["accounts"]
    median = first["median_days"]
    verdict = (
        ""
        if median is None
        else f" (target {target_days}: {'met' if median <= target_days else 'missed'})"
    )
    return Md(
        f"Of {total:,} accounts under contract, {pct(first['share'])} reached their first billable "
        f"event, after a median {median or 0:.0f} days{verdict}; {pct(two['share'])} have two "
        f"workflows live and {pct(step['Steady draw']['share'])} draw steadily. Steady draw (the "
        f"healthy band with a smooth draw) is a state, not a dated step: it has no median days."
    )


def stuck_line(counts: dict[str, int], target_days: int, ladder_day: int, steady_days: int) -> Md:
    """How many accounts are stuck at each stage, with what stuck means there."""
    total = sum(counts.values())
    if not total:
        return Md("No account is stuck at any stage.")
    shown = {stage: f"{count:,}" if count else "none" for stage, count in counts.items()}
    stuck = "1 account is stuck" if total == 1 else f"{total:,} accounts are stuck"
    return Md(
        f"**{stuck}**: {shown['not_live']} not live more than {target_days} days after their "
        f"contract started, {shown['live']} live without two workflows more than {ladder_day} "
        f"days in, and {shown['two_workflows']} with two workflows for over {steady_days} days "
        "whose draw is not yet steady."
    )


def burn_line(slow: int, fast: int) -> Md:
    """Accounts burning too slow and too fast, and what each group's actions aim at."""
    return Md(
        f"{slow:,} account{'s burn' if slow != 1 else ' burns'} too slow (unblock data, automate "
        f"the second workflow, in-product guidance) and {fast:,} too fast (review rate limits, "
        f"caching, routing to a cheaper path); each with its next action and owner."
    )
