"""Run parameters: one pydantic model, validated in one place.

Layers, later wins: the defaults in this model (documented key by key in ``params/default.yaml``),
a params file (``--params FILE``), then dotted overrides (``--set bands.band_low=0.8``).
Notebooks receive ``Params.to_notebook()`` (JSON-able: ISO dates, strings) and re-validate it with
``Params.model_validate``.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from drawdown.errors import ParamsError

Fraction = Field(ge=0)

MAX_ITEMS = 1000
"""Most entries of a mapping parameter (bands.segments)."""
MAX_REVIEWS = 5000
"""Most account value reviews one run renders (report.top_accounts, report.accounts, --top)."""
Name = Annotated[str, Field(min_length=1, max_length=200)]
"""An id or a name: a segment, an account id, a database table."""
TableName = Literal[
    "accounts", "contracts", "rate_card", "usage", "workflows", "outcomes", "activities", "budgets"
]
"""The tables of docs/data-contract.md (``drawdown.inputs.contract.TABLES``)."""
EARLIEST = date(1970, 1, 1)
LATEST = date(2199, 12, 31)
Day = Annotated[date, Field(ge=EARLIEST, le=LATEST)]
"""A date parameter: a day that exists, 1970 to 2199."""
QUOTED = 200
"""Most characters of a value an error message quotes."""
MAX_LINES = 20
"""Most problems one params error lists."""
MAX_YAML_BYTES = 1 << 20
"""Largest params file read (1 MiB)."""
MAX_YAML_NODES = 100_000
"""Most values a params file may stand for, aliases expanded (a YAML alias bomb stops here)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BandLimits(_Strict):
    """Per-segment override of the utilization band edges."""

    band_low: float | None = Field(default=None, ge=0, le=10)
    band_high: float | None = Field(default=None, ge=0, le=10)


class Bands(_Strict):
    """Commit-utilization bands and burn (docs/metrics.md#commit-utilization-and-bands)."""

    band_low: float = Field(default=0.85, ge=0, le=10)
    band_high: float = Field(default=1.10, ge=0, le=10)
    burn_slow: float = Field(default=0.80, ge=0, le=10)
    burn_fast: float = Field(default=1.20, ge=0, le=10)
    run_rate_window_days: int = Field(default=28, ge=1, le=366)
    segments: dict[Name, BandLimits] = Field(default_factory=dict, max_length=MAX_ITEMS)

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

    smooth_cv_max: float = Field(default=0.5, ge=0, le=100)
    drop_pct: float = Field(default=0.30, ge=0, le=1)
    zero_streak_days: int = Field(default=7, ge=1, le=366)
    renewal_window_days: int = Field(default=90, ge=0, le=3660)
    ttfbe_target_days: int = Field(default=14, ge=0, le=3660)


class Overconsumption(_Strict):
    """Overconsumption against contractual limits and case triage (docs/metrics.md#overconsumption-against-contractual-limits)."""

    lookback_months: int = Field(default=3, ge=1, le=12)
    sustained_months: int = Field(default=2, ge=1, le=12)
    min_pct_over: float = Field(default=0.10, ge=0, le=100)
    value_floor: float = Field(default=20000.0, ge=0, le=1e15)
    max_cases_per_csm: int = Field(default=5, ge=0, le=10_000)

    @model_validator(mode="after")
    def _sustained_within_lookback(self) -> Overconsumption:
        if self.sustained_months > self.lookback_months:
            raise ValueError(
                f"sustained_months ({self.sustained_months}) must not exceed lookback_months "
                f"({self.lookback_months}): no meter could be sustained"
            )
        return self


class Actions(_Strict):
    """The next action per account (docs/metrics.md#next-action)."""

    unit_cost_jump: float = Field(default=0.25, ge=0, le=100)


class CompWeights(_Strict):
    """Share of variable pay tied to retention, adoption depth and stability."""

    retention: float = Field(default=0.3, ge=0, le=1)
    adoption: float = Field(default=0.2, ge=0, le=1)
    stability: float = Field(default=0.1, ge=0, le=1)


class Reset(_Strict):
    """The 60-day reset plan (docs/metrics.md#the-60-day-reset-tracker); no tracker while start_date is null."""

    start_date: Day | None = None
    two_workflow_share: float = Field(default=0.5, ge=0, le=1)
    comp_weights: CompWeights = Field(default_factory=CompWeights)
    comp_target: float = Field(default=0.6, ge=0, le=1)


class Brand(_Strict):
    """The vendor's name, logo and colour on every report."""

    vendor_name: str = Field(default="drawdown", min_length=1, max_length=200)
    logo: str | None = Field(default=None, max_length=4096)
    primary_color: str = Field(default="#1f4e79", pattern=r"^#[0-9a-fA-F]{6}$")


class Guidelines(_Strict):
    """House guidance the account review's talking points are drafted from."""

    tone: str = Field(
        default="Plain, factual and calm; lead with the customer's outcomes, then the numbers.",
        max_length=2000,
    )
    lead_with: str = Field(default="outcomes", max_length=200)
    avoid: str = Field(
        default="Surprise invoices: raise overage before the bill does.", max_length=2000
    )


class Report(_Strict):
    """What gets rendered, and how it looks."""

    top_accounts: int = Field(default=10, ge=0, le=MAX_REVIEWS)
    accounts: list[Name] = Field(default_factory=list, max_length=MAX_REVIEWS)
    min_group: int = Field(default=5, ge=1, le=10_000)
    formats: list[Literal["html", "pdf"]] = Field(default_factory=lambda: ["html", "pdf"])
    brand: Brand = Field(default_factory=Brand)
    guidelines: Guidelines = Field(default_factory=Guidelines)


