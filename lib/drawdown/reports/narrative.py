"""Narrative text for the reports, drafted from the numbers: pure functions returning Markdown.

Every string that comes from the data (account names, owners, meters, segments) goes through
``escape`` first (``inert.markdown_text``), so an account named ``<script>…</script>``, ``**x**``
or ``https://…`` renders as exactly that text under any Markdown renderer. ``Md`` wraps the
result so a notebook cell shows it as ``text/markdown``.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from drawdown.errors import ParamsError
from drawdown.metrics import periods
from drawdown.params import Brand, Guidelines, quote
from drawdown.reports.data import (
    ACTION_LABELS,
    CASES_FILE,
    LIST_ROWS,
    ROLE_LABELS,
    AccountData,
    counts_text,
)
from drawdown.reports.inert import markdown_text


@dataclass(frozen=True)
class Md:
    """Markdown text; Jupyter shows it as ``text/markdown`` only."""

    text: str

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/markdown": self.text}


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


def header(title: str, brand: Brand, as_of: date, subtitle: str | None = None) -> Md:
    """The report's title block: the vendor's logo (inlined when a local file) and name, the title
    and the as-of date."""
    logo = _logo(brand.logo)
    lines = [
        f"{logo}**{escape(brand.vendor_name)}** · as of {as_of:%d %B %Y}",
        "",
        f"# {escape(title)}",
    ]
    if subtitle:
        lines += ["", f"*{escape(subtitle)}*"]
    return Md("\n".join(lines))


def section(title: str, text: str | None = None) -> Md:
    """A section heading with an optional sentence under it (both escaped)."""
    return Md(f"## {escape(title)}" + (f"\n\n{escape(text)}" if text else ""))


def note(text: str) -> Md:
    """A plain sentence (escaped), e.g. to say a section has nothing to show."""
    return Md(f"*{escape(text)}*")


def executive_summary(
    figures: pl.DataFrame,
    cases: pl.DataFrame,
    health: pl.DataFrame,
    currency: str = "USD",
    consumption: pl.DataFrame | None = None,
) -> Md:
    """Three to six sentences from the headline figures (``report_data.headline_figures``), the
    monthly consumption (``report_data.monthly_consumption``: complete months only), the cases
    and the accounts: the book, consumption, the band mix against a month earlier, the cases,
    retention."""
    value = {row["measure"]: row for row in figures.iter_rows(named=True)}

    def now(measure: str) -> float | None:
        return value[measure]["current"]

    def change(measure: str) -> str:
        previous = value[measure]["previous"]
        if previous is None or now(measure) is None:
            return ""
        points = (now(measure) - previous) * 100
        return (
            f" ({points:+.0f} points on a month earlier)"
            if round(points)
            else " (unchanged on a month earlier)"
        )

    accounts = int(now("accounts") or 0)
    if accounts == 0:
        sentences = [
            "No account has a contract covering this date (it precedes every contract, or every "
            "contract has ended): there is no commit, band or case to report yet."
        ]
    else:
        sentences = [
            f"{accounts} accounts are under contract with {money(now('commit_total'), currency)} committed, "
            f"of which {money(now('consumed_to_date_total'), currency)} has been consumed.",
        ]
    if consumption is not None:
        sentences.append(consumption_sentence(consumption, currency))
    if accounts and not now("commit_total"):
        sentences.append(
            "Every account is pay-as-you-go: none has a commit, so no commit band or burn applies."
        )
    elif accounts:
        sentences.append(
            f"{pct(now('share_healthy'))} of accounts are in the healthy band{change('share_healthy')}, "
            f"{pct(now('share_over'))} are over{change('share_over')} and "
            f"{pct(now('share_under'))} under{change('share_under')}."
        )
    if cases.height:
        unowned = int((cases["missing_owners"].list.len() > 0).sum())
        talk = int((cases["triage"] == "conversation").sum())
        sentences.append(
            f"{cases.height} overconsumption case{'s' if cases.height != 1 else ''} carry "
            f"{money(float(cases['overage_amount'].sum()), currency)} past the line; {talk} earn a "
            f"conversation now" + (f" and {unowned} have a step with no owner." if unowned else ".")
        )
    else:
        sentences.append("No account is over its contractual limits.")
    if now("nrr") is not None:
        sentences.append(
            f"Net revenue retention is {pct(now('nrr'))} and gross retention {pct(now('grr'))}."
        )
    warned = int((health["early_warnings"].list.len() > 0).sum())
    if warned:
        sentences.append(
            f"{warned} account{'s show' if warned != 1 else ' shows'} an early warning."
        )
    return Md(" ".join(sentences[:6]))


def consumption_sentence(consumption: pl.DataFrame, currency: str = "USD") -> str:
    """The last complete month's consumption against the month before and a year before
    (``report_data.monthly_consumption``), each change against a non-zero base only."""
    row = {item["period"]: item for item in consumption.iter_rows(named=True)}
    last = row["last_month"]

    def against(key: str) -> str | None:
        base = row[key]
        if not base["amount"]:
            return None
        return f"{pct(last['amount'] / base['amount'] - 1, signed=True)} on {base['label']}"

    changes = [text for text in (against("month_before"), against("year_before")) if text]
    return f"Consumption in {last['label']} was {money(last['amount'], currency)}" + (
        f", {' and '.join(changes)}." if changes else "."
    )


def ttfbe_verdict(trend: pl.DataFrame, as_of: date, min_group: int) -> Md:
    """Is time to first billable event getting shorter? The latest complete cohort month against
    the cohorts before it (``report_data.ttfbe_trend``), claimed on only when the cohort has at
    least ``min_group`` live accounts (and is compared only with such cohorts); a smaller one is
    shown with its n and nothing is claimed (docs/metrics.md#periods-compared-in-reports)."""
    complete = trend.filter(pl.col("cohort_month") <= periods.last_complete_month(as_of))
    if complete.height == 0:
        return note("No complete cohort month has a live account yet.")
    latest = complete.row(-1, named=True)
    month, members = f"{latest['cohort_month']:%B %Y}", latest["live_accounts"]
    if not periods.claimable(members, min_group):
        return note(
            f"The {month} cohort has {members} live account{'s' if members != 1 else ''}: "
            f"too few (under {min_group}) to say whether time to first billable event is falling."
        )
    earlier = complete.head(complete.height - 1).filter(pl.col("live_accounts") >= min_group)
    if earlier.height == 0:
        return note(
            f"The {month} cohort took a median {latest['median_ttfbe_days']:.0f} days "
            f"({members} live accounts); no earlier cohort is large enough to compare with."
        )
    before = float(earlier["median_ttfbe_days"].mean())
    direction = "shorter" if latest["median_ttfbe_days"] < before else "not shorter"
    return Md(
        f"Time to first billable event is **{direction}**: the {month} cohort ({members} live "
        f"accounts) took a median {latest['median_ttfbe_days']:.0f} days against {before:.0f} for "
        f"the {earlier.height} cohorts before with at least {min_group} live accounts."
    )


def smoothness(lines: pl.DataFrame, health: pl.DataFrame, smooth_cv_max: float) -> Md:
    """Which of the top accounts draw smoothly (cv_28d ≤ smooth_cv_max) and which do not."""
    shown = health.filter(pl.col("account_id").is_in(lines["account_id"].unique().implode()))
    uneven = shown.filter(~pl.col("is_smooth").fill_null(False))["account_name"].to_list()
    if not uneven:
        return Md(
            f"All {shown.height} top accounts draw smoothly (28-day variation ≤ {smooth_cv_max:.0%})."
        )
    names = ", ".join(escape(name) for name in uneven)
    return Md(
        f"Uneven daily draw (28-day variation above {smooth_cv_max:.0%} or no usage): {names}."
    )


def next_action(account: AccountData) -> Md:
    """The account's next action (``account_actions``): the action, its owner and the reason,
    and the days to renewal."""
    action = account.action
    role = ROLE_LABELS.get(action["owner_role"], action["owner_role"])
    owner = f"{escape(action['owner'])}, {role}" if action["owner"] else f"no {role} named"
    renewal = action["days_to_renewal"]
    return Md(
        f"**Next action: {ACTION_LABELS[action['next_action']]}** ({owner}). "
        f"{escape(action['reason'])}"
        + (f" Renewal in {renewal} days." if renewal is not None else "")
    )


def talking_points(
    account: AccountData,
    comparison: periods.Comparison,
    quarter: pl.DataFrame,
    guidelines: Guidelines,
    currency: str = "USD",
) -> Md:
    """Three to five talking points for the CSM, ordered by ``guidelines.lead_with`` (outcomes or
    usage first), avoiding what ``guidelines.avoid`` names, with the tone as a reminder. Quarters
    are the complete ones of ``comparison`` (``report_data.quarter_comparison``), named."""
    health, case = account.health, account.case
    by_measure = {row["measure"]: row for row in quarter.iter_rows(named=True)}
    current, previous = comparison.current.label, comparison.previous.label
    outcomes = by_measure["Outcomes"]
    points: dict[str, str] = {}
    if outcomes["current"] is not None:
        points["outcomes"] = f"Outcomes in {current}: {outcomes['current']:,.0f}" + (
            f" ({pct(outcomes['change'], signed=True)} on {previous})."
            if outcomes["change"] is not None
            else "."
        )
    consumption = by_measure["Consumption"]
    if health["commit_amount"]:
        points["usage"] = (
            f"{pct(health['utilization'])} of the {money(health['commit_amount'], currency)} commit is used with "
            f"{pct(health['elapsed_fraction'])} of the term gone; at the current pace the term ends at "
            f"{pct(health['projected_utilization'])} (band: {escape(health['band'].replace('_', ' '))})."
        )
    else:
        points["usage"] = (
            f"Pay-as-you-go: {money(consumption['current'], currency)} spent in {current}"
            + (
                f" ({pct(consumption['change'], signed=True)} on {previous})."
                if consumption["change"] is not None
                else "."
            )
        )
    if case:
        points["overage"] = (
            f"Raise the overage before the bill does: {escape(case['meter'])} ran "
            f"{pct(case['pct_over'], signed=True)} over its limit ({money(case['overage_amount'], currency)} past the line)."
        )
    points["adoption"] = (
        f"{health['workflows_live']} workflow(s) live; stage "
        f"{escape(health['adoption_stage'].replace('_', ' '))}."
    )
    lead = "outcomes" if guidelines.lead_with.strip().lower().startswith("outcome") else "usage"
    ordered = [points.pop(lead)] if lead in points else []
    ordered += list(points.values())
    bullets = "\n".join(f"- {point}" for point in ordered[:5])
    return Md(f"{bullets}\n\n*Tone: {escape(guidelines.tone)} Avoid: {escape(guidelines.avoid)}*")


def unowned_steps(unowned: pl.DataFrame, rows: int = LIST_ROWS) -> Md:
    """Call out the first ``rows`` cases with a step no one owns (``report_data.unowned_cases``, in
    rank order) and say how many more there are and where they all are."""
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


def adoption(account: AccountData) -> Md:
    """Where the account stands on the adoption ladder (the recommendation is the next action's)."""
    health = account.health
    stage = escape(health["adoption_stage"].replace("_", " "))
    return Md(f"**Adoption:** {health['workflows_live']} workflow(s) live, stage *{stage}*.")


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


def changes_summary(counts: dict[str, int] | None, since: date | None) -> Md:
    """What changed since the previous run, in counts (``report_data.change_counts``): the line
    the clinic and the digest lead with."""
    if counts is None:
        return note("No comparison with a previous run is available for this run.")
    when = f" (as of {since:%d %b %Y})" if since else ""
    return Md(f"**Since the previous run{when}:** {counts_text(counts)}.")


def commit_status(account: AccountData, currency: str = "USD") -> Md:
    """Usage against commit in words: used, pace, projection, band and the exhaustion forecast."""
    health = account.health
    if not health["commit_amount"]:
        return Md(
            f"Pay-as-you-go: no commit to draw down. {money(health['consumed_to_date'], currency)} consumed this term, "
            f"running at {money(health['run_rate'], currency)} a day ({money(health['account_value'], currency)} over the last year)."
        )
    if health["band"] == "not_live":
        return Md(
            f"Not live yet: no billable usage since the contract started on {health['term_start']:%d %b %Y}; "
            f"{money(health['commit_amount'], currency)} is committed to {health['term_end']:%d %b %Y}."
        )
    exhaustion = health["exhaustion_date"]
    forecast = (
        f"**Forecast:** the commit is exhausted on {exhaustion:%d %b %Y}"
        + (
            ", before the term ends."
            if health["exhausts_before_term_end"]
            else ", after the term ends."
        )
        if exhaustion
        else "**Forecast:** no exhaustion date (no recent usage)."
    )
    return Md(
        f"{pct(health['utilization'])} of {money(health['commit_amount'], currency)} used with "
        f"{pct(health['elapsed_fraction'])} of the term elapsed (pacing {health['pacing_index']:.2f}). "
        f"At {money(health['run_rate'], currency)} a day the term ends at {pct(health['projected_utilization'])} "
        f"of commit: band **{escape(health['band'].replace('_', ' '))}**. {forecast}"
    )


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
    return Md(
        f"Monthly spend is **{verdict}**: it varies by {pct(variation)} month to month (coefficient of variation)."
    )


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
