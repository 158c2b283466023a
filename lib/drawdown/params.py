"""Run parameters: one pydantic model, validated in one place.

Layers, later wins: the defaults in this model (documented key by key in ``params/default.yaml``),
a params file (``--params FILE``), then dotted overrides (``--set bands.band_low=0.8``).
Notebooks receive ``Params.to_notebook()`` (JSON-able: ISO dates, strings) and re-validate it with
``Params.model_validate``.
"""

from __future__ import annotations

import difflib
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from drawdown.errors import ParamsError

Fraction = Field(ge=0)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BandLimits(_Strict):
    """Per-segment override of the utilization band edges."""

    band_low: float | None = Field(default=None, ge=0)
    band_high: float | None = Field(default=None, ge=0)


class Bands(_Strict):
    """Commit-utilization bands and burn (docs/metrics.md#commit-utilization-and-bands)."""

    band_low: float = Field(default=0.85, ge=0)
    band_high: float = Field(default=1.10, ge=0)
    burn_slow: float = Field(default=0.80, ge=0)
    burn_fast: float = Field(default=1.20, ge=0)
    run_rate_window_days: int = Field(default=28, ge=1)
    segments: dict[str, BandLimits] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _edges_in_order(self) -> Bands:
        if self.band_low > self.band_high:
            raise ValueError(
                f"band_low ({self.band_low}) must not exceed band_high ({self.band_high})"
            )
        if self.burn_slow > self.burn_fast:
            raise ValueError(
                f"burn_slow ({self.burn_slow}) must not exceed burn_fast ({self.burn_fast})"
            )
        return self

    def limits_for(self, segment: str) -> tuple[float, float]:
        """(band_low, band_high) for a segment: its override where set, else the global edges."""
        override = self.segments.get(segment, BandLimits())
        low = self.band_low if override.band_low is None else override.band_low
        high = self.band_high if override.band_high is None else override.band_high
        return low, high


class Health(_Strict):
    """Usage-health thresholds (docs/metrics.md#usage-health)."""

    smooth_cv_max: float = Field(default=0.5, ge=0)
    drop_pct: float = Field(default=0.30, ge=0, le=1)
    zero_streak_days: int = Field(default=7, ge=1)
    renewal_window_days: int = Field(default=90, ge=0)
    ttfbe_target_days: int = Field(default=14, ge=0)


class Overconsumption(_Strict):
    """Overconsumption against contractual limits and case triage (docs/metrics.md#overconsumption-against-contractual-limits)."""

    lookback_months: int = Field(default=3, ge=1)
    sustained_months: int = Field(default=2, ge=1)
    min_pct_over: float = Field(default=0.10, ge=0)
    value_floor: float = Field(default=20000.0, ge=0)
    max_cases_per_csm: int = Field(default=5, ge=0)


class Actions(_Strict):
    """The next action per account (docs/metrics.md#next-action)."""

    unit_cost_jump: float = Field(default=0.25, ge=0)


class CompWeights(_Strict):
    """Share of variable pay tied to retention, adoption depth and stability."""

    retention: float = Field(default=0.3, ge=0, le=1)
    adoption: float = Field(default=0.2, ge=0, le=1)
    stability: float = Field(default=0.1, ge=0, le=1)


class Reset(_Strict):
    """The 60-day reset plan (docs/metrics.md#the-60-day-reset-tracker); no tracker while start_date is null."""

    start_date: date | None = None
    two_workflow_share: float = Field(default=0.5, ge=0, le=1)
    comp_weights: CompWeights = Field(default_factory=CompWeights)
    comp_target: float = Field(default=0.6, ge=0, le=1)


class Brand(_Strict):
    """The vendor's name, logo and colour on every report."""

    vendor_name: str = "drawdown"
    logo: str | None = None
    primary_color: str = Field(default="#1f4e79", pattern=r"^#[0-9a-fA-F]{6}$")


class Guidelines(_Strict):
    """House guidance the account review's talking points are drafted from."""

    tone: str = "Plain, factual and calm; lead with the customer's outcomes, then the numbers."
    lead_with: str = "outcomes"
    avoid: str = "Surprise invoices: raise overage before the bill does."


class Report(_Strict):
    """What gets rendered, and how it looks."""

    top_accounts: int = Field(default=10, ge=0)
    accounts: list[str] = Field(default_factory=list)
    min_group: int = Field(default=5, ge=1)
    formats: list[Literal["html", "pdf"]] = Field(default_factory=lambda: ["html", "pdf"])
    brand: Brand = Field(default_factory=Brand)
    guidelines: Guidelines = Field(default_factory=Guidelines)


