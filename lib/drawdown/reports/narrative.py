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
    Churn,
    Item,
    Renewals,
    SegmentMove,
    counts_text,
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
    """Several Markdown blocks as one cell output (a heading kept with what follows it)."""
    return Md("\n\n".join(part.text for part in parts if part is not None))


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
        names = ", ".join(escape(name) for name in item.names)
        more = item.accounts - len(item.names)
        behind = f"{names}" + (f" and {more:,} more" if more > 0 else "")
        count = f"{item.accounts:,} account{'s' if item.accounts != 1 else ''}"
        lines.append(
            f"{number}. **{short_money(item.amount, currency)}** {escape(item.what)} — {count}: {behind}."
        )
    return Md(f"**{escape(title)}**\n\n" + "\n".join(lines))


def headline_rows(
    consumption: pl.DataFrame,
    figures: pl.DataFrame,
    bands_now: dict[str, int],
    bands_before: dict[str, int] | None,
    currency: str = "USD",
) -> pl.DataFrame:
    """The first page's headline figures as text: figure, now, against (what it is compared
    with). Consumption: the last complete month against the month before and a year before
    (``report_data.monthly_consumption``); value past the line, GRR and NRR against a month
    earlier (``report_data.headline_figures``); accounts by band against a month earlier."""
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
        now, before = value[measure]["current"], value[measure]["previous"]
        if now is None or before is None:
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
        delta = overage["current"] - overage["previous"]
        overage_against = (
            f"{'+' if delta >= 0 else ''}{short_money(delta, currency)} on a month earlier "
            f"({short_money(overage['previous'], currency)})"
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
        sentences.append("No account that spent a year ago has stopped spending.")
    if renewals.accounts:
        under = (
            f"; {renewals.under:,} of them under their commit"
            + (
                f" ({', '.join(escape(name) for name in renewals.names_under)})"
                if renewals.names_under
                else ""
            )
            if renewals.under
            else "; none of them under its commit"
        )
        sentences.append(
            f"**{renewals.accounts:,} account{'s' if renewals.accounts != 1 else ''} renew in the "
            f"next {renewals.days} days** ({money(renewals.commit, currency)} committed){under}."
        )
    else:
        sentences.append(f"No account renews in the next {renewals.days} days.")
    return Md(" ".join(sentences))


def healthy_line(healthy: pl.DataFrame, currency: str = "USD") -> Md:
    """The healthy group in one sentence: how many, their annual value, the largest three."""
    if healthy.height == 0:
        return note("No account is in the healthy group.")
    names = ", ".join(escape(name) for name in healthy["account_name"].head(3).to_list())
    return Md(
        f"{healthy.height:,} account{'s' if healthy.height != 1 else ''} "
        f"({money(float(healthy['account_value'].sum()), currency)} of annual value) need nothing "
        f"but a steady hand; the largest: {names}."
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
    are compared; the latest claimable one against the mean of those before it."""
    claimable = cohorts.filter(pl.col("claimable"))
    latest_shown = cohorts.row(-1, named=True) if cohorts.height else None
    caveat = ""
    if latest_shown is not None and not latest_shown["claimable"]:
        n = latest_shown["live_accounts"]
        why = (
            f"too recent (accounts that started in it have not all had {target_days} days)"
            if not latest_shown["mature"]
            else f"too small (under {min_group} live accounts)"
        )
        caveat = (
            f" The {latest_shown['cohort_month']:%B %Y} cohort ({n} live account"
            f"{'s' if n != 1 else ''}) is {why}: nothing is claimed on it."
        )
    if claimable.height < 2:
        return Md(
            "Too few cohorts are large and mature enough to say whether time to first billable "
            f"event is falling (at least {min_group} live accounts each)." + caveat
        )
    latest = claimable.row(-1, named=True)
    before = float(claimable.head(claimable.height - 1)["median_ttfbe_days"].mean())
    direction = "shorter" if latest["median_ttfbe_days"] < before else "not shorter"
    return Md(
        f"Time to first billable event is **{direction}**: the {latest['cohort_month']:%B %Y} "
        f"cohort ({latest['live_accounts']} live accounts) took a median "
        f"{latest['median_ttfbe_days']:.0f} days against {before:.0f} for the "
        f"{claimable.height - 1} mature cohort{'s' if claimable.height > 2 else ''} before it "
        f"with at least {min_group} live accounts." + caveat
    )


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
    """The forecast track record in one sentence (``report_data.forecast_record``): how often
    the actual 28 days fell inside the forecast's 10–90% band, and the median error of the
    forecast against the straight run-rate line."""
    if record is None:
        return note("No forecast track record is available in this run.")
    made = record.get("made") or []
    when = (
        f"the forecasts made on {', '.join(f'{day:%d %b}' for day in made)}"
        if made
        else "the back-tested forecasts"
    )
    return Md(
        f"**Forecast track record:** over {when} ({record['accounts']:,} account forecasts of the "
        f"next {record['horizon_days']} days), the actual consumption fell inside the forecast's "
        f"10–90% band for {pct(record['coverage_p10_p90'])} of accounts (80% is the aim); the "
        f"median forecast missed by {record['mdape_p50']:.1%} against "
        f"{record['mdape_run_rate']:.1%} for the straight run-rate line."
    )


# --- the usage clinic ---


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
    return Md(
        f"**{total:,} accounts are stuck**: {counts['not_live']:,} not live more than "
        f"{target_days} days after their contract started, {counts['live']:,} live without two "
        f"workflows more than {ladder_day} days in, and {counts['two_workflows']:,} with two "
        f"workflows for over {steady_days} days whose draw is not yet steady."
    )


def burn_line(slow: int, fast: int) -> Md:
    """Accounts burning too slow and too fast, and what each group's actions aim at."""
    return Md(
        f"{slow:,} account{'s burn' if slow != 1 else ' burns'} too slow (unblock data, automate "
        f"the second workflow, in-product guidance) and {fast:,} too fast (review rate limits, "
        f"caching, routing to a cheaper path); each with its next action and owner."
    )
