"""The sample book: a realistic book of business, deterministic by seed (the tables of docs/data-contract.md).

``write_sample`` writes the eight tables (``accounts``, ``contracts``, ``rate_card``, ``usage``,
``workflows``, ``outcomes``, ``activities``, ``budgets``) with exactly ``contract.COLUMNS`` into a
folder: CSV up to ``PARQUET_ABOVE`` accounts, Parquet above. The same seed writes byte-identical
files. Usage covers ``days`` days ending on the as-of date A (default ``AS_OF`` = 2026-11-15, the
latest usage_date); the 60-day reset the sample is built for starts at A − 41 (2026-10-05).

How it is made. Every account draws an *archetype* (a behaviour designed to exercise a metric);
counts are ``max(minimum, share × accounts)`` in the order below, the rest are ``steady``, and the
order of accounts is shuffled. The archetype fixes the segment mix, the contract lifecycle, the
ratio of daily spend to the commit's straight line in the current term, the commit change at
renewal, a usage shape and how the CSM is assigned. Usage is then computed for all accounts ×
meters × days at once (NumPy, in blocks of accounts): the contract's daily level per meter
(spend × meter share / unit price) × onboarding ramp × weekday profile × holiday season ×
log-normal noise × the shape. Limits (``included_quantity``, per calendar month) are the meter's
monthly level × a headroom of 1.25–1.6, so ordinary usage stays inside the line.

Cohorts (archetype: what it exercises):
- ``steady``: band healthy, burn on_pace; renewals at ±15 %; ≥ 2 workflows and a smooth draw
  make adoption_stage steady_draw.
- ``expanding`` / ``contracting``: a 12-month renewal (mid-month, new unit prices) with the commit
  × 1.3–1.8 / × 0.5–0.8 and usage following it: NRR above GRR, GRR below 1 (docs/metrics.md#retention).
- ``under`` (spend 0.45–0.72 of pace): band under, burn too_slow; those renewing within 90 days
  carry renewal_risk. ``over`` (1.28–1.6): band over, burn too_fast.
- ``paygo``: evergreen, commit 0: band paygo, account_value from the last 365 days.
- ``not_live``: a commit signed 20–200 days ago and no usage at all: band and stage not_live.
- ``reset_new``: first contract on or after the reset start, live within 1–9 days (median ttfbe
  within target: item done); only every other one has a budget, so "budgets for all new
  customers and the top ten" is late.
- ``churned``: one 12-month term that ended before A without renewal, usage fading over its last
  90 days; a third keep a trickle for 5–20 days after the end (rare out-of-contract usage).
- ``drop``: the last 28 days at 35–60 % of before: usage_drop. ``zero_streak``: no usage for the
  last 8–25 days: zero_streak.
- ``breakage``: 8–16 % of pace with the term 290–350 days in: breakage_risk and renewal_risk.
- ``sustained_hot``: seven per CSM (the first CSMs), value ≥ 40 000, the main metered meter
  25–60 % over its limit since late August: five conversation and two wait per CSM.
- ``sustained`` (value ≥ 40 000, any CSM): conversation. ``sustained_unassigned`` (no CSM):
  unassigned. ``sustained_small`` (SMB, value < 15 000): watch.
- ``emerging``: over the limit in A's month only, broadly (not a spike): watch.
- ``spike``: two days in the month before A's carry that month over while its median day stays
  inside the line: monitor.

Around them: three segments (Enterprise few and large, Mid-Market, SMB many and small) with
12- and 24-month, evergreen and pay-as-you-go contracts; three meters with different prices and
not every account on every meter; onboarding delays (12 % take 35–120 days); one-off spikes more
than 150 days before A; ~4 % of SMB accounts without a CSM, ~5 % without an AE; strategic
accounts (half the Enterprise ones) — the active ones have no technical counterpart, so the
reset's counterpart item is not_started; workflows going live over months (some retired);
monthly outcomes for ~30 % of accounts; activities of every ``contract.ACTIVITY_TYPES`` type;
budgets for about a third of accounts. The reset (start A − 41) sees ≥ 3 value reviews after
its start (done), a usage clinic in week 5 but not week 6 (on_track) and the late budgets.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from drawdown.inputs.contract import COLUMNS

AS_OF = date(2026, 11, 15)
"""The sample's as-of date: the latest usage_date."""

RESET_LEAD_DAYS = 41
"""The sample's 60-day reset starts this many days before A (2026-10-05 for ``AS_OF``)."""

PARQUET_ABOVE = 1000
"""Books with more accounts than this are written as Parquet, smaller ones as CSV."""

CURRENCY = "USD"
METERS = ("api_calls", "compute_hours", "storage_gb")
SEGMENTS = ("Enterprise", "Mid-Market", "SMB")

FileFormat = Literal["csv", "parquet"]

_LIST_PRICE = np.array([0.002, 1.20, 0.01])
_DECIMALS = (0, 2, 1)
_BLOCK = 1000
_NO_END = 10**7
_DAYS_PER_MONTH = 30.44
_EPOCH = date(1970, 1, 1)

_COMMIT_MEDIAN = np.array([400_000.0, 80_000.0, 12_000.0])
_COMMIT_SIGMA = np.array([0.5, 0.45, 0.45])
_DISCOUNT = np.array([0.70, 0.85, 1.0])
_TTFBE_MEDIAN = np.array([18.0, 10.0, 5.0])
# meter sets (api, compute, storage) and their probability per segment
_METER_SETS = np.array([[1, 0, 0], [1, 0, 1], [1, 1, 1], [1, 1, 0]], dtype=bool)
_METER_SET_P = np.array([[0, 0, 0.7, 0.3], [0.1, 0.1, 0.5, 0.3], [0.5, 0.3, 0.2, 0]])
_LIMIT_P = np.array([0.35, 0.25, 0.10])

_LIFECYCLES = ("renewed", "renewing_soon", "multi_year", "evergreen", "new", "reset_new", "not_live", "churned", "paygo")  # fmt: skip
"""Contract histories. renewed: a 12-month term renewed into the term covering A (which began 0–364
days ago); renewing_soon: the same with the renewal 290–350 days old; multi_year: one 24-month term;
evergreen and paygo: one open-ended contract; new: one 12-month term begun 36–300 days ago;
reset_new: begun on or after the reset start; not_live: signed 20–200 days ago, never used;
churned: one 12-month term that began 400–700 days ago and was not renewed."""

