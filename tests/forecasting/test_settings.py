"""forecasting.yaml: defaults, a data home's own file, and errors naming file and field."""

from __future__ import annotations

import pytest

from marketing_ops.forecasting import ForecastSettingsError, load_forecast_settings


def test_packaged_defaults_load() -> None:
    s = load_forecast_settings()
    assert (s.country, s.horizon_days, s.backtest.origins) == ("US", 7, 4)
    assert load_forecast_settings(None) is s


def test_a_missing_file_means_the_defaults(tmp_path) -> None:
    assert load_forecast_settings(tmp_path / "nope.yaml") == load_forecast_settings()


def test_own_file_overrides_and_changes_the_version(tmp_path) -> None:
    """Only the settings written change; the version (part of every model version) moves."""
    path = tmp_path / "forecasting.yaml"
    path.write_text("forecasting:\n  country: de\n  backtest:\n    origins: 2\n")
    s = load_forecast_settings(path)
    assert (s.country, s.backtest.origins, s.horizon_days) == ("DE", 2, 7)
    assert s.version != load_forecast_settings().version
    path.write_text("# a comment\nforecasting:\n  country: DE\n  backtest: {origins: 2}\n")
    assert load_forecast_settings(path).version == s.version


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "forecasting:\n  country: XX\n",
            "forecasting.yaml: forecasting.country: expected unknown holiday country 'XX'",
        ),
        (
            "forecasting:\n  horizon_days: 0\n",
            "forecasting.yaml: forecasting.horizon_days: expected a whole number of days, 1 to 90, got 0",
        ),
        (
            "forecasting:\n  backtest:\n    origin: 3\n",
            "forecasting.yaml: forecasting.backtest.origin: no such setting",
        ),
        (
            "forecasting:\n  interval_width: wide\n",
            "forecasting.yaml: forecasting.interval_width: expected a share between 0 and 1, got 'wide'",
        ),
        ("country: US\n", "expected exactly one top-level key `forecasting:`"),
        ("forecasting: [\n", "cannot be read as YAML"),
    ],
)
def test_errors_name_the_file_and_the_field(tmp_path, text, message) -> None:
    path = tmp_path / "forecasting.yaml"
    path.write_text(text)
    with pytest.raises(ForecastSettingsError) as err:
        load_forecast_settings(path)
    assert message in str(err.value)
