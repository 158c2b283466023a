"""Archetypes: the account behaviours the sample book is designed around, and the contract
lifecycles and usage shapes they draw.

Every account draws an *archetype* (a behaviour designed to exercise a metric); counts are
``max(minimum, share × accounts)`` in the order of ``ARCHETYPES``, the rest are ``steady``, and the
order of accounts is shuffled. The archetype fixes the segment mix, the contract lifecycle, the
ratio of daily spend to the commit's straight line in the current term, the commit change at
renewal, a usage shape and how the CSM is assigned.

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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

LIFECYCLES = ("renewed", "renewing_soon", "multi_year", "evergreen", "new", "reset_new", "not_live", "churned", "paygo")  # fmt: skip
"""Contract histories. renewed: a 12-month term renewed into the term covering A (which began 0–364
days ago); renewing_soon: the same with the renewal 290–350 days old; multi_year: one 24-month term;
evergreen and paygo: one open-ended contract; new: one 12-month term begun 36–300 days ago;
reset_new: begun on or after the reset start; not_live: signed 20–200 days ago, never used;
churned: one 12-month term that began 400–700 days ago and was not renewed."""

SHAPES = ("", "drop", "zero_streak", "sustained", "emerging", "spike")
OVER_SHAPES = ("sustained", "emerging", "spike")

_ESTABLISHED = ("renewed", "renewed", "multi_year", "evergreen")
_SMB_HEAVY = (0.08, 0.32, 0.60)
_UPMARKET = (0.4, 0.6, 0.0)
_ON_PACE = (0.95, 1.04)
_FLAT = (0.95, 1.15)
_ANY_VALUE = (1_000.0, 5e6)
_LARGE = (40_000.0, 5e6)


@dataclass(frozen=True)
class Archetype:
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
ARCHETYPES = (
    #          name                    share  min segments           lifecycles       ratio         renewal      shape          csm     value
    Archetype("sustained_hot",        0.005, 7,  _UPMARKET,         _ESTABLISHED,    (0.95, 1.02), _FLAT,       "sustained",   "hot",  _LARGE),
    Archetype("sustained",            0.02,  3,  _UPMARKET,         _ESTABLISHED,    (0.95, 1.02), _FLAT,       "sustained",   "any",  _LARGE),
    Archetype("sustained_unassigned", 0.005, 2,  (0, 1, 0),         _ESTABLISHED,    (0.95, 1.02), _FLAT,       "sustained",   "none", _LARGE),
    Archetype("sustained_small",      0.008, 2,  (0, 0, 1),         _ESTABLISHED,    (0.95, 1.02), _FLAT,       "sustained",   "any",  (6_000, 15_000)),
    Archetype("emerging",             0.015, 3,  _SMB_HEAVY,        _ESTABLISHED,    _ON_PACE,     _FLAT,       "emerging"),
    Archetype("spike",                0.015, 3,  _SMB_HEAVY,        _ESTABLISHED,    _ON_PACE,     _FLAT,       "spike"),
    Archetype("not_live",             0.03,  3,  (0.1, 0.4, 0.5),   ("not_live",)),
    Archetype("reset_new",            0.03,  8,  (0.1, 0.4, 0.5),   ("reset_new",),  (0.9, 1.05)),
    Archetype("paygo",                0.07,  3,  (0.02, 0.28, 0.7), ("paygo",),      (0.5, 1.5)),
    Archetype("under",                0.08,  3,  _SMB_HEAVY,        (*_ESTABLISHED, "renewing_soon", "new"), (0.45, 0.72)),
    Archetype("over",                 0.05,  3,  _SMB_HEAVY,        _ESTABLISHED,    (1.28, 1.6)),
    Archetype("breakage",             0.01,  2,  _SMB_HEAVY,        ("renewing_soon",), (0.08, 0.16)),
    Archetype("drop",                 0.03,  3,  _SMB_HEAVY,        _ESTABLISHED,    (0.9, 1.05),  _FLAT,       "drop"),
    Archetype("zero_streak",          0.02,  2,  (0, 0.3, 0.7),     _ESTABLISHED,    (0.9, 1.05),  _FLAT,       "zero_streak"),
    Archetype("churned",              0.05,  3,  (0.05, 0.35, 0.6), ("churned",),    (0.5, 0.85)),
    Archetype("expanding",            0.08,  2,  (0.15, 0.45, 0.4), ("renewed",),    _ON_PACE,     (1.3, 1.8)),
    Archetype("contracting",          0.05,  2,  _SMB_HEAVY,        ("renewed",),    (0.9, 1.0),   (0.5, 0.8)),
    Archetype("steady",               0.0,   0,  _SMB_HEAVY,        (*_ESTABLISHED, "renewed", "new")),
)
# fmt: on
"""In allocation order; ``steady`` (last) takes the accounts the others leave."""


def archetype_counts(accounts: int) -> np.ndarray:
    """Accounts per archetype: max(minimum, round(share × accounts)) in order while accounts
    last; ``steady`` takes the rest."""
    wanted = np.array([max(a.minimum, round(a.share * accounts)) for a in ARCHETYPES[:-1]])
    granted = np.diff(np.minimum(np.concatenate([[0], np.cumsum(wanted)]), accounts))
    return np.append(granted, accounts - granted.sum())