class Scope(_Strict):
    """Narrow the executive review to one segment (a segment leader's version)."""

    segment: str | None = None


class Source(_Strict):
    """Where the input tables come from: a folder of CSV/Parquet files or a database URI.

    A URI never carries a password: it comes from the environment (PGPASSWORD, ~/.pgpass, or the
    variable named by ``password_env``).
    """

    uri: str = "data/sample"
    tables: dict[str, str] = Field(default_factory=dict)
    password_env: str | None = None


class Engine(_Strict):
    """How the metrics are computed (docs/scale.md)."""

    kind: Literal["local", "spark"] = "local"
    shards: int | None = Field(default=None, ge=1, le=100_000)
    spark_master: str | None = None


class Params(_Strict):
    """Every parameter of a drawdown run. Defaults are documented in params/default.yaml."""

    as_of: date | None = None
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    timezone: str = "UTC"
    strict: bool = False
    compare_to: Path | None = None
    source: Source = Field(default_factory=Source)
    bands: Bands = Field(default_factory=Bands)
    health: Health = Field(default_factory=Health)
    overconsumption: Overconsumption = Field(default_factory=Overconsumption)
    actions: Actions = Field(default_factory=Actions)
    reset: Reset = Field(default_factory=Reset)
    report: Report = Field(default_factory=Report)
    scope: Scope = Field(default_factory=Scope)
    engine: Engine = Field(default_factory=Engine)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r} (e.g. UTC, Europe/Berlin)") from exc
        return value

    @field_validator("compare_to")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return None if value is None else value.expanduser().resolve()

    @field_validator("source", mode="before")
    @classmethod
    def _source_shorthand(cls, value: Any) -> Any:
        return {"uri": str(value)} if isinstance(value, str | Path) else value

    def to_notebook(self) -> dict[str, Any]:
        """JSON-able parameters for Papermill: ISO date strings, plain strings and numbers."""
        return self.model_dump(mode="json")

    def with_overrides(self, overrides: dict[str, Any]) -> Params:
        """A copy with nested overrides applied and re-validated."""
        return _validate(_deep_merge(self.model_dump(mode="json"), overrides))


def load_params(
    params_file: Path | str | None = None,
    overrides: list[str] | dict[str, Any] | None = None,
) -> Params:
    """Defaults, then ``params_file``, then ``overrides`` (``["a.b=value"]`` or a nested dict)."""
    layered: dict[str, Any] = {}
    if params_file is not None:
        layered = _read_yaml(Path(params_file))
    if isinstance(overrides, dict):
        layered = _deep_merge(layered, overrides)
    else:
        for assignment in overrides or []:
            layered = _deep_merge(layered, parse_assignment(assignment))
    return _validate(layered)


def parse_assignment(assignment: str) -> dict[str, Any]:
    """``"bands.band_low=0.8"`` -> ``{"bands": {"band_low": 0.8}}``; the value is read as YAML."""
    key, sep, raw_value = assignment.partition("=")
    if not sep or not key.strip():
        raise ParamsError(f"--set expects key=value, got {assignment!r}")
    value = yaml.safe_load(raw_value) if raw_value.strip() else None
    nested: dict[str, Any] = {}
    cursor = nested
    parts = key.strip().split(".")
    for part in parts[:-1]:
        cursor = cursor.setdefault(part, {})
    cursor[parts[-1]] = value
    return nested


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ParamsError(f"cannot read params file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ParamsError(f"params file {path} is not valid YAML: {exc}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ParamsError(
            f"params file {path} must hold a mapping of keys, not {type(loaded).__name__}"
        )
    return loaded


def _deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _validate(layered: dict[str, Any]) -> Params:
    try:
        return Params.model_validate(layered)
    except ValidationError as exc:
        raise ParamsError(_explain(exc)) from None


def _explain(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            lines.append(f"unknown parameter {key!r}{_suggestion(error['loc'])}")
        else:
            lines.append(f"bad value for {key!r}: {error['msg']} (got {error.get('input')!r})")
    return "invalid parameters:\n  " + "\n  ".join(lines)


def _suggestion(loc: tuple[Any, ...]) -> str:
    model: type[BaseModel] = Params
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return ""
        model = annotation
    accepted = sorted(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), accepted, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{hint} Accepted keys here: {', '.join(accepted)}"