_RENEWING = ("renewed", "renewing_soon")
_BACK = {"renewed": (0, 364), "renewing_soon": (290, 350), "multi_year": (30, 700), "evergreen": (60, 700), "new": (36, 300), "reset_new": (0, 0), "not_live": (20, 200), "churned": (400, 700), "paygo": (30, 700)}  # fmt: skip
"""Days before A of the anchor start: the first contract's, or the renewal's for _RENEWING."""

_TERM_MONTHS = {"multi_year": 24, "evergreen": 0, "paygo": 0}
"""Months of the first contract (0 = evergreen); 12 when not listed."""

_SETTLED_DAYS = 200
"""An account with a usage shape began at least this long ago, so the shape meets a settled draw."""

_SHAPES = ("", "drop", "zero_streak", "sustained", "emerging", "spike")
_OVER_SHAPES = ("sustained", "emerging", "spike")

_ESTABLISHED = ("renewed", "renewed", "multi_year", "evergreen")
_SMB_HEAVY = (0.08, 0.32, 0.60)
_UPMARKET = (0.4, 0.6, 0.0)
_ON_PACE = (0.95, 1.04)
_FLAT = (0.95, 1.15)
_ANY_VALUE = (1_000.0, 5e6)
_LARGE = (40_000.0, 5e6)


@dataclass(frozen=True)
class _Archetype:
    """A designed account behaviour (see the module docstring for what each one exercises).

    share, minimum: how many accounts (max(minimum, share × accounts)); segments: probability of
    Enterprise, Mid-Market, SMB; lifecycles: drawn uniformly (repeat one to weight it); ratio:
    daily spend over the commit's straight line in the current term; renewal: commit of the
    renewal over the prior one; shape: the usage shape; csm: ``any`` CSM, ``none``, or ``hot`` (seven
    per CSM); value: bounds of the annual commit.
    """

    name: str
    share: float
    minimum: int
    segments: tuple[float, float, float]
    lifecycles: tuple[str, ...]
    ratio: tuple[float, float] = _ON_PACE
    renewal: tuple[float, float] = _FLAT
    shape: str = ""
    csm: Literal["any", "none", "hot"] = "any"
    value: tuple[float, float] = _ANY_VALUE


# fmt: off
_ARCHETYPES = (
    #          name                    share  min segments           lifecycles       ratio         renewal      shape          csm     value
    _Archetype("sustained_hot",        0.005, 7,  _UPMARKET,         _ESTABLISHED,    (0.95, 1.02), _FLAT,       "sustained",   "hot",  _LARGE),
    _Archetype("sustained",            0.02,  3,  _UPMARKET,         _ESTABLISHED,    (0.95, 1.02), _FLAT,       "sustained",   "any",  _LARGE),
    _Archetype("sustained_unassigned", 0.005, 2,  (0, 1, 0),         _ESTABLISHED,    (0.95, 1.02), _FLAT,       "sustained",   "none", _LARGE),
    _Archetype("sustained_small",      0.008, 2,  (0, 0, 1),         _ESTABLISHED,    (0.95, 1.02), _FLAT,       "sustained",   "any",  (6_000, 15_000)),
    _Archetype("emerging",             0.015, 3,  _SMB_HEAVY,        _ESTABLISHED,    _ON_PACE,     _FLAT,       "emerging"),
    _Archetype("spike",                0.015, 3,  _SMB_HEAVY,        _ESTABLISHED,    _ON_PACE,     _FLAT,       "spike"),
    _Archetype("not_live",             0.03,  3,  (0.1, 0.4, 0.5),   ("not_live",)),
    _Archetype("reset_new",            0.03,  8,  (0.1, 0.4, 0.5),   ("reset_new",),  (0.9, 1.05)),
    _Archetype("paygo",                0.07,  3,  (0.02, 0.28, 0.7), ("paygo",),      (0.5, 1.5)),
    _Archetype("under",                0.08,  3,  _SMB_HEAVY,        (*_ESTABLISHED, "renewing_soon", "new"), (0.45, 0.72)),
    _Archetype("over",                 0.05,  3,  _SMB_HEAVY,        _ESTABLISHED,    (1.28, 1.6)),
    _Archetype("breakage",             0.01,  2,  _SMB_HEAVY,        ("renewing_soon",), (0.08, 0.16)),
    _Archetype("drop",                 0.03,  3,  _SMB_HEAVY,        _ESTABLISHED,    (0.9, 1.05),  _FLAT,       "drop"),
    _Archetype("zero_streak",          0.02,  2,  (0, 0.3, 0.7),     _ESTABLISHED,    (0.9, 1.05),  _FLAT,       "zero_streak"),
    _Archetype("churned",              0.05,  3,  (0.05, 0.35, 0.6), ("churned",),    (0.5, 0.85)),
    _Archetype("expanding",            0.08,  2,  (0.15, 0.45, 0.4), ("renewed",),    _ON_PACE,     (1.3, 1.8)),
    _Archetype("contracting",          0.05,  2,  _SMB_HEAVY,        ("renewed",),    (0.9, 1.0),   (0.5, 0.8)),
    _Archetype("steady",               0.0,   0,  _SMB_HEAVY,        (*_ESTABLISHED, "renewed", "new")),
)
# fmt: on
"""In allocation order; ``steady`` (last) takes the accounts the others leave."""

