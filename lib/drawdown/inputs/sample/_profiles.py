"""Account profiles: from its archetype, every account's segment, contracts, commits, meters,
prices and limits, usage rhythm and shape, and owners, drawn for all accounts at once (NumPy, one
row per account).

Around the archetypes: three segments (Enterprise few and large, Mid-Market, SMB many and small)
with 12- and 24-month, evergreen and pay-as-you-go contracts; three meters with different prices
and not every account on every meter; onboarding delays (12 % take 35–120 days); one-off spikes
more than 150 days before A; ~4 % of SMB accounts without a CSM, ~5 % without an AE; strategic
accounts (half the Enterprise ones) — the active ones have no technical counterpart, so the
reset's counterpart item is not_started. Limits (``included_quantity``, per calendar month) are the
meter's monthly level × a headroom of 1.25–1.6, so ordinary usage stays inside the line.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import polars as pl

from drawdown.inputs.sample._archetypes import (
    ARCHETYPES,
    LIFECYCLES,
    OVER_SHAPES,
    SHAPES,
    archetype_counts,
)
from drawdown.inputs.sample._calendar import (
    DAYS_PER_MONTH,
    NO_END,
    Calendar,
    add_months,
    month_start,
)

METERS = ("api_calls", "compute_hours", "storage_gb")
"""The sample's meters, in the order of every per-meter array below."""

SEGMENTS = ("Enterprise", "Mid-Market", "SMB")
"""The sample's segments, in the order of every per-segment array below."""

_LIST_PRICE = np.array([0.002, 1.20, 0.01])
_COMMIT_MEDIAN = np.array([400_000.0, 80_000.0, 12_000.0])
_COMMIT_SIGMA = np.array([0.5, 0.45, 0.45])
_DISCOUNT = np.array([0.70, 0.85, 1.0])
_TTFBE_MEDIAN = np.array([18.0, 10.0, 5.0])
# meter sets (api, compute, storage) and their probability per segment
_METER_SETS = np.array([[1, 0, 0], [1, 0, 1], [1, 1, 1], [1, 1, 0]], dtype=bool)
_METER_SET_P = np.array([[0, 0, 0.7, 0.3], [0.1, 0.1, 0.5, 0.3], [0.5, 0.3, 0.2, 0]])
_LIMIT_P = np.array([0.35, 0.25, 0.10])

_RENEWING = ("renewed", "renewing_soon")
_BACK = {"renewed": (0, 364), "renewing_soon": (290, 350), "multi_year": (30, 700), "evergreen": (60, 700), "new": (36, 300), "reset_new": (0, 0), "not_live": (20, 200), "churned": (400, 700), "paygo": (30, 700)}  # fmt: skip
"""Days before A of the anchor start: the first contract's, or the renewal's for _RENEWING."""

_TERM_MONTHS = {"multi_year": 24, "evergreen": 0, "paygo": 0}
"""Months of the first contract (0 = evergreen); 12 when not listed."""

_SETTLED_DAYS = 200
"""An account with a usage shape began at least this long ago, so the shape meets a settled draw."""