class Scope(_Strict):
    """Narrow the executive review to one segment (a segment leader's version)."""

    segment: Name | None = None


class Source(_Strict):
    """Where the input tables come from: a folder of CSV/Parquet files or a database URI.

    A URI never carries a password: it comes from the environment (PGPASSWORD, ~/.pgpass, or the
    variable named by ``password_env``).
    """

    uri: str = Field(default="data/sample", min_length=1, max_length=4096)
    tables: dict[TableName, Name] = Field(default_factory=dict)
    password_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class Engine(_Strict):
    """How the metrics are computed (docs/scale.md)."""

    kind: Literal["local", "spark"] = "local"
    shards: int | None = Field(default=None, ge=1, le=100_000)
    spark_master: str | None = None


class Params(_Strict):
    """Every parameter of a drawdown run. Defaults are documented in params/default.yaml."""

    as_of: Day | None = None
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
        raise ParamsError(f"--set expects key=value, got {quote(assignment)}")
    try:
        value = safe_yaml(raw_value) if raw_value.strip() else None
    except yaml.YAMLError as exc:
        raise ParamsError(
            f"--set {quote(key)}: the value is not valid YAML ({_yaml_problem(exc)})"
        ) from None
    nested: dict[str, Any] = {}
    cursor = nested
    parts = key.strip().split(".")
    for part in parts[:-1]:
        cursor = cursor.setdefault(part, {})
    cursor[parts[-1]] = value
    return nested


def _read_yaml(path: Path) -> dict[str, Any]:
    """A params file: at most ``MAX_YAML_BYTES``, UTF-8 YAML holding a mapping. Errors name the
    line and the problem, never the file's content."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise ParamsError(f"cannot read params file {path}: {exc.strerror}") from None
    if len(raw) > MAX_YAML_BYTES:
        raise ParamsError(f"params file {path} is larger than {MAX_YAML_BYTES:,} bytes")
    try:
        loaded = safe_yaml(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ParamsError(f"params file {path} is not UTF-8 (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"params file {path} is not valid YAML: {_yaml_problem(exc)}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ParamsError(
            f"params file {path} must hold a mapping of keys, not {type(loaded).__name__}"
        )
    return loaded


class _BoundedLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a document standing for more than ``MAX_YAML_NODES`` values
    once its aliases are expanded (a billion-laughs alias bomb), before constructing it."""

    def construct_document(self, node: yaml.Node) -> Any:
        if _expanded_size(node, {}) > MAX_YAML_NODES:
            raise yaml.YAMLError(
                f"it stands for more than {MAX_YAML_NODES:,} values once its aliases are expanded"
            )
        return super().construct_document(node)


_BoundedLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
"""Dates stay text for pydantic to read: ``2026-02-30`` is a bad value for its key, not a crash."""


def _expanded_size(node: yaml.Node, seen: dict[int, int]) -> int:
    """How many values ``node`` stands for, aliases expanded; each distinct node counted once
    (memoised), so the count itself takes time linear in the document."""
    if id(node) in seen:
        return seen[id(node)]
    seen[id(node)] = MAX_YAML_NODES + 1  # a recursive alias stands for infinitely many
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, seen) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(
            _expanded_size(key, seen) + _expanded_size(value, seen) for key, value in node.value
        )
    seen[id(node)] = min(size, MAX_YAML_NODES + 1)
    return seen[id(node)]


def safe_yaml(text: str) -> Any:
    """``yaml.safe_load`` bounded in what it builds (``_BoundedLoader``)."""
    return yaml.load(text, Loader=_BoundedLoader)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error as its problem and position, never the text around it."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{quote(problem, plain=True)}{where}"


_SECRETS = (
    (re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*):.*@", re.S), r"\1:***@"),
    (re.compile(r"(?i)\b(password\s*=\s*)('(?:\\.|[^'\\])*'|[^&\s]+)"), r"\1***"),
)
"""A password in a URI (``scheme://user:password@``, whatever characters it holds) or in a
libpq ``key=value`` string (``password=...``)."""


def redact_secrets(text: str) -> str:
    """``text`` with every password a URI or a libpq ``key=value`` string holds shown as ``***``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def quote(value: Any, limit: int = QUOTED, *, plain: bool = False) -> str:
    """``repr(value)`` (or ``str`` when ``plain``) cut to ``limit`` characters, saying how long a
    longer text was, with any password in it hidden (``redact_secrets``): an error message never
    carries a value of arbitrary size, nor a secret."""
    if isinstance(value, str):
        value = redact_secrets(value)
    if isinstance(value, str) and len(value) > limit:
        shown = value[:limit] if plain else repr(value[:limit])
        return f"{shown}… ({len(value):,} characters)"
    if isinstance(value, dict) and len(value) > 10:
        return f"{{{', '.join(quote(key, 40) for key in list(value)[:10])}, … {len(value):,} keys}}"
    if isinstance(value, list | tuple) and len(value) > 10:
        return f"[{', '.join(quote(item, 40) for item in value[:10])}, … {len(value):,} items]"
    text = str(value) if plain else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…"


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
    """One line per problem (at most ``MAX_LINES``), naming the key, what it accepts and the
    value given (quoted up to ``QUOTED`` characters)."""
    errors = exc.errors(include_url=False)
    lines = []
    for error in errors[:MAX_LINES]:
        key = quote(".".join(str(part) for part in error["loc"]), plain=True)
        if error["type"] == "extra_forbidden":
            lines.append(f"unknown parameter {key!r}{_suggestion(error['loc'])}")
        else:
            message = quote(error["msg"], plain=True)
            lines.append(f"bad value for {key!r}: {message} (got {quote(error.get('input'))})")
    if len(errors) > MAX_LINES:
        lines.append(f"… and {len(errors) - MAX_LINES:,} more")
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