_FIRST_NAMES = ["Ada", "Ben", "Chloé", "Dev", "Elena", "Femi", "Grace", "Hiro", "Ines", "Jonas", "Kiri", "Luca", "Maya", "Nikhil", "Olga", "Priya", "Quinn", "Rafael", "Sara", "Tomás"]  # fmt: skip
_LAST_NAMES = ["Park", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Costa", "Novak", "Reyes", "Haddad", "Schmidt", "O'Neill", "Singh", "Kowalski", "Nakamura", "Silva", "Dubois", "Chen", "Ward", "Ibrahim", "Fischer"]  # fmt: skip
_NAME_HEADS = ["Acme", "Northwind", "Bluefin", "Cobalt", "Driftwood", "Evergreen", "Foxglove", "Granite", "Harbor", "Ironbark", "Juniper", "Kestrel", "Lumen", "Meridian", "Nimbus", "Orchard", "Pioneer", "Quarry", "Redwood", "Summit", "Tidewater", "Umber", "Vantage", "Willow", "Zephyr", "O'Reilly"]  # fmt: skip
_NAME_TRADES = ["Analytics", "Logistics", "Health", "Payments", "Robotics", "Media", "Foods", "Energy", "Insurance", "Retail", "Biotech", "Learning", "Travel", "Security", "Mobility"]  # fmt: skip
_NAME_FORMS = ("Inc.", "Ltd", "GmbH", "& Co.", "Group", "Labs", "SA", "LLC")


@dataclass(frozen=True)
class _Calendar:
    """The days of the sample as day numbers (days since 1970-01-01): A, history start, reset."""

    as_of: int
    first: int
    reset: int

    @property
    def days(self) -> np.ndarray:
        """Every day of the usage history, first to A."""
        return np.arange(self.first, self.as_of + 1)

    @property
    def month_starts(self) -> np.ndarray:
        """Index (into ``days``) of the first history day of each calendar month."""
        dom = _day_of_month(self.days)
        return np.flatnonzero((dom == 1) | (np.arange(dom.size) == 0))


@dataclass(frozen=True)
class _Profiles:
    """Per-account draws, one row per account (index i is account ``A{i+1}``)."""

    archetype: np.ndarray
    segment: np.ndarray
    lifecycle: np.ndarray
    shape: np.ndarray
    start0: np.ndarray
    end0: np.ndarray
    term0: np.ndarray
    has1: np.ndarray
    start1: np.ndarray
    end1: np.ndarray
    commit0: np.ndarray
    commit1: np.ndarray
    level0: np.ndarray
    level1: np.ndarray
    used: np.ndarray
    price0: np.ndarray
    price1: np.ndarray
    qlevel0: np.ndarray
    qlevel1: np.ndarray
    included0: np.ndarray
    included1: np.ndarray
    overage0: np.ndarray
    overage1: np.ndarray
    headroom: np.ndarray
    over_meter: np.ndarray
    golive: np.ndarray
    ramp_days: np.ndarray
    weekend: np.ndarray
    noise: np.ndarray
    zero_day_p: np.ndarray
    drop_factor: np.ndarray
    quiet_from: np.ndarray
    trickle_until: np.ndarray
    over_from: np.ndarray
    over_factor: np.ndarray
    spike_days: np.ndarray
    spike_extra: np.ndarray
    blip_day: np.ndarray
    blip_factor: np.ndarray
    csm: np.ndarray
    ae: np.ndarray
    counterpart: np.ndarray
    strategic: np.ndarray

    def take(self, rows: slice) -> _Profiles:
        """The profiles of a block of accounts."""
        return _Profiles(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def is_lifecycle(self, *names: str) -> np.ndarray:
        """True for accounts in one of the named lifecycles."""
        return np.isin(self.lifecycle, [_LIFECYCLES.index(name) for name in names])

    def is_shape(self, *names: str) -> np.ndarray:
        """True for accounts with one of the named usage shapes."""
        return np.isin(self.shape, [_SHAPES.index(name) for name in names])

    def is_archetype(self, *names: str) -> np.ndarray:
        """True for accounts of one of the named archetypes."""
        codes = [i for i, archetype in enumerate(_ARCHETYPES) if archetype.name in names]
        return np.isin(self.archetype, codes)


def write_sample(
    out: Path | str,
    *,
    accounts: int = 300,
    days: int = 730,
    seed: int = 7,
    as_of: date = AS_OF,
    file_format: FileFormat | None = None,
) -> Path:
    """Write the sample book into ``out`` (created if needed) and return the folder.

    One file per table, CSV when ``accounts`` ≤ ``PARQUET_ABOVE`` else Parquet (``file_format``
    forces one). A file of the other format left by an earlier sample is removed so the folder
    holds one file per table. Usage is generated and written in blocks of accounts.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    chosen: FileFormat = file_format or ("parquet" if accounts > PARQUET_ABOVE else "csv")
    for table in COLUMNS:
        (folder / f"{table}.{'csv' if chosen == 'parquet' else 'parquet'}").unlink(missing_ok=True)
    calendar, profiles, streams = _plan(accounts, days, seed, as_of)
    monthly = _write_usage(_usage_blocks(profiles, calendar, streams[1]), folder, chosen)
    for table, frame in _other_tables(profiles, calendar, monthly, streams[2]).items():
        _write_frame(frame, folder / f"{table}.{chosen}")
    return folder


def sample_tables(
    *, accounts: int = 300, days: int = 730, seed: int = 7, as_of: date = AS_OF
) -> dict[str, pl.DataFrame]:
    """The sample book in memory, table name -> frame with exactly ``COLUMNS[table]``.

    The same rows ``write_sample`` writes; meant for small books (tests, quick checks).
    """
    calendar, profiles, streams = _plan(accounts, days, seed, as_of)
    blocks = list(_usage_blocks(profiles, calendar, streams[1]))
    monthly = np.concatenate([block_monthly for _, block_monthly in blocks])
    tables = _other_tables(profiles, calendar, monthly, streams[2])
    tables["usage"] = pl.concat([usage for usage, _ in blocks])
    return {table: tables[table] for table in COLUMNS}


def _plan(
    accounts: int, days: int, seed: int, as_of: date
) -> tuple[_Calendar, _Profiles, list[np.random.Generator]]:
    """The calendar, the account profiles and the random streams for usage and the rest.

    Three independent streams spawned from ``seed`` (profiles, usage, other tables), so the
    usage draws (which grow with ``days``) do not shift the activities, budgets or outcomes.
    """
    a = _day_number(as_of)
    calendar = _Calendar(as_of=a, first=a - days + 1, reset=a - RESET_LEAD_DAYS)
    streams = np.random.default_rng(seed).spawn(3)
    return calendar, _profiles(accounts, calendar, streams[0]), streams


def _archetype_counts(accounts: int) -> np.ndarray:
    """Accounts per archetype: max(minimum, round(share × accounts)) in order while accounts
    last; ``steady`` takes the rest."""
    wanted = np.array([max(a.minimum, round(a.share * accounts)) for a in _ARCHETYPES[:-1]])
    granted = np.diff(np.minimum(np.concatenate([[0], np.cumsum(wanted)]), accounts))
    return np.append(granted, accounts - granted.sum())


def _choose(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probabilities`` (rows need not be normalised)."""
    cumulative = np.cumsum(probabilities, axis=1)
    u = rng.random(len(probabilities)) * cumulative[:, -1]
    return np.minimum((u[:, None] >= cumulative).sum(axis=1), probabilities.shape[1] - 1)


def _profiles(n: int, cal: _Calendar, rng: np.random.Generator) -> _Profiles:
    """Draw every account's archetype, contracts, prices and limits, usage shape and owners."""
    kinds = _kinds(n, rng)
    terms = _terms(kinds, cal, rng)
    money = _money(kinds, terms, rng)
    return _Profiles(
        **kinds,
        **terms,
        **money,
        **_rhythm(kinds, terms, money, cal, rng),
        **_owners(kinds, rng),
    )


def _kinds(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """archetype (shuffled over the accounts), segment, lifecycle and shape codes."""
    archetype = rng.permutation(np.repeat(np.arange(len(_ARCHETYPES)), _archetype_counts(n)))
    lifecycle_weights = np.array(
        [[a.lifecycles.count(name) for name in _LIFECYCLES] for a in _ARCHETYPES], dtype=float
    )
    return {
        "archetype": archetype,
        "segment": _choose(rng, np.array([a.segments for a in _ARCHETYPES])[archetype]),
        "lifecycle": _choose(rng, lifecycle_weights[archetype]),
        "shape": np.array([_SHAPES.index(a.shape) for a in _ARCHETYPES])[archetype],
    }


def _terms(
    kinds: dict[str, np.ndarray], cal: _Calendar, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Contract dates as day numbers: slot 0 is the first contract, slot 1 the renewal (if any).

    The anchor (first start, or the renewal's start for renewing lifecycles) lies the
    lifecycle's ``_BACK`` days before A; a renewal starts the day after the 12-month first term
    ends, so contracts never overlap. ``_NO_END`` stands for no end / no renewal.
    """
    n = len(kinds["archetype"])
    lifecycle, names = kinds["lifecycle"], np.array(_LIFECYCLES)[kinds["lifecycle"]]
    back = np.array([_BACK[name] for name in _LIFECYCLES])[lifecycle]
    has1 = np.isin(names, _RENEWING)
    settled = (kinds["shape"] > 0) & ~has1
    anchor = cal.as_of - rng.integers(
        np.where(settled, np.maximum(back[:, 0], _SETTLED_DAYS), back[:, 0]), back[:, 1] + 1
    )
    anchor = np.where(
        names == "reset_new", cal.reset + rng.integers(0, cal.as_of - cal.reset - 6, n), anchor
    )
    start0 = np.where(has1, _add_months(anchor, -12), anchor)
    term0 = np.array([_TERM_MONTHS.get(name, 12) for name in _LIFECYCLES])[lifecycle]
    return {
        "start0": start0,
        "end0": np.select(
            [has1, term0 == 12, term0 == 24],
            [anchor - 1, _add_months(start0, 12) - 1, _add_months(start0, 24) - 1],
            _NO_END,
        ),
        "term0": term0,
        "has1": has1,
        "start1": np.where(has1, anchor, _NO_END),
        "end1": np.where(has1, _add_months(anchor, 12) - 1, _NO_END),
    }


def _money(
    kinds: dict[str, np.ndarray], terms: dict[str, np.ndarray], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Commits, daily spend levels, meters used, prices, limits and overage prices per slot.

    annual value ~ log-normal by segment, clipped to the archetype's bounds, 2 significant
    digits; the first contract of a renewing account = value / renewal factor. Daily spend level
    = annual / 365 × ratio (the prior term of a renewal: × 0.9–1.12). Unit price = list price ×
    segment discount × 0.94–1.06 per contract (a renewal re-prices). Per meter, quantity level =
    level × meter share / unit price; a limited meter includes quantity level × 30.44 × headroom
    per month (over-shaped archetypes: their main meter limited with headroom 1.25–1.35, spikes
    1.4–1.6); half the limited meters bill overage at 1.25 × unit price.
    """
    n, segment, has1 = len(kinds["archetype"]), kinds["segment"], terms["has1"]
    archetype, shape = kinds["archetype"], kinds["shape"]

    def ranged(name: str) -> np.ndarray:
        bounds = np.array([getattr(a, name) for a in _ARCHETYPES], dtype=float)[archetype]
        return rng.uniform(bounds[:, 0], bounds[:, 1])

    value = np.clip(
        rng.lognormal(np.log(_COMMIT_MEDIAN[segment]), _COMMIT_SIGMA[segment]),
        *np.array([a.value for a in _ARCHETYPES])[archetype].T,
    )
    annual1 = _round_sig(value, 2)
    annual0 = np.where(has1, _round_sig(annual1 / ranged("renewal"), 2), annual1)
    level1 = annual1 / 365 * ranged("ratio")
    level0 = np.where(has1, annual0 / 365 * rng.uniform(0.9, 1.12, n), level1)
    paygo = kinds["lifecycle"] == _LIFECYCLES.index("paygo")

    used = _METER_SETS[_choose(rng, _METER_SET_P[segment])]
    share = rng.gamma(2.0, 1.0, (n, 3)) * used * np.array([1.0, 1.0, 0.4])
    share /= share.sum(axis=1, keepdims=True)
    unit = _LIST_PRICE * _DISCOUNT[segment][:, None]
    price0 = _round_sig(unit * rng.uniform(0.94, 1.06, (n, 3)), 3)
    price1 = _round_sig(unit * rng.uniform(0.94, 1.06, (n, 3)), 3)
    qlevel0 = level0[:, None] * share / price0
    qlevel1 = level1[:, None] * share / price1

    rows = np.arange(n)
    over = np.isin(shape, [_SHAPES.index(name) for name in _OVER_SHAPES])
    over_meter = np.where(used[:, 1] & (share[:, 1] > share[:, 0]), 1, 0)
    limited = used & (rng.random((n, 3)) < _LIMIT_P)
    limited[rows[over], over_meter[over]] = True
    headroom = rng.uniform(1.25, 1.6, (n, 3))
    headroom[rows, over_meter] = np.select(
        [shape == _SHAPES.index("spike"), over],
        [rng.uniform(1.4, 1.6, n), rng.uniform(1.25, 1.35, n)],
        headroom[rows, over_meter],
    )
    marked_up = limited & (rng.random((n, 3)) < 0.5)
    return {
        "commit0": np.where(paygo, 0.0, annual0 * np.where(terms["term0"] == 24, 2, 1)),
        "commit1": annual1,
        "level0": level0,
        "level1": level1,
        "used": used,
        "price0": price0,
        "price1": price1,
        "qlevel0": qlevel0,
        "qlevel1": qlevel1,
        "included0": np.where(limited, _round_sig(qlevel0 * _DAYS_PER_MONTH * headroom, 3), np.nan),
        "included1": np.where(limited, _round_sig(qlevel1 * _DAYS_PER_MONTH * headroom, 3), np.nan),
        "overage0": np.where(marked_up, _round_sig(price0 * 1.25, 3), np.nan),
        "overage1": np.where(marked_up, _round_sig(price1 * 1.25, 3), np.nan),
        "headroom": headroom,
        "over_meter": over_meter,
    }


def _rhythm(
    kinds: dict[str, np.ndarray],
    terms: dict[str, np.ndarray],
    money: dict[str, np.ndarray],
    cal: _Calendar,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Go-live, ramp, weekday and noise profile, and the days and factors of each usage shape.

    ttfbe ~ log-normal (median 18 / 10 / 5 days by segment), 12 % delayed 35–120 days, reset
    accounts 1–9 days. Weekend days run at 35–95 % of a weekday; noise σ 0.06–0.18 (SMB
    0.15–0.35, with 3 % zero days). sustained: the main meter × headroom × 1.25–1.6 from 22 days
    before to 9 days into the lookback's first month; emerging: × headroom × 1.3–1.6 from the first
    of A's month; spike: two days of the month before A's get 30–45 % of the month's limit each;
    drop: the last 28 days × 0.35–0.6; zero_streak: nothing on the last 8–25 days; a third of
    churned accounts trickle 5–20 days past their end; 6 % of the other accounts have a one-day
    api_calls blip (× 4–8) more than 150 days before A.
    """
    n, segment, shape = len(kinds["archetype"]), kinds["segment"], kinds["shape"]
    names = np.array(_LIFECYCLES)[kinds["lifecycle"]]
    rows, over_meter = np.arange(n), money["over_meter"]
    small = segment == SEGMENTS.index("SMB")

    ttfbe = np.where(
        rng.random(n) < 0.12,
        rng.integers(35, 121, n),
        np.rint(rng.lognormal(np.log(_TTFBE_MEDIAN[segment]), 0.6)),
    )
    ttfbe = np.where(names == "reset_new", rng.integers(1, 10, n), ttfbe)

    this_month = _month_start(cal.as_of)
    last_month = _month_start(this_month - 1)
    lookback = _month_start(last_month - 1)
    sustained, emerging = shape == _SHAPES.index("sustained"), shape == _SHAPES.index("emerging")
    spike = shape == _SHAPES.index("spike")
    main_headroom = money["headroom"][rows, over_meter]
    current_included = np.where(terms["has1"][:, None], money["included1"], money["included0"])
    spike_days = np.stack(
        [
            last_month + rng.integers(0, 14, n),
            last_month + rng.integers(14, this_month - last_month, n),
        ],
        axis=1,
    )
    over = np.isin(shape, [_SHAPES.index(name) for name in _OVER_SHAPES])
    blip = ~over & (rng.random(n) < 0.06) & (cal.as_of - 150 > cal.first)
    return {
        "golive": np.where(names == "not_live", _NO_END, terms["start0"] + ttfbe.astype(int)),
        "ramp_days": rng.integers(14, 61, n),
        "weekend": rng.uniform(0.35, 0.95, n),
        "noise": np.where(small, rng.uniform(0.15, 0.35, n), rng.uniform(0.06, 0.18, n)),
        "zero_day_p": np.where(small, 0.03, 0.0),
        "drop_factor": np.where(shape == _SHAPES.index("drop"), rng.uniform(0.35, 0.6, n), 1.0),
        "quiet_from": np.where(
            shape == _SHAPES.index("zero_streak"), cal.as_of - rng.integers(7, 25, n), _NO_END
        ),
        "trickle_until": np.where(
            (names == "churned") & (rng.random(n) < 0.33),
            terms["end0"] + rng.integers(5, 21, n),
            -_NO_END,
        ),
        "over_from": np.select(
            [sustained, emerging],
            [lookback + rng.integers(-22, 10, n), np.full(n, this_month)],
            _NO_END,
        ),
        "over_factor": main_headroom
        * np.where(sustained, rng.uniform(1.25, 1.6, n), rng.uniform(1.3, 1.6, n)),
        "spike_days": np.where(spike[:, None], spike_days, _NO_END),
        "spike_extra": np.where(
            spike, current_included[rows, over_meter] * rng.uniform(0.3, 0.45, n), 0.0
        ),
        "blip_day": np.where(
            blip, rng.integers(cal.first, max(cal.first + 1, cal.as_of - 150), n), -1
        ),
        "blip_factor": rng.uniform(4.0, 8.0, n),
    }


def _owners(kinds: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Indexes of the CSM, AE and technical counterpart of each account (-1 = none), strategic.

    A CSM per ~30 accounts (at least 8), ``hot`` archetype accounts seven per CSM from the first,
    4 % of SMB accounts pooled (no CSM); an AE per ~80 accounts (at least 3), 5 % without.
    Strategic: half the Enterprise accounts, 5 % of Mid-Market. Technical counterparts for 55 %
    of the accounts, never for an active strategic one (the reset's counterpart item).
    """
    n, segment = len(kinds["archetype"]), kinds["segment"]
    csm_rule = np.array([a.csm for a in _ARCHETYPES])[kinds["archetype"]]
    hot = csm_rule == "hot"
    csm = rng.integers(0, max(8, n // 30), n)
    csm[hot] = np.arange(hot.sum()) // 7
    pooled = (csm_rule == "any") & (segment == SEGMENTS.index("SMB")) & (rng.random(n) < 0.04)
    csm[(csm_rule == "none") | pooled] = -1
    strategic = rng.random(n) < np.array([0.5, 0.05, 0.0])[segment]
    active = kinds["lifecycle"] != _LIFECYCLES.index("churned")
    return {
        "csm": csm,
        "ae": np.where(rng.random(n) < 0.05, -1, rng.integers(0, max(3, n // 80), n)),
        "counterpart": np.where(
            ~(strategic & active) & (rng.random(n) < 0.55), rng.integers(0, 400, n), -1
        ),
        "strategic": strategic,
    }


def _usage_blocks(
    profiles: _Profiles, cal: _Calendar, rng: np.random.Generator
) -> Iterator[tuple[pl.DataFrame, np.ndarray]]:
    """Usage in blocks of ``_BLOCK`` accounts: (daily rows, monthly api_calls per account)."""
    n = len(profiles.archetype)
    for first in range(0, n, _BLOCK):
        rows = slice(first, min(first + _BLOCK, n))
        quantity = _daily_quantity(profiles.take(rows), cal, rng)
        monthly = np.add.reduceat(quantity[:, 0, :], cal.month_starts, axis=1)
        yield _usage_frame(quantity, first, cal), monthly


def _daily_quantity(p: _Profiles, cal: _Calendar, rng: np.random.Generator) -> np.ndarray:
    """Quantity per (account, meter, day) of the block, rounded per meter; 0 = no row.

    level of the covering contract × ramp (25 % → 100 % over ramp_days after go-live, 0 before)
    × weekday profile (api and compute; weekly mean 1) × holiday season × log-normal noise
    (mean 1) × the shape (drop, zero streak, churn fade, over-limit factor) + spike extras.
    """
    n, day = len(p.archetype), cal.days[None, :]
    in0 = (day >= p.start0[:, None]) & (day <= p.end0[:, None])
    in1 = (day >= p.start1[:, None]) & (day <= p.end1[:, None])
    trickle = (day > p.end0[:, None]) & (day <= p.trickle_until[:, None])
    level = np.where(
        in1[:, None],
        p.qlevel1[:, :, None],
        np.where((in0 | trickle)[:, None], p.qlevel0[:, :, None], 0.0),
    )

    since_live = day - p.golive[:, None]
    ramp = np.where(
        since_live >= 0, np.clip(0.25 + 0.75 * since_live / p.ramp_days[:, None], 0, 1), 0
    )
    churning = p.is_lifecycle("churned")[:, None]
    fade = np.where(
        churning & (day <= p.end0[:, None]),
        np.clip(1 - 0.7 * (day - (p.end0[:, None] - 90)) / 90, 0.3, 1),
        np.where(trickle, 0.05, 1.0),
    )
    account = (
        ramp
        * fade
        * _season(cal.days)[None, :]
        * np.where(day >= cal.as_of - 27, p.drop_factor[:, None], 1.0)
        * (day < p.quiet_from[:, None])
    )

    weekday = 7 / (5 + 2 * p.weekend)
    is_weekend = ((cal.days + 3) % 7 >= 5)[None, :]
    rhythm = np.where(is_weekend, (weekday * p.weekend)[:, None], weekday[:, None])
    rhythm = rhythm * (rng.random(rhythm.shape) >= p.zero_day_p[:, None])
    sigma = np.stack([p.noise, p.noise, np.full(n, 0.03)], axis=1)[:, :, None]
    noise = np.exp(sigma * rng.standard_normal((n, 3, day.size)) - sigma**2 / 2)

    quantity = level * account[:, None, :] * noise
    quantity[:, :2] *= rhythm[:, None, :]
    rows = np.arange(n)
    quantity[rows, p.over_meter] *= np.where(day >= p.over_from[:, None], p.over_factor[:, None], 1)
    for spike_day in p.spike_days.T:
        quantity[rows, p.over_meter] += np.where(
            day == spike_day[:, None], p.spike_extra[:, None], 0
        )
    quantity[rows, 0] *= np.where(day == p.blip_day[:, None], p.blip_factor[:, None], 1.0)
    for meter, decimals in enumerate(_DECIMALS):
        quantity[:, meter] = np.round(quantity[:, meter], decimals)
    return quantity


def _usage_frame(quantity: np.ndarray, first_account: int, cal: _Calendar) -> pl.DataFrame:
    """The non-zero quantities as usage rows, sorted by account_id, meter, usage_date."""
    account, meter, day = np.nonzero(quantity > 0)
    block_ids = _account_ids(np.arange(first_account, first_account + len(quantity)))
    return pl.DataFrame(
        {
            "account_id": block_ids.gather(account),
            "meter": pl.Series(METERS).gather(meter),
            "usage_date": _dates(cal.days[day]),
            "quantity": quantity[account, meter, day],
        }
    )


def _write_usage(
    blocks: Iterator[tuple[pl.DataFrame, np.ndarray]], folder: Path, fmt: FileFormat
) -> np.ndarray:
    """Stream the usage blocks into ``usage.<fmt>``; return the monthly api_calls per account."""
    path = folder / f"usage.{fmt}"
    monthly = []
    writer = None
    with path.open("wb") as handle:
        for index, (frame, block_monthly) in enumerate(blocks):
            monthly.append(block_monthly)
            if fmt == "csv":
                frame.write_csv(handle, include_header=index == 0)
                continue
            import pyarrow.parquet as pq  # only for Parquet books: keeps the CSV path light

            table = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
            writer = writer or pq.ParquetWriter(handle, table.schema, write_statistics=False)
            writer.write_table(table)
        if writer is not None:
            writer.close()
    return np.concatenate(monthly)


def _write_frame(frame: pl.DataFrame, path: Path) -> None:
    """One table file; Parquet without statistics so the bytes depend on the rows only."""
    if path.suffix == ".csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path, statistics=False)


def _other_tables(
    p: _Profiles, cal: _Calendar, monthly: np.ndarray, rng: np.random.Generator
) -> dict[str, pl.DataFrame]:
    """Every table but usage, each with exactly ``COLUMNS[table]``."""
    accounts = _accounts(p, rng)
    return {
        "accounts": accounts,
        "contracts": _contracts(p),
        "rate_card": _rate_card(p),
        "workflows": _workflows(p, cal, rng),
        "outcomes": _outcomes(p, cal, monthly, rng),
        "activities": _activities(p, cal, accounts, rng),
        "budgets": _budgets(p, cal, rng),
    }


def _accounts(p: _Profiles, rng: np.random.Generator) -> pl.DataFrame:
    """One row per account: a made-up company name, segment, owners and strategic flag."""
    n = len(p.archetype)
    name = pl.concat_str(
        [
            pl.Series(_NAME_HEADS).gather(rng.integers(0, len(_NAME_HEADS), n)),
            pl.Series(_NAME_TRADES).gather(rng.integers(0, len(_NAME_TRADES), n)),
            pl.Series(_NAME_FORMS).gather(rng.integers(0, len(_NAME_FORMS), n)),
        ],
        separator=" ",
    )
    return pl.DataFrame(
        {
            "account_id": _account_ids(np.arange(n)),
            "account_name": pl.select(name).to_series(),
            "segment": pl.Series(SEGMENTS).gather(p.segment),
            "csm_owner": _people(p.csm, salt=0),
            "ae_owner": _people(p.ae, salt=7),
            "technical_counterpart": _people(p.counterpart, salt=13),
            "is_strategic": p.strategic,
        }
    )


def _contracts(p: _Profiles) -> pl.DataFrame:
    """The first contract of every account (``-C1``) and the renewal of the renewing ones
    (``-C2``, renewal_of the first)."""
    renewing = np.flatnonzero(p.has1)
    slots = (
        (np.arange(len(p.archetype)), 1, p.start0, p.end0, p.commit0),
        (renewing, 2, p.start1[renewing], p.end1[renewing], p.commit1[renewing]),
    )
    frames = [
        pl.DataFrame(
            {
                "contract_id": _contract_ids(account, slot),
                "account_id": _account_ids(account),
                "start_date": _dates(start),
                "end_date": _dates(end),
                "commit_amount": commit,
            }
        ).with_columns(
            currency=pl.lit(CURRENCY),
            renewal_of=_contract_ids(account, 1) if slot == 2 else pl.lit(None, pl.String),
        )
        for account, slot, start, end, commit in slots
    ]
    return pl.concat(frames).sort("account_id", "start_date")


def _rate_card(p: _Profiles) -> pl.DataFrame:
    """A row per contract and meter the account uses; limits and overage prices where drawn."""
    slots = []
    for slot, accounts, prices in (
        (1, np.ones(len(p.archetype), dtype=bool), (p.price0, p.included0, p.overage0)),
        (2, p.has1, (p.price1, p.included1, p.overage1)),
    ):
        account, meter = np.nonzero(p.used & accounts[:, None])
        unit, included, overage = (values[account, meter] for values in prices)
        slots.append(
            pl.DataFrame(
                {
                    "contract_id": _contract_ids(account, slot),
                    "meter": pl.Series(METERS).gather(meter),
                    "unit_price": unit,
                    "included_quantity": pl.Series(included, nan_to_null=True),
                    "overage_unit_price": pl.Series(overage, nan_to_null=True),
                }
            )
        )
    return pl.concat(slots).sort("contract_id", "meter")


def _workflows(p: _Profiles, cal: _Calendar, rng: np.random.Generator) -> pl.DataFrame:
    """Up to five workflows per live account, going live 20–150 days apart from go-live.

    New reset accounts have at most one; 12 % of workflows retire 90–500 days after going live;
    a churned account's workflows retire the day after its contract ends.
    """
    n = len(p.archetype)
    count = _choose(rng, np.tile([0.08, 0.2, 0.3, 0.22, 0.12, 0.08], (n, 1)))
    count = np.where(p.is_lifecycle("reset_new"), np.minimum(count, 1), count)
    gaps = np.concatenate([rng.integers(0, 8, (n, 1)), rng.integers(20, 151, (n, 4))], axis=1)
    production = p.golive[:, None] + np.cumsum(gaps, axis=1)
    churned = p.is_lifecycle("churned")[:, None]
    keep = (
        (np.arange(5)[None, :] < count[:, None])
        & (production <= cal.as_of)
        & (~churned | (production <= p.end0[:, None]))
    )
    retired = np.where(
        churned,
        p.end0[:, None] + 1,
        np.where(rng.random((n, 5)) < 0.12, production + rng.integers(90, 501, (n, 5)), _NO_END),
    )
    account, index = np.nonzero(keep)
    return pl.DataFrame(
        {
            "account_id": _account_ids(account),
            "workflow_id": "wf-" + pl.Series(index + 1).cast(pl.String).str.zfill(2),
            "production_date": _dates(production[account, index]),
            "retired_date": _dates(retired[account, index], until=cal.as_of),
        }
    )


def _outcomes(
    p: _Profiles, cal: _Calendar, monthly: np.ndarray, rng: np.random.Generator
) -> pl.DataFrame:
    """Monthly outcomes for ~30 % of accounts: the month's api_calls / calls per outcome (20–200),
    ±8 % noise, rounded; months without usage have no row."""
    n = len(p.archetype)
    tracked = rng.random(n) < np.array([0.45, 0.35, 0.2])[p.segment]
    per_outcome = rng.uniform(20, 200, n)
    count = np.rint(monthly / per_outcome[:, None] * rng.lognormal(0, 0.08, monthly.shape))
    account, month = np.nonzero(tracked[:, None] & (count > 0))
    return pl.DataFrame(
        {
            "account_id": _account_ids(account),
            "month": _dates(_month_start(cal.days[cal.month_starts])[month]),
            "outcome_count": count[account, month],
        }
    )


def _activities(
    p: _Profiles, cal: _Calendar, accounts: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """CS activities of every type up to A, owned by the account's CSM or AE (3 % unowned).

    onboarding_review 7–30 days after a first contract in the history; value_review every
    quarter (Enterprise) or half-year (Mid-Market) after go-live, plus three for the three
    largest accounts in reset weeks 2–4; portfolio usage_clinic every four weeks before the reset
    and once in its week 5; technical_counterpart_assigned 10–60 days after the start; for half
    the sustained overconsumers an overconsumption_conversation in the last 3–20 days (and for
    40 % of those an expansion_opportunity after it); expansion_opportunity before expanding
    renewals and for 40 % of over-band accounts; scope_reduction before contracting renewals and
    for 30 % of small sustained overconsumers.
    """
    n = len(p.archetype)
    everyone = np.arange(n)
    period = np.array([91, 182, 0])[p.segment]
    reviewed = np.flatnonzero((p.golive < _NO_END) & (period > 0))
    reviews = np.arange(1, (cal.as_of - cal.first) // 91 + 2)
    review_dates = (
        p.golive[reviewed, None]
        + period[reviewed, None] * reviews
        + rng.integers(-10, 11, (reviewed.size, reviews.size))
    ).ravel()
    review_account = np.repeat(reviewed, reviews.size)
    active = ~p.is_lifecycle("churned", "not_live")
    largest = np.argsort(-np.where(active, p.commit1, 0), kind="stable")[:3]
    clinics = np.append(cal.reset - 28 * np.arange(1, 13) + 1, cal.reset + 29)
    talks = p.is_shape("sustained") & (p.csm >= 0) & (rng.random(n) < 0.5)
    talk_dates = cal.as_of - rng.integers(3, 21, n)
    follow_up = talks & (rng.random(n) < 0.4)
    over_band = p.is_archetype("over") & (rng.random(n) < 0.4)
    expanding = p.is_archetype("expanding")
    contracting = p.is_archetype("contracting")
    giving_back = p.is_archetype("sustained_small") & (rng.random(n) < 0.3)
    has_counterpart = p.counterpart >= 0
    parts = [
        (
            "onboarding_review",
            "csm",
            everyone,
            p.start0 + rng.integers(7, 31, n),
            p.start0 >= cal.first,
        ),
        (
            "value_review",
            "csm",
            review_account,
            review_dates,
            np.ones(review_dates.size, dtype=bool),
        ),
        (
            "value_review",
            "csm",
            largest,
            cal.reset + np.array([9, 16, 23])[: largest.size],
            np.ones(largest.size, dtype=bool),
        ),
        ("usage_clinic", "ops", np.full(clinics.size, -1), clinics, clinics >= cal.first),
        (
            "technical_counterpart_assigned",
            "ae",
            everyone,
            p.start0 + rng.integers(10, 61, n),
            has_counterpart,
        ),
        ("overconsumption_conversation", "csm", everyone, talk_dates, talks),
        ("expansion_opportunity", "ae", everyone, talk_dates + rng.integers(1, 3, n), follow_up),
        ("expansion_opportunity", "ae", everyone, cal.as_of - rng.integers(5, 41, n), over_band),
        ("expansion_opportunity", "ae", everyone, p.start1 - rng.integers(20, 61, n), expanding),
        ("scope_reduction", "ae", everyone, p.start1 - rng.integers(10, 46, n), contracting),
        ("scope_reduction", "ae", everyone, cal.as_of - rng.integers(2, 11, n), giving_back),
    ]
    frames = [
        pl.DataFrame(
            {"activity_date": dates[chosen], "account_index": account[chosen]}
        ).with_columns(activity_type=pl.lit(kind), role=pl.lit(role))
        for kind, role, account, dates, wanted in parts
        for chosen in [np.flatnonzero(wanted & (dates <= cal.as_of))]
    ]
    owners = accounts.select(pl.int_range(pl.len()).alias("account_index"), "csm_owner", "ae_owner")
    rows = pl.concat(frames).join(owners, on="account_index", how="left", maintain_order="left")
    owner = (
        pl.when(pl.col("role") == "ops")
        .then(pl.lit("CS Operations"))
        .when(pl.col("role") == "csm")
        .then(pl.col("csm_owner"))
        .otherwise(pl.col("ae_owner"))
    )
    unowned = pl.Series(rng.random(rows.height) < 0.03)
    return (
        rows.with_columns(
            pl.col("activity_date").cast(pl.Int32).cast(pl.Date),
            pl.when(pl.col("account_index") >= 0)
            .then(_account_id_expr(pl.col("account_index")))
            .alias("account_id"),
            pl.when(unowned).then(None).otherwise(owner).alias("owner"),
        )
        .select(COLUMNS["activities"].keys())
        .sort("activity_date", "account_id", "activity_type", nulls_last=True, maintain_order=True)
    )


def _budgets(p: _Profiles, cal: _Calendar, rng: np.random.Generator) -> pl.DataFrame:
    """Budgets for a third of the accounts and every other new reset account, enabled 0–45 days
    after the first contract (reset accounts 0–6): the current daily spend level × 30.44 ×
    0.9–1.4, rounded to 100."""
    n = len(p.archetype)
    reset_new = p.is_lifecycle("reset_new")
    chosen = np.where(reset_new, (np.cumsum(reset_new) % 2) == 1, rng.random(n) < 0.33)
    enabled = p.start0 + np.where(reset_new, rng.integers(0, 7, n), rng.integers(0, 46, n))
    level = np.where(p.has1, p.level1, p.level0)
    budget = np.maximum(100.0, np.round(level * _DAYS_PER_MONTH * rng.uniform(0.9, 1.4, n), -2))
    threshold = np.array([0.5, 0.8, 0.9, 1.0, 1.2])[rng.integers(0, 5, n)]
    rows = np.flatnonzero(chosen & (enabled <= cal.as_of))
    return pl.DataFrame(
        {
            "account_id": _account_ids(rows),
            "monthly_budget": budget[rows],
            "alert_threshold_pct": threshold[rows],
            "enabled_date": _dates(enabled[rows]),
        }
    )


def _account_id_expr(index: pl.Expr) -> pl.Expr:
    """``A`` + the 1-based account number, zero-padded to five digits (``A00042``)."""
    return pl.concat_str(pl.lit("A"), (index + 1).cast(pl.String).str.zfill(5))


def _account_ids(index: np.ndarray) -> pl.Series:
    """The account ids of 0-based account indexes."""
    return pl.select(_account_id_expr(pl.lit(pl.Series(index, dtype=pl.Int64)))).to_series()


def _contract_ids(index: np.ndarray, number: int) -> pl.Series:
    """``<account_id>-C<number>``: the account's first (1) or renewal (2) contract."""
    return _account_ids(index) + f"-C{number}"


def _people(index: np.ndarray, salt: int) -> pl.Series:
    """Made-up person names for indexes ≥ 0 (distinct for the first 400), null for -1."""
    first, last = len(_FIRST_NAMES), len(_LAST_NAMES)
    k = np.maximum(index, 0)
    frame = pl.DataFrame(
        {
            "first": pl.Series(_FIRST_NAMES).gather((k + salt) % first),
            "last": pl.Series(_LAST_NAMES).gather((k // first + 3 * k + salt) % last),
            "round": k // (first * last) + 1,
        }
    )
    name = pl.concat_str(
        "first",
        pl.lit(" "),
        "last",
        pl.when(pl.col("round") > 1).then(pl.format(" {}", "round")).otherwise(pl.lit("")),
    )
    return frame.select(pl.when(pl.Series(index >= 0)).then(name)).to_series().alias("name")


def _dates(day: np.ndarray, until: int = _NO_END - 1) -> pl.Series:
    """Day numbers as Dates; null at or after ``_NO_END`` (no end) or after ``until``."""
    return (
        pl.Series(np.where(day <= until, day, 0).astype(np.int32))
        .cast(pl.Date)
        .scatter(np.flatnonzero(day > until), None)
    )


def _day_number(day: date) -> int:
    """Days since 1970-01-01."""
    return (day - _EPOCH).days


def _add_months(day: np.ndarray, months: int) -> np.ndarray:
    """The same day ``months`` calendar months later (clamped to the month's end)."""
    shifted = pl.Series(day.astype(np.int32)).cast(pl.Date).dt.offset_by(f"{months}mo")
    return shifted.cast(pl.Int32).to_numpy().astype(np.int64)


def _month_start(day: np.ndarray | int) -> np.ndarray:
    """The first day of the calendar month holding each day."""
    as_month = np.asarray(day).astype("datetime64[D]").astype("datetime64[M]")
    return as_month.astype("datetime64[D]").astype(np.int64)


def _day_of_month(day: np.ndarray) -> np.ndarray:
    """1 … 31."""
    return day - _month_start(day) + 1


def _season(day: np.ndarray) -> np.ndarray:
    """Holiday season factor: 0.6 from 22 December to 2 January, 0.93 in August, else 1."""
    month = np.asarray(day).astype("datetime64[D]").astype("datetime64[M]").astype(int) % 12 + 1
    dom = _day_of_month(day)
    holidays = ((month == 12) & (dom >= 22)) | ((month == 1) & (dom <= 2))
    return np.where(holidays, 0.6, np.where(month == 8, 0.93, 1.0))


def _round_sig(values: np.ndarray, digits: int) -> np.ndarray:
    """Rounded to ``digits`` significant digits (prices and commits that read like list prices)."""
    shape = np.shape(values)
    rounded = pl.Series(np.ravel(values)).round_sig_figs(digits).to_numpy()
    return rounded.reshape(shape)
