"""Parameters: defaults, layering, and errors that name the key."""

import re
from pathlib import Path

import pytest
import yaml

from drawdown.errors import ParamsError
from drawdown.params import Params, load_params, parse_assignment

PARAMS_DIR = Path(__file__).parents[1] / "params"


def test_default_yaml_documents_exactly_the_model_defaults():
    documented = yaml.safe_load((PARAMS_DIR / "default.yaml").read_text())
    assert Params.model_validate(documented) == Params()
    assert documented == Params().model_dump(mode="json")


@pytest.mark.parametrize("name", ["monthly.yaml", "weekly_clinic.yaml", "sample.yaml"])
def test_example_params_files_load(name):
    assert isinstance(load_params(PARAMS_DIR / name), Params)


def test_set_layers_over_the_params_file(tmp_path):
    params_file = tmp_path / "p.yaml"
    params_file.write_text("bands:\n  band_low: 0.7\n  band_high: 1.2\n")
    params = load_params(params_file, ["bands.band_low=0.8", "as_of=2026-09-30"])
    assert (params.bands.band_low, params.bands.band_high) == (0.8, 1.2)
    assert params.as_of.isoformat() == "2026-09-30"


def test_unknown_key_names_the_key_and_suggests_the_close_one():
    with pytest.raises(
        ParamsError, match=r"unknown parameter 'bands.band_lo'.*did you mean 'band_low'"
    ):
        load_params(overrides=["bands.band_lo=0.8"])


def test_bad_value_names_the_key_and_the_value():
    with pytest.raises(
        ParamsError, match=r"bad value for 'overconsumption.lookback_months'.*'abc'"
    ):
        load_params(overrides=["overconsumption.lookback_months=abc"])


def test_unknown_timezone_is_refused():
    with pytest.raises(ParamsError, match="timezone"):
        load_params(overrides=["timezone=Mars/Olympus"])


def test_band_edges_out_of_order_are_refused():
    with pytest.raises(ParamsError, match="band_low"):
        load_params(overrides=["bands.band_low=1.5"])


def test_per_segment_band_override_falls_back_to_the_global_edges():
    params = load_params(overrides={"bands": {"segments": {"Enterprise": {"band_low": 0.9}}}})
    assert params.bands.limits_for("Enterprise") == (0.9, 1.10)
    assert params.bands.limits_for("SMB") == (0.85, 1.10)


def test_assignment_without_equals_sign_is_an_error():
    with pytest.raises(ParamsError, match="key=value"):
        parse_assignment("bands.band_low")


def test_notebook_parameters_round_trip_through_json():
    params = load_params(overrides=["as_of=2026-09-30", "reset.start_date=2026-08-01"])
    assert Params.model_validate(params.to_notebook()) == params
    assert params.to_notebook()["as_of"] == "2026-09-30"


def test_source_accepts_a_plain_string():
    assert load_params(overrides={"source": "/data/book"}).source.uri == "/data/book"


# --- bounds and clean errors (docs/reliability.md#guarantees) ---


@pytest.mark.parametrize(
    ("assignment", "accepted"),
    [
        ("as_of=2026-02-30", "as_of"),
        ("as_of=1066-10-14", "greater than or equal to 1970-01-01"),
        ("reset.start_date=2026-13-01", "reset.start_date"),
        ("overconsumption.lookback_months=0", "greater than or equal to 1"),
        ("overconsumption.lookback_months=100000", "less than or equal to 12"),
        ("overconsumption.sustained_months=5", "must not exceed lookback_months"),
        ("bands.run_rate_window_days=100000", "less than or equal to 366"),
        ("health.zero_streak_days=0", "greater than or equal to 1"),
        ("health.renewal_window_days=-1", "greater than or equal to 0"),
        ("report.top_accounts=1000000", "less than or equal to 5000"),
        ("report.min_group=0", "greater than or equal to 1"),
        ("overconsumption.max_cases_per_csm=-1", "greater than or equal to 0"),
        ("bands.band_high=1e308", "less than or equal to 10"),
        ("scope.segment=''", "scope.segment"),
        ("source.tables={usage: x, invoices: y}", "source.tables.invoices"),
        ("source.password_env=not a name", "source.password_env"),
    ],
)
def test_every_parameter_is_bounded(assignment, accepted):
    with pytest.raises(ParamsError, match=re.escape(accepted)):
        load_params(overrides=[assignment])


def test_an_error_quotes_at_most_a_few_hundred_characters_of_a_value():
    with pytest.raises(ParamsError) as caught:
        load_params(overrides=["report.brand.vendor_name=" + "x" * 100_000])
    message = str(caught.value)
    assert "vendor_name" in message and "100,000 characters" in message
    assert len(message) < 600


def test_an_error_lists_at_most_twenty_problems():
    segments = {f"s{n}": {"band_low": -1} for n in range(500)}
    with pytest.raises(ParamsError) as caught:
        load_params(overrides={"bands": {"segments": segments}})
    assert len(str(caught.value).splitlines()) <= 22
    assert "… and 480 more" in str(caught.value)


def test_a_yaml_alias_bomb_gives_one_capped_line(tmp_path):
    bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        bomb.append(f"{level}: &{level} [{','.join(['*' + previous] * 9)}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(bomb) + "\n")
    with pytest.raises(ParamsError) as caught:
        load_params(path)
    message = str(caught.value)
    assert "aliases are expanded" in message
    assert len(message.splitlines()) == 1 and len(message) < 400


def test_a_set_alias_bomb_is_refused_too():
    value = "[&a [1,1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]]"
    with pytest.raises(ParamsError, match="aliases are expanded"):
        load_params(overrides=[f"report.accounts={value}"])


def test_a_params_file_that_is_not_yaml_is_named_without_its_content(tmp_path):
    secret = tmp_path / "id_rsa"
    secret.write_text("-----BEGIN KEY-----\n: [ {{ secret-material-here\n")
    with pytest.raises(ParamsError) as caught:
        load_params(secret)
    assert "secret-material-here" not in str(caught.value)
    assert "line 2" in str(caught.value)


def test_a_huge_params_file_is_refused_unread(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * (2 << 20))
    with pytest.raises(ParamsError, match="larger than 1,048,576 bytes"):
        load_params(path)


def test_the_table_names_are_the_contracts():
    from typing import get_args

    from drawdown.inputs.contract import TABLES
    from drawdown.params import TableName

    assert get_args(TableName) == TABLES