@dataclass(frozen=True)
class Profiles:
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

    def take(self, rows: slice) -> Profiles:
        """The profiles of a block of accounts."""
        return Profiles(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def is_lifecycle(self, *names: str) -> np.ndarray:
        """True for accounts in one of the named lifecycles."""
        return np.isin(self.lifecycle, [LIFECYCLES.index(name) for name in names])

    def is_shape(self, *names: str) -> np.ndarray:
        """True for accounts with one of the named usage shapes."""
        return np.isin(self.shape, [SHAPES.index(name) for name in names])

    def is_archetype(self, *names: str) -> np.ndarray:
        """True for accounts of one of the named archetypes."""
        codes = [i for i, archetype in enumerate(ARCHETYPES) if archetype.name in names]
        return np.isin(self.archetype, codes)


def draw_profiles(n: int, cal: Calendar, rng: np.random.Generator) -> Profiles:
    """Draw every account's archetype, contracts, prices and limits, usage shape and owners."""
    kinds = _kinds(n, rng)
    terms = _terms(kinds, cal, rng)
    money = _money(kinds, terms, rng)
    return Profiles(
        **kinds,
        **terms,
        **money,
        **_rhythm(kinds, terms, money, cal, rng),
        **_owners(kinds, rng),
    )


def _kinds(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """archetype (shuffled over the accounts), segment, lifecycle and shape codes."""
    archetype = rng.permutation(np.repeat(np.arange(len(ARCHETYPES)), archetype_counts(n)))
    lifecycle_weights = np.array(
        [[a.lifecycles.count(name) for name in LIFECYCLES] for a in ARCHETYPES], dtype=float
    )
    return {
        "archetype": archetype,
        "segment": choose(rng, np.array([a.segments for a in ARCHETYPES])[archetype]),
        "lifecycle": choose(rng, lifecycle_weights[archetype]),
        "shape": np.array([SHAPES.index(a.shape) for a in ARCHETYPES])[archetype],
    }


def _terms(
    kinds: dict[str, np.ndarray], cal: Calendar, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Contract dates as day numbers: slot 0 is the first contract, slot 1 the renewal (if any).

    The anchor (first start, or the renewal's start for renewing lifecycles) lies the
    lifecycle's ``_BACK`` days before A; a renewal starts the day after the 12-month first term
    ends, so contracts never overlap. ``NO_END`` stands for no end / no renewal.
    """
    n = len(kinds["archetype"])
    lifecycle, names = kinds["lifecycle"], np.array(LIFECYCLES)[kinds["lifecycle"]]
    back = np.array([_BACK[name] for name in LIFECYCLES])[lifecycle]
    has1 = np.isin(names, _RENEWING)
    settled = (kinds["shape"] > 0) & ~has1
    anchor = cal.as_of - rng.integers(
        np.where(settled, np.maximum(back[:, 0], _SETTLED_DAYS), back[:, 0]), back[:, 1] + 1
    )
    anchor = np.where(
        names == "reset_new", cal.reset + rng.integers(0, cal.as_of - cal.reset - 6, n), anchor
    )
    start0 = np.where(has1, add_months(anchor, -12), anchor)
    term0 = np.array([_TERM_MONTHS.get(name, 12) for name in LIFECYCLES])[lifecycle]
    return {
        "start0": start0,
        "end0": np.select(
            [has1, term0 == 12, term0 == 24],
            [anchor - 1, add_months(start0, 12) - 1, add_months(start0, 24) - 1],
            NO_END,
        ),
        "term0": term0,
        "has1": has1,
        "start1": np.where(has1, anchor, NO_END),
        "end1": np.where(has1, add_months(anchor, 12) - 1, NO_END),
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
        bounds = np.array([getattr(a, name) for a in ARCHETYPES], dtype=float)[archetype]
        return rng.uniform(bounds[:, 0], bounds[:, 1])

    value = np.clip(
        rng.lognormal(np.log(_COMMIT_MEDIAN[segment]), _COMMIT_SIGMA[segment]),
        *np.array([a.value for a in ARCHETYPES])[archetype].T,
    )
    annual1 = _round_sig(value, 2)
    annual0 = np.where(has1, _round_sig(annual1 / ranged("renewal"), 2), annual1)
    level1 = annual1 / 365 * ranged("ratio")
    level0 = np.where(has1, annual0 / 365 * rng.uniform(0.9, 1.12, n), level1)
    paygo = kinds["lifecycle"] == LIFECYCLES.index("paygo")

    used = _METER_SETS[choose(rng, _METER_SET_P[segment])]
    share = rng.gamma(2.0, 1.0, (n, 3)) * used * np.array([1.0, 1.0, 0.4])
    share /= share.sum(axis=1, keepdims=True)
    unit = _LIST_PRICE * _DISCOUNT[segment][:, None]
    price0 = _round_sig(unit * rng.uniform(0.94, 1.06, (n, 3)), 3)
    price1 = _round_sig(unit * rng.uniform(0.94, 1.06, (n, 3)), 3)
    qlevel0 = level0[:, None] * share / price0
    qlevel1 = level1[:, None] * share / price1

    rows = np.arange(n)
    over = np.isin(shape, [SHAPES.index(name) for name in OVER_SHAPES])
    over_meter = np.where(used[:, 1] & (share[:, 1] > share[:, 0]), 1, 0)
    limited = used & (rng.random((n, 3)) < _LIMIT_P)
    limited[rows[over], over_meter[over]] = True
    headroom = rng.uniform(1.25, 1.6, (n, 3))
    headroom[rows, over_meter] = np.select(
        [shape == SHAPES.index("spike"), over],
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
        "included0": np.where(limited, _round_sig(qlevel0 * DAYS_PER_MONTH * headroom, 3), np.nan),
        "included1": np.where(limited, _round_sig(qlevel1 * DAYS_PER_MONTH * headroom, 3), np.nan),
        "overage0": np.where(marked_up, _round_sig(price0 * 1.25, 3), np.nan),
        "overage1": np.where(marked_up, _round_sig(price1 * 1.25, 3), np.nan),
        "headroom": headroom,
        "over_meter": over_meter,
    }


def _rhythm(
    kinds: dict[str, np.ndarray],
    terms: dict[str, np.ndarray],
    money: dict[str, np.ndarray],
    cal: Calendar,
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
    names = np.array(LIFECYCLES)[kinds["lifecycle"]]
    rows, over_meter = np.arange(n), money["over_meter"]
    small = segment == SEGMENTS.index("SMB")

    ttfbe = np.where(
        rng.random(n) < 0.12,
        rng.integers(35, 121, n),
        np.rint(rng.lognormal(np.log(_TTFBE_MEDIAN[segment]), 0.6)),
    )
    ttfbe = np.where(names == "reset_new", rng.integers(1, 10, n), ttfbe)

    this_month = month_start(cal.as_of)
    last_month = month_start(this_month - 1)
    lookback = month_start(last_month - 1)
    sustained, emerging = shape == SHAPES.index("sustained"), shape == SHAPES.index("emerging")
    spike = shape == SHAPES.index("spike")
    main_headroom = money["headroom"][rows, over_meter]
    current_included = np.where(terms["has1"][:, None], money["included1"], money["included0"])
    spike_days = np.stack(
        [
            last_month + rng.integers(0, 14, n),
            last_month + rng.integers(14, this_month - last_month, n),
        ],
        axis=1,
    )
    over = np.isin(shape, [SHAPES.index(name) for name in OVER_SHAPES])
    blip = ~over & (rng.random(n) < 0.06) & (cal.as_of - 150 > cal.first)
    return {
        "golive": np.where(names == "not_live", NO_END, terms["start0"] + ttfbe.astype(int)),
        "ramp_days": rng.integers(14, 61, n),
        "weekend": rng.uniform(0.35, 0.95, n),
        "noise": np.where(small, rng.uniform(0.15, 0.35, n), rng.uniform(0.06, 0.18, n)),
        "zero_day_p": np.where(small, 0.03, 0.0),
        "drop_factor": np.where(shape == SHAPES.index("drop"), rng.uniform(0.35, 0.6, n), 1.0),
        "quiet_from": np.where(
            shape == SHAPES.index("zero_streak"), cal.as_of - rng.integers(7, 25, n), NO_END
        ),
        "trickle_until": np.where(
            (names == "churned") & (rng.random(n) < 0.33),
            terms["end0"] + rng.integers(5, 21, n),
            -NO_END,
        ),
        "over_from": np.select(
            [sustained, emerging],
            [lookback + rng.integers(-22, 10, n), np.full(n, this_month)],
            NO_END,
        ),
        "over_factor": main_headroom
        * np.where(sustained, rng.uniform(1.25, 1.6, n), rng.uniform(1.3, 1.6, n)),
        "spike_days": np.where(spike[:, None], spike_days, NO_END),
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
    csm_rule = np.array([a.csm for a in ARCHETYPES])[kinds["archetype"]]
    hot = csm_rule == "hot"
    csm = rng.integers(0, max(8, n // 30), n)
    csm[hot] = np.arange(hot.sum()) // 7
    pooled = (csm_rule == "any") & (segment == SEGMENTS.index("SMB")) & (rng.random(n) < 0.04)
    csm[(csm_rule == "none") | pooled] = -1
    strategic = rng.random(n) < np.array([0.5, 0.05, 0.0])[segment]
    active = kinds["lifecycle"] != LIFECYCLES.index("churned")
    return {
        "csm": csm,
        "ae": np.where(rng.random(n) < 0.05, -1, rng.integers(0, max(3, n // 80), n)),
        "counterpart": np.where(
            ~(strategic & active) & (rng.random(n) < 0.55), rng.integers(0, 400, n), -1
        ),
        "strategic": strategic,
    }


def choose(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probabilities`` (rows need not be normalised)."""
    cumulative = np.cumsum(probabilities, axis=1)
    u = rng.random(len(probabilities)) * cumulative[:, -1]
    return np.minimum((u[:, None] >= cumulative).sum(axis=1), probabilities.shape[1] - 1)


def _round_sig(values: np.ndarray, digits: int) -> np.ndarray:
    """Rounded to ``digits`` significant digits (prices and commits that read like list prices)."""
    shape = np.shape(values)
    rounded = pl.Series(np.ravel(values)).round_sig_figs(digits).to_numpy()
    return rounded.reshape(shape)
