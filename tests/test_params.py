"""Parameters: defaults, layering, and errors that name the key."""

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
